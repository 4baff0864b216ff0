//! The engine's errors. Each carries what a person needs to act: which file, which line,
//! which projection, and the underlying cause as `source`.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::line::LineError;

/// A boxed error from a projection or a reactor (their own error types stay theirs).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The log (or the projections' view of it) is damaged. `line` is the 1-based line
    /// number in `events.jsonl` (equal to the seq in a healthy log).
    #[error("the ledger is damaged at line {line} (byte {offset}): {problem}")]
    Corrupt {
        line: u64,
        offset: u64,
        problem: Problem,
    },

    #[error("no ledger at `{}`", .0.display())]
    NotFound(PathBuf),

    #[error("a ledger already exists at `{}`", .0.display())]
    AlreadyExists(PathBuf),

    /// `create` on a directory that holds something else: a ledger never takes over (or
    /// changes the mode of) a directory it did not create.
    #[error("`{}` is already used by something else than a ledger (a file, or a directory that is not empty)", .0.display())]
    NotEmpty(PathBuf),

    #[error("the clock ({now}) is earlier than the last event ({last})")]
    ClockBehind { now: DateTime<Utc>, last: DateTime<Utc> },

    #[error("projection `{name}` failed on event {seq} ({event_type})")]
    Apply {
        name: String,
        seq: u64,
        event_type: String,
        #[source]
        source: BoxError,
    },

    #[error("reactor `{name}` failed on event {seq} ({event_type})")]
    React {
        name: String,
        seq: u64,
        event_type: String,
        #[source]
        source: BoxError,
    },

    /// `Reactor::flush` failed: the round's reactions were not appended.
    #[error(
        "reactor `{name}` could not make its side effects durable: its reactions to the events up to {seq} are not in the log"
    )]
    Flush {
        name: String,
        seq: u64,
        #[source]
        source: BoxError,
    },

    /// The log could not be made durable (`fdatasync` failed): it was cut back to where the
    /// write session's unsynced part began, after the event `kept_seq` (0: none kept). What
    /// was cut never happened, and nothing acknowledged it.
    #[error("the log could not be synced: what was written after seq {kept_seq} is taken back")]
    SyncFailed {
        path: PathBuf,
        kept_seq: u64,
        #[source]
        source: Box<LedgerError>,
    },

    /// The command's events are durable in the log, but what follows failed (a store's
    /// commit, a reaction round: a full disk, an I/O error): the command happened, and must
    /// not be repeated. The stores stay at their old checkpoints and the next writer catches
    /// them up from the log and finishes the reactions.
    #[error("the command is recorded in the log (up to seq {last_seq}), but it could not be finished")]
    Unapplied {
        last_seq: u64,
        #[source]
        source: Box<LedgerError>,
    },

    #[error("the projection database `{}` failed", path.display())]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// SIGINT or SIGTERM stopped a rebuild; the old projections are in place.
    #[error("interrupted by a signal: nothing was changed")]
    Interrupted,

    /// The application's own checks could not run on verify's snapshot.
    #[error("the ledger's checks could not run: {source}")]
    Check {
        #[source]
        source: BoxError,
    },

    #[error("the decision could not be encoded")]
    Encode(#[source] serde_json::Error),

    /// A shared log (NATS JetStream) refused an append because another writer appended
    /// first: nothing of this append was stored. The writer catches up and decides again
    /// ([`crate::shared`]).
    #[error(
        "another writer appended to `{address}` first (its last message is {found}, this writer expected {expected})"
    )]
    Conflict {
        address: String,
        expected: u64,
        found: String,
    },

    /// A shared log could not be reached or answered with an error: a connection or request
    /// time-out, a stream that is unavailable (no quorum), a refused request. `action` says
    /// what was being done; the NATS error is the source. Whether an append that timed out
    /// was stored is settled by the next read of the log, never guessed.
    #[error("cannot {action} the shared log `{address}`: {message}")]
    Shared {
        action: &'static str,
        address: String,
        message: String,
    },

    /// A shared log already holds a ledger (`create`, `ledger copy`).
    #[error("the shared log `{0}` already holds a ledger")]
    SharedExists(String),

    /// Someone else holds a lease (one `popug worker` per context across the cluster).
    #[error("`{key}` is held by {holder}")]
    Leased { key: String, holder: String },

    /// The shared log does not continue this host's copy of it: it was deleted and made
    /// again, or rewritten. Never taken silently; `copy` is the directory to remove if that
    /// is known and wanted.
    #[error("{detail}: the shared log `{address}` does not continue this host's copy of it (it was deleted and made again, or rewritten); if that is known and wanted, remove `{}` and this host copies the stream anew", copy.display())]
    Diverged {
        address: String,
        copy: PathBuf,
        detail: String,
    },

    /// The stream is the destination of a `ledger copy` that did not finish.
    #[error("`{0}` is the destination of a `popug ledger copy` that did not finish")]
    UnfinishedCopy(String),

    /// A shared log holds no ledger of that name.
    #[error("there is no ledger at `{0}`")]
    SharedNotFound(String),
}

