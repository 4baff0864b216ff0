//! `popug token create|list|revoke`: API tokens for automation (CLI.md).

use chrono::Duration;
use clap::Subcommand;
use serde_json::json;

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::output::Out;
use crate::cli::report::{Answer, Human, Report};
use crate::cli::session;
use crate::error::{AppError, Result};
use crate::events::{Payload, Role};
use rusqlite::OptionalExtension;

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for automation (printed once, stored hashed)
    Create {
        #[arg(long)]
        name: String,
        /// Lifetime: a number and s, m, h or d (90d, 12h), or `never`; a token made with
        /// an API token never outlives it
        #[arg(long, default_value = "90d", value_name = "DURATION")]
        expires_in: String,
    },
    /// Your API tokens (`--all`: everyone's, admins)
    List {
        /// Every user's API tokens (admins)
        #[arg(long)]
        all: bool,
    },
    /// Revoke one of your API tokens (admins: anyone's)
    Revoke { id: String },
}

/// A lifetime: a whole number and `s`, `m`, `h` or `d` (`90d`, `12h`), or `never` (`None`).
fn parse_lifetime(s: &str) -> Result<Option<Duration>> {
    if s == "never" {
        return Ok(None);
    }
    let bad = || {
        AppError::usage(format!("`{}` is not a lifetime", s))
            .hint("use a number followed by s, m, h or d (90d, 12h, 30m, 45s), or `never`")
    };
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let lifetime = match unit {
        "d" => Duration::try_days(n),
        "h" => Duration::try_hours(n),
        "m" => Duration::try_minutes(n),
        "s" => Duration::try_seconds(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    if n < 1 || lifetime > Duration::days(36_500) {
        return Err(bad());
    }
    Ok(Some(lifetime))
}

pub fn token(env: &Env, out: &mut Out, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create { name, expires_in } => {
            // from the start: whatever the command delivers, also when it then fails
            out.stdout_is_data = true;
            token_create(env, out, name, &expires_in)
        }
        TokenCommand::List { all } => token_list(env, out, all),
        TokenCommand::Revoke { id } => token_revoke(env, out, id),
    }
}

fn token_create(env: &Env, out: &mut Out, name: String, expires_in: &str) -> Result<()> {
    let lifetime = parse_lifetime(expires_in)?;
    // refused before the ledger is opened, as the other bad input (CLI.md: exit 2)
    let name = auth::decide::token_name(&name)?.to_owned();
    let mut ledger = env.open_to_write()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    let token = auth::generate_token("pgt");
    // the real clock, as for every credential
    let (issued, capped) = auth::decide::create_token(
        &auth::decide::Signer {
            user: &actor.user,
            credential_id: &actor.credential_id,
            kind: &actor.credential_kind,
            expires_at: actor.expires_at,
        },
        &name,
        auth::decide::NewCredential {
            credential_id: w.new_id().to_string(),
            token_sha256: auth::token_sha256(&token),
            expires_at: lifetime.map(|d| chrono::Utc::now() + d),
        },
    )?;
    let (credential_id, expires_at) = (issued.credential_id.clone(), issued.expires_at.clone());
    w.append(vec![issued.to_event(&actor.user.user_id)])?;
    if capped {
        eprintln!(
            "note: the token expires at {} with the API token that made it",
            expires_at.as_deref().unwrap_or("never")
        );
    }
    let document = json!({"token_id": credential_id, "name": name, "token": token, "expires_at": expires_at});
    if out.is_document() {
        return out.report(&Answer::new(document, Vec::new()));
    }
    // the token alone on stdout (a script's `$(popug token create …)`), the rest on stderr
    out.report(&Answer::new(document, vec![token]))?;
    eprintln!(
        "token `{name}` ({credential_id}) for {}; shown only this once",
        actor.user.login
    );
    Ok(())
}

fn token_list(env: &Env, out: &mut Out, all: bool) -> Result<()> {
    let ledger = env.open()?;
    let actor = session::actor(env, ledger.store(crate::auth::STORE))?;
    if all {
        actor.require(&[Role::Admin], "listing everyone's tokens")?;
    }
    let owner = (!all).then_some(actor.user.user_id.as_str());
    let tokens = auth::api_tokens(ledger.store(crate::auth::STORE), owner).map_err(db_error)?;
    out.report(&Tokens(tokens))
}

/// `token list`: API tokens, oldest first.
struct Tokens(Vec<auth::ApiToken>);

impl Report for Tokens {
    const LIST: bool = true;
    fn document(&self) -> serde_json::Value {
        self.0
            .iter()
            .map(|t| {
                json!({"token_id": t.token_id, "login": t.login, "name": t.name, "created_at": t.created_at,
                       "expires_at": t.expires_at, "revoked": t.revoked_at.is_some()})
            })
            .collect()
    }
    fn human(&self) -> Human {
        let rows = self
            .0
            .iter()
            .map(|t| {
                vec![
                    t.token_id.clone(),
                    t.login.clone(),
                    t.name.clone().unwrap_or_default(),
                    t.created_at.clone(),
                    t.expires_at.clone().unwrap_or("never".into()),
                    t.revoked_at
                        .as_ref()
                        .map_or("".into(), |r| format!("revoked {r}")),
                ]
            })
            .collect();
        Human::table((vec!["id", "login", "name", "created", "expires", "state"], rows))
    }
}

/// Revokes an API token: one's own, or anyone's for an admin. Someone else's token is "not
/// found" to a non-admin, so its existence is not told.
fn token_revoke(env: &Env, out: &mut Out, id: String) -> Result<()> {
    let mut ledger = env.open_to_write()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    let found: Option<Option<String>> = w
        .store(crate::auth::STORE)
        .query_row(
            "SELECT revoked_at FROM credentials WHERE credential_id = ?1 AND kind = 'api'
             AND (?3 OR user_id = ?2)",
            (&id, &actor.user.user_id, actor.is(&[Role::Admin])),
            |r| r.get(0),
        )
        .optional()
        .map_err(db_error)?;
    auth::decide::revoke_token(&id, found)?;
    // what the token made goes with it: a leaked token leaves nothing behind
    let made =
        auth::live_descendants(w.store(crate::auth::STORE), std::slice::from_ref(&id)).map_err(db_error)?;
    w.append(auth::revocations(
        std::iter::once(&id).chain(&made),
        &actor.user.user_id,
    ))?;
    out.report(&Answer::new(
        json!({"token_id": id, "revoked": true, "tokens_revoked": made.len()}),
        vec![format!("Revoked token {id} and {} token(s) it made", made.len())],
    ))
}
