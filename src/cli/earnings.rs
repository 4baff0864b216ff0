//! `popug earnings [--from] [--to]`: the management's earnings per day (CLI.md), and the date
//! range that `export` shares.

use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use crate::analytics::{self};
use crate::app::Env;
use crate::auth::db_error;
use crate::cli::balance::parse_date;
use crate::cli::output::Out;
use crate::cli::report::{Human, Report};
use crate::cli::session;
use crate::error::{AppError, Result};
use crate::events::Role;
use crate::money::Money;

#[derive(Debug, Clone, Args)]
pub struct RangeArgs {
    /// First day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Last day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub to: Option<NaiveDate>,
}

/// Refuses a range whose `from` is after its `to` (exit 2).
pub(super) fn check_range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<()> {
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(AppError::usage(format!("--from {f} is after --to {t}")));
    }
    Ok(())
}

pub fn earnings(env: &Env, out: &mut Out, args: RangeArgs) -> Result<()> {
    check_range(args.from, args.to)?;
    let (ledger, _) = session::signed_in(env, &[Role::Admin, Role::Accountant], "management earnings")?;
    let days = analytics::earnings(ledger.store(analytics::STORE), args.from, args.to).map_err(db_error)?;
    out.report(&Earnings(days))
}

/// `earnings`: the management's earnings per day.
struct Earnings(Vec<analytics::DayEarnings>);

impl Report for Earnings {
    const LIST: bool = true;
    fn document(&self) -> serde_json::Value {
        self.0
            .iter()
            .map(|d| json!({"date": d.date, "fees_cents": d.fees, "rewards_cents": d.rewards, "earnings_cents": d.earnings()}))
            .collect()
    }
    fn human(&self) -> Human {
        let rows = self
            .0
            .iter()
            .map(|d| {
                vec![
                    d.date.clone(),
                    Money(d.fees).to_string(),
                    Money(d.rewards).to_string(),
                    Money(d.earnings()).to_string(),
                ]
            })
            .collect();
        Human::table((vec!["date", "fees", "rewards", "earnings"], rows))
    }
}
