//! `accounts`, `transactions`: balances and the audit trail. The company account takes the
//! opposite of every transaction, so all balances sum to zero. And the context's own copies
//! of what it bills: `billed_tasks` (each task's number, title, terms and current
//! assignee), `holders` (each user's login) and `accounting_calendar` (the timezone).

use std::collections::HashMap;

use popug_ledger::{BoxError, Event, Projection, Replay};
use rusqlite::{Connection, Statement};

use crate::events::{AccountBalanceUpdated, AccountCreated, PopugEvent, decode};
use crate::scheduler::CalendarCopy;
use crate::tasks::copy::{TaskCopy, TaskCopyFold};

/// The accounting context's copy of the ledger's timezone (billing days).
pub const CALENDAR: CalendarCopy = CalendarCopy::new("accounting_calendar");

pub struct Accounts;

impl Projection for Accounts {
    fn name(&self) -> &str {
        "accounting.accounts"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE accounts (account_id TEXT PRIMARY KEY, user_id TEXT UNIQUE, balance INTEGER NOT NULL) STRICT, WITHOUT ROWID;
             CREATE TABLE transactions (seq INTEGER PRIMARY KEY, transaction_id TEXT NOT NULL, at TEXT NOT NULL,
                 account_id TEXT NOT NULL, counter_account_id TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL,
                 amount INTEGER NOT NULL, delta INTEGER NOT NULL, task_id TEXT, billing_date TEXT NOT NULL,
                 balance_after INTEGER NOT NULL) STRICT;
             CREATE INDEX transactions_account ON transactions (account_id, seq);
             CREATE INDEX transactions_day ON transactions (billing_date);
             CREATE TABLE holders (user_id TEXT PRIMARY KEY, login TEXT NOT NULL) STRICT, WITHOUT ROWID;",
        )?;
        TASKS.migrate(db, "")?;
        CALENDAR.migrate(db)
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        project(event, &mut Live(db))?;
        copies(db, event)
    }

    fn replay<'db>(&self, db: &'db Connection) -> rusqlite::Result<Option<Box<dyn Replay + 'db>>> {
        Ok(Some(Box::new(AccountsReplay {
            insert_account: db.prepare(INSERT_ACCOUNT)?,
            insert_transaction: db.prepare(INSERT_TRANSACTION)?,
            tasks: TASKS.fold(db)?,
            balances: HashMap::new(),
        })))
    }
}

const INSERT_ACCOUNT: &str = "INSERT INTO accounts (account_id, user_id, balance) VALUES (?1, ?2, 0)";
const INSERT_TRANSACTION: &str =
    "INSERT INTO transactions (transaction_id, seq, at, account_id, counter_account_id,
         kind, reason, amount, delta, task_id, billing_date, balance_after)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
/// The tasks this context bills: their terms, number, title and current assignee.
pub const TASKS: TaskCopy = TaskCopy::new("billed_tasks");

/// Keeps the context's copies: the tasks it bills ([`TASKS`]), each user's login, and the
/// calendar.
fn copies(db: &Connection, event: &Event) -> Result<(), BoxError> {
    if TASKS.apply(db, event)? {
        return Ok(());
    }
    match decode(event)? {
        PopugEvent::UserCreated(u) => {
            db.prepare_cached("INSERT INTO holders (user_id, login) VALUES (?1, ?2)")?
                .execute((&u.user_id, &u.login))?;
        }
        _ => CALENDAR.apply(db, event)?,
    }
    Ok(())
}

/// Writes the transaction row of `u` and returns its signed effect on the worker's account.
fn insert_transaction(
    stmt: &mut Statement<'_>,
    event: &Event,
    u: &AccountBalanceUpdated,
) -> rusqlite::Result<i64> {
    let t = &u.transaction;
    let delta = t.kind.delta(t.amount);
    stmt.execute((
        &t.id,
        event.seq as i64,
        popug_ledger::line::format_at(&event.at),
        &t.account_id,
        &t.counter_account_id,
        t.kind.as_str(),
        &t.reason,
        t.amount,
        delta,
        &t.task_id,
        &t.billing_date,
        u.balance_after,
    ))?;
    Ok(delta)
}

