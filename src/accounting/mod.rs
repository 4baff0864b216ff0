//! The accounting context: one account per user and one for the company; every balance
//! change is a transaction with its counter-entry on the company account. Its reactor turns
//! tasks and payment runs into transactions.

pub mod projection;

use popug_ledger::{BoxError, Context, Event, NewEvent, Reactor};
use rusqlite::{Connection, OptionalExtension};

use crate::events::{
    AccountBalanceUpdated, AccountCreated, LedgerInitialized, MakeDailyPaymentsCommand, Payload,
    PaymentSendingFailed, SentPaymentCommand, TaskCreated, TaskReassigned, TaskStatus, TaskStatusChanged,
    Transaction, TxKind, UserCreated,
};
use crate::money::day_of;

pub struct Accounting;

/// The ledger's timezone (UTC until `LedgerInitialized` is applied).
pub fn timezone(db: &Connection) -> rusqlite::Result<String> {
    Ok(db
        .query_row("SELECT timezone FROM settings WHERE id = 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| "UTC".to_owned()))
}

pub fn company_account(db: &Connection) -> rusqlite::Result<Option<String>> {
    db.prepare_cached("SELECT account_id FROM accounts WHERE user_id IS NULL")?
        .query_row([], |r| r.get(0))
        .optional()
}

pub fn account_of(db: &Connection, user_id: &str) -> rusqlite::Result<Option<(String, i64)>> {
    db.prepare_cached("SELECT account_id, balance FROM accounts WHERE user_id = ?1")?
        .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// The balance made of the account's transactions billed up to the end of `date`.
pub fn balance_at_end_of(db: &Connection, account_id: &str, date: &str) -> rusqlite::Result<i64> {
    db.prepare_cached(
        "SELECT COALESCE(SUM(delta), 0) FROM transactions WHERE account_id = ?1 AND billing_date <= ?2",
    )?
    .query_row((account_id, date), |r| r.get(0))
}

/// The last day that was paid, if any.
pub fn last_paid_day(db: &Connection) -> rusqlite::Result<Option<String>> {
    db.query_row("SELECT MAX(date) FROM payment_days", [], |r| r.get(0))
}

/// One balance change to decide: whose, which way, why, how much.
struct Posting<'a> {
    user_id: &'a str,
    kind: TxKind,
    reason: &'a str,
    amount: i64,
    task_id: Option<&'a str>,
    /// Defaults to the day of the decision in the ledger's timezone.
    billing_date: Option<String>,
}

impl Accounting {
    fn transaction(
        db: &Connection,
        ctx: &mut Context<'_>,
        p: Posting<'_>,
    ) -> Result<AccountBalanceUpdated, BoxError> {
        let Posting {
            user_id,
            kind,
            reason,
            amount,
            task_id,
            billing_date,
        } = p;
        let (account_id, balance) =
            account_of(db, user_id)?.ok_or_else(|| format!("user {user_id} has no account"))?;
        let counter_account_id = company_account(db)?.ok_or("the company has no account")?;
        let billing_date = match billing_date {
            Some(d) => d,
            None => day_of(&ctx.now, &timezone(db)?).to_string(),
        };
        let balance_after = balance
            .checked_add(kind.delta(amount))
            .ok_or("balance overflow")?;
        Ok(AccountBalanceUpdated {
            transaction: Transaction {
                id: ctx.new_id().to_string(),
                account_id,
                counter_account_id,
                kind,
                reason: reason.to_owned(),
                amount,
                task_id: task_id.map(str::to_owned),
                billing_date,
            },
            balance_after,
        })
    }
}

const ACTOR: &str = "system";

impl Reactor for Accounting {
    fn name(&self) -> &str {
        "accounting"
    }

    fn react(
        &self,
        db: &Connection,
        event: &Event,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<NewEvent>, BoxError> {
        Ok(match event.event_type.as_str() {
            LedgerInitialized::TYPE => {
                vec![
                    AccountCreated {
                        account_id: ctx.new_id().to_string(),
                        user_id: None,
                    }
                    .to_event(ACTOR),
                ]
            }
            UserCreated::TYPE => {
                let u: UserCreated = event.data_as()?;
                vec![
                    AccountCreated {
                        account_id: ctx.new_id().to_string(),
                        user_id: Some(u.user_id),
                    }
                    .to_event(ACTOR),
                ]
            }
            TaskCreated::TYPE => {
                let t: TaskCreated = event.data_as()?;
                let tx = Self::transaction(
                    db,
                    ctx,
                    Posting {
                        user_id: &t.assignee_id,
                        kind: TxKind::Debit,
                        reason: "assign_fee",
                        amount: t.assign_fee,
                        task_id: Some(&t.task_id),
                        billing_date: None,
                    },
                )?;
                vec![tx.to_event(ACTOR)]
            }
            TaskReassigned::TYPE => {
                let r: TaskReassigned = event.data_as()?;
                let fee: i64 = db.query_row(
                    "SELECT assign_fee FROM tasks WHERE task_id = ?1",
                    [&r.task_id],
                    |x| x.get(0),
                )?;
                let tx = Self::transaction(
                    db,
                    ctx,
                    Posting {
                        user_id: &r.assign_to,
                        kind: TxKind::Debit,
                        reason: "reassign_fee",
                        amount: fee,
                        task_id: Some(&r.task_id),
                        billing_date: None,
                    },
                )?;
                vec![tx.to_event(ACTOR)]
            }
            TaskStatusChanged::TYPE => {
                let s: TaskStatusChanged = event.data_as()?;
                if s.to != TaskStatus::Done {
                    return Ok(vec![]);
                }
                let (assignee, reward): (String, i64) = db.query_row(
                    "SELECT assignee_id, reward FROM tasks WHERE task_id = ?1",
                    [&s.task_id],
                    |x| Ok((x.get(0)?, x.get(1)?)),
                )?;
                let tx = Self::transaction(
                    db,
                    ctx,
                    Posting {
                        user_id: &assignee,
                        kind: TxKind::Credit,
                        reason: "reward",
                        amount: reward,
                        task_id: Some(&s.task_id),
                        billing_date: None,
                    },
                )?;
                vec![tx.to_event(ACTOR)]
            }
            MakeDailyPaymentsCommand::TYPE => {
                let cmd: MakeDailyPaymentsCommand = event.data_as()?;
                let accounts: Vec<(String, String)> = db
                    .prepare_cached(
                        "SELECT a.account_id, a.user_id FROM accounts a JOIN users u ON u.user_id = a.user_id
                         ORDER BY u.login",
                    )?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut out = Vec::new();
                for (account_id, user_id) in accounts {
                    let due = balance_at_end_of(db, &account_id, &cmd.date)?;
                    if due <= 0 {
                        continue;
                    }
                    let posting = Posting {
                        user_id: &user_id,
                        kind: TxKind::Payment,
                        reason: "daily_payment",
                        amount: due,
                        task_id: None,
                        billing_date: Some(cmd.date.clone()),
                    };
                    let tx = Self::transaction(db, ctx, posting)?;
                    let payment_id = ctx.new_id().to_string();
                    out.push(tx.to_event(ACTOR));
                    out.push(
                        SentPaymentCommand {
                            payment_id,
                            user_id,
                            amount: due,
                            date: cmd.date.clone(),
                        }
                        .to_event(ACTOR),
                    );
                }
                out
            }
            PaymentSendingFailed::TYPE => {
                let f: PaymentSendingFailed = event.data_as()?;
                let tx = Self::transaction(
                    db,
                    ctx,
                    Posting {
                        user_id: &f.user_id,
                        kind: TxKind::Credit,
                        reason: "payment_failed",
                        amount: f.amount,
                        task_id: None,
                        billing_date: None,
                    },
                )?;
                vec![tx.to_event(ACTOR)]
            }
            _ => vec![],
        })
    }
}
