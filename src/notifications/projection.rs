//! `notifications`: every notification sent, for the record.

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

use crate::events::{NotificationSent, Payload};

pub struct Sent;

impl Projection for Sent {
    fn name(&self) -> &str {
        "notifications.sent"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE notifications (seq INTEGER PRIMARY KEY, notification_id TEXT NOT NULL, user_id TEXT NOT NULL,
                 channel TEXT NOT NULL, subject TEXT NOT NULL, caused_by TEXT NOT NULL) STRICT;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if event.event_type == NotificationSent::TYPE {
            let n: NotificationSent = event.data_as()?;
            db.prepare_cached(
                "INSERT INTO notifications (notification_id, user_id, channel, subject, caused_by, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((
                &n.notification_id,
                &n.user_id,
                n.channel.as_str(),
                &n.subject,
                &n.caused_by,
                event.seq as i64,
            ))?;
        }
        Ok(())
    }
}
