//! The notifications context: tells a user what happened to them, on their channel: printed
//! by the command that delivers it (stdout), a Maildir message under
//! `notifications/<login>/` (file), or nowhere (none).
//!
//! Each notification is sent once: its id is derived from the causing event and the user, the
//! engine never re-runs a reaction that is in the log, and the Maildir write is skipped when
//! a message with that id is already there (a crash can come between the file and the event).
//!
//! Maildir messages are delivered per reaction round: `react` writes each one to `tmp/`,
//! `flush` (before the round's events are appended) makes them durable, moves them to `new/`
//! and makes the moves durable: for a round of many messages two `syncfs` calls, not two
//! fsyncs per message.

pub mod projection;

/// This context's store: `views/notifications.db` (notifications sent and deferred, and its copies of recipients, tasks and payouts), written only by its projection.
pub const STORE: &str = "notifications";
/// The version of this store's tables: bump it when they change, and this store alone is
/// rebuilt from the log on open.
pub const STORE_VERSION: u32 = 2;

use crate::events::{PopugEvent, decode};
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use popug_ledger::{BoxError, Context, Event, NewEvent, Reactor, Retried};
use rusqlite::Connection;
use uuid::Uuid;

use crate::events::{Notify, Payload, TaskStatus};
use crate::money::Money;
use projection::{Recipient, recipient};

/// A notification on a user's `stdout` channel that this process delivered: printed by the
/// command that delivers it, after its own output (CLI.md "Notifications").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdoutNotice {
    pub notification_id: String,
    /// The recipient's login (this context's copy; empty for a user it does not know).
    pub login: String,
    pub subject: String,
    pub body: String,
}

/// The `stdout` notifications a process delivers, gathered from every write session it runs
/// (its own command's, and the one an open runs to finish an interrupted command's
/// reactions) as their events become durable ([`popug_ledger::Options::on_durable`]), for
/// the command to print once, at its end. Clones share what is gathered. The default
/// gathers nothing (a web request, whose answer is its document alone).
#[derive(Debug, Clone, Default)]
pub struct StdoutDeliveries(Option<std::sync::Arc<std::sync::Mutex<Vec<StdoutNotice>>>>);

impl StdoutDeliveries {
    /// Deliveries that are gathered (a command run from a terminal, cron or a script).
    pub fn gathered() -> StdoutDeliveries {
        StdoutDeliveries(Some(Default::default()))
    }

    /// The engine's hook that gathers them; `None` when nothing is gathered.
    pub fn on_durable(&self) -> Option<popug_ledger::OnDurable> {
        let gathered = self.0.clone()?;
        Some(popug_ledger::OnDurable(std::sync::Arc::new(
            move |ledger: &popug_ledger::Ledger, events: &[Event]| {
                let mut found = Vec::new();
                for e in events
                    .iter()
                    .filter(|e| e.event_type == crate::events::NotificationSent::TYPE)
                {
                    let Ok(PopugEvent::NotificationSent(n)) = decode(e) else {
                        continue;
                    };
                    if n.channel != Notify::Stdout {
                        continue;
                    }
                    // the store holds the recipient: the session committed before telling
                    let login = recipient(ledger.store(STORE), &n.user_id)
                        .ok()
                        .flatten()
                        .map(|r| r.login)
                        .unwrap_or_default();
                    found.push(StdoutNotice {
                        notification_id: n.notification_id.clone(),
                        login,
                        subject: n.subject.clone(),
                        body: n.body.clone(),
                    });
                }
                if !found.is_empty() {
                    gathered.lock().unwrap_or_else(|p| p.into_inner()).extend(found);
                }
            },
        )))
    }

    /// Hands over what was gathered so far, oldest first, and forgets it.
    pub fn take(&self) -> Vec<StdoutNotice> {
        match &self.0 {
            Some(g) => std::mem::take(&mut *g.lock().unwrap_or_else(|p| p.into_inner())),
            None => Vec::new(),
        }
    }
}

