//! The analytics context's own tables, fed by the events it reads (DESIGN §3): management
//! earnings per day (`earnings_days`), each worker's balance change per day
//! (`worker_days`, through `analytics_accounts`), roles as they were on each day
//! (`role_history`), the tasks completed with their day (`analytics_tasks`), the logins
//! (`analytics_users`) and the calendar (`analytics_calendar`). Days are in the ledger's
//! timezone; money in cents.

use crate::events::{PopugEvent, decode};
use std::collections::HashMap;

use popug_ledger::{BoxError, Event, Projection, Replay};
use rusqlite::{Connection, OptionalExtension};

use crate::events::{TaskStatus, Transaction};
use crate::scheduler::CalendarCopy;
use crate::tasks::copy::{TaskCopy, TaskCopyFold};

/// The tasks analytics ranks, with the day each was completed.
pub const TASKS: TaskCopy = TaskCopy::new("analytics_tasks");

/// The analytics context's copy of the ledger's timezone.
pub const CALENDAR: CalendarCopy = CalendarCopy::new("analytics_calendar");

pub struct Days;

impl Projection for Days {
    fn name(&self) -> &str {
        "analytics.days"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE earnings_days (date TEXT PRIMARY KEY, fees INTEGER NOT NULL, rewards INTEGER NOT NULL)
                 STRICT, WITHOUT ROWID;
             CREATE TABLE analytics_accounts (account_id TEXT PRIMARY KEY, user_id TEXT) STRICT, WITHOUT ROWID;
             CREATE TABLE worker_days (user_id TEXT NOT NULL, date TEXT NOT NULL, delta INTEGER NOT NULL,
                 PRIMARY KEY (user_id, date)) STRICT, WITHOUT ROWID;
             CREATE TABLE role_history (seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL, role TEXT NOT NULL,
                 since_day TEXT NOT NULL) STRICT;
             CREATE INDEX role_history_user ON role_history (user_id, since_day, seq);
             CREATE TABLE analytics_users (user_id TEXT PRIMARY KEY, login TEXT NOT NULL) STRICT, WITHOUT ROWID;
",
        )?;
        TASKS.migrate(db, ", completed_on TEXT, completed_at TEXT")?;
        db.execute_batch(
            "CREATE INDEX analytics_tasks_completed ON analytics_tasks (completed_on, reward)
                 WHERE completed_on IS NOT NULL;",
        )?;
        CALENDAR.migrate(db)
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if let PopugEvent::AccountBalanceUpdated(u) = decode(event)? {
            let t = &u.transaction;
            if let Some((fees, rewards)) = earnings(t) {
                db.prepare_cached(ADD_EARNINGS)?
                    .execute((&t.billing_date, fees, rewards))?;
            }
            if let Some(user) = holder(db, &t.account_id)? {
                db.prepare_cached(ADD_WORKER_DAY)?.execute((
                    &user,
                    &t.billing_date,
                    t.kind.delta(t.amount),
                ))?;
            }
            return Ok(());
        }
        other(db, event, None)
    }

    fn replay<'db>(&self, db: &'db Connection) -> rusqlite::Result<Option<Box<dyn Replay + 'db>>> {
        Ok(Some(Box::new(DaysReplay {
            tasks: TASKS.fold(db)?,
            timezone: None,
            holders: HashMap::new(),
            users: Interned::default(),
            days: Interned::default(),
            earnings: HashMap::new(),
            worker_days: Vec::new(),
        })))
    }
}

const ADD_EARNINGS: &str = "INSERT INTO earnings_days (date, fees, rewards) VALUES (?1, ?2, ?3)
     ON CONFLICT (date) DO UPDATE SET fees = fees + excluded.fees, rewards = rewards + excluded.rewards";
const ADD_WORKER_DAY: &str = "INSERT INTO worker_days (user_id, date, delta) VALUES (?1, ?2, ?3)
     ON CONFLICT (user_id, date) DO UPDATE SET delta = delta + excluded.delta";

/// What a transaction adds to the management's earnings of its day, (fees, rewards); `None`
/// for a transaction that is neither (a payout, a reversal).
fn earnings(t: &Transaction) -> Option<(i64, i64)> {
    match t.reason.as_str() {
        "assign_fee" | "reassign_fee" => Some((t.amount.0, 0)),
        "reward" => Some((0, t.amount.0)),
        _ => None,
    }
}

