//! `popug analytics [--date D]`: the admin's dashboard of a day (CLI.md).

use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use crate::analytics::{self, TopTask};
use crate::app::Env;
use crate::auth::db_error;
use crate::cli::balance::parse_date;
use crate::cli::output::Out;
use crate::cli::report::{Human, Report};
use crate::cli::session;
use crate::error::Result;
use crate::events::Role;
use crate::money::Money;
use crate::zone::day_of;

#[derive(Debug, Clone, Args)]
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
    out.report(&DayAnalytics {
        date,
        timezone: tz,
        earnings_cents: earned,
        negative_workers: negative,
        week: (w0, w1),
        month: (m0, m1),
        top: [day, week, month],
    })
}

/// `analytics`: the dashboard of one day.
struct DayAnalytics {
    date: NaiveDate,
    timezone: String,
    earnings_cents: i64,
    negative_workers: i64,
    week: (NaiveDate, NaiveDate),
    month: (NaiveDate, NaiveDate),
    /// The most expensive task completed that day, that week, that month.
    top: [Option<TopTask>; 3],
}

impl Report for DayAnalytics {
    const LIST: bool = false;
    fn document(&self) -> serde_json::Value {
        let [day, week, month] = &self.top;
        json!({
            "date": self.date.to_string(),
            "earnings_cents": self.earnings_cents,
            "negative_workers": self.negative_workers,
            "most_expensive_task": {"day": top_json(day), "week": top_json(week), "month": top_json(month)},
        })
    }
    fn human(&self) -> Human {
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
        let [day, week, month] = &self.top;
        let ((w0, w1), (m0, m1)) = (self.week, self.month);
        Human {
            lines: vec![
                format!("Analytics for {} ({})", self.date, self.timezone),
                format!("management earnings: {}", Money(self.earnings_cents)),
                format!(
                    "workers with a negative balance at the end of the day: {}",
                    self.negative_workers
                ),
            ],
            table: Some((
                vec!["period", "dates", "most expensive task", "reward", "done by"],
                vec![
                    row("day", self.date.to_string(), day),
                    row("week", format!("{w0}..{w1}"), week),
                    row("month", format!("{m0}..{m1}"), month),
                ],
            )),
            ..Human::default()
        }
    }
}