pub struct Notifications {
    /// `LEDGER/notifications`
    maildir_root: PathBuf,
    /// Messages of this round written to `tmp/`, to move to `new/` on `flush`: the path in
    /// `new/` and the one in `tmp/`.
    staged: RefCell<HashMap<PathBuf, PathBuf>>,
    /// For each user's Maildir this process wrote to: the names of the messages already in
    /// it (listed from `new/`, then `cur/`, when the process first writes there: a message
    /// the reader moves between the two listings is seen in `cur/`), and those this process
    /// delivered since. A message is never written twice, and a Maildir is listed once per
    /// process instead of once per message.
    delivered: RefCell<HashMap<PathBuf, HashSet<String>>>,
    /// The users whose Maildir this process already warned about (one warning each).
    warned: RefCell<HashSet<String>>,
}

impl Notifications {
    pub fn new(maildir_root: PathBuf) -> Notifications {
        Notifications {
            maildir_root,
            staged: Default::default(),
            delivered: Default::default(),
            warned: Default::default(),
        }
    }

    /// Tells the operator, once per user and process, on stderr (never stdout, which may
    /// hold a machine-readable document), that a delivery is pending.
    fn warn(&self, login: &str, reason: &str) {
        if self.warned.borrow_mut().insert(login.to_owned()) {
            eprintln!(
                "warning: a notification for {login} could not be delivered ({}); later commands deliver it once the Maildir works",
                crate::text::shown(reason)
            );
        }
    }

    /// Writes one RFC 5322 message into `root/<login>/tmp/` the Maildir way, to be moved to
    /// `new/` by `flush`, unless a message with this id was in `new/` or `cur/` when this
    /// process first wrote to the Maildir, was delivered by it since, or is staged in this
    /// round. A Maildir that cannot be listed fails the reaction (nothing is written).
    fn stage_maildir(
        &self,
        user: &Recipient,
        id: &str,
        at: chrono::DateTime<chrono::Utc>,
        subject: &str,
        body: &str,
    ) -> std::io::Result<()> {
        let dir = self.maildir_root.join(&user.login);
        let name = format!("{}.{id}{MESSAGE_SUFFIX}", at.timestamp());
        let new = dir.join("new").join(&name);
        {
            let mut delivered = self.delivered.borrow_mut();
            let known = match delivered.entry(dir.clone()) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(maildir_names(&self.maildir_root, &dir)?),
            };
            if known.contains(&name) || self.staged.borrow().contains_key(&new) {
                return Ok(());
            }
        }
        for sub in ["tmp", "new"] {
            crate::files::writable_dir(&dir.join(sub))?;
        }
        let to = user
            .email
            .clone()
            .unwrap_or_else(|| format!("{}@popug.invalid", user.login));
        let text = format!(
            "Date: {}\r\nFrom: popug <popug@popug.invalid>\r\nTo: {} <{to}>\r\nSubject: {}\r\nMessage-ID: <{id}@popug.invalid>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
            at.to_rfc2822(),
            user.login,
            subject,
            body.replace('\n', "\r\n"),
        );
        let tmp = dir.join("tmp").join(&name);
        crate::files::create_new_private(&tmp)?.write_all(text.as_bytes())?;
        self.staged.borrow_mut().insert(new, tmp);
        Ok(())
    }
}

