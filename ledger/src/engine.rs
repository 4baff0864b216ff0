//! The engine: one ledger directory, its log, its SQLite projections and its subscribers.
//!
//! Every write goes lock → recover → catch up → decide (the caller) → append → project →
//! react, with the lock held throughout. Projections and their checkpoints change in one
//! SQLite transaction, so each event is applied exactly once. Reactions are exactly-once
//! across crashes because a reaction's events carry the causing event's id: before a
//! reactor handles an event it looks ahead in the log for events it already produced for
//! it, so a crash between the append and the SQLite commit never doubles a reaction.

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

pub const EVENTS_FILE: &str = "events.jsonl";
pub const LOCK_FILE: &str = "lock";
/// Reaction rounds allowed for one command before the engine suspects a reactor loop.
const MAX_ROUNDS: usize = 64;
/// A database being filled from the log (rebuild, verify's replay) needs no journal: if
/// anything goes wrong it is thrown away. A 40 MB page cache keeps the hot pages of every
/// table in memory (the default 2 MB spills to disk constantly); sorts for the indexes
/// built at the end stay in memory too, and may use a second thread (the log reader is done
/// by then); the peak stays under 100 MB.
pub const BULK_PRAGMAS: &str = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-40960;
     PRAGMA temp_store=MEMORY; PRAGMA locking_mode=EXCLUSIVE; PRAGMA threads=2;";
/// Events applied per SQLite transaction while catching up or rebuilding.
const CATCH_UP_CHUNK: u64 = 20_000;

/// Folds events into SQLite tables. Applying is deterministic: the same events give the
/// same rows, which is what `verify` checks by replaying.
pub trait Projection {
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
}

impl<'a> Context<'a> {
    /// A context outside any write session (tests of a single decision): its ids are
    /// random UUIDv7s at `now`, not ordered among themselves.
    pub fn new(now: DateTime<Utc>, rng: &'a mut StdRng) -> Context<'a> {
        Context {
            now,
            rng,
            last_id: None,
        }
    }

    /// A fresh UUIDv7 at this decision's instant, drawn from the injected random source;
    /// within a write session, greater than every id the session made before.
    pub fn new_id(&mut self) -> Uuid {
        new_id(self.now, self.rng, self.last_id.as_deref_mut())
    }
}

#[derive(Default)]
pub struct Subscribers {
    pub projections: Vec<Box<dyn Projection>>,
    pub reactors: Vec<Box<dyn Reactor>>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// File name of the projection database inside the ledger directory.
    pub db_file: String,
    /// The application's projection schema version: a database built by another version
    /// is rebuilt from the log on open.
    pub schema_version: u32,
    /// Seed for ids and decisions (reproducible runs). The stream is derived from the seed
    /// and the hash of the last event, so two commands never draw the same numbers.
    pub seed: Option<u64>,
    /// The clock of what the engine writes on its own: the reactions an interrupted command
    /// left behind, finished when the ledger is opened or rebuilt. A fixed clock earlier than
    /// the last event is taken as that event's instant (opening never fails for it).
    /// Commands pass their clock to [`Ledger::write`].
    pub clock: Clock,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            db_file: "projections.db".into(),
            schema_version: 1,
            seed: None,
            clock: Clock::System,
        }
    }
}

/// Which instant "now" is.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system clock, never earlier than the last event (a clock that stepped back is
    /// clamped to the last event's instant).
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
    db_path: PathBuf,
    db: Connection,
    subs: Subscribers,
    opts: Options,
    last_recovery: Recovery,
    /// Called now and then by long reads (rebuild, verify) with (bytes read, log size).
    progress: ProgressCell,
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
    /// The first problem the application's own checks found on the same snapshot.
    pub problem: Option<String>,
}

