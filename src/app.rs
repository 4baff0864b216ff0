//! Wiring: which ledger directory, which clock and seed (from flags and environment), and
//! which projections and reactors make up popug. Knows the contexts, not the CLI.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use popug_ledger::jetstream::{Address, JetStreamLog};
use popug_ledger::{Clock, Ledger, Options, Store, Subscribers};

use crate::error::{AppError, Result};

/// The one projection database of ledgers written before each context had its own store
/// (DESIGN §3). It is derived: the stores are built from the log, and it is removed.
pub const LEGACY_DB_FILE: &str = "popug.db";

/// How far ahead of the real clock `POPUG_NOW` may be (CLI.md): a backfill may name any
/// past instant after the last event, never a day that has not begun.
pub const MAX_CLOCK_AHEAD: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// What every command needs to know about where and when it runs.
#[derive(Debug, Clone)]
pub struct Env {
    /// The ledger's directory; for a ledger on NATS JetStream, this host's cache of it (its
    /// replica of the log and its stores, under `POPUG_CACHE`).
    pub ledger_dir: PathBuf,
    /// The JetStream ledger `--ledger nats://…` names, if it does.
    pub shared: Option<Address>,
    pub clock: Clock,
    /// `POPUG_SEED` as the caller gave it: read by `init` (a seeded ledger), and on any other
    /// command only checked against the ledger's own seed (see [`Env::options`]).
    pub requested_seed: Option<u64>,
    /// Who runs the commands: the person at this terminal, or one web request.
    pub caller: Caller,
    /// `popug worker`: the contexts whose reactions this process runs (and no other).
    pub worker: Option<Vec<String>>,
    /// The `stdout` notifications this process delivers, printed at the command's end
    /// (none are gathered for a web request).
    pub stdout_deliveries: crate::notifications::StdoutDeliveries,
}

/// Whose credential a command runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The command line: `POPUG_TOKEN`, else the session saved for this OS user (CLI.md).
    Terminal,
    /// One request to `popug serve`: exactly this token (a Bearer token or the session
    /// cookie's), or none. Never the server's own `POPUG_TOKEN` or saved session.
    Request(Option<String>),
}

impl Env {
    /// Reads `POPUG_NOW` and `POPUG_SEED`; `ledger` comes from `--ledger`/`POPUG_LEDGER`.
    /// `POPUG_NOW` more than [`MAX_CLOCK_AHEAD`] ahead of the real clock is exit 2.
    pub fn new(ledger: Option<PathBuf>) -> Result<Env> {
        let shared = match ledger.as_deref().and_then(|p| p.to_str()) {
            Some(s) if Address::is_url(s) => Some(Address::parse(s).map_err(|m| {
                AppError::usage(m).hint("a JetStream ledger is nats://HOST:PORT[,HOST:PORT…]/NAME")
            })?),
            _ => None,
        };
        let ledger_dir = match (&shared, ledger) {
            (Some(address), _) => cache_dir(address)?,
            (None, Some(dir)) => dir,
            (None, None) => default_ledger_dir()?,
        };
        let clock = match std::env::var("POPUG_NOW") {
            Ok(s) if !s.is_empty() => Clock::Fixed(
                DateTime::parse_from_rfc3339(&s)
                    .map_err(|e| {
                        AppError::usage(format!("POPUG_NOW `{}` is not an RFC 3339 instant", s))
                            .source(e)
                            .hint("for example POPUG_NOW=2026-11-27T09:00:00Z")
                    })?
                    .with_timezone(&Utc),
            ),
            _ => Clock::System,
        };
        if let Clock::Fixed(t) = clock {
            let real = Utc::now();
            if t > real + MAX_CLOCK_AHEAD {
                return Err(AppError::usage(format!(
                    "POPUG_NOW {} is ahead of the real clock ({}): a day that has not begun cannot be written",
                    popug_ledger::line::format_at(&t),
                    popug_ledger::line::format_at(&real),
                ))
                .hint("POPUG_NOW may be at most 5 minutes ahead of the real clock; unset it to use the system clock"));
            }
        }
        let seed = match std::env::var("POPUG_SEED") {
            Ok(s) if !s.is_empty() => Some(s.parse::<u64>().map_err(|e| {
                AppError::usage(format!("POPUG_SEED `{}` is not a whole number", s))
                    .source(e)
                    .hint("POPUG_SEED takes an unsigned 64-bit integer, e.g. POPUG_SEED=42")
            })?),
            _ => None,
        };
        Ok(Env {
            ledger_dir,
            shared,
            clock,
            requested_seed: seed,
            caller: Caller::Terminal,
            worker: None,
            stdout_deliveries: crate::notifications::StdoutDeliveries::gathered(),
        })
    }

    /// The same ledger and clock, for one web request made with `token`.
    pub fn for_request(&self, token: Option<String>) -> Env {
        Env {
            caller: Caller::Request(token),
            stdout_deliveries: Default::default(),
            ..self.clone()
        }
    }

    /// The options of a new ledger (`init`): seeded when `POPUG_SEED` is set.
    pub fn init_options(&self) -> Options {
        self.options_with(self.requested_seed)
    }