/// The user who holds `account_id` (`None` for the company's account).
fn holder(db: &Connection, account_id: &str) -> rusqlite::Result<Option<String>> {
    Ok(db
        .prepare_cached("SELECT user_id FROM analytics_accounts WHERE account_id = ?1")?
        .query_row([account_id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Every event but a transaction: accounts, users and their roles by day, tasks and their
/// completion day, the calendar. `tz`: the timezone when the caller knows it (a replay
/// reads it once), else it is read from the calendar copy.
fn other(db: &Connection, event: &Event, tz: Option<&str>) -> Result<(), BoxError> {
    let day = || -> Result<String, BoxError> {
        let tz = match tz {
            Some(tz) => tz.to_owned(),
            None => CALENDAR.timezone(db)?,
        };
        Ok(crate::zone::day_of(&event.at, &tz).to_string())
    };
    match decode(event)? {
        PopugEvent::AccountCreated(a) => {
            db.prepare_cached("INSERT INTO analytics_accounts (account_id, user_id) VALUES (?1, ?2)")?
                .execute((&a.account_id, &a.user_id))?;
        }
        PopugEvent::UserCreated(u) => {
            db.prepare_cached("INSERT INTO analytics_users (user_id, login) VALUES (?1, ?2)")?
                .execute((&u.user_id, &u.login))?;
            record_role(db, event, &u.user_id, u.role, &day()?)?;
        }
        PopugEvent::UserRoleChanged(e) => {
            record_role(db, event, &e.user_id, e.to, &day()?)?;
        }
        PopugEvent::TaskCreated(_) | PopugEvent::TaskReassigned(_) => {
            TASKS.apply(db, event)?;
        }
        PopugEvent::TaskStatusChanged(s) => {
            if s.to == TaskStatus::Done {
                let day = day()?;
                db.prepare_cached(
                    "UPDATE analytics_tasks SET completed_on = ?2, completed_at = ?3 WHERE task_id = ?1",
                )?
                .execute((&s.task_id, day, popug_ledger::line::format_at(&event.at)))?;
            }
        }
        _ => CALENDAR.apply(db, event)?,
    }
    Ok(())
}

/// Keeps each user's role from `day` (in the ledger's timezone), the day it was given: a
/// report about a past day counts people by the role they had then.
fn record_role(
    db: &Connection,
    event: &Event,
    user_id: &str,
    role: crate::events::Role,
    day: &str,
) -> Result<(), BoxError> {
    db.prepare_cached("INSERT INTO role_history (seq, user_id, role, since_day) VALUES (?1, ?2, ?3, ?4)")?
        .execute((event.seq as i64, user_id, role.as_str(), day))?;
    Ok(())
}

/// The replay's fold: the day totals (one upsert per transaction otherwise) are summed in
/// memory with the account holders, and written once at the end; the rest as `apply` does.
/// Users and billing days are interned (numbered as first seen), so that a transaction
/// adds to its totals without cloning or comparing strings.
struct DaysReplay<'db> {
    tasks: TaskCopyFold<'db>,
    /// The ledger's timezone, once `LedgerInitialized` was applied (it never changes).
    timezone: Option<String>,
    /// Each account's holder, as an index into `users` (`None`: the company's account).
    holders: HashMap<String, Option<u32>>,
    users: Interned,
    days: Interned,
    /// (fees, rewards) of each day in `days` that has any.
    earnings: HashMap<u32, (i64, i64)>,
    /// Each user's balance change per day with a transaction (indexed by user), as (day,
    /// change) in the order of the days' numbers: a transaction is nearly always on its
    /// holder's latest day or a later one, so it adds to the last entry or pushes one.
    worker_days: Vec<Vec<(u32, i64)>>,
}

/// Strings numbered in the order first seen.
#[derive(Default)]
struct Interned {
    index: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interned {
    fn of(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).expect("fewer than 2^32 users and days");
        self.index.insert(name.to_owned(), i);
        self.names.push(name.to_owned());
        i
    }

    fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

impl Replay for DaysReplay<'_> {
    fn apply(&mut self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            _ if self.tasks.apply(db, event)? => Ok(()),
            PopugEvent::AccountBalanceUpdated(u) => {
                let t = &u.transaction;
                let holder = self.holders.get(t.account_id.as_str()).copied().flatten();
                let earned = earnings(t);
                if holder.is_none() && earned.is_none() {
                    return Ok(());
                }
                let day = self.days.of(&t.billing_date);
                if let Some((fees, rewards)) = earned {
                    let totals = self.earnings.entry(day).or_default();
                    totals.0 += fees;
                    totals.1 += rewards;
                }
                if let Some(user) = holder {
                    let days = &mut self.worker_days[user as usize];
                    let delta = t.kind.delta(t.amount);
                    match days.last_mut() {
                        Some(last) if last.0 == day => last.1 += delta,
                        Some(last) if last.0 > day => match days.binary_search_by_key(&day, |e| e.0) {
                            Ok(i) => days[i].1 += delta,
                            Err(i) => days.insert(i, (day, delta)),
                        },
                        _ => days.push((day, delta)),
                    }
                }
                Ok(())
            }
            PopugEvent::AccountCreated(a) => {
                let holder = a.user_id.as_deref().map(|u| self.users.of(u));
                self.worker_days.resize_with(self.users.len(), Vec::new);
                self.holders.insert(a.account_id.0.clone(), holder);
                other(db, event, self.timezone.as_deref())
            }
            _ => {
                other(db, event, self.timezone.as_deref())?;
                if self.timezone.is_none() {
                    self.timezone = CALENDAR.configured(db)?;
                }
                Ok(())
            }
        }
    }

    fn finish(self: Box<Self>, db: &Connection) -> Result<(), BoxError> {
        // in key order, as the tables keep them (each insert lands at the end of its b-tree)
        let mut earnings: Vec<_> = self
            .earnings
            .iter()
            .map(|(&d, &v)| (self.days.name(d), v))
            .collect();
        earnings.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut add = db.prepare(ADD_EARNINGS)?;
        for (date, (fees, rewards)) in earnings {
            add.execute((date, fees, rewards))?;
        }
        let mut users: Vec<u32> = (0..self.worker_days.len() as u32).collect();
        users.sort_unstable_by_key(|&u| self.users.name(u));
        let mut add = db.prepare(ADD_WORKER_DAY)?;
        for user in users {
            let mut days: Vec<_> = self.worker_days[user as usize]
                .iter()
                .map(|&(d, delta)| (self.days.name(d), delta))
                .collect();
            days.sort_unstable_by_key(|&(date, _)| date);
            for (date, delta) in days {
                add.execute((self.users.name(user), date, delta))?;
            }
        }
        Ok(())
    }
}
