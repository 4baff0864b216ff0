//! One suite, two logs: the engine's promises on the file log and on NATS JetStream (a real
//! `nats-server` on loopback). Each "host" is a directory: on the file log every host opens
//! the same ledger directory; on JetStream each host keeps its own replica and stores, and
//! the stream is shared.

mod support;

use std::path::{Path, PathBuf};

use popug_ledger::jetstream::{Address, JetStreamLog};
use popug_ledger::{Clock, Ledger, LedgerError};
use support::nats::Cluster;
use support::{all_events, check_exactly_once, deposit, options, subscribers, totals};

enum Log {
    File,
    JetStream { _cluster: Cluster, address: Address },
}

struct Fixture {
    tmp: tempfile::TempDir,
    log: Log,
}

impl Fixture {
    fn file() -> Fixture {
        let f = Fixture {
            tmp: tempfile::tempdir().unwrap(),
            log: Log::File,
        };
        drop(Ledger::create(&f.tmp.path().join("host-0"), subscribers(), options(None)).unwrap());
        f
    }

    fn jetstream(test: &str) -> Option<Fixture> {
        let cluster = Cluster::start(1, test)?;
        let address = Address::parse(&cluster.url("bank")).unwrap();
        let mut log = JetStreamLog::connect(&address).unwrap();
        log.create(1).unwrap();
        let f = Fixture {
            tmp: tempfile::tempdir().unwrap(),
            log: Log::JetStream {
                _cluster: cluster,
                address,
            },
        };
        let dir = f.host(0);
        drop(Ledger::create_shared(&dir, Box::new(log), subscribers(), options(None)).unwrap());
        Some(f)
    }

    /// Where host `i` keeps the ledger: the one directory of a file ledger, or host `i`'s own
    /// cache of a JetStream ledger.
    fn host(&self, i: usize) -> PathBuf {
        match self.log {
            Log::File => self.tmp.path().join("host-0"),
            Log::JetStream { .. } => self.tmp.path().join(format!("host-{i}")),
        }
    }

    fn open(&self, host: usize) -> Ledger {
        self.try_open(host).unwrap()
    }

    fn try_open(&self, host: usize) -> Result<Ledger, LedgerError> {
        let dir = self.host(host);
        match &self.log {
            Log::File => Ledger::open(&dir, subscribers(), options(None)),
            Log::JetStream { address, .. } => Ledger::open_shared(
                &dir,
                Box::new(JetStreamLog::connect(address).unwrap()),
                subscribers(),
                options(None),
            ),
        }
    }

    /// Deletes the stream and makes another ledger under the same name, from host 1.
    fn remake_stream(&self) {
        let Log::JetStream { address, .. } = &self.log else {
            unreachable!("a JetStream fixture")
        };
        let mut log = JetStreamLog::connect(address).unwrap();
        log.delete().unwrap();
        log.create(1).unwrap();
        drop(Ledger::create_shared(&self.host(1), Box::new(log), subscribers(), options(None)).unwrap());
    }

    /// Appends one deposit per `(account, amount)` as one batch from `host`, deciding again
    /// (a new session on the new head) when another host appended first.
    fn deposit(&self, host: usize, batch: &[(&str, i64)]) -> Vec<u64> {
        for attempt in 1..=50 {
            let mut l = self.open(host);
            let mut w = l.write(Clock::System).unwrap();
            match w.append(batch.iter().map(|(a, n)| deposit(a, *n)).collect()) {
                Ok(events) => return events.iter().map(|e| e.seq).collect(),
                Err(e) if e.is_conflict() => popug_ledger::backoff(attempt),
                Err(e) => panic!("append: {e}"),
            }
        }
        panic!("50 conflicts in a row");
    }
}

fn both(test: &str, run: impl Fn(&Fixture)) {
    run(&Fixture::file());
    if let Some(f) = Fixture::jetstream(test) {
        run(&f);
    }
}

