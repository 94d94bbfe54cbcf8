-- GCP changes that widen access
-- IAM policy changes, new service-account keys (long-lived credentials) and firewall rules
-- open to the whole internet, with why each is worth a look: an owner grant, a member from
-- outside the company, a bucket readable by allUsers.
-- Parameters: ${eds} (the event data store ID).
SELECT
    eventTime,
    eventData.eventName AS method,
    eventData.userIdentity.principalId AS principal,
    element_at(eventData.userIdentity.details, 'resource') AS resource,
    CASE
        WHEN element_at(eventData.requestParameters, 'policy') LIKE '%roles/owner%' THEN 'owner granted'
        WHEN element_at(eventData.requestParameters, 'policy') LIKE '%allUsers%' THEN 'public bucket'
        WHEN element_at(eventData.requestParameters, 'policy') LIKE '%@gmail.com%' THEN 'outside member'
        WHEN eventData.eventName LIKE '%firewalls%' THEN 'open to 0.0.0.0/0'
        WHEN eventData.eventName LIKE '%CreateServiceAccountKey' THEN 'new key'
        ELSE 'IAM change'
    END AS why,
    eventData.errorCode AS errorCode
FROM ${eds}
WHERE eventData.userIdentity.type = 'GoogleCloudUser'
    AND (
        eventData.eventName IN (
            'SetIamPolicy', 'storage.setIamPermissions', 'google.iam.admin.v1.CreateServiceAccountKey'
        )
        OR (
            eventData.eventName LIKE 'v1.compute.firewalls.%'
            AND element_at(eventData.requestParameters, 'sourceRanges') LIKE '%0.0.0.0/0%'
        )
    )
ORDER BY eventTime DESC
LIMIT 100
