//! `login`, `logout`, `whoami`, `passwd`, `token create|list|revoke`.

use std::io::{BufRead, IsTerminal, Read};

use chrono::Duration;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{CredentialRevoked, PasswordChanged, Payload, Role};
use rusqlite::OptionalExtension;

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
    /// Read the current password, then the new one, from the first two lines of standard input
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
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

/// The longest line `--password-stdin` reads: a password is at most 1024 characters, of at
/// most 4 bytes each. A longer line is refused without being read whole into memory.
const MAX_SECRET_LINE: u64 = 4 * 1024;

/// One secret: the next line of standard input (`--password-stdin`), else asked for on the
/// terminal without echo.
fn read_secret(from_stdin: bool, prompt: &str) -> Result<String> {
    if from_stdin {
        let mut line = Vec::new();
        let mut stdin = std::io::stdin().lock();
        (&mut stdin)
            .take(MAX_SECRET_LINE + 2)
            .read_until(b'\n', &mut line)?;
        let newline = line.ends_with(b"\n") as u64;
        if line.len() as u64 - newline > MAX_SECRET_LINE {
            return Err(AppError::usage(format!(
                "a line of standard input is longer than {MAX_SECRET_LINE} bytes: no password is that long"
            )));
        }
        let line = String::from_utf8(line)
            .map_err(|_| AppError::usage("the password on standard input is not UTF-8"))?;
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
    let user = auth::user_by_login(ledger.store(crate::auth::STORE), &args.login).map_err(db_error)?;
    let hash = match &user {
        Some(u) => auth::password_hash_of(ledger.store(crate::auth::STORE), &u.user_id)
            .map_err(db_error)?
            .unwrap_or_default(),
        None => DUMMY_PHC.to_owned(),
    };
    let matches = auth::password_matches(&password, &hash);
    // a deactivated user is told nothing more than a wrong password would tell
    if !(matches && user.as_ref().is_some_and(|u| u.active)) {
        return Err(auth::decide::AuthError::BadCredentials.into());
    }
    let token = auth::generate_token("pgs");
    let mut w = ledger.write(env.clock)?;
    // a credential lives by the real clock, whatever POPUG_NOW says (CLI.md)
    let expires_at = chrono::Utc::now() + Duration::days(SESSION_DAYS);
    let issued = auth::decide::login(
        user.as_ref(),
        matches,
        auth::decide::NewCredential {
            credential_id: w.new_id().to_string(),
            token_sha256: auth::token_sha256(&token),
            expires_at: Some(expires_at),
        },
    )?;
    let user = user.expect("a session is issued to a user");
    w.append(vec![issued.to_event(&user.user_id)])?;
    drop(w);
    let expires = popug_ledger::line::format_at(&expires_at);
    if args.print_token {
        if out.is_document() {
            return out.json(&json!({"token": token, "login": user.login, "expires_at": expires}));
        }
        return out.line(&token);
    }
    session::save_session(env, &token)?;
    if out.is_document() {
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
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
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
    if out.is_document() {
        return out.json(&json!({"login": actor.user.login, "signed_out": true}));
    }
    out.line(&format!("Signed out {}", actor.user.login))
}

pub fn whoami(env: &Env, out: &mut Out) -> Result<()> {
    let (_, actor) = session::signed_in(env, &[], "")?;
    if out.is_document() {
        return out.json(&crate::cli::users::user_json(&actor.user));
    }
    out.line(&format!("{} ({})", actor.user.login, actor.user.role.as_str()))
}

/// `passwd`: the current password first, then the new one (`--password-stdin`: two lines);
/// the user's other sessions end (a leaked session cannot keep the account).
pub fn passwd(env: &Env, out: &mut Out, args: PasswdArgs) -> Result<()> {
    let mut ledger = env.open()?;
    let actor = session::actor(env, ledger.store(crate::auth::STORE))?;
    let current = read_secret(args.password_stdin, "Current password: ")?;
    let password = read_secret(args.password_stdin, "New password: ")?;
    if !args.password_stdin && read_secret(false, "Again: ")? != password {
        return Err(AppError::usage("the two passwords differ"));
    }
    auth::validate_new_password(&password)?;
    let stored = auth::password_hash_of(ledger.store(crate::auth::STORE), &actor.user.user_id)
        .map_err(db_error)?
        .unwrap_or_default();
    if !auth::password_matches(&current, &stored) {
        return Err(AppError::new(
            Kind::Denied,
            "bad_credentials",
            "the current password is wrong",
        ));
    }
    let password_hash = auth::hash_password(&password)?;
    drop(actor);
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    let mut batch = vec![
        PasswordChanged {
            user_id: actor.user.user_id.clone(),
            password_hash,
        }
        .to_event(&actor.user.user_id),
    ];
    let others: Vec<String> =
        auth::unrevoked_credentials(w.store(crate::auth::STORE), &actor.user.user_id, Some("session"))
            .map_err(db_error)?
            .into_iter()
            .filter(|id| *id != actor.credential_id)
            .collect();
    // and the tokens those sessions made: a leaked session must not leave one behind
    let made: Vec<String> = auth::live_descendants(w.store(crate::auth::STORE), &others)
        .map_err(db_error)?
        .into_iter()
        .filter(|id| *id != actor.credential_id)
        .collect();
    batch.extend(auth::revocations(others.iter().chain(&made), &actor.user.user_id));
    w.append(batch)?;
    if out.is_document() {
        return out.json(&json!({"login": actor.user.login, "password_changed": true,
                                "sessions_ended": others.len(), "tokens_revoked": made.len()}));
    }
    out.line(&format!(
        "Password changed for {}; {} other session(s) ended, {} token(s) they made revoked",
        actor.user.login,
        others.len(),
        made.len()
    ))
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
        TokenCommand::Create { name, expires_in } => token_create(env, out, name, &expires_in),
        TokenCommand::List { all } => token_list(env, out, all),
        TokenCommand::Revoke { id } => token_revoke(env, out, id),
    }
}

fn token_create(env: &Env, out: &mut Out, name: String, expires_in: &str) -> Result<()> {
    let lifetime = parse_lifetime(expires_in)?;
    // refused before the ledger is opened, as the other bad input (CLI.md: exit 2)
    let name = auth::decide::token_name(&name)?.to_owned();
    let mut ledger = env.open()?;
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
    if out.is_document() {
        return out.json(
            &json!({"token_id": credential_id, "name": name, "token": token, "expires_at": expires_at}),
        );
    }
    out.line(&token)?;
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
    let mut stmt = ledger
        .store(crate::auth::STORE)
        .prepare_cached(
            "SELECT c.credential_id, u.login, c.name, c.created_at, c.expires_at, c.revoked_at
             FROM credentials c JOIN users u ON u.user_id = c.user_id
             WHERE c.kind = 'api' AND (?2 OR c.user_id = ?1)
             ORDER BY c.created_at, c.credential_id",
        )
        .map_err(db_error)?;
    type Row = (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = stmt
        .query_map((&actor.user.user_id, all), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .and_then(|m| m.collect())
        .map_err(db_error)?;
    if out.is_json() {
        let docs: Vec<_> = rows
            .iter()
            .map(|(id, login, name, created, exp, rev)| {
                json!({"token_id": id, "login": login, "name": name, "created_at": created, "expires_at": exp, "revoked": rev.is_some()})
            })
            .collect();
        return out.json(&docs);
    }
    let table = rows
        .into_iter()
        .map(|(id, login, name, created, exp, rev)| {
            vec![
                id,
                login,
                name.unwrap_or_default(),
                created,
                exp.unwrap_or("never".into()),
                rev.map_or("".into(), |r| format!("revoked {r}")),
            ]
        })
        .collect();
    out.table(&["id", "login", "name", "created", "expires", "state"], table)
}

/// Revokes an API token: one's own, or anyone's for an admin. Someone else's token is "not
/// found" to a non-admin, so its existence is not told.
fn token_revoke(env: &Env, out: &mut Out, id: String) -> Result<()> {
    let mut ledger = env.open()?;
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
    if out.is_document() {
        return out.json(&json!({"token_id": id, "revoked": true, "tokens_revoked": made.len()}));
    }
    out.line(&format!("Revoked token {id} and {} token(s) it made", made.len()))
}
