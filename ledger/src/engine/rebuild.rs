//! Rebuild: the log replayed into new store files, one thread per store, each copied into
//! its live store in one transaction, under the writer lock; interrupted cleanly by SIGINT
//! and SIGTERM.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::*;
use crate::log::SharedChunk;

impl Ledger {
    /// Recreates every store of the ledger at `dir` from its log, whatever state the old
    /// stores are in (missing, stale, or not a database at all).
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
        let lock = lock_writers(dir)?;
        let views = views_dir(dir)?;
        // a store file that SQLite cannot even open is replaced; any other is kept until
        // the new one is complete
        let mut stores = Vec::new();
        for spec in subs.stores {
            let path = store_path(&views, &spec.name);
            let mut store = OpenStore::open(spec, path)?;
            store.materialize()?;
            stores.push(store);
        }
        let mut ledger = Ledger::assemble(dir, stores, opts);
        ledger.set_progress(progress);
        let report = ledger.rebuild_with(lock)?;
        Ok((ledger, report))
    }

    /// Recreates every store from the log (each into a new file, copied into the live
    /// store in one transaction).
    /// On a shared log, a damaged line in this host's copy makes the copy be made again
    /// first ([`Recovery::recopied`]).
    pub fn rebuild(&mut self) -> Result<RebuildReport, LedgerError> {
        self.or_recopy(|l| {
            let lock = lock_writers(&l.dir)?;
            l.rebuild_with(lock)
        })
    }

    fn rebuild_with(&mut self, lock: File) -> Result<RebuildReport, LedgerError> {
        // a shared log: rebuilt from the stream as it is now
        self.sync_replica()?;
        self.sync_left_behind()?;
        let all: Vec<usize> = (0..self.stores.len()).collect();
        let report = self.rebuild_locked(&all)?;
        let rng = self.session_rng(&report.last);
        let now = self.opts.clock.resolve_at_least(report.last.at);
        WriteGuard::new(self, lock, now, rng).finish_pending()?;
        Ok(report)
    }

    /// Replays the whole log into new files for the stores `which` (indexes into the
    /// stores), one thread per store, and swaps each in. The caller holds the lock.
    /// Reactor checkpoints are derived from the log: a writer finishes every reaction that
    /// runs in commands before it appends a new command's batch, so everything before the
    /// last command batch has been reacted to; the rest is re-examined with the usual
    /// look-ahead, which skips reactions already in the log. A reactor whose work is left
    /// to a worker ([`Ledger::left_to_worker`]) resumes where its own reactions show it
    /// had come instead.
    pub(super) fn rebuild_locked(&mut self, which: &[usize]) -> Result<RebuildReport, LedgerError> {
        let interrupt = signals::Interrupt::catch();
        // no rebuild runs but this one (the lock is ours): what is there was left by one
        // that was killed
        let mut leftover = None;
        let mut cleanups = Vec::new();
        for &i in which {
            let tmp = rebuild_path(&self.stores[i].path);
            if remove_db_files(&tmp)? {
                leftover = Some(tmp.clone());
            }
            cleanups.push(RemoveOnDrop(tmp));
        }
        let reader = LogReader::open(&self.events, Position::GENESIS)?;
        let stores = &self.stores;
        let progress = &self.progress;
        let events_path = &self.events;
        let interrupt_ref = &interrupt;
        let (scan, reader) = reader.read_shared(|chunks| {
            std::thread::scope(|scope| {
                let mut senders = Vec::new();
                let mut builders = Vec::new();
                for (&i, cleanup) in which.iter().zip(&cleanups) {
                    let (tx, rx) = sync_channel::<Feed>(4);
                    let plan = stores[i].spec.plan();
                    let tmp = cleanup.0.clone();
                    let stores = which.len();
                    builders.push(scope.spawn(move || build_store(plan, &tmp, stores, rx)));
                    senders.push(tx);
                }
                let fed = feed(chunks, &senders, |_, end, events| {
                    if events.is_multiple_of(8192) {
                        report_progress_to(progress, events_path, end);
                        interrupt_ref.check()?;
                    }
                    Ok(())
                });
                drop(senders);
                let built: Vec<Result<Connection, LedgerError>> = builders
                    .into_iter()
                    .map(|b| b.join().expect("a store's replay does not panic"))
                    .collect();
                // the reading error first (it names the damaged line), then a store's
                let scan = fed?;
                let built = built.into_iter().collect::<Result<Vec<_>, _>>()?;
                Ok::<_, LedgerError>((built, scan))
            })
        });
        let (built, scan) = scan?;
        let events = scan.events;
        let last = reader.position();
        interrupt.check()?;
        // a reactor whose work is left to a worker (handed over, or with side effects on a
        // host on a shared log) may be behind many command batches: it resumes where its own
        // reactions show it had come, not before the last command batch. Set in the new
        // store before it is copied, so that the copy carries it in its one transaction: a
        // store copied while another is not (a crash, a store held by another program) is
        // never left with such a reactor's checkpoint past what it handled
        for (&i, db) in which.iter().zip(&built) {
            let s = &self.stores[i];
            for r in &s.spec.reactors {
                if self.left_to_worker(r.as_ref(), db)? {
                    let came = scan.reacted.get(r.name()).copied().unwrap_or(Position::GENESIS);
                    let resume = if came.seq < scan.before_last_root.seq {
                        came
                    } else {
                        scan.before_last_root
                    };
                    set_position(db, r.name(), &resume).map_err(|e| db_err(&s.path, e))?;
                }
            }
        }
        // Each new store replaces the old one in one SQLite write transaction (the backup
        // API copies every page into the live database): a reader sees a store's old tables
        // or its new ones, never a missing file or a half-replaced one, and a command that
        // opened it before keeps a valid handle on it. Writers wait on the lock until all
        // are done. The stores are copied at once, one thread each.
        // `built` is in the order of `which` (not of the stores): each copy goes to the store
        // it was built for
        let mut slots: Vec<Option<(&mut Connection, &Path)>> = self
            .stores
            .iter_mut()
            .map(|s| Some((&mut s.db, s.path.as_path())))
            .collect();
        let mut lives: Vec<(&mut Connection, &Path)> = which
            .iter()
            .map(|&i| slots[i].take().expect("each store is rebuilt once"))
            .collect();
        std::thread::scope(|scope| {
            let copies: Vec<_> = lives
                .iter_mut()
                .zip(built)
                .map(|((live, path), db)| scope.spawn(move || copy_into(&db, live, path)))
                .collect();
            copies
                .into_iter()
                .map(|c| c.join().expect("a store's copy does not panic"))
                .collect::<Result<Vec<()>, LedgerError>>()
        })?;
        crate::crash_point("rebuild.copied");
        Ok(RebuildReport {
            events,
            last,
            leftover_removed: leftover,
        })
    }
}