impl Ledger {
    /// Creates a new ledger directory (0700) with an empty log and projection database.
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
        let lock_path = dir.join(LOCK_FILE);
        let lock = open_lock(&lock_path)?;
        lock.lock().map_err(|e| LedgerError::io("lock", &lock_path, e))?;
        match log::create_private(&events) {
            Ok(f) => f.sync_all().map_err(|e| LedgerError::io("sync", &events, e))?,
            Err(LedgerError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(LedgerError::AlreadyExists(dir.to_owned()));
            }
            Err(e) => return Err(e),
        }
        log::sync_dir(dir)?;
        let db_path = dir.join(&opts.db_file);
        remove_db_files(&db_path)?;
        let db = open_db(&db_path)?;
        init_schema(&db, &db_path, &subs, opts.schema_version)?;
        Ok(Ledger::assemble(dir, db_path, db, subs, opts))
    }

    /// Opens an existing ledger. The projection database is created or rebuilt when it is
    /// missing or from another schema version, and caught up when an interrupted command
    /// left work behind; all of that under the writer lock. A ledger that is already caught
    /// up is opened without taking the lock.
    pub fn open(dir: &Path, subs: Subscribers, opts: Options) -> Result<Ledger, LedgerError> {
        let events = dir.join(EVENTS_FILE);
        if !events.is_file() {
            return Err(LedgerError::NotFound(dir.to_owned()));
        }
        let mut ledger = Ledger::open_unchecked(dir, subs, opts)?;
        if !ledger.schema_is_current()? || ledger.is_behind()? {
            drop(ledger.write_as(None)?);
        }
        Ok(ledger)
    }

    /// Opens a ledger as it is: no lock, no recovery, no catch-up. For `verify`, which must
    /// look at a damaged ledger without touching it.
    pub fn open_unchecked(dir: &Path, subs: Subscribers, opts: Options) -> Result<Ledger, LedgerError> {
        let events = dir.join(EVENTS_FILE);
        if !events.is_file() {
            return Err(LedgerError::NotFound(dir.to_owned()));
        }
        let db_path = dir.join(&opts.db_file);
        let db = open_db(&db_path)?;
        Ok(Ledger::assemble(dir, db_path, db, subs, opts))
    }

    /// What the last write session (or the catch-up in `open`) recovered.
    pub fn last_recovery(&self) -> &Recovery {
        &self.last_recovery
    }

    fn assemble(dir: &Path, db_path: PathBuf, db: Connection, subs: Subscribers, opts: Options) -> Ledger {
        let events = dir.join(EVENTS_FILE);
        Ledger {
            dir: dir.to_owned(),
            events,
            db_path,
            db,
            subs,
            opts,
            last_recovery: Recovery::default(),
            progress: Default::default(),
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

    /// The projections, for queries. Never write through this.
    pub fn db(&self) -> &Connection {
        &self.db
    }

    /// The position after the last event the projections have applied.
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

    /// Takes the writer lock, recovers a torn tail, catches up projections and pending
    /// reactions, and hands back a session in which the caller decides and appends.
    pub fn write(&mut self, clock: Clock) -> Result<WriteGuard<'_>, LedgerError> {
        self.write_as(Some(clock))
    }

    /// [`Ledger::write`] for a command's `clock`, or for the engine's own recovery (`None`:
    /// the options' clock, never behind the last event).
    fn write_as(&mut self, clock: Option<Clock>) -> Result<WriteGuard<'_>, LedgerError> {
        let lock_path = self.dir.join(LOCK_FILE);
        let lock = open_lock(&lock_path)?;
        lock.lock().map_err(|e| LedgerError::io("lock", &lock_path, e))?;
        let mut recovery = Recovery::default();
        // a rebuild killed before it finished left its files: none runs now (the lock is
        // ours), so they go
        remove_db_files(&self.rebuild_path())?;
        if !self.schema_is_current()? {
            self.rebuild_locked()?;
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
        let mut guard = WriteGuard {
            ledger: self,
            _lock: lock,
            now,
            rng,
            last_id: 0,
            appended: Vec::new(),
            unreacted_from: None,
            retried: false,
        };
        guard.in_transaction(|g| g.run_reactions())?;
        Ok(guard)
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

    /// Recreates the projection database of the ledger at `dir` from its log, whatever
    /// state the old database is in (missing, stale, or not a database at all).
    pub fn rebuild_at(
        dir: &Path,
        subs: Subscribers,
        opts: Options,
    ) -> Result<(Ledger, RebuildReport), LedgerError> {
        Ledger::rebuild_at_with_progress(dir, subs, opts, |_, _| {})
    }

    /// [`Ledger::rebuild_at`], reporting (bytes read, log size) as it goes.
    pub fn rebuild_at_with_progress(
        dir: &Path,
        subs: Subscribers,
        opts: Options,
        progress: impl FnMut(u64, u64) + Send + 'static,
    ) -> Result<(Ledger, RebuildReport), LedgerError> {
        let events = dir.join(EVENTS_FILE);
        if !events.is_file() {
            return Err(LedgerError::NotFound(dir.to_owned()));
        }
        let db_path = dir.join(&opts.db_file);
        let lock_path = dir.join(LOCK_FILE);
        let lock = open_lock(&lock_path)?;
        lock.lock().map_err(|e| LedgerError::io("lock", &lock_path, e))?;
        // a database file that SQLite cannot even open is replaced; any other is kept
        // until the new one is complete
        let db = match open_db(&db_path) {
            Ok(db) => db,
            Err(_) => {
                remove_db_files(&db_path)?;
                open_db(&db_path)?
            }
        };
        let mut ledger = Ledger::assemble(dir, db_path, db, subs, opts);
        ledger.set_progress(progress);
        let report = ledger.rebuild_with(lock)?;
        Ok((ledger, report))
    }

    /// Where a rebuild builds the new projections before they replace the live ones.
    fn rebuild_path(&self) -> PathBuf {
        self.dir.join(format!("{}.rebuild", self.opts.db_file))
    }

    /// Recreates the projection database from the log (into a new file, copied into the
    /// live database in one transaction).
    pub fn rebuild(&mut self) -> Result<RebuildReport, LedgerError> {
        let lock_path = self.dir.join(LOCK_FILE);
        let lock = open_lock(&lock_path)?;
        lock.lock().map_err(|e| LedgerError::io("lock", &lock_path, e))?;
        self.rebuild_with(lock)
    }

    fn rebuild_with(&mut self, lock: File) -> Result<RebuildReport, LedgerError> {
        let report = self.rebuild_locked()?;
        let rng = self.session_rng(&report.last);
        let mut guard = WriteGuard {
            now: self.opts.clock.resolve_at_least(report.last.at),
            ledger: self,
            _lock: lock,
            rng,
            last_id: 0,
            appended: Vec::new(),
            unreacted_from: None,
            retried: false,
        };
        guard.in_transaction(|g| g.run_reactions())?;
        Ok(report)
    }

    /// Checks the whole log (hashes, chain, seq, time, batches, unique ids) and that
    /// replaying it into a fresh database gives exactly the live projections.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        self.verify_with(|_, _| Ok(None))
    }

    /// [`Ledger::verify`] on one consistent snapshot, with the application's own checks
    /// (`check`, given the projections as of the snapshot and whether every projection and
    /// reactor had caught up there) run on that same snapshot. The snapshot is taken in
    /// an instant under the shared lock, when no writer is in the middle of a command: a
    /// SQLite read transaction on the projections and the log's end at that instant. Then
    /// the lock is released: writers go on while the log up to that end is replayed and
    /// compared with the snapshot's tables, so a healthy ledger under load is never
    /// reported damaged, and a lag it reports is an interrupted command's.
    pub fn verify_with(
        &self,
        check: impl FnOnce(&Connection, bool) -> Result<Option<String>, BoxError>,
    ) -> Result<VerifyReport, LedgerError> {
        let scratch = ScratchDb::new(&self.dir)?;
        let fresh = open_db(&scratch.path)?;
        fresh
            .execute_batch(BULK_PRAGMAS)
            .map_err(|e| db_err(&scratch.path, e))?;
        init_schema(&fresh, &scratch.path, &self.subs, self.opts.schema_version)?;
        // the replay is compared table by table, row by row: its secondary indexes would
        // only be kept up to date for nothing
        defer_indexes(&fresh).map_err(|e| db_err(&scratch.path, e))?;

        // the snapshot: a read transaction on a connection of its own
        let has_db = self.schema_is_current()?;
        let snap = open_db(&self.db_path)?;
        let (live_positions, live_head, end, torn) = {
            let lock_path = self.dir.join(LOCK_FILE);
            let lock = File::open(&lock_path).ok();
            if let Some(l) = &lock {
                l.lock_shared()
                    .map_err(|e| LedgerError::io("lock", &lock_path, e))?;
            }
            snap.execute_batch("BEGIN")
                .map_err(|e| db_err(&self.db_path, e))?;
            let positions = if has_db {
                read_positions(&snap).map_err(|e| db_err(&self.db_path, e))?
            } else {
                HashMap::new()
            };
            let head = self
                .subs
                .projections
                .iter()
                .map(|p| positions.get(p.name()).copied().unwrap_or(Position::GENESIS))
                .min_by_key(|p| p.seq)
                .unwrap_or(Position::GENESIS);
            // the log's end now: past the projections only if a command was interrupted
            // (no writer is running); usually nothing to read. Damage found here is left
            // to the full read below, which names the first damaged line.
            let tail_end = || -> Result<(Position, Option<Torn>), LedgerError> {
                let from = head;
                let mut tail = LogReader::open(&self.events, from)?;
                let mut end = from;
                for item in tail.by_ref() {
                    let (ev, off) = item?;
                    end = Position::after(&ev, off);
                }
                Ok((end, tail.torn()))
            };
            let (end, torn) = match tail_end() {
                Ok((end, torn)) => (Some(end), torn),
                Err(_) => (None, None),
            };
            (positions, head, end, torn)
        };
        let proj_cp: Vec<u64> = self
            .subs
            .projections
            .iter()
            .map(|p| live_positions.get(p.name()).map_or(0, |pos| pos.seq))
            .collect();
        let reader = match end {
            Some(end) => LogReader::open(&self.events, Position::GENESIS)?.stop_after(end.seq),
            None => LogReader::open(&self.events, Position::GENESIS)?,
        };
        let tx = fresh
            .unchecked_transaction()
            .map_err(|e| db_err(&scratch.path, e))?;
        let subs = &self.subs;
        let progress = &self.progress;
        let events_path = &self.events;
        let scratch_path = &scratch.path;
        let (scan, full) = reader.read_ahead(|items| -> Result<_, LedgerError> {
            let mut folds = Replaying::all(&subs.projections, &fresh, scratch_path)?;
            let mut ids = HashSet::new();
            let mut last = Position::GENESIS;
            let mut events = 0u64;
            let mut head_seen = live_head.seq == 0;
            while let Some(item) = items.next() {
                let (ev, end) = item?;
                if !ids.insert(ev.id) {
                    return Err(LedgerError::corrupt(ev.seq, end, Problem::DuplicateId(ev.id)));
                }
                for (f, cp) in folds.iter_mut().zip(&proj_cp) {
                    if ev.seq <= *cp {
                        f.apply(&tx, ev)?;
                    }
                }
                if ev.seq == live_head.seq {
                    if ev.hash != live_head.hash {
                        return Err(LedgerError::corrupt(ev.seq, end, Problem::CheckpointMismatch));
                    }
                    head_seen = true;
                }
                last = Position::after(ev, end);
                events += 1;
                if events.is_multiple_of(8192) {
                    report_progress_to(progress, events_path, end);
                }
            }
            for f in folds {
                f.finish(&tx, last.seq)?;
            }
            Ok((last, events, head_seen))
        });
        let (last, events, head_seen) = scan?;
        tx.commit().map_err(|e| db_err(&scratch.path, e))?;
        if !head_seen {
            return Err(LedgerError::corrupt(
                last.seq + 1,
                last.offset,
                Problem::ProjectionsAhead {
                    log_seq: last.seq,
                    db_seq: live_head.seq,
                },
            ));
        }
        let tables = if has_db {
            compare_tables(&snap, &fresh, &scratch.path)?
        } else {
            Vec::new()
        };
        drop(fresh);
        let reaction_lag = self
            .subs
            .reactors
            .iter()
            .map(|r| {
                last.seq
                    .saturating_sub(live_positions.get(r.name()).map_or(0, |p| p.seq))
            })
            .max()
            .unwrap_or(0);
        let (projection_lag, reaction_lag) = if has_db {
            (last.seq - live_head.seq, reaction_lag)
        } else {
            (0, 0)
        };
        let problem = if has_db {
            check(&snap, projection_lag == 0 && reaction_lag == 0)
                .map_err(|source| LedgerError::Check { source })?
        } else {
            None
        };
        let _ = snap.execute_batch("COMMIT");
        Ok(VerifyReport {
            events,
            last,
            projection_lag,
            reaction_lag,
            torn_bytes: torn
                .or(if end.is_none() { full.torn() } else { None })
                .map_or(0, |t| t.len),
            tables_compared: tables,
            problem,
        })
    }

    fn schema_is_current(&self) -> Result<bool, LedgerError> {
        let v: Option<String> = self
            .db
            .query_row(
                "SELECT value FROM ledger_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .or_else(|e| match e {
                rusqlite::Error::SqliteFailure(_, Some(ref m)) if m.contains("no such table") => Ok(None),
                e => Err(e),
            })
            .map_err(|e| db_err(&self.db_path, e))?;
        Ok(v == Some(self.opts.schema_version.to_string()))
    }

    fn is_behind(&self) -> Result<bool, LedgerError> {
        let positions = self.positions()?;
        let head = self.projection_position()?.unwrap_or(Position::GENESIS);
        if log::file_len(&self.events)? != head.offset {
            return Ok(true);
        }
        let all = self
            .subs
            .projections
            .iter()
            .map(|p| p.name())
            .chain(self.subs.reactors.iter().map(|r| r.name()));
        Ok(all
            .into_iter()
            .any(|n| positions.get(n).is_none_or(|p| p.seq != head.seq)))
    }

    fn positions(&self) -> Result<HashMap<String, Position>, LedgerError> {
        read_positions(&self.db).map_err(|e| db_err(&self.db_path, e))
    }

    /// The position all projections have reached (the least advanced one).
    fn projection_position(&self) -> Result<Option<Position>, LedgerError> {
        let positions = self.positions()?;
        Ok(self
            .subs
            .projections
            .iter()
            .map(|p| positions.get(p.name()).copied().unwrap_or(Position::GENESIS))
            .min_by_key(|p| p.seq))
    }

    /// Applies every committed event the projections have not seen. Returns how many were
    /// applied and the torn tail found after the last complete batch, if any.
    fn catch_up_projections(&mut self) -> Result<(u64, Option<Torn>), LedgerError> {
        let positions = self.positions()?;
        let cps: Vec<u64> = self
            .subs
            .projections
            .iter()
            .map(|p| positions.get(p.name()).map_or(0, |x| x.seq))
            .collect();
        let start = self.projection_position()?.unwrap_or(Position::GENESIS);
        let mut reader = LogReader::open(&self.events, start)?;
        let mut applied = 0u64;
        let mut total = 0u64;
        let mut tx = self
            .db
            .unchecked_transaction()
            .map_err(|e| db_err(&self.db_path, e))?;
        for item in reader.by_ref() {
            let (ev, end) = item?;
            for (p, cp) in self.subs.projections.iter().zip(&cps) {
                if ev.seq > *cp {
                    apply(p.as_ref(), &tx, &ev)?;
                }
            }
            applied += 1;
            if applied >= CATCH_UP_CHUNK && ev.seq == ev.batch_end {
                let pos = Position::after(&ev, end);
                set_projection_positions(&tx, &self.subs, &pos).map_err(|e| db_err(&self.db_path, e))?;
                tx.commit().map_err(|e| db_err(&self.db_path, e))?;
                tx = self
                    .db
                    .unchecked_transaction()
                    .map_err(|e| db_err(&self.db_path, e))?;
                applied = 0;
                total += CATCH_UP_CHUNK;
            }
        }
        if applied > 0 || total > 0 {
            set_projection_positions(&tx, &self.subs, &reader.position())
                .map_err(|e| db_err(&self.db_path, e))?;
        }
        tx.commit().map_err(|e| db_err(&self.db_path, e))?;
        Ok((total + applied, reader.torn()))
    }

    /// Replays the whole log into a new database file and swaps it in. The caller holds
    /// the lock. Reactor checkpoints are derived from the log: a writer finishes every
    /// reaction before it appends a new command's batch, so everything before the last
    /// command batch has been reacted to; the rest is re-examined with the usual
    /// look-ahead, which skips reactions already in the log.
    fn rebuild_locked(&mut self) -> Result<RebuildReport, LedgerError> {
        let tmp = self.rebuild_path();
        // no rebuild runs but this one (the lock is ours): what is there was left by one
        // that was killed
        let leftover = remove_db_files(&tmp)?;
        let interrupt = signals::Interrupt::catch();
        let _cleanup = RemoveOnDrop(tmp.clone());
        let db = open_db(&tmp)?;
        db.execute_batch(BULK_PRAGMAS).map_err(|e| db_err(&tmp, e))?;
        init_schema(&db, &tmp, &self.subs, self.opts.schema_version)?;
        // Secondary indexes are built once at the end (one sort) rather than kept up to
        // date row by row; projections must not need them to apply events.
        let indexes = defer_indexes(&db).map_err(|e| db_err(&tmp, e))?;
        let reader = LogReader::open(&self.events, Position::GENESIS)?;
        let subs = &self.subs;
        let progress = &self.progress;
        let events_path = &self.events;
        let (scan, reader) = reader.read_ahead(|items| -> Result<_, LedgerError> {
            let mut before_last_root = Position::GENESIS;
            let mut prev_pos = Position::GENESIS;
            let mut prev_closed = true;
            let mut in_tx = 0u64;
            let mut events = 0u64;
            let mut folds = Replaying::all(&subs.projections, &db, &tmp)?;
            let mut tx = db.unchecked_transaction().map_err(|e| db_err(&tmp, e))?;
            while let Some(item) = items.next() {
                let (ev, end) = item?;
                if ev.is_root() && prev_closed {
                    before_last_root = prev_pos;
                }
                for f in &mut folds {
                    f.apply(&tx, ev)?;
                }
                events += 1;
                if events.is_multiple_of(8192) {
                    report_progress_to(progress, events_path, end);
                    interrupt.check()?;
                }
                prev_pos = Position::after(ev, end);
                prev_closed = ev.seq == ev.batch_end;
                in_tx += 1;
                if in_tx >= CATCH_UP_CHUNK && ev.seq == ev.batch_end {
                    in_tx = 0;
                    tx.commit().map_err(|e| db_err(&tmp, e))?;
                    tx = db.unchecked_transaction().map_err(|e| db_err(&tmp, e))?;
                }
            }
            for f in folds {
                f.finish(&tx, prev_pos.seq)?;
            }
            Ok((tx, before_last_root, events))
        });
        let (tx, before_last_root, events) = scan?;
        let last = reader.position();
        set_projection_positions(&tx, &self.subs, &last).map_err(|e| db_err(&tmp, e))?;
        for r in &self.subs.reactors {
            set_position(&tx, r.name(), &before_last_root).map_err(|e| db_err(&tmp, e))?;
        }
        tx.commit().map_err(|e| db_err(&tmp, e))?;
        db.execute_batch(&indexes).map_err(|e| db_err(&tmp, e))?;
        interrupt.check()?;
        // The new projections replace the old ones in one SQLite write transaction (the
        // backup API copies every page into the live database): a reader sees the old
        // projections or the new ones, never a missing file or a half-replaced one, and a
        // command that opened the database before keeps a valid handle on it. Writers wait
        // on the lock until it is done.
        {
            use rusqlite::backup::{Backup, StepResult};
            let backup = Backup::new(&db, &mut self.db).map_err(|e| db_err(&self.db_path, e))?;
            // every page in one step, so one transaction; busy only while another
            // process's connection finishes a write of its own (not ours: we hold the lock)
            while backup.step(-1).map_err(|e| db_err(&self.db_path, e))? != StepResult::Done {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        drop(db);
        // the copy sits in the live database's WAL: fold it in now rather than on a reader
        let _ = self.db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        Ok(RebuildReport {
            events,
            last,
            leftover_removed: leftover.then_some(tmp),
        })
    }
}

/// A write session: the lock is held until it is dropped.
pub struct WriteGuard<'l> {
    ledger: &'l mut Ledger,
    _lock: File,
    now: DateTime<Utc>,
    rng: StdRng,
    /// The last id this session made (0 before the first): ids increase within a session.
    last_id: u128,
    appended: Vec<Event>,
    /// Where, in `appended`, the events begin that some reactor may not have handled yet:
    /// reaction rounds read them from memory rather than decoding the log again. `None`
    /// when they are not in memory (they are then read from the log).
    unreacted_from: Option<usize>,
    /// Whether this session already asked the reactors for deferred deliveries.
    retried: bool,
}

