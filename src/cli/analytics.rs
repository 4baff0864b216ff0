//! `popug analytics [--date D]`: the admin's dashboard of a day (CLI.md).

use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use crate::analytics::{self, TopTask};
use crate::app::Env;
use crate::auth::db_error;
use crate::cli::balance::parse_date;
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::Result;
use crate::events::Role;
use crate::money::{Money, day_of};

#[derive(Debug, Args)]
pub struct AnalyticsArgs {
    /// The day to report on (default: today in the ledger's timezone)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub date: Option<NaiveDate>,
}

fn top_json(t: &Option<TopTask>) -> serde_json::Value {
    match t {
        None => serde_json::Value::Null,
        Some(t) => {
            json!({"task_id": t.task_id, "number": t.number, "title": t.title, "reward_cents": t.reward,
                          "completed_on": t.completed_on, "assignee": t.assignee})
        }
    }
}

pub fn analytics(env: &Env, out: &mut Out, args: AnalyticsArgs) -> Result<()> {
    let (ledger, _) = session::signed_in(env, &[Role::Admin], "analytics")?;
    let db = ledger.store(analytics::STORE);
    let tz = analytics::projection::CALENDAR.timezone(db).map_err(db_error)?;
    let date = args.date.unwrap_or_else(|| day_of(&env.now(), &tz));
    let today = analytics::earnings(db, Some(date), Some(date)).map_err(db_error)?;
    let earned = today.first().map_or(0, |d| d.earnings());
    let negative = analytics::negative_workers(db, date).map_err(db_error)?;
    let (w0, w1) = analytics::week_of(date);
    let (m0, m1) = analytics::month_of(date);
    let day = analytics::most_expensive(db, date, date).map_err(db_error)?;
    let week = analytics::most_expensive(db, w0, w1).map_err(db_error)?;
    let month = analytics::most_expensive(db, m0, m1).map_err(db_error)?;
    if out.is_document() {
        return out.json(&json!({
            "date": date.to_string(),
            "earnings_cents": earned,
            "negative_workers": negative,
            "most_expensive_task": {"day": top_json(&day), "week": top_json(&week), "month": top_json(&month)},
        }));
    }
    out.line(&format!("Analytics for {date} ({tz})"))?;
    out.line(&format!("management earnings: {}", Money(earned)))?;
    out.line(&format!(
        "workers with a negative balance at the end of the day: {negative}"
    ))?;
    let row = |period: &str, range: String, t: &Option<TopTask>| match t {
        Some(t) => vec![
            period.into(),
            range,
            format!("#{} {}", t.number, t.title),
            Money(t.reward).to_string(),
            t.assignee.clone(),
        ],
        None => vec![
            period.into(),
            range,
            "(no task completed)".into(),
            String::new(),
            String::new(),
        ],
    };
    out.table(
        &["period", "dates", "most expensive task", "reward", "done by"],
        vec![
            row("day", date.to_string(), &day),
            row("week", format!("{w0}..{w1}"), &week),
            row("month", format!("{m0}..{m1}"), &month),
        ],
    )
}
