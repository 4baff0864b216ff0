//! `notifications`: every notification sent, for the record, and `notifications_deferred`:
//! those that could not be delivered yet (removed when their `NotificationSent` comes). And
//! the context's own copies of what its messages say: `recipients` (login, address,
//! channel), `notified_tasks` (number, title, terms, current assignee) and
//! `notified_payments` (the day a payout pays).

use crate::events::{PopugEvent, decode};
use popug_ledger::{BoxError, Event, Projection, Replay};
use rusqlite::{Connection, OptionalExtension, Statement};

use crate::events::{NotificationSent, Notify};
use crate::tasks::copy::{TaskCopy, TaskCopyFold};

/// Whom a notification goes to, and how (this context's copy of a user).
#[derive(Debug, Clone)]
pub struct Recipient {
    pub user_id: String,
    pub login: String,
    pub email: Option<String>,
    pub notify: Notify,
}

/// The recipient `user_id`, if they exist.
pub fn recipient(db: &Connection, user_id: &str) -> rusqlite::Result<Option<Recipient>> {
    db.prepare_cached("SELECT user_id, login, email, notify FROM recipients WHERE user_id = ?1")?
        .query_row([user_id], |r| {
            let notify: String = r.get(3)?;
            Ok(Recipient {
                user_id: r.get(0)?,
                login: r.get(1)?,
                email: r.get(2)?,
                notify: notify.parse().unwrap_or(Notify::None),
            })
        })
        .optional()
}

/// Keeps the context's copies of users, tasks and payouts.
fn copies(db: &Connection, event: &Event) -> Result<(), BoxError> {
    match decode(event)? {
        PopugEvent::UserCreated(u) => {
            db.prepare_cached(
                "INSERT INTO recipients (user_id, login, email, notify) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute((&u.user_id, &u.login, &u.email, u.notify.as_str()))?;
        }
        PopugEvent::TaskCreated(_) | PopugEvent::TaskReassigned(_) => {
            TASKS.apply(db, event)?;
        }
        PopugEvent::SentPaymentCommand(c) => {
            db.prepare_cached("INSERT INTO notified_payments (payment_id, date) VALUES (?1, ?2)")?
                .execute((&c.payment_id, &c.date))?;
        }
        _ => {}
    }
    Ok(())
}

/// The tasks this context names in its messages.
pub const TASKS: TaskCopy = TaskCopy::new("notified_tasks");

const INSERT_SENT: &str =
    "INSERT INTO notifications (notification_id, user_id, channel, subject, caused_by, seq)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

fn sent(stmt: &mut Statement<'_>, event: &Event, n: &NotificationSent) -> rusqlite::Result<()> {
    stmt.execute((
        &n.notification_id,
        &n.user_id,
        n.channel.as_str(),
        &n.subject,
        &n.caused_by,
        event.seq as i64,
    ))?;
    Ok(())
}

/// The replay's fold: the rows that come one per event (notifications sent, tasks) through
/// statements prepared once, the task count kept in memory, and the deferred notifications'
/// ids, so that a sent one is looked for among them only when it was deferred.
struct SentReplay<'db> {
    insert_sent: Statement<'db>,
    tasks: TaskCopyFold<'db>,
    deferred: std::collections::HashSet<String>,
}

impl Replay for SentReplay<'_> {
    fn apply(&mut self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            PopugEvent::NotificationSent(n) => {
                sent(&mut self.insert_sent, event, n)?;
                if self.deferred.remove(&n.notification_id) {
                    Sent.apply_deferral(db, event)?;
                }
            }
            PopugEvent::NotificationDeferred(n) => {
                self.deferred.insert(n.notification_id.clone());
                Sent.apply_deferral(db, event)?;
            }
            _ if self.tasks.apply(db, event)? => {}
            _ => copies(db, event)?,
        }
        Ok(())
    }
}

pub struct Sent;