impl WriteGuard<'_> {
    pub fn db(&self) -> &Connection {
        &self.ledger.db
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The position after the last event (what the next append continues from).
    pub fn head(&self) -> Result<Position, LedgerError> {
        self.ledger.head()
    }

    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Runs a decision with the projections and the injected clock and random source.
    pub fn decide<T>(&mut self, f: impl FnOnce(&Connection, &mut Context<'_>) -> T) -> T {
        let mut ctx = Context {
            now: self.now,
            rng: &mut self.rng,
            last_id: Some(&mut self.last_id),
        };
        f(&self.ledger.db, &mut ctx)
    }

    pub fn context(&mut self) -> Context<'_> {
        Context {
            now: self.now,
            rng: &mut self.rng,
            last_id: Some(&mut self.last_id),
        }
    }

    /// A fresh UUIDv7 at this session's instant, greater than the session's ids before it.
    pub fn new_id(&mut self) -> Uuid {
        new_id(self.now, &mut self.rng, Some(&mut self.last_id))
    }

    /// What this session recovered before the caller's decision.
    pub fn recovery(&self) -> &Recovery {
        &self.ledger.last_recovery
    }

    /// Every event appended in this session: recovered reactions, the caller's batches and
    /// the reactions they caused, in log order.
    pub fn appended(&self) -> &[Event] {
        &self.appended
    }

    /// Hands over the events appended so far and forgets them, so that a long session
    /// (an import) does not keep every event in memory.
    pub fn take_appended(&mut self) -> Vec<Event> {
        self.unreacted_from = None;
        std::mem::take(&mut self.appended)
    }

    /// Appends one command's events as an atomic batch, durably, projects them, then runs
    /// every reaction to completion. Returns the batch as written.
    pub fn append(&mut self, batch: Vec<NewEvent>) -> Result<Vec<Event>, LedgerError> {
        self.append_batches(vec![batch])
    }

    /// Appends several batches with one write and one fsync (group commit). Each batch is
    /// atomic on its own.
    pub fn append_batches(&mut self, batches: Vec<Vec<NewEvent>>) -> Result<Vec<Event>, LedgerError> {
        let written = self.commit_and_react(batches)?;
        // copied only now: during the reaction rounds the batch lives in `appended` alone
        Ok(self.appended[written].to_vec())
    }

    /// Appends many batches in group commits of `chunk` batches (one write and one fsync
    /// each, then their reactions), handing each commit's events (with their reactions, and
    /// for the first one whatever the session recovered) to `after` and forgetting them, so
    /// that memory does not grow with the number of batches. On an error, the commits before
    /// are durable and reacted to; `appended()` holds what the failing one got written.
    pub fn append_in_chunks<E: From<LedgerError>>(
        &mut self,
        batches: impl IntoIterator<Item = Vec<NewEvent>>,
        chunk: usize,
        mut after: impl FnMut(&Self, Vec<Event>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut batches = batches.into_iter().peekable();
        while batches.peek().is_some() {
            self.commit_and_react(batches.by_ref().take(chunk.max(1)).collect())?;
            let events = self.take_appended();
            after(self, events)?;
        }
        Ok(())
    }

    /// Stages, commits and reacts to `batches`; returns where they are in `appended`.
    /// The batches and every reaction round they cause are projected in one SQLite
    /// transaction: each round is appended to the log durably before the next one is
    /// decided, and SQLite commits once at the end. A crash in between loses nothing: the
    /// log is the truth, the next writer catches the projections up and the reactors'
    /// look-ahead finds the reactions already appended. One commit instead of one per
    /// round means the pages a chunk touches go through the WAL once.
    fn commit_and_react(
        &mut self,
        batches: Vec<Vec<NewEvent>>,
    ) -> Result<std::ops::Range<usize>, LedgerError> {
        self.in_transaction(|g| {
            let head = g.ledger.head()?;
            let mut staging = Staging::new(head);
            for batch in batches.into_iter().filter(|b| !b.is_empty()) {
                staging.stage(batch, None, &mut g.context());
            }
            let written = g.project_and_append(staging)?;
            g.run_reactions()?;
            // deferred deliveries are tried by commands that write, once per session: a
            // command that is refused (it appends nothing) writes nothing at all
            if !g.retried {
                g.retried = true;
                g.run_retries()?;
            }
            Ok(written)
        })
    }

    /// Runs `f` inside one SQLite transaction on the live connection (every statement on
    /// it joins the transaction) and commits. On an error the transaction is rolled back,
    /// and whatever `f` already appended to the log durably is projected again, so that
    /// the projections never stay behind the log for the rest of this session.
    fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        let path = self.ledger.db_path.clone();
        self.ledger
            .db
            .execute_batch("BEGIN")
            .map_err(|e| db_err(&path, e))?;
        let result = f(self).and_then(|v| {
            self.ledger
                .db
                .execute_batch("COMMIT")
                .map_err(|e| db_err(&path, e))?;
            Ok(v)
        });
        if result.is_err() {
            if !self.ledger.db.is_autocommit() {
                let _ = self.ledger.db.execute_batch("ROLLBACK");
            }
            // best effort: if this fails too, the next writer catches up from the log
            let _ = self.ledger.catch_up_projections();
        }
        result
    }

    /// Projects the staged events and appends them durably, inside the caller's
    /// transaction. Returns where they are in `appended`.
    fn project_and_append(&mut self, staging: Staging) -> Result<std::ops::Range<usize>, LedgerError> {
        let start = self.appended.len();
        if staging.events.is_empty() {
            return Ok(start..start);
        }
        let l = &mut *self.ledger;
        for ev in &staging.events {
            for p in &l.subs.projections {
                apply(p.as_ref(), &l.db, ev)?;
            }
        }
        set_projection_positions(&l.db, &l.subs, &staging.next).map_err(|e| db_err(&l.db_path, e))?;
        crate::crash_point("project");
        log::append_durably(&l.events, staging.start.offset, &staging.bytes)?;
        crate::crash_point("append.durable");
        self.unreacted_from.get_or_insert(start);
        self.appended.extend(staging.events);
        Ok(start..self.appended.len())
    }

    /// Runs reaction rounds until every reactor has handled every event, inside the
    /// caller's transaction.
    fn run_reactions(&mut self) -> Result<(), LedgerError> {
        for _ in 0..MAX_ROUNDS {
            let head = self.ledger.head()?;
            let positions = self.ledger.positions()?;
            let position_of = |name: &str| positions.get(name).copied().unwrap_or(Position::GENESIS);
            let behind: Vec<usize> = (0..self.ledger.subs.reactors.len())
                .filter(|&i| position_of(self.ledger.subs.reactors[i].name()).seq < head.seq)
                .collect();
            if behind.is_empty() {
                self.unreacted_from = None;
                return Ok(());
            }
            // one read of the range every lagging reactor still has to look at: from this
            // session's memory when it appended those events, else from the log
            let from = behind
                .iter()
                .map(|&i| position_of(self.ledger.subs.reactors[i].name()))
                .min_by_key(|p| p.seq)
                .expect("some reactor is behind");
            let in_memory = self.unreacted_from.and_then(|k| {
                let first = self.appended.get(k)?;
                (first.seq <= from.seq + 1 && self.appended.last().is_some_and(|l| l.seq == head.seq))
                    .then(|| k + (from.seq + 1 - first.seq) as usize)
            });
            let read: Vec<Event>;
            let pending: &[Event] = match in_memory {
                Some(i) => &self.appended[i..],
                None => {
                    read = LogReader::open(&self.ledger.events, from)?
                        .stop_after(head.seq)
                        .map(|item| item.map(|(ev, _)| ev))
                        .collect::<Result<_, _>>()?;
                    &read
                }
            };
            let l = &mut *self.ledger;
            let mut staging = Staging::new(head);
            let tx = &l.db;
            for i in behind {
                let reactor = l.subs.reactors[i].as_ref();
                let after = position_of(reactor.name()).seq;
                let todo = &pending[pending.partition_point(|e| e.seq <= after)..];
                // reactions already in the log (a crash came after their append)
                let handled: HashSet<Uuid> = todo
                    .iter()
                    .filter(|e| e.producer == reactor.name())
                    .filter_map(|e| e.causation_id)
                    .collect();
                for ev in todo {
                    if handled.contains(&ev.id) {
                        continue;
                    }
                    let mut ctx = Context {
                        now: self.now,
                        rng: &mut self.rng,
                        last_id: Some(&mut self.last_id),
                    };
                    let out = reactor
                        .react(tx, ev, &mut ctx)
                        .map_err(|source| LedgerError::React {
                            name: reactor.name().to_owned(),
                            seq: ev.seq,
                            event_type: ev.event_type.clone(),
                            source,
                        })?;
                    if out.is_empty() {
                        continue;
                    }
                    let cause = Cause {
                        causation_id: ev.id,
                        correlation_id: ev.correlation_id,
                        reactor: reactor.name(),
                    };
                    staging.stage_applied(out, cause, &mut ctx, &l.subs.projections, tx)?;
                }
                flush(reactor, head.seq)?;
                set_position(tx, reactor.name(), &head).map_err(|e| db_err(&l.db_path, e))?;
            }
            if !staging.events.is_empty() {
                staging.append_round(l, ["react", "react.durable"])?;
            }
            // what every reactor has now seen is done with; this round's reactions are next
            self.unreacted_from = Some(self.appended.len());
            self.appended.extend(staging.events);
        }
        Err(LedgerError::React {
            name: "(all)".into(),
            seq: self.ledger.head()?.seq,
            event_type: String::new(),
            source: format!("reactions did not settle after {MAX_ROUNDS} rounds").into(),
        })
    }

    /// Asks every reactor for the deferred side effects it can deliver now
    /// ([`Reactor::retry`]), appends what they delivered as one write, and lets every
    /// reactor see it. Run once per write session, after the session's first commit.
    fn run_retries(&mut self) -> Result<(), LedgerError> {
        let head = self.ledger.head()?;
        let l = &mut *self.ledger;
        let mut staging = Staging::new(head);
        for reactor in &l.subs.reactors {
            let mut ctx = Context {
                now: self.now,
                rng: &mut self.rng,
                last_id: Some(&mut self.last_id),
            };
            let delivered = reactor
                .retry(&l.db, &mut ctx)
                .map_err(|source| LedgerError::React {
                    name: reactor.name().to_owned(),
                    seq: head.seq,
                    event_type: "(a deferred delivery)".into(),
                    source,
                })?;
            if delivered.is_empty() {
                continue;
            }
            for r in delivered.into_iter().filter(|r| !r.events.is_empty()) {
                let cause = Cause {
                    causation_id: r.causation_id,
                    correlation_id: r.correlation_id,
                    reactor: reactor.name(),
                };
                staging.stage_applied(r.events, cause, &mut ctx, &l.subs.projections, &l.db)?;
            }
            flush(reactor.as_ref(), head.seq)?;
        }
        if staging.events.is_empty() {
            return Ok(());
        }
        staging.append_round(l, ["retry", "retry.durable"])?;
        self.unreacted_from = Some(self.appended.len());
        self.appended.extend(staging.events);
        self.run_reactions()
    }
}