/// Makes the Maildir `dir` under `root` (`tmp/`, `new/`, `cur/`, private) and returns the
/// names of popug's messages in `new/` and then in `cur/`, without what a reader appends to
/// a name it has seen (`:2,FLAGS`). Every folder on the way must be a real directory owned
/// by this user, never a symbolic link (a link planted there could send the messages
/// elsewhere), and is made private if its mode was loosened.
fn maildir_names(root: &Path, dir: &Path) -> std::io::Result<HashSet<String>> {
    crate::files::own_private_dir(root)?;
    crate::files::own_private_dir(dir)?;
    for sub in ["tmp", "new", "cur"] {
        crate::files::own_private_dir(&dir.join(sub))?;
    }
    let mut names = HashSet::new();
    for sub in ["new", "cur"] {
        let path = dir.join(sub);
        let listing =
            |e: std::io::Error| std::io::Error::new(e.kind(), format!("cannot list {}: {e}", path.display()));
        for entry in fs::read_dir(&path).map_err(listing)? {
            let file = entry.map_err(listing)?.file_name();
            let file = file.to_string_lossy();
            if let Some(end) = file.find(MESSAGE_SUFFIX) {
                names.insert(file[..end + MESSAGE_SUFFIX.len()].to_owned());
            }
        }
    }
    Ok(names)
}

/// How the name of every message popug writes ends (before a reader's flags).
const MESSAGE_SUFFIX: &str = ".popug";

struct Message {
    user_id: String,
    subject: String,
    body: String,
}

fn task_number(db: &Connection, task_id: &str) -> rusqlite::Result<i64> {
    db.prepare_cached("SELECT number FROM notified_tasks WHERE task_id = ?1")?
        .query_row([task_id], |r| r.get(0))
}

/// What `event` tells whom.
fn messages(db: &Connection, event: &Event) -> Result<Vec<Message>, BoxError> {
    let m = |user_id: &str, subject: String, body: String| Message {
        user_id: user_id.to_owned(),
        subject,
        body,
    };
    Ok(match decode(event)? {
        PopugEvent::UserCreated(u) => {
            vec![m(
                &u.user_id,
                "Welcome to popug".into(),
                format!(
                    "Your account `{}` ({}) is ready. Your administrator has your temporary password; \
                     sign in with `popug login {}` and change it with `popug passwd`.",
                    u.login,
                    u.role.as_str(),
                    u.login
                ),
            )]
        }
        PopugEvent::TaskCreated(t) => {
            let n = task_number(db, &t.task_id)?;
            vec![m(
                &t.assignee_id,
                format!("Task #{n} assigned to you"),
                format!(
                    "Task #{n}: {}\nAssignment fee charged: {}. Reward on completion: {}.",
                    t.title, t.assign_fee, t.reward
                ),
            )]
        }
        PopugEvent::TaskReassigned(r) => {
            let (n, title, fee): (i64, String, i64) = db
                .prepare_cached("SELECT number, title, assign_fee FROM notified_tasks WHERE task_id = ?1")?
                .query_row([&r.task_id], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)))?;
            vec![m(
                &r.assign_to,
                format!("Task #{n} reassigned to you"),
                format!(
                    "Task #{n}: {}\nIt was reassigned to you; assignment fee charged: {}.",
                    title,
                    Money(fee)
                ),
            )]
        }
        PopugEvent::TaskStatusChanged(s) => {
            if s.to != TaskStatus::Done {
                return Ok(vec![]);
            }
            let (n, assignee, reward): (i64, String, i64) = db
                .prepare_cached("SELECT number, assignee_id, reward FROM notified_tasks WHERE task_id = ?1")?
                .query_row([&s.task_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            vec![m(
                &assignee,
                format!("Task #{n} done"),
                format!("Task #{n} is done; reward credited: {}.", Money(reward)),
            )]
        }
        PopugEvent::PaymentSendingConfirmed(p) => {
            let date: String = db
                .prepare_cached("SELECT date FROM notified_payments WHERE payment_id = ?1")?
                .query_row([&p.payment_id], |r| r.get(0))?;
            vec![m(
                &p.user_id,
                format!("Payment of {} for {date}", p.amount),
                format!(
                    "{} was paid out for {date}; your balance is now zero for that day.",
                    p.amount
                ),
            )]
        }
        PopugEvent::PaymentSendingFailed(p) => {
            vec![m(
                &p.user_id,
                format!("Payment of {} failed", p.amount),
                format!(
                    "The payout of {} could not be sent ({}); it stays on your balance.",
                    p.amount, p.reason
                ),
            )]
        }
        _ => vec![],
    })
}