impl Projection for Sent {
    fn name(&self) -> &str {
        "notifications.sent"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE notifications (seq INTEGER PRIMARY KEY, notification_id TEXT NOT NULL, user_id TEXT NOT NULL,
                 channel TEXT NOT NULL, subject TEXT NOT NULL, caused_by TEXT NOT NULL) STRICT;
             CREATE TABLE notifications_deferred (notification_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
                 subject TEXT NOT NULL, body TEXT NOT NULL, caused_by TEXT NOT NULL, reason TEXT NOT NULL,
                 event_id TEXT NOT NULL, correlation_id TEXT NOT NULL, at TEXT NOT NULL) STRICT;
             CREATE TABLE recipients (user_id TEXT PRIMARY KEY, login TEXT NOT NULL, email TEXT,
                 notify TEXT NOT NULL) STRICT, WITHOUT ROWID;
             CREATE TABLE notified_payments (payment_id TEXT PRIMARY KEY, date TEXT NOT NULL) STRICT, WITHOUT ROWID;",
        )?;
        TASKS.migrate(db, "")
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        copies(db, event)?;
        if let PopugEvent::NotificationSent(n) = decode(event)? {
            sent(&mut *db.prepare_cached(INSERT_SENT)?, event, n)?;
        }
        self.apply_deferral(db, event)
    }

    fn replay<'db>(&self, db: &'db Connection) -> rusqlite::Result<Option<Box<dyn Replay + 'db>>> {
        Ok(Some(Box::new(SentReplay {
            insert_sent: db.prepare(INSERT_SENT)?,
            tasks: TASKS.fold(db)?,
            deferred: Default::default(),
        })))
    }
}

impl Sent {
    /// What a sent or deferred notification changes among the deferred ones: a sent one
    /// leaves them, a deferred one joins them (or its reason is updated).
    fn apply_deferral(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if let PopugEvent::NotificationSent(n) = decode(event)? {
            db.prepare_cached("DELETE FROM notifications_deferred WHERE notification_id = ?1")?
                .execute([&n.notification_id])?;
        } else if let PopugEvent::NotificationDeferred(n) = decode(event)? {
            db.prepare_cached(
                "INSERT INTO notifications_deferred (notification_id, user_id, subject, body, caused_by, reason,
                     event_id, correlation_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (notification_id) DO UPDATE SET reason = excluded.reason",
            )?
            .execute((
                &n.notification_id,
                &n.user_id,
                &n.subject,
                &n.body,
                &n.caused_by,
                &n.reason,
                event.id.to_string(),
                event.correlation_id.to_string(),
                popug_ledger::line::format_at(&event.at),
            ))?;
        }
        Ok(())
    }
}

/// A notification waiting to be delivered (see [`crate::events::NotificationDeferred`]).
pub struct Deferred {
    pub notification_id: String,
    pub user_id: String,
    pub subject: String,
    pub body: String,
    pub caused_by: String,
    pub reason: String,
    /// The deferral event's id and correlation id, and its instant (the message's date).
    pub event_id: String,
    pub correlation_id: String,
    pub at: String,
}

/// Whether any notification waits to be delivered.
pub fn any_deferred(db: &Connection) -> rusqlite::Result<bool> {
    db.prepare_cached("SELECT EXISTS (SELECT 1 FROM notifications_deferred)")?
        .query_row([], |r| r.get(0))
}

/// Every notification still waiting to be delivered, oldest first.
pub fn deferred(db: &Connection) -> rusqlite::Result<Vec<Deferred>> {
    let mut stmt = db.prepare_cached(
        "SELECT notification_id, user_id, subject, body, caused_by, reason, event_id, correlation_id, at
         FROM notifications_deferred ORDER BY at, notification_id",
    )?;
    stmt.query_map([], |r| {
        Ok(Deferred {
            notification_id: r.get(0)?,
            user_id: r.get(1)?,
            subject: r.get(2)?,
            body: r.get(3)?,
            caused_by: r.get(4)?,
            reason: r.get(5)?,
            event_id: r.get(6)?,
            correlation_id: r.get(7)?,
            at: r.get(8)?,
        })
    })?
    .collect()
}

/// A notification sent, as the record keeps it (its body is in the log's event).
#[derive(Debug, Clone)]
pub struct SentNotification {
    /// The seq of its `NotificationSent` event.
    pub seq: i64,
    pub login: String,
    pub subject: String,
}

/// The last `limit` notifications sent on `channel`, newest first (the web's Ledger page shows
/// those of the `stdout` channel, which no terminal printed for a web request).
pub fn recent(db: &Connection, channel: Notify, limit: u32) -> rusqlite::Result<Vec<SentNotification>> {
    let mut stmt = db.prepare_cached(
        "SELECT n.seq, COALESCE(r.login, ''), n.subject FROM notifications n
         LEFT JOIN recipients r ON r.user_id = n.user_id
         WHERE n.channel = ?1 ORDER BY n.seq DESC LIMIT ?2",
    )?;
    stmt.query_map(rusqlite::params![channel.as_str(), limit], |r| {
        Ok(SentNotification {
            seq: r.get(0)?,
            login: r.get(1)?,
            subject: r.get(2)?,
        })
    })?
    .collect()
}