    /// The options of the existing ledger: its own seed (recorded at `init`, never the
    /// caller's), after checking `POPUG_SEED` against it: any other value, or any value on
    /// an unseeded ledger, is exit 2 (CLI.md), so no caller can steer a real ledger's draws.
    pub fn options(&self) -> Result<Options> {
        let seed = self.ledger_seed()?;
        if let Some(asked) = self.requested_seed
            && seed != Some(asked)
        {
            return Err(AppError::usage(match seed {
                Some(_) => format!("POPUG_SEED={asked} is not this ledger's seed"),
                None => format!("this ledger is not seeded: POPUG_SEED={asked} cannot steer its draws"),
            })
            .hint("a ledger's seed is fixed at `popug init` (tests and demos); unset POPUG_SEED"));
        }
        Ok(self.options_with(seed))
    }

    fn options_with(&self, seed: Option<u64>) -> Options {
        Options {
            seed,
            clock: self.clock,
            worker: self.worker.clone(),
            on_durable: self.stdout_deliveries.on_durable(),
        }
    }

    /// The seed the ledger was created with, from its first event (`LedgerInitialized`);
    /// `None` for an unseeded ledger, or one that does not exist or is still empty.
    pub fn ledger_seed(&self) -> Result<Option<u64>> {
        use std::io::{BufRead, Read};
        let path = self.ledger_dir.join(popug_ledger::EVENTS_FILE);
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            // no ledger there (a ledger path that is a file included): the open that follows
            // says so, naming the path (exit 4)
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(popug_ledger::LedgerError::io("read", &path, e).into()),
        };
        let mut first = Vec::new();
        std::io::BufReader::new(file.take(64 * 1024)).read_until(b'\n', &mut first)?;
        if !first.ends_with(b"\n") {
            return Ok(None);
        }
        // a damaged first line is the engine's to report (exit 6, the line named)
        let Ok(event) = popug_ledger::line::decode(&first[..first.len() - 1]) else {
            return Ok(None);
        };
        Ok(match crate::events::decode(&event) {
            Ok(crate::events::PopugEvent::LedgerInitialized(init)) => init.seed,
            _ => None,
        })
    }

    /// Opens the ledger, finishing whatever an interrupted command left behind (a store
    /// that is missing or of another version is built from the log). The projection
    /// database of a ledger written before the stores existed is removed once they are
    /// built: it is derived, and nothing reads it any more.
    pub fn open(&self) -> Result<Ledger> {
        if self.shared.is_some() {
            let mut ledger = self.open_unchecked()?;
            ledger.set_options(self.options()?);
            ledger.catch_up()?;
            note_recopied(&ledger);
            return Ok(ledger);
        }
        let ledger = Ledger::open(&self.ledger_dir, subscribers(&self.ledger_dir), self.options()?)?;
        remove_legacy_db(&self.ledger_dir)?;
        Ok(ledger)
    }

    /// [`Env::open`] for a command whose write session follows at once
    /// ([`Ledger::write`]): on a file ledger that session makes the open's checks and
    /// recovery itself, under the writer lock ([`Ledger::open_to_write`]); a JetStream
    /// ledger is opened as [`Env::open`] opens it. The projection database of a ledger from
    /// before the stores is removed at once, before the session builds the stores: nothing
    /// reads it.
    pub fn open_to_write(&self) -> Result<Ledger> {
        if self.shared.is_some() {
            return self.open();
        }
        let ledger = Ledger::open_to_write(&self.ledger_dir, subscribers(&self.ledger_dir), self.options()?)?;
        remove_legacy_db(&self.ledger_dir)?;
        Ok(ledger)
    }

    /// Opens the ledger as it is, without catching anything up (`verify`); a JetStream
    /// ledger's replica is synced first, so what is checked is the shared log.
    pub fn open_unchecked(&self) -> Result<Ledger> {
        let subs = subscribers(&self.ledger_dir);
        Ok(match self.connect()? {
            Some(log) => {
                Ledger::open_shared_unchecked(&self.ledger_dir, Box::new(log), subs, Options::default())?
            }
            None => Ledger::open_unchecked(&self.ledger_dir, subs, self.options()?)?,
        })
    }

    /// Connects to the JetStream cluster of a `nats://` ledger (`None` for a directory).
    pub fn connect(&self) -> Result<Option<JetStreamLog>> {
        self.shared
            .as_ref()
            .map(|a| JetStreamLog::connect(a).map_err(Into::into))
            .transpose()
    }

    /// The ledger's address as the user gave it: its directory, or its `nats://` address.
    pub fn address(&self) -> String {
        match &self.shared {
            Some(a) => a.to_string(),
            None => std::fs::canonicalize(&self.ledger_dir)
                .unwrap_or_else(|_| self.ledger_dir.clone())
                .display()
                .to_string(),
        }
    }

    /// "Now" of the business (today's date, the day a report is for): `POPUG_NOW` or the
    /// system clock. Never used for credentials: they live by the real clock (CLI.md).
    pub fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Clock::Fixed(t) => t,
            Clock::System => Utc::now(),
        }
    }
}

