//! Engine micro-benchmarks (run with `cargo run --release -p popug-ledger --example bench`):
//! the latency of one durable append (write + fsync + projection), with and without a
//! reaction, and the time to replay (rebuild) and verify a log of N events (default 100,000).
//!
//! usage: bench [N]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use popug_ledger::{Clock, Ledger, Subscribers};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into())).unwrap();

    let no_reactor = || Subscribers {
        stores: vec![popug_ledger::Store::new("bank", 1).projection(support::Balances)],
    };
    let append_one = |subs: Subscribers, name: &str, what: &str| {
        let mut l = Ledger::create(&tmp.path().join(name), subs, support::options(None)).unwrap();
        let times: Vec<f64> = (0..500)
            .map(|i| {
                let t = Instant::now();
                l.write(Clock::System)
                    .unwrap()
                    .append(vec![support::deposit(&format!("a{}", i % 10), 1)])
                    .unwrap();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        println!("{what}: median {:.3} ms over 500", median(times));
    };
    append_one(
        no_reactor(),
        "append",
        "append 1 event (lock, write, fsync, project, commit)",
    );
    append_one(
        support::subscribers(),
        "react",
        "append 1 event + its reaction (2 batches, 2 fsyncs)",
    );

    // 3. replay and verify N events
    let dir = tmp.path().join("replay");
    let mut l = Ledger::create(&dir, no_reactor(), support::options(Some(1))).unwrap();
    let t = Instant::now();
    let mut w = l.write(Clock::System).unwrap();
    let batches: Vec<Vec<_>> = (0..n / 100)
        .map(|b| {
            (0..100)
                .map(|i| support::deposit(&format!("a{}", (b * 100 + i) % 1000), 1))
                .collect()
        })
        .collect();
    w.append_batches(batches).unwrap();
    drop(w);
    println!(
        "group-commit {} events in batches of 100: {:.2} s",
        n,
        t.elapsed().as_secs_f64()
    );
    let size = std::fs::metadata(dir.join("events.jsonl")).unwrap().len();
    drop(l);
    let t = Instant::now();
    let (l, report) = Ledger::rebuild_at(&dir, no_reactor(), support::options(None)).unwrap();
    let rebuild = t.elapsed().as_secs_f64();
    println!(
        "rebuild (replay) of {} events, {:.1} MB: {:.3} s ({:.0} events/s)",
        report.events,
        size as f64 / 1e6,
        rebuild,
        report.events as f64 / rebuild
    );
    let t = Instant::now();
    let v = l.verify().unwrap();
    println!(
        "verify of {} events: {:.3} s",
        v.events,
        t.elapsed().as_secs_f64()
    );
}
