//! Real processes, real `kill -9`: the `appender` example writes batches and acknowledges
//! each durable one on stdout; the test kills it at random moments and checks that nothing
//! acknowledged is lost, nothing is doubled and the ledger stays readable.
//!
//! `LEDGER_CRASH_ROUNDS` sets the number of kills (default 200; try 2000 by hand).

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn appender() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // tests run from target/<profile>/deps; examples are built into target/<profile>/examples
            let exe = std::env::current_exe().unwrap();
            let profile_dir = exe.parent().unwrap().parent().unwrap();
            let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
                "debug" => "dev",
                other => other,
            };
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "popug-ledger",
                    "--example",
                    "appender",
                    "--profile",
                    profile,
                ])
                .status()
                .unwrap();
            assert!(status.success(), "building the appender example failed");
            profile_dir.join("examples").join("appender")
        })
        .clone()
}

fn spawn(dir: &Path, count: u64, max_batch: u32, seed: u64) -> Child {
    Command::new(appender())
        .args([
            dir.to_str().unwrap(),
            &count.to_string(),
            &max_batch.to_string(),
            &seed.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `ack` lines until the stream ends (the writer exited or was killed); seq -> id.
fn collect_acks(out: impl std::io::Read) -> HashMap<u64, String> {
    let mut acks = HashMap::new();
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        // a line cut by the kill has no closing `ok`: not an acknowledgement
        if let Some(rest) = line.strip_prefix("ack ").and_then(|r| r.strip_suffix(" ok")) {
            for pair in rest.split(' ') {
                let (seq, id) = pair.split_once(':').unwrap();
                acks.insert(seq.parse().unwrap(), id.to_owned());
            }
        }
    }
    acks
}

fn check_after_crash(dir: &Path, acks: &HashMap<u64, String>) {
    // the next writer recovers and finishes pending reactions
    let l = support::open(dir);
    let events = support::all_events(dir);
    for (seq, id) in acks {
        let e = events
            .get(*seq as usize - 1)
            .unwrap_or_else(|| panic!("acknowledged seq {seq} lost"));
        assert_eq!(&e.id.to_string(), id, "acknowledged seq {seq} was replaced");
    }
    support::check_exactly_once(&events);
    let report = l.verify().expect("verify after crash");
    assert_eq!(report.projection_lag, 0);
    assert_eq!(report.reaction_lag, 0);
}

#[test]
fn kill_9_at_random_moments_loses_nothing_acknowledged_and_doubles_nothing() {
    let rounds: u64 = std::env::var("LEDGER_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    let mut rng = StdRng::seed_from_u64(0xC0FFEE);
    let mut acks = HashMap::new();
    let mut kills = 0;
    for round in 0..rounds {
        let mut child = spawn(&dir, 1_000, 40, round);
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || collect_acks(stdout));
        // from a few microseconds (during open/recovery) to tens of ms (mid-stream)
        let wait = if rng.random_bool(0.3) {
            rng.random_range(0..2_000)
        } else {
            rng.random_range(2_000..60_000)
        };
        std::thread::sleep(Duration::from_micros(wait));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        kills += 1;
        acks.extend(reader.join().unwrap());
        check_after_crash(&dir, &acks);
    }
    assert!(
        kills == rounds && !acks.is_empty(),
        "{kills} kills, {} acks",
        acks.len()
    );
    let torn = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("torn-")
        })
        .count();
    eprintln!(
        "{kills} kills, {} acknowledged events kept, {torn} torn tails moved aside",
        acks.len()
    );
}

#[test]
fn concurrent_writers_all_succeed_in_order_with_contiguous_seq() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    drop(popug_ledger::Ledger::create(&dir, support::subscribers(), support::options(None)).unwrap());
    let writers = 4;
    let per_writer = 25;
    let children: Vec<Child> = (0..writers)
        .map(|i| spawn(&dir, per_writer, 5, 100 + i))
        .collect();
    let mut acks = HashMap::new();
    let mut batches = 0;
    for mut child in children {
        let mut stdout = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "a writer failed: {status}");
        batches += stdout.lines().count();
        acks.extend(collect_acks(stdout.as_bytes()));
    }
    assert_eq!(batches as u64, writers * per_writer);
    let events = support::all_events(&dir);
    let deposits = events.iter().filter(|e| e.event_type == "Deposited").count();
    assert_eq!(deposits, acks.len());
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
    check_after_crash(&dir, &acks);
}
