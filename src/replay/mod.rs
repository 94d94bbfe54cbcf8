//! `auditlake replay`: sends selected events to a CloudTrail Lake channel with the AWS SDK.
//!
//! The stages follow the shape of an AWS sink: [`select`] streams the events a Lake SQL
//! selection returns; [`payload`] maps CloudTrail records ([`management`]), rewrites the
//! recipient, checks each payload against Lake's rules and computes its checksum; [`batch`]
//! fills requests up to Lake's limits; [`send`] is the service (the AWS SDK with its own
//! retries off); [`retry`] classifies failures and spaces retries; [`rate`] holds
//! `--max-rps`; [`journal`] records every event's fate durably, so a re-run resumes, and
//! `archive` turns finished logs into the `replay_journal` table; [`run`] ties them
//! together, `worker` sends one batch, `summary` counts.
//!
//! Delivery guarantee: an event is sent again only when Lake answered that it was not
//! stored (a per-event Throttling or InternalFailure, a throttled or 5xx request) or when
//! a request got no answer at all (dropped connection, timeout). The journal is fsynced
//! before every request and after every answer. Events whose request was in flight when
//! the process died are `unconfirmed`: a re-run does not send them again unless told to
//! (`--resend-unconfirmed`), because PutAuditEvents has no idempotency key and no way to
//! ask whether they arrived. SIGINT / SIGTERM stop cleanly: requests in flight are
//! answered and journaled first, so nothing is left in doubt.

mod archive;
pub mod batch;
mod error;
pub mod journal;
pub mod management;
pub mod payload;
pub mod rate;
pub mod retry;
pub mod run;
pub mod select;
pub mod send;
mod summary;
mod worker;

pub use error::ReplayError;
pub use run::{ReplayConfig, dry_run, replay};
pub use select::Selection;
pub use send::{PutResult, SdkSettings, SdkTransport, Transport};
pub use summary::Summary;
