-- Error rates by source and error code
-- Which integrations fail, how often, and why: each error code with its share of its
-- source's events and one example message. A jump in AccessDenied or PERMISSION_DENIED
-- is someone probing; a jump in throttling or conflicts is an operational problem.
-- Parameters: ${eds} (the event data store ID).
WITH per_source AS (
    SELECT eventData.eventSource AS eventSource, count(*) AS events
    FROM ${eds}
    GROUP BY eventData.eventSource
),
per_code AS (
    SELECT
        eventData.eventSource AS eventSource,
        eventData.errorCode AS errorCode,
        count(*) AS errors,
        min(eventData.errorMessage) AS exampleMessage
    FROM ${eds}
    WHERE eventData.errorCode IS NOT NULL
    GROUP BY eventData.eventSource, eventData.errorCode
)
SELECT
    c.eventSource,
    c.errorCode,
    c.errors,
    s.events AS sourceEvents,
    round(100.0 * c.errors / s.events, 2) AS pctOfSource,
    c.exampleMessage
FROM per_code c
JOIN per_source s ON c.eventSource = s.eventSource
ORDER BY c.errors DESC
LIMIT 30
