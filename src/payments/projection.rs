//! `payments`: every payout and where it stands (sent, confirmed, failed).

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

use crate::events::{Payload, PaymentSendingConfirmed, PaymentSendingFailed, SentPaymentCommand};

pub struct PaymentsLog;

impl Projection for PaymentsLog {
    fn name(&self) -> &str {
        "payments.payments"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE payments (payment_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, amount INTEGER NOT NULL,
                 date TEXT NOT NULL, status TEXT NOT NULL, provider_ref TEXT, reason TEXT, sent_at TEXT NOT NULL) STRICT;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            SentPaymentCommand::TYPE => {
                let c: SentPaymentCommand = event.data_as()?;
                db.prepare_cached("INSERT INTO payments (payment_id, user_id, amount, date, status, sent_at) VALUES (?1, ?2, ?3, ?4, 'sent', ?5)")?
                    .execute((&c.payment_id, &c.user_id, c.amount, &c.date, popug_ledger::line::format_at(&event.at)))?;
            }
            PaymentSendingConfirmed::TYPE => {
                let c: PaymentSendingConfirmed = event.data_as()?;
                db.prepare_cached(
                    "UPDATE payments SET status = 'confirmed', provider_ref = ?2 WHERE payment_id = ?1",
                )?
                .execute((&c.payment_id, &c.provider_ref))?;
            }
            PaymentSendingFailed::TYPE => {
                let f: PaymentSendingFailed = event.data_as()?;
                db.prepare_cached(
                    "UPDATE payments SET status = 'failed', reason = ?2 WHERE payment_id = ?1",
                )?
                .execute((&f.payment_id, &f.reason))?;
            }
            _ => {}
        }
        Ok(())
    }
}
