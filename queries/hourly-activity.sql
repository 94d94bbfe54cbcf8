-- Activity by hour of day (UTC)
-- Events, principals and errors per hour of the day over the whole store: the daily rhythm
-- of people, and what still happens at night (machines, and anyone who should not be there).
-- Parameters: ${eds} (the event data store ID).
SELECT
    extract(HOUR FROM eventTime) AS hourUtc,
    count(*) AS events,
    count(DISTINCT eventData.userIdentity.principalId) AS principals,
    count(eventData.errorCode) AS errors
FROM ${eds}
GROUP BY extract(HOUR FROM eventTime)
ORDER BY hourUtc
