//! Which contexts' reactions are handed to worker processes (`popug hand-over`, DESIGN §8):
//! each context that reacts keeps its own copy of the answer in its own store, from
//! `ReactionsHandedOver`, so that its reactor can ask its own store whether commands leave
//! its work to a worker ([`popug_ledger::Reactor::handed_over`]).

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::{Connection, OptionalExtension};

use crate::events::{PopugEvent, ReactionsHandedOver, decode};

/// The contexts whose reactions a worker can run, in the order commands run them.
pub const CONTEXTS: [&str; 3] = [
    crate::accounting::STORE,
    crate::payments::STORE,
    crate::notifications::STORE,
];

/// The `<context>_handover` table of one context's store: one row while that context's
/// reactions are handed to a worker.
pub struct HandOver {
    context: &'static str,
    name: String,
}

impl HandOver {
    pub fn new(context: &'static str) -> HandOver {
        HandOver {
            context,
            name: format!("{context}.handover"),
        }
    }
}

impl Projection for HandOver {
    fn name(&self) -> &str {
        &self.name
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(&format!(
            "CREATE TABLE {} (seq INTEGER NOT NULL) STRICT;",
            table(self.context)
        ))
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        // only the one event type is decoded: this projection sees every event of the log
        if event.event_type != <ReactionsHandedOver as crate::events::Payload>::TYPE {
            return Ok(());
        }
        if let PopugEvent::ReactionsHandedOver(h) = decode(event)? {
            let table = table(self.context);
            db.execute(&format!("DELETE FROM {table}"), [])?;
            if h.contexts.iter().any(|c| c == self.context) {
                db.execute(&format!("INSERT INTO {table} VALUES (?1)"), [event.seq as i64])?;
            }
        }
        Ok(())
    }
}

/// The table of `context`'s store that says whether its reactions are handed over (one row
/// while they are): `<context>_handover`, a name no other store has.
fn table(context: &str) -> String {
    format!("{context}_handover")
}

/// Whether `context`, whose store `db` is, has its reactions handed to a worker.
pub fn is_handed_over(db: &Connection, context: &str) -> Result<bool, BoxError> {
    Ok(db
        .query_row(&format!("SELECT 1 FROM {}", table(context)), [], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The contexts handed to workers, as `db` (a reader of every store) sees them.
pub fn handed_over(db: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    for context in CONTEXTS {
        let found = db
            .query_row(
                &format!("SELECT 1 FROM \"{context}\".{}", table(context)),
                [],
                |_| Ok(()),
            )
            .optional()?;
        if found.is_some() {
            out.push(context.to_owned());
        }
    }
    Ok(out)
}
