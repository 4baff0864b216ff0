//! Who is running the command: the saved session for this OS user and ledger, or
//! POPUG_TOKEN; and what a command prints after its own output (stdout notifications).

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use rusqlite::Connection;

use crate::app::Env;
use crate::auth::{self, Actor};
use crate::cli::output::Out;
use crate::error::{AppError, Kind, Result};

/// `$XDG_CONFIG_HOME/popug/sessions/<digest of the ledger path>` (or under `~/.config`).
pub fn session_file(env: &Env) -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    AppError::usage("cannot find where to keep the session: HOME is not set")
                        .hint("set POPUG_TOKEN instead")
                })?,
        )
        .join(".config"),
    };
    // by the ledger's address: a directory, or the nats:// address (its cache is this
    // host's business)
    let key = &auth::token_sha256(&env.address())[..24];
    Ok(base.join("popug").join("sessions").join(key))
}

pub fn save_session(env: &Env, token: &str) -> Result<PathBuf> {
    let path = session_file(env)?;
    let dir = path.parent().expect("a session file has a folder");
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    let tmp = path.with_extension("tmp");
    let mut f = crate::files::create_new_private(&tmp)?;
    std::io::Write::write_all(&mut f, token.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, &path)?;
    Ok(path)
}

pub fn forget_session(env: &Env) -> Result<()> {
    match fs::remove_file(session_file(env)?) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// The token this command runs with: POPUG_TOKEN, else the saved session.
pub fn token(env: &Env) -> Result<String> {
    if let crate::app::Caller::Request(token) = &env.caller {
        return token.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
            AppError::new(Kind::Denied, "not_signed_in", "you are not signed in")
                .hint("sign in, or send `Authorization: Bearer <API token>`")
        });
    }
    if let Ok(t) = std::env::var("POPUG_TOKEN")
        && !t.is_empty()
    {
        return Ok(t);
    }
    let path = session_file(env)?;
    match fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_owned()),
        _ => Err(AppError::new(
            Kind::Denied,
            "not_signed_in",
            "you are not signed in to this ledger",
        )
        .hint("sign in with `popug login LOGIN`, or set POPUG_TOKEN to an API token")),
    }
}

/// The preamble of a command that reads: the ledger opened (finishing what an interrupted
/// command left), the caller signed in, and allowed when they have one of `roles` (every
/// signed-in user when `roles` is empty; `what` names the work in a refusal, exit 3).
pub fn signed_in(
    env: &Env,
    roles: &[crate::events::Role],
    what: &str,
) -> Result<(popug_ledger::Ledger, Actor)> {
    let ledger = env.open()?;
    let actor = actor(env, ledger.store(crate::auth::STORE))?;
    if !roles.is_empty() {
        actor.require(roles, what)?;
    }
    Ok((ledger, actor))
}

/// The signed-in actor, checked against the projections (a hash and a lookup, no argon2).
pub fn actor(env: &Env, db: &Connection) -> Result<Actor> {
    auth::authenticate(db, &token(env)?)
}

/// Prints the `stdout`-channel notifications this process delivered since the last call
/// (every write session's, gathered by [`crate::notifications::StdoutDeliveries`]): after the
/// command's own output on stdout, or on stderr (as JSON lines under `--json` and `--format
/// csv`) when stdout holds a machine-readable document or a bare value (CLI.md
/// "Notifications"). A closed stderr does not fail a command whose work is done.
pub fn print_deliveries(out: &mut Out, env: &Env) -> Result<()> {
    let notices = env.stdout_deliveries.take();
    if notices.is_empty() || !out.is_terminal_run() {
        // a web request's answer is its document alone; the Ledger page shows these
        return Ok(());
    }
    let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
    for n in &notices {
        if out.format == crate::cli::output::Format::Table {
            let mut text = format!("notification for {}: {}", n.login, n.subject);
            for l in n.body.lines() {
                text.push_str("\n    ");
                text.push_str(l);
            }
            if out.stdout_is_data {
                let _ = writeln!(stderr, "{text}");
            } else {
                out.line(&text)?;
            }
        } else {
            #[derive(serde::Serialize)]
            struct Line<'a> {
                notification: Doc<'a>,
            }
            // the fields in the order `json!` gave them (sorted), as scripts have seen them
            #[derive(serde::Serialize)]
            struct Doc<'a> {
                body: &'a str,
                login: &'a str,
                notification_id: &'a str,
                subject: &'a str,
            }
            let line = Line {
                notification: Doc {
                    body: &n.body,
                    login: &n.login,
                    notification_id: &n.notification_id,
                    subject: &n.subject,
                },
            };
            let _ = serde_json::to_writer(&mut stderr, &line);
            let _ = writeln!(stderr);
        }
    }
    let _ = stderr.flush();
    Ok(())
}

/// Refuses (exit 3) unless `who` is the actor or the actor has one of `roles`.
pub fn require_self_or(actor: &Actor, who: &str, roles: &[crate::events::Role], what: &str) -> Result<()> {
    if who == actor.user.login {
        return Ok(());
    }
    actor.require(roles, what)
}
