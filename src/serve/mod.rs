//! `auditlake serve`: a local CloudTrail Data API endpoint (PutAuditEvents over HTTP).
