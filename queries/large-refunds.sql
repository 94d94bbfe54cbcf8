-- Large refunds in the back office
-- Refunds issued or approved for more than 1,000 (any currency), read from inside
-- requestParameters, with who did it and whether it went through.
-- Parameters: ${eds} (the event data store ID). Uses json_extract_scalar, as Lake does, to
-- read the amount object: requestParameters values that are objects hold JSON text.
SELECT
    eventTime,
    eventData.eventName AS eventName,
    eventData.userIdentity.principalId AS principal,
    element_at(eventData.requestParameters, 'orderId') AS orderId,
    CAST(json_extract_scalar(element_at(eventData.requestParameters, 'amount'), '$.value') AS DOUBLE) AS amount,
    json_extract_scalar(element_at(eventData.requestParameters, 'amount'), '$.currency') AS currency,
    element_at(eventData.requestParameters, 'reason') AS reason,
    eventData.errorCode AS errorCode
FROM ${eds}
WHERE eventData.eventSource = 'backoffice.acme.internal'
    AND eventData.eventName IN ('IssueRefund', 'ApproveRefund')
    AND CAST(json_extract_scalar(element_at(eventData.requestParameters, 'amount'), '$.value') AS DOUBLE) > 1000
ORDER BY amount DESC
