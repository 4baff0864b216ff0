//! Floors: what the machine needs for the parts of a rebuild that no design of popug's code
//! can skip, measured on an existing ledger. The log format is frozen (JSON lines chained by
//! SHA-256) and the projections live in SQLite, so any rebuild must at least read the log,
//! hash every line, and write the projection database with its indexes; an import must also
//! write its lines durably.
//!
//! usage: cargo run --release --example floors -- [--without-index NAME]... LEDGER_DIR
//!        cargo run --release --example floors -- --batch AFTER_SEQ [--without-index NAME]...
//!            [--inserts-only] LEDGER_DIR
//!        cargo run --release --example floors -- --command [RUNS] LEDGER_DIR
//!        cargo run --release --example floors -- --command-copy LEDGER_DIR SCRATCH
//!        cargo run --release --example floors -- --command-once SCRATCH
//!
//! Without `--batch` it also times SQLite alone writing the rebuild's rows: every row of the
//! projections, read into memory first, inserted into an empty database with the rebuild's
//! pragmas, then its secondary indexes built (all of them, or all but `--without-index`) and
//! the file synced.
//!
//! Prints one line per part (seconds, MB/s), then the lower bounds they imply. Run it with
//! nothing else on the machine; it writes scratch files in LEDGER_DIR and removes them.
//!
//! `--command-once SCRATCH` does, in a fresh process, the work no durable command of this
//! design can skip: open every store as popug does (WAL, the first read, which rebuilds the
//! WAL index from the store's WAL), append one 200-byte line to a log and `fdatasync` it,
//! then in each store one transaction that updates one row and commits (the WAL trimmed past
//! 256 KB as popug trims it), and leave the connections to the process's exit, as a popug
//! command does. Timed from outside (hyperfine), it is the floor of a
//! command of this design, process start included: seven stores, one synced append. Its
//! stores are copies made once by `--command-copy LEDGER_DIR SCRATCH` (the ledger is not
//! touched). `--command [RUNS] LEDGER_DIR` does the same work RUNS times in one process
//! (200 by default) and prints the median of each part, warm (the code paged in, SQLite
//! set up).
//!
//! `--batch AFTER_SEQ` measures instead the floors of the batch work (an import, a shuffle)
//! that appended the events after AFTER_SEQ: encoding those events (JSON + SHA-256), writing
//! their bytes durably, and SQLite writing the rows they put in the projections (on a copy
//! of the database, with the rows taken out first and put back timed: prepared statements, one
//! transaction, no event decoded, no rule run, no read). `--without-index` drops an index of
//! the copy first and `--inserts-only` leaves out the balance and day-total updates, to see
//! what a leaner schema would save.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;
use rusqlite::types::Value;
use sha2::{Digest, Sha256};