/// What a reaction's batch comes from: the event it answers and the reactor that made it.
#[derive(Clone, Copy)]
struct Cause<'a> {
    causation_id: Uuid,
    correlation_id: Uuid,
    reactor: &'a str,
}

/// Makes `reactor`'s side effects of this round durable ([`Reactor::flush`]).
fn flush(reactor: &dyn Reactor, seq: u64) -> Result<(), LedgerError> {
    reactor.flush().map_err(|source| LedgerError::Flush {
        name: reactor.name().to_owned(),
        seq,
        source,
    })
}

/// Events encoded in memory, ready for one write.
struct Staging {
    start: Position,
    next: Position,
    bytes: Vec<u8>,
    events: Vec<Event>,
}

impl Staging {
    fn new(start: Position) -> Staging {
        Staging {
            start,
            next: start,
            bytes: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Stages one atomic batch, with its ids and instant from the session's `ctx`; `cause`
    /// is the event and the reactor's name when the batch is a reaction.
    /// Stages a reaction's batch and applies it to every projection at once, so that a
    /// later reaction of the same round reads it.
    fn stage_applied(
        &mut self,
        batch: Vec<NewEvent>,
        cause: Cause<'_>,
        ctx: &mut Context<'_>,
        projections: &[Box<dyn Projection>],
        db: &Connection,
    ) -> Result<(), LedgerError> {
        let staged = self.stage(batch, Some(cause), ctx);
        for e in &self.events[staged] {
            for p in projections {
                apply(p.as_ref(), db, e)?;
            }
        }
        Ok(())
    }

    /// Records the projections' positions after this round (in the open SQLite
    /// transaction) and appends the round to the log durably; `points` name its crash
    /// points (before the append, after it is durable).
    fn append_round(&self, l: &Ledger, points: [&str; 2]) -> Result<(), LedgerError> {
        set_projection_positions(&l.db, &l.subs, &self.next).map_err(|e| db_err(&l.db_path, e))?;
        crate::crash_point(points[0]);
        log::append_durably(&l.events, self.start.offset, &self.bytes)?;
        crate::crash_point(points[1]);
        Ok(())
    }

    fn stage(
        &mut self,
        batch: Vec<NewEvent>,
        cause: Option<Cause<'_>>,
        ctx: &mut Context<'_>,
    ) -> std::ops::Range<usize> {
        let now = ctx.now;
        let first = self.events.len();
        let batch_end = self.next.seq + batch.len() as u64;
        let mut correlation = cause.map(|c| c.correlation_id);
        for ne in batch {
            let id = ctx.new_id();
            let mut ev = Event {
                seq: self.next.seq + 1,
                id,
                event_type: ne.event_type,
                version: ne.version,
                at: now,
                producer: cause.map_or(ne.producer, |c| c.reactor.to_owned()),
                actor: ne.actor,
                causation_id: cause.map(|c| c.causation_id),
                correlation_id: *correlation.get_or_insert(id),
                data: ne.data,
                batch_end,
                prev: self.next.hash,
                hash: Hash::GENESIS,
            };
            let before = self.bytes.len();
            ev.hash = line::encode(&ev, &mut self.bytes);
            self.next = Position {
                seq: ev.seq,
                offset: self.next.offset + (self.bytes.len() - before) as u64,
                hash: ev.hash,
                at: Some(now),
            };
            self.events.push(ev);
        }
        first..self.events.len()
    }
}

/// A UUIDv7 at `now`. With `last` (a write session's last id), ids increase within the
/// session (RFC 9562, 6.2, method 2): in the same millisecond the 74 random bits go on from
/// the last id by a random step, so rows keyed by these ids are appended at the right edge
/// of their B-tree instead of at random places (a session's ids share its one instant).
fn new_id(now: DateTime<Utc>, rng: &mut StdRng, last: Option<&mut u128>) -> Uuid {
    const RAND_B: u128 = (1 << 62) - 1;
    let ms = now.timestamp_millis() as u64;
    let mut bytes = [0u8; 10];
    rng.fill_bytes(&mut bytes);
    let fresh = uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid();
    let Some(last) = last else { return fresh };
    // the 74 random bits: rand_a (12 bits after the version) and rand_b (62 after the variant)
    let random_bits = |u: u128| ((u >> 64) & 0xfff) << 62 | (u & RAND_B);
    let same_ms = *last != 0 && (*last >> 80) as u64 == ms;
    let counter = if same_ms {
        random_bits(*last) + 1 + u128::from(rng.next_u32())
    } else {
        // a new millisecond: fresh bits with the top one clear, so the counter has room for
        // 2^41 steps before it could run out
        random_bits(fresh.as_u128()) & !(1 << 73)
    };
    if counter >> 74 != 0 {
        // out of room (not reachable in practice): a fresh random id, still unique
        *last = fresh.as_u128();
        return fresh;
    }
    let id = u128::from(ms) << 80 | 0x7 << 76 | (counter >> 62) << 64 | 0b10 << 62 | (counter & RAND_B);
    *last = id;
    Uuid::from_u128(id)
}

fn apply(p: &dyn Projection, db: &Connection, ev: &Event) -> Result<(), LedgerError> {
    p.apply(db, ev)
        .map_err(|source| apply_error(p, ev.seq, &ev.event_type, source))
}

fn apply_error(p: &dyn Projection, seq: u64, event_type: &str, source: BoxError) -> LedgerError {
    LedgerError::Apply {
        name: p.name().to_owned(),
        seq,
        event_type: event_type.to_owned(),
        source,
    }
}

/// One projection in a replay from the first event: its own fold, or `apply` per event.
struct Replaying<'p, 'db> {
    projection: &'p dyn Projection,
    fold: Option<Box<dyn Replay + 'db>>,
}

impl<'p, 'db> Replaying<'p, 'db> {
    fn all(
        projections: &'p [Box<dyn Projection>],
        db: &'db Connection,
        path: &Path,
    ) -> Result<Vec<Self>, LedgerError> {
        projections
            .iter()
            .map(|p| {
                Ok(Replaying {
                    projection: p.as_ref(),
                    fold: p.replay(db).map_err(|e| db_err(path, e))?,
                })
            })
            .collect()
    }

    fn apply(&mut self, db: &Connection, ev: &Event) -> Result<(), LedgerError> {
        match &mut self.fold {
            Some(fold) => fold
                .apply(db, ev)
                .map_err(|source| apply_error(self.projection, ev.seq, &ev.event_type, source)),
            None => apply(self.projection, db, ev),
        }
    }

    /// `last_seq`: the last event replayed, named if writing the fold fails.
    fn finish(self, db: &Connection, last_seq: u64) -> Result<(), LedgerError> {
        match self.fold {
            Some(fold) => fold
                .finish(db)
                .map_err(|source| apply_error(self.projection, last_seq, "end of the replay", source)),
            None => Ok(()),
        }
    }
}

fn report_progress_to(progress: &ProgressCell, events: &Path, done: u64) {
    if let Some(f) = progress.lock().expect("progress is never poisoned").as_mut() {
        let total = std::fs::metadata(events).map_or(done, |m| m.len());
        f(done, total);
    }
}

fn db_err(path: &Path, source: rusqlite::Error) -> LedgerError {
    LedgerError::Db {
        path: path.to_owned(),
        source,
    }
}

fn open_lock(path: &Path) -> Result<File, LedgerError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| LedgerError::io("open", path, e))
}