/// Where the rows of the accounting events go: [`Live`] writes each change as it comes (the
/// commands' `apply`), [`AccountsReplay`] sums balances and day totals for a replay. One
/// reading of the events, [`project`], serves both.
trait Sink {
    fn account_created(&mut self, a: &AccountCreated) -> rusqlite::Result<()>;
    fn transaction(&mut self, event: &Event, u: &AccountBalanceUpdated) -> rusqlite::Result<()>;
}

fn project(event: &Event, sink: &mut impl Sink) -> Result<(), BoxError> {
    match decode(event)? {
        PopugEvent::AccountCreated(x) => sink.account_created(x)?,
        PopugEvent::AccountBalanceUpdated(x) => sink.transaction(event, x)?,
        _ => {}
    }
    Ok(())
}

/// Every change written to its row at once, with cached statements.
struct Live<'a>(&'a Connection);

impl Sink for Live<'_> {
    fn account_created(&mut self, a: &AccountCreated) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(INSERT_ACCOUNT)?
            .execute((&a.account_id, &a.user_id))?;
        Ok(())
    }

    fn transaction(&mut self, event: &Event, u: &AccountBalanceUpdated) -> rusqlite::Result<()> {
        let t = &u.transaction;
        let delta = insert_transaction(&mut *self.0.prepare_cached(INSERT_TRANSACTION)?, event, u)?;
        self.0
            .prepare_cached("UPDATE accounts SET balance = balance + ?2 WHERE account_id = ?1")?
            .execute((&t.account_id, delta))?;
        self.0
            .prepare_cached("UPDATE accounts SET balance = balance - ?2 WHERE account_id = ?1")?
            .execute((&t.counter_account_id, delta))?;
        Ok(())
    }
}

/// The replay's fold: balances are summed in memory (two updates per transaction
/// otherwise) and written once at the end; rows that only grow (accounts, transactions) are
/// inserted as they come.
struct AccountsReplay<'db> {
    insert_account: Statement<'db>,
    insert_transaction: Statement<'db>,
    tasks: TaskCopyFold<'db>,
    /// Every account created so far and its balance; `apply` updates only existing rows.
    balances: HashMap<String, i64>,
}

impl Sink for AccountsReplay<'_> {
    fn account_created(&mut self, a: &AccountCreated) -> rusqlite::Result<()> {
        self.insert_account.execute((&a.account_id, &a.user_id))?;
        self.balances.insert(a.account_id.clone().into(), 0);
        Ok(())
    }

    fn transaction(&mut self, event: &Event, u: &AccountBalanceUpdated) -> rusqlite::Result<()> {
        let t = &u.transaction;
        let delta = insert_transaction(&mut self.insert_transaction, event, u)?;
        if let Some(b) = self.balances.get_mut(t.account_id.as_str()) {
            *b += delta;
        }
        if let Some(b) = self.balances.get_mut(t.counter_account_id.as_str()) {
            *b -= delta;
        }
        Ok(())
    }
}

impl Replay for AccountsReplay<'_> {
    fn apply(&mut self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            PopugEvent::AccountCreated(_) | PopugEvent::AccountBalanceUpdated(_) => project(event, self),
            _ if self.tasks.apply(db, event)? => Ok(()),
            _ => copies(db, event),
        }
    }

    fn finish(self: Box<Self>, db: &Connection) -> Result<(), BoxError> {
        let mut set = db.prepare("UPDATE accounts SET balance = ?2 WHERE account_id = ?1")?;
        for (account, balance) in &self.balances {
            if *balance != 0 {
                set.execute((account, balance))?;
            }
        }
        Ok(())
    }
}
