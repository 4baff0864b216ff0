//! `balance`, `audit` and `pay-daily`.

use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use crate::accounting;
use crate::app::Env;
use crate::auth::{self, Actor, db_error};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{Payload, PopugEvent, Role};
use crate::money::{Money, day_of};

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// Whose balance (admins and accountants may ask for anyone's)
    pub login: Option<String>,
    /// Every user's balance
    #[arg(long, conflicts_with = "login")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    pub login: Option<String>,
    /// First billing date to show (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Last billing date to show (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct PayDailyArgs {
    /// The day to pay (default: today in the ledger's timezone)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<NaiveDate>,
}

pub fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    if let Some(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 10)
    {
        return Ok(d);
    }
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    Err(if shaped {
        format!("`{s}` is not a date: that day does not exist in the calendar")
    } else {
        format!("`{}` is not a date: use YYYY-MM-DD", s)
    })
}

/// Resolves whose account a command is about: yourself, or anyone for `roles`.
fn subject(
    db: &rusqlite::Connection,
    actor: &Actor,
    login: Option<String>,
    what: &str,
) -> Result<auth::User> {
    let Some(login) = login else {
        return Ok(actor.user.clone());
    };
    session::require_self_or(actor, &login, &[Role::Admin, Role::Accountant], what)?;
    auth::user_by_login(db, &login).map_err(db_error)?.ok_or_else(|| {
        AppError::new(Kind::NotFound, "no_user", format!("there is no user `{}`", login))
            .hint("`popug user list` shows every user")
    })
}

pub fn balance(env: &Env, out: &mut Out, args: BalanceArgs) -> Result<()> {
    let ledger = env.open()?;
    let snap = crate::read::Snapshot::of(&ledger)?;
    let db = snap.db();
    let actor = session::actor(env, db)?;
    if args.all {
        actor.require(&[Role::Admin, Role::Accountant], "everyone's balance")?;
        let rows: Vec<(String, i64)> = db
            .prepare("SELECT u.login, a.balance FROM accounts a JOIN users u ON u.user_id = a.user_id ORDER BY u.login")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db_error)?;
        if out.is_json() {
            return out.json(
                &rows
                    .iter()
                    .map(|(l, b)| json!({"login": l, "balance_cents": b}))
                    .collect::<Vec<_>>(),
            );
        }
        return out.table(
            &["login", "balance"],
            rows.into_iter()
                .map(|(l, b)| vec![l, Money(b).to_string()])
                .collect(),
        );
    }
    let user = subject(db, &actor, args.login, "another user's balance")?;
    let (_, balance) = accounting::account_of(db, &user.user_id)
        .map_err(db_error)?
        .ok_or_else(|| {
            AppError::new(
                Kind::NotFound,
                "no_account",
                format!("`{}` has no account yet", user.login),
            )
        })?;
    if out.is_document() {
        return out.json(&json!({"login": user.login, "balance_cents": balance}));
    }
    out.line(&format!("{}: {}", user.login, Money(balance)))
}

pub fn audit(env: &Env, out: &mut Out, args: AuditArgs) -> Result<()> {
    if let (Some(f), Some(t)) = (args.from, args.to)
        && f > t
    {
        return Err(AppError::usage(format!("--from {f} is after --to {t}")));
    }
    let ledger = env.open()?;
    let snap = crate::read::Snapshot::of(&ledger)?;
    let db = snap.db();
    let actor = session::actor(env, db)?;
    let user = subject(db, &actor, args.login, "another user's audit log")?;
    let account = accounting::account_of(db, &user.user_id)
        .map_err(db_error)?
        .map(|a| a.0);
    struct Row {
        id: String,
        at: String,
        day: String,
        kind: String,
        reason: String,
        amount: i64,
        balance: i64,
        task_id: Option<String>,
        /// The task's number and title, as the original audit log shows them beside each
        /// fee and reward.
        task_number: Option<i64>,
        task_title: Option<String>,
    }
    let rows: Vec<Row> = db
        .prepare(
            "SELECT t.transaction_id, t.at, t.billing_date, t.kind, t.reason, t.delta, t.balance_after, t.task_id,
                    k.number, k.title
             FROM transactions t LEFT JOIN tasks k ON k.task_id = t.task_id
             WHERE t.account_id = ?1 AND (?2 IS NULL OR t.billing_date >= ?2) AND (?3 IS NULL OR t.billing_date <= ?3)
             ORDER BY t.seq",
        )
        .and_then(|mut s| {
            s.query_map(
                (&account, args.from.map(|d| d.to_string()), args.to.map(|d| d.to_string())),
                |r| {
                    Ok(Row {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        day: r.get(2)?,
                        kind: r.get(3)?,
                        reason: r.get(4)?,
                        amount: r.get(5)?,
                        balance: r.get(6)?,
                        task_id: r.get(7)?,
                        task_number: r.get(8)?,
                        task_title: r.get(9)?,
                    })
                },
            )?
            .collect()
        })
        .map_err(db_error)?;
    if out.is_json() {
        let docs: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({"transaction_id": r.id, "at": r.at, "billing_date": r.day, "kind": r.kind, "reason": r.reason,
                       "amount_cents": r.amount, "balance_cents": r.balance, "task_id": r.task_id,
                       "task_number": r.task_number, "task_title": r.task_title})
            })
            .collect();
        return out.json(&docs);
    }
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.day.clone(),
                r.at.clone(),
                r.kind.clone(),
                r.reason.clone(),
                r.task_number.map(|n| format!("#{n}")).unwrap_or_default(),
                r.task_title.clone().unwrap_or_default(),
                Money(r.amount).to_string(),
                Money(r.balance).to_string(),
            ]
        })
        .collect();
    out.line(&format!("Audit log of {}", user.login))?;
    out.table(
        &[
            "day", "at", "kind", "reason", "task", "title", "amount", "balance",
        ],
        table,
    )
}