impl Reactor for Notifications {
    fn name(&self) -> &str {
        "notifications"
    }

    /// Handed to `popug worker` (`popug hand-over`), as this context's store records.
    fn handed_over(&self, db: &Connection) -> Result<bool, BoxError> {
        crate::handover::is_handed_over(db, STORE)
    }

    /// Its files (Maildirs) are on the host that runs it: on a JetStream ledger only a
    /// `popug worker` runs it.
    fn host_side_effects(&self) -> bool {
        true
    }

    fn react(
        &self,
        db: &Connection,
        event: &Event,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<NewEvent>, BoxError> {
        let mut out = Vec::new();
        for msg in messages(db, event)? {
            let Some(user) = recipient(db, &msg.user_id)? else {
                continue;
            };
            if user.notify == Notify::None {
                continue;
            }
            let notification_id = Uuid::new_v5(&event.id, msg.user_id.as_bytes()).to_string();
            if user.notify == Notify::File {
                // a message in a Maildir is one the reader may already have: the event it
                // tells of must be durable before it is written (docs/guarantees.md P6)
                ctx.durable()?;
            }
            if user.notify == Notify::File
                && let Err(e) = self.stage_maildir(&user, &notification_id, event.at, &msg.subject, &msg.body)
            {
                // one user's broken Maildir must not fail anyone's command: deferred, and
                // delivered by a later command once it can be (`retry`)
                let reason = e.to_string();
                self.warn(&user.login, &reason);
                out.push(
                    crate::events::NotificationDeferred {
                        notification_id,
                        user_id: msg.user_id.into(),
                        channel: user.notify,
                        subject: msg.subject,
                        body: msg.body,
                        caused_by: event.id.to_string(),
                        reason,
                    }
                    .to_event("system"),
                );
                continue;
            }
            out.push(
                crate::events::NotificationSent {
                    notification_id,
                    user_id: msg.user_id.into(),
                    channel: user.notify,
                    subject: msg.subject,
                    body: msg.body,
                    caused_by: event.id.to_string(),
                }
                .to_event("system"),
            );
        }
        Ok(out)
    }

    /// Delivers the notifications deferred earlier whose Maildir works again: each one's
    /// `NotificationSent` is appended with the deferral as its cause. One that fails again
    /// stays deferred, with a warning.
    fn retry(&self, db: &Connection, ctx: &mut Context<'_>) -> Result<Vec<Retried>, BoxError> {
        let pending = projection::deferred(db)?;
        if !pending.is_empty() {
            // what a retried message tells of is in the log; whatever this session wrote
            // before it is made durable too, before a message can be seen
            ctx.durable()?;
        }
        let mut out = Vec::new();
        for d in pending {
            let Some(user) = recipient(db, &d.user_id)? else {
                continue;
            };
            let at = chrono::DateTime::parse_from_rfc3339(&d.at)?.with_timezone(&chrono::Utc);
            if user.notify == Notify::File
                && let Err(e) = self.stage_maildir(&user, &d.notification_id, at, &d.subject, &d.body)
            {
                self.warn(&user.login, &e.to_string());
                continue;
            }
            out.push(Retried {
                causation_id: d.event_id.parse()?,
                correlation_id: d.correlation_id.parse()?,
                events: vec![
                    crate::events::NotificationSent {
                        notification_id: d.notification_id,
                        user_id: d.user_id.into(),
                        channel: user.notify,
                        subject: d.subject,
                        body: d.body,
                        caused_by: d.caused_by,
                    }
                    .to_event("system"),
                ],
            });
        }
        Ok(out)
    }

    /// Makes this round's Maildir messages durable, then visible in `new/`, then the moves
    /// durable: a message in `new/` is always whole, and every message a `NotificationSent`
    /// in the log speaks of is in `new/` (or was moved on to `cur/` by the reader).
    fn flush(&self) -> Result<(), BoxError> {
        let staged = std::mem::take(&mut *self.staged.borrow_mut());
        if staged.is_empty() {
            return Ok(());
        }
        let sync_err = |e: std::io::Error| format!("cannot sync the Maildir messages: {e}");
        sync_all(&self.maildir_root, staged.values().map(PathBuf::as_path)).map_err(sync_err)?;
        for (new, tmp) in &staged {
            fs::rename(tmp, new).map_err(|e| format!("cannot deliver {}: {e}", new.display()))?;
            if let (Some(dir), Some(name)) = (new.parent().and_then(Path::parent), new.file_name())
                && let Some(known) = self.delivered.borrow_mut().get_mut(dir)
            {
                known.insert(name.to_string_lossy().into_owned());
            }
        }
        let dirs: HashSet<&Path> = staged.keys().filter_map(|new| new.parent()).collect();
        sync_all(&self.maildir_root, dirs.into_iter()).map_err(sync_err)?;
        Ok(())
    }
}

/// Up to this many paths are synced one by one; more, with one `syncfs` (Linux).
const SYNC_ONE_BY_ONE: usize = 8;

/// Makes `paths` (files or directories under `root`) durable. A few are synced one by one,
/// as a single command's message needs; for a round of many (an import, a shuffle, a payment
/// run) one `syncfs` of root's file system replaces one fsync per path. `syncfs` also waits
/// for whatever else is dirty on that file system, which is why a single message does not
/// use it.
fn sync_all<'a>(root: &Path, paths: impl ExactSizeIterator<Item = &'a Path>) -> std::io::Result<()> {
    if cfg!(target_os = "linux") && paths.len() > SYNC_ONE_BY_ONE {
        return syncfs(root);
    }
    for p in paths {
        fs::File::open(p)?.sync_all()?;
    }
    Ok(())
}