/// Copies the store built in `db` into the live store `live` (at `path`) in one write
/// transaction, then folds the copy from the live store's WAL into its file and lets the
/// pages it went through leave the connection's cache.
fn copy_into(db: &Connection, live: &mut Connection, path: &Path) -> Result<(), LedgerError> {
    use rusqlite::backup::{Backup, StepResult};
    // the pages only pass through: a small cache keeps the copies of all the stores, made
    // at once, within the rebuild's memory (the connection's own size comes back after)
    live.execute_batch("PRAGMA cache_size=-2048;")
        .map_err(|e| db_err(path, e))?;
    {
        let backup = Backup::new(db, live).map_err(|e| db_err(path, e))?;
        // every page in one step, so one transaction. The step waits (the live connection's
        // busy handler) while another connection holds the store's write lock: not a popug
        // writer (the caller holds the writer lock), an admin's `sqlite3` shell, a backup
        // tool. Held longer than a writer would wait, the rebuild gives up on the store
        // rather than hold the writer lock forever: the store keeps its old tables, which
        // agree with its own checkpoints, and catches up from the log like any store
        let started = std::time::Instant::now();
        loop {
            match backup.step(-1).map_err(|e| db_err(path, e))? {
                StepResult::Done => break,
                StepResult::More => {}
                _ if started.elapsed() < busy_timeout() => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                _ => {
                    return Err(db_err(
                        path,
                        rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some(format!(
                                "another connection held the store's write lock for {} s: its old \
                                 tables are kept (close that connection and run the rebuild again)",
                                busy_timeout().as_secs_f64()
                            )),
                        ),
                    ));
                }
            }
        }
    }
    let _ = live.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA shrink_memory;");
    live.execute_batch(LIVE_CACHE).map_err(|e| db_err(path, e))
}

/// What the reading thread hands each store's replay.
pub(super) enum Feed {
    Events(SharedChunk),
    /// The log's end: the position after the last event, and the position before the last
    /// command batch (where reactors resume).
    End {
        last: Position,
        before_last_root: Position,
    },
}

/// Hands every chunk to every store's thread, then where the log ended. `each` sees every
/// event (with the offset after its line and the number of events so far) before the
/// stores do, and may stop the replay. Returns the number of events read and the position
/// before the last command batch.
pub(super) fn feed(
    chunks: &mut dyn Iterator<Item = Result<SharedChunk, LedgerError>>,
    senders: &[SyncSender<Feed>],
    mut each: impl FnMut(&Event, u64, u64) -> Result<(), LedgerError>,
) -> Result<Scan, LedgerError> {
    let mut before_last_root = Position::GENESIS;
    let mut prev_pos = Position::GENESIS;
    let mut prev_closed = true;
    let mut events = 0u64;
    // the position after the last command batch so far, and whether the open batch is one
    let (mut after_root, mut in_root) = (Position::GENESIS, false);
    let mut reacted: HashMap<String, Position> = HashMap::new();
    for chunk in chunks {
        let chunk = chunk?;
        for (ev, end) in chunk.iter() {
            if ev.is_root() && prev_closed {
                before_last_root = prev_pos;
            }
            if prev_closed {
                in_root = ev.is_root();
            }
            if !ev.is_root() && !reacted.get(&ev.producer).is_some_and(|p| *p == after_root) {
                reacted.insert(ev.producer.clone(), after_root);
            }
            prev_pos = Position::after(ev, *end);
            prev_closed = ev.seq == ev.batch_end;
            if prev_closed && in_root {
                after_root = prev_pos;
            }
            events += 1;
            each(ev, *end, events)?;
        }
        for s in senders {
            // a store whose replay failed has hung up: its error is reported when joined
            let _ = s.send(Feed::Events(chunk.clone()));
        }
    }
    for s in senders {
        let _ = s.send(Feed::End {
            last: prev_pos,
            before_last_root,
        });
    }
    Ok(Scan {
        events,
        before_last_root,
        reacted,
    })
}

