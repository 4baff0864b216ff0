//! The accounting context: one account per user and one for the company; every balance
//! change is a transaction with its counter-entry on the company account. Its reactor turns
//! tasks and payment runs into transactions.

pub mod projection;

/// This context's store: `views/accounting.db` (accounts, transactions, and its copies of
/// the tasks it bills, the account holders and the calendar), written only by its projection.
pub const STORE: &str = "accounting";
/// The version of this store's tables: bump it when they change, and this store alone is
/// rebuilt from the log on open.
pub const STORE_VERSION: u32 = 2;

use crate::events::{PopugEvent, decode};
use popug_ledger::{BoxError, Context, Event, NewEvent, Reactor};
use rusqlite::{Connection, OptionalExtension};

use crate::events::{
    AccountBalanceUpdated, AccountCreated, Payload, SentPaymentCommand, TaskStatus, Transaction, TxKind,
};
use crate::money::Money;
use crate::zone::day_of;

#[derive(Default)]
pub struct Accounting {
    /// The company's account and the ledger's timezone: both are set once, when the ledger
    /// is initialized, and never change, so they are read once per process.
    fixed: std::cell::OnceCell<(String, String)>,
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

/// One account's balance, by its holder's login (`balance`, `balance --all`), in cents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    pub login: String,
    pub balance_cents: i64,
}

/// Every user's balance, by login (this context's copy of the logins).
pub fn balances(db: &Connection) -> rusqlite::Result<Vec<Balance>> {
    db.prepare_cached(
        "SELECT u.login, a.balance FROM accounts a JOIN holders u ON u.user_id = a.user_id ORDER BY u.login",
    )?
    .query_map([], |r| {
        Ok(Balance {
            login: r.get(0)?,
            balance_cents: r.get(1)?,
        })
    })?
    .collect()
}

/// One line of an account's audit log: a transaction with its effect and the balance after
/// it, and the task it is for (number and title, as the original audit log shows them).
/// Money in cents; `billing_date` is the day in the ledger's timezone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub transaction_id: String,
    pub at: String,
    pub billing_date: String,
    pub kind: String,
    pub reason: String,
    /// The signed change of the account: negative for a fee or a payout.
    pub amount_cents: i64,
    pub balance_cents: i64,
    pub task_id: Option<String>,
    pub task_number: Option<i64>,
    pub task_title: Option<String>,
}

/// The transactions of `account_id` billed between `from` and `to` (inclusive; open when
/// `None`), in the order they happened.
pub fn audit_log(
    db: &Connection,
    account_id: Option<&str>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> rusqlite::Result<Vec<AuditEntry>> {
    db.prepare_cached(
        "SELECT t.transaction_id, t.at, t.billing_date, t.kind, t.reason, t.delta, t.balance_after, t.task_id,
                k.number, k.title
         FROM transactions t LEFT JOIN billed_tasks k ON k.task_id = t.task_id
         WHERE t.account_id = ?1 AND (?2 IS NULL OR t.billing_date >= ?2) AND (?3 IS NULL OR t.billing_date <= ?3)
         ORDER BY t.seq",
    )?
    .query_map(
        (account_id, from.map(|d| d.to_string()), to.map(|d| d.to_string())),
        |r| {
            Ok(AuditEntry {
                transaction_id: r.get(0)?,
                at: r.get(1)?,
                billing_date: r.get(2)?,
                kind: r.get(3)?,
                reason: r.get(4)?,
                amount_cents: r.get(5)?,
                balance_cents: r.get(6)?,
                task_id: r.get(7)?,
                task_number: r.get(8)?,
                task_title: r.get(9)?,
            })
        },
    )?
    .collect()
}

/// One balance change to decide: whose, which way, why, how much.
struct Posting<'a> {
    user_id: &'a str,
    kind: TxKind,
    reason: &'a str,
    amount: Money,
    task_id: Option<&'a str>,
    /// Defaults to the day of the decision in the ledger's timezone.
    billing_date: Option<String>,
}

