//! Wiring: which ledger directory, which clock and seed (from flags and environment), and
//! which projections and reactors make up popug. Knows the contexts, not the CLI.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use popug_ledger::{Clock, Ledger, Options, Subscribers};

use crate::error::{AppError, Result};

/// Bump when a projection's tables change: older databases are rebuilt from the log on open.
pub const SCHEMA_VERSION: u32 = 6;
pub const DB_FILE: &str = "popug.db";

/// What every command needs to know about where and when it runs.
#[derive(Debug, Clone)]
pub struct Env {
    pub ledger_dir: PathBuf,
    pub clock: Clock,
    pub seed: Option<u64>,
}

impl Env {
    /// Reads `POPUG_NOW` and `POPUG_SEED`; `ledger` comes from `--ledger`/`POPUG_LEDGER`.
    pub fn new(ledger: Option<PathBuf>) -> Result<Env> {
        let ledger_dir = match ledger {
            Some(dir) => dir,
            None => default_ledger_dir()?,
        };
        let clock = match std::env::var("POPUG_NOW") {
            Ok(s) if !s.is_empty() => Clock::Fixed(
                DateTime::parse_from_rfc3339(&s)
                    .map_err(|e| {
                        AppError::usage(format!(
                            "POPUG_NOW `{}` is not an RFC 3339 instant",
                            s.escape_default()
                        ))
                        .source(e)
                        .hint("for example POPUG_NOW=2026-11-27T09:00:00Z")
                    })?
                    .with_timezone(&Utc),
            ),
            _ => Clock::System,
        };
        let seed = match std::env::var("POPUG_SEED") {
            Ok(s) if !s.is_empty() => Some(s.parse::<u64>().map_err(|e| {
                AppError::usage(format!(
                    "POPUG_SEED `{}` is not a whole number",
                    s.escape_default()
                ))
                .source(e)
                .hint("POPUG_SEED takes an unsigned 64-bit integer, e.g. POPUG_SEED=42")
            })?),
            _ => None,
        };
        Ok(Env {
            ledger_dir,
            clock,
            seed,
        })
    }

    pub fn options(&self) -> Options {
        Options {
            db_file: DB_FILE.into(),
            schema_version: SCHEMA_VERSION,
            seed: self.seed,
            clock: self.clock,
        }
    }

    /// Opens the ledger, finishing whatever an interrupted command left behind.
    pub fn open(&self) -> Result<Ledger> {
        Ok(Ledger::open(
            &self.ledger_dir,
            subscribers(&self.ledger_dir),
            self.options(),
        )?)
    }

    /// "Now" for checks that do not write (token expiry, today's date).
    pub fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Clock::Fixed(t) => t,
            Clock::System => Utc::now(),
        }
    }
}

/// `$XDG_DATA_HOME/popug`, else `~/.local/share/popug`.
fn default_ledger_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("popug"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/popug")),
        None => Err(
            AppError::usage("cannot find a home for the ledger: HOME is not set")
                .hint("pass --ledger DIR or set POPUG_LEDGER"),
        ),
    }
}

/// The first batch of every ledger: its settings (timezone, set once) and its first admin.
pub fn genesis(
    ledger_id: String,
    admin_id: String,
    timezone: &str,
    admin: &str,
    password_hash: String,
) -> Vec<popug_ledger::NewEvent> {
    use crate::events::{LedgerInitialized, Notify, Payload, Role, UserCreated};
    vec![
        LedgerInitialized {
            ledger_id,
            timezone: timezone.to_owned(),
        }
        .to_event("system"),
        UserCreated {
            user_id: admin_id,
            login: admin.to_owned(),
            name: None,
            email: None,
            role: Role::Admin,
            password_hash,
            notify: Notify::Stdout,
        }
        .to_event("system"),
    ]
}

/// Every projection and reactor of popug, in the order they run, for the ledger at `dir`.
pub fn subscribers(dir: &std::path::Path) -> Subscribers {
    Subscribers {
        projections: vec![
            Box::new(crate::scheduler::Calendar),
            Box::new(crate::auth::projection::Users),
            Box::new(crate::tasks::projection::Tasks),
            Box::new(crate::accounting::projection::Accounts),
            Box::new(crate::payments::projection::PaymentsLog),
            Box::new(crate::notifications::projection::Sent),
        ],
        reactors: vec![
            Box::new(crate::accounting::Accounting::default()),
            Box::new(crate::payments::Payments {
                provider: Box::new(crate::payments::FilePayouts::new(dir.join("payouts"))),
            }),
            Box::new(crate::notifications::Notifications::new(
                dir.join("notifications"),
            )),
        ],
    }
}
