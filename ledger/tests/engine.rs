//! The engine's promises, tested through its public API on real files.

mod support;

use std::fs;
use std::io::Write;
use std::path::Path;

use popug_ledger::{Clock, Ledger, LedgerError, LogReader, Position, Problem};
use support::{all_events, check_exactly_once, deposit, open, options, subscribers, totals};

fn new_ledger(dir: &Path) -> Ledger {
    Ledger::create(dir, subscribers(), options(None)).expect("create")
}

fn events_file(dir: &Path) -> std::path::PathBuf {
    dir.join("events.jsonl")
}

fn append(dir: &Path, batch: Vec<(&str, i64)>) -> Vec<u64> {
    let mut l = open(dir);
    let mut w = l.write(Clock::System).unwrap();
    let written = w
        .append(batch.into_iter().map(|(a, n)| deposit(a, n)).collect())
        .unwrap();
    written.iter().map(|e| e.seq).collect()
}

#[test]
fn a_batch_is_appended_projected_and_reacted_to_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    drop(new_ledger(&dir));
    assert_eq!(append(&dir, vec![("a", 10), ("b", 5), ("a", 1)]), vec![1, 2, 3]);
    assert_eq!(append(&dir, vec![("b", 7)]), vec![7]);

    let events = all_events(&dir);
    assert_eq!(events.len(), 8);
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
    // the command's batch, then one batch per reaction
    assert_eq!(events[0].batch_end, 3);
    assert_eq!(events[3].event_type, "Receipted");
    assert_eq!(events[3].causation_id, Some(events[0].id));
    assert_eq!(events[3].correlation_id, events[0].correlation_id);
    assert_eq!(events[0].correlation_id, events[0].id);
    assert_eq!(events[3].batch_end, 4);
    check_exactly_once(&events);

    let l = open(&dir);
    assert_eq!(
        totals(&l),
        vec![("a".into(), 11, 11, 2, 2), ("b".into(), 12, 12, 2, 2)]
    );
    let report = l.verify().unwrap();
    assert_eq!(
        (report.events, report.projection_lag, report.reaction_lag),
        (8, 0, 0)
    );
}

#[test]
fn files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    drop(new_ledger(&dir));
    append(&dir, vec![("a", 1)]);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let mut files = 0;
    let mut todo = vec![dir.clone()];
    while let Some(d) = todo.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                todo.push(p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
                files += 1;
            }
        }
    }
    assert!(dir.join("views/bank.db").is_file() && dir.join("views/tally.db").is_file());
    assert!(files >= 4, "the log, the lock and two stores");
}

#[test]
fn creating_over_an_existing_ledger_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    drop(new_ledger(tmp.path()));
    append(tmp.path(), vec![("a", 1)]);
    let before = fs::read(events_file(tmp.path())).unwrap();
    assert!(matches!(
        Ledger::create(tmp.path(), subscribers(), options(None)),
        Err(LedgerError::AlreadyExists(_))
    ));
    assert_eq!(fs::read(events_file(tmp.path())).unwrap(), before);
}

#[test]
fn opening_a_missing_ledger_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(matches!(
        Ledger::open(&tmp.path().join("nope"), subscribers(), options(None)),
        Err(LedgerError::NotFound(_))
    ));
}

#[test]
fn a_cut_final_line_is_moved_aside_and_the_next_writer_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    append(dir, vec![("a", 1)]);
    let good = fs::read(events_file(dir)).unwrap();
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(events_file(dir))
        .unwrap();
    f.write_all(br#"{"seq":3,"id":"0193"#).unwrap();
    drop(f);

    // a reader (no lock) simply does not see the torn bytes
    assert_eq!(all_events(dir).len(), 2);
    append(dir, vec![("a", 2)]);
    let torn: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("events.jsonl.torn-"))
        .collect();
    assert_eq!(torn.len(), 1, "{torn:?}");
    assert_eq!(fs::read(dir.join(&torn[0])).unwrap(), br#"{"seq":3,"id":"0193"#);
    let after = fs::read(events_file(dir)).unwrap();
    assert!(after.starts_with(&good));
    assert_eq!(all_events(dir).len(), 4);
    open(dir).verify().unwrap();
}

