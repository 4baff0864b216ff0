//! `popug passwd`: change your own password (CLI.md).

use clap::Args;
use serde_json::json;

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::login::read_secret;
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{PasswordChanged, Payload};

#[derive(Debug, Clone, Args)]
pub struct PasswdArgs {
    /// Read the current password, then the new one, from the first two lines of standard input
    #[arg(long)]
    pub password_stdin: bool,
}

/// `passwd`: the current password first, then the new one (`--password-stdin`: two lines);
/// the user's other sessions end (a leaked session cannot keep the account).
pub fn passwd(env: &Env, out: &mut Out, args: PasswdArgs) -> Result<()> {
    // signed in before any password is asked for
    let (mut ledger, _) = session::signed_in(env, &[], "")?;
    let current = read_secret(args.password_stdin, "Current password: ")?;
    let password = read_secret(args.password_stdin, "New password: ")?;
    if !args.password_stdin && read_secret(false, "Again: ")? != password {
        return Err(AppError::usage("the two passwords differ"));
    }
    change_password(env, &mut ledger, out, &current, &password)
}

/// Changes the signed-in user's password from `current` to `password` (the rules of
/// `auth::validate_new_password`); the user's other sessions end, with the tokens they made.
/// A wrong `current` is exit 3 (`bad_credentials`). Shared by `popug passwd` and the web,
/// on the ledger the caller opened.
pub fn change_password(
    env: &Env,
    ledger: &mut popug_ledger::Ledger,
    out: &mut Out,
    current: &str,
    password: &str,
) -> Result<()> {
    let actor = session::actor(env, ledger.store(crate::auth::STORE))?;
    auth::validate_new_password(password)?;
    let stored = auth::password_hash_of(ledger.store(crate::auth::STORE), &actor.user.user_id)
        .map_err(db_error)?
        .unwrap_or_default();
    if !auth::password_matches(current, &stored) {
        return Err(AppError::new(
            Kind::Denied,
            "bad_credentials",
            "the current password is wrong",
        ));
    }
    let password_hash = auth::hash_password(password)?;
    drop(actor);
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    let mut batch = vec![
        PasswordChanged {
            user_id: actor.user.user_id.clone().into(),
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
    out.report(&Answer::new(
        json!({"login": actor.user.login, "password_changed": true,
               "sessions_ended": others.len(), "tokens_revoked": made.len()}),
        vec![format!(
            "Password changed for {}; {} other session(s) ended, {} token(s) they made revoked",
            actor.user.login,
            others.len(),
            made.len()
        )],
    ))
}