/// Where this host keeps its replica and stores of the JetStream ledger `address`:
/// `$POPUG_CACHE`, else `$XDG_CACHE_HOME/popug`, else `~/.cache/popug`, then one folder per
/// ledger (its name and a digest of its address). Derived: deleting it only costs a fetch.
fn cache_dir(address: &Address) -> Result<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = match (var("POPUG_CACHE"), var("XDG_CACHE_HOME"), var("HOME")) {
        (Some(d), _, _) => d,
        (None, Some(d), _) => d.join("popug"),
        (None, None, Some(home)) => home.join(".cache/popug"),
        (None, None, None) => {
            return Err(
                AppError::usage("cannot find a cache for the JetStream ledger: HOME is not set")
                    .hint("set POPUG_CACHE to a directory of this host"),
            );
        }
    };
    let digest = &crate::auth::token_sha256(&address.to_string())[..12];
    Ok(base.join(format!("{}-{digest}", address.name)))
}

/// Says on stderr when this host's copy of a JetStream ledger was found damaged and copied
/// again from the stream (the ledger itself is whole; the disk of this host is worth a look).
pub fn note_recopied(ledger: &Ledger) {
    if let Some(damage) = &ledger.last_recovery().recopied {
        eprintln!(
            "note: this host's copy of the shared log was damaged ({damage}); it was copied again from the stream"
        );
    }
}

/// How long a command on a shared log keeps deciding again after losing the race to append
/// (nothing of it written each time) before it is exit 5 `conflict` (CLI.md).
/// Longer than a write session's own budget for its reactions
/// ([`popug_ledger::SHARED_BUDGET`]), which one attempt may spend whole while a node
/// restarts and every writer retries.
pub const CONFLICT_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs a command (`f`) once; on a JetStream ledger, again after each lost race to append
/// (it wrote nothing, and runs again on the new head), with jittered back-off, for at most
/// [`CONFLICT_BUDGET`]. The one place commands are retried: the command line and `popug
/// serve` both run their commands through it.
pub fn retry_conflicts<T>(env: &Env, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let started = std::time::Instant::now();
    let mut attempt = 1;
    loop {
        match f() {
            Err(e) if env.shared.is_some() && e.is_conflict() && started.elapsed() < CONFLICT_BUDGET => {
                popug_ledger::backoff(attempt);
                attempt += 1;
            }
            result => return result,
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
    seed: Option<u64>,
    admin: &str,
    password_hash: String,
) -> Vec<popug_ledger::NewEvent> {
    use crate::events::{LedgerInitialized, Notify, Payload, Role, UserCreated};
    vec![
        LedgerInitialized {
            ledger_id,
            timezone: timezone.to_owned(),
            seed,
        }
        .to_event("system"),
        UserCreated {
            user_id: admin_id.into(),
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

/// Removes the projection database of a ledger written before the stores existed
/// ([`LEGACY_DB_FILE`] and its journal files), if it is there.
pub fn remove_legacy_db(dir: &std::path::Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal", ".rebuild", ".rebuild-journal"] {
        let p = dir.join(format!("{LEGACY_DB_FILE}{suffix}"));
        // only what is there: removing a missing file on a read-only filesystem is EROFS,
        // not NotFound, and a read command there must not fail for it
        if std::fs::symlink_metadata(&p).is_err() {
            continue;
        }
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Every context's store of popug, for the ledger at `dir`: its projection and its
/// reactor, in the order the reactors run (accounting, payments, notifications). Each
/// context writes only its own store (`views/<context>.db`); see DESIGN §3.
pub fn subscribers(dir: &std::path::Path) -> Subscribers {
    use crate::handover::HandOver;
    use crate::{accounting, analytics, auth, notifications, payments, scheduler, tasks};
    Subscribers {
        stores: vec![
            Store::new(scheduler::STORE, scheduler::STORE_VERSION).projection(scheduler::Calendar),
            Store::new(auth::STORE, auth::STORE_VERSION).projection(auth::projection::Users),
            Store::new(tasks::STORE, tasks::STORE_VERSION).projection(tasks::projection::Tasks),
            Store::new(accounting::STORE, accounting::STORE_VERSION)
                .projection(accounting::projection::Accounts)
                .projection(HandOver::new(accounting::STORE))
                .reactor(accounting::Accounting::default()),
            Store::new(payments::STORE, payments::STORE_VERSION)
                .projection(payments::projection::PaymentsLog)
                .projection(HandOver::new(payments::STORE))
                .reactor(payments::Payments {
                    provider: Box::new(payments::FilePayouts::new(dir.join("payouts"))),
                }),
            Store::new(notifications::STORE, notifications::STORE_VERSION)
                .projection(notifications::projection::Sent)
                .projection(HandOver::new(notifications::STORE))
                .reactor(notifications::Notifications::new(dir.join("notifications"))),
            Store::new(analytics::STORE, analytics::STORE_VERSION).projection(analytics::projection::Days),
        ],
    }
}