impl LedgerError {
    /// `action` (a verb: "read", "create") on `path` failed with `source`.
    pub fn io(action: &'static str, path: &Path, source: io::Error) -> LedgerError {
        LedgerError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn corrupt(line: u64, offset: u64, problem: Problem) -> LedgerError {
        LedgerError::Corrupt {
            line,
            offset,
            problem,
        }
    }

    /// True when the ledger itself is damaged (as opposed to a failure around it).
    pub fn is_corruption(&self) -> bool {
        matches!(self, LedgerError::Corrupt { .. } | LedgerError::Diverged { .. })
    }

    /// True when a shared log refused an append because another writer came first, here
    /// or underneath [`LedgerError::Unapplied`]: deciding again on the new head may succeed.
    pub fn is_conflict(&self) -> bool {
        match self {
            LedgerError::Conflict { .. } => true,
            LedgerError::Unapplied { source, .. } => source.is_conflict(),
            _ => false,
        }
    }

    /// After a failed sync ([`LedgerError::SyncFailed`]), the last event the log kept.
    pub fn kept_seq(&self) -> Option<u64> {
        match self {
            LedgerError::SyncFailed { kept_seq, .. } => Some(*kept_seq),
            _ => None,
        }
    }

    /// The I/O error underneath, if this is one (e.g. to tell a full disk from a read-only one).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            LedgerError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// What exactly is wrong with a damaged ledger.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Line(LineError),
    #[error("expected seq {expected}, found {found} (an event is missing, duplicated or out of order)")]
    SeqGap { expected: u64, found: u64 },
    #[error("its `prev` does not match the hash of the line before (a line was edited, removed or moved)")]
    BrokenChain,
    #[error("its time {at} is earlier than the event before ({last})")]
    TimeWentBack { last: DateTime<Utc>, at: DateTime<Utc> },
    #[error("its `batch_end` does not fit the batch it is in")]
    BadBatch,
    #[error("event id {0} appears twice")]
    DuplicateId(uuid::Uuid),
    #[error("the log is {found} bytes but {expected} were already recorded (committed events are missing)")]
    Shorter { expected: u64, found: u64 },
    #[error("the log is {found} bytes where {expected} were expected")]
    UnexpectedLength { expected: u64, found: u64 },
    #[error(
        "the line the projections stopped at no longer ends with the hash they recorded (the log was rewritten)"
    )]
    CheckpointMismatch,
    #[error("replaying the log gives different `{table}` than its store holds")]
    ReplayMismatch { table: String },
    #[error("the last event is seq {log_seq} but the projections have seen seq {db_seq}")]
    ProjectionsAhead { log_seq: u64, db_seq: u64 },
    #[error("{0}")]
    Other(String),
}