const MB: f64 = 1024.0 * 1024.0;
const USAGE: &str = "usage: floors [--command [RUNS] | --command-copy DIR SCRATCH | --command-once SCRATCH | --batch AFTER_SEQ] [--without-index NAME]... [--inserts-only] LEDGER_DIR \
                     (a ledger with its projections built)";

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Streams the log in 1 MB reads and counts its lines (warm page cache, as in a rebuild
/// right after another).
fn read_floor(log: &Path) -> (f64, u64, u64) {
    let mut f = File::open(log).expect("open the log");
    let mut buf = vec![0u8; 1 << 20];
    let t = Instant::now();
    let (mut bytes, mut lines) = (0u64, 0u64);
    loop {
        let n = f.read(&mut buf).expect("read the log");
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    (secs(t), bytes, lines)
}

/// Reads the log line by line (without the newline) and times `f` over every line.
fn each_line(log: &Path, mut f: impl FnMut(&[u8])) -> f64 {
    let mut r = BufReader::with_capacity(1 << 20, File::open(log).expect("open the log"));
    let mut line = Vec::with_capacity(4096);
    let t = Instant::now();
    while r.read_until(b'\n', &mut line).expect("read the log") > 0 {
        f(line.strip_suffix(b"\n").unwrap_or(&line));
        line.clear();
    }
    secs(t)
}

/// Hashes each line: the chain check's cost without any parsing.
fn hash_floor(log: &Path) -> f64 {
    let mut x = 0u8;
    let s = each_line(log, |line| x ^= Sha256::digest(line)[0]);
    std::hint::black_box(x);
    s
}

/// Decodes every line as the engine's reader does (envelope JSON, hash check), without
/// applying anything.
fn decode_floor(log: &Path) -> f64 {
    let mut seq = 0u64;
    let s = each_line(log, |line| {
        seq ^= popug_ledger::line::decode(line).expect("a valid line").seq
    });
    std::hint::black_box(seq);
    s
}

/// Copies every context's store of the ledger at `dir` (`views/*.db`: every table with its
/// rows and indexes, the engine's checkpoints left out) into one new database at `out`. The
/// floors measure SQLite's work on all the rows at once: a floor of the stores' work
/// together, whichever thread does each store's part.
fn merge_stores(dir: &Path, out: &Path) {
    let _ = fs::remove_file(out);
    let db = Connection::open(out).expect("create the merged database");
    let mut stores: Vec<_> = fs::read_dir(dir.join(popug_ledger::VIEWS_DIR))
        .expect("the ledger's stores")
        .map(|e| e.expect("a store").path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    stores.sort();
    db.execute_batch("BEGIN").expect("begin");
    for (i, store) in stores.iter().enumerate() {
        let schema = format!("s{i}");
        db.execute(
            &format!("ATTACH DATABASE ?1 AS {schema}"),
            [store.to_str().expect("a UTF-8 path")],
        )
        .expect("attach a store");
        let objects: Vec<(String, String, String)> = db
            .prepare(&format!(
                "SELECT type, name, sql FROM {schema}.sqlite_master WHERE sql IS NOT NULL
                 AND name NOT LIKE 'ledger_%' AND name NOT LIKE 'sqlite_%' ORDER BY type DESC"
            ))
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .expect("a store's schema");
        for (kind, name, sql) in objects {
            db.execute_batch(&sql).expect("create a table or index");
            if kind == "table" {
                db.execute_batch(&format!(
                    "INSERT INTO main.\"{name}\" SELECT * FROM {schema}.\"{name}\""
                ))
                .expect("copy a table");
            }
        }
    }
    db.execute_batch("COMMIT").expect("commit");
    for i in 0..stores.len() {
        db.execute_batch(&format!("DETACH DATABASE s{i}"))
            .expect("detach");
    }
}

/// `VACUUM INTO`: SQLite copies every row of the projections into a new file and builds
/// every index, then syncs it. That is the least work that produces the projection database
/// (no event is decoded, no rule runs).
fn sqlite_floor(db: &Path, scratch: &Path) -> (f64, u64) {
    let _ = fs::remove_file(scratch);
    let conn = rusqlite::Connection::open(db).expect("open the projections");
    conn.execute_batch("PRAGMA cache_size=-40960; PRAGMA temp_store=MEMORY; PRAGMA threads=2;")
        .expect("pragmas");
    let t = Instant::now();
    conn.execute("VACUUM INTO ?1", [scratch.to_str().expect("a UTF-8 path")])
        .expect("vacuum into");
    let s = secs(t);
    let size = fs::metadata(scratch).map_or(0, |m| m.len());
    fs::remove_file(scratch).expect("remove the scratch database");
    (s, size)
}

/// The rebuild's own SQLite work with nothing else: every row of the projections, already
/// decoded and in memory, inserted into an empty database through prepared statements in
/// one transaction, with the rebuild's pragmas (`BULK_PRAGMAS`) and its secondary
/// indexes built at the end, then synced. No log is read, no event decoded, no row updated;
/// each table's rows go in key order, one table after the other. The indexes named in
/// `without` are left out. Returns the seconds of the inserts, of the indexes, of the sync,
/// and the rows written.
fn rows_floor(db: &Path, scratch: &Path, without: &[String]) -> (f64, f64, f64, u64) {
    let _ = fs::remove_file(scratch);
    let live = Connection::open(db).expect("open the projections");
    let strings = |sql: &str| -> Vec<(String, String)> {
        let mut st = live.prepare(sql).expect("prepare");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("schema")
    };
    let tables =
        strings("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    let mut indexes = strings("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL");
    for name in without {
        assert!(
            indexes.iter().any(|(n, _)| n == name),
            "{name} is not an index of the projections"
        );
    }
    indexes.retain(|(n, _)| !without.contains(n));
    let mut data = Vec::new();
    for (name, _) in &tables {
        let rows = rows_of(&live, &format!("SELECT * FROM \"{name}\""), []);
        data.push((name.clone(), rows));
    }
    drop(live);

    let out = Connection::open(scratch).expect("create the scratch database");
    out.execute_batch(&format!(
        "{} PRAGMA cache_size=-{};",
        popug_ledger::engine::BULK_PRAGMAS,
        popug_ledger::engine::BULK_CACHE_KIB
    ))
    .expect("pragmas");
    for (_, sql) in &tables {
        out.execute_batch(sql).expect("create a table");
    }
    let t = Instant::now();
    out.execute_batch("BEGIN").expect("begin");
    let mut written = 0u64;
    for (name, rows) in &data {
        let Some(n) = rows.first().map(Vec::len) else {
            continue;
        };
        let params = (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let mut st = out
            .prepare(&format!("INSERT INTO \"{name}\" VALUES ({params})"))
            .expect("prepare an insert");
        for r in rows {
            st.execute(rusqlite::params_from_iter(r)).expect("insert a row");
        }
        written += rows.len() as u64;
    }
    out.execute_batch("COMMIT").expect("commit");
    let inserts = secs(t);
    let t = Instant::now();
    for (_, sql) in &indexes {
        out.execute_batch(sql).expect("build an index");
    }
    drop(out);
    let built = secs(t);
    let t = Instant::now();
    File::open(scratch).and_then(|f| f.sync_all()).expect("sync");
    let synced = secs(t);
    fs::remove_file(scratch).expect("remove the scratch database");
    (inserts, built, synced, written)
}

/// Writes `bytes` sequentially in 1 MB blocks and syncs once: the disk's floor for
/// appending that much log durably.
fn disk_floor(scratch: &Path, bytes: u64) -> f64 {
    let block = vec![b'x'; 1 << 20];
    let t = Instant::now();
    let mut f = File::create(scratch).expect("create the scratch file");
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).expect("write");
        left -= n as u64;
    }
    f.sync_data().expect("sync");
    let s = secs(t);
    drop(f);
    fs::remove_file(scratch).expect("remove the scratch file");
    s
}

fn main() {
    // SQLite's process settings, as popug's binary applies them first thing
    popug_ledger::configure_sqlite();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--batch") {
        return batch_floors(&args[1..]);
    }
    if let Some(mode) = args
        .first()
        .filter(|a| ["--command", "--command-copy", "--command-once"].contains(&a.as_str()))
    {
        return command_floor(mode, &args[1..]);
    }
    let (mut without, mut dir) = (Vec::new(), None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--without-index" => without.push(it.next().expect(USAGE).clone()),
            _ => dir = Some(Path::new(a)),
        }
    }
    let dir = dir.expect(USAGE);
    let log = dir.join(popug_ledger::EVENTS_FILE);
    let db = dir.join("floors-stores.db");
    merge_stores(dir, &db);

    // the first pass may page the log in; the faster of two is what a rebuild meets
    let (first, bytes, lines) = read_floor(&log);
    let read = first.min(read_floor(&log).0);
    let hash = hash_floor(&log);
    let decode = decode_floor(&log);
    let (sqlite, db_size) = sqlite_floor(&db, &dir.join("floors-scratch.db"));
    let disk = disk_floor(&dir.join("floors-scratch.bin"), bytes);
    let (inserts, built, synced, rows) = rows_floor(&db, &dir.join("floors-scratch.db"), &without);
    let _ = fs::remove_file(&db);

    let mb = bytes as f64 / MB;
    println!(
        "log: {lines} events, {mb:.1} MB; projections: {:.1} MB",
        db_size as f64 / MB
    );
    println!("| part | seconds | rate |");
    println!("|---|---|---|");
    println!(
        "| read the log (1 MB reads, lines counted) | {read:.2} | {:.0} MB/s |",
        mb / read
    );
    println!(
        "| read + SHA-256 of every line | {hash:.2} | {:.0} MB/s |",
        mb / hash
    );
    println!(
        "| read + decode every line (envelope JSON + hash check, the engine's reader) | {decode:.2} | {:.0} MB/s |",
        mb / decode
    );
    println!(
        "| SQLite: VACUUM INTO (copy every projection row, build every index, sync) | {sqlite:.2} | {:.0} MB/s |",
        db_size as f64 / MB / sqlite
    );
    println!(
        "| disk: write {mb:.0} MB sequentially and sync once | {disk:.2} | {:.0} MB/s |",
        mb / disk
    );
    println!(
        "| SQLite: insert the {rows} projection rows, decoded in memory, into an empty database (the rebuild's pragmas, one transaction, key order) | {inserts:.2} | {:.0} rows/s |",
        rows as f64 / inserts
    );
    let leaner = if without.is_empty() {
        String::new()
    } else {
        format!(" (all but {})", without.join(", "))
    };
    println!("| SQLite: then build the secondary indexes{leaner} | {built:.2} | |");
    println!("| sync the new database | {synced:.2} | |");
    println!();
    println!(
        "rebuild lower bound with SQLite writing the rows (one connection, so one core; the log read, hashed and \
         cut on the other): max(hash, inserts + indexes + sync) = {:.2} s",
        hash.max(inserts + built + synced)
    );
    println!(
        "rebuild lower bound on 2 cores, perfect split, no parsing at all: (hash + sqlite) / 2 = {:.2} s",
        (hash + sqlite) / 2.0
    );
    println!(
        "rebuild lower bound on 2 cores, perfect split, with the engine's decoder: (decode + sqlite) / 2 = {:.2} s",
        (decode + sqlite) / 2.0
    );
    println!(
        "per event: hash {:.2} us, decode {:.2} us, sqlite copy {:.2} us, durable write {:.2} us",
        hash / lines as f64 * 1e6,
        decode / lines as f64 * 1e6,
        sqlite / lines as f64 * 1e6,
        disk / lines as f64 * 1e6,
    );
}

/// One projection write of the batch, in log order: what the projections' statements do
/// for each of the batch's events, with the values they wrote.
enum Row {
    Task(Vec<Value>),
    Reassigned { task_id: Value, from: Value, to: Value },
    Transaction(Posting),
    Notification(Vec<Value>),
}

/// A `transactions` row (in `TX_COLUMNS` order) with what it adds to the balances and to
/// its day's totals.
struct Posting {
    row: Vec<Value>,
    delta: i64,
    fees: i64,
    rewards: i64,
}

impl Posting {
    fn account(&self) -> &Value {
        &self.row[3]
    }
    fn counter(&self) -> &Value {
        &self.row[4]
    }
    fn date(&self) -> &Value {
        &self.row[10]
    }
}

impl Row {
    fn kind(&self) -> usize {
        match self {
            Row::Task(_) => 0,
            Row::Reassigned { .. } => 1,
            Row::Transaction(_) => 2,
            Row::Notification(_) => 3,
        }
    }
}

const KINDS: [&str; 4] = [
    "tasks created",
    "tasks reassigned",
    "transactions",
    "notifications",
];
const TASK_COLUMNS: &str = "task_id, number, title, jira_id, description, status, assignee_id, assign_fee, reward, \
     created_at, completed_at, completed_on, reassignments";
const TX_COLUMNS: &str = "seq, transaction_id, at, account_id, counter_account_id, kind, reason, amount, delta, task_id, \
     billing_date, balance_after";
const NOTE_COLUMNS: &str = "seq, notification_id, user_id, channel, subject, caused_by";

/// Every row `sql` returns for `params`, each as the values of all its columns.
fn rows_of(db: &Connection, sql: &str, params: impl rusqlite::Params) -> Vec<Vec<Value>> {
    let mut st = db.prepare(sql).expect("prepare");
    let n = st.column_count();
    st.query_map(params, |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// The rows the batch's events put in the projections, read back from `db`, in log order.
fn batch_rows(db: &Connection, events: &[popug_ledger::Event]) -> Vec<Row> {
    let mut rows = Vec::new();
    let text = |v: &serde_json::Value, k: &str| Value::Text(v[k].as_str().expect("a text field").to_owned());
    for ev in events {
        let seq = ev.seq as i64;
        let data: serde_json::Value = ev.data_as().expect("a payload");
        match ev.event_type.as_str() {
            "TaskCreated" => {
                let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE task_id = ?1");
                rows.extend(
                    rows_of(db, &sql, [text(&data, "task_id")])
                        .into_iter()
                        .map(Row::Task),
                );
            }
            "TaskReassigned" => rows.push(Row::Reassigned {
                task_id: text(&data, "task_id"),
                from: text(&data, "assign_from"),
                to: text(&data, "assign_to"),
            }),
            "AccountBalanceUpdated" => {
                let sql = format!("SELECT {TX_COLUMNS} FROM transactions WHERE seq = ?1");
                for r in rows_of(db, &sql, [seq]) {
                    let int = |v: &Value| if let Value::Integer(i) = v { *i } else { 0 };
                    let (amount, delta) = (int(&r[7]), int(&r[8]));
                    let (fees, rewards) = match &r[6] {
                        Value::Text(t) if t == "assign_fee" || t == "reassign_fee" => (amount, 0),
                        Value::Text(t) if t == "reward" => (0, amount),
                        _ => (0, 0),
                    };
                    rows.push(Row::Transaction(Posting {
                        row: r,
                        delta,
                        fees,
                        rewards,
                    }));
                }
            }
            "NotificationSent" => {
                let sql = format!("SELECT {NOTE_COLUMNS} FROM notifications WHERE seq = ?1");
                rows.extend(rows_of(db, &sql, [seq]).into_iter().map(Row::Notification));
            }
            _ => {}
        }
    }
    rows
}

/// Takes the batch's rows out of `db` (and their effect on balances, day totals and
/// assignees), so that they can be written again.
fn take_out(db: &Connection, rows: &[Row]) {
    db.execute_batch("BEGIN").expect("begin");
    for r in rows.iter().rev() {
        match r {
            Row::Task(r) => db.execute("DELETE FROM tasks WHERE task_id = ?1", [&r[0]]),
            Row::Reassigned { task_id, from, .. } => db.execute(
                "UPDATE tasks SET assignee_id = ?2, reassignments = reassignments - 1 WHERE task_id = ?1",
                (task_id, from),
            ),
            Row::Transaction(p) => db
                .execute("DELETE FROM transactions WHERE seq = ?1", [&p.row[0]])
                .and_then(|_| {
                    db.execute(
                        "UPDATE accounts SET balance = balance - ?2 WHERE account_id = ?1",
                        (p.account(), p.delta),
                    )
                })
                .and_then(|_| {
                    db.execute(
                        "UPDATE accounts SET balance = balance + ?2 WHERE account_id = ?1",
                        (p.counter(), p.delta),
                    )
                })
                .and_then(|_| {
                    db.execute(
                        "UPDATE earnings_days SET fees = fees - ?2, rewards = rewards - ?3 WHERE date = ?1",
                        (p.date(), p.fees, p.rewards),
                    )
                }),
            Row::Notification(r) => db.execute("DELETE FROM notifications WHERE seq = ?1", [&r[0]]),
        }
        .expect("take a row out");
    }
    db.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("commit");
}

/// Writes the batch's rows with the projections' statements, prepared once, in one
/// transaction; returns the seconds per kind of row and for the commit.
fn put_back(db: &Connection, rows: &[Row], inserts_only: bool) -> ([f64; 4], f64) {
    let mut kinds = [0f64; 4];
    db.execute_batch("BEGIN").expect("begin");
    let prepare = |sql: &str| db.prepare(sql).expect("prepare");
    let mut task = prepare(&format!(
        "INSERT INTO tasks ({TASK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ));
    let mut reassign =
        prepare("UPDATE tasks SET assignee_id = ?2, reassignments = reassignments + 1 WHERE task_id = ?1");
    let mut tx = prepare(&format!(
        "INSERT INTO transactions ({TX_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ));
    let mut day = prepare(
        "INSERT INTO earnings_days (date, fees, rewards) VALUES (?1, ?2, ?3)
         ON CONFLICT (date) DO UPDATE SET fees = fees + excluded.fees, rewards = rewards + excluded.rewards",
    );
    let mut credit = prepare("UPDATE accounts SET balance = balance + ?2 WHERE account_id = ?1");
    let mut debit = prepare("UPDATE accounts SET balance = balance - ?2 WHERE account_id = ?1");
    let mut note = prepare(&format!(
        "INSERT INTO notifications ({NOTE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ));
    for r in rows {
        let t = Instant::now();
        match r {
            Row::Task(r) => task.execute(rusqlite::params_from_iter(r)),
            Row::Reassigned { task_id, to, .. } => reassign.execute((task_id, to)),
            Row::Transaction(p) if inserts_only => tx.execute(rusqlite::params_from_iter(&p.row)),
            Row::Transaction(p) => tx
                .execute(rusqlite::params_from_iter(&p.row))
                .and_then(|_| day.execute((p.date(), p.fees, p.rewards)))
                .and_then(|_| credit.execute((p.account(), p.delta)))
                .and_then(|_| debit.execute((p.counter(), p.delta))),
            Row::Notification(r) => note.execute(rusqlite::params_from_iter(r)),
        }
        .expect("write a row");
        kinds[r.kind()] += secs(t);
    }
    let t = Instant::now();
    db.execute_batch("COMMIT").expect("commit");
    (kinds, secs(t))
}

/// The floors of the batch work that appended the events after AFTER_SEQ: see the module doc.
fn batch_floors(args: &[String]) {
    let (mut after, mut without, mut inserts_only, mut dir) = (None, Vec::new(), false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--without-index" => without.push(it.next().expect(USAGE).clone()),
            "--inserts-only" => inserts_only = true,
            _ if after.is_none() => after = Some(a.parse::<u64>().expect("AFTER_SEQ is a number")),
            _ => dir = Some(Path::new(a)),
        }
    }
    let (after, dir) = (after.expect(USAGE), dir.expect(USAGE));
    let log = dir.join(popug_ledger::EVENTS_FILE);
    let mut events = Vec::new();
    each_line(&log, |line| {
        let ev = popug_ledger::line::decode(line).expect("a valid line");
        if ev.seq > after {
            events.push(ev);
        }
    });
    assert!(!events.is_empty(), "no event after seq {after}");

    // encode: JSON + SHA-256 of every line, as the engine stages them
    let t = Instant::now();
    let mut bytes = Vec::with_capacity(1 << 20);
    for ev in &events {
        std::hint::black_box(popug_ledger::line::encode(ev, &mut bytes));
    }
    let encode = secs(t);
    let size = bytes.len() as u64;
    drop(bytes);
    let disk = disk_floor(&dir.join("floors-scratch.bin"), size);

    // SQLite: the batch's rows out of a copy of the database, then back in, timed
    let scratch = dir.join("floors-scratch.db");
    let _ = fs::remove_file(&scratch);
    merge_stores(dir, &scratch);
    let db = Connection::open(&scratch).expect("open the copy");
    // the live database's settings (app.rs)
    db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;")
        .expect("pragmas");
    let rows = batch_rows(&db, &events);
    take_out(&db, &rows);
    for name in &without {
        db.execute_batch(&format!("DROP INDEX {name}"))
            .expect("an index of the projections");
    }
    let t = Instant::now();
    let (kinds, commit) = put_back(&db, &rows, inserts_only);
    let sqlite = secs(t);
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", scratch.display()));
    }

    let n = events.len();
    let mb = size as f64 / MB;
    let mut counts = [0usize; 4];
    rows.iter().for_each(|r| counts[r.kind()] += 1);
    let schema = match (without.is_empty(), inserts_only) {
        (true, false) => "the projections as they are".to_owned(),
        _ => format!(
            "without {}{}",
            if without.is_empty() {
                "-".into()
            } else {
                without.join(", ")
            },
            if inserts_only {
                "; inserts only (no balance or day-total updates)"
            } else {
                ""
            }
        ),
    };
    println!("batch: {n} events after seq {after}, {mb:.1} MB of lines; schema: {schema}");
    println!("| part | seconds | per event |");
    println!("|---|---|---|");
    let per = |s: f64| s / n as f64 * 1e6;
    println!(
        "| encode every line (JSON + SHA-256, the engine's encoder) | {encode:.2} | {:.2} us |",
        per(encode)
    );
    println!(
        "| disk: write {mb:.0} MB sequentially and sync once | {disk:.2} | {:.2} us |",
        per(disk)
    );
    println!(
        "| SQLite: write the batch's projection rows (prepared statements, one transaction, no read) | {sqlite:.2} | {:.2} us |",
        per(sqlite)
    );
    for (k, name) in KINDS.iter().enumerate().filter(|(k, _)| counts[*k] > 0) {
        println!("| - of which {} {name} | {:.2} | |", counts[k], kinds[k]);
    }
    println!("| - of which the commit | {commit:.2} | |");
    println!();
    println!(
        "batch lower bound (SQLite writes through one connection, so on one core): \
         max(sqlite, disk, (encode + sqlite) / 2) = {:.2} s",
        sqlite.max(disk).max((encode + sqlite) / 2.0)
    );
}

/// The median of `times` (seconds) in milliseconds.
fn median_ms(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2] * 1000.0
}

/// A store opened as popug opens a live one (`open_db`, `open_live`, `open_readable` in
/// the engine; SQLite's process settings are applied in `main`): WAL, `synchronous=NORMAL`,
/// its page cache, the WAL kept on close, then the first read, which sets up the WAL index
/// from the store's WAL.
fn open_store(path: &Path) -> Connection {
    let db = Connection::open(path).expect("open a store");
    db.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy timeout");
    db.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;")
        .expect("pragmas");
    db.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .expect("keep the WAL on close");
    db.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
        .expect("read the schema");
    db
}

/// Copies the stores of the ledger `dir` (each with its WAL as the ledger has it now; the
/// `-shm` is set up again by the first connection) into `scratch`, made anew; returns them.
fn copy_stores(dir: &Path, scratch: &Path) -> Vec<std::path::PathBuf> {
    let _ = fs::remove_dir_all(scratch);
    fs::create_dir(scratch).expect("make a scratch directory");
    for entry in fs::read_dir(dir.join("views")).expect("the ledger's views/") {
        let path = entry.expect("list views/").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.ends_with(".db") || name.ends_with(".db-wal") {
            fs::copy(&path, scratch.join(&name)).expect("copy a store");
        }
    }
    stores_in(scratch)
}

/// The stores (`*.db`) in `scratch`, in order.
fn stores_in(scratch: &Path) -> Vec<std::path::PathBuf> {
    let mut stores: Vec<_> = fs::read_dir(scratch)
        .expect("the scratch directory")
        .map(|e| e.expect("list the scratch directory").path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    stores.sort();
    assert!(!stores.is_empty(), "no store in {}", scratch.display());
    stores
}

/// One command's share of the work no command of this design can skip, on the stores in
/// `scratch`: open them all, append 200 bytes to `scratch/log.jsonl` and `fdatasync` it,
/// update one row and commit in each store (its WAL trimmed past 256 KB, as popug trims),
/// close them, or with `at_exit` leave them to the process's exit, as a popug command does
/// (`leave_stores_open_at_exit`). Returns the seconds of each part: open, append, commit,
/// close.
fn one_command(scratch: &Path, stores: &[std::path::PathBuf], at_exit: bool) -> [f64; 4] {
    let t0 = Instant::now();
    let dbs: Vec<Connection> = stores.iter().map(|p| open_store(p)).collect();
    let t1 = Instant::now();
    let mut log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(scratch.join("log.jsonl"))
        .expect("open the log");
    log.write_all(&[b'x'; 199])
        .and_then(|()| log.write_all(b"\n"))
        .expect("append");
    log.sync_data().expect("fdatasync");
    let t2 = Instant::now();
    for (db, path) in dbs.iter().zip(stores) {
        db.execute_batch(
            "BEGIN IMMEDIATE; UPDATE ledger_subscriptions SET seq = seq WHERE rowid = (SELECT min(rowid) FROM ledger_subscriptions); COMMIT;",
        )
        .expect("one row in each store");
        let wal = format!("{}-wal", path.display());
        if fs::metadata(&wal).is_ok_and(|m| m.len() > 256 * 1024) {
            db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .expect("trim the WAL");
        }
    }
    let t3 = Instant::now();
    if at_exit {
        std::mem::forget(dbs);
    } else {
        drop(dbs);
    }
    let t4 = Instant::now();
    [t1 - t0, t2 - t1, t3 - t2, t4 - t3].map(|d| d.as_secs_f64())
}

/// `--command-copy DIR SCRATCH`, `--command-once SCRATCH`, `--command [RUNS] DIR`.
fn command_floor(mode: &str, args: &[String]) {
    match mode {
        "--command-copy" => {
            let [dir, scratch] = args else { panic!("{USAGE}") };
            copy_stores(Path::new(dir), Path::new(scratch));
        }
        "--command-once" => {
            let [scratch] = args else { panic!("{USAGE}") };
            let scratch = Path::new(scratch);
            one_command(scratch, &stores_in(scratch), true);
        }
        _ => {
            let (mut runs, mut dir) = (200usize, None);
            for a in args {
                match a.parse::<usize>() {
                    Ok(n) if n > 0 => runs = n,
                    _ => dir = Some(Path::new(a)),
                }
            }
            let dir = dir.expect(USAGE);
            let scratch = dir.join("floors-command");
            let stores = copy_stores(dir, &scratch);
            let parts: Vec<[f64; 4]> = (0..runs).map(|_| one_command(&scratch, &stores, false)).collect();
            let _ = fs::remove_dir_all(&scratch);
            let part = |i: usize| median_ms(parts.iter().map(|p| p[i]).collect());
            println!(
                "| part of one command, past the process start, warm (in one process, {} stores, median of {runs}) | ms |",
                stores.len()
            );
            println!("|---|---|");
            println!(
                "| open every store (WAL index set up from its WAL, schema read) | {:.2} |",
                part(0)
            );
            println!("| append 200 bytes to a log and fdatasync | {:.2} |", part(1));
            println!(
                "| one row updated and committed in each store (WAL trimmed past 256 KB) | {:.2} |",
                part(2)
            );
            println!("| close every store | {:.2} |", part(3));
            println!(
                "command floor past the start, warm: {:.2} ms",
                median_ms(parts.iter().map(|p| p.iter().sum()).collect())
            );
        }
    }
}