#[test]
fn an_unparseable_final_line_and_an_unclosed_batch_are_torn_too() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    append(dir, vec![("a", 1)]);
    let good = fs::read(events_file(dir)).unwrap();

    // Simulate a batch of three whose last line never made it: take a real 3-event batch
    // from another ledger with the same history, keep its first two lines.
    let other = tempfile::tempdir().unwrap();
    fs::copy(events_file(dir), events_file(other.path())).unwrap();
    append(other.path(), vec![("x", 1), ("y", 2), ("z", 3)]);
    let full = fs::read_to_string(events_file(other.path())).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let mut torn = String::new();
    torn.push_str(lines[2]);
    torn.push('\n');
    torn.push_str(lines[3]);
    torn.push('\n');
    torn.push_str("garbage that does not parse\n");
    fs::OpenOptions::new()
        .append(true)
        .open(events_file(dir))
        .unwrap()
        .write_all(torn.as_bytes())
        .unwrap();

    assert_eq!(all_events(dir).len(), 2, "half a batch must stay invisible");
    let l = open(dir);
    let moved = l.last_recovery().torn_moved_to.clone().expect("torn tail moved");
    assert_eq!(fs::read_to_string(moved).unwrap(), torn);
    assert_eq!(fs::read(events_file(dir)).unwrap(), good);
    l.verify().unwrap();
}

#[test]
fn damage_before_the_end_stops_every_writer_and_names_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    append(dir, vec![("a", 1)]);
    append(dir, vec![("a", 2)]);
    // simulate projections that lag behind (as after a crash), so the writer must read line 3
    let db_copy = tmp.path().join("db-copy");
    {
        let l = open(dir);
        l.store("bank")
            .execute(
                "UPDATE ledger_subscriptions SET seq = 2, byte_offset = ?1, hash = ?2",
                {
                    let ev = &all_events(dir)[1];
                    let text = fs::read_to_string(events_file(dir)).unwrap();
                    let end: usize = text.lines().take(2).map(|l| l.len() + 1).sum();
                    (end as i64, ev.hash.to_string())
                },
            )
            .unwrap();
        drop(l);
        let _ = fs::copy(support::bank_db(dir), &db_copy);
    }
    let text = fs::read_to_string(events_file(dir)).unwrap();
    let damaged = text.replacen("\"amount\":2", "\"amount\":9", 1);
    assert_ne!(damaged, text);
    fs::write(events_file(dir), &damaged).unwrap();

    let mut l = Ledger::open(dir, subscribers(), options(None))
        .err()
        .map(|e| e.to_string());
    let msg = l.take().expect("opening must fail");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("hash does not match"), "{msg}");
    assert_eq!(
        fs::read_to_string(events_file(dir)).unwrap(),
        damaged,
        "nothing written"
    );
}

#[test]
fn verify_names_the_line_that_was_edited_deleted_or_moved() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    for i in 0..4 {
        append(dir, vec![("a", i + 1)]);
    }
    let text = fs::read_to_string(events_file(dir)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8);

    let check = |content: String, line: u64, problem: fn(&Problem) -> bool| {
        fs::write(events_file(dir), content).unwrap();
        let l = Ledger::open_unchecked(dir, subscribers(), options(None)).unwrap();
        let err = l.verify().unwrap_err();
        match &err {
            LedgerError::Corrupt {
                line: got,
                problem: p,
                ..
            } => {
                assert_eq!(*got, line, "{err}");
                assert!(problem(p), "{err}");
            }
            other => panic!("expected corruption, got {other}"),
        }
    };
    let join = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();

    // edit line 2
    let mut edited = lines.clone();
    let e = lines[1].replacen("\"amount\":1", "\"amount\":5", 1);
    edited[1] = &e;
    check(join(&edited), 2, |p| matches!(p, Problem::Line(_)));
    // delete line 3
    let mut deleted = lines.clone();
    deleted.remove(2);
    check(join(&deleted), 3, |p| {
        matches!(
            p,
            Problem::SeqGap {
                expected: 3,
                found: 4
            }
        )
    });
    // swap lines 5 and 6
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    check(join(&swapped), 5, |p| matches!(p, Problem::SeqGap { .. }));
    // restored, it verifies again
    fs::write(events_file(dir), &text).unwrap();
    open(dir).verify().unwrap();
}

