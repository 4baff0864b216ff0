//! `users`: who exists, their role and notification channel, for authorization and lookup.

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

use crate::events::{Payload, UserCreated};

pub struct Users;

impl Projection for Users {
    fn name(&self) -> &str {
        "auth.users"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE users (user_id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, name TEXT,
                 email TEXT, role TEXT NOT NULL, password_hash TEXT NOT NULL, notify TEXT NOT NULL,
                 created_at TEXT NOT NULL) STRICT;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if event.event_type == UserCreated::TYPE {
            let u: UserCreated = event.data_as()?;
            db.prepare_cached(
                "INSERT INTO users (user_id, login, name, email, role, password_hash, notify, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute((
                &u.user_id,
                &u.login,
                &u.name,
                &u.email,
                u.role.as_str(),
                &u.password_hash,
                u.notify.as_str(),
                popug_ledger::line::format_at(&event.at),
            ))?;
        }
        Ok(())
    }
}
