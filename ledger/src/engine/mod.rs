//! The engine: one ledger directory, its log, its SQLite projections and its subscribers.
//!
//! Every write goes lock → recover → catch up → decide (the caller) → append → project →
//! react, with the lock held throughout. Projections and their checkpoints change in one
//! SQLite transaction, so each event is applied exactly once. Reactions are exactly-once
//! across crashes because a reaction's events carry the causing event's id: before a
//! reactor handles an event it looks ahead in the log for events it already produced for
//! it, so a crash between the append and the SQLite commit never doubles a reaction.
//!
//! Split by job: this file holds the subscriber traits, the options and clock, opening and
//! creating a ledger and starting a write session; `write` the write session (append,
//! project, react, deliver what was deferred); `rebuild` and `verify`; `store` the SQLite
//! side and the writer lock (taken in one place, `lock_writers`).

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use crate::error::{BoxError, LedgerError, Problem};
use crate::line::{self, Event, Hash, NewEvent};
use crate::log::{self, LogReader, Position, Torn};
use crate::shared::{AppendFailure, Replica, SharedLog};

mod rebuild;
pub use rebuild::signals::Interrupt;
mod store;
mod verify;
mod write;

pub use store::configure_sqlite;
use store::*;

use write::new_id;
pub use write::{SHARED_BUDGET, WriteGuard, backoff};

pub const EVENTS_FILE: &str = "events.jsonl";
/// The folder of the stores (`views/<store>.db`), beside the log.
pub const VIEWS_DIR: &str = "views";
pub const LOCK_FILE: &str = "lock";
/// Reaction rounds allowed for one command before the engine suspects a reactor loop.
const MAX_ROUNDS: usize = 64;
/// A store being filled from the log (rebuild, verify's replay) needs no journal: if
/// anything goes wrong it is thrown away. Sorts for the indexes built at the end stay in
/// memory, and may use a second thread. Its page cache is a share of [`BULK_CACHE_KIB`].
pub const BULK_PRAGMAS: &str = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
     PRAGMA temp_store=MEMORY; PRAGMA locking_mode=EXCLUSIVE; PRAGMA threads=2;";
/// The page cache of all the stores being filled at once, shared among them (KiB): 32 MB
/// keeps the hot pages of every table in memory (SQLite's default of 2 MB per database
/// spills to disk constantly), and the peak of a rebuild stays under 100 MB however many
/// stores there are (40 MB was no faster on the 1M-event ledger, and 7 MB more of the
/// peak).
pub const BULK_CACHE_KIB: usize = 32 * 1024;

/// [`BULK_PRAGMAS`] with this store's share of the cache, for `stores` filled at once.
pub(super) fn bulk_pragmas(stores: usize) -> String {
    let share = (BULK_CACHE_KIB / stores.max(1)).max(2048);
    format!("{BULK_PRAGMAS} PRAGMA cache_size=-{share};")
}
/// Events applied per SQLite transaction while catching up or rebuilding.
const CATCH_UP_CHUNK: u64 = 20_000;

/// Folds events into SQLite tables. Applying is deterministic: the same events give the
/// same rows, which is what `verify` checks by replaying.
pub trait Projection: Send + Sync {
    fn name(&self) -> &str;
    /// Creates this projection's tables (called on a new or rebuilt database).
    fn migrate(&self, db: &Connection) -> rusqlite::Result<()>;
    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError>;

    /// For a replay of the log from its first event into this projection's empty tables
    /// (rebuild, verify): a fold that may keep in memory what `apply` updates row by row
    /// (running totals, counters, read-only settings) and hold its statements prepared,
    /// writing the rest in [`Replay::finish`]. It must leave exactly the rows that `apply`
    /// leaves for the same events: `verify` compares a replay with the live tables that
    /// `apply` kept. `None` (the default): the replay calls `apply` for every event.
    fn replay<'db>(&self, _db: &'db Connection) -> rusqlite::Result<Option<Box<dyn Replay + 'db>>> {
        Ok(None)
    }
}