pub fn pay_daily(env: &Env, out: &mut Out, args: PayDailyArgs) -> Result<()> {
    let mut ledger = env.open()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    actor.require(&[Role::Admin, Role::Accountant], "paying out")?;
    let tz = crate::scheduler::timezone(w.store(crate::scheduler::STORE)).map_err(db_error)?;
    let today = day_of(&w.now(), &tz);
    let date = args.date.unwrap_or(today);
    let zone = crate::scheduler::zone(w.store(crate::scheduler::STORE)).map_err(db_error)?;
    let last_paid = crate::scheduler::last_paid_day(w.store(crate::scheduler::STORE))
        .map_err(db_error)?
        .map(|d| {
            d.parse::<NaiveDate>().map_err(|_| {
                AppError::new(
                    Kind::Failure,
                    "internal",
                    format!("a paid day `{d}` is not a date"),
                )
            })
        })
        .transpose()?;
    let first_day = crate::scheduler::first_day(w.store(crate::scheduler::STORE), &zone).map_err(db_error)?;
    let runs = crate::scheduler::decide_pay_daily(last_paid, first_day, date, today)?;
    let start = w.appended().len();
    if !runs.is_empty() {
        // the whole catch-up is one decision: one atomic batch, every day or none
        w.append(runs.iter().map(|r| r.to_event(&actor.user.user_id)).collect())?;
    }
    struct Paid {
        payment_id: String,
        user_id: String,
        amount: i64,
        date: String,
        status: &'static str,
    }
    let mut payments: Vec<Paid> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in &w.appended()[start..] {
        match crate::events::decode(e).map_err(internal)? {
            PopugEvent::SentPaymentCommand(c) => {
                index.insert(c.payment_id.clone(), payments.len());
                payments.push(Paid {
                    payment_id: c.payment_id.clone(),
                    user_id: c.user_id.clone(),
                    amount: c.amount,
                    date: c.date.clone(),
                    status: "sent",
                });
            }
            PopugEvent::PaymentSendingConfirmed(c) => {
                if let Some(&i) = index.get(&c.payment_id) {
                    payments[i].status = "confirmed";
                }
            }
            PopugEvent::PaymentSendingFailed(f) => {
                if let Some(&i) = index.get(&f.payment_id) {
                    payments[i].status = "failed";
                }
            }
            _ => {}
        }
    }
    let already_paid = payments.is_empty();
    let login = |id: &str| {
        auth::user_by_id(w.store(crate::auth::STORE), id)
            .ok()
            .flatten()
            .map(|u| u.login)
            .unwrap_or_default()
    };
    let total: i64 = payments
        .iter()
        .filter(|p| p.status != "failed")
        .map(|p| p.amount)
        .sum();
    let failed = payments.iter().filter(|p| p.status == "failed").count();
    if out.is_document() {
        let docs: Vec<_> = payments
            .iter()
            .map(|p| {
                json!({"login": login(&p.user_id), "amount_cents": p.amount, "payment_id": p.payment_id,
                            "status": p.status, "date": p.date})
            })
            .collect();
        let days: Vec<&str> = runs.iter().map(|r| r.date.as_str()).collect();
        out.json(
            &json!({"date": date.to_string(), "already_paid": already_paid, "total_cents": total,
                         "payments": docs, "days": days}),
        )?;
    } else if already_paid {
        out.line(&format!("nothing is owed for {date} or before; nothing paid"))?;
    } else {
        let days: std::collections::BTreeSet<&str> = payments.iter().map(|p| p.date.as_str()).collect();
        out.line(&format!(
            "Paid {} in {} payments for {}",
            Money(total),
            payments.len() - failed,
            days.into_iter().collect::<Vec<_>>().join(", ")
        ))?;
        let table = payments
            .iter()
            .map(|p| {
                vec![
                    p.date.clone(),
                    login(&p.user_id),
                    Money(p.amount).to_string(),
                    p.status.to_owned(),
                    p.payment_id.clone(),
                ]
            })
            .collect();
        out.table(&["day", "login", "amount", "status", "payment"], table)?;
    }
    session::print_notifications(out, w.store(crate::auth::STORE), w.appended())?;
    if failed > 0 {
        return Err(AppError::new(
            Kind::Failure,
            "payment_failed",
            format!("{failed} payments for {date} failed; their amounts stay on the balances"),
        )
        .hint("see `popug audit LOGIN`; they are paid with the next run"));
    }
    Ok(())
}

fn internal(e: serde_json::Error) -> AppError {
    AppError::new(Kind::Failure, "internal", "an event could not be read").source(e)
}
