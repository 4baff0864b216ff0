//! Verify: the whole log checked and replayed into scratch stores, one thread per store,
//! each compared with one consistent snapshot of its live store.

use std::sync::mpsc::{Receiver, sync_channel};

use super::rebuild::{Feed, defer_indexes, feed, replay};
use super::*;

impl Ledger {
    /// Checks the whole log (hashes, chain, seq, time, batches, unique ids) and that
    /// replaying it into fresh stores gives exactly the live stores.
    pub fn verify(&self) -> Result<VerifyReport, LedgerError> {
        self.verify_with(|_, _| Ok(None))
    }

    /// [`Ledger::verify_with`]; on a shared log, a line that does not check in this host's
    /// copy makes the copy be made again from the stream, and the check run again on it
    /// ([`Recovery::recopied`] says so).
    pub fn verify_or_recopy(
        &mut self,
        check: impl Fn(&Connection, bool) -> Result<Option<String>, BoxError>,
    ) -> Result<VerifyReport, LedgerError> {
        self.or_recopy(|l| l.verify_with(&check))
    }

    /// [`Ledger::verify`] on one consistent snapshot, with the application's own checks
    /// (`check`, given every store attached as of the snapshot, see [`Ledger::reader`],
    /// and whether every projection and reactor had caught up there) run on that same
    /// snapshot. The snapshot is taken in an instant under the shared lock, when no writer
    /// is in the middle of a command: a SQLite read transaction on each store and the log's
    /// end at that instant. Then the lock is released: writers go on while the log up to
    /// that end is replayed (one thread per store) and compared with the snapshot's tables,
    /// so a healthy ledger under load is never reported damaged, and a lag it reports is an
    /// interrupted command's. A store that does not exist yet is neither replayed nor
    /// compared (the next command builds it).
    pub fn verify_with(
        &self,
        check: impl FnOnce(&Connection, bool) -> Result<Option<String>, BoxError>,
    ) -> Result<VerifyReport, LedgerError> {
        let mut has = Vec::new();
        for s in &self.stores {
            has.push(!s.placeholder && schema_is_current(s)?);
        }
        // a store whose checkpoints name no line of the log (another ledger's, or from a
        // later time) is not this log's: named with the missing ones, not called damage of
        // the log (the next command rebuilds it)
        for i in self.foreign_stores()? {
            has[i] = false;
        }
        let mut snaps = Vec::new();
        for (s, _) in self.stores.iter().zip(&has).filter(|(_, h)| **h) {
            let snap = open_db(&s.path)?;
            // read once, in order, for the comparison: a small cache is enough
            snap.execute_batch("PRAGMA cache_size=-2048;")
                .map_err(|e| db_err(&s.path, e))?;
            snaps.push((s, snap));
        }
        let joint = self.reader()?;
        let (live_positions, live_head, end, torn) = {
            let lock_path = self.dir.join(LOCK_FILE);
            let lock = File::open(&lock_path).ok();
            if let Some(l) = &lock {
                l.lock_shared()
                    .map_err(|e| LedgerError::io("lock", &lock_path, e))?;
            }
            let mut positions = HashMap::new();
            for (s, snap) in &snaps {
                snap.execute_batch("BEGIN").map_err(|e| db_err(&s.path, e))?;
                positions.extend(read_positions(snap).map_err(|e| db_err(&s.path, e))?);
            }
            joint.execute_batch("BEGIN").map_err(|e| db_err(&self.dir, e))?;
            for s in self.stores.iter().filter(|s| !s.placeholder) {
                // the first read of each attached store starts its part of the snapshot
                let name = s.spec.name.replace('"', "\"\"");
                joint
                    .query_row(
                        &format!("SELECT count(*) FROM \"{name}\".sqlite_master"),
                        [],
                        |_| Ok(()),
                    )
                    .map_err(|e| db_err(&s.path, e))?;
            }
            let head = snaps
                .iter()
                .flat_map(|(s, _)| &s.spec.projections)
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
        // every checkpoint of a live store must name an event of the log, with its hash
        let mut expected: HashMap<u64, Hash> = snaps
            .iter()
            .flat_map(|(s, _)| s.spec.subscriber_names())
            .filter_map(|n| live_positions.get(n))
            .filter(|p| p.seq > 0)
            .map(|p| (p.seq, p.hash))
            .collect();
        let reader = match end {
            Some(end) => LogReader::open(&self.events, Position::GENESIS)?.stop_after(end.seq),
            None => LogReader::open(&self.events, Position::GENESIS)?,
        };
        let progress = &self.progress;
        let events_path = &self.events;
        let replays: Vec<(Plan<'_>, Vec<u64>, PathBuf, Connection)> = snaps
            .into_iter()
            .map(|(s, snap)| {
                let cps = s
                    .spec
                    .projections
                    .iter()
                    .map(|p| live_positions.get(p.name()).map_or(0, |pos| pos.seq))
                    .collect();
                (s.spec.plan(), cps, s.path.clone(), snap)
            })
            .collect();
        let (scan, full) = reader.read_shared(|chunks| {
            std::thread::scope(|scope| {
                let mut senders = Vec::new();
                let mut threads = Vec::new();
                let n = replays.len();
                for (plan, cps, path, snap) in replays {
                    let (tx, rx) = sync_channel::<Feed>(4);
                    threads.push(
                        scope.spawn(move || -> Result<(Vec<String>, Connection), LedgerError> {
                            let tables = replay_and_compare(plan, n, &cps, &path, &snap, rx)?;
                            Ok((tables, snap))
                        }),
                    );
                    senders.push(tx);
                }
                let mut ids = HashSet::new();
                let mut last = Position::GENESIS;
                let fed = feed(chunks, &senders, |ev, end, events| {
                    if !ids.insert(ev.id) {
                        return Err(LedgerError::corrupt(ev.seq, end, Problem::DuplicateId(ev.id)));
                    }
                    if let Some(hash) = expected.remove(&ev.seq)
                        && hash != ev.hash
                    {
                        return Err(LedgerError::corrupt(ev.seq, end, Problem::CheckpointMismatch));
                    }
                    last = Position::after(ev, end);
                    if events.is_multiple_of(8192) {
                        report_progress_to(progress, events_path, end);
                    }
                    Ok(())
                });
                drop(senders);
                let compared: Vec<_> = threads
                    .into_iter()
                    .map(|t| t.join().expect("a store's replay does not panic"))
                    .collect();
                let events = fed?.events;
                let compared = compared.into_iter().collect::<Result<Vec<_>, _>>()?;
                Ok::<_, LedgerError>((last, events, compared))
            })
        });
        let (last, events, compared) = scan?;
        if let Some((&seq, _)) = expected.iter().max_by_key(|(seq, _)| **seq) {
            return Err(LedgerError::corrupt(
                last.seq + 1,
                last.offset,
                Problem::ProjectionsAhead {
                    log_seq: last.seq,
                    db_seq: seq,
                },
            ));
        }
        let any = has.iter().any(|h| *h);
        let stores_missing: Vec<String> = self
            .stores
            .iter()
            .zip(&has)
            .filter(|(_, h)| !**h)
            .map(|(s, _)| s.spec.name.clone())
            .collect();
        let mut tables = Vec::new();
        for (t, snap) in compared {
            tables.extend(t);
            let _ = snap.execute_batch("COMMIT");
        }
        tables.sort();
        let reaction_lag = self
            .stores
            .iter()
            .zip(&has)
            .filter(|(_, h)| **h)
            .flat_map(|(s, _)| &s.spec.reactors)
            .map(|r| {
                last.seq
                    .saturating_sub(live_positions.get(r.name()).map_or(0, |p| p.seq))
            })
            .max()
            .unwrap_or(0);
        let (projection_lag, reaction_lag) = if any {
            (last.seq - live_head.seq, reaction_lag)
        } else {
            (0, 0)
        };
        // the application's checks read every store: with one missing they would only
        // report its absence, which `stores_missing` says already
        let problem = if stores_missing.is_empty() {
            check(&joint, projection_lag == 0 && reaction_lag == 0)
                .map_err(|source| LedgerError::Check { source })?
        } else {
            None
        };
        let _ = joint.execute_batch("COMMIT");
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
            stores_missing,
        })
    }
}