/// A projection's fold over a whole replay; see [`Projection::replay`].
pub trait Replay {
    fn apply(&mut self, db: &Connection, event: &Event) -> Result<(), BoxError>;
    /// Writes what the fold kept in memory; called once, after the last event.
    fn finish(self: Box<Self>, _db: &Connection) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Reacts to events by deciding new ones. Its events are appended as one atomic batch per
/// causing event, with `causation_id` set to that event and `producer` set to `name()`.
/// The engine never asks twice for an event whose reaction is already in the log; side
/// effects outside the log (files) must still be idempotent, because a crash can come
/// between them and the append.
pub trait Reactor {
    fn name(&self) -> &str;
    fn react(&self, db: &Connection, event: &Event, ctx: &mut Context<'_>)
    -> Result<Vec<NewEvent>, BoxError>;

    /// Makes the side effects of this round's `react` calls durable. The engine calls it
    /// before it appends the round's events, so a reactor may write many files and sync
    /// them once instead of once per event.
    fn flush(&self) -> Result<(), BoxError> {
        Ok(())
    }

    /// Side effects this reactor deferred earlier because they could not be delivered (one
    /// user's broken mailbox) and tries again now: called once per write session that
    /// appends, after its first commit and the reactions to it (a refused command writes
    /// nothing, deliveries included). Each [`Retried`] batch is appended like a reaction (its
    /// `causation_id` the event that recorded the deferral, `producer` this reactor), after
    /// [`Reactor::flush`]. A delivery that fails again gives no batch and stays deferred: an
    /// undeliverable side effect must never fail or block a command (CLI.md, exit codes).
    fn retry(&self, _db: &Connection, _ctx: &mut Context<'_>) -> Result<Vec<Retried>, BoxError> {
        Ok(Vec::new())
    }

    /// Whether this reactor's work is handed to a worker process (as its store records,
    /// from the log): write sessions then leave it to the worker, unless they run as that
    /// worker ([`Options::worker`]). Default: never.
    fn handed_over(&self, _db: &Connection) -> Result<bool, BoxError> {
        Ok(false)
    }

    /// Whether this reactor's side effects land on the host that runs it (files: a payout
    /// file, a Maildir). On a shared log such a reactor runs only in `popug worker`s, never
    /// in commands: a command whose reaction round loses the race undoes its events but not
    /// its files, and another host would make the same side effect again in its own files.
    /// Default: no (its work is its events alone).
    fn host_side_effects(&self) -> bool {
        false
    }
}

/// A batch [`Reactor::retry`] delivered at last, and the event that deferred it.
pub struct Retried {
    /// The id of the event that recorded the deferral (the new batch's `causation_id`).
    pub causation_id: Uuid,
    /// That event's `correlation_id`, which the new batch keeps.
    pub correlation_id: Uuid,
    pub events: Vec<NewEvent>,
}

/// What a decision may use besides the projections: the clock and the random source, both
/// injected so that a seeded run is reproducible.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub rng: &'a mut StdRng,
    /// The write session's last id, when the context belongs to one (ids then increase).
    last_id: Option<&'a mut u128>,
    /// The write session's ledger, when the context is a reaction's (see
    /// [`Context::durable`]).
    session: Option<&'a Ledger>,
}

impl<'a> Context<'a> {
    /// A context outside any write session (tests of a single decision): its ids are
    /// random UUIDv7s at `now`, not ordered among themselves.
    pub fn new(now: DateTime<Utc>, rng: &'a mut StdRng) -> Context<'a> {
        Context {
            now,
            rng,
            last_id: None,
            session: None,
        }
    }

    /// Makes every event this write session appended so far durable (one `fdatasync` of the
    /// log, only if something is waiting). A reactor calls it before a side effect outside
    /// the log becomes visible (a payout row, a message moved into a Maildir's `new/`): the
    /// events that caused it must survive a power cut if the effect does (docs/guarantees.md
    /// P6). A no-op outside a write session and on a shared log.
    pub fn durable(&self) -> Result<(), LedgerError> {
        self.session.map_or(Ok(()), Ledger::sync_log)
    }

    /// A fresh UUIDv7 at this decision's instant, drawn from the injected random source;
    /// within a write session, greater than every id the session made before.
    pub fn new_id(&mut self) -> Uuid {
        new_id(self.now, self.rng, self.last_id.as_deref_mut())
    }
}

/// A bounded context's store: the SQLite file `views/<name>.db` beside the log, with its
/// own tables, schema version and checkpoints, written only by its projections (DESIGN §3).
/// Its reactors decide from it and keep their checkpoints in it. A write session commits
/// each store in its own SQLite transaction: a crash between two stores' commits leaves the
/// later ones behind, and each catches up from its own checkpoint before anything is
/// decided. Stores are replayed in parallel threads by `rebuild` and `verify`.
pub struct Store {
    /// The store's name: its file is `views/<name>.db`, and the schema it is attached as
    /// in a cross-store read ([`Ledger::reader`]).
    pub name: String,
    /// The version of this store's tables: a store built by another version is rebuilt from
    /// the log on open (the other stores are left as they are).
    pub version: u32,
    pub projections: Vec<Box<dyn Projection>>,
    pub reactors: Vec<Box<dyn Reactor>>,
}

impl Store {
    pub fn new(name: &str, version: u32) -> Store {
        Store {
            name: name.to_owned(),
            version,
            projections: Vec::new(),
            reactors: Vec::new(),
        }
    }

    pub fn projection(mut self, p: impl Projection + 'static) -> Store {
        self.projections.push(Box::new(p));
        self
    }

    pub fn reactor(mut self, r: impl Reactor + 'static) -> Store {
        self.reactors.push(Box::new(r));
        self
    }

    /// The names of this store's subscribers (projections, then reactors): each has a
    /// checkpoint in the store.
    fn subscriber_names(&self) -> impl Iterator<Item = &str> {
        self.projections
            .iter()
            .map(|p| p.name())
            .chain(self.reactors.iter().map(|r| r.name()))
    }
}

/// Every store of an application, in the order their reactors run.
#[derive(Default)]
pub struct Subscribers {
    pub stores: Vec<Store>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Seed for ids and decisions (reproducible runs). The stream is derived from the seed
    /// and the hash of the last event, so two commands never draw the same numbers.
    pub seed: Option<u64>,
    /// The clock of what the engine writes on its own: the reactions an interrupted command
    /// left behind, finished when the ledger is opened with [`Ledger::open`] or rebuilt. A
    /// fixed clock earlier than the last event is taken as that event's instant (opening
    /// never fails for it). Commands pass their clock to [`Ledger::write`]; a ledger opened
    /// with [`Ledger::open_to_write`] leaves that work to the command's session, which
    /// decides it at the command's clock (and a command whose clock is behind the log is
    /// refused before it, leaving it for the next session).
    pub clock: Clock,
    /// A worker process: the stores whose reactors it runs, whether handed over or not;
    /// the reactors of every other store are left alone. `None`: a command, which runs
    /// every reactor that is not handed over ([`Reactor::handed_over`]).
    pub worker: Option<Vec<String>>,
    /// Told of the events of every write-session transaction once they are durable in the
    /// log and the stores hold them: the command's own events, its reactions, and what a
    /// session finished for an interrupted command (also the session [`Ledger::open`] runs
    /// for a reader). With the ledger, to read the stores as they are then. For an
    /// application that shows some events to whoever ran the process (popug prints the
    /// notifications on a user's `stdout` channel, CLI.md).
    pub on_durable: Option<OnDurable>,
}

/// The hook of [`Options::on_durable`]: given the ledger and the durable events.
pub type DurableHook = dyn Fn(&Ledger, &[Event]) + Send + Sync;

/// See [`Options::on_durable`].
#[derive(Clone)]
pub struct OnDurable(pub std::sync::Arc<DurableHook>);

impl std::fmt::Debug for OnDurable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnDurable(..)")
    }
}

/// Which instant "now" is.
#[derive(Debug, Clone, Copy, Default)]
pub enum Clock {
    /// The system clock, never earlier than the last event (a clock that stepped back is
    /// clamped to the last event's instant).
    #[default]
    System,
    /// A fixed instant; refused if it is earlier than the last event.
    Fixed(DateTime<Utc>),
}

impl Clock {
    fn resolve(self, last: Option<DateTime<Utc>>) -> Result<DateTime<Utc>, LedgerError> {
        let now = match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        };
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).expect("in range");
        match (self, last) {
            (Clock::Fixed(_), Some(last)) if now < last => Err(LedgerError::ClockBehind { now, last }),
            (Clock::System, Some(last)) if now < last => Ok(last),
            _ => Ok(now),
        }
    }

    /// For the engine's own writes: never earlier than the last event, never an error.
    fn resolve_at_least(self, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
        match self.resolve(last) {
            Ok(now) => now,
            Err(_) => last.expect("only a clock behind a last event is refused"),
        }
    }
}

