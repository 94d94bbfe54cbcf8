-- Top event names per source
-- What each integration sends most, and how many principals do it: the shape of the store
-- at a glance, and the baseline against which a new or rare action stands out.
-- Parameters: ${eds} (the event data store ID). Adjust the time range to your data.
SELECT
    eventData.eventSource AS eventSource,
    eventData.eventName AS eventName,
    count(*) AS events,
    count(DISTINCT eventData.userIdentity.principalId) AS principals
FROM ${eds}
WHERE eventTime >= '2026-01-01 00:00:00'
    AND eventTime < '2027-01-01 00:00:00'
GROUP BY eventData.eventSource, eventData.eventName
ORDER BY events DESC
LIMIT 40
