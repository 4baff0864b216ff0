//! Verify: the whole log checked and replayed into a scratch database, compared with one
//! consistent snapshot of the projections.

use super::rebuild::defer_indexes;
use super::*;

impl Ledger {
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