/// Told (bytes read, log size) during long reads.
type ProgressFn = Box<dyn FnMut(u64, u64) + Send>;
type ProgressCell = std::sync::Mutex<Option<ProgressFn>>;

pub struct Ledger {
    dir: PathBuf,
    events: PathBuf,
    stores: Vec<OpenStore>,
    /// For a ledger on a shared log: this host's replica of it (`events` is the replica's
    /// file), synced whenever the writer lock is taken.
    replica: Option<Replica>,
    opts: Options,
    last_recovery: Recovery,
    /// Called now and then by long reads (rebuild, verify) with (bytes read, log size).
    progress: ProgressCell,
    /// Where the part of the log this write session wrote but has not synced yet begins (a
    /// file log: a session writes its batches and reaction rounds, and syncs once, before
    /// anything depends on them; see [`Ledger::sync_log`]).
    unsynced: std::cell::Cell<Option<Position>>,
}

/// Set by [`leave_stores_open_at_exit`].
static LEAVE_OPEN_AT_EXIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For a process that exits once its command is done (a CLI command, not a server or a
/// worker): every [`Ledger`] dropped from now on leaves its stores' connections to the
/// process's exit instead of closing them one by one.
///
/// Closing a live store does nothing durable: its WAL is kept on close (the commits are in
/// it, and the log is synced before any of them), so a close only finalizes statements,
/// frees the page cache, unmaps the WAL index and closes three files, 0.19 ms of a
/// 5 ms `task create` for seven stores; the exit releases all of it at once, as it does
/// for a process that is killed, which SQLite's WAL mode is built for (SQLite, "Write-Ahead
/// Logging": a crash or a `kill` leaves a consistent database). A connection still inside a
/// transaction (an error path) is closed as before, which rolls it back.
///
/// Never for a long-running process: each ledger it drops would keep three files open per
/// store.
pub fn leave_stores_open_at_exit() {
    LEAVE_OPEN_AT_EXIT.store(true, std::sync::atomic::Ordering::Relaxed);
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if LEAVE_OPEN_AT_EXIT.load(std::sync::atomic::Ordering::Relaxed) {
            for store in self.stores.drain(..) {
                if store.db.is_autocommit() {
                    std::mem::forget(store);
                }
            }
        }
    }
}

/// A store and its live connection.
pub(super) struct OpenStore {
    pub(super) spec: Store,
    pub(super) path: PathBuf,
    pub(super) db: Connection,
    /// The store's file is missing or is not a readable database: `db` is an empty
    /// in-memory stand-in (the store counts as stale), and a write session replaces the
    /// file with a new one before it builds the store from the log.
    pub(super) placeholder: bool,
}

impl OpenStore {
    /// Opens the store `spec` at `path` as it is: a missing file, or one SQLite cannot read
    /// (not a database, damaged), gives a placeholder rather than an error or a new file.
    /// Any other failure (a full disk, no permission) is an error: only a store that SQLite
    /// itself calls damaged is replaced.
    pub(super) fn open(spec: Store, path: PathBuf) -> Result<OpenStore, LedgerError> {
        let opened = open_readable(&path)?;
        let (db, placeholder) = match opened {
            Some(db) => (db, false),
            None => (Connection::open_in_memory().map_err(|e| db_err(&path, e))?, true),
        };
        Ok(OpenStore {
            spec,
            path,
            db,
            placeholder,
        })
    }

    /// Replaces a placeholder with a new, empty file (under the writer lock); or with the
    /// store another process made since this one opened the placeholder (the first commands
    /// on a new host, at once: removing it would pull it from under them).
    pub(super) fn materialize(&mut self) -> Result<(), LedgerError> {
        if self.placeholder {
            if let Some(db) = open_readable(&self.path)? {
                self.db = db;
                self.placeholder = false;
                return Ok(());
            }
            remove_db_files(&self.path)?;
            self.db = open_live(&self.path)?;
            self.placeholder = false;
        }
        Ok(())
    }
}

/// Opens the store file at `path` when it is there and SQLite can read it; `None` when it
/// is missing or SQLite calls it damaged (not a database, corrupt). Any other failure (a
/// full disk, no permission) is an error.
fn open_readable(path: &Path) -> Result<Option<Connection>, LedgerError> {
    let damaged = |e: &rusqlite::Error| {
        matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
        )
    };
    if !path.exists() {
        return Ok(None);
    }
    match open_live(path) {
        Ok(db) => match db.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
            Ok(_) => Ok(Some(db)),
            Err(e) if damaged(&e) => Ok(None),
            Err(e) => Err(db_err(path, e)),
        },
        Err(LedgerError::Db { ref source, .. }) if damaged(source) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a write session did besides the caller's own batch.
#[derive(Debug, Default)]
pub struct Recovery {
    /// Where a torn tail was moved, if one was found.
    pub torn_moved_to: Option<PathBuf>,
    /// Events projected that an earlier, interrupted command had appended.
    pub projected: u64,
    /// Whether the projection database had to be rebuilt.
    pub rebuilt: bool,
    /// The damage found in this host's copy of a shared log, which was then copied again
    /// from the stream (`None`: the copy was sound).
    pub recopied: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub events: u64,
    pub last: Position,
    /// The files of an earlier rebuild that was killed, removed by this one.
    pub leftover_removed: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub events: u64,
    pub last: Position,
    /// Events in the log that the projections have not applied yet (an interrupted command;
    /// the next command applies them).
    pub projection_lag: u64,
    /// Events that some reactor has not handled yet.
    pub reaction_lag: u64,
    /// Bytes after the last complete batch (a torn write the next writer moves aside).
    pub torn_bytes: u64,
    /// Tables compared between the live database and a fresh replay (none when there is
    /// no projection database yet: the next command builds it).
    pub tables_compared: Vec<String>,
    /// The first problem the application's own checks found on the same snapshot (they
    /// run only when every store is there).
    pub problem: Option<String>,
    /// The stores that are missing, unreadable, of another version, or whose checkpoints name
    /// no line of this log: neither replayed nor compared nor checked (the next command
    /// builds them from the log).
    pub stores_missing: Vec<String>,
}

