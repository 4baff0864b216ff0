//! `popug pay-daily [--date D]`: the day's payment run, and the days a missed run left
//! (CLI.md, DESIGN §5).

use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::balance::parse_date;
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{Payload, PopugEvent, Role};
use crate::money::Money;

#[derive(Debug, Clone, Args)]
pub struct PayDailyArgs {
    /// The day to pay (default: today in the ledger's timezone)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<NaiveDate>,
}

pub fn pay_daily(env: &Env, out: &mut Out, args: PayDailyArgs) -> Result<()> {
    let mut ledger = env.open_to_write()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    actor.require(&[Role::Admin, Role::Accountant], "paying out")?;
    let zone = crate::scheduler::zone(w.store(crate::scheduler::STORE)).map_err(db_error)?;
    let today = zone.date_of(&w.now());
    let date = args.date.unwrap_or(today);
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
    let before = w.head()?;
    let mut caused = Vec::new();
    if !runs.is_empty() {
        // the whole catch-up is one decision: one atomic batch, every day or none
        let batch = w.append(runs.iter().map(|r| r.to_event(&actor.user.user_id)).collect())?;
        // the payments it caused, read from the log: on a JetStream ledger another host, or
        // a worker, may have made some of them
        let runs_of: std::collections::HashSet<_> = batch.iter().map(|e| e.correlation_id).collect();
        caused = w.read_from(before)?;
        caused.retain(|e| runs_of.contains(&e.correlation_id));
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
    for e in &caused {
        match crate::events::decode(e).map_err(internal)? {
            PopugEvent::SentPaymentCommand(c) => {
                index.insert(c.payment_id.clone().into(), payments.len());
                payments.push(Paid {
                    payment_id: c.payment_id.clone().into(),
                    user_id: c.user_id.clone().into(),
                    amount: c.amount.0,
                    date: c.date.clone(),
                    status: "sent",
                });
            }
            PopugEvent::PaymentSendingConfirmed(c) => {
                if let Some(&i) = index.get(c.payment_id.as_str()) {
                    payments[i].status = "confirmed";
                }
            }
            PopugEvent::PaymentSendingFailed(f) => {
                if let Some(&i) = index.get(f.payment_id.as_str()) {
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
    let docs: Vec<_> = payments
        .iter()
        .map(|p| {
            json!({"login": login(&p.user_id), "amount_cents": p.amount, "payment_id": p.payment_id,
                        "status": p.status, "date": p.date})
        })
        .collect();
    let days: Vec<&str> = runs.iter().map(|r| r.date.as_str()).collect();
    let document = json!({"date": date.to_string(), "already_paid": already_paid, "total_cents": total,
                          "payments": docs, "days": days});
    let answer = if already_paid {
        Answer::new(
            document,
            vec![format!("nothing is owed for {date} or before; nothing paid")],
        )
    } else {
        let days: std::collections::BTreeSet<&str> = payments.iter().map(|p| p.date.as_str()).collect();
        let said = format!(
            "Paid {} in {} payments for {}",
            Money(total),
            payments.len() - failed,
            days.into_iter().collect::<Vec<_>>().join(", ")
        );
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
        Answer::new(document, vec![said])
            .with_table((vec!["day", "login", "amount", "status", "payment"], table))
    };
    out.report(&answer)?;
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