fn open_db(path: &Path) -> Result<Connection, LedgerError> {
    let existed = path.exists();
    let db = Connection::open(path).map_err(|e| db_err(path, e))?;
    if !existed {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| LedgerError::io("set permissions of", path, e))?;
    }
    db.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| db_err(path, e))?;
    // 32 MB of page cache (SQLite's default is 2 MB): batch work (imports, shuffles, payment
    // runs, catch-up) touches many pages; a small command still reads only the pages it needs
    db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;")
        .map_err(|e| db_err(path, e))?;
    Ok(db)
}

/// Removes a database and its journal files; says whether there was anything to remove.
fn remove_db_files(path: &Path) -> Result<bool, LedgerError> {
    let mut removed = false;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match fs::remove_file(&p) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LedgerError::io("remove", &p, e)),
        }
    }
    Ok(removed)
}

/// Removes a database being built when the build ends, however it ends (an error, an
/// interruption): a killed process's leftovers are removed by the next one under the lock.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = remove_db_files(&self.0);
    }
}

/// SIGINT and SIGTERM during a rebuild: noted, so that the rebuild stops at its next check,
/// removes what it built and leaves the old projections in place (a signal's default
/// action would leave the half-built database behind). A signal that comes after the last
/// check (the rebuild is then as good as done) is delivered again, as it came, once the
/// old handlers are back.
mod signals {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicI32, Ordering};

    use crate::error::LedgerError;

    /// The signal caught (0: none).
    static CAUGHT: AtomicI32 = AtomicI32::new(0);
    /// How many `Interrupt`s live, and the handlers that were there before the first.
    static INSTALLED: Mutex<(usize, Vec<(libc::c_int, libc::sighandler_t)>)> = Mutex::new((0, Vec::new()));

    extern "C" fn note(sig: libc::c_int) {
        CAUGHT.store(sig, Ordering::SeqCst);
    }

    /// Catches the signals while it lives (rebuilds in one process share one handler);
    /// the earlier handlers come back when the last one is dropped.
    pub struct Interrupt {
        handled: std::cell::Cell<bool>,
    }

    impl Interrupt {
        pub fn catch() -> Interrupt {
            let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
            if installed.0 == 0 {
                CAUGHT.store(0, Ordering::SeqCst);
                let handler = note as extern "C" fn(libc::c_int) as libc::sighandler_t;
                installed.1 = [libc::SIGINT, libc::SIGTERM]
                    .into_iter()
                    // SAFETY: `note` only stores to an atomic, which is async-signal-safe
                    .map(|sig| (sig, unsafe { libc::signal(sig, handler) }))
                    .filter(|(_, previous)| *previous != libc::SIG_ERR)
                    .collect();
            }
            installed.0 += 1;
            Interrupt {
                handled: std::cell::Cell::new(false),
            }
        }

        /// `Err(Interrupted)` once SIGINT or SIGTERM has arrived.
        pub fn check(&self) -> Result<(), LedgerError> {
            if CAUGHT.load(Ordering::SeqCst) != 0 {
                self.handled.set(true);
                return Err(LedgerError::Interrupted);
            }
            Ok(())
        }
    }

    impl Drop for Interrupt {
        fn drop(&mut self) {
            let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
            installed.0 -= 1;
            if installed.0 > 0 {
                return;
            }
            for (sig, previous) in installed.1.drain(..) {
                // SAFETY: restores the handler that was there before the first `catch`
                unsafe { libc::signal(sig, previous) };
            }
            let sig = CAUGHT.swap(0, Ordering::SeqCst);
            if sig != 0 && !self.handled.get() {
                // SAFETY: raising a signal on this process, with its earlier handler back
                unsafe { libc::raise(sig) };
            }
        }
    }
}