#[test]
fn a_crash_between_append_and_commit_never_doubles_a_reaction() {
    // The projection database is put back to its state before the last command, which is
    // exactly what a crash after the append and before the SQLite commit leaves behind.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    append(dir, vec![("a", 3)]);
    let snapshot = tmp.path().join("snapshot.db");
    {
        let l = open(dir);
        l.store("bank")
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        l.store("bank")
            .execute("VACUUM INTO ?1", [snapshot.to_string_lossy()])
            .unwrap();
    }
    append(dir, vec![("a", 4), ("b", 5)]);
    let log_before = fs::read(events_file(dir)).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", support::bank_db(dir).display()));
    }
    fs::copy(&snapshot, support::bank_db(dir)).unwrap();

    let l = open(dir);
    assert_eq!(
        fs::read(events_file(dir)).unwrap(),
        log_before,
        "catching up appends nothing new"
    );
    check_exactly_once(&all_events(dir));
    assert_eq!(
        totals(&l),
        vec![("a".into(), 7, 7, 2, 2), ("b".into(), 5, 5, 1, 1)]
    );
    l.verify().unwrap();
}

#[test]
fn pending_reactions_are_finished_by_the_next_writer() {
    // A command whose reactions never ran: the projection database is from before the command,
    // and the log ends with the command's batch alone.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    append(dir, vec![("a", 3)]);
    let keep = fs::read(events_file(dir)).unwrap();
    append(dir, vec![("a", 4), ("b", 5)]);
    let text = fs::read_to_string(events_file(dir)).unwrap();
    let mut only_command: String = String::from_utf8(keep).unwrap();
    for l in text.lines().skip(2).take(2) {
        only_command.push_str(l);
        only_command.push('\n');
    }
    fs::write(events_file(dir), &only_command).unwrap();
    // every store is from before the command (none yet: the next open builds them)
    fs::remove_dir_all(dir.join(popug_ledger::VIEWS_DIR)).unwrap();
    let l = open(dir);
    let events = all_events(dir);
    assert_eq!(events.len(), 6);
    check_exactly_once(&events);
    assert_eq!(
        totals(&l),
        vec![("a".into(), 7, 7, 2, 2), ("b".into(), 5, 5, 1, 1)]
    );
    l.verify().unwrap();
}

#[test]
fn rebuild_gives_the_same_projections_and_a_missing_database_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    for i in 0..5 {
        append(dir, vec![("a", i), ("b", 2 * i)]);
    }
    let before = totals(&open(dir));
    let mut l = open(dir);
    let report = l.rebuild().unwrap();
    assert_eq!(report.events, 20);
    assert_eq!(totals(&l), before);
    drop(l);
    fs::remove_file(support::bank_db(dir)).unwrap();
    let l = open(dir);
    assert_eq!(totals(&l), before);
    assert_eq!(all_events(dir).len(), 20, "rebuilding reacts to nothing twice");
    l.verify().unwrap();
}

#[test]
fn verify_notices_projections_that_disagree_with_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    append(dir, vec![("a", 1)]);
    let l = open(dir);
    l.store("bank")
        .execute("UPDATE accounts SET deposited = 1000", [])
        .unwrap();
    let err = l.verify().unwrap_err();
    assert!(
        matches!(err, LedgerError::Corrupt { problem: Problem::ReplayMismatch { ref table }, .. } if table == "accounts"),
        "{err}"
    );
}

#[test]
fn a_fixed_clock_earlier_than_the_last_event_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    let mut l = open(dir);
    let t1 = "2026-11-27T10:00:00Z".parse().unwrap();
    l.write(Clock::Fixed(t1))
        .unwrap()
        .append(vec![deposit("a", 1)])
        .unwrap();
    let before = fs::read(events_file(dir)).unwrap();
    let t0 = "2026-11-27T09:00:00Z".parse().unwrap();
    assert!(matches!(
        l.write(Clock::Fixed(t0)),
        Err(LedgerError::ClockBehind { .. })
    ));
    assert_eq!(fs::read(events_file(dir)).unwrap(), before);
    let events = all_events(dir);
    assert!(events.iter().all(|e| e.at == t1));
}

