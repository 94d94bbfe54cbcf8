-- One person's activity across every source, in time order
-- Everything one person did: Okta sign-ins, GitHub (through the SAML identity that managed
-- accounts carry), GCP, the flag service and the back office, with the source address and
-- whether it failed. Each source names people its own way, so the email is looked up in all.
-- Parameters: ${eds} (the event data store ID). Put the email you investigate in the WHERE
-- clause; hannah.popescu@acme.example is one of the busiest engineers in the sample data.
SELECT
    eventTime,
    eventData.eventSource AS eventSource,
    eventData.eventName AS eventName,
    eventData.userIdentity.principalId AS principalId,
    eventData.sourceIPAddress AS sourceIPAddress,
    eventData.errorCode AS errorCode
FROM ${eds}
WHERE 'hannah.popescu@acme.example' IN (
    eventData.userIdentity.principalId,
    element_at(eventData.userIdentity.details, 'alternateId'),
    element_at(eventData.userIdentity.details, 'email'),
    element_at(eventData.userIdentity.details, 'tokenOwner'),
    element_at(eventData.requestParameters, 'external_identity_nameid')
)
ORDER BY eventTime
LIMIT 200
