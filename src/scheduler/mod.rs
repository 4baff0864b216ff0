//! The scheduler context: the ledger's calendar (its timezone, set once at `init`).
//! Uses the ledger's projection interface and chrono-tz; nothing of the CLI.

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

use crate::events::{LedgerInitialized, Payload};

/// `settings`: the one row of ledger-wide settings.
pub struct Calendar;

impl Projection for Calendar {
    fn name(&self) -> &str {
        "scheduler.calendar"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), ledger_id TEXT NOT NULL,
                 timezone TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if event.event_type == LedgerInitialized::TYPE {
            let e: LedgerInitialized = event.data_as()?;
            db.execute(
                "INSERT INTO settings (id, ledger_id, timezone, created_at) VALUES (1, ?1, ?2, ?3)",
                (
                    &e.ledger_id,
                    &e.timezone,
                    popug_ledger::line::format_at(&event.at),
                ),
            )?;
        }
        Ok(())
    }
}

/// Parses an IANA timezone name (`UTC`, `Europe/Berlin`).
pub fn parse_timezone(name: &str) -> Option<chrono_tz::Tz> {
    name.parse().ok()
}