#[test]
fn a_seeded_ledger_is_reproducible_and_never_repeats_an_id() {
    let run = || {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        drop(Ledger::create(dir, subscribers(), options(Some(7))).unwrap());
        for i in 0..3 {
            let mut l = Ledger::open(dir, subscribers(), options(Some(7))).unwrap();
            let t = format!("2026-11-27T10:00:0{i}Z").parse().unwrap();
            l.write(Clock::Fixed(t))
                .unwrap()
                .append(vec![deposit("a", 1)])
                .unwrap();
        }
        fs::read(events_file(dir)).unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let text = String::from_utf8(a).unwrap();
    let mut ids: Vec<_> = text
        .lines()
        .map(|l| &l[l.find("\"id\"").unwrap()..][..45])
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
}

#[test]
fn a_sessions_ids_increase_so_rows_keyed_by_them_are_appended_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    drop(new_ledger(&dir));
    let mut l = open(&dir);
    let t = "2026-11-27T10:00:00Z".parse().unwrap();
    let mut w = l.write(Clock::Fixed(t)).unwrap();
    // ids made by the caller, then the ids of the events and their reactions, all at one instant
    let mut ids: Vec<uuid::Uuid> = (0..1000).map(|_| w.new_id()).collect();
    let batch: Vec<_> = (0..500).map(|i| deposit("a", i)).collect();
    w.append(batch).unwrap();
    ids.extend(w.appended().iter().map(|e| e.id));
    drop(w);
    assert_eq!(ids.len(), 2000, "1,000 ids, 500 deposits and their 500 receipts");
    assert!(
        ids.windows(2).all(|p| p[0] < p[1]),
        "every id is greater than the one before"
    );
    for id in &ids {
        assert_eq!(id.get_version_num(), 7);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        assert_eq!((secs, nanos), (1_795_773_600, 0), "the session's instant");
    }
    // the next session goes on from a later instant, with a fresh random start
    let mut w = l
        .write(Clock::Fixed("2026-11-27T10:00:01Z".parse().unwrap()))
        .unwrap();
    assert!(w.new_id() > *ids.last().unwrap());
}

#[test]
fn streaming_from_a_position_reads_only_what_follows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    append(dir, vec![("a", 1)]);
    append(dir, vec![("a", 2)]);
    let l = open(dir);
    let after: Vec<u64> = l.read_after(2).unwrap().map(|e| e.unwrap().seq).collect();
    assert_eq!(after, vec![3, 4]);
    let head = l.head().unwrap();
    let rest: Vec<_> = LogReader::open(&events_file(dir), head).unwrap().collect();
    assert!(rest.is_empty());
    let wrong = Position {
        hash: popug_ledger::Hash([1; 32]),
        ..head
    };
    assert!(LogReader::open(&events_file(dir), wrong).is_err());
}

/// A reactor that answers every deposit, and records at each flush how many of its answers
/// were already in the log; its flush fails when told to. Its clones share that state, so
/// a test keeps one and gives the engine another.
#[derive(Clone)]
struct Flushing {
    log: std::path::PathBuf,
    seen_at_flush: std::rc::Rc<std::cell::RefCell<Vec<usize>>>,
    fail: std::rc::Rc<std::cell::Cell<bool>>,
}

impl popug_ledger::Reactor for Flushing {
    fn name(&self) -> &str {
        "flushing"
    }
    fn react(
        &self,
        _db: &rusqlite::Connection,
        event: &popug_ledger::Event,
        _ctx: &mut popug_ledger::Context<'_>,
    ) -> Result<Vec<popug_ledger::NewEvent>, popug_ledger::BoxError> {
        if event.event_type != "Deposited" {
            return Ok(vec![]);
        }
        Ok(vec![popug_ledger::NewEvent::new(
            "Answered",
            1,
            "flushing",
            "system",
            &serde_json::json!({}),
        )?])
    }
    fn flush(&self) -> Result<(), popug_ledger::BoxError> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        self.seen_at_flush
            .borrow_mut()
            .push(text.matches("\"Answered\"").count());
        if self.fail.get() {
            return Err("the outside world is down".into());
        }
        Ok(())
    }
}

