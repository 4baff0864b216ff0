//! Storage faults on a real filesystem: a full disk and a read-only ledger give a clear error,
//! write nothing half-way, and leave a ledger that verifies and works again once the fault is
//! gone. Needs root (to mount a small tmpfs); skipped loudly otherwise, and a failure when
//! POPUG_REQUIRE_MOUNT is set (as in .ci/run).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::Ledger;

struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let path = std::env::temp_dir().join(format!("popug-tmpfs-{}-{size}", std::process::id()));
        fs::create_dir_all(&path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status();
        if ok.is_ok_and(|s| s.success()) {
            return Some(Tmpfs { path });
        }
        let msg = "SKIPPED: storage fault tests need root to mount a tmpfs";
        assert!(std::env::var_os("POPUG_REQUIRE_MOUNT").is_none(), "{msg}");
        eprintln!("{msg}");
        None
    }

    fn remount(&self, opts: &str) {
        let s = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(s.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
        let _ = fs::remove_dir(&self.path);
    }
}

/// A ledger whose directory lives on `fs`, with one worker so tasks can be created.
fn ledger_on(fs_root: &Path) -> Ledger {
    let mut l = Ledger::new();
    l.dir = fs_root.join("ledger");
    let out = l.cmd().args(["--json", "init"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    l.admin_password = doc["admin"]["password"].as_str().unwrap().into();
    l.admin_token = common::login_token(l.cmd(), "admin", &l.admin_password);
    l.ok(&["user", "add", "w1", "--role", "worker", "--notify", "file"]);
    l
}

fn log_of(l: &Ledger) -> Vec<u8> {
    fs::read(l.dir.join("events.jsonl")).unwrap()
}

/// Runs `cmd` (popug with its credential and its arguments) with `--json` and the log's
/// sync failing (fail point `POPUG_LEDGER_FAIL_AT=sync`): it must exit 1 with `io_error`,
/// never `recorded_not_applied` (what was cut back did not happen). Returns the error
/// document.
fn fails_to_sync(mut cmd: Command) -> serde_json::Value {
    let out = cmd
        .env("POPUG_LEDGER_FAIL_AT", "sync")
        .arg("--json")
        .output()
        .unwrap();
    let shown = format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect(&shown);
    assert_eq!(
        err["error"]["code"], "io_error",
        "events cut back are not said to be recorded: {err}"
    );
    err
}

#[test]
fn a_full_disk_fails_cleanly_and_the_ledger_recovers() {
    let Some(tmpfs) = Tmpfs::mount("2m") else { return };
    let l = ledger_on(&tmpfs.path);
    // fill the filesystem, leaving almost nothing
    let filler = tmpfs.path.join("filler");
    let mut f = fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);
    let mut failures = 0;
    let mut recorded = Vec::new();
    for i in 0..200 {
        let before = log_of(&l);
        let out = l
            .admin()
            .args([
                "--json",
                "task",
                "create",
                &format!("task {i} {}", "x".repeat(150)),
            ])
            .output()
            .unwrap();
        if out.status.success() {
            continue;
        }
        failures += 1;
        assert_eq!(out.status.code(), Some(1));
        // the error is the last line (a deferred notification may be warned of before it)
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let last = stderr.lines().last().unwrap_or_default();
        let err: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stderr}"));
        let msg = err.to_string();
        let after = log_of(&l);
        if err["error"]["code"] == "recorded_not_applied" {
            // the log took the command but a store could not: it says the command happened
            assert!(after.len() > before.len(), "recorded, so the log grew");
            recorded.push(format!("task {i} {}", "x".repeat(150)));
            continue;
        }
        assert!(
            msg.contains("disk_full") || msg.contains("No space left"),
            "{msg}"
        );
        assert_eq!(after, before, "a failed command wrote to the log");
        if failures >= 3 {
            break;
        }
    }
    assert!(failures > 0, "the disk never filled up");
    fs::remove_file(&filler).unwrap();
    // space is back: the next command succeeds and everything verifies
    l.ok(&["task", "create", "after the disk was freed"]);
    assert_eq!(l.json(&["verify"])["ok"], true);
    // what was said to be recorded is there, once
    let tasks = l.json(&["task", "list", "--all"]);
    for title in &recorded {
        let n = tasks
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["title"] == title.as_str())
            .count();
        assert_eq!(n, 1, "`{title}` was recorded once");
    }
}