/// What [`feed`] saw of the whole log.
pub(super) struct Scan {
    pub(super) events: u64,
    /// The position before the last command batch (where reactors resume).
    pub(super) before_last_root: Position,
    /// For each producer of reactions, the position after the last command batch before its
    /// latest reaction: it had handled every event up to there (a reaction round handles
    /// everything up to the head it started at, which is past the command batch before it).
    pub(super) reacted: HashMap<String, Position>,
}

/// The replay loop, the one every replay runs (rebuild, verify): the events fed, in
/// order, through each projection's fold ([`Projection::replay`], else `apply`) into `db`
/// (at `path`), committed every [`CATCH_UP_CHUNK`] events at a batch's end; with `upto`,
/// each projection only up to its own checkpoint (verify replays what the live store
/// applied). Returns the end of the log as the feeding thread saw it: the position after
/// the last event, and the one before the last command batch.
pub(super) fn replay(
    db: &Connection,
    path: &Path,
    projections: &[Box<dyn Projection>],
    upto: Option<&[u64]>,
    feed: Receiver<Feed>,
) -> Result<(Position, Position), LedgerError> {
    let mut folds = Replaying::all(projections, db, path)?;
    let mut tx = db.unchecked_transaction().map_err(|e| db_err(path, e))?;
    let mut in_tx = 0u64;
    let mut last_seq = 0;
    let end = loop {
        match feed.recv() {
            Ok(Feed::Events(chunk)) => {
                for (ev, _) in chunk.iter() {
                    for (i, f) in folds.iter_mut().enumerate() {
                        if upto.is_none_or(|cps| ev.seq <= cps[i]) {
                            f.apply(&tx, ev)?;
                        }
                    }
                    last_seq = ev.seq;
                    in_tx += 1;
                    if in_tx >= CATCH_UP_CHUNK && ev.seq == ev.batch_end {
                        in_tx = 0;
                        tx.commit().map_err(|e| db_err(path, e))?;
                        tx = db.unchecked_transaction().map_err(|e| db_err(path, e))?;
                    }
                }
            }
            Ok(Feed::End {
                last,
                before_last_root,
            }) => break (last, before_last_root),
            // the reading stopped (damage, an interruption): reported by the caller
            Err(_) => return Err(LedgerError::Interrupted),
        }
    };
    for f in folds {
        f.finish(&tx, last_seq)?;
    }
    tx.commit().map_err(|e| db_err(path, e))?;
    Ok(end)
}

/// One store's replay from the first event into a new file at `path`: its tables, its
/// projections' folds, its checkpoints at the end of the log (reactors before the last
/// command batch), then its secondary indexes (built once, at the end, rather than kept up
/// to date row by row; projections must not need them to apply events).
/// `stores`: how many are built at once (they share the page cache).
fn build_store(
    plan: Plan<'_>,
    path: &Path,
    stores: usize,
    feed: Receiver<Feed>,
) -> Result<Connection, LedgerError> {
    let db = open_db(path)?;
    db.execute_batch(&bulk_pragmas(stores))
        .map_err(|e| db_err(path, e))?;
    init_schema(&db, path, &plan)?;
    let indexes = defer_indexes(&db).map_err(|e| db_err(path, e))?;
    let (last, before_last_root) = replay(&db, path, plan.projections, None, feed)?;
    let tx = db.unchecked_transaction().map_err(|e| db_err(path, e))?;
    set_projection_positions(&tx, plan.projections, &last).map_err(|e| db_err(path, e))?;
    for r in &plan.reactors {
        set_position(&tx, r, &before_last_root).map_err(|e| db_err(path, e))?;
    }
    tx.commit().map_err(|e| db_err(path, e))?;
    db.execute_batch(&indexes).map_err(|e| db_err(path, e))?;
    Ok(db)
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
pub mod signals {
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

        /// Whether SIGINT or SIGTERM has arrived (a long-running process that stops at a
        /// point of its choosing: `popug worker` finishes its batch first).
        pub fn caught(&self) -> bool {
            let caught = CAUGHT.load(Ordering::SeqCst) != 0;
            if caught {
                self.handled.set(true);
            }
            caught
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

/// Drops the explicit secondary indexes of a database about to be filled and returns the
/// statements that create them again. Indexes behind PRIMARY KEY and UNIQUE constraints stay.
pub(super) fn defer_indexes(db: &Connection) -> rusqlite::Result<String> {
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
