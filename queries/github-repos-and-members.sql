-- New repositories, visibility changes and membership changes on GitHub
-- Who created, deleted or opened up repositories, and who invited, added, promoted or
-- removed members. A repository switched to public (repo.access, visibility 'public') is
-- the first to look at.
-- Parameters: ${eds} (the event data store ID).
SELECT
    eventTime,
    eventData.eventName AS eventName,
    eventData.userIdentity.principalId AS actor,
    element_at(eventData.userIdentity.details, 'Repository') AS repository,
    element_at(eventData.requestParameters, 'visibility') AS visibility,
    element_at(eventData.requestParameters, 'user') AS memberLogin,
    element_at(eventData.requestParameters, 'permission') AS permission,
    eventData.sourceIPAddress AS sourceIPAddress
FROM ${eds}
WHERE eventData.eventSource = 'github.audit.streaming'
    AND eventData.eventName IN (
        'repo.create', 'repo.destroy', 'repo.access',
        'org.invite_member', 'org.add_member', 'org.update_member', 'org.remove_member',
        'team.add_member'
    )
ORDER BY eventTime DESC
LIMIT 100
