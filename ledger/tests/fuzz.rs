//! Hostile bytes: whatever is in `events.jsonl`, the reader and the line decoder never panic;
//! they yield events or a clear error that names a line. (`LEDGER_FUZZ_CASES` raises the count.)

mod support;

use std::fs;

use popug_ledger::{LedgerError, LogReader, Position, line};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("LEDGER_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512)
}

/// A real log of a few batches, to mutate (built once).
fn seed_log() -> Vec<u8> {
    static LOG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    LOG.get_or_init(build_seed_log).clone()
}

fn build_seed_log() -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(popug_ledger::Ledger::create(dir, support::subscribers(), support::options(Some(3))).unwrap());
    for i in 0..3 {
        let mut l = support::open(dir);
        let mut w = l.write(popug_ledger::Clock::System).unwrap();
        w.append((0..=i).map(|k| support::deposit("a", k + 1)).collect())
            .unwrap();
    }
    fs::read(dir.join("events.jsonl")).unwrap()
}

fn read_all(bytes: &[u8]) -> Result<usize, LedgerError> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("events.jsonl");
    fs::write(&path, bytes).unwrap();
    let mut n = 0;
    for item in LogReader::open(&path, Position::GENESIS)? {
        item?;
        n += 1;
    }
    Ok(n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = line::decode(&bytes);
    }

    #[test]
    fn reading_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        match read_all(&bytes) {
            Ok(_) => {}
            Err(LedgerError::Corrupt { line, .. }) => prop_assert!(line >= 1),
            Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
        }
    }

    #[test]
    fn reading_a_mutated_log_never_panics_and_never_invents_events(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)
    ) {
        let mut bytes = seed_log();
        let original = read_all(&bytes).unwrap();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len().max(1));
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i.min(bytes.len()), byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        match read_all(&bytes) {
            // a damaged log reads as a shorter prefix (a torn tail) or fails; never more events
            Ok(n) => prop_assert!(n <= original),
            Err(LedgerError::Corrupt { line, .. }) => prop_assert!(line >= 1),
            Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
        }
    }
}