impl Ledger {
    /// Creates a new ledger directory (0700) with an empty log and empty stores.
    pub fn create(dir: &Path, subs: Subscribers, opts: Options) -> Result<Ledger, LedgerError> {
        let events = dir.join(EVENTS_FILE);
        if events.exists() {
            return Err(LedgerError::AlreadyExists(dir.to_owned()));
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| LedgerError::io("create", parent, e))?;
        }
        match fs::create_dir(dir) {
            // a directory this call made is private; one that was there keeps its mode
            Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| LedgerError::io("set permissions of", dir, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && !dir.is_dir() => {
                return Err(LedgerError::NotEmpty(dir.to_owned()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut entries = fs::read_dir(dir).map_err(|e| LedgerError::io("list", dir, e))?;
                if entries.next().is_some() {
                    return Err(LedgerError::NotEmpty(dir.to_owned()));
                }
            }
            Err(e) => return Err(LedgerError::io("create", dir, e)),
        }
        let _lock = lock_writers(dir)?;
        match log::create_private(&events) {
            Ok(f) => f.sync_all().map_err(|e| LedgerError::io("sync", &events, e))?,
            Err(LedgerError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(LedgerError::AlreadyExists(dir.to_owned()));
            }
            Err(e) => return Err(e),
        }
        log::sync_dir(dir)?;
        let stores = new_stores(dir, subs)?;
        Ok(Ledger::assemble(dir, stores, opts))
    }

    /// Opens an existing ledger. A store is created or rebuilt when it is missing or from
    /// another schema version, and caught up when an interrupted command left work behind;
    /// all of that under the writer lock. A ledger that is already caught up is opened
    /// without taking the lock (a reactor whose work waits for a worker, handed over or with
    /// side effects on another host of a shared log, is not behind for this).
    pub fn open(dir: &Path, subs: Subscribers, opts: Options) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::open_unchecked(dir, subs, opts)?;
        // each store's schema and checkpoints read once for the three checks
        let current = ledger.current_schemas()?;
        let positions = ledger.positions()?;
        if current.contains(&false)
            || ledger.is_behind(&positions)?
            || !ledger.foreign_among(&positions, &current)?.is_empty()
        {
            drop(ledger.write_as(None)?);
        }
        Ok(ledger)
    }

    /// Opens a ledger for a write session that follows at once ([`Ledger::write`]), without
    /// [`Ledger::open`]'s checks: that session makes them itself, under the writer lock,
    /// before the caller decides anything (stores missing or of another version built,
    /// every store caught up, a torn tail moved aside, interrupted reactions finished). The
    /// checks of `open` decide whether a reader needs such a session; a writer would make
    /// them twice (0.23 ms of a `task create`: each store's schema version and checkpoints
    /// read, and the log's tail). Not for a reader: its stores may be behind the log.
    pub fn open_to_write(dir: &Path, subs: Subscribers, opts: Options) -> Result<Ledger, LedgerError> {
        Ledger::open_unchecked(dir, subs, opts)
    }

    /// Opens a ledger as it is: no lock, no recovery, no catch-up. For `verify`, which must
    /// look at a damaged ledger without touching it.
    pub fn open_unchecked(dir: &Path, subs: Subscribers, opts: Options) -> Result<Ledger, LedgerError> {
        let events = dir.join(EVENTS_FILE);
        if !events.is_file() {
            return Err(LedgerError::NotFound(dir.to_owned()));
        }
        let views = views_dir(dir)?;
        let stores = subs
            .stores
            .into_iter()
            .map(|spec| {
                let path = store_path(&views, &spec.name);
                OpenStore::open(spec, path)
            })
            .collect::<Result<Vec<_>, LedgerError>>()?;
        Ok(Ledger::assemble(dir, stores, opts))
    }

    /// Opens the ledger whose log is `log`, shared with other hosts, keeping this host's
    /// replica and stores in `dir` (created 0700 when missing; derived, rebuildable). Every
    /// open syncs the replica and catches the stores up under the writer lock, so what a
    /// command reads is the shared log as it was a moment ago.
    /// [`LedgerError::SharedNotFound`] when there is no such log.
    pub fn open_shared(
        dir: &Path,
        log: Box<dyn SharedLog>,
        subs: Subscribers,
        opts: Options,
    ) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::open_shared_unchecked(dir, log, subs, opts)?;
        ledger.catch_up()?;
        Ok(ledger)
    }

    /// Replaces the options (a shared ledger's seed is known only once its replica is
    /// synced: open it unchecked, read the seed, set the options, then [`Ledger::catch_up`]).
    pub fn set_options(&mut self, opts: Options) {
        self.opts = opts;
    }

    /// Finishes what [`Ledger::open`] does after opening: under the writer lock, syncs a
    /// shared log's replica, builds missing or outdated stores and catches every store and
    /// reactor up.
    pub fn catch_up(&mut self) -> Result<(), LedgerError> {
        drop(self.write_as(None)?);
        Ok(())
    }

    /// [`Ledger::open_shared`] with the replica synced but nothing else done (`verify`).
    pub fn open_shared_unchecked(
        dir: &Path,
        log: Box<dyn SharedLog>,
        subs: Subscribers,
        opts: Options,
    ) -> Result<Ledger, LedgerError> {
        make_private_dir(dir)?;
        let mut replica = Replica::new(dir, log);
        {
            let _lock = lock_writers(dir)?;
            replica.load()?;
            replica.sync()?;
        }
        // a log that does not exist was refused by the sync (SharedNotFound); an empty one
        // is a ledger with no event yet, as an empty log file is
        let mut ledger = Ledger::open_unchecked(dir, subs, opts)?;
        ledger.replica = Some(replica);
        Ok(ledger)
    }

    /// Creates a ledger on the shared log `log`, which must hold no message yet, with this
    /// host's replica and empty stores in `dir` (what an earlier cache held there is
    /// dropped). [`LedgerError::SharedExists`] when the log is not empty.
    pub fn create_shared(
        dir: &Path,
        mut log: Box<dyn SharedLog>,
        subs: Subscribers,
        opts: Options,
    ) -> Result<Ledger, LedgerError> {
        if log.last()? != 0 {
            return Err(LedgerError::SharedExists(log.address().to_owned()));
        }
        make_private_dir(dir)?;
        let _lock = lock_writers(dir)?;
        let mut replica = Replica::new(dir, log);
        replica.reset()?;
        let stores = new_stores(dir, subs)?;
        let mut ledger = Ledger::assemble(dir, stores, opts);
        ledger.replica = Some(replica);
        Ok(ledger)
    }