#[test]
fn a_store_that_cannot_commit_after_the_append_says_the_command_happened() {
    cannot_commit_after_the_append("commit", false);
}

/// The same with the last store's commit failing while the others commit, on one thread
/// each (the path of an import's or a shuffle's session, taken here by one command).
#[test]
fn a_later_store_that_cannot_commit_in_a_parallel_session_says_the_command_happened() {
    cannot_commit_after_the_append("commit.last", true);
}

fn cannot_commit_after_the_append(point: &str, parallel: bool) {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker"]);
    let before = log_of(&l);
    let args = [
        "--json",
        "task",
        "create",
        "Fix the beak",
        "--idempotency-key",
        "k-1",
    ];
    let mut cmd = l.admin();
    if parallel {
        cmd.env("POPUG_LEDGER_PARALLEL_EVENTS", "1");
    }
    let out = cmd
        .env("POPUG_LEDGER_FAIL_AT", point)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "recorded_not_applied", "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("recorded in the log"), "{message}");
    assert!(
        err["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("do not repeat it")
    );
    assert!(
        log_of(&l).len() > before.len(),
        "the command's events are in the log"
    );
    // the next command brings the stores up to date: the task is there, once
    let tasks = l.json(&["task", "list", "--all"]);
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    // and a retry with the key answers as the first time, writing nothing
    let recorded = log_of(&l);
    let again = l.json(&args[1..]);
    assert_eq!(again["task_id"], tasks[0]["task_id"]);
    assert_eq!(log_of(&l), recorded, "the retry wrote nothing");
    // every store, the one that failed to commit too, has caught up
    verified_and_caught_up(&l, point);
}

/// `verify` passes and reports no store or reactor behind the log.
fn verified_and_caught_up(l: &Ledger, what: &str) {
    let v = l.json(&["verify"]);
    assert_eq!(
        (&v["ok"], &v["projection_lag"], &v["reaction_lag"]),
        (
            &serde_json::json!(true),
            &serde_json::json!(0),
            &serde_json::json!(0)
        ),
        "{what}: {v}"
    );
}

#[test]
fn a_read_only_ledger_gives_a_clear_error_and_stays_valid() {
    let Some(tmpfs) = Tmpfs::mount("8m") else { return };
    let l = ledger_on(&tmpfs.path);
    l.ok(&["task", "create", "before"]);
    let before = log_of(&l);
    tmpfs.remount("ro");
    let out = l
        .admin()
        .args(["task", "create", "while read-only"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error:") && (err.contains("read-only") || err.contains("Read-only")),
        "{err}"
    );
    assert_eq!(log_of(&l), before);
    // what only reads still works on a read-only filesystem (the stores' WAL files are there)
    assert_eq!(l.json(&["task", "list", "--all"]).as_array().unwrap().len(), 1);
    assert_eq!(l.json(&["balance", "--all"]).as_array().unwrap().len(), 2);
    tmpfs.remount("rw");
    assert_eq!(l.json(&["verify"])["ok"], true);
    l.ok(&["task", "create", "after"]);
}

#[test]
fn an_import_that_fills_the_disk_keeps_whole_tasks_and_says_how_far_it_got() {
    let Some(tmpfs) = Tmpfs::mount("24m") else { return };
    let l = ledger_on(&tmpfs.path);
    // leave ~8 MB free: room for the first chunk of 2,000 tasks, not for their Maildir
    // messages (4 KB each on tmpfs) and certainly not for 20,000 tasks
    let filler = tmpfs.path.join("filler");
    let mut f = fs::File::create(&filler).unwrap();
    let free = |p: &Path| {
        let out = Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(p)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let chunk = vec![0u8; 1 << 16];
    while free(&tmpfs.path) > 8 << 20 {
        std::io::Write::write_all(&mut f, &chunk).unwrap();
        f.sync_all().unwrap();
    }
    drop(f);
    // ~3 events of ~700 bytes per task, plus the projections: 20,000 tasks need far more
    // than the few MB left, so the disk fills somewhere after the first chunks
    let rows: String = (0..20_000)
        .map(|i| format!("{{\"title\":\"Task {i}\"}}\n"))
        .collect();
    let file = l.home.join("tasks.jsonl");
    fs::write(&file, rows).unwrap();
    let out = l
        .admin()
        .env("POPUG_IMPORT_CHUNK", "2000") // the chunk size this test's free space is made for
        .args(["task", "import", file.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // free the space, then the ledger verifies and every task that made it is whole
    fs::remove_file(&filler).unwrap();
    // the next command finishes the fees and notifications of what was written
    let tasks = l.json(&["task", "list", "--all"]);
    let v = l.json(&["verify"]);
    assert_eq!(v["projection_lag"], 0, "{v}");
    assert_eq!(v["reaction_lag"], 0, "{v}");
    let n = tasks.as_array().unwrap().len();
    assert!(n < 20_000, "the disk was meant to fill: {n} tasks");
    for (i, t) in tasks.as_array().unwrap().iter().enumerate() {
        assert_eq!(t["title"], format!("Task {i}"), "a prefix of the rows, in order");
    }
    assert!(n > 0, "the first chunk was meant to fit: {err}");
    assert!(
        err.contains(&format!("{n} of 20000 tasks were written before this failure")),
        "a failure after some tasks were written says how many: {err}"
    );
    let balance = l.json(&["balance", "--all"]);
    let fees: i64 = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["assign_fee_cents"].as_i64().unwrap())
        .sum();
    let w1 = balance
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["login"] == "w1")
        .unwrap();
    assert_eq!(
        w1["balance_cents"].as_i64().unwrap(),
        -fees,
        "one fee per task that made it"
    );
}

#[test]
fn a_failure_after_the_append_says_the_command_happened_and_only_then() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker", "--notify", "none"]);
    // a reaction round that fails after the command's batch is durable: recorded, and the
    // next command finishes the reactions, once
    let out = l
        .admin()
        .env("POPUG_LEDGER_FAIL_AT", "react")
        .args(["--json", "task", "create", "Reacted later"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "recorded_not_applied", "{err}");
    let log = String::from_utf8(log_of(&l)).unwrap();
    assert!(log.contains("Reacted later"), "the command is in the log");
    l.ok(&["task", "list", "--all"]);
    let fees = String::from_utf8(log_of(&l))
        .unwrap()
        .lines()
        .filter(|line| {
            line.contains("\"type\":\"AccountBalanceUpdated\"") && line.contains("\"reason\":\"assign_fee\"")
        })
        .count();
    assert_eq!(fees, 1, "its fee was charged once, by the next command");
    // a session that only finishes an earlier command's reactions and then fails says
    // nothing was recorded for this one: crash an earlier command after its append ...
    let crashed = l
        .admin()
        .env("POPUG_LEDGER_CRASH_AT", "append.durable")
        .args(["task", "create", "Crashed"])
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    // ... then the next command's own commit fails: recorded_not_applied names its own seq
    let out = l
        .admin()
        .env("POPUG_LEDGER_FAIL_AT", "commit")
        .args(["--json", "task", "create", "Mine"])
        .output()
        .unwrap();
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "recorded_not_applied", "{err}");
    let seq = err["error"]["message"]
        .as_str()
        .unwrap()
        .split("seq ")
        .nth(1)
        .unwrap();
    let seq: u64 = seq.split(')').next().unwrap().parse().unwrap();
    let line = String::from_utf8(log_of(&l))
        .unwrap()
        .lines()
        .nth(seq as usize - 1)
        .unwrap()
        .to_owned();
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        event["data"]["title"], "Mine",
        "the seq it names is this command's own"
    );
    assert_eq!(l.json(&["verify"])["ok"], true);
}

#[test]
fn a_long_reader_does_not_stall_writers() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker", "--notify", "none"]);
    // enough writes that the stores' WALs pass the trim size
    let rows: String = std::iter::once("title\n".to_owned())
        .chain((0..3000).map(|i| format!("a task with a title long enough to fill pages {i}\n")))
        .collect();
    let csv = l.dir.parent().unwrap().join("tasks.csv");
    fs::write(&csv, rows).unwrap();
    // a reader holds a snapshot of the tasks store, as a long `verify` or export would
    let reader = rusqlite::Connection::open(l.dir.join("views/tasks.db")).unwrap();
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM tasks;")
        .unwrap();
    let started = std::time::Instant::now();
    l.ok(&["task", "import", csv.to_str().unwrap()]);
    l.ok(&["task", "create", "one more"]);
    // liveness, not speed: a trim that waited for the reader would take its 30 s busy time
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "writers waited for the reader: {:?}",
        started.elapsed()
    );
    reader.execute_batch("COMMIT").unwrap();
    assert_eq!(l.json(&["verify"])["ok"], true);
}