fn init_schema(db: &Connection, path: &Path, subs: &Subscribers, version: u32) -> Result<(), LedgerError> {
    let go = || -> rusqlite::Result<()> {
        let tx = db.unchecked_transaction()?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
             CREATE TABLE IF NOT EXISTS ledger_subscriptions (
                 name TEXT PRIMARY KEY, seq INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
                 hash TEXT NOT NULL, at TEXT) STRICT;",
        )?;
        for p in &subs.projections {
            p.migrate(&tx)?;
        }
        let names = subs
            .projections
            .iter()
            .map(|p| p.name())
            .chain(subs.reactors.iter().map(|r| r.name()));
        for name in names {
            tx.execute(
                "INSERT OR IGNORE INTO ledger_subscriptions (name, seq, byte_offset, hash, at) VALUES (?1, 0, 0, ?2, NULL)",
                params![name, Hash::GENESIS.to_string()],
            )?;
        }
        tx.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [version.to_string()],
        )?;
        tx.commit()
    };
    go().map_err(|e| db_err(path, e))
}

/// Drops the explicit secondary indexes of a database about to be filled and returns the
/// statements that create them again. Indexes behind PRIMARY KEY and UNIQUE constraints stay.
fn defer_indexes(db: &Connection) -> rusqlite::Result<String> {
    let indexes: Vec<(String, String)> = db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut create = String::new();
    for (name, sql) in indexes {
        db.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        create.push_str(&sql);
        create.push_str(";\n");
    }
    Ok(create)
}

