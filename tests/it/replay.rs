//! `auditlake replay` with the real AWS SDK against `auditlake serve` on loopback.
