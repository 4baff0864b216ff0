//! Floors: what the machine needs for the parts of a rebuild that no design of popug's code
//! can skip, measured on an existing ledger. The log format is frozen (JSON lines chained by
//! SHA-256) and the projections live in SQLite, so any rebuild must at least read the log,
//! hash every line, and write the projection database with its indexes; an import must also
//! write its lines durably.
//!
//! usage: cargo run --release --example floors -- LEDGER_DIR
//!
//! Prints one line per part (seconds, MB/s), then the lower bounds they imply. Run it with
//! nothing else on the machine; it writes two scratch files in LEDGER_DIR and removes them.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Instant;

use sha2::{Digest, Sha256};

const MB: f64 = 1024.0 * 1024.0;

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
    let dir = std::env::args()
        .nth(1)
        .expect("usage: floors LEDGER_DIR (a ledger with its projections built)");
    let dir = Path::new(&dir);
    let log = dir.join(popug_ledger::EVENTS_FILE);
    let db = dir.join(popug::app::DB_FILE);

    // the first pass may page the log in; the faster of two is what a rebuild meets
    let (first, bytes, lines) = read_floor(&log);
    let read = first.min(read_floor(&log).0);
    let hash = hash_floor(&log);
    let decode = decode_floor(&log);
    let (sqlite, db_size) = sqlite_floor(&db, &dir.join("floors-scratch.db"));
    let disk = disk_floor(&dir.join("floors-scratch.bin"), bytes);

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
    println!();
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