fn read_positions(db: &Connection) -> rusqlite::Result<HashMap<String, Position>> {
    let mut stmt = db.prepare_cached("SELECT name, seq, byte_offset, hash, at FROM ledger_subscriptions")?;
    let rows = stmt.query_map([], |r| {
        let hash: String = r.get(3)?;
        let at: Option<String> = r.get(4)?;
        Ok((
            r.get::<_, String>(0)?,
            Position {
                seq: r.get::<_, i64>(1)? as u64,
                offset: r.get::<_, i64>(2)? as u64,
                hash: hash.parse().unwrap_or_default(),
                at: at
                    .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                    .map(|t| t.with_timezone(&Utc)),
            },
        ))
    })?;
    rows.collect()
}

fn set_position(db: &Connection, name: &str, pos: &Position) -> rusqlite::Result<()> {
    db.prepare_cached(
        "UPDATE ledger_subscriptions SET seq = ?2, byte_offset = ?3, hash = ?4, at = ?5 WHERE name = ?1",
    )?
    .execute(params![
        name,
        pos.seq as i64,
        pos.offset as i64,
        pos.hash.to_string(),
        pos.at.as_ref().map(line::format_at)
    ])?;
    Ok(())
}

fn set_projection_positions(db: &Connection, subs: &Subscribers, pos: &Position) -> rusqlite::Result<()> {
    for p in &subs.projections {
        set_position(db, p.name(), pos)?;
    }
    Ok(())
}

