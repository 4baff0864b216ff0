//! The engine's SQLite side and its lock: opening the projection database, its schema and
//! checkpoints, applying events to projections (one by one, or folded over a replay),
//! and the writer lock.

use super::*;

pub(super) fn apply(p: &dyn Projection, db: &Connection, ev: &Event) -> Result<(), LedgerError> {
    p.apply(db, ev)
        .map_err(|source| apply_error(p, ev.seq, &ev.event_type, source))
}

pub(super) fn apply_error(p: &dyn Projection, seq: u64, event_type: &str, source: BoxError) -> LedgerError {
    LedgerError::Apply {
        name: p.name().to_owned(),
        seq,
        event_type: event_type.to_owned(),
        source,
    }
}

/// One projection in a replay from the first event: its own fold, or `apply` per event.
pub(super) struct Replaying<'p, 'db> {
    projection: &'p dyn Projection,
    fold: Option<Box<dyn Replay + 'db>>,
}

impl<'p, 'db> Replaying<'p, 'db> {
    pub(super) fn all(
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

    pub(super) fn apply(&mut self, db: &Connection, ev: &Event) -> Result<(), LedgerError> {
        match &mut self.fold {
            Some(fold) => fold
                .apply(db, ev)
                .map_err(|source| apply_error(self.projection, ev.seq, &ev.event_type, source)),
            None => apply(self.projection, db, ev),
        }
    }

    /// `last_seq`: the last event replayed, named if writing the fold fails.
    pub(super) fn finish(self, db: &Connection, last_seq: u64) -> Result<(), LedgerError> {
        match self.fold {
            Some(fold) => fold
                .finish(db)
                .map_err(|source| apply_error(self.projection, last_seq, "end of the replay", source)),
            None => Ok(()),
        }
    }
}

pub(super) fn report_progress_to(progress: &ProgressCell, events: &Path, done: u64) {
    if let Some(f) = progress.lock().expect("progress is never poisoned").as_mut() {
        let total = std::fs::metadata(events).map_or(done, |m| m.len());
        f(done, total);
    }
}

pub(super) fn db_err(path: &Path, source: rusqlite::Error) -> LedgerError {
    LedgerError::Db {
        path: path.to_owned(),
        source,
    }
}

pub(super) fn open_lock(path: &Path) -> Result<File, LedgerError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| LedgerError::io("open", path, e))
}

/// Takes the writer lock of the ledger at `dir` (waiting for the writer that holds it); it
/// is held until the returned file is dropped. The one place writers lock (DESIGN §3).
pub(super) fn lock_writers(dir: &Path) -> Result<File, LedgerError> {
    let path = dir.join(LOCK_FILE);
    let lock = open_lock(&path)?;
    lock.lock().map_err(|e| LedgerError::io("lock", &path, e))?;
    Ok(lock)
}

/// A live store's page cache: 32 MB (SQLite's default is 2 MB): batch work (imports,
/// shuffles, payment runs, catch-up) touches many pages; a small command still reads only
/// the pages it needs.
pub(super) const LIVE_CACHE: &str = "PRAGMA cache_size=-32768;";

/// How long a store's connection waits for another's lock.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// [`BUSY_TIMEOUT`]; debug builds (the test suite) may shorten it with
/// `POPUG_LEDGER_BUSY_MS`, so that a test of a store held by another connection does not
/// wait 30 s.
pub(super) fn busy_timeout() -> std::time::Duration {
    std::time::Duration::from_millis(crate::debug_setting(
        "POPUG_LEDGER_BUSY_MS",
        BUSY_TIMEOUT.as_millis() as u64,
    ))
}

/// How a transaction that writes a live store begins: with its write lock, waiting up to
/// [`busy_timeout`] for another connection that holds it (SQLite itself holds it for a
/// moment while a process rebuilds the store's WAL index). A deferred `BEGIN` that reads
/// first and writes later is not given the busy handler when it upgrades: it failed at once
/// with "database is locked" when another connection held the lock at that moment
/// (SQLite, "Transaction", and `sqlite3_busy_handler`: deadlock avoidance).
pub(super) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Process-wide SQLite settings, for a process to apply first thing, before any thread opens
/// a connection: `sqlite3_config` is not thread-safe, and SQLite reads the settings when it
/// initializes (a later call is refused and changes nothing). popug's binary calls it at the
/// start of `main`; a process that does not (the test suites, which open connections on
/// many threads) runs with SQLite's defaults. Only performance is at stake.
///
/// - **No bulk page-cache allocation.** SQLite gives every page cache 20 page slots at once
///   on its first page and writes a header into each (`SQLITE_DEFAULT_PCACHE_INITSZ`): 20
///   fresh memory pages touched per connection, each a page fault, for the 2 to 10 pages a
///   command reads from most stores. `SQLITE_CONFIG_PAGECACHE` with no buffer and zero
///   slots turns that off (SQLite, "Configuration Options", and `pcache1Init`); a cache
///   then allocates each page when it first needs it, which is what it does past the
///   20th page anyway (a rebuild's caches hold thousands).
/// - **No memory statistics.** SQLite counts every allocation under a global mutex for
///   `sqlite3_memory_used` (`SQLITE_CONFIG_MEMSTATUS`, on by default), which popug never
///   asks for; SQLite's own list of recommended options turns it off ("Compile-time
///   Options", `SQLITE_DEFAULT_MEMSTATUS=0`).
pub fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_PAGECACHE takes (void*, int, int) and SQLITE_CONFIG_MEMSTATUS
        // (int); the caller runs this before any thread of the process uses SQLite (see
        // above), and a call SQLite refuses (already initialized) has no effect
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_PAGECACHE,
                std::ptr::null_mut::<std::ffi::c_void>(),
                0 as std::ffi::c_int,
                0 as std::ffi::c_int,
            );
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        }
    });
}

