//! `popug balance [LOGIN|--all]`: balances (CLI.md), and the argument parsers and the
//! "whose account" rule that `audit` shares.

use chrono::NaiveDate;
use clap::Args;

use crate::accounting;
use crate::app::Env;
use crate::auth::{self, Actor, db_error};
use crate::cli::output::Out;
use crate::cli::report::{Human, Report};
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::Role;
use crate::money::Money;

#[derive(Debug, Clone, Args)]
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

/// `balance --all`: every user's balance.
struct AllBalances(Vec<accounting::Balance>);

impl Report for AllBalances {
    const LIST: bool = true;
    fn document(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).expect("balances serialize")
    }
    fn human(&self) -> Human {
        Human::table((
            vec!["login", "balance"],
            self.0
                .iter()
                .map(|b| vec![b.login.clone(), Money(b.balance_cents).to_string()])
                .collect(),
        ))
    }
}

/// `balance [LOGIN]`: one user's balance.
impl Report for accounting::Balance {
    const LIST: bool = false;
    fn document(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a balance serializes")
    }
    fn human(&self) -> Human {
        Human {
            lines: vec![format!("{}: {}", self.login, Money(self.balance_cents))],
            table: None,
            ..Human::default()
        }
    }
}

pub fn balance(env: &Env, out: &mut Out, args: BalanceArgs) -> Result<()> {
    let ledger = env.open()?;
    let people = ledger.store(crate::auth::STORE);
    let books = ledger.store(accounting::STORE);
    let actor = session::actor(env, people)?;
    if args.all {
        actor.require(&[Role::Admin, Role::Accountant], "everyone's balance")?;
        return out.report(&AllBalances(accounting::balances(books).map_err(db_error)?));
    }
    let user = subject(people, &actor, args.login, "another user's balance")?;
    let (_, balance) = accounting::account_of(books, &user.user_id)
        .map_err(db_error)?
        .ok_or_else(|| {
            AppError::new(
                Kind::NotFound,
                "no_account",
                format!("`{}` has no account yet", user.login),
            )
        })?;
    out.report(&accounting::Balance {
        login: user.login,
        balance_cents: balance,
    })
}