/// Compares every projection table of `live` with the same table in the database at
/// `fresh` (as multisets of rows). Returns the tables compared.
/// Compares every table of `live` with the same table of `fresh` (a replay, at
/// `fresh_path`): the same tables, and in each the same rows (as multisets: both sides
/// read in the order of all their columns and compared row by row). Two connections, no
/// ATTACH: `live` stays inside its read transaction, `fresh` is a private file.
fn compare_tables(
    live: &Connection,
    fresh: &Connection,
    fresh_path: &Path,
) -> Result<Vec<String>, LedgerError> {
    let err = |e| db_err(fresh_path, e);
    let list = |db: &Connection| -> rusqlite::Result<Vec<String>> {
        let mut stmt = db.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name NOT IN ('ledger_meta', 'ledger_subscriptions') ORDER BY name",
        )?;
        stmt.query_map([], |r| r.get(0))?.collect()
    };
    let tables = list(fresh).map_err(err)?;
    let live_tables = list(live).map_err(err)?;
    let mismatch = |t: &str| LedgerError::corrupt(0, 0, Problem::ReplayMismatch { table: t.to_owned() });
    if let Some(t) = live_tables
        .iter()
        .chain(&tables)
        .find(|t| !tables.contains(t) || !live_tables.contains(t))
    {
        return Err(mismatch(t));
    }
    for t in &tables {
        let columns: usize = fresh
            .prepare(&format!("SELECT * FROM \"{t}\" LIMIT 0"))
            .map_err(err)?
            .column_count();
        let order: Vec<String> = (1..=columns).map(|i| i.to_string()).collect();
        let q = format!("SELECT * FROM \"{t}\" ORDER BY {}", order.join(", "));
        let mut a = live.prepare(&q).map_err(err)?;
        let mut b = fresh.prepare(&q).map_err(err)?;
        if a.column_count() != columns {
            return Err(mismatch(t));
        }
        let mut ra = a.query([]).map_err(err)?;
        let mut rb = b.query([]).map_err(err)?;
        loop {
            match (ra.next().map_err(err)?, rb.next().map_err(err)?) {
                (None, None) => break,
                (Some(x), Some(y)) => {
                    for i in 0..columns {
                        let (vx, vy) = (x.get_ref(i).map_err(err)?, y.get_ref(i).map_err(err)?);
                        if vx != vy {
                            return Err(mismatch(t));
                        }
                    }
                }
                _ => return Err(mismatch(t)),
            }
        }
    }
    Ok(tables)
}

/// A private scratch database file, removed on drop.
struct ScratchDb {
    path: PathBuf,
}

impl ScratchDb {
    fn new(ledger_dir: &Path) -> Result<ScratchDb, LedgerError> {
        let base = std::env::temp_dir();
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let tag: u64 = ledger_dir.as_os_str().len() as u64 ^ nanos as u64;
        let path = base.join(format!("popug-verify-{}-{tag:x}.db", std::process::id()));
        drop(log::create_private(&path)?);
        Ok(ScratchDb { path })
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = remove_db_files(&self.path);
    }
}