#[test]
fn a_reactor_is_flushed_before_its_events_are_appended_and_a_failed_flush_appends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    let reactor = Flushing {
        log: dir.join(popug_ledger::EVENTS_FILE),
        seen_at_flush: Default::default(),
        fail: Default::default(),
    };
    let subs = popug_ledger::Subscribers {
        stores: vec![
            popug_ledger::Store::new("bank", 1)
                .projection(support::Balances)
                .reactor(reactor.clone()),
        ],
    };
    let mut l = Ledger::create(&dir, subs, support::options(None)).unwrap();
    {
        let mut w = l.write(Clock::System).unwrap();
        w.append_batches(vec![
            vec![support::deposit("a", 1)],
            vec![support::deposit("b", 2)],
        ])
        .unwrap();
    }
    // flushed once per round: with none of this round's answers in the log yet
    assert_eq!(reactor.seen_at_flush.borrow()[0], 0);
    let answered = |dir: &Path| {
        std::fs::read_to_string(events_file(dir))
            .unwrap()
            .matches("\"Answered\"")
            .count()
    };
    assert_eq!(answered(&dir), 2);

    reactor.fail.set(true);
    let before = std::fs::read(events_file(&dir)).unwrap();
    let err = {
        let mut w = l.write(Clock::System).unwrap();
        w.append(vec![support::deposit("c", 3)]).unwrap_err()
    };
    // the deposit is durable, so the failure says the command is recorded; the cause is the
    // flush
    match &err {
        popug_ledger::LedgerError::Unapplied { source, .. } => {
            assert!(source.to_string().contains("flushing"), "{source}")
        }
        other => panic!("not Unapplied: {other}"),
    }
    let after = std::fs::read(events_file(&dir)).unwrap();
    assert!(after.starts_with(&before));
    let added = String::from_utf8(after[before.len()..].to_vec()).unwrap();
    assert_eq!(added.lines().count(), 1, "the deposit only, no answer: {added}");
    assert_eq!(answered(&dir), 2);
    // the deposit is durable, so it stays projected although the session's transaction
    // (the batch and its reaction rounds) was rolled back: its tail is projected again
    assert!(totals(&l).contains(&("c".into(), 3, 0, 1, 0)), "{:?}", totals(&l));
    let report = l.verify().unwrap();
    assert_eq!(report.projection_lag, 0, "{report:?}");
    assert!(report.reaction_lag > 0, "the answer is still owed: {report:?}");

    // once the outside world is back, the next writer answers the pending deposit once
    reactor.fail.set(false);
    drop(l.write(Clock::System).unwrap());
    assert_eq!(answered(&dir), 3);
    // rounds: [answers, then a round over the answers themselves], [the failed round],
    // [the retried answer, then its round]: every flush came before its round's append
    assert_eq!(*reactor.seen_at_flush.borrow(), [0, 2, 2, 2, 3]);
    l.verify().unwrap();
}

