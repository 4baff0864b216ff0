//! A writer for the crash and concurrency tests: appends `COUNT` batches of deposits to the
//! ledger at DIR, opening the ledger afresh for each batch as a command would, and prints
//! `ack SEQ:ID… ok` after each durable append (stdout is flushed line by line).
//!
//! usage: appender DIR COUNT MAX_BATCH SEED

#[path = "../tests/support/mod.rs"]
mod support;

use popug_ledger::{Clock, Ledger};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::io::Write;
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(&args[1]);
    let count: u64 = args[2].parse().unwrap();
    let max_batch: usize = args[3].parse().unwrap();
    let seed: u64 = args[4].parse().unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    if !dir.join("events.jsonl").exists() {
        let _ = Ledger::create(&dir, support::subscribers(), support::options(None));
    }
    let mut out = std::io::stdout().lock();
    for _ in 0..count {
        let mut ledger = support::open(&dir);
        let mut w = ledger.write(Clock::System).expect("write session");
        let n = rng.random_range(1..=max_batch);
        let batch = (0..n)
            .map(|_| {
                support::deposit(
                    &format!("acct{}", rng.random_range(0..5)),
                    rng.random_range(1..100),
                )
            })
            .collect();
        let written = w.append(batch).expect("append");
        let ids: Vec<String> = written.iter().map(|e| format!("{}:{}", e.seq, e.id)).collect();
        writeln!(out, "ack {} ok", ids.join(" ")).unwrap();
        out.flush().unwrap();
    }
}