    /// Whether the log is shared (and the log file a replica of it).
    pub fn is_shared(&self) -> bool {
        self.replica.is_some()
    }

    /// The shared log, when there is one.
    pub fn shared_log(&mut self) -> Option<&mut dyn SharedLog> {
        self.replica.as_mut().map(|r| r.log())
    }

    /// Appends staged bytes (whole batches after `start`, each ending at its entry of
    /// `batch_ends`): to the file, or to the shared log and then the replica. A file log is
    /// written but not synced: the write session syncs once ([`Ledger::sync_log`]) before
    /// its first side effect outside the log, before it says a command was recorded, and
    /// before it commits, so one command and its reaction rounds cost one `fdatasync`. A
    /// shared log's append is durable when it returns (the stream's acknowledgement). On an
    /// error, the position up to which batches were stored all the same (only a shared log
    /// that takes a long append in several messages stores part of one).
    fn append_log(
        &mut self,
        start: Position,
        bytes: &[u8],
        batch_ends: &[(usize, Position)],
    ) -> Result<(), Box<AppendFailure>> {
        match &mut self.replica {
            None => {
                log::append(&self.events, start.offset, bytes, false)
                    .map_err(|error| Box::new(AppendFailure { error, stored: None }))?;
                if self.unsynced.get().is_none() {
                    self.unsynced.set(Some(start));
                }
                Ok(())
            }
            Some(r) => r.append(start, bytes, batch_ends),
        }
    }

    /// Makes everything this session appended durable (one `fdatasync` of the log), if
    /// anything is waiting. When the sync fails, the log is cut back to where the unsynced
    /// part began: [`LedgerError::SyncFailed`] says after which event (what was cut never
    /// happened).
    pub(super) fn sync_log(&self) -> Result<(), LedgerError> {
        match self.unsynced.take() {
            Some(from) => {
                log::sync_appended(&self.events, from.offset).map_err(|e| LedgerError::SyncFailed {
                    path: self.events.clone(),
                    kept_seq: from.seq,
                    source: Box::new(e),
                })
            }
            None => Ok(()),
        }
    }

    /// Syncs the log when it holds more than every store has applied: what a writer killed
    /// between its writes and its sync left in the page cache (a process kill keeps it; a
    /// power cut may not). Called under the writer lock before anything reads the log into
    /// the stores or reacts to it, so that no store commits, and no side effect follows,
    /// an event that is not durable. The stores commit only after their session's sync, so
    /// the log up to their checkpoints is durable already: a session after a clean one
    /// makes no sync here. A shared log's replica holds only acknowledged messages.
    fn sync_left_behind(&self) -> Result<(), LedgerError> {
        if self.replica.is_some() {
            return Ok(());
        }
        let applied = self.head()?.offset;
        if log::file_len(&self.events)? > applied {
            log::sync_data(&self.events)?;
        }
        Ok(())
    }

    /// Whether reactor `ri` of store `si` runs in this process: a worker runs its stores'
    /// reactors, a command every reactor that is not handed over to a worker.
    pub(super) fn runs_here(&self, si: usize, ri: usize) -> Result<bool, LedgerError> {
        let store = &self.stores[si];
        if let Some(stores) = &self.opts.worker {
            return Ok(stores.contains(&store.spec.name));
        }
        self.left_to_worker(store.spec.reactors[ri].as_ref(), &store.db)
            .map(|left| !left)
    }

    /// Whether `reactor`'s work waits for a `popug worker` rather than running in commands:
    /// handed over (as its store `db` records), or, on a shared log, with side effects on
    /// the host that runs it (payout files, Maildirs). Such a reactor lags behind the log
    /// until its worker runs.
    pub(super) fn left_to_worker(&self, reactor: &dyn Reactor, db: &Connection) -> Result<bool, LedgerError> {
        if self.replica.is_some() && reactor.host_side_effects() {
            return Ok(true);
        }
        reactor.handed_over(db).map_err(|source| LedgerError::React {
            name: reactor.name().to_owned(),
            seq: 0,
            event_type: "(whether it is handed to a worker)".into(),
            source,
        })
    }

    /// Copies what other hosts appended to a shared log into this host's replica (under the
    /// writer lock, taken here), without touching the stores: for a reader that follows the
    /// log (`events --follow`). Nothing to do for a file ledger.
    pub fn refresh(&mut self) -> Result<(), LedgerError> {
        if self.replica.is_some() {
            let _lock = lock_writers(&self.dir)?;
            self.sync_replica()?;
        }
        Ok(())
    }

    /// Runs `work` (a verify, a rebuild: it reads every line); when it finds a line that does
    /// not check in this host's copy of a shared log, that is this host's damage while the
    /// stream is whole: the copy is made again and `work` runs once more, and
    /// [`Recovery::recopied`] says so. A stream whose history changed is not damage of the
    /// copy ([`LedgerError::Diverged`]) and is refused as it is.
    pub(super) fn or_recopy<T>(
        &mut self,
        mut work: impl FnMut(&mut Ledger) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        match work(self) {
            Err(e @ LedgerError::Corrupt { .. }) if self.replica.is_some() => {
                self.recopy()?;
                let done = work(self)?;
                self.last_recovery.recopied = Some(e.to_string());
                Ok(done)
            }
            result => result,
        }
    }

    /// Copies this host's replica of a shared log again from the stream, whole (a damaged
    /// copy). Nothing to do for a file ledger.
    fn recopy(&mut self) -> Result<(), LedgerError> {
        if let Some(r) = &mut self.replica {
            let _lock = lock_writers(&self.dir)?;
            r.reset()?;
            r.sync()?;
        }
        Ok(())
    }

    /// Syncs the replica of a shared log (under the writer lock, which the caller holds).
    fn sync_replica(&mut self) -> Result<(), LedgerError> {
        if let Some(r) = &mut self.replica {
            r.load()?;
            r.sync()?;
        }
        Ok(())
    }

    /// What the last write session (or the catch-up in `open`) recovered.
    pub fn last_recovery(&self) -> &Recovery {
        &self.last_recovery
    }

    fn assemble(dir: &Path, stores: Vec<OpenStore>, opts: Options) -> Ledger {
        let events = dir.join(EVENTS_FILE);
        Ledger {
            dir: dir.to_owned(),
            events,
            stores,
            replica: None,
            opts,
            last_recovery: Recovery::default(),
            progress: Default::default(),
            unsynced: Default::default(),
        }
    }

