//! `popug init`: a new ledger, its calendar and its first admin.

use clap::Args;
use popug_ledger::{Ledger, LedgerError};
use serde_json::json;

use crate::app::{Env, subscribers};
use crate::auth;
use crate::cli::output::Out;
use crate::error::{AppError, Kind, Result};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Login of the first admin
    #[arg(long, default_value = "admin", value_name = "LOGIN")]
    pub admin: String,
    /// IANA timezone in which a calendar day is counted (e.g. Europe/Berlin)
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    pub timezone: String,
}

pub fn run(env: &Env, out: &mut Out, args: InitArgs) -> Result<()> {
    auth::validate_login(&args.admin)?;
    let tz = crate::scheduler::parse_timezone(&args.timezone).ok_or_else(|| {
        AppError::usage(format!(
            "`{}` is not a timezone",
            crate::text::shown(&args.timezone)
        ))
        .hint("use an IANA name such as UTC, Europe/Berlin or America/New_York")
    })?;
    let dir = &env.ledger_dir;
    let mut ledger = match Ledger::create(dir, subscribers(&env.ledger_dir), env.init_options()) {
        Ok(l) => l,
        // a directory whose log is still empty is an init that never finished: finish it
        Err(LedgerError::AlreadyExists(_)) if std::fs::metadata(dir.join("events.jsonl"))?.len() == 0 => {
            Ledger::open(dir, subscribers(dir), env.init_options())?
        }
        Err(e) => return Err(e.into()),
    };
    let password = auth::generate_password();
    let password_hash = auth::hash_password(&password)?;
    let mut w = ledger.write(env.clock)?;
    if w.head()?.seq > 0 {
        return Err(AppError::new(
            Kind::Conflict,
            "ledger_exists",
            format!("a ledger already exists at `{}`", dir.display()),
        )
        .hint("choose another directory with --ledger DIR"));
    }
    let ledger_id = w.new_id().to_string();
    let user_id = w.new_id().to_string();
    let batch = crate::app::genesis(
        ledger_id,
        user_id.clone(),
        tz.name(),
        env.requested_seed,
        &args.admin,
        password_hash,
    );
    w.append(batch)?;
    drop(w);
    let shown_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
    if out.is_json() {
        return out.json(&json!({
            "ledger": shown_dir,
            "admin": { "user_id": user_id, "login": args.admin, "password": password },
        }));
    }
    out.line(&format!(
        "Created the ledger at {} (timezone {})",
        shown_dir.display(),
        tz.name()
    ))?;
    out.line(&format!("Admin `{}`, temporary password: {password}", args.admin))?;
    out.line(
        "The password is shown only this once; sign in with `popug login` and change it with `popug passwd`.",
    )
}