/// One store's side of verify: the events fed replayed into a scratch store (each
/// projection up to its live checkpoint `cps`), then compared table by table with `live`
/// (the store's snapshot, at `live_path`). Returns the tables compared.
fn replay_and_compare(
    plan: Plan<'_>,
    stores: usize,
    cps: &[u64],
    live_path: &Path,
    live: &Connection,
    feed: Receiver<Feed>,
) -> Result<Vec<String>, LedgerError> {
    let scratch = ScratchDb::new()?;
    let fresh = open_db(&scratch.path)?;
    fresh
        .execute_batch(&bulk_pragmas(stores))
        .map_err(|e| db_err(&scratch.path, e))?;
    init_schema(&fresh, &scratch.path, &plan)?;
    // the replay is compared table by table, row by row: its secondary indexes would only
    // be kept up to date for nothing
    defer_indexes(&fresh).map_err(|e| db_err(&scratch.path, e))?;
    replay(&fresh, &scratch.path, plan.projections, Some(cps), feed)?;
    compare_tables(live, &fresh, &scratch.path).map_err(|e| match e {
        LedgerError::Db { source, .. } => db_err(live_path, source),
        e => e,
    })
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
    fn new() -> Result<ScratchDb, LedgerError> {
        let file = tempfile::Builder::new()
            .prefix("popug-verify-")
            .suffix(".db")
            .tempfile()
            .map_err(|e| LedgerError::io("create", &std::env::temp_dir(), e))?;
        // the file stays (0600) until this drops; SQLite opens it by name
        let (_, path) = file
            .keep()
            .map_err(|e| LedgerError::io("create", &std::env::temp_dir(), e.error))?;
        Ok(ScratchDb { path })
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = remove_db_files(&self.path);
    }
}
