//! `popug balance [LOGIN|--all]`: balances (CLI.md), and the argument parsers and the
//! "whose account" rule that `audit` shares.

use chrono::NaiveDate;
use clap::Args;
use serde_json::json;

use crate::accounting;
use crate::app::Env;
use crate::auth::{self, Actor, db_error};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::Role;
use crate::money::Money;

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// Whose balance (admins and accountants may ask for anyone's)
    pub login: Option<String>,
    /// Every user's balance
    #[arg(long, conflicts_with = "login")]
    pub all: bool,
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
pub(super) fn subject(
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
