//! `popug init`: a new ledger, its calendar and its first admin.

use clap::Args;
use popug_ledger::{Ledger, LedgerError};
use serde_json::json;

use crate::app::{Env, subscribers};
use crate::auth;
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::error::{AppError, Kind, Result};

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Login of the first admin
    #[arg(long, default_value = "admin", value_name = "LOGIN")]
    pub admin: String,
    /// IANA timezone in which a calendar day is counted (e.g. Europe/Berlin)
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    pub timezone: String,
    /// For a nats:// ledger: how many servers keep a copy of its stream (3 on a three-node
    /// cluster survives the loss of one)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub replicas: Option<u8>,
}

pub fn run(env: &Env, out: &mut Out, args: InitArgs) -> Result<()> {
    auth::validate_login(&args.admin)?;
    let tz = crate::zone::Zone::parse(&args.timezone).ok_or_else(|| {
        AppError::usage(format!("`{}` is not a timezone", args.timezone))
            .hint("use an IANA name such as UTC, Europe/Berlin or America/New_York")
    })?;
    let dir = &env.ledger_dir;
    let mut ledger = match env.connect()? {
        Some(mut log) => {
            // a stream left empty by an init that stopped before its first batch is finished
            if !log.exists()? {
                log.create(usize::from(args.replicas.unwrap_or(1)))?;
            }
            Ledger::create_shared(dir, Box::new(log), subscribers(dir), env.init_options())?
        }
        None if args.replicas.is_some() => {
            return Err(
                AppError::usage("--replicas is for a ledger on NATS JetStream (--ledger nats://…)").hint(
                    "a ledger directory lives on this host; copy it with `popug ledger copy` to replicate it",
                ),
            );
        }
        None => match Ledger::create(dir, subscribers(&env.ledger_dir), env.init_options()) {
            Ok(l) => l,
            // a directory that holds only what an init that never finished leaves (an empty,
            // private log of this user, its lock and database): finish it
            Err(LedgerError::AlreadyExists(_)) if unfinished_init(dir)? => {
                Ledger::open(dir, subscribers(dir), env.init_options())?
            }
            Err(e) => return Err(e.into()),
        },
    };
    let password = auth::generate_password();
    let password_hash = auth::hash_password(&password)?;
    let mut w = ledger.write(env.clock)?;
    if w.head()?.seq > 0 {
        return Err(AppError::new(
            Kind::Conflict,
            "ledger_exists",
            format!("a ledger already exists at `{}`", env.address()),
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
    match w.append(batch) {
        // another host's init won the race for the empty stream
        Err(e) if e.is_conflict() => {
            return Err(AppError::new(
                Kind::Conflict,
                "ledger_exists",
                format!("a ledger already exists at `{}`", env.address()),
            )
            .hint(
                "another host's init made it first; sign in there, or choose another name after the servers",
            ));
        }
        r => r?,
    };
    drop(w);
    let shown_dir = env.address();
    out.report(&Answer::new(
        json!({
            "ledger": shown_dir,
            "admin": { "user_id": user_id, "login": args.admin, "password": password },
        }),
        vec![
            format!(
                "Created the ledger at {} (timezone {})",
                shown_dir,
                tz.name()
            ),
            format!("Admin `{}`, temporary password: {password}", args.admin),
            "The password is shown only this once; sign in with `popug login` and change it with `popug passwd`."
                .into(),
        ],
    ))
}

/// Whether `dir` holds only what `init` leaves when it stops before its first batch: an
/// empty `events.jsonl` that is a private regular file of this user, the lock, and the
/// projection database. Anything else is someone's directory, never taken over.
fn unfinished_init(dir: &std::path::Path) -> Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let log = std::fs::symlink_metadata(dir.join(popug_ledger::EVENTS_FILE))?;
    // SAFETY: geteuid has no preconditions and cannot fail
    let mine = log.uid() == unsafe { libc::geteuid() };
    if !log.is_file() || log.len() != 0 || !mine || log.mode() & 0o077 != 0 {
        return Ok(false);
    }
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        let ours = name == popug_ledger::EVENTS_FILE
            || name == popug_ledger::LOCK_FILE
            || name == popug_ledger::VIEWS_DIR
            || name
                .strip_prefix(crate::app::LEGACY_DB_FILE)
                .is_some_and(|rest| ["", "-wal", "-shm", "-journal"].contains(&rest));
        if !ours {
            return Ok(false);
        }
    }
    Ok(true)
}
