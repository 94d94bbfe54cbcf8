-- Failed Okta sign-ins by source address (password spraying)
-- Addresses whose failed sign-ins hit three or more different accounts. A person mistyping a
-- password fails on one account from a familiar address; spraying tries many accounts, some
-- of them nonexistent (principalId 'unknown'), from a few hosts and scripted user agents.
-- Parameters: ${eds} (the event data store ID).
SELECT
    eventData.sourceIPAddress AS sourceIPAddress,
    count(*) AS failures,
    count(DISTINCT element_at(eventData.userIdentity.details, 'alternateId')) AS accountsTried,
    count(DISTINCT eventData.errorMessage) AS reasons,
    min(eventTime) AS firstSeen,
    max(eventTime) AS lastSeen,
    min(eventData.userAgent) AS userAgent
FROM ${eds}
WHERE eventData.eventSource = 'okta.system-log-events'
    AND element_at(eventData.additionalEventData, 'eventType') = 'user.session.start'
    AND eventData.errorCode IS NOT NULL
GROUP BY eventData.sourceIPAddress
HAVING count(DISTINCT element_at(eventData.userIdentity.details, 'alternateId')) >= 3
ORDER BY accountsTried DESC