pub(super) fn open_db(path: &Path) -> Result<Connection, LedgerError> {
    let existed = path.exists();
    let db = Connection::open(path).map_err(|e| db_err(path, e))?;
    if !existed {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| LedgerError::io("set permissions of", path, e))?;
    }
    db.busy_timeout(busy_timeout()).map_err(|e| db_err(path, e))?;
    db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .and_then(|_| db.execute_batch(LIVE_CACHE))
        .map_err(|e| db_err(path, e))?;
    Ok(db)
}

/// A live store keeps its write-ahead log when its connection closes instead of
/// checkpointing it (two syncs per store, 29 of a `task create`'s 31 syncs). Durability does
/// not rest on the stores: the log is synced before any store commits, and a store that
/// loses its last commits to a power cut is behind its checkpoint and catches up from the
/// log (docs/guarantees.md, "Which sync each guarantee rests on"). The WAL is kept short by
/// [`trim_wal`] instead.
fn keep_wal_on_close(db: &Connection, path: &Path) -> Result<(), LedgerError> {
    db.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map(drop)
        .map_err(|e| db_err(path, e))
}

/// A live store's connection: [`open_db`], keeping its WAL when it closes.
pub(super) fn open_live(path: &Path) -> Result<Connection, LedgerError> {
    let db = open_db(path)?;
    keep_wal_on_close(&db, path)?;
    Ok(db)
}

/// A store's WAL beyond this is checkpointed and truncated by the write session that passed
/// it. Every process's first connection to a store reads and checksums its whole WAL (SQLite
/// rebuilds the WAL index, and with it forgets what was checkpointed, so it cannot reuse the
/// file from the start either): an untrimmed WAL grew to 19 MB in 600 commands and made each
/// command 3.6× slower.
pub(super) const WAL_TRIM_BYTES: u64 = 256 * 1024;

/// Checkpoints and truncates `path`'s WAL when it holds more than [`WAL_TRIM_BYTES`]. Best
/// effort, under the writer lock: a failure (a reader in the way, a full disk) leaves the
/// WAL for a later session.
pub(super) fn trim_wal(db: &Connection, path: &Path) {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    if fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_TRIM_BYTES) {
        // never waits: a reader in the way (a long `verify`, an export) makes it give up at
        // once rather than hold the writer lock; a later session trims
        let _ = db.busy_timeout(std::time::Duration::ZERO);
        let _ = db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        let _ = db.busy_timeout(busy_timeout());
    }
}

/// Removes a database and its journal files; says whether there was anything to remove.
pub(super) fn remove_db_files(path: &Path) -> Result<bool, LedgerError> {
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

/// Creates the engine's tables and the store's own in `db`, records a checkpoint at the
/// start of the log for each of its subscribers that has none, and its schema version.
pub(super) fn init_schema(db: &Connection, path: &Path, store: &Plan<'_>) -> Result<(), LedgerError> {
    let go = || -> rusqlite::Result<()> {
        let tx = rusqlite::Transaction::new_unchecked(db, rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
             CREATE TABLE IF NOT EXISTS ledger_subscriptions (
                 name TEXT PRIMARY KEY, seq INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
                 hash TEXT NOT NULL, at TEXT) STRICT;",
        )?;
        for p in store.projections {
            p.migrate(&tx)?;
        }
        let names = store
            .projections
            .iter()
            .map(|p| p.name())
            .chain(store.reactors.iter().copied());
        for name in names {
            tx.execute(
                "INSERT OR IGNORE INTO ledger_subscriptions (name, seq, byte_offset, hash, at) VALUES (?1, 0, 0, ?2, NULL)",
                params![name, Hash::GENESIS.to_string()],
            )?;
        }
        tx.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [store.version.to_string()],
        )?;
        tx.commit()
    };
    go().map_err(|e| db_err(path, e))
}

/// What building a store's tables needs, without its reactors (which stay on the thread
/// that owns them): its projections, its reactors' names and its version.
pub(super) struct Plan<'a> {
    pub(super) projections: &'a [Box<dyn Projection>],
    pub(super) reactors: Vec<&'a str>,
    pub(super) version: u32,
}

impl Store {
    pub(super) fn plan(&self) -> Plan<'_> {
        Plan {
            projections: &self.projections,
            reactors: self.reactors.iter().map(|r| r.name()).collect(),
            version: self.version,
        }
    }
}

/// Whether the store's tables exist and are of its version.
pub(super) fn schema_is_current(s: &OpenStore) -> Result<bool, LedgerError> {
    let v: Option<String> =
        s.db.query_row(
            "SELECT value FROM ledger_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .or_else(|e| match e {
            rusqlite::Error::SqliteFailure(_, Some(ref m)) if m.contains("no such table") => Ok(None),
            e => Err(e),
        })
        .map_err(|e| db_err(&s.path, e))?;
    Ok(v == Some(s.spec.version.to_string()))
}

pub(super) fn read_positions(db: &Connection) -> rusqlite::Result<HashMap<String, Position>> {
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

pub(super) fn set_position(db: &Connection, name: &str, pos: &Position) -> rusqlite::Result<()> {
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

/// Sets the checkpoint of every projection of a store to `pos`.
pub(super) fn set_projection_positions(
    db: &Connection,
    projections: &[Box<dyn Projection>],
    pos: &Position,
) -> rusqlite::Result<()> {
    for p in projections {
        set_position(db, p.name(), pos)?;
    }
    Ok(())
}