#[test]
fn hosts_taking_turns_see_one_history_reacted_to_once() {
    both("hosts_taking_turns", |f| {
        assert_eq!(f.deposit(0, &[("a", 10), ("b", 5), ("a", 1)]), vec![1, 2, 3]);
        assert_eq!(f.deposit(1, &[("b", 7)]), vec![7]);
        assert_eq!(f.deposit(2, &[("a", 2)]), vec![9]);
        for host in 0..3 {
            let l = f.open(host);
            assert_eq!(
                totals(&l),
                vec![("a".into(), 13, 13, 3, 3), ("b".into(), 12, 12, 2, 2)],
                "host {host}"
            );
            let report = l.verify().unwrap();
            assert_eq!(
                (report.events, report.projection_lag, report.reaction_lag),
                (10, 0, 0)
            );
            check_exactly_once(&all_events(&f.host(host)));
        }
        // every host holds the same bytes
        let first = std::fs::read(f.host(0).join("events.jsonl")).unwrap();
        for host in 1..3 {
            assert_eq!(std::fs::read(f.host(host).join("events.jsonl")).unwrap(), first);
        }
    });
}

#[test]
fn racing_writers_lose_nothing_and_double_nothing() {
    both("racing_writers", |f| {
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    for k in 0..15 {
                        f.deposit(t % 2, &[(&format!("acct{t}"), k + 1)]);
                    }
                });
            }
        });
        let events = all_events(&f.host(0));
        let l = f.open(0);
        let events_after = all_events(&f.host(0));
        assert!(events_after.len() >= events.len());
        check_exactly_once(&events_after);
        let deposits = events_after
            .iter()
            .filter(|e| e.event_type == "Deposited")
            .count();
        assert_eq!(deposits, 60);
        for (account, deposited, receipted, n, receipts) in totals(&l) {
            assert_eq!(
                (deposited, receipted, n, receipts),
                (120, 120, 15, 15),
                "{account}"
            );
        }
        let report = l.verify().unwrap();
        assert_eq!((report.projection_lag, report.reaction_lag), (0, 0));
    });
}

#[test]
fn a_writer_that_lost_the_race_appended_nothing_and_decides_again() {
    let Some(f) = Fixture::jetstream("lost_race") else {
        return;
    };
    f.deposit(0, &[("a", 1)]);
    let mut late = f.open(0);
    let mut w = late.write(Clock::System).unwrap();
    // another host appends while this session decides
    f.deposit(1, &[("b", 100)]);
    let err = w.append(vec![deposit("a", 5)]).unwrap_err();
    assert!(matches!(err, LedgerError::Conflict { .. }), "{err:?}");
    drop(w);
    drop(late);
    let events = all_events(&f.host(1));
    assert!(
        !events
            .iter()
            .any(|e| e.event_type == "Deposited" && e.data.get().contains("\"amount\":5"))
    );
    // deciding again on the new head succeeds, and each deposit has its one receipt
    f.deposit(0, &[("a", 5)]);
    let l = f.open(1);
    assert_eq!(
        totals(&l),
        vec![("a".into(), 6, 6, 2, 2), ("b".into(), 100, 100, 1, 1)]
    );
    check_exactly_once(&all_events(&f.host(1)));
}

#[test]
fn a_lost_or_damaged_replica_is_fetched_again() {
    let Some(f) = Fixture::jetstream("lost_replica") else {
        return;
    };
    f.deposit(0, &[("a", 1), ("b", 2)]);
    f.deposit(1, &[("a", 3)]);
    let host = f.host(0);
    drop(f.open(0));
    let before = std::fs::read(host.join("events.jsonl")).unwrap();
    // the replica cut short (a crash of this host's disk), then removed outright
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(host.join("events.jsonl"))
        .unwrap();
    file.set_len(before.len() as u64 / 2).unwrap();
    drop(file);
    let l = f.open(0);
    assert!(
        std::fs::read(host.join("events.jsonl")).unwrap() == before,
        "the cut replica is whole again"
    );
    drop(l);
    std::fs::remove_file(host.join("events.jsonl")).unwrap();
    std::fs::remove_file(host.join("replica.json")).unwrap();
    let l = f.open(0);
    assert_eq!(std::fs::read(host.join("events.jsonl")).unwrap(), before);
    assert_eq!(
        totals(&l),
        vec![("a".into(), 4, 4, 2, 2), ("b".into(), 2, 2, 1, 1)]
    );
    let report = l.verify().unwrap();
    assert_eq!(
        (report.events, report.projection_lag, report.reaction_lag),
        (6, 0, 0)
    );
}

