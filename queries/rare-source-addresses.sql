-- Source addresses seen once, for one principal only
-- For principals with a steady pattern (at least 20 events), the IPv4 and IPv6 addresses
-- that appear a single time and for no other principal: travel, a new device, or someone
-- else using the account. Office and home addresses recur, so they drop out; bots on
-- shared runner pools are left out.
-- Parameters: ${eds} (the event data store ID).
WITH per_address AS (
    SELECT
        eventData.userIdentity.principalId AS principal,
        eventData.sourceIPAddress AS address,
        count(*) AS uses,
        min(eventTime) AS seen,
        min(eventData.eventSource) AS eventSource,
        min(eventData.eventName) AS eventName
    FROM ${eds}
    WHERE eventData.sourceIPAddress IS NOT NULL
        AND eventData.userIdentity.principalId NOT LIKE '%[bot]'
    GROUP BY eventData.userIdentity.principalId, eventData.sourceIPAddress
),
per_principal AS (
    SELECT principal, sum(uses) AS events, count(*) AS addresses
    FROM per_address
    GROUP BY principal
),
sharing AS (
    SELECT address, count(*) AS principals
    FROM per_address
    GROUP BY address
)
SELECT
    a.principal,
    a.address,
    CASE WHEN a.address LIKE '%:%' THEN 'IPv6' ELSE 'IPv4' END AS family,
    a.seen,
    a.eventSource,
    a.eventName,
    p.events AS principalEvents,
    p.addresses AS principalAddresses
FROM per_address a
JOIN per_principal p ON a.principal = p.principal
JOIN sharing s ON a.address = s.address
WHERE a.uses = 1
    AND s.principals = 1
    AND p.events >= 20
ORDER BY a.seen DESC
LIMIT 50
