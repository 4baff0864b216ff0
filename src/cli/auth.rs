//! `login`, `logout`, `whoami`, `passwd`, `token create|list|revoke`.

use std::io::{BufRead, IsTerminal};

use chrono::Duration;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{CredentialIssued, CredentialRevoked, PasswordChanged, Payload};

/// A session lasts this long after `popug login`.
const SESSION_DAYS: i64 = 30;

#[derive(Debug, Args)]
pub struct LoginArgs {
    pub login: String,
    /// Read the password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// Print the session token instead of saving it (for scripts)
    #[arg(long)]
    pub print_token: bool,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for automation (printed once, stored hashed)
    Create {
        #[arg(long)]
        name: String,
        /// Lifetime: a number and d, h or m (90d, 12h), or `never`
        #[arg(long, default_value = "90d", value_name = "DURATION")]
        expires_in: String,
    },
    /// Your API tokens
    List,
    /// Revoke one of your API tokens
    Revoke { id: String },
}

fn read_secret(from_stdin: bool, prompt: &str) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(AppError::usage("no terminal to ask for the password on")
            .hint("pass --password-stdin and pipe it in"));
    }
    rpassword::prompt_password(prompt).map_err(Into::into)
}

/// A dummy hash checked when the login is unknown, so both failures take the same time.
const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$WfYdSOh4Jk5dMj1TQ2cUL2oR0oWl5CZ1wGeV+Ww7oB8";

pub fn login(env: &Env, out: &mut Out, args: LoginArgs) -> Result<()> {
    let password = read_secret(args.password_stdin, "Password: ")?;
    let mut ledger = env.open()?;
    let user = auth::user_by_login(ledger.db(), &args.login).map_err(db_error)?;
    let hash = match &user {
        Some(u) => auth::password_hash_of(ledger.db(), &u.user_id)
            .map_err(db_error)?
            .unwrap_or_default(),
        None => DUMMY_PHC.to_owned(),
    };
    let matches = auth::password_matches(&password, &hash);
    let (Some(user), true) = (user, matches) else {
        return Err(AppError::new(
            Kind::Denied,
            "bad_credentials",
            "wrong login or password",
        ));
    };
    let token = auth::generate_token("pgs");
    let mut w = ledger.write(env.clock)?;
    let expires_at = w.now() + Duration::days(SESSION_DAYS);
    let credential_id = w.new_id().to_string();
    w.append(vec![
        CredentialIssued {
            credential_id: credential_id.clone(),
            user_id: user.user_id.clone(),
            kind: "session".into(),
            name: None,
            token_sha256: auth::token_sha256(&token),
            expires_at: Some(popug_ledger::line::format_at(&expires_at)),
        }
        .to_event(&user.user_id),
    ])?;
    drop(w);
    let expires = popug_ledger::line::format_at(&expires_at);
    if args.print_token {
        if out.is_json() {
            return out.json(&json!({"token": token, "login": user.login, "expires_at": expires}));
        }
        return out.line(&token);
    }
    session::save_session(env, &token)?;
    if out.is_json() {
        return out.json(&json!({"login": user.login, "role": user.role.as_str(), "expires_at": expires}));
    }
    out.line(&format!(
        "Signed in as {} ({}) until {expires}",
        user.login,
        user.role.as_str()
    ))
}

pub fn logout(env: &Env, out: &mut Out) -> Result<()> {
    let mut ledger = env.open()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.db())?;
    w.append(vec![
        CredentialRevoked {
            credential_id: actor.credential_id.clone(),
        }
        .to_event(&actor.user.user_id),
    ])?;
    drop(w);
    if std::env::var_os("POPUG_TOKEN").is_none_or(|t| t.is_empty()) {
        session::forget_session(env)?;
    }
    if out.is_json() {
        return out.json(&json!({"login": actor.user.login, "signed_out": true}));
    }
    out.line(&format!("Signed out {}", actor.user.login))
}

pub fn whoami(env: &Env, out: &mut Out) -> Result<()> {
    let ledger = env.open()?;
    let actor = session::actor(env, ledger.db())?;
    if out.is_json() {
        return out.json(&crate::cli::users::user_json(&actor.user));
    }
    out.line(&format!("{} ({})", actor.user.login, actor.user.role.as_str()))
}

pub fn passwd(env: &Env, out: &mut Out, args: PasswdArgs) -> Result<()> {
    let mut ledger = env.open()?;
    let actor = session::actor(env, ledger.db())?;
    let password = read_secret(args.password_stdin, "New password: ")?;
    if !args.password_stdin && read_secret(false, "Again: ")? != password {
        return Err(AppError::usage("the two passwords differ"));
    }
    auth::validate_new_password(&password)?;
    let password_hash = auth::hash_password(&password)?;
    drop(actor);
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.db())?;
    w.append(vec![
        PasswordChanged {
            user_id: actor.user.user_id.clone(),
            password_hash,
        }
        .to_event(&actor.user.user_id),
    ])?;
    if out.is_json() {
        return out.json(&json!({"login": actor.user.login, "password_changed": true}));
    }
    out.line(&format!("Password changed for {}", actor.user.login))
}

