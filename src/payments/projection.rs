//! `payments`: every payout and where it stands (sent, confirmed, failed); `payees`: the
//! context's own copy of each user's login (the name on a payout).

use crate::events::{PopugEvent, decode};
use popug_ledger::{BoxError, Event, Projection};
use rusqlite::{Connection, OptionalExtension};

/// The login of the payee `user_id`, from this context's copy.
pub fn payee_login(db: &Connection, user_id: &str) -> rusqlite::Result<Option<String>> {
    db.prepare_cached("SELECT login FROM payees WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()
}

pub struct PaymentsLog;

impl Projection for PaymentsLog {
    fn name(&self) -> &str {
        "payments.payments"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE payments (payment_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, amount INTEGER NOT NULL,
                 date TEXT NOT NULL, status TEXT NOT NULL, provider_ref TEXT, reason TEXT, sent_at TEXT NOT NULL) STRICT;
             CREATE TABLE payees (user_id TEXT PRIMARY KEY, login TEXT NOT NULL) STRICT, WITHOUT ROWID;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            PopugEvent::SentPaymentCommand(c) => {
                db.prepare_cached("INSERT INTO payments (payment_id, user_id, amount, date, status, sent_at) VALUES (?1, ?2, ?3, ?4, 'sent', ?5)")?
                    .execute((&c.payment_id, &c.user_id, c.amount, &c.date, popug_ledger::line::format_at(&event.at)))?;
            }
            PopugEvent::PaymentSendingConfirmed(c) => {
                db.prepare_cached(
                    "UPDATE payments SET status = 'confirmed', provider_ref = ?2 WHERE payment_id = ?1",
                )?
                .execute((&c.payment_id, &c.provider_ref))?;
            }
            PopugEvent::PaymentSendingFailed(f) => {
                db.prepare_cached(
                    "UPDATE payments SET status = 'failed', reason = ?2 WHERE payment_id = ?1",
                )?
                .execute((&f.payment_id, &f.reason))?;
            }
            PopugEvent::UserCreated(u) => {
                db.prepare_cached("INSERT INTO payees (user_id, login) VALUES (?1, ?2)")?
                    .execute((&u.user_id, &u.login))?;
            }
            _ => {}
        }
        Ok(())
    }
}
