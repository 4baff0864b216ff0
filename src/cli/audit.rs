//! `popug audit [LOGIN] [--from] [--to]`: one account's transactions with the task they are
//! for (CLI.md).

use chrono::NaiveDate;
use clap::Args;

use crate::accounting;
use crate::app::Env;
use crate::auth::db_error;
use crate::cli::balance::{parse_date, subject};
use crate::cli::output::Out;
use crate::cli::report::{Human, Report};
use crate::cli::session;
use crate::error::Result;
use crate::money::Money;

#[derive(Debug, Clone, Args)]
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
    crate::cli::earnings::check_range(args.from, args.to)?;
    let ledger = env.open()?;
    let people = ledger.store(crate::auth::STORE);
    let books = ledger.store(accounting::STORE);
    let actor = session::actor(env, people)?;
    let user = subject(people, &actor, args.login, "another user's audit log")?;
    let account = accounting::account_of(books, &user.user_id)
        .map_err(db_error)?
        .map(|a| a.0);
    let entries = accounting::audit_log(books, account.as_deref(), args.from, args.to).map_err(db_error)?;
    out.report(&AuditLog {
        login: user.login,
        entries,
    })
}

/// `audit [LOGIN]`: one account's audit log.
struct AuditLog {
    login: String,
    entries: Vec<accounting::AuditEntry>,
}

impl Report for AuditLog {
    const LIST: bool = true;
    fn document(&self) -> serde_json::Value {
        serde_json::to_value(&self.entries).expect("audit entries serialize")
    }
    fn human(&self) -> Human {
        let rows = self
            .entries
            .iter()
            .map(|r| {
                vec![
                    r.billing_date.clone(),
                    r.at.clone(),
                    r.kind.clone(),
                    r.reason.clone(),
                    r.task_number.map(|n| format!("#{n}")).unwrap_or_default(),
                    r.task_title.clone().unwrap_or_default(),
                    Money(r.amount_cents).to_string(),
                    Money(r.balance_cents).to_string(),
                ]
            })
            .collect();
        Human {
            lines: vec![format!("Audit log of {}", self.login)],
            table: Some((
                vec![
                    "day", "at", "kind", "reason", "task", "title", "amount", "balance",
                ],
                rows,
            )),
            ..Human::default()
        }
    }
}
