//! The maintenance commands racing the company's work (DESIGN §6, CLI.md `verify` and
//! `rebuild`): `verify` looping while every kind of writer runs never calls a healthy ledger
//! damaged (and still finds a real corruption); `rebuild` under readers and writers never
//! leaves a reader without a database or with an I/O error, loses no write and leaves no
//! false lag; `rebuild` interrupted by SIGINT, SIGTERM or SIGKILL at random moments leaves
//! nothing behind (after the next run, for SIGKILL) and loses nothing.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Ledger;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

/// Rounds of each race: enough to have caught every fault of the issue on the code before
/// (`POPUG_TEST_BIN` runs them against another binary), few enough for CI.
fn rounds(default: usize) -> usize {
    std::env::var("POPUG_MAINTENANCE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Company {
    l: Ledger,
    tokens: BTreeMap<String, String>,
}

impl Company {
    /// A ledger with `tasks` imported tasks, a third of them done, and a payment run.
    fn new(tasks: usize) -> Company {
        let l = Ledger::init();
        let mut c = Company {
            tokens: BTreeMap::new(),
            l,
        };
        c.tokens.insert("admin".into(), c.l.admin_token.clone());
        for login in ["w1", "w2", "w3"] {
            let doc =
                c.l.json(&["user", "add", login, "--role", "worker", "--notify", "none"]);
            let t = common::login_token(c.l.cmd(), login, doc["password"].as_str().unwrap());
            c.tokens.insert(login.into(), t);
        }
        let file = c.l.home.join("tasks.jsonl");
        let rows: String = (0..tasks)
            .map(|i| format!("{{\"title\":\"Task {i}\"}}\n"))
            .collect();
        fs::write(&file, rows).unwrap();
        c.l.ok(&["task", "import", file.to_str().unwrap()]);
        for w in ["w1", "w2", "w3"] {
            let mine = c.json(w, &["task", "list"]);
            for t in mine.as_array().unwrap().iter().take(tasks / 9) {
                c.json(w, &["task", "done", &t["number"].to_string()]);
            }
        }
        c.json("admin", &["pay-daily"]);
        c
    }

    fn cmd(&self, who: &str) -> Command {
        let mut c = self.l.cmd();
        if let Some(t) = self.tokens.get(who) {
            c.env("POPUG_TOKEN", t);
        }
        c
    }

    fn json(&self, who: &str, args: &[&str]) -> Value {
        let out = self.cmd(who).arg("--json").args(args).output().unwrap();
        common::ok_json(out, &format!("{who} {args:?}"))
    }

    /// Starts a thread that runs writers of every kind until `stop`; counts what succeeded
    /// and returns the titles of the tasks it created.
    fn writers(
        self: &Arc<Self>,
        tag: &str,
        stop: Arc<AtomicBool>,
        done: Arc<AtomicUsize>,
    ) -> std::thread::JoinHandle<Vec<String>> {
        let c = self.clone();
        let tag = tag.to_owned();
        std::thread::spawn(move || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(7);
            let mut created = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let roll = rng.random_range(0..100);
                let ok = if roll < 50 {
                    let title = format!("Racing {tag} {i}");
                    let out = c
                        .cmd("admin")
                        .args(["--json", "task", "create", &title])
                        .output()
                        .unwrap();
                    if out.status.success() {
                        created.push(title);
                    }
                    out.status.success()
                } else if roll < 85 {
                    let w = ["w1", "w2", "w3"][i % 3];
                    let mine = c.json(w, &["task", "list"]);
                    match mine.as_array().unwrap().first() {
                        Some(t) => c
                            .cmd(w)
                            .args(["task", "done", &t["number"].to_string()])
                            .output()
                            .unwrap()
                            .status
                            .success(),
                        None => true,
                    }
                } else if roll < 92 {
                    c.cmd("admin").arg("shuffle").output().unwrap().status.success()
                } else {
                    c.cmd("admin").arg("pay-daily").output().unwrap().status.success()
                };
                assert!(ok, "a writer failed during maintenance");
                done.fetch_add(1, Ordering::SeqCst);
            }
            created
        })
    }

    fn verify(&self) -> (Option<i32>, Value, String) {
        let out = self.cmd("").args(["--json", "verify"]).output().unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code(),
            doc,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// Stops the writer and reader threads when the test ends, also when an assertion fails
/// first (they would go on starting popug processes).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The files a rebuild builds (`views/<store>.db.rebuild`, or `popug.db.rebuild` before the
/// stores), anywhere in the ledger directory.
fn leftovers(c: &Company) -> Vec<String> {
    common::all_files(&c.l.dir)
        .into_iter()
        .map(|p| p.strip_prefix(&c.l.dir).unwrap().to_string_lossy().into_owned())
        .filter(|n| n.contains(".rebuild"))
        .collect()
}

#[test]
fn verify_looping_beside_every_kind_of_writer_never_reports_a_healthy_ledger_damaged() {
    let c = Arc::new(Company::new(3000));
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_failure = StopOnDrop(stop.clone());
    let done = Arc::new(AtomicUsize::new(0));
    let writers = c.writers("v", stop.clone(), done.clone());
    let n = rounds(12);
    let mut overlapped = 0;
    for _ in 0..n {
        let before = done.load(Ordering::SeqCst);
        let (code, doc, err) = c.verify();
        assert_eq!(code, Some(0), "verify on a healthy ledger under load: {err}");
        assert_eq!(doc["projection_lag"], 0, "{doc}");
        assert_eq!(
            doc["reaction_lag"], 0,
            "a false note of an interrupted command: {doc}"
        );
        overlapped += usize::from(done.load(Ordering::SeqCst) > before);
    }
    stop.store(true, Ordering::SeqCst);
    writers.join().unwrap();
    assert!(
        overlapped >= n / 2,
        "only {overlapped} of {n} verifies overlapped a write"
    );
    // a real corruption planted in the middle is still found
    let path = c.l.dir.join("events.jsonl");
    let text = fs::read_to_string(&path).unwrap();
    let at = text.find("\"title\":\"Task 1500\"").unwrap() + 10;
    let mut bytes = text.into_bytes();
    bytes[at] = b'X';
    fs::write(&path, bytes).unwrap();
    let (code, _, err) = c.verify();
    assert_eq!(code, Some(6), "{err}");
    eprintln!(
        "{n} verifies, {overlapped} overlapping writes, none called the ledger damaged; a planted edit found"
    );
}

#[test]
fn rebuild_beside_readers_and_writers_keeps_a_database_loses_nothing_and_notes_no_lag() {
    let c = Arc::new(Company::new(2000));
    let n = rounds(4);
    let mut all_created = Vec::new();
    for round in 0..n {
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_failure = StopOnDrop(stop.clone());
        let _stop_on_failure = StopOnDrop(stop.clone());
        let done = Arc::new(AtomicUsize::new(0));
        let writers = c.writers(&format!("r{round}"), stop.clone(), done.clone());
        // readers in a loop: every one finds a database and answers
        let reader = {
            let c = c.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut reads = 0;
                while !stop.load(Ordering::SeqCst) {
                    let out = c
                        .cmd("admin")
                        .args(["--json", "balance", "--all"])
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "a reader failed during a rebuild: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    reads += 1;
                }
                reads
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        let out = c.cmd("admin").args(["--json", "rebuild"]).output().unwrap();
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, Ordering::SeqCst);
        all_created.extend(writers.join().unwrap());
        let reads = reader.join().unwrap();
        assert!(reads > 0);
        let (code, doc, err) = c.verify();
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(
            (doc["projection_lag"].as_u64(), doc["reaction_lag"].as_u64()),
            (Some(0), Some(0)),
            "{doc}"
        );
        assert!(leftovers(&c).is_empty(), "{:?}", leftovers(&c));
    }
    // a write that starts during a rebuild (it opens the database, then waits for the
    // lock) lands in the new projections: verify right after it, with nothing else running
    // to heal a loss, sees no lag
    let t = Instant::now();
    c.json("admin", &["rebuild"]);
    let took = t.elapsed();
    for round in 0..n {
        let rebuild = c
            .cmd("admin")
            .arg("rebuild")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took / 4);
        let title = format!("During rebuild {round}");
        c.json("admin", &["task", "create", &title]);
        assert!(rebuild.wait_with_output().unwrap().status.success());
        let (code, doc, err) = c.verify();
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(
            (doc["projection_lag"].as_u64(), doc["reaction_lag"].as_u64()),
            (Some(0), Some(0)),
            "round {round}: a write during the rebuild was dropped from the projections: {doc}"
        );
        all_created.push(title);
    }
    // every task a writer was told was created is there, once
    let titles = common::titles(&c.json("admin", &["task", "list", "--all"]));
    for t in &all_created {
        assert_eq!(titles.iter().filter(|x| *x == t).count(), 1, "{t}");
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: sends a signal to a child this test started and has not reaped
    unsafe { libc::kill(child.id() as libc::pid_t, sig) };
}

#[test]
fn an_interrupted_rebuild_leaves_nothing_behind_and_loses_nothing() {
    let c = Company::new(3000);
    let n = rounds(9);
    let mut rng = rand::rngs::StdRng::seed_from_u64(19);
    // how long a rebuild takes here, to interrupt it at random moments within
    let t = Instant::now();
    c.json("admin", &["rebuild"]);
    let took = t.elapsed().as_millis().max(20) as u64;
    for round in 0..n {
        let sig = [libc::SIGINT, libc::SIGTERM, libc::SIGKILL][round % 3];
        let child = c
            .cmd("admin")
            .arg("rebuild")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..took)));
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        if sig != libc::SIGKILL {
            // caught (the rebuild stops and cleans up) or too late (it had finished)
            assert!(
                leftovers(&c).is_empty(),
                "round {round}, signal {sig}: {:?}",
                leftovers(&c)
            );
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.is_empty() || err.contains("interrupted"), "{err}");
            }
        }
        // the next run (a command that writes) removes what a killed one left, and nothing
        // is lost
        c.json("admin", &["task", "create", &format!("After {round}")]);
        assert!(
            leftovers(&c).is_empty(),
            "after the next run: {:?}",
            leftovers(&c)
        );
        let (code, doc, err) = c.verify();
        assert_eq!(code, Some(0), "round {round}: {err}");
        assert_eq!(doc["projection_lag"], 0);
    }
    let tasks = c.json("admin", &["task", "list", "--all"]);
    assert_eq!(tasks.as_array().unwrap().len(), 3000 + n);
}
