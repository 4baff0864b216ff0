//! `accounts`, `transactions`, `payment_days`: balances, the audit trail and the days paid.
//! The company account takes the opposite of every transaction, so all balances sum to zero.

use std::collections::{BTreeMap, HashMap};

use popug_ledger::{BoxError, Event, Projection, Replay};
use rusqlite::{Connection, Statement};

use crate::events::{AccountBalanceUpdated, AccountCreated, MakeDailyPaymentsCommand, Payload, Transaction};

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
             CREATE TABLE payment_days (date TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL) STRICT;
             CREATE TABLE earnings_days (date TEXT PRIMARY KEY, fees INTEGER NOT NULL, rewards INTEGER NOT NULL)
                 STRICT, WITHOUT ROWID;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        project(event, &mut Live(db))
    }

    fn replay<'db>(&self, db: &'db Connection) -> rusqlite::Result<Option<Box<dyn Replay + 'db>>> {
        Ok(Some(Box::new(AccountsReplay {
            insert_account: db.prepare(INSERT_ACCOUNT)?,
            insert_transaction: db.prepare(INSERT_TRANSACTION)?,
            insert_payment_day: db.prepare(INSERT_PAYMENT_DAY)?,
            balances: HashMap::new(),
            earnings: BTreeMap::new(),
        })))
    }
}

const INSERT_ACCOUNT: &str = "INSERT INTO accounts (account_id, user_id, balance) VALUES (?1, ?2, 0)";
const INSERT_TRANSACTION: &str =
    "INSERT INTO transactions (transaction_id, seq, at, account_id, counter_account_id,
         kind, reason, amount, delta, task_id, billing_date, balance_after)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
const ADD_EARNINGS: &str = "INSERT INTO earnings_days (date, fees, rewards) VALUES (?1, ?2, ?3)
     ON CONFLICT (date) DO UPDATE SET fees = fees + excluded.fees, rewards = rewards + excluded.rewards";
/// A day is paid from its first payment run on; later runs for the same day (a morning
/// catch-up, then the evening run) keep the first row.
const INSERT_PAYMENT_DAY: &str =
    "INSERT INTO payment_days (date, seq, at) VALUES (?1, ?2, ?3) ON CONFLICT (date) DO NOTHING";

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

fn insert_payment_day(
    stmt: &mut Statement<'_>,
    event: &Event,
    c: &MakeDailyPaymentsCommand,
) -> rusqlite::Result<()> {
    stmt.execute((
        &c.date,
        event.seq as i64,
        popug_ledger::line::format_at(&event.at),
    ))?;
    Ok(())
}

/// What a transaction adds to the management's earnings of its day, (fees, rewards); `None`
/// for a transaction that is neither (a payout, a reversal).
fn earnings(t: &Transaction) -> Option<(i64, i64)> {
    match t.reason.as_str() {
        "assign_fee" | "reassign_fee" => Some((t.amount, 0)),
        "reward" => Some((0, t.amount)),
        _ => None,
    }
}

/// Where the rows of the accounting events go: [`Live`] writes each change as it comes (the
/// commands' `apply`), [`AccountsReplay`] sums balances and day totals for a replay. One
/// reading of the events, [`project`], serves both.
trait Sink {
    fn account_created(&mut self, a: AccountCreated) -> rusqlite::Result<()>;
    fn transaction(&mut self, event: &Event, u: &AccountBalanceUpdated) -> rusqlite::Result<()>;
    fn day_paid(&mut self, event: &Event, c: &MakeDailyPaymentsCommand) -> rusqlite::Result<()>;
}

fn project(event: &Event, sink: &mut impl Sink) -> Result<(), BoxError> {
    match event.event_type.as_str() {
        AccountCreated::TYPE => sink.account_created(event.data_as()?)?,
        AccountBalanceUpdated::TYPE => sink.transaction(event, &event.data_as()?)?,
        MakeDailyPaymentsCommand::TYPE => sink.day_paid(event, &event.data_as()?)?,
        _ => {}
    }
    Ok(())
}