impl Accounting {
    /// The company's account and the ledger's timezone, once the ledger is initialized.
    fn fixed(&self, db: &Connection) -> Result<&(String, String), BoxError> {
        if let Some(f) = self.fixed.get() {
            return Ok(f);
        }
        let company = company_account(db)?.ok_or("the company has no account")?;
        let tz = projection::CALENDAR.timezone(db)?;
        Ok(self.fixed.get_or_init(|| (company, tz)))
    }

    fn transaction(
        &self,
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
        let (counter_account_id, tz) = self.fixed(db)?;
        let billing_date = match billing_date {
            Some(d) => d,
            None => day_of(&ctx.now, tz).to_string(),
        };
        let balance_after = balance
            .checked_add(kind.delta(amount))
            .ok_or("balance overflow")?;
        Ok(AccountBalanceUpdated {
            transaction: Transaction {
                id: ctx.new_id().to_string(),
                account_id: account_id.into(),
                counter_account_id: counter_account_id.clone().into(),
                kind,
                reason: reason.to_owned(),
                amount,
                task_id: task_id.map(str::to_owned).map(Into::into),
                billing_date,
            },
            balance_after: Money(balance_after),
        })
    }
}

const ACTOR: &str = "system";

impl Reactor for Accounting {
    fn name(&self) -> &str {
        "accounting"
    }

    /// Handed to `popug worker` (`popug hand-over`), as this context's store records.
    fn handed_over(&self, db: &Connection) -> Result<bool, BoxError> {
        crate::handover::is_handed_over(db, STORE)
    }