#[test]
fn a_ledger_copied_to_jetstream_and_back_is_the_same_bytes() {
    let Some(cluster) = Cluster::start(1, "copy") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("file");
    drop(Ledger::create(&dir, subscribers(), options(None)).unwrap());
    {
        let mut l = Ledger::open(&dir, subscribers(), options(None)).unwrap();
        let mut w = l.write(Clock::System).unwrap();
        // many batches, so that the copy is cut into several messages
        w.append_in_chunks(
            (0..300).map(|i| vec![deposit(&format!("acct{}", i % 7), i)]),
            50,
            |_, _| Ok::<_, LedgerError>(()),
        )
        .unwrap();
    }
    let address = Address::parse(&cluster.url("copied")).unwrap();
    let mut log = JetStreamLog::connect(&address).unwrap();
    log.create(1).unwrap();
    let whole = popug_ledger::Position {
        seq: u64::MAX,
        ..popug_ledger::Position::GENESIS
    };
    let end =
        popug_ledger::shared::upload(&dir.join("events.jsonl"), &mut log, whole, &mut || Ok(())).unwrap();
    assert_eq!(end.seq, 600);
    // an upload to a stream that holds something is refused
    assert!(matches!(
        popug_ledger::shared::upload(&dir.join("events.jsonl"), &mut log, whole, &mut || Ok(())),
        Err(LedgerError::SharedExists(_))
    ));
    let back = tmp.path().join("back");
    std::fs::create_dir(&back).unwrap();
    let end_back =
        popug_ledger::shared::download(Box::new(JetStreamLog::connect(&address).unwrap()), &back).unwrap();
    assert_eq!((end_back.seq, end_back.hash), (end.seq, end.hash));
    assert_eq!(
        std::fs::read(back.join("events.jsonl")).unwrap(),
        std::fs::read(dir.join("events.jsonl")).unwrap()
    );
    assert!(!back.join("replica.json").exists());
    let shared = Ledger::open_shared(
        &tmp.path().join("host"),
        Box::new(JetStreamLog::connect(&address).unwrap()),
        subscribers(),
        options(None),
    )
    .unwrap();
    let file = Ledger::open(&dir, subscribers(), options(None)).unwrap();
    assert_eq!(totals(&shared), totals(&file));
}

#[test]
fn an_unreachable_cluster_is_an_error_in_seconds_not_a_hang() {
    let Some(mut cluster) = Cluster::start(1, "unreachable") else {
        return;
    };
    let address = Address::parse(&cluster.url("gone")).unwrap();
    JetStreamLog::connect(&address).unwrap().create(1).unwrap();
    cluster.kill(0);
    let started = std::time::Instant::now();
    let err = match JetStreamLog::connect(&address) {
        Err(e) => e,
        Ok(log) => Ledger::open_shared(
            Path::new("/nonexistent-never-made"),
            Box::new(log),
            subscribers(),
            options(None),
        )
        .err()
        .unwrap(),
    };
    assert!(matches!(err, LedgerError::Shared { .. }), "{err:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "{:?}",
        started.elapsed()
    );
}
#[test]
fn a_stream_made_again_under_a_hosts_copy_is_refused_until_the_copy_is_removed() {
    let Some(f) = Fixture::jetstream("stream_made_again") else {
        return;
    };
    f.deposit(0, &[("a", 1), ("b", 2)]);
    f.deposit(0, &[("a", 3)]);
    // the stream goes, and another history is written under the same name from another host
    f.remake_stream();
    for batch in [[("c", 7)], [("d", 1)], [("e", 2)]] {
        f.deposit(1, &batch);
    }
    // host 0 saw another history: a history that changed is never taken silently, shorter
    // or longer than what the host copied
    let err = f.try_open(0).err().expect("a history that changed is refused");
    assert!(err.is_corruption(), "{err:?}");
    assert!(
        err.to_string().contains("does not continue this host's copy")
            || format!("{err:?}").contains("does not continue this host's copy"),
        "{err:?}"
    );
    // the operator who knows removes the copy, and the host copies the stream anew
    std::fs::remove_dir_all(f.host(0)).unwrap();
    let l = f.open(0);
    assert_eq!(
        totals(&l),
        vec![
            ("c".into(), 7, 7, 1, 1),
            ("d".into(), 1, 1, 1, 1),
            ("e".into(), 2, 2, 1, 1)
        ]
    );
}