    /// Reports the progress of long reads (rebuild, verify): (bytes read, log size).
    pub fn set_progress(&mut self, f: impl FnMut(u64, u64) + Send + 'static) {
        *self.progress.lock().expect("progress is never poisoned") = Some(Box::new(f));
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn events_path(&self) -> &Path {
        &self.events
    }

    /// The store called `name`, for its own context's queries. Never write through this.
    ///
    /// # Panics
    /// When no store has that name (a wiring mistake, not a runtime condition).
    pub fn store(&self, name: &str) -> &Connection {
        &self.open_store(name).db
    }

    /// Whether a reactor of the store `name` makes files on the host that runs it
    /// ([`Reactor::host_side_effects`]: on a shared log only workers run it).
    pub fn host_side_effects(&self, name: &str) -> bool {
        self.open_store(name)
            .spec
            .reactors
            .iter()
            .any(|r| r.host_side_effects())
    }

    fn open_store(&self, name: &str) -> &OpenStore {
        self.stores
            .iter()
            .find(|s| s.spec.name == name)
            .unwrap_or_else(|| panic!("no store is called `{name}`"))
    }

    /// The names of the stores, in order.
    pub fn store_names(&self) -> impl Iterator<Item = &str> {
        self.stores.iter().map(|s| s.spec.name.as_str())
    }

    /// A new connection that sees every store read-only, each attached under its name
    /// (`SELECT … FROM tasks.tasks`; a table name found in one store alone needs no
    /// prefix). For reads that span contexts: reports, exports, invariants. `BEGIN` on it and
    /// one read of each store give one snapshot per store; see [`Ledger::snapshot`].
    pub fn reader(&self) -> Result<Connection, LedgerError> {
        let db = Connection::open_in_memory().map_err(|e| db_err(&self.dir, e))?;
        self.attach_all(&db)?;
        Ok(db)
    }

    /// [`Ledger::reader`] inside one read transaction in which every store has applied the
    /// same events. A writer commits the stores one after the other, so a snapshot taken in
    /// between is taken again, up to 50 times, 2 ms apart (then it is kept as it is: only a
    /// store left behind by a crash differs for longer, and opening catches it up).
    pub fn snapshot(&self) -> Result<Connection, LedgerError> {
        let db = self.reader()?;
        let mut parts = Vec::new();
        for s in &self.stores {
            let schema = s.spec.name.replace('"', "\"\"");
            for p in &s.spec.projections {
                let name = p.name().replace('\'', "''");
                parts.push(format!(
                    "SELECT seq FROM \"{schema}\".ledger_subscriptions WHERE name = '{name}'"
                ));
            }
        }
        let spread = format!("SELECT MIN(seq), MAX(seq) FROM ({})", parts.join(" UNION ALL "));
        const ATTEMPTS: u32 = 50;
        for attempt in 1..=ATTEMPTS {
            db.execute_batch("BEGIN").map_err(|e| db_err(&self.dir, e))?;
            let spread: rusqlite::Result<(Option<i64>, Option<i64>)> =
                db.query_row(&spread, [], |r| Ok((r.get(0)?, r.get(1)?)));
            match spread {
                Ok((least, most)) if least != most && attempt < ATTEMPTS => {
                    db.execute_batch("COMMIT").map_err(|e| db_err(&self.dir, e))?;
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                Ok(_) => break,
                // a store without its tables yet: the snapshot is as it is
                Err(_) => break,
            }
        }
        Ok(db)
    }

    /// Attaches every store to `db` under its name, read-only (`mode=ro`: no statement on
    /// `db` can change a store; its own temporary tables stay writable).
    fn attach_all(&self, db: &Connection) -> Result<(), LedgerError> {
        for s in self.stores.iter().filter(|s| !s.placeholder) {
            db.execute(
                &format!("ATTACH DATABASE ?1 AS \"{}\"", s.spec.name.replace('"', "\"\"")),
                [read_only_uri(&s.path)],
            )
            .map_err(|e| db_err(&s.path, e))?;
        }
        db.busy_timeout(busy_timeout()).map_err(|e| db_err(&self.dir, e))
    }

    /// The position after the last event every projection has applied (the least advanced
    /// store's).
    pub fn head(&self) -> Result<Position, LedgerError> {
        Ok(self.projection_position()?.unwrap_or(Position::GENESIS))
    }

    /// Streams the committed events with `seq > after`.
    pub fn read_after(
        &self,
        after: u64,
    ) -> Result<impl Iterator<Item = Result<Event, LedgerError>>, LedgerError> {
        let reader = LogReader::open(&self.events, Position::GENESIS)?;
        Ok(reader.filter_map(move |r| match r {
            Ok((e, _)) if e.seq <= after => None,
            Ok((e, _)) => Some(Ok(e)),
            Err(e) => Some(Err(e)),
        }))
    }

    /// Streams the committed events after `from` (a position read from this ledger, e.g. its
    /// [`Ledger::head`]): only what follows is read, however long the log.
    pub fn read_from(
        &self,
        from: Position,
    ) -> Result<impl Iterator<Item = Result<Event, LedgerError>>, LedgerError> {
        Ok(LogReader::open(&self.events, from)?.map(|item| item.map(|(event, _)| event)))
    }

    /// Takes the writer lock, recovers a torn tail, catches up projections and pending
    /// reactions, and hands back a session in which the caller decides and appends.
    pub fn write(&mut self, clock: Clock) -> Result<WriteGuard<'_>, LedgerError> {
        self.write_as(Some(clock))
    }

    /// [`Ledger::write`] for a command's `clock`, or for the engine's own recovery (`None`:
    /// the options' clock, never behind the last event).
    fn write_as(&mut self, clock: Option<Clock>) -> Result<WriteGuard<'_>, LedgerError> {
        // this host's copy of a shared log is damaged (a disk, an edit): it is derived, so
        // it is copied again from the stream, once. A stream whose history changed is still
        // refused: the stores' checkpoints then name lines the new copy lacks
        let (lock, now, rng) = self.or_recopy(|l| l.prepare_session(clock))?;
        let mut guard = WriteGuard::new(self, lock, now, rng);
        guard.finish_pending()?;
        Ok(guard)
    }

