//! `popug-ledger`: a file-based, append-only, hash-chained JSONL event ledger with SQLite
//! projections. It knows nothing of the application whose events it stores.
//!
//! - [`line`]: the frozen line format and its hash.
//! - [`log`]: streaming reads with chain checks, torn-tail recovery, durable appends.
//! - [`shared`], [`jetstream`]: the log shared by many hosts on NATS JetStream, and each
//!   host's replica of it.
//! - [`engine`]: the ledger directory, the writer lock, projections, reactions, rebuild
//!   and verify.

pub mod engine;
pub mod error;
pub mod jetstream;
pub mod line;
pub mod log;
pub mod shared;

/// Fault injection for crash tests, in debug builds only: `POPUG_LEDGER_CRASH_AT=POINT` (or
/// `POINT:N` for its N-th passage in this process) aborts the process right there, as a power
/// cut or `kill -9` would. Points: `project` (events applied to SQLite, nothing appended),
/// `append.torn` (half of a batch written and synced), `append.durable` (batch written, not
/// yet synced: a process kill keeps it, SQLite not committed), `react` (reactions decided,
/// nothing appended), `react.durable` (reaction batch written, SQLite not committed),
/// `retry` and `retry.durable` (the same for deferred deliveries made at last),
/// `commit.partial` (the first store committed, the others not), `shared.appended` (a
/// shared log took the append, this host's replica does not have it yet), `copy.message` (a
/// `ledger copy` to a shared log stored a message, more are to come), `rebuild.copied` (a
/// rebuild's new stores copied in, nothing after).
pub fn crash_point(point: &str) {
    #[cfg(debug_assertions)]
    {
        use std::sync::atomic::{AtomicU32, Ordering};
        static PASSES: AtomicU32 = AtomicU32::new(0);
        if let Ok(want) = std::env::var("POPUG_LEDGER_CRASH_AT") {
            let (name, nth) = want
                .split_once(':')
                .map_or((want.as_str(), 1), |(n, k)| (n, k.parse().unwrap_or(1)));
            if name == point && PASSES.fetch_add(1, Ordering::SeqCst) + 1 == nth {
                std::process::abort();
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

/// A setting the test suite may change: debug builds take it from the environment variable
/// `name` when that is set and parses, so that a suite can shrink a size or a wait (a batch
/// threshold, a busy time) instead of working at full scale; release builds always use
/// `default`.
pub fn debug_setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    #[cfg(debug_assertions)]
    if let Some(v) = std::env::var(name).ok().and_then(|v| v.parse().ok()) {
        return v;
    }
    let _ = name;
    default
}

/// Failure injection for tests, in debug builds only: `POPUG_LEDGER_FAIL_AT=POINT` makes
/// that step fail with an I/O error (`action` on `path`), as a full disk would, instead of
/// doing its work. Points: `commit` (the first store's COMMIT after a command's events are
/// durable in the log), `commit.last` (the last store's COMMIT, on its own thread in a
/// session that projects a large batch), `react` (the reaction rounds after a command's
/// events are durable).
pub fn fail_point(point: &str, action: &'static str, path: &std::path::Path) -> Result<(), LedgerError> {
    #[cfg(debug_assertions)]
    if std::env::var("POPUG_LEDGER_FAIL_AT").is_ok_and(|want| want == point) {
        return Err(LedgerError::Io {
            action,
            path: path.to_owned(),
            source: std::io::Error::other(format!("injected failure (POPUG_LEDGER_FAIL_AT={point})")),
        });
    }
    let _ = (point, action, path);
    Ok(())
}

pub use engine::{
    Clock, Context, EVENTS_FILE, Interrupt, LOCK_FILE, Ledger, OnDurable, Options, Projection, Reactor,
    RebuildReport, Recovery, Replay, Retried, SHARED_BUDGET, Store, Subscribers, VIEWS_DIR, VerifyReport,
    WriteGuard, backoff, configure_sqlite, leave_stores_open_at_exit,
};
pub use error::{BoxError, LedgerError, Problem};
pub use line::{Decoded, Event, Hash, LineError, NewEvent};
pub use log::{LogReader, Position, Torn};
