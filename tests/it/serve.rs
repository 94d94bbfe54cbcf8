//! `auditlake serve` driven by real AWS clients over loopback.
