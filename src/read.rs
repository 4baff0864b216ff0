//! Reading across contexts: the one place that does (DESIGN §3). Every context owns its
//! store and its code reads only that store; a report, an export or an invariant that
//! needs several contexts' facts reads them here, through one read-only connection that
//! attaches every store under its context's name (`auth`, `tasks`, `accounting`, …; a
//! table name found in one store alone needs no prefix). `tests/contexts.rs` fails when
//! any other module names another context's table.
//!
//! A [`Snapshot`] is one read transaction over all the stores, taken when every store has
//! applied the same events (see `Ledger::snapshot`).

use popug_ledger::Ledger;
use rusqlite::Connection;

use crate::error::Result;

/// One read transaction over every store (each attached read-only).
pub struct Snapshot {
    db: Connection,
}

impl Snapshot {
    /// Takes a snapshot of the ledger's stores.
    pub fn of(ledger: &Ledger) -> Result<Snapshot> {
        Ok(Snapshot {
            db: ledger.snapshot()?,
        })
    }

    /// The connection every store is attached to, inside the snapshot's read transaction.
    pub fn db(&self) -> &Connection {
        &self.db
    }
}
