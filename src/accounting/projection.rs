//! `accounts`, `transactions`, `payment_days`: balances, the audit trail and the days paid.
//! The company account takes the opposite of every transaction, so all balances sum to zero.

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

use crate::events::{AccountBalanceUpdated, AccountCreated, MakeDailyPaymentsCommand, Payload};

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
        let at = || popug_ledger::line::format_at(&event.at);
        match event.event_type.as_str() {
            AccountCreated::TYPE => {
                let a: AccountCreated = event.data_as()?;
                db.prepare_cached("INSERT INTO accounts (account_id, user_id, balance) VALUES (?1, ?2, 0)")?
                    .execute((&a.account_id, &a.user_id))?;
            }
            AccountBalanceUpdated::TYPE => {
                let u: AccountBalanceUpdated = event.data_as()?;
                let t = &u.transaction;
                let delta = t.kind.delta(t.amount);
                db.prepare_cached(
                    "INSERT INTO transactions (transaction_id, seq, at, account_id, counter_account_id, kind, reason,
                         amount, delta, task_id, billing_date, balance_after)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?
                .execute((
                    &t.id,
                    event.seq as i64,
                    at(),
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
                // management earnings per billing day, so that reports do not sum the history
                let (fees, rewards) = match t.reason.as_str() {
                    "assign_fee" | "reassign_fee" => (t.amount, 0),
                    "reward" => (0, t.amount),
                    _ => (0, 0),
                };
                if fees != 0 || rewards != 0 {
                    db.prepare_cached(
                        "INSERT INTO earnings_days (date, fees, rewards) VALUES (?1, ?2, ?3)
                         ON CONFLICT (date) DO UPDATE SET fees = fees + excluded.fees, rewards = rewards + excluded.rewards",
                    )?
                    .execute((&t.billing_date, fees, rewards))?;
                }
                db.prepare_cached("UPDATE accounts SET balance = balance + ?2 WHERE account_id = ?1")?
                    .execute((&t.account_id, delta))?;
                db.prepare_cached("UPDATE accounts SET balance = balance - ?2 WHERE account_id = ?1")?
                    .execute((&t.counter_account_id, delta))?;
            }
            MakeDailyPaymentsCommand::TYPE => {
                let c: MakeDailyPaymentsCommand = event.data_as()?;
                db.prepare_cached("INSERT INTO payment_days (date, seq, at) VALUES (?1, ?2, ?3)")?
                    .execute((&c.date, event.seq as i64, at()))?;
            }
            _ => {}
        }
        Ok(())
    }
}
