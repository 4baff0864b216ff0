//! Rebuild: the log replayed into a new database, copied into the live one in one
//! transaction, under the writer lock; interrupted cleanly by SIGINT and SIGTERM.

use super::*;

impl Ledger {
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
        let lock = lock_writers(dir)?;
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
    pub(super) fn rebuild_path(&self) -> PathBuf {
        self.dir.join(format!("{}.rebuild", self.opts.db_file))
    }

    /// Recreates the projection database from the log (into a new file, copied into the
    /// live database in one transaction).
    pub fn rebuild(&mut self) -> Result<RebuildReport, LedgerError> {
        let lock = lock_writers(&self.dir)?;
        self.rebuild_with(lock)
    }

    fn rebuild_with(&mut self, lock: File) -> Result<RebuildReport, LedgerError> {
        let report = self.rebuild_locked()?;
        let rng = self.session_rng(&report.last);
        let now = self.opts.clock.resolve_at_least(report.last.at);
        let mut guard = WriteGuard::new(self, lock, now, rng);
        guard.in_transaction(|g| g.run_reactions())?;
        Ok(report)
    }

    /// Replays the whole log into a new database file and swaps it in. The caller holds
    /// the lock. Reactor checkpoints are derived from the log: a writer finishes every
    /// reaction before it appends a new command's batch, so everything before the last
    /// command batch has been reacted to; the rest is re-examined with the usual
    /// look-ahead, which skips reactions already in the log.
    pub(super) fn rebuild_locked(&mut self) -> Result<RebuildReport, LedgerError> {
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
