//! `popug login`, `logout`, `whoami` (CLI.md), and reading a secret from stdin or the
//! terminal.

use std::io::{BufRead, IsTerminal, Read};

use chrono::Duration;
use clap::Args;
use serde_json::json;

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::cli::session;
use crate::error::{AppError, Result};
use crate::events::{CredentialRevoked, Payload};

/// A session lasts this long after `popug login`.
const SESSION_DAYS: i64 = 30;

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    pub login: String,
    /// Read the password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
    /// Print the session token instead of saving it (for scripts)
    #[arg(long)]
    pub print_token: bool,
}

/// The longest line `--password-stdin` reads: a password is at most 1024 characters, of at
/// most 4 bytes each. A longer line is refused without being read whole into memory.
const MAX_SECRET_LINE: u64 = 4 * 1024;

/// One secret: the next line of standard input (`--password-stdin`), else asked for on the
/// terminal without echo.
pub(super) fn read_secret(from_stdin: bool, prompt: &str) -> Result<String> {
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

/// A new session: its token (shown once, never stored in clear), its user and its expiry
/// (RFC 3339, UTC).
pub struct SignedIn {
    pub token: String,
    pub user: auth::User,
    pub expires_at: String,
}

/// Checks `password` for `login` and records a new session credential (`CredentialIssued`),
/// valid for `lifetime` by the real clock ([`SESSION_DAYS`] from the command line). A wrong password, an unknown login and a
/// deactivated user are the same refusal (exit 3, `bad_credentials`), in the same time.
/// Shared by `popug login` and the web's sign-in form.
pub fn sign_in(env: &Env, login: &str, password: &str, lifetime: Duration) -> Result<SignedIn> {
    let mut ledger = env.open()?;
    let user = auth::user_by_login(ledger.store(crate::auth::STORE), login).map_err(db_error)?;
    let hash = match &user {
        Some(u) => auth::password_hash_of(ledger.store(crate::auth::STORE), &u.user_id)
            .map_err(db_error)?
            .unwrap_or_default(),
        None => DUMMY_PHC.to_owned(),
    };
    let matches = auth::password_matches(password, &hash);
    // a deactivated user is told nothing more than a wrong password would tell
    if !(matches && user.as_ref().is_some_and(|u| u.active)) {
        return Err(auth::decide::AuthError::BadCredentials.into());
    }
    let token = auth::generate_token("pgs");
    let mut w = ledger.write(env.clock)?;
    // a credential lives by the real clock, whatever POPUG_NOW says (CLI.md)
    let expires_at = chrono::Utc::now() + lifetime;
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
    Ok(SignedIn {
        token,
        user,
        expires_at: popug_ledger::line::format_at(&expires_at),
    })
}

pub fn login(env: &Env, out: &mut Out, args: LoginArgs) -> Result<()> {
    // from the start: whatever the command delivers, also when it then fails
    out.stdout_is_data = args.print_token;
    let password = read_secret(args.password_stdin, "Password: ")?;
    let SignedIn {
        token,
        user,
        expires_at: expires,
    } = sign_in(env, &args.login, &password, Duration::days(SESSION_DAYS))?;
    if args.print_token {
        let document = json!({"token": token, "login": user.login, "expires_at": expires});
        return out.report(&Answer::new(document, vec![token.clone()]));
    }
    session::save_session(env, &token)?;
    out.report(&Answer::new(
        json!({"login": user.login, "role": user.role.as_str(), "expires_at": expires}),
        vec![format!(
            "Signed in as {} ({}) until {expires}",
            user.login,
            user.role.as_str()
        )],
    ))
}

pub fn logout(env: &Env, out: &mut Out) -> Result<()> {
    let mut ledger = env.open_to_write()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    w.append(vec![
        CredentialRevoked {
            credential_id: actor.credential_id.clone().into(),
        }
        .to_event(&actor.user.user_id),
    ])?;
    drop(w);
    if env.caller == crate::app::Caller::Terminal
        && std::env::var_os("POPUG_TOKEN").is_none_or(|t| t.is_empty())
    {
        session::forget_session(env)?;
    }
    out.report(&Answer::new(
        json!({"login": actor.user.login, "signed_out": true}),
        vec![format!("Signed out {}", actor.user.login)],
    ))
}

pub fn whoami(env: &Env, out: &mut Out) -> Result<()> {
    let (_, actor) = session::signed_in(env, &[], "")?;
    out.report(&Answer::new(
        crate::cli::user::user_json(&actor.user),
        vec![format!("{} ({})", actor.user.login, actor.user.role.as_str())],
    ))
}