/// Another connection holding a store's write lock for a while (SQLite itself does, while a
/// process rebuilds a store's WAL index; so does an admin's `sqlite3` shell) makes a writer
/// wait for it, within the stores' busy time, and never fail with "database is locked". A
/// write session's transaction that read a store before writing it used to fail at once: a
/// deferred transaction that must upgrade from reading to writing is not given SQLite's busy
/// handler. Seen as 1 failure in about 600 commands of eight concurrent writers on one host
/// of a JetStream ledger (benches/jetstream.sh).
#[test]
fn a_store_locked_for_a_moment_makes_a_writer_wait_not_fail() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker", "--notify", "none"]);
    l.ok(&["task", "create", "before the lock"]);
    let mut stores: Vec<PathBuf> = fs::read_dir(l.dir.join("views"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    stores.sort();
    assert_eq!(stores.len(), 7, "{stores:?}");
    let held: Vec<rusqlite::Connection> = stores.iter().map(|p| common::hold_store(p)).collect();
    let mut writer = l
        .admin()
        .args(["--json", "task", "create", "while locked"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // long enough for the writer to reach its first write on a loaded machine: the build
    // before failed there at once; this one waits for the lock
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let early = writer.try_wait().unwrap();
    drop(held);
    let out = writer.wait_with_output().unwrap();
    assert!(
        early.is_none(),
        "the writer gave up while the stores were held ({early:?}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the writer failed instead of waiting: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let titles = common::titles(&l.json(&["task", "list", "--all"]));
    assert_eq!(
        titles.iter().filter(|t| *t == "while locked").count(),
        1,
        "{titles:?}"
    );
    assert_eq!(l.json(&["verify"])["ok"], true);
}

/// A store held open for writing by another program for longer than a writer waits: the
/// command gives up with `store_locked` (exit 1), and nothing is written, to the log or to
/// any store. (Debug builds shorten the wait from 30 s with `POPUG_LEDGER_BUSY_MS`.)
#[test]
fn a_store_held_past_the_wait_refuses_a_command_and_writes_nothing() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker", "--notify", "none"]);
    l.ok(&["task", "create", "before the lock"]);
    let before = l.snapshot();
    let held = common::hold_store(&l.dir.join("views").join("accounting.db"));
    let out = l
        .admin()
        .env("POPUG_LEDGER_BUSY_MS", "300")
        .args(["--json", "task", "create", "while locked"])
        .output()
        .unwrap();
    drop(held);
    let shown = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect(&shown);
    assert_eq!(err["error"]["code"], "store_locked", "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {:?}", out.stdout);
    assert_eq!(l.snapshot(), before, "nothing was written");
    verified_and_caught_up(&l, "after the held store");
    assert_eq!(
        common::titles(&l.json(&["task", "list", "--all"])),
        ["before the lock"]
    );
}

/// `rebuild` copies each new store into its live store in one write transaction. Another
/// connection that holds a live store's write lock (an admin's `sqlite3` shell, a backup
/// tool) makes it wait as long as a writer waits, then give up with a clear error, instead
/// of holding the writer lock, and so every command, for as long as that connection stays
/// open. The store keeps its old tables, nothing else changes, and the next rebuild goes
/// through. (Debug builds shorten the wait from 30 s with `POPUG_LEDGER_BUSY_MS`.)
#[test]
fn a_store_held_by_another_connection_stops_a_rebuild_in_bounded_time() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker", "--notify", "none"]);
    for i in 0..3 {
        l.ok(&["task", "create", &format!("t{i}")]);
    }
    let before = l.snapshot();
    let views = l.dir.join("views");
    let files = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".db-wal") && !n.ends_with(".db-shm"))
            .collect();
        names.sort();
        names
    };
    let stores = files(&views);
    let held = common::hold_store(&views.join("tasks.db"));
    let mut rebuild = l
        .admin()
        .env("POPUG_LEDGER_BUSY_MS", "1000")
        .args(["--json", "rebuild"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // the build before waited for as long as the store was held
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let gave_up = loop {
        if rebuild.try_wait().unwrap().is_some() {
            break true;
        }
        if std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    drop(held);
    let out = rebuild.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        gave_up,
        "the rebuild still waited after 20 s with the store held: {shown}"
    );
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect(&shown);
    assert_eq!(err["error"]["code"], "store_locked", "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("tasks.db")
            && err["error"]["causes"][0].as_str().unwrap().contains("write lock"),
        "the error names the store and why: {err}"
    );
    assert_eq!(
        l.snapshot(),
        before,
        "the log and every file beside it are unchanged"
    );
    assert_eq!(files(&views), stores, "no rebuild file is left behind");
    assert!(stores.iter().all(|n| !n.contains(".rebuild")), "{stores:?}");
    assert_eq!(l.json(&["verify"])["ok"], true);
    l.ok(&["rebuild"]);
    assert_eq!(
        common::titles(&l.json(&["task", "list", "--all"])),
        ["t0", "t1", "t2"]
    );
    assert_eq!(l.json(&["verify"])["ok"], true);
}

/// A write session appends its command and its reaction rounds and syncs the log once. When
/// that sync fails, nothing after the last durable byte is kept: the log is cut back, the
/// command is not said to be recorded, and nothing it caused is visible outside the log (the
/// log is synced before a message is written into a Maildir, and before a payout row).
#[test]
fn a_failed_sync_keeps_nothing_and_shows_nothing() {
    let l = Ledger::init();
    // the only worker, who reads mail: every task is theirs, and a message in their Maildir
    let added = l.json(&["user", "add", "w1", "--role", "worker", "--notify", "file"]);
    let w1 = common::login_token(l.cmd(), "w1", added["password"].as_str().unwrap());
    let maildir = l.dir.join("notifications/w1/new");
    let mails = || fs::read_dir(&maildir).map(|d| d.count()).unwrap_or(0);
    let payout_rows = || -> usize {
        fs::read_dir(l.dir.join("payouts"))
            .map(|d| {
                d.map(|f| {
                    fs::read_to_string(f.unwrap().path())
                        .unwrap()
                        .lines()
                        .count()
                        .saturating_sub(1)
                })
                .sum()
            })
            .unwrap_or(0)
    };
    let fails_keeping_nothing = |token: &str, args: &[&str]| {
        let before = log_of(&l);
        let (mails_before, rows_before) = (mails(), payout_rows());
        let mut cmd = l.cmd();
        cmd.env("POPUG_TOKEN", token).args(args);
        let err = fails_to_sync(cmd);
        assert!(
            err.to_string()
                .contains("injected failure (POPUG_LEDGER_FAIL_AT=sync)"),
            "{err}"
        );
        assert!(
            err["error"]["message"].as_str().unwrap().contains("sync"),
            "{err}"
        );
        assert!(
            err["error"]["hint"]
                .as_str()
                .unwrap()
                .contains("nothing was recorded"),
            "{err}"
        );
        assert_eq!(
            log_of(&l),
            before,
            "{args:?}: the log is cut back to where it was"
        );
        assert_eq!(
            mails(),
            mails_before,
            "{args:?}: no message about what did not happen"
        );
        assert_eq!(
            payout_rows(),
            rows_before,
            "{args:?}: no payout that was not recorded"
        );
    };

    // a task: its message would be the first side effect, so the sync comes before it
    fails_keeping_nothing(&l.admin_token, &["task", "create", "Never kept"]);
    assert_eq!(l.json(&["task", "list", "--all"]).as_array().unwrap().len(), 0);
    let welcomed = mails();
    l.ok(&["task", "create", "Kept"]);
    assert_eq!(
        mails(),
        welcomed + 1,
        "the same command without the fault: its message"
    );

    // rewards, then a payout: the payout row waits for the sync, which fails. A task nets
    // nothing when its fee and reward are both drawn at 20 (1 in 231): w1 works until ahead
    let mut number = 1;
    loop {
        let done = l
            .cmd()
            .env("POPUG_TOKEN", &w1)
            .args(["--json", "task", "done", &number.to_string()])
            .output()
            .unwrap();
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        if l.json(&["balance", "w1"])["balance_cents"].as_i64().unwrap() > 0 {
            break;
        }
        assert!(number < 10, "w1 never came out ahead");
        number += 1;
        l.ok(&["task", "create", "Kept"]);
    }
    fails_keeping_nothing(&l.admin_token, &["pay-daily"]);
    let paid = l.json(&["pay-daily"]);
    assert_eq!(paid["payments"].as_array().unwrap().len(), 1, "{paid}");
    assert_eq!(payout_rows(), 1, "paid once, when the sync went through");

    // a command whose only reactions make no side effect: the session's one sync, at its
    // end, fails
    l.ok(&["user", "set-role", "w1", "manager"]);
    l.ok(&["user", "add", "w2", "--role", "worker", "--notify", "none"]);
    fails_keeping_nothing(&l.admin_token, &["task", "create", "Never kept either"]);
    assert_eq!(l.json(&["verify"])["ok"], true);
    let titles = common::titles(&l.json(&["task", "list", "--all"]));
    assert_eq!(titles, vec!["Kept"; number], "only what was kept, once each");
}

/// A writer killed between its writes and its sync leaves its events in the page cache
/// only. The next writer makes them durable before any store takes them or any reaction
/// follows them: when it cannot, it commits nothing and says why, and a later writer that
/// can takes them, once.
#[test]
fn what_a_killed_writer_left_unsynced_is_synced_before_anything_takes_it() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker", "--notify", "none"]);
    let crashed = l
        .admin()
        .env("POPUG_LEDGER_CRASH_AT", "append.durable")
        .args(["task", "create", "Written, not synced"])
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    let views = l.dir.join("views");
    let stores = || -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<_> = fs::read_dir(&views)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "db" || x == "db-wal"))
            .map(|p| (p.display().to_string(), fs::read(&p).unwrap()))
            .collect();
        all.sort();
        all
    };
    let log_before = log_of(&l);
    let stores_before = stores();
    let out = l
        .admin()
        .env("POPUG_LEDGER_FAIL_AT", "sync")
        .args(["--json", "task", "list", "--all"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot sync"));
    assert!(
        stores() == stores_before,
        "no store took an event that is not durable (a store file changed)"
    );
    assert_eq!(log_of(&l), log_before, "the log is as the killed writer left it");
    // once the log can be synced, the next command takes the task, once, with its fee
    let tasks = l.json(&["task", "list", "--all"]);
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(l.json(&["verify"])["ok"], true);
}

/// An import whose sync fails keeps none of the chunk it could not sync, and does not say
/// it wrote them: the events cut back from the log are gone from its count too.
#[test]
fn an_import_whose_sync_fails_does_not_count_what_was_cut_back() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker", "--notify", "none"]);
    let file = l.dir.parent().unwrap().join("five.jsonl");
    let rows: String = (1..=5).map(|i| format!("{{\"title\": \"Row {i}\"}}\n")).collect();
    fs::write(&file, rows).unwrap();
    let before = log_of(&l);
    let mut cmd = l.admin();
    cmd.args(["task", "import"]).arg(&file);
    let err = fails_to_sync(cmd);
    assert!(
        !err.to_string().contains("were written"),
        "nothing was written: {err}"
    );
    assert_eq!(log_of(&l), before, "the log is cut back to where it was");
    assert!(common::titles(&l.json(&["task", "list", "--all"])).is_empty());
}
