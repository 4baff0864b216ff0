//! Properties of the log over random histories: any truncation recovers to a valid prefix of
//! whole batches; any flipped byte in a non-final line is detected; replay equals the
//! projections built incrementally.

mod support;

use std::fs;
use std::path::Path;

use popug_ledger::{Clock, Ledger};
use proptest::prelude::*;

/// Builds a ledger from `batches` (sizes), one command per batch, and returns for each
/// command the byte length of the log after it and its reactions.
fn build(dir: &Path, batches: &[u8]) -> Vec<u64> {
    drop(Ledger::create(dir, support::subscribers(), support::options(Some(1))).unwrap());
    let mut ends = Vec::new();
    for (i, n) in batches.iter().enumerate() {
        let mut l = Ledger::open(dir, support::subscribers(), support::options(Some(1))).unwrap();
        let mut w = l.write(Clock::System).unwrap();
        w.append(
            (0..*n)
                .map(|k| support::deposit(&format!("a{}", (i + k as usize) % 3), k as i64 + 1))
                .collect(),
        )
        .unwrap();
        drop(w);
        ends.push(fs::metadata(dir.join("events.jsonl")).unwrap().len());
    }
    ends
}

fn batch_ends(dir: &Path) -> Vec<u64> {
    // byte offsets at which a batch closes
    let text = fs::read(dir.join("events.jsonl")).unwrap();
    let mut ends = Vec::new();
    let mut pos = 0u64;
    for line in text.split_inclusive(|b| *b == b'\n') {
        pos += line.len() as u64;
        let e = popug_ledger::line::decode(&line[..line.len() - 1]).unwrap();
        if e.seq == e.batch_end {
            ends.push(pos);
        }
    }
    ends
}

/// Removes every store (the next open builds them from the log).
fn remove_db(dir: &Path) {
    let _ = fs::remove_dir_all(dir.join(popug_ledger::VIEWS_DIR));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_truncation_recovers_to_a_prefix_of_whole_batches(
        batches in prop::collection::vec(1u8..6, 1..6),
        cut in 0.0f64..1.0,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        build(dir, &batches);
        let full = fs::read(dir.join("events.jsonl")).unwrap();
        let ends = batch_ends(dir);
        let cut_at = (full.len() as f64 * cut) as usize;
        fs::write(dir.join("events.jsonl"), &full[..cut_at]).unwrap();
        // the projections were ahead of the cut: the database is derived, start it afresh
        remove_db(dir);

        let l = Ledger::open(dir, support::subscribers(), support::options(None)).unwrap();
        let kept = ends.iter().copied().filter(|e| *e as usize <= cut_at).max().unwrap_or(0) as usize;
        let after = fs::read(dir.join("events.jsonl")).unwrap();
        // what survives is the cut log's whole batches, plus the reactions the recovery finished
        prop_assert_eq!(&after[..kept], &full[..kept]);
        let report = l.verify().unwrap();
        prop_assert_eq!(report.projection_lag, 0);
        support::check_exactly_once(&support::all_events(dir));
        if cut_at > kept {
            let torn: Vec<_> = fs::read_dir(dir).unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.starts_with("events.jsonl.torn-"))
                .collect();
            prop_assert_eq!(torn.len(), 1);
            prop_assert_eq!(fs::read(dir.join(&torn[0])).unwrap(), &full[kept..cut_at]);
        }
    }

    #[test]
    fn any_flipped_byte_in_a_non_final_line_is_detected(
        batches in prop::collection::vec(1u8..4, 2..5),
        at in 0.0f64..1.0,
        bit in 0u8..8,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        build(dir, &batches);
        let mut bytes = fs::read(dir.join("events.jsonl")).unwrap();
        let last_line_start = bytes[..bytes.len() - 1].iter().rposition(|b| *b == b'\n').unwrap() + 1;
        let i = ((last_line_start - 1) as f64 * at) as usize;
        bytes[i] ^= 1 << bit;
        fs::write(dir.join("events.jsonl"), &bytes).unwrap();
        let l = Ledger::open_unchecked(dir, support::subscribers(), support::options(None)).unwrap();
        let err = l.verify().expect_err("a flipped byte must be detected");
        prop_assert!(err.is_corruption(), "{}", err);
        let line_of_flip = bytes[..i].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        if let popug_ledger::LedgerError::Corrupt { line, .. } = err {
            // a flipped newline merges or splits lines, which is noticed at most one line on
            prop_assert!(line == line_of_flip || line == line_of_flip + 1, "flip on line {}, reported {}", line_of_flip, line);
        }
    }

    #[test]
    fn replay_equals_incremental_application(batches in prop::collection::vec(1u8..6, 1..8)) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        build(dir, &batches);
        let l = Ledger::open(dir, support::subscribers(), support::options(None)).unwrap();
        // verify replays the log into a fresh database and compares every table
        let report = l.verify().unwrap();
        prop_assert_eq!(report.tables_compared, vec!["accounts".to_string(), "tally".to_string()]);
        let total: u64 = batches.iter().map(|n| *n as u64).sum();
        prop_assert_eq!(report.events, 2 * total);
    }
}
