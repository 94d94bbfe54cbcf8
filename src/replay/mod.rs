//! `auditlake replay`: sends selected events to a CloudTrail Lake channel with the AWS SDK.
