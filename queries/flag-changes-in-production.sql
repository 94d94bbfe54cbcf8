-- Feature flag changes in production
-- Every change to a production flag: which flag, what changed, who did it (a member or an API
-- token), their comment, and whether it was refused. The hour column shows changes made
-- outside working hours.
-- Parameters: ${eds} (the event data store ID).
SELECT
    eventTime,
    element_at(eventData.requestParameters, 'flagKey') AS flag,
    eventData.eventName AS change,
    eventData.userIdentity.type AS actorType,
    coalesce(
        element_at(eventData.userIdentity.details, 'email'),
        element_at(eventData.userIdentity.details, 'tokenName')
    ) AS actor,
    element_at(eventData.requestParameters, 'comment') AS comment,
    eventData.errorCode AS errorCode,
    extract(HOUR FROM eventTime) AS hourUtc
FROM ${eds}
WHERE eventData.eventSource = 'launchdarkly.audit-log'
    AND element_at(eventData.requestParameters, 'environmentKey') = 'production'
ORDER BY eventTime DESC
LIMIT 100
