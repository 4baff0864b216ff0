//! `popug audit [LOGIN] [--from] [--to]`: one account's transactions with the task they are
//! for (CLI.md).

use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use crate::accounting;
use crate::app::Env;
use crate::auth::db_error;
use crate::cli::balance::{parse_date, subject};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::{AppError, Result};
use crate::money::Money;

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
