//! `users` and `credentials`: who exists, their role and channel, and the hashes of their
//! sessions and API tokens.

use crate::events::{PopugEvent, decode};
use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

pub struct Users;

impl Projection for Users {
    fn name(&self) -> &str {
        "auth.users"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE users (user_id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, name TEXT,
                 email TEXT, role TEXT NOT NULL, password_hash TEXT NOT NULL, notify TEXT NOT NULL,
                 created_at TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1) STRICT;
             CREATE INDEX users_role ON users (role, user_id);
             CREATE TABLE credentials (credential_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
                 kind TEXT NOT NULL, name TEXT, token_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
                 expires_at TEXT, revoked_at TEXT, parent_id TEXT) STRICT;
             CREATE INDEX credentials_parent ON credentials (parent_id) WHERE parent_id IS NOT NULL;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        let at = || popug_ledger::line::format_at(&event.at);
        match decode(event)? {
            PopugEvent::UserCreated(u) => {
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
                    at(),
                ))?;
            }
            PopugEvent::UserRoleChanged(e) => {
                db.prepare_cached("UPDATE users SET role = ?2 WHERE user_id = ?1")?
                    .execute((&e.user_id, e.to.as_str()))?;
            }
            PopugEvent::PasswordChanged(e) => {
                db.prepare_cached("UPDATE users SET password_hash = ?2 WHERE user_id = ?1")?
                    .execute((&e.user_id, &e.password_hash))?;
            }
            PopugEvent::UserDeactivated(e) => {
                db.prepare_cached("UPDATE users SET active = 0 WHERE user_id = ?1")?
                    .execute([&e.user_id])?;
            }
            PopugEvent::CredentialIssued(e) => {
                db.prepare_cached("INSERT INTO credentials (credential_id, user_id, kind, name, token_sha256, created_at, expires_at, parent_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?
                    .execute((&e.credential_id, &e.user_id, &e.kind, &e.name, &e.token_sha256, at(), &e.expires_at, &e.parent_id))?;
            }
            PopugEvent::CredentialRevoked(e) => {
                db.prepare_cached(
                    "UPDATE credentials SET revoked_at = ?2 WHERE credential_id = ?1 AND revoked_at IS NULL",
                )?
                .execute((&e.credential_id, at()))?;
            }
            _ => {}
        }
        Ok(())
    }
}