    fn react(
        &self,
        db: &Connection,
        event: &Event,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<NewEvent>, BoxError> {
        Ok(match decode(event)? {
            PopugEvent::LedgerInitialized(_) => {
                vec![
                    AccountCreated {
                        account_id: ctx.new_id().to_string().into(),
                        user_id: None,
                    }
                    .to_event(ACTOR),
                ]
            }
            PopugEvent::UserCreated(u) => {
                vec![
                    AccountCreated {
                        account_id: ctx.new_id().to_string().into(),
                        user_id: Some(u.user_id.clone()),
                    }
                    .to_event(ACTOR),
                ]
            }
            PopugEvent::TaskCreated(t) => {
                let tx = self.transaction(
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
            PopugEvent::TaskReassigned(r) => {
                let fee: Money = db
                    .prepare_cached("SELECT assign_fee FROM billed_tasks WHERE task_id = ?1")?
                    .query_row([&r.task_id], |x| x.get(0))?;
                let tx = self.transaction(
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
            PopugEvent::TaskStatusChanged(s) => {
                if s.to != TaskStatus::Done {
                    return Ok(vec![]);
                }
                let (assignee, reward): (String, Money) = db
                    .prepare_cached("SELECT assignee_id, reward FROM billed_tasks WHERE task_id = ?1")?
                    .query_row([&s.task_id], |x| Ok((x.get(0)?, x.get(1)?)))?;
                let tx = self.transaction(
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
            PopugEvent::MakeDailyPaymentsCommand(cmd) => {
                // what each account held at the end of the day: its balance less what was
                // billed on later days (one pass over the later transactions, not one sum
                // per account)
                let accounts: Vec<(String, i64)> = db
                    .prepare_cached(
                        "SELECT a.user_id, a.balance - COALESCE(later.total, 0)
                         FROM accounts a JOIN holders u ON u.user_id = a.user_id
                         LEFT JOIN (SELECT account_id, SUM(delta) AS total FROM transactions
                                    INDEXED BY transactions_day
                                    WHERE billing_date > ?1 GROUP BY account_id) later
                                ON later.account_id = a.account_id
                         ORDER BY u.login",
                    )?
                    .query_map([&cmd.date], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut out = Vec::new();
                for (user_id, due) in accounts {
                    if due <= 0 {
                        continue;
                    }
                    let posting = Posting {
                        user_id: &user_id,
                        kind: TxKind::Payment,
                        reason: "daily_payment",
                        amount: Money(due),
                        task_id: None,
                        billing_date: Some(cmd.date.clone()),
                    };
                    let tx = self.transaction(db, ctx, posting)?;
                    let payment_id = ctx.new_id().to_string();
                    out.push(tx.to_event(ACTOR));
                    out.push(
                        SentPaymentCommand {
                            payment_id: payment_id.into(),
                            user_id: user_id.into(),
                            amount: Money(due),
                            date: cmd.date.clone(),
                        }
                        .to_event(ACTOR),
                    );
                }
                out
            }
            PopugEvent::PaymentSendingFailed(f) => {
                let tx = self.transaction(
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

#[cfg(test)]
mod rules {
    use super::*;
    use crate::events::*;
    use crate::events::{Role, TaskReassigned, TaskStatus, TaskStatusChanged};
    use crate::testkit::{Given, payload};

    fn created(assignee: &str, fee: i64, reward: i64) -> TaskCreated {
        TaskCreated {
            task_id: format!("task-{assignee}-{fee}").into(),
            title: "T".into(),
            jira_id: None,
            description: None,
            assignee_id: format!("id-{assignee}").into(),
            assign_fee: Money(fee),
            reward: Money(reward),
        }
    }

    fn balance(g: &Given, login: &str) -> i64 {
        account_of(g.store(STORE), &format!("id-{login}"))
            .unwrap()
            .unwrap()
            .1
    }

    #[test]
    fn given_a_user_when_created_then_accounting_opens_an_account() {
        let mut g = Given::new();
        let out = g.when(
            &Accounting::default(),
            &UserCreated {
                user_id: "u".into(),
                login: "u".into(),
                name: None,
                email: None,
                role: Role::Worker,
                password_hash: "x".into(),
                notify: crate::events::Notify::None,
            },
        );
        assert_eq!(out.len(), 1);
        let a: AccountCreated = payload(&out[0]);
        assert_eq!(a.user_id.as_deref(), Some("u"));
    }

    #[test]
    fn given_a_worker_when_a_task_is_assigned_then_the_fee_is_debited_against_the_company() {
        let mut g = Given::new().user("w1", Role::Worker);
        let out = g.when(&Accounting::default(), &created("w1", 1500, 3000));
        assert_eq!(out.len(), 1);
        let u: AccountBalanceUpdated = payload(&out[0]);
        assert_eq!(u.transaction.kind, TxKind::Debit);
        assert_eq!(u.transaction.amount.0, 1500);
        assert_eq!(u.transaction.reason, "assign_fee");
        assert_eq!(u.transaction.account_id, "acct-w1");
        assert_eq!(u.transaction.counter_account_id, "company");
        assert_eq!(u.transaction.billing_date, "2026-11-27");
        assert_eq!(u.balance_after.0, -1500);
        g.then_apply(out);
        assert_eq!(balance(&g, "w1"), -1500);
        let company: i64 = g
            .store(STORE)
            .query_row("SELECT balance FROM accounts WHERE user_id IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(company, 1500);
    }

    #[test]
    fn given_an_assigned_task_when_done_then_the_reward_is_credited_once() {
        let mut g = Given::new().user("w1", Role::Worker);
        let t = created("w1", 1500, 3000);
        let out = g.when(&Accounting::default(), &t);
        g.then_apply(out);
        let out = g.when(
            &Accounting::default(),
            &TaskStatusChanged {
                task_id: t.task_id.clone(),
                from: TaskStatus::Open,
                to: TaskStatus::Done,
            },
        );
        let u: AccountBalanceUpdated = payload(&out[0]);
        assert_eq!(
            (u.transaction.kind, u.transaction.amount.0, u.balance_after.0),
            (TxKind::Credit, 3000, 1500)
        );
    }

    #[test]
    fn given_a_task_when_reassigned_then_the_new_assignee_pays_the_same_fee_again() {
        let mut g = Given::new().user("w1", Role::Worker).user("w2", Role::Worker);
        let t = created("w1", 1200, 3000);
        let out = g.when(&Accounting::default(), &t);
        g.then_apply(out);
        let out = g.when(
            &Accounting::default(),
            &TaskReassigned {
                task_id: t.task_id.clone(),
                assign_from: "id-w1".into(),
                assign_to: "id-w2".into(),
                shuffle_id: "s".into(),
            },
        );
        let u: AccountBalanceUpdated = payload(&out[0]);
        assert_eq!(
            (
                u.transaction.account_id.as_str(),
                u.transaction.amount.0,
                u.transaction.reason.as_str()
            ),
            ("acct-w2", 1200, "reassign_fee")
        );
        g.then_apply(out);
        assert_eq!((balance(&g, "w1"), balance(&g, "w2")), (-1200, -1200));
    }

    #[test]
    fn given_balances_when_the_day_is_paid_then_only_positive_balances_up_to_that_day_are_paid_and_zeroed() {
        let mut g = Given::new()
            .user("w1", Role::Worker)
            .user("w2", Role::Worker)
            .user("w3", Role::Worker);
        // w1 earns 3000 - 1500 on the 27th; w2 is negative; w3 earns only on the 28th
        for (w, fee, reward) in [("w1", 1500, 3000), ("w2", 2000, 2500)] {
            let t = created(w, fee, reward);
            let out = g.when(&Accounting::default(), &t);
            g.then_apply(out);
            if w == "w1" {
                let out = g.when(
                    &Accounting::default(),
                    &TaskStatusChanged {
                        task_id: t.task_id,
                        from: TaskStatus::Open,
                        to: TaskStatus::Done,
                    },
                );
                g.then_apply(out);
            }
        }
        g.now = "2026-11-28T10:00:00Z".parse().unwrap();
        let t = created("w3", 1000, 4000);
        let out = g.when(&Accounting::default(), &t);
        g.then_apply(out);
        let out = g.when(
            &Accounting::default(),
            &TaskStatusChanged {
                task_id: t.task_id,
                from: TaskStatus::Open,
                to: TaskStatus::Done,
            },
        );
        g.then_apply(out);

        let out = g.when(
            &Accounting::default(),
            &MakeDailyPaymentsCommand {
                date: "2026-11-27".into(),
            },
        );
        assert_eq!(out.len(), 2, "one payment and its command");
        let u: AccountBalanceUpdated = payload(&out[0]);
        assert_eq!(
            (u.transaction.kind, u.transaction.amount.0, u.balance_after.0),
            (TxKind::Payment, 1500, 0)
        );
        assert_eq!(u.transaction.billing_date, "2026-11-27");
        let s: SentPaymentCommand = payload(&out[1]);
        assert_eq!(
            (s.user_id.as_str(), s.amount.0, s.date.as_str()),
            ("id-w1", 1500, "2026-11-27")
        );
        g.then_apply(out);
        assert_eq!(
            (balance(&g, "w1"), balance(&g, "w2"), balance(&g, "w3")),
            (0, -2000, 3000)
        );
    }

    #[test]
    fn given_a_failed_payout_then_the_zeroing_is_reversed() {
        let mut g = Given::new().user("w1", Role::Worker);
        let out = g.when(
            &Accounting::default(),
            &PaymentSendingFailed {
                payment_id: "p".into(),
                user_id: "id-w1".into(),
                amount: Money(700),
                reason: "down".into(),
            },
        );
        let u: AccountBalanceUpdated = payload(&out[0]);
        assert_eq!(
            (
                u.transaction.kind,
                u.transaction.amount.0,
                u.transaction.reason.as_str()
            ),
            (TxKind::Credit, 700, "payment_failed")
        );
    }
}