/// Makes everything written to the file system that holds `path` durable.
#[cfg(target_os = "linux")]
fn syncfs(path: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = fs::File::open(path)?;
    // SAFETY: syncfs only reads the descriptor, which `dir` keeps open for the call
    if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Not offered elsewhere: `sync_all` syncs path by path there.
#[cfg(not(target_os = "linux"))]
fn syncfs(_: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod rules {
    use super::*;
    use crate::events::*;
    use crate::events::{AccountCreated, Role, TaskCreated};
    use crate::testkit::{Given, payload};

    fn user(g: &mut Given, login: &str, notify: Notify) {
        g.apply(&UserCreated {
            user_id: format!("id-{login}").into(),
            login: login.into(),
            name: None,
            email: Some(format!("{login}@example.com")),
            role: Role::Worker,
            password_hash: "x".into(),
            notify,
        });
        g.apply(&AccountCreated {
            account_id: format!("acct-{login}").into(),
            user_id: Some(format!("id-{login}").into()),
        });
    }

    #[test]
    fn given_a_file_user_when_a_task_is_assigned_then_one_maildir_message_is_written_even_if_asked_twice() {
        let tmp = tempfile::tempdir().unwrap();
        let n = Notifications::new(tmp.path().to_owned());
        let mut g = Given::new();
        user(&mut g, "w2", Notify::File);
        let task = TaskCreated {
            task_id: "t".into(),
            title: "Preen".into(),
            jira_id: None,
            description: None,
            assignee_id: "id-w2".into(),
            assign_fee: crate::money::Money(1000),
            reward: crate::money::Money(2000),
        };
        let out = g.when(&n, &task);
        assert_eq!(out.len(), 1);
        let sent: crate::events::NotificationSent = payload(&out[0]);
        assert_eq!(
            (sent.channel, sent.subject.as_str()),
            (Notify::File, "Task #1 assigned to you")
        );
        let event = g.apply(&TaskCreated {
            task_id: "t2".into(),
            ..task.clone()
        });
        let react = |g: &mut Given, event: &Event| g.react(&n, event);
        let new_dir = tmp.path().join("w2/new");
        let in_new = || std::fs::read_dir(&new_dir).unwrap().count();
        assert_eq!(react(&mut g, &event).len(), 1);
        // asked twice in one round (as after a crash between the file and the log)
        assert_eq!(react(&mut g, &event).len(), 1);
        assert_eq!(in_new(), 0, "nothing is visible before the round is flushed");
        n.flush().unwrap();
        assert_eq!(in_new(), 2, "two different events, two messages");
        assert_eq!(std::fs::read_dir(tmp.path().join("w2/tmp")).unwrap().count(), 0);
        let text = std::fs::read_to_string(
            std::fs::read_dir(&new_dir)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        )
        .unwrap();
        assert!(
            text.contains("Subject: Task #") && text.contains("Preen"),
            "{text}"
        );
        // the same event again in a later round writes no second message
        assert_eq!(react(&mut g, &event).len(), 1);
        n.flush().unwrap();
        assert_eq!(in_new(), 2);

        // the reader moves the messages to cur/ with its flags; a new process (after a crash
        // before the log had the notification) asked again writes none of them again
        let cur = tmp.path().join("w2/cur");
        for e in std::fs::read_dir(&new_dir).unwrap() {
            let from = e.unwrap().path();
            let seen = format!("{}:2,S", from.file_name().unwrap().to_string_lossy());
            std::fs::rename(&from, cur.join(seen)).unwrap();
        }
        let again = Notifications::new(tmp.path().to_owned());
        assert_eq!(g.react(&again, &event).len(), 1);
        again.flush().unwrap();
        assert_eq!(in_new(), 0, "a message already read is not delivered again");
        assert_eq!(std::fs::read_dir(&cur).unwrap().count(), 2);
        assert_eq!(std::fs::read_dir(tmp.path().join("w2/tmp")).unwrap().count(), 0);
    }

    #[test]
    fn given_a_round_of_many_messages_when_flushed_then_every_one_is_in_new_and_none_in_tmp() {
        // more than SYNC_ONE_BY_ONE messages: the round is synced with syncfs on Linux
        let tmp = tempfile::tempdir().unwrap();
        let n = Notifications::new(tmp.path().to_owned());
        let mut g = Given::new();
        user(&mut g, "w5", Notify::File);
        user(&mut g, "w6", Notify::File);
        for i in 0..2 * SYNC_ONE_BY_ONE {
            let out = g.when(
                &n,
                &TaskCreated {
                    task_id: format!("t{i}").into(),
                    title: format!("Task {i}"),
                    jira_id: None,
                    description: None,
                    assignee_id: if i % 2 == 0 { "id-w5" } else { "id-w6" }.into(),
                    assign_fee: crate::money::Money(1000),
                    reward: crate::money::Money(2000),
                },
            );
            assert_eq!(out.len(), 1);
        }
        let count = |login: &str, sub: &str| {
            std::fs::read_dir(tmp.path().join(login).join(sub))
                .unwrap()
                .count()
        };
        assert_eq!((count("w5", "new"), count("w5", "tmp")), (0, SYNC_ONE_BY_ONE));
        n.flush().unwrap();
        for login in ["w5", "w6"] {
            assert_eq!(
                (count(login, "new"), count(login, "tmp")),
                (SYNC_ONE_BY_ONE, 0),
                "{login}"
            );
        }
    }

    #[test]
    fn given_a_user_who_wants_nothing_then_nothing_is_sent() {
        let tmp = tempfile::tempdir().unwrap();
        let n = Notifications::new(tmp.path().to_owned());
        let mut g = Given::new();
        user(&mut g, "w3", Notify::None);
        let out = g.when(
            &n,
            &TaskCreated {
                task_id: "t".into(),
                title: "x".into(),
                jira_id: None,
                description: None,
                assignee_id: "id-w3".into(),
                assign_fee: crate::money::Money(1000),
                reward: crate::money::Money(2000),
            },
        );
        assert!(out.is_empty());
        assert!(!tmp.path().join("w3").exists());
    }
}