    /// The first part of a write session: the lock, a shared log's replica synced, stores
    /// rebuilt or caught up, a torn tail moved aside; then the session's instant and random
    /// source.
    fn prepare_session(
        &mut self,
        clock: Option<Clock>,
    ) -> Result<(File, DateTime<Utc>, StdRng), LedgerError> {
        let lock = lock_writers(&self.dir)?;
        self.sync_replica()?;
        self.sync_left_behind()?;
        let mut recovery = Recovery::default();
        // a rebuild killed before it finished left its files: none runs now (the lock is
        // ours), so they go. One look at the folder first: four removals per store otherwise
        let leftovers = any_rebuild_leftover(&self.dir.join(VIEWS_DIR))?;
        for s in &mut self.stores {
            if leftovers {
                remove_db_files(&rebuild_path(&s.path))?;
            }
            s.materialize()?;
        }
        self.keep_private()?;
        // the two never overlap: a store of another version is not asked whether it is foreign
        let current = self.current_schemas()?;
        let mut stale: Vec<usize> = (0..current.len()).filter(|&i| !current[i]).collect();
        stale.extend(self.foreign_among(&self.positions()?, &current)?);
        if !stale.is_empty() {
            self.rebuild_locked(&stale)?;
            recovery.rebuilt = true;
        }
        let (projected, torn) = self.catch_up_projections()?;
        recovery.projected = projected;
        let tail = self.head()?;
        let now = match clock {
            Some(clock) => clock.resolve(tail.at)?,
            None => self.opts.clock.resolve_at_least(tail.at),
        };
        if let Some(torn) = torn {
            recovery.torn_moved_to = Some(log::recover_torn(&self.events, torn, now)?);
        }
        let rng = self.session_rng(&tail);
        self.last_recovery = Recovery {
            torn_moved_to: recovery.torn_moved_to.clone(),
            ..recovery
        };
        Ok((lock, now, rng))
    }

    /// The random source of a write session after `tail`: from the seed and the last
    /// event's hash when seeded (reproducible, never the same stream twice), else the OS's.
    fn session_rng(&self, tail: &Position) -> StdRng {
        match self.opts.seed {
            Some(seed) => {
                StdRng::seed_from_u64(seed ^ u64::from_le_bytes(tail.hash.0[..8].try_into().unwrap()))
            }
            None => StdRng::from_rng(&mut rand::rng()),
        }
    }

    /// The stores (by index) whose checkpoints name no line of the log: a store from another
    /// ledger, or from a later time than the log (a backup that copied the log before the
    /// stores). Such a store is derived data that does not belong to this log, and is
    /// rebuilt; but when no store's checkpoint names a line of the log, it is the log that
    /// lost committed lines, and the reader reports that as damage (exit 6).
    pub(super) fn foreign_stores(&self) -> Result<Vec<usize>, LedgerError> {
        self.foreign_among(&self.positions()?, &self.current_schemas()?)
    }

    /// [`Ledger::foreign_stores`] from the checkpoints ([`Ledger::positions`]) and the
    /// stores' schema checks ([`Ledger::current_schemas`]) already read.
    fn foreign_among(
        &self,
        positions: &HashMap<String, Position>,
        current: &[bool],
    ) -> Result<Vec<usize>, LedgerError> {
        let mut foreign = Vec::new();
        let mut agreeing = 0;
        let mut checked: Vec<(Position, bool)> = Vec::new();
        for (i, s) in self.stores.iter().enumerate() {
            if s.placeholder || !current[i] {
                continue;
            }
            let Some(pos) = s
                .spec
                .projections
                .iter()
                .map(|p| positions.get(p.name()).copied().unwrap_or(Position::GENESIS))
                .min_by_key(|p| p.seq)
            else {
                continue;
            };
            // the stores usually share one checkpoint: each is looked up in the log once
            let same = |p: &Position| (p.seq, p.offset, p.hash) == (pos.seq, pos.offset, pos.hash);
            let agrees = match checked.iter().find(|(p, _)| same(p)) {
                Some((_, agrees)) => *agrees,
                None => {
                    let agrees = log::has_line_at(&self.events, &pos)?;
                    checked.push((pos, agrees));
                    agrees
                }
            };
            if agrees {
                agreeing += 1;
            } else {
                foreign.push(i);
            }
        }
        Ok(if agreeing == 0 { Vec::new() } else { foreign })
    }

    /// Makes the stores' folder (0700) and files (0600, their journals too) private again
    /// when their mode was loosened: they hold every balance and every hash of a credential.
    /// Only what this user owns; under the writer lock.
    fn keep_private(&self) -> Result<(), LedgerError> {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail
        let me = unsafe { libc::geteuid() };
        let tighten = |path: &Path, mode: u32| -> Result<(), LedgerError> {
            match fs::symlink_metadata(path) {
                Ok(m) if m.uid() == me && !m.file_type().is_symlink() && m.mode() & 0o777 & !mode != 0 => {
                    fs::set_permissions(path, fs::Permissions::from_mode(mode))
                        .map_err(|e| LedgerError::io("set permissions of", path, e))
                }
                Ok(_) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(LedgerError::io("inspect", path, e)),
            }
        };
        tighten(&self.dir.join(VIEWS_DIR), 0o700)?;
        for s in &self.stores {
            for suffix in ["", "-wal", "-shm"] {
                tighten(&PathBuf::from(format!("{}{suffix}", s.path.display())), 0o600)?;
            }
        }
        Ok(())
    }

    /// Whether each store's tables exist and are of its version (by index; false for a
    /// placeholder).
    pub(super) fn current_schemas(&self) -> Result<Vec<bool>, LedgerError> {
        self.stores.iter().map(schema_is_current).collect()
    }