/// A store whose tables are of another version is rebuilt from the log, and only that one:
/// the others keep their files and rows (DESIGN §2, guarantees P5).
#[test]
fn a_store_of_another_version_is_rebuilt_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    drop(new_ledger(&dir));
    append(&dir, vec![("a", 3), ("b", 4)]);
    // a mark in each store that only a rebuild of that store would lose
    let mark = |store: &str| {
        let db = rusqlite::Connection::open(dir.join(format!("views/{store}.db"))).unwrap();
        db.execute("INSERT INTO ledger_meta (key, value) VALUES ('mark', 'kept')", [])
            .unwrap();
    };
    let marked = |store: &str| -> bool {
        let db = rusqlite::Connection::open(dir.join(format!("views/{store}.db"))).unwrap();
        db.query_row("SELECT count(*) FROM ledger_meta WHERE key = 'mark'", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
            == 1
    };
    mark("bank");
    mark("tally");
    // the tally store's tables are now of version 2
    let subs = popug_ledger::Subscribers {
        stores: vec![
            popug_ledger::Store::new("bank", 1)
                .projection(support::Balances)
                .reactor(support::Receipts),
            popug_ledger::Store::new("tally", 2).projection(support::Tally),
        ],
    };
    let l = Ledger::open(&dir, subs, options(None)).unwrap();
    assert!(l.last_recovery().rebuilt);
    assert!(marked("bank"), "the bank store was kept as it was");
    assert!(!marked("tally"), "the tally store was built anew");
    let tally: i64 = l
        .store("tally")
        .query_row("SELECT n FROM tally WHERE event_type = 'Deposited'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(tally, 2, "rebuilt from the log");
    let version: String = l
        .store("tally")
        .query_row(
            "SELECT value FROM ledger_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "2");
    l.verify().unwrap();
}

/// A crash between two stores' commits leaves the later store behind; the next session
/// catches it up from its own checkpoint before anything is decided, exactly once.
#[test]
fn a_store_left_behind_catches_up_from_its_own_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    drop(new_ledger(&dir));
    append(&dir, vec![("a", 3)]);
    // the tally store as it was before the next command: as if its commit never came
    let tally = dir.join("views/tally.db");
    {
        let db = rusqlite::Connection::open(&tally).unwrap();
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    let saved = std::fs::read(&tally).unwrap();
    append(&dir, vec![("a", 4), ("b", 5)]);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", tally.display()));
    }
    std::fs::write(&tally, saved).unwrap();
    let l = Ledger::open_unchecked(&dir, subscribers(), options(None)).unwrap();
    let v = l.verify().unwrap();
    assert!(v.projection_lag > 0, "the tally store is behind: {v:?}");
    drop(l);
    let l = open(&dir);
    assert!(l.last_recovery().projected > 0);
    let n: i64 = l
        .store("tally")
        .query_row("SELECT n FROM tally WHERE event_type = 'Deposited'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 3, "each deposit counted once");
    assert_eq!(l.verify().unwrap().projection_lag, 0);
    check_exactly_once(&all_events(&dir));
}

#[test]
fn the_durable_hook_hears_every_appended_event_once_with_what_an_open_finishes() {
    use std::sync::{Arc, Mutex};
    let heard: Arc<Mutex<Vec<u64>>> = Default::default();
    let hooked = || {
        let heard = heard.clone();
        popug_ledger::Options {
            on_durable: Some(popug_ledger::OnDurable(Arc::new(move |l: &Ledger, events| {
                // told after the stores committed: they already hold every event it hears
                let applied: i64 = l
                    .store("bank")
                    .query_row("SELECT seq FROM ledger_subscriptions LIMIT 1", [], |r| r.get(0))
                    .unwrap();
                assert!(events.iter().all(|e| e.seq as i64 <= applied));
                heard.lock().unwrap().extend(events.iter().map(|e| e.seq));
            }))),
            ..options(None)
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(new_ledger(dir));
    {
        let mut l = Ledger::open(dir, subscribers(), hooked()).unwrap();
        let mut w = l.write(Clock::System).unwrap();
        w.append(vec![deposit("a", 3)]).unwrap();
        w.append(vec![deposit("b", 4), deposit("a", 1)]).unwrap();
    }
    let all: Vec<u64> = all_events(dir).iter().map(|e| e.seq).collect();
    assert_eq!(
        *heard.lock().unwrap(),
        all,
        "the commands' events and their reactions"
    );

    // a command killed before its reactions: the log ends with its batch alone, the stores
    // are from before it. A reader's open finishes the reactions, and the hook hears them
    let keep = fs::read_to_string(events_file(dir)).unwrap();
    append(dir, vec![("c", 5)]);
    let text = fs::read_to_string(events_file(dir)).unwrap();
    let command_line = text.lines().nth(all.len()).unwrap();
    fs::write(events_file(dir), format!("{keep}{command_line}\n")).unwrap();
    fs::remove_dir_all(dir.join(popug_ledger::VIEWS_DIR)).unwrap();
    heard.lock().unwrap().clear();
    drop(Ledger::open(dir, subscribers(), hooked()).unwrap());
    let finished: Vec<u64> = all_events(dir)
        .iter()
        .map(|e| e.seq)
        .filter(|&s| s > all.len() as u64 + 1)
        .collect();
    assert!(!finished.is_empty());
    assert_eq!(*heard.lock().unwrap(), finished, "only what the open appended");
    // nothing left: the next open hears nothing
    heard.lock().unwrap().clear();
    drop(Ledger::open(dir, subscribers(), hooked()).unwrap());
    assert!(heard.lock().unwrap().is_empty());
    check_exactly_once(&all_events(dir));
}