/// Every change written to its row at once, with cached statements.
struct Live<'a>(&'a Connection);

impl Sink for Live<'_> {
    fn account_created(&mut self, a: AccountCreated) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(INSERT_ACCOUNT)?
            .execute((&a.account_id, &a.user_id))?;
        Ok(())
    }

    fn transaction(&mut self, event: &Event, u: &AccountBalanceUpdated) -> rusqlite::Result<()> {
        let t = &u.transaction;
        let delta = insert_transaction(&mut *self.0.prepare_cached(INSERT_TRANSACTION)?, event, u)?;
        // management earnings per billing day, so that reports do not sum the history
        if let Some((fees, rewards)) = earnings(t) {
            self.0
                .prepare_cached(ADD_EARNINGS)?
                .execute((&t.billing_date, fees, rewards))?;
        }
        self.0
            .prepare_cached("UPDATE accounts SET balance = balance + ?2 WHERE account_id = ?1")?
            .execute((&t.account_id, delta))?;
        self.0
            .prepare_cached("UPDATE accounts SET balance = balance - ?2 WHERE account_id = ?1")?
            .execute((&t.counter_account_id, delta))?;
        Ok(())
    }

    fn day_paid(&mut self, event: &Event, c: &MakeDailyPaymentsCommand) -> rusqlite::Result<()> {
        insert_payment_day(&mut *self.0.prepare_cached(INSERT_PAYMENT_DAY)?, event, c)
    }
}

/// The replay's fold: balances and day totals are summed in memory (two updates and an
/// upsert per transaction otherwise) and written once at the end; rows that only grow
/// (accounts, transactions, days paid) are inserted as they come.
struct AccountsReplay<'db> {
    insert_account: Statement<'db>,
    insert_transaction: Statement<'db>,
    insert_payment_day: Statement<'db>,
    /// Every account created so far and its balance; `apply` updates only existing rows.
    balances: HashMap<String, i64>,
    earnings: BTreeMap<String, (i64, i64)>,
}

impl Sink for AccountsReplay<'_> {
    fn account_created(&mut self, a: AccountCreated) -> rusqlite::Result<()> {
        self.insert_account.execute((&a.account_id, &a.user_id))?;
        self.balances.insert(a.account_id, 0);
        Ok(())
    }

    fn transaction(&mut self, event: &Event, u: &AccountBalanceUpdated) -> rusqlite::Result<()> {
        let t = &u.transaction;
        let delta = insert_transaction(&mut self.insert_transaction, event, u)?;
        if let Some((fees, rewards)) = earnings(t) {
            let day = self.earnings.entry(t.billing_date.clone()).or_default();
            day.0 += fees;
            day.1 += rewards;
        }
        if let Some(b) = self.balances.get_mut(&t.account_id) {
            *b += delta;
        }
        if let Some(b) = self.balances.get_mut(&t.counter_account_id) {
            *b -= delta;
        }
        Ok(())
    }

    fn day_paid(&mut self, event: &Event, c: &MakeDailyPaymentsCommand) -> rusqlite::Result<()> {
        insert_payment_day(&mut self.insert_payment_day, event, c)
    }
}

impl Replay for AccountsReplay<'_> {
    fn apply(&mut self, _db: &Connection, event: &Event) -> Result<(), BoxError> {
        project(event, self)
    }

    fn finish(self: Box<Self>, db: &Connection) -> Result<(), BoxError> {
        let mut set = db.prepare("UPDATE accounts SET balance = ?2 WHERE account_id = ?1")?;
        for (account, balance) in &self.balances {
            if *balance != 0 {
                set.execute((account, balance))?;
            }
        }
        let mut add = db.prepare(ADD_EARNINGS)?;
        for (date, (fees, rewards)) in &self.earnings {
            add.execute((date, fees, rewards))?;
        }
        Ok(())
    }
}