fn parse_lifetime(s: &str) -> Result<Option<Duration>> {
    if s == "never" {
        return Ok(None);
    }
    let bad = || {
        AppError::usage(format!("`{}` is not a lifetime", s.escape_default()))
            .hint("use a number followed by d, h or m (90d, 12h, 30m), or `never`")
    };
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    if !(1..=36_500).contains(&n) {
        return Err(bad());
    }
    Ok(Some(match unit {
        "d" => Duration::days(n),
        "h" => Duration::hours(n),
        "m" => Duration::minutes(n),
        _ => return Err(bad()),
    }))
}

pub fn token(env: &Env, out: &mut Out, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create { name, expires_in } => {
            let lifetime = parse_lifetime(&expires_in)?;
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(AppError::usage(
                    "a token name is 1 to 100 characters without control characters",
                ));
            }
            let mut ledger = env.open()?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.db())?;
            let token = auth::generate_token("pgt");
            let credential_id = w.new_id().to_string();
            let expires_at = lifetime.map(|d| popug_ledger::line::format_at(&(w.now() + d)));
            w.append(vec![
                CredentialIssued {
                    credential_id: credential_id.clone(),
                    user_id: actor.user.user_id.clone(),
                    kind: "api".into(),
                    name: Some(name.clone()),
                    token_sha256: auth::token_sha256(&token),
                    expires_at: expires_at.clone(),
                }
                .to_event(&actor.user.user_id),
            ])?;
            if out.is_json() {
                return out.json(&json!({"token_id": credential_id, "name": name, "token": token, "expires_at": expires_at}));
            }
            out.line(&token)?;
            eprintln!(
                "token `{name}` ({credential_id}) for {}; shown only this once",
                actor.user.login
            );
            Ok(())
        }
        TokenCommand::List => {
            let ledger = env.open()?;
            let actor = session::actor(env, ledger.db())?;
            let mut stmt = ledger
                .db()
                .prepare(
                    "SELECT credential_id, name, created_at, expires_at, revoked_at FROM credentials
                     WHERE user_id = ?1 AND kind = 'api' ORDER BY created_at, credential_id",
                )
                .map_err(db_error)?;
            type Row = (String, Option<String>, String, Option<String>, Option<String>);
            let rows: Vec<Row> = stmt
                .query_map([&actor.user.user_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .and_then(|m| m.collect())
                .map_err(db_error)?;
            if out.is_json() {
                let docs: Vec<_> = rows
                    .iter()
                    .map(|(id, name, created, exp, rev)| {
                        json!({"token_id": id, "name": name, "created_at": created, "expires_at": exp, "revoked": rev.is_some()})
                    })
                    .collect();
                return out.json(&docs);
            }
            let table = rows
                .into_iter()
                .map(|(id, name, created, exp, rev)| {
                    vec![
                        id,
                        name.unwrap_or_default(),
                        created,
                        exp.unwrap_or("never".into()),
                        rev.map_or("".into(), |r| format!("revoked {r}")),
                    ]
                })
                .collect();
            out.table(&["id", "name", "created", "expires", "state"], table)
        }
        TokenCommand::Revoke { id } => {
            let mut ledger = env.open()?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.db())?;
            let found: Option<Option<String>> = w
                .db()
                .query_row(
                    "SELECT revoked_at FROM credentials WHERE credential_id = ?1 AND user_id = ?2 AND kind = 'api'",
                    (&id, &actor.user.user_id),
                    |r| r.get(0),
                )
                .map(Some)
                .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
                .map_err(db_error)?;
            match found {
                None => Err(AppError::new(
                    Kind::NotFound,
                    "no_token",
                    format!("you have no API token `{}`", id.escape_default()),
                )
                .hint("`popug token list` shows your tokens")),
                Some(Some(_)) => Err(AppError::new(
                    Kind::Conflict,
                    "token_revoked",
                    format!("token `{id}` is already revoked"),
                )),
                Some(None) => {
                    w.append(vec![
                        CredentialRevoked {
                            credential_id: id.clone(),
                        }
                        .to_event(&actor.user.user_id),
                    ])?;
                    if out.is_json() {
                        return out.json(&json!({"token_id": id, "revoked": true}));
                    }
                    out.line(&format!("Revoked token {id}"))
                }
            }
        }
    }
}