    /// Whether the log holds events that some projection, or some reactor that runs in this
    /// process ([`Ledger::runs_here`]), has not seen, from the checkpoints
    /// ([`Ledger::positions`]).
    fn is_behind(&self, positions: &HashMap<String, Position>) -> Result<bool, LedgerError> {
        let head = least_projection_position(&self.stores, positions).unwrap_or(Position::GENESIS);
        if log::file_len(&self.events)? != head.offset {
            return Ok(true);
        }
        let lags = |name: &str| positions.get(name).is_none_or(|p| p.seq != head.seq);
        for (si, s) in self.stores.iter().enumerate() {
            if s.spec.projections.iter().any(|p| lags(p.name())) {
                return Ok(true);
            }
            // a reactor that does not run in this process (handed to a worker, or with side
            // effects on another host) is not work left behind here: its events wait for
            // the process that runs it, and a command that only reads takes no lock for it
            for (ri, r) in s.spec.reactors.iter().enumerate() {
                if lags(r.name()) && (!positions.contains_key(r.name()) || self.runs_here(si, ri)?) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Every subscriber's checkpoint, from every store that has its tables (names are
    /// unique across stores); a store without them has none.
    pub(super) fn positions(&self) -> Result<HashMap<String, Position>, LedgerError> {
        let mut all = HashMap::new();
        for s in self.stores.iter().filter(|s| !s.placeholder) {
            match read_positions(&s.db) {
                Ok(positions) => all.extend(positions),
                // a store not built yet has no checkpoints
                Err(rusqlite::Error::SqliteFailure(_, Some(ref m))) if m.contains("no such table") => {}
                Err(e) => return Err(db_err(&s.path, e)),
            }
        }
        Ok(all)
    }

    /// The position all projections have reached (the least advanced one).
    fn projection_position(&self) -> Result<Option<Position>, LedgerError> {
        let positions = self.positions()?;
        Ok(least_projection_position(&self.stores, &positions))
    }

    /// Applies every committed event the projections have not seen, each store from its
    /// own checkpoints and in its own transactions. Returns how many events were read and
    /// the torn tail found after the last complete batch, if any.
    fn catch_up_projections(&mut self) -> Result<(u64, Option<Torn>), LedgerError> {
        let positions = self.positions()?;
        let cps: Vec<Vec<u64>> = self
            .stores
            .iter()
            .map(|s| {
                s.spec
                    .projections
                    .iter()
                    .map(|p| positions.get(p.name()).map_or(0, |x| x.seq))
                    .collect()
            })
            .collect();
        let start = least_projection_position(&self.stores, &positions).unwrap_or(Position::GENESIS);
        let mut reader = LogReader::open(&self.events, start)?;
        let mut applied = 0u64;
        let mut total = 0u64;
        let begin = |stores: &[OpenStore]| -> Result<(), LedgerError> {
            for s in stores {
                s.db.execute_batch(BEGIN_WRITE).map_err(|e| db_err(&s.path, e))?;
            }
            Ok(())
        };
        let commit = |stores: &[OpenStore], pos: &Position| -> Result<(), LedgerError> {
            for (s, cps) in stores.iter().zip(&cps) {
                for (p, cp) in s.spec.projections.iter().zip(cps) {
                    if pos.seq > *cp {
                        set_position(&s.db, p.name(), pos).map_err(|e| db_err(&s.path, e))?;
                    }
                }
                s.db.execute_batch("COMMIT").map_err(|e| db_err(&s.path, e))?;
            }
            Ok(())
        };
        let result = (|| {
            begin(&self.stores)?;
            for item in reader.by_ref() {
                let (ev, end) = item?;
                for (s, cps) in self.stores.iter().zip(&cps) {
                    for (p, cp) in s.spec.projections.iter().zip(cps) {
                        if ev.seq > *cp {
                            apply(p.as_ref(), &s.db, &ev)?;
                        }
                    }
                }
                applied += 1;
                if applied >= CATCH_UP_CHUNK && ev.seq == ev.batch_end {
                    commit(&self.stores, &Position::after(&ev, end))?;
                    begin(&self.stores)?;
                    applied = 0;
                    total += CATCH_UP_CHUNK;
                }
            }
            commit(&self.stores, &reader.position())
        })();
        if result.is_err() {
            for s in &self.stores {
                if !s.db.is_autocommit() {
                    let _ = s.db.execute_batch("ROLLBACK");
                }
            }
        }
        result?;
        Ok((total + applied, reader.torn()))
    }
}

/// The least advanced projection's position, over every store.
pub(super) fn least_projection_position(
    stores: &[OpenStore],
    positions: &HashMap<String, Position>,
) -> Option<Position> {
    stores
        .iter()
        .flat_map(|s| &s.spec.projections)
        .map(|p| positions.get(p.name()).copied().unwrap_or(Position::GENESIS))
        .min_by_key(|p| p.seq)
}

/// Every store of `subs`, new and empty, in the stores' folder of `dir` (a file left there
/// is replaced). Under the writer lock.
fn new_stores(dir: &Path, subs: Subscribers) -> Result<Vec<OpenStore>, LedgerError> {
    let views = views_dir(dir)?;
    let mut stores = Vec::new();
    for spec in subs.stores {
        let path = store_path(&views, &spec.name);
        remove_db_files(&path)?;
        let db = open_live(&path)?;
        init_schema(&db, &path, &spec.plan())?;
        stores.push(OpenStore {
            spec,
            path,
            db,
            placeholder: false,
        });
    }
    Ok(stores)
}

/// Creates `dir` (and its parents) when missing, the last one private (0700).
fn make_private_dir(dir: &Path) -> Result<(), LedgerError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| LedgerError::io("create", parent, e))?;
    }
    match fs::create_dir(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| LedgerError::io("set permissions of", dir, e)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(LedgerError::io("create", dir, e)),
    }
}

/// The stores' folder of the ledger at `dir`, created (0700) when it is missing.
fn views_dir(dir: &Path) -> Result<PathBuf, LedgerError> {
    let views = dir.join(VIEWS_DIR);
    match fs::create_dir(&views) {
        Ok(()) => fs::set_permissions(&views, fs::Permissions::from_mode(0o700))
            .map_err(|e| LedgerError::io("set permissions of", &views, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && views.is_dir() => {}
        Err(e) => return Err(LedgerError::io("create", &views, e)),
    }
    Ok(views)
}

/// The SQLite URI that opens `path` read-only (RFC 3986 percent-encoding of every byte
/// but unreserved ones and `/`, as SQLite's URI filenames expect).
fn read_only_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro");
    uri
}

fn store_path(views: &Path, name: &str) -> PathBuf {
    views.join(format!("{name}.db"))
}

/// Whether `views` holds a file that a rebuild builds (`<store>.db.rebuild` and its journal
/// files, see [`rebuild_path`]); not when the folder is missing.
fn any_rebuild_leftover(views: &Path) -> Result<bool, LedgerError> {
    let entries = match fs::read_dir(views) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(LedgerError::io("list", views, e)),
    };
    for entry in entries {
        let name = entry.map_err(|e| LedgerError::io("list", views, e))?.file_name();
        if name.to_string_lossy().contains(".db.rebuild") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Where a rebuild builds a store before it replaces the live one.
pub(super) fn rebuild_path(store: &Path) -> PathBuf {
    PathBuf::from(format!("{}.rebuild", store.display()))
}
