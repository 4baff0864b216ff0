//! `popug-ledger`: a file-based, append-only, hash-chained JSONL event ledger with SQLite
//! projections. It knows nothing of the application whose events it stores.
//!
//! - [`line`]: the frozen line format and its hash.
//! - [`log`]: streaming reads with chain checks, torn-tail recovery, durable appends.
//! - [`engine`]: the ledger directory, the writer lock, projections, reactions, rebuild
//!   and verify.

pub mod engine;
pub mod error;
pub mod line;
pub mod log;

pub use engine::{
    Clock, Context, EVENTS_FILE, LOCK_FILE, Ledger, Options, Projection, Reactor, RebuildReport, Recovery,
    Subscribers, VerifyReport, WriteGuard,
};
pub use error::{BoxError, LedgerError, Problem};
pub use line::{Event, Hash, LineError, NewEvent};
pub use log::{LogReader, Position, Torn};