#[test]
fn a_stream_made_again_to_the_same_length_is_refused_and_never_appended_to() {
    let Some(f) = Fixture::jetstream("same_length") else {
        return;
    };
    f.deposit(0, &[("a", 1)]);
    f.remake_stream();
    f.deposit(1, &[("z", 9)]);
    // as many messages as host 0 copied, but another history: refused, and nothing appended
    let before = std::fs::read(f.host(1).join("events.jsonl")).unwrap();
    let err = f
        .try_open(0)
        .err()
        .expect("another history of the same length is refused");
    assert!(err.is_corruption(), "{err:?}");
    let l = f.open(1);
    assert_eq!(totals(&l), vec![("z".into(), 9, 9, 1, 1)]);
    assert!(std::fs::read(f.host(1).join("events.jsonl")).unwrap() == before);
    assert_eq!(l.verify().unwrap().events, 2);
}

#[test]
fn a_byte_flipped_in_a_hosts_copy_is_copied_again_from_the_stream() {
    let Some(f) = Fixture::jetstream("flipped_byte") else {
        return;
    };
    for i in 0..5 {
        f.deposit(i % 2, &[("a", i as i64 + 1)]);
    }
    drop(f.open(0));
    drop(f.open(1));
    let copy = f.host(0).join("events.jsonl");
    let good = std::fs::read(f.host(1).join("events.jsonl")).unwrap();
    let mut bytes = std::fs::read(&copy).unwrap();
    // inside the second line's payload, well before the cursor
    let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 40;
    bytes[at] ^= 0x01;
    std::fs::write(&copy, &bytes).unwrap();
    // verify finds it (every line is hashed), and the copy is made again from the stream
    let mut l = f.open(0);
    assert!(l.verify().unwrap_err().is_corruption());
    let report = l.verify_or_recopy(|_, _| Ok(None)).unwrap();
    assert!(l.last_recovery().recopied.is_some());
    assert!(
        std::fs::read(&copy).unwrap() == good,
        "the copy is the stream's bytes again"
    );
    assert_eq!(report.events, 10);
    assert_eq!(l.verify().unwrap().events, 10);
    f.deposit(0, &[("a", 100)]);
    assert_eq!(totals(&f.open(0)), vec![("a".into(), 115, 115, 6, 6)]);
}

/// A host that asks for what is new every few milliseconds (`events --follow`, a worker)
/// sees another host's append: a replica's cached answer about the stream expires 20 ms
/// after the stream gave it, not after its last use (it was renewed at each use, so a host
/// asking often enough kept it for ever).
#[test]
fn a_host_that_keeps_asking_sees_what_another_host_appended() {
    use std::time::{Duration, Instant};
    both("keeps_asking", |f| {
        f.deposit(0, &[("a", 1)]);
        let before = all_events(&f.host(0)).len();
        let mut l = f.open(0);
        l.refresh().unwrap();
        std::thread::scope(|s| {
            let other = s.spawn(|| f.deposit(1, &[("b", 2)]));
            let started = Instant::now();
            let mut seen = false;
            while !seen && started.elapsed() < Duration::from_secs(3) {
                std::thread::sleep(Duration::from_millis(5));
                l.refresh().unwrap();
                seen = all_events(&f.host(0)).len() > before;
            }
            other.join().unwrap();
            assert!(seen, "host 0, asking every 5 ms, never saw host 1's deposit");
        });
    });
}
