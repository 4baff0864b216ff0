//! A ledger on a real three-node NATS JetStream cluster on loopback, driven through the real
//! binary from three "hosts" (each its own HOME and POPUG_CACHE): a company moves there with
//! `ledger copy`, works from every host at once while popug processes and a NATS node are
//! killed, and comes back to a file that `popug verify` passes.

mod common;
#[path = "../ledger/tests/support/nats.rs"]
mod nats;
#[path = "../ledger/tests/support/ports.rs"]
mod ports;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Ledger, ok_json, popug};
use nats::Cluster;

/// One machine of the company: its own home (saved sessions) and cache (replica, stores).
struct Host {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    cache: PathBuf,
    ledger: String,
}

impl Host {
    fn new(ledger: &str) -> Host {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Host {
            cache: tmp.path().join("cache"),
            home,
            _tmp: tmp,
            ledger: ledger.to_owned(),
        }
    }

    fn cmd(&self, token: &str) -> Command {
        let mut c = popug();
        c.env("POPUG_LEDGER", &self.ledger)
            .env("HOME", &self.home)
            .env("POPUG_CACHE", &self.cache)
            .env("POPUG_TOKEN", token);
        c
    }

    fn json(&self, token: &str, args: &[&str]) -> serde_json::Value {
        let out = self.cmd(token).arg("--json").args(args).output().unwrap();
        ok_json(out, &format!("{args:?}"))
    }
}

/// A popug process started by a test (a worker, a follower), killed when dropped: a test
/// that fails leaves none running (a worker waits out a cluster that is gone, for ever).
struct Running(Option<std::process::Child>);

impl Running {
    /// Starts `c` with its stdout and stderr captured.
    fn start(mut c: Command) -> Running {
        Running(Some(
            c.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("popug starts"),
        ))
    }

    fn child(&mut self) -> &mut std::process::Child {
        self.0.as_mut().expect("running")
    }

    /// Its exit and output, once it ends by itself.
    fn wait(mut self) -> Output {
        self.0.take().expect("running").wait_with_output().unwrap()
    }

    /// SIGTERM, then its exit and output.
    fn terminate(mut self) -> Output {
        // SAFETY: kill(2) on our own child's pid
        unsafe { libc::kill(self.child().id() as i32, libc::SIGTERM) };
        self.wait()
    }

    /// SIGKILL (a crash), then its output.
    fn kill(mut self) -> Output {
        let _ = self.child().kill();
        self.wait()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `popug verify` on `h` with `token` must pass.
fn verify_ok(h: &Host, token: &str) {
    let verify = run(h.cmd(token), &["verify"]);
    assert!(
        verify.status.success(),
        "verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// Two hosts of a new JetStream ledger on `cluster`: the app host, where the ledger is made
/// and the worker w1 (notified by `file`) added, and the mail host, where the Maildirs are;
/// with the admin's session token.
fn app_and_mail_hosts(cluster: &Cluster) -> (Host, Host, String) {
    let url = cluster.url("acme");
    let (app, mail) = (Host::new(&url), Host::new(&url));
    let admin = init_on(&app);
    app.json(
        &admin,
        &["user", "add", "w1", "--role", "worker", "--notify", "file"],
    );
    (app, mail, admin)
}

/// `popug init` on a new JetStream ledger from `h`; the admin's session token.
fn init_on(h: &Host) -> String {
    let init = ok_json(run(h.cmd(""), &["--json", "init"]), "init");
    common::login_token(h.cmd(""), "admin", init["admin"]["password"].as_str().unwrap())
}

fn run(mut c: Command, args: &[&str]) -> Output {
    c.args(args).output().unwrap()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// A file ledger with users and some history, as a company has before it moves.
fn company() -> (Ledger, BTreeMap<&'static str, String>) {
    let l = Ledger::init();
    let mut tokens = BTreeMap::new();
    for (login, role) in [
        ("w1", "worker"),
        ("w2", "worker"),
        ("w3", "worker"),
        ("acc", "accountant"),
        ("mgr", "manager"),
    ] {
        let user = l.json(&["user", "add", login, "--role", role]);
        let password = user["password"].as_str().unwrap();
        tokens.insert(login, common::login_token(l.cmd(), login, password));
    }
    tokens.insert("admin", l.admin_token.clone());
    for i in 0..5 {
        l.json(&["task", "create", &format!("before the move {i}")]);
    }
    (l, tokens)
}

#[test]
fn a_company_moves_to_a_three_node_cluster_works_from_three_hosts_and_comes_back() {
    let Some(mut cluster) = Cluster::start(3, "a_company_moves_to_a_three_node_cluster") else {
        return;
    };
    let (file, tokens) = company();
    let url = cluster.url("acme");

    // the move: every hash checked, three copies of the stream
    let moved = ok_json(
        run(
            popug(),
            &[
                "--json",
                "ledger",
                "copy",
                file.dir.to_str().unwrap(),
                &url,
                "--replicas",
                "3",
            ],
        ),
        "ledger copy to the cluster",
    );
    let events_before = moved["events"].as_u64().unwrap();
    assert!(events_before > 20);
    // the destination exists now: a second copy is refused and changes nothing
    let again = run(
        popug(),
        &["--json", "ledger", "copy", file.dir.to_str().unwrap(), &url],
    );
    assert_eq!(
        code(&again),
        Some(5),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let hosts: Vec<Host> = (0..3).map(|_| Host::new(&url)).collect();
    // every host sees the company as it was
    for h in &hosts {
        let tasks = h.json(&tokens["admin"], &["task", "list", "--all"]);
        assert_eq!(tasks.as_array().unwrap().len(), 5);
    }

    // the day's work from three hosts at once; commands that are killed mid-way are not
    // acknowledged, and may be in the log once or not at all
    let started = Instant::now();
    let acknowledged = std::sync::Mutex::new(Vec::<String>::new());
    let paid = std::sync::Mutex::new(Vec::<serde_json::Value>::new());
    let mut killed_titles = Vec::new();
    let tokens = &tokens;
    std::thread::scope(|s| {
        for (hi, h) in hosts.iter().enumerate() {
            for t in 0..2 {
                let acknowledged = &acknowledged;
                s.spawn(move || {
                    for k in 0..6 {
                        let title = format!("host {hi} thread {t} task {k}");
                        let out = run(h.cmd(&tokens["admin"]), &["--json", "task", "create", &title]);
                        assert!(
                            out.status.success(),
                            "{title}: exit {:?}: {}",
                            out.status.code(),
                            String::from_utf8_lossy(&out.stderr)
                        );
                        acknowledged.lock().unwrap().push(title);
                    }
                });
            }
        }
        // workers finish their tasks from host 2
        let h = &hosts[2];
        s.spawn(move || {
            for w in ["w1", "w2", "w3"] {
                let mine = h.json(&tokens[w], &["task", "list"]);
                for task in mine.as_array().unwrap().iter().take(2) {
                    let n = task["number"].to_string();
                    let out = run(h.cmd(&tokens[w]), &["--json", "task", "done", &n]);
                    // a shuffle may have moved it to someone else meanwhile: refused, not lost
                    assert!(
                        matches!(code(&out), Some(0 | 3)),
                        "done {n}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        });
        // a manager shuffles from host 1
        s.spawn(|| {
            let out = run(hosts[1].cmd(&tokens["mgr"]), &["--json", "shuffle"]);
            assert!(
                out.status.success(),
                "shuffle: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        });
        // two pay-daily runs race from two hosts
        for hi in [0, 1] {
            let (h, paid) = (&hosts[hi], &paid);
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                let run = h.json(&tokens["acc"], &["pay-daily"]);
                paid.lock().unwrap().push(run);
            });
        }
        // popug processes killed mid-command (SIGKILL), some of them mid-append
        for (i, delay) in [5u64, 15, 30, 60, 120].into_iter().enumerate() {
            let title = format!("killed {i}");
            let mut child = hosts[i % 3]
                .cmd(&tokens["admin"])
                .args(["task", "create", &title])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(delay));
            let _ = child.kill();
            let _ = child.wait();
            killed_titles.push(title);
        }
        // one NATS node dies mid-run (the stream keeps its quorum of two) and comes back
        cluster.kill(2);
        std::thread::sleep(Duration::from_millis(500));
        cluster.restart(2);
    });
    eprintln!("the day's work took {:?}", started.elapsed());

    // the side effects, made by one worker on host 0 (commands leave them to workers)
    let done = hosts[0].json(&tokens["admin"], &["worker", "all", "--once"]);
    assert!(done["appended"].as_u64().unwrap() > 0, "{done}");

    // every host agrees on the balances
    let balances: Vec<serde_json::Value> = hosts
        .iter()
        .map(|h| h.json(&tokens["admin"], &["balance", "--all"]))
        .collect();
    assert_eq!(balances[0], balances[1]);
    assert_eq!(balances[1], balances[2]);

    // racing runs paid once: one run paid, the other found nothing owed
    let paid = paid.into_inner().unwrap();
    let payments: usize = paid.iter().map(|r| r["payments"].as_array().unwrap().len()).sum();
    let paying_runs = paid
        .iter()
        .filter(|r| !r["payments"].as_array().unwrap().is_empty())
        .count();
    assert!(paying_runs <= 1, "{paid:?}");

    // the company comes back to a file, and verify passes on it
    let home = tempfile::tempdir().unwrap();
    let back = home.path().join("back");
    ok_json(
        run(
            popug(),
            &["--json", "ledger", "copy", &url, back.to_str().unwrap()],
        ),
        "ledger copy from the cluster",
    );
    let verify = run(
        {
            let mut c = popug();
            c.env("POPUG_LEDGER", &back).env("HOME", home.path());
            c
        },
        &["verify"],
    );
    assert!(
        verify.status.success(),
        "verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let log = std::fs::read_to_string(back.join("events.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"].as_u64(), Some(i as u64 + 1), "seq is contiguous");
    }
    // the history before the move is the same bytes
    let before = std::fs::read(file.dir.join("events.jsonl")).unwrap();
    assert!(
        log.as_bytes().starts_with(&before[..]),
        "the history before the move is kept byte for byte"
    );

    // every acknowledged command is there exactly once; a killed one at most once
    let mut created: HashMap<String, usize> = HashMap::new();
    let mut sent_payments = 0;
    let mut confirmed = 0;
    for e in &events {
        match e["type"].as_str().unwrap() {
            "TaskCreated" => {
                *created
                    .entry(e["data"]["title"].as_str().unwrap().to_owned())
                    .or_default() += 1
            }
            "SentPaymentCommand" => sent_payments += 1,
            "PaymentSendingConfirmed" => confirmed += 1,
            _ => {}
        }
    }
    for title in acknowledged.into_inner().unwrap() {
        assert_eq!(created.get(&title), Some(&1), "{title}");
    }
    for title in &killed_titles {
        assert!(created.get(title).copied().unwrap_or(0) <= 1, "{title}");
    }
    assert_eq!(
        sent_payments, payments,
        "each payment sent once, by the run that answered it"
    );
    assert_eq!(
        confirmed, sent_payments,
        "each payment confirmed once, by the worker"
    );
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "NotificationSent" && e["seq"].as_u64().unwrap() > events_before),
        "the worker delivered the notifications of the day's work"
    );
    // no notification doubled: each notification id appears once
    let mut notes: HashMap<String, usize> = HashMap::new();
    for e in events.iter().filter(|e| e["type"] == "NotificationSent") {
        *notes.entry(e["data"]["notification_id"].to_string()).or_default() += 1;
    }
    assert!(notes.values().all(|&n| n == 1), "a notification was sent twice");
    assert!(events.len() as u64 > events_before);
}

#[test]
fn a_cluster_without_quorum_is_an_exit_code_in_seconds_and_never_doubles() {
    let Some(mut cluster) = Cluster::start(3, "a_cluster_without_quorum") else {
        return;
    };
    let url = cluster.url("noquorum");
    let h = Host::new(&url);
    let init = ok_json(run(h.cmd(""), &["--json", "init", "--replicas", "3"]), "init");
    let admin = common::login_token(h.cmd(""), "admin", init["admin"]["password"].as_str().unwrap());
    h.json(&admin, &["user", "add", "w1", "--role", "worker"]);
    // two of three nodes gone: the stream has no quorum
    cluster.kill(1);
    cluster.kill(2);
    let started = Instant::now();
    let out = run(h.cmd(&admin), &["--json", "task", "create", "no quorum"]);
    let took = started.elapsed();
    assert_eq!(code(&out), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "ledger_unavailable", "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    // quorum back: the refused command is not in the log, and the next one works
    cluster.restart(1);
    cluster.restart(2);
    let deadline = Instant::now() + Duration::from_secs(30);
    let tasks = loop {
        let out = run(h.cmd(&admin), &["--json", "task", "list", "--all"]);
        if out.status.success() {
            break serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the cluster did not come back: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    // an append whose acknowledgement never came may still be committed when the quorum
    // returns (the message says so): it is there once at most, never twice
    let refused = tasks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"] == "no quorum")
        .count();
    assert!(refused <= 1, "{tasks}");
    h.json(&admin, &["task", "create", "with quorum"]);
    verify_ok(&h, &admin);
}

#[test]
fn refusals_on_a_jetstream_ledger_write_nothing() {
    let Some(cluster) = Cluster::start(1, "refusals_on_a_jetstream_ledger") else {
        return;
    };
    let url = cluster.url("acme");
    let h = Host::new(&url);
    // no such ledger yet: exit 4, and nothing is created by asking
    let out = run(h.cmd("x"), &["--json", "task", "list"]);
    assert_eq!(code(&out), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    let init = ok_json(run(h.cmd(""), &["--json", "init"]), "init");
    assert_eq!(init["ledger"], url.as_str());
    let admin = common::login_token(h.cmd(""), "admin", init["admin"]["password"].as_str().unwrap());
    let events = |h: &Host| run(h.cmd(&admin), &["events"]).stdout;
    let before = events(&h);
    // init again, from another host: exit 5, nothing written
    let other = Host::new(&url);
    let out = run(other.cmd(""), &["--json", "init"]);
    assert_eq!(code(&out), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(events(&h), before);
    // a malformed address, --replicas on a directory: exit 2
    for (ledger, args) in [
        ("nats://127.0.0.1:4222", vec!["init"]),
        ("nats://127.0.0.1:4222/a.b", vec!["init"]),
        ("tls://127.0.0.1:4222/acme", vec!["init"]),
        ("nats://admin:s3cret@127.0.0.1:4222/acme", vec!["init"]),
        ("/tmp/never-made-by-popug-tests", vec!["init", "--replicas", "3"]),
    ] {
        let out = popug()
            .env("POPUG_LEDGER", ledger)
            .env("HOME", &h.home)
            .args(["--json"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            code(&out),
            Some(2),
            "{ledger} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!std::path::Path::new("/tmp/never-made-by-popug-tests").exists());
    // a copy onto an existing ledger, either way: exit 5, the destination unchanged
    let file = Ledger::init();
    let file_before = file.snapshot();
    let out = run(popug(), &["ledger", "copy", &url, file.dir.to_str().unwrap()]);
    assert_eq!(code(&out), Some(5));
    assert_eq!(file.snapshot(), file_before);
    let out = run(popug(), &["ledger", "copy", file.dir.to_str().unwrap(), &url]);
    assert_eq!(code(&out), Some(5));
    assert_eq!(events(&h), before);
    // a refused command (a worker may not shuffle) writes nothing to the cluster
    let w = h.json(&admin, &["user", "add", "w1", "--role", "worker"]);
    let wtoken = common::login_token(h.cmd(""), "w1", w["password"].as_str().unwrap());
    let before = events(&h);
    let out = run(h.cmd(&wtoken), &["--json", "shuffle"]);
    assert_eq!(code(&out), Some(3));
    assert_eq!(events(&h), before);
    // this host's cache of the ledger is private
    let dirs: Vec<_> = std::fs::read_dir(&h.cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    common::assert_private(&dirs[0]);
    // the stream deleted and made again by another host: this host refuses the other
    // history (exit 6, naming its copy), and writes nothing to it
    let mut log = popug_ledger::jetstream::JetStreamLog::connect(
        &popug_ledger::jetstream::Address::parse(&url).unwrap(),
    )
    .unwrap();
    log.delete().unwrap();
    let other = Host::new(&url);
    let other_admin = init_on(&other);
    let theirs = run(other.cmd(&other_admin), &["events"]).stdout;
    assert!(!theirs.is_empty());
    let out = run(
        h.cmd(&admin),
        &["--json", "task", "create", "onto another history"],
    );
    assert_eq!(code(&out), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "ledger_damaged");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not continue this host's copy"),
        "{err}"
    );
    assert_eq!(run(other.cmd(&other_admin), &["events"]).stdout, theirs);
}

#[test]
fn a_host_that_loses_its_cache_fetches_it_again() {
    let Some(cluster) = Cluster::start(1, "a_host_that_loses_its_cache") else {
        return;
    };
    let url = cluster.url("acme");
    let h = Host::new(&url);
    let admin = init_on(&h);
    h.json(&admin, &["user", "add", "w1", "--role", "worker"]);
    h.json(&admin, &["task", "create", "one"]);
    let balances = h.json(&admin, &["balance", "--all"]);
    std::fs::remove_dir_all(&h.cache).unwrap();
    assert_eq!(h.json(&admin, &["balance", "--all"]), balances);
    verify_ok(&h, &admin);
}

/// The files in every user's Maildir `new/` under a host's cache of the ledger.
fn maildir_messages(cache: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(ledgers) = std::fs::read_dir(cache) else {
        return out;
    };
    for l in ledgers {
        let root = l.unwrap().path().join("notifications");
        let Ok(users) = std::fs::read_dir(&root) else {
            continue;
        };
        for u in users {
            let new = u.unwrap().path().join("new");
            for m in std::fs::read_dir(&new).into_iter().flatten() {
                out.push(m.unwrap().file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn notifications_handed_to_a_worker_on_the_mail_host_are_delivered_once_through_kills() {
    let Some(cluster) = Cluster::start(1, "notifications_handed_to_a_worker") else {
        return;
    };
    let url = cluster.url("acme");
    let (app, mail) = (Host::new(&url), Host::new(&url));
    let admin = init_on(&app);
    // an API token of an admin, as a service runs with
    let token = app.json(&admin, &["token", "create", "--name", "mail-worker"]);
    let worker_token = token["token"].as_str().unwrap().to_owned();
    let handed = app.json(&admin, &["hand-over", "notifications"]);
    assert_eq!(
        handed,
        serde_json::json!({"contexts": ["notifications"], "changed": true})
    );
    for w in ["w1", "w2"] {
        app.json(
            &admin,
            &["user", "add", w, "--role", "worker", "--notify", "file"],
        );
    }
    let start_worker = || {
        let mut c = mail.cmd(&worker_token);
        c.args(["--json", "worker", "notifications"]);
        Running::start(c)
    };
    let worker = start_worker();
    for i in 0..8 {
        app.json(&admin, &["task", "create", &format!("first {i}")]);
    }
    // the worker dies mid-work (SIGKILL), tasks keep coming, a new worker takes over
    std::thread::sleep(Duration::from_millis(300));
    worker.kill();
    for i in 0..8 {
        app.json(&admin, &["task", "create", &format!("second {i}")]);
    }
    let worker = start_worker();
    for i in 0..4 {
        app.json(&admin, &["task", "create", &format!("third {i}")]);
    }
    // every notification reaches the mail host, in time
    let deadline = Instant::now() + Duration::from_secs(30);
    let expected = 2 + 20; // two welcomes, twenty assignments
    while maildir_messages(&mail.cache).len() < expected {
        if Instant::now() > deadline {
            let out = worker.kill();
            let log = run(app.cmd(&admin), &["events", "--type", "NotificationSent"]).stdout;
            panic!(
                "{} of {expected} delivered: {:?}; the worker said: {}{}; the log: {}",
                maildir_messages(&mail.cache).len(),
                maildir_messages(&mail.cache),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&log)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGTERM: the batch under way is finished, then exit 0
    let out = worker.terminate();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["contexts"], serde_json::json!(["notifications"]));

    // once each: in the Maildir, and in the log
    let delivered = maildir_messages(&mail.cache);
    assert_eq!(delivered.len(), expected, "{delivered:?}");
    // the app host delivered none of them after the hand-over
    assert!(
        maildir_messages(&app.cache).len() <= 2,
        "{:?}",
        maildir_messages(&app.cache)
    );
    let log = run(app.cmd(&admin), &["events"]).stdout;
    let mut sent: HashMap<String, usize> = HashMap::new();
    for line in String::from_utf8(log).unwrap().lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        if e["type"] == "NotificationSent" && e["data"]["channel"] == "file" {
            *sent.entry(e["data"]["notification_id"].to_string()).or_default() += 1;
        }
    }
    assert!(sent.values().all(|&n| n == 1), "{sent:?}");
    assert_eq!(sent.len(), expected);
    verify_ok(&app, &admin);
    // a worker needs an admin
    let w = app.json(&admin, &["user", "add", "w3", "--role", "worker"]);
    let w3 = common::login_token(app.cmd(""), "w3", w["password"].as_str().unwrap());
    let out = run(mail.cmd(&w3), &["--json", "worker", "notifications", "--once"]);
    assert_eq!(code(&out), Some(3));
}

/// Notifications handed over on the file ledger `l`, a worker `w1` who reads mail, and three
/// tasks: four messages (the welcome, three assignments) wait for the worker. Returns how
/// many messages w1's Maildir holds.
fn four_messages_wait_for_the_worker(l: &Ledger) -> impl Fn() -> usize {
    l.json(&["hand-over", "notifications"]);
    l.json(&["user", "add", "w1", "--role", "worker", "--notify", "file"]);
    for i in 0..3 {
        l.json(&["task", "create", &format!("waits {i}")]);
    }
    let maildir = l.dir.join("notifications/w1/new");
    let count = move || std::fs::read_dir(&maildir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(count(), 0, "commands leave notifications to the worker");
    count
}

/// The same hand-over on a file ledger (no NATS needed): a rebuild while notifications
/// wait for the worker leaves them waiting, never skipped (a rebuild used to put every
/// reactor after the last command, so the worker never delivered them).
#[test]
fn a_worker_on_a_file_ledger_delivers_what_waited_through_a_rebuild() {
    let l = Ledger::init();
    let count = four_messages_wait_for_the_worker(&l);
    l.json(&["rebuild"]);
    let done = l.json(&["worker", "notifications", "--once"]);
    assert_eq!(done["appended"], 4, "{done}");
    assert_eq!(count(), 4);
    // again: nothing more, nothing twice
    let again = l.json(&["worker", "notifications", "--once"]);
    assert_eq!(again["appended"], 0);
    assert_eq!(count(), 4);
    // taken back: commands deliver again
    assert_eq!(l.json(&["hand-over"])["contexts"], serde_json::json!([]));
    l.json(&["task", "create", "after"]);
    assert_eq!(count(), 5);
    l.ok(&["verify"]);
}

/// While reactions wait for a worker, a command that only reads opens the ledger as it is:
/// no writer lock, no write transaction, so it waits neither for writers nor for a store that
/// another program holds. (The build before counted the waiting reactor as work left behind:
/// every command took the writer lock and opened a write transaction on every store, and
/// here waited for the held store, then failed.)
#[test]
fn a_reader_writes_nothing_while_reactions_wait_for_a_worker() {
    let l = Ledger::init();
    l.json(&["hand-over", "notifications"]);
    l.json(&["user", "add", "w1", "--role", "worker", "--notify", "file"]);
    l.json(&["task", "create", "waits"]);
    let held = common::hold_store(&l.dir.join("views").join("tasks.db"));
    let out = l
        .admin()
        .env("POPUG_LEDGER_BUSY_MS", "300")
        .args(["--json", "task", "list", "--all"])
        .output()
        .unwrap();
    drop(held);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tasks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(common::titles(&tasks), ["waits"]);
    // what waited is still the worker's: the welcome and the assignment
    assert_eq!(l.json(&["worker", "notifications", "--once"])["appended"], 2);
    assert_eq!(l.json(&["verify"])["ok"], true);
}

/// Breaks a Maildir: a file takes the place of its `new/` (and the messages in it go), so a
/// delivery there fails and is deferred.
fn break_maildir(new: &std::path::Path) {
    std::fs::remove_dir_all(new).unwrap();
    std::fs::write(new, b"in the way").unwrap();
}

/// Puts back the `new/` that [`break_maildir`] took away, empty.
fn repair_maildir(new: &std::path::Path) {
    std::fs::remove_file(new).unwrap();
    std::fs::create_dir(new).unwrap();
}

/// Runs `popug worker notifications` (`cmd`: a popug command with the admin's credential)
/// trying deferred deliveries again every 200 ms; once it has deferred a message
/// (`deferred`: how many wait), repairs the Maildir `new` and, with no new event, waits for
/// `delivered`; then SIGTERM, which must end it with exit 0. Fails (and kills it) after 30 s.
fn a_running_worker_delivers_once_repaired(
    mut cmd: Command,
    new: &std::path::Path,
    deferred: impl Fn() -> u64,
    delivered: impl Fn() -> bool,
) {
    cmd.env("POPUG_WORKER_RETRY_MS", "200")
        .args(["--json", "worker", "notifications"]);
    let worker = Running::start(cmd);
    let deadline = Instant::now() + Duration::from_secs(30);
    while deferred() == 0 {
        assert!(Instant::now() < deadline, "the worker never deferred the message");
        std::thread::sleep(Duration::from_millis(100));
    }
    repair_maildir(new);
    while !delivered() {
        if Instant::now() > deadline {
            let out = worker.kill();
            panic!(
                "not delivered; the worker said: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = worker.terminate();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A message the worker could not deliver (a broken Maildir) is deferred, and delivered by a
/// later batch of the worker once the Maildir works: commands never run a handed-over
/// context's reactions, so they never retry them either. (The build before retried only in
/// commands: the message stayed deferred for ever.)
#[test]
fn a_worker_delivers_what_it_deferred_once_the_maildir_works() {
    let l = Ledger::init();
    l.json(&["hand-over", "notifications"]);
    l.json(&["user", "add", "w1", "--role", "worker", "--notify", "file"]);
    l.json(&["worker", "notifications", "--once"]);
    let maildir = l.dir.join("notifications/w1/new");
    let count = || std::fs::read_dir(&maildir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(count(), 1, "the welcome");
    // the Maildir breaks: the worker defers the next message
    break_maildir(&maildir);
    l.json(&["task", "create", "deferred"]);
    l.json(&["worker", "notifications", "--once"]);
    assert_eq!(l.json(&["verify"])["deferred_notifications"], 1);
    // repaired; the next batch delivers the new message and the deferred one
    repair_maildir(&maildir);
    l.json(&["task", "create", "after"]);
    l.json(&["worker", "notifications", "--once"]);
    assert_eq!(count(), 2, "the new message and the deferred one");
    let v = l.json(&["verify"]);
    assert_eq!(v["deferred_notifications"], 0, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    // nothing twice
    l.json(&["task", "create", "later"]);
    l.json(&["worker", "notifications", "--once"]);
    assert_eq!(count(), 3);
}

/// What a worker deferred is delivered once the Maildir works even if no event comes: a
/// batch tries it again, new events or not, and a running worker starts one every few
/// seconds while deliveries wait (`POPUG_WORKER_RETRY_MS` here). (The build before did
/// neither: on a quiet ledger the message waited for the next event, for ever if none came.)
#[test]
fn a_worker_delivers_what_it_deferred_without_waiting_for_a_new_event() {
    let l = Ledger::init();
    l.json(&["hand-over", "notifications"]);
    l.json(&["user", "add", "w1", "--role", "worker", "--notify", "file"]);
    l.json(&["worker", "notifications", "--once"]);
    let maildir = l.dir.join("notifications/w1/new");
    let count = || std::fs::read_dir(&maildir).map(|d| d.count()).unwrap_or(0);
    let deferred = || l.json(&["verify"])["deferred_notifications"].as_u64().unwrap();
    assert_eq!(count(), 1, "the welcome");
    // a batch with no new event: deferred, tried again, delivered once the Maildir works
    // (breaking `new/` takes the messages in it along)
    break_maildir(&maildir);
    l.json(&["task", "create", "first"]);
    l.json(&["worker", "notifications", "--once"]);
    l.json(&["worker", "notifications", "--once"]);
    assert_eq!(deferred(), 1);
    repair_maildir(&maildir);
    l.json(&["worker", "notifications", "--once"]);
    assert_eq!(count(), 1, "the deferred message, with no event since");
    assert_eq!(deferred(), 0);
    // a running worker, and nothing happens on the ledger after the deferral
    break_maildir(&maildir);
    l.json(&["task", "create", "second"]);
    a_running_worker_delivers_once_repaired(l.admin(), &maildir, deferred, || count() == 1);
    let v = l.json(&["verify"]);
    assert_eq!(v["deferred_notifications"], 0, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    l.json(&["worker", "notifications", "--once"]);
    assert_eq!(count(), 1, "once");
}

/// On a JetStream ledger too, a running worker delivers what it deferred once the Maildir
/// works, with no new message on the stream to wake it (the mail host's worker tries again
/// after `POPUG_WORKER_RETRY_MS`; before, it waited for the next message).
#[test]
fn a_jetstream_worker_delivers_what_it_deferred_without_a_new_message() {
    let Some(cluster) = Cluster::start(1, "a_jetstream_worker_delivers_what_it_deferred") else {
        return;
    };
    let (app, mail, admin) = app_and_mail_hosts(&cluster);
    mail.json(&admin, &["worker", "notifications", "--once"]);
    assert_eq!(maildir_messages(&mail.cache).len(), 1, "the welcome");
    let maildir = std::fs::read_dir(&mail.cache)
        .unwrap()
        .map(|l| l.unwrap().path().join("notifications/w1/new"))
        .find(|p| p.is_dir())
        .expect("w1's Maildir on the mail host");
    // broken (the welcome goes with it): the worker defers the next message, and nothing is
    // appended to the stream after it
    break_maildir(&maildir);
    app.json(&admin, &["task", "create", "deferred"]);
    let deferred = || {
        mail.json(&admin, &["verify"])["deferred_notifications"]
            .as_u64()
            .unwrap()
    };
    a_running_worker_delivers_once_repaired(mail.cmd(&admin), &maildir, deferred, || {
        !maildir_messages(&mail.cache).is_empty()
    });
    assert_eq!(maildir_messages(&mail.cache).len(), 1, "once");
    assert_eq!(deferred(), 0);
    verify_ok(&mail, &admin);
}

/// A rebuild killed once its new stores are copied in: a reactor handed to a worker resumes
/// where it had come, not after the last command, because its checkpoint is set in the new
/// store before the copy and goes in with it. (The build before set it after every copy;
/// killed in between, the worker skipped all but the last command's message.)
#[test]
fn a_rebuild_killed_after_its_copies_leaves_handed_over_reactions_waiting_not_skipped() {
    if !cfg!(debug_assertions) {
        eprintln!("SKIPPED: crash points exist in debug builds only");
        return;
    }
    let l = Ledger::init();
    let count = four_messages_wait_for_the_worker(&l);
    let out = l
        .admin()
        .env("POPUG_LEDGER_CRASH_AT", "rebuild.copied")
        .args(["--json", "rebuild"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        None,
        "the rebuild was killed at its crash point"
    );
    // the welcome and the three assignments
    let done = l.json(&["worker", "notifications", "--once"]);
    assert_eq!(done["appended"], 4, "{done}");
    assert_eq!(count(), 4);
    assert_eq!(l.json(&["worker", "notifications", "--once"])["appended"], 0);
    assert_eq!(count(), 4);
    assert_eq!(l.json(&["verify"])["ok"], true);
}

/// On a JetStream ledger, messages wait for a worker on the mail host even when nothing is
/// handed over. A rebuild on that host resumes the notifications reactor where its own
/// reactions show it had come, not after the last command: the worker then delivers what
/// waited. (A rebuild used to put it after the last command, and the worker skipped all
/// but that command's message.)
#[test]
fn a_rebuild_on_a_jetstream_host_leaves_waiting_messages_to_the_worker() {
    let Some(cluster) = Cluster::start(1, "a_rebuild_on_a_jetstream_host") else {
        return;
    };
    let (app, mail, admin) = app_and_mail_hosts(&cluster);
    for i in 0..3 {
        app.json(&admin, &["task", "create", &format!("waits {i}")]);
    }
    assert_eq!(
        maildir_messages(&mail.cache).len(),
        0,
        "commands leave messages to the worker"
    );
    mail.json(&admin, &["rebuild"]);
    let done = mail.json(&admin, &["worker", "notifications", "--once"]);
    // w1's welcome and three assignments (the worker also sends what goes to stdout)
    assert_eq!(maildir_messages(&mail.cache).len(), 4, "{done}");
    let again = mail.json(&admin, &["worker", "notifications", "--once"]);
    assert_eq!(again["appended"], 0, "{again}");
    verify_ok(&mail, &admin);
}

/// `popug serve` on two hosts of one JetStream ledger: API writes from both at once, each
/// task once, numbers contiguous; a lost race is decided again inside the server.
#[test]
fn two_web_servers_on_one_jetstream_ledger_lose_and_double_nothing() {
    let Some(cluster) = Cluster::start(1, "two_web_servers_on_one_jetstream_ledger") else {
        return;
    };
    let url = cluster.url("acme");
    let (a, b) = (Host::new(&url), Host::new(&url));
    let admin = init_on(&a);
    a.json(&admin, &["user", "add", "w1", "--role", "worker"]);
    let token = a.json(&admin, &["token", "create", "--name", "web"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let servers = [
        common::serve::Server::start_with(a.cmd("")),
        common::serve::Server::start_with(b.cmd("")),
    ];
    let created = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (i, server) in servers.iter().enumerate() {
            for t in 0..3 {
                let (addr, token, created) = (server.addr.clone(), &token, &created);
                s.spawn(move || {
                    for k in 0..5 {
                        let title = format!("web {i} {t} {k}");
                        let body = serde_json::json!({ "title": title }).to_string();
                        let (status, answer) =
                            common::serve::request(&addr, "POST", "/api/v1/tasks", Some(token), &body);
                        assert_eq!(status, 200, "{title}: {answer}");
                        created.lock().unwrap().push(title);
                    }
                });
            }
        }
    });
    let tasks = a.json(&admin, &["task", "list", "--all"]);
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 30);
    let mut numbers: Vec<u64> = tasks.iter().map(|t| t["number"].as_u64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=30).collect::<Vec<_>>());
    for title in created.into_inner().unwrap() {
        assert_eq!(
            tasks.iter().filter(|t| t["title"] == title.as_str()).count(),
            1,
            "{title}"
        );
    }
    verify_ok(&b, &admin);
}

/// A crash after the stream took the command's message but before this host's replica had it
/// (crash point `shared.appended`, debug builds): the next command finds the message in the
/// stream, and the task is there once.
#[test]
fn a_crash_between_the_stream_and_the_replica_loses_and_doubles_nothing() {
    let Some(cluster) = Cluster::start(1, "a_crash_between_the_stream_and_the_replica") else {
        return;
    };
    let url = cluster.url("acme");
    let h = Host::new(&url);
    let admin = init_on(&h);
    h.json(&admin, &["user", "add", "w1", "--role", "worker"]);
    let out = h
        .cmd(&admin)
        .env("POPUG_LEDGER_CRASH_AT", "shared.appended")
        .args(["task", "create", "crashed after the stream took it"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the crash point did not fire (a release build?)"
    );
    let titles = common::titles(&h.json(&admin, &["task", "list", "--all"]));
    assert_eq!(titles, ["crashed after the stream took it"]);
    // its reactions were finished by the next command, once
    let balances = h.json(&admin, &["balance", "--all"]);
    verify_ok(&h, &admin);
    assert_eq!(h.json(&admin, &["balance", "--all"]), balances);
}

/// Payouts handed to a worker on the payment host: `pay-daily` (cron, on another host)
/// decides the payments; the worker sends them from its host, once.
#[test]
fn payouts_handed_to_a_worker_are_sent_from_the_payment_host_once() {
    let Some(cluster) = Cluster::start(1, "payouts_handed_to_a_worker") else {
        return;
    };
    let url = cluster.url("acme");
    let (app, bank) = (Host::new(&url), Host::new(&url));
    let admin = init_on(&app);
    let w = app.json(
        &admin,
        &["user", "add", "w1", "--role", "worker", "--notify", "none"],
    );
    let w1 = common::login_token(app.cmd(""), "w1", w["password"].as_str().unwrap());
    app.json(&admin, &["hand-over", "payments"]);
    for i in 0..3 {
        let t = app.json(&admin, &["task", "create", &format!("paid {i}")]);
        app.json(&w1, &["task", "done", &t["number"].to_string()]);
    }
    let owed = app.json(&admin, &["balance", "w1"])["balance_cents"]
        .as_i64()
        .unwrap();
    assert!(owed > 0);
    let run_ = app.json(&admin, &["pay-daily"]);
    assert_eq!(run_["total_cents"], owed);
    let payouts = |h: &Host| -> Vec<String> {
        let mut out = Vec::new();
        for l in std::fs::read_dir(&h.cache).into_iter().flatten() {
            for f in std::fs::read_dir(l.unwrap().path().join("payouts"))
                .into_iter()
                .flatten()
            {
                out.push(std::fs::read_to_string(f.unwrap().path()).unwrap());
            }
        }
        out
    };
    assert!(
        payouts(&app).is_empty(),
        "the app host sends no payout once payments are handed over"
    );
    for _ in 0..2 {
        // twice: the second finds nothing to do
        bank.json(&admin, &["worker", "payments", "--once"]);
    }
    let sent = payouts(&bank);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let amount = format!(",w1,{}.{:02},", owed / 100, owed % 100);
    assert_eq!(
        sent[0].lines().filter(|l| l.contains(&amount)).count(),
        1,
        "{}",
        sent[0]
    );
    let log = run(app.cmd(&admin), &["events", "--type", "PaymentSendingConfirmed"]).stdout;
    assert_eq!(String::from_utf8(log).unwrap().lines().count(), 1);
    verify_ok(&app, &admin);
}

/// `events --follow` on one host shows what another host appends (each poll copies the new
/// messages into the replica).
#[test]
fn events_follow_on_one_host_shows_what_another_host_appends() {
    use std::io::BufRead;
    let Some(cluster) = Cluster::start(1, "events_follow_on_one_host") else {
        return;
    };
    let url = cluster.url("acme");
    let (a, b) = (Host::new(&url), Host::new(&url));
    let admin = init_on(&a);
    a.json(&admin, &["user", "add", "w1", "--role", "worker"]);
    let mut c = a.cmd(&admin);
    c.args(["events", "--follow", "--type", "TaskCreated"]);
    let mut follow = Running::start(c);
    let stdout = follow.child().stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    b.json(&admin, &["task", "create", "from the other host"]);
    let seen = rx.recv_timeout(Duration::from_secs(10));
    drop(follow);
    let line = seen.expect("the follower never saw the other host's task");
    assert!(line.contains("from the other host"), "{line}");
}

/// Side effects on the host that makes them (payout files, Maildirs) happen once on a
/// JetStream ledger: commands leave them to workers (a command's reaction round that loses
/// the race undoes its events, not its files), and one worker per context runs at a time
/// across the cluster (a lease; a second one waits, then gives up with exit 5).
#[test]
fn payouts_and_messages_are_made_once_by_one_worker_whatever_races() {
    let Some(cluster) = Cluster::start(1, "payouts_and_messages_are_made_once") else {
        return;
    };
    let url = cluster.url("acme");
    let hosts: Vec<Host> = (0..3).map(|_| Host::new(&url)).collect();
    let init = ok_json(run(hosts[0].cmd(""), &["--json", "init"]), "init");
    let admin = common::login_token(
        hosts[0].cmd(""),
        "admin",
        init["admin"]["password"].as_str().unwrap(),
    );
    let mut workers = Vec::new();
    for w in ["w1", "w2", "w3"] {
        let u = hosts[0].json(
            &admin,
            &["user", "add", w, "--role", "worker", "--notify", "file"],
        );
        workers.push(common::login_token(
            hosts[0].cmd(""),
            w,
            u["password"].as_str().unwrap(),
        ));
    }
    for (i, w) in workers.iter().enumerate() {
        let t = hosts[0].json(&admin, &["task", "create", &format!("earn {i}")]);
        let mine = hosts[0].json(&admin, &["task", "show", &t["number"].to_string()]);
        let who = ["w1", "w2", "w3"]
            .iter()
            .position(|l| mine["assignee"] == *l)
            .unwrap();
        hosts[0].json(&workers[who], &["task", "done", &t["number"].to_string()]);
        let _ = w;
    }
    // w1 ends ahead by more than the six noise tasks below could charge them (6 x 20.00), so
    // the runs have something to pay however the race and the draws go
    let mut extra = 0;
    while hosts[0].json(&admin, &["balance", "w1"])["balance_cents"]
        .as_i64()
        .unwrap()
        <= 12_000
    {
        extra += 1;
        assert!(extra < 200, "w1 never earned enough");
        let t = hosts[0].json(&admin, &["task", "create", &format!("earn more {extra}")]);
        let number = t["number"].to_string();
        if hosts[0].json(&admin, &["task", "show", &number])["assignee"] == "w1" {
            hosts[0].json(&workers[0], &["task", "done", &number]);
        }
    }
    // two pay-daily runs race from two hosts while a third host writes
    let answers = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for h in &hosts[..2] {
            let (answers, admin) = (&answers, &admin);
            s.spawn(move || answers.lock().unwrap().push(h.json(admin, &["pay-daily"])));
        }
        s.spawn(|| {
            for i in 0..6 {
                hosts[2].json(&admin, &["task", "create", &format!("noise {i}")]);
            }
        });
    });
    let answers = answers.into_inner().unwrap();
    let paid: i64 = answers.iter().map(|a| a["total_cents"].as_i64().unwrap()).sum();
    let log =
        String::from_utf8(run(hosts[0].cmd(&admin), &["events", "--type", "SentPaymentCommand"]).stdout)
            .unwrap();
    let sent: i64 = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["data"]["amount"]
                .as_i64()
                .unwrap()
        })
        .sum();
    assert!(sent > 0);
    // the racing runs together report what was paid: once, whoever made the reactions
    assert_eq!(paid, sent, "{answers:?}");
    let files = |h: &Host, dir: &str| -> usize {
        let mut n = 0;
        for l in std::fs::read_dir(&h.cache).into_iter().flatten() {
            let root = l.unwrap().path().join(dir);
            for f in walk(&root) {
                n += if dir == "payouts" {
                    std::fs::read_to_string(&f).unwrap().lines().skip(1).count()
                } else {
                    usize::from(f.parent().is_some_and(|p| p.ends_with("new")))
                };
            }
        }
        n
    };
    for h in &hosts {
        assert_eq!(files(h, "payouts"), 0, "a command wrote a payout file");
        assert_eq!(files(h, "notifications"), 0, "a command wrote a message");
    }
    // a worker on host 0 runs payments and notifications; a second one on host 1 waits
    // for the lease, then gives up (exit 5), making nothing
    let mut c = hosts[0].cmd(&admin);
    c.args(["--json", "worker", "payments", "notifications"]);
    let first = Running::start(c);
    std::thread::sleep(Duration::from_millis(1500));
    let second = run(hosts[1].cmd(&admin), &["--json", "worker", "payments", "--once"]);
    assert_eq!(
        code(&second),
        Some(5),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("worker_running"));
    let out = first.terminate();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = files(&hosts[0], "payouts");
    assert_eq!(
        rows,
        answers
            .iter()
            .map(|a| a["payments"].as_array().unwrap().len())
            .sum::<usize>()
    );
    assert_eq!(files(&hosts[1], "payouts") + files(&hosts[2], "payouts"), 0);
    // the lease was given back: another host's worker starts at once, and finds nothing to do
    let started = Instant::now();
    let again = ok_json(
        run(
            hosts[1].cmd(&admin),
            &["--json", "worker", "payments", "notifications", "--once"],
        ),
        "worker",
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(again["appended"], 0, "{again}");
    assert_eq!(files(&hosts[1], "payouts"), 0);
    verify_ok(&hosts[2], &admin);
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A server that restarts is waited out: a command started while it is down succeeds once
/// it is back (within 15 s), and a worker keeps running through it.
#[test]
fn a_server_that_restarts_is_waited_out_by_commands_and_workers() {
    let Some(mut cluster) = Cluster::start(1, "a_server_that_restarts") else {
        return;
    };
    let url = cluster.url("acme");
    let h = Host::new(&url);
    let admin = init_on(&h);
    h.json(
        &admin,
        &["user", "add", "w1", "--role", "worker", "--notify", "file"],
    );
    h.json(&admin, &["hand-over", "notifications"]);
    let mut c = h.cmd(&admin);
    c.args(["--json", "worker", "notifications"]);
    let worker = Running::start(c);
    std::thread::sleep(Duration::from_millis(800));
    cluster.kill(0);
    let mut c = h.cmd(&admin);
    c.args(["--json", "task", "create", "while the server restarts"]);
    let create = Running::start(c);
    std::thread::sleep(Duration::from_secs(2));
    cluster.restart(0);
    let out = create.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // the worker delivers the new task's message once the server is back
    let deadline = Instant::now() + Duration::from_secs(20);
    while maildir_messages(&h.cache).len() < 2 {
        assert!(Instant::now() < deadline, "{:?}", maildir_messages(&h.cache));
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = worker.terminate();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `ledger copy` to a stream that is interrupted (a crash after its first message, debug
/// builds) leaves a stream nothing opens as a ledger; the copy run again starts over and
/// finishes. A copy of a ledger still being written is the ledger as it was when the copy
/// began.
#[test]
fn an_interrupted_copy_never_passes_for_a_ledger_and_a_live_one_is_copied_as_it_was() {
    let Some(cluster) = Cluster::start(1, "an_interrupted_copy") else {
        return;
    };
    let file = Ledger::init();
    file.json(&["user", "add", "w1", "--role", "worker"]);
    for i in 0..30 {
        file.json(&["task", "create", &format!("before {i}")]);
    }
    let url = cluster.url("moved");
    let h = Host::new(&url);
    let out = popug()
        .env("POPUG_LEDGER_CRASH_AT", "copy.message")
        .env("POPUG_LEDGER", "/nonexistent")
        .args(["ledger", "copy", file.dir.to_str().unwrap(), &url])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the crash point did not fire");
    // the unfinished stream is no ledger: exit 4, saying why
    let refused = run(h.cmd(&file.admin_token), &["--json", "task", "list", "--all"]);
    assert_eq!(
        code(&refused),
        Some(4),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("did not finish"));
    // run again: it starts over, and finishes
    let copied = ok_json(
        run(
            popug(),
            &["--json", "ledger", "copy", file.dir.to_str().unwrap(), &url],
        ),
        "the copy again",
    );
    let tasks = h.json(&file.admin_token, &["task", "list", "--all"]);
    assert_eq!(tasks.as_array().unwrap().len(), 30);
    // a copy of a ledger being written: what was there when it began, and exit 0
    let writing = std::sync::atomic::AtomicBool::new(true);
    let url2 = cluster.url("live");
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 0;
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                file.json(&["task", "create", &format!("during {i}")]);
                i += 1;
            }
        });
        std::thread::sleep(Duration::from_millis(200));
        let live = run(
            popug(),
            &["--json", "ledger", "copy", file.dir.to_str().unwrap(), &url2],
        );
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(live.status.success(), "{}", String::from_utf8_lossy(&live.stderr));
    });
    let _ = copied;
    let back = tempfile::tempdir().unwrap();
    let dir = back.path().join("back");
    ok_json(
        run(
            popug(),
            &["--json", "ledger", "copy", &url2, dir.to_str().unwrap()],
        ),
        "copy back",
    );
    let copy = std::fs::read(dir.join("events.jsonl")).unwrap();
    let now = std::fs::read(file.dir.join("events.jsonl")).unwrap();
    assert!(
        now.starts_with(&copy),
        "the copy is a prefix of the ledger as it is now"
    );
}

/// A byte flipped in a host's copy of the log is that host's damage, not the ledger's:
/// `verify` and `rebuild` copy it again from the stream and pass.
#[test]
fn verify_and_rebuild_copy_a_damaged_host_copy_again() {
    let Some(cluster) = Cluster::start(1, "verify_and_rebuild_copy_a_damaged_host_copy") else {
        return;
    };
    let url = cluster.url("acme");
    let h = Host::new(&url);
    let admin = init_on(&h);
    h.json(&admin, &["user", "add", "w1", "--role", "worker"]);
    for i in 0..3 {
        h.json(&admin, &["task", "create", &format!("t{i}")]);
    }
    let copy = walk(&h.cache)
        .into_iter()
        .find(|p| p.ends_with("events.jsonl"))
        .unwrap();
    let good = std::fs::read(&copy).unwrap();
    let flip = |at: usize| {
        let mut b = good.clone();
        b[at] ^= 0x01;
        std::fs::write(&copy, b).unwrap();
    };
    flip(100);
    let verify = run(h.cmd(&admin), &["verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stderr).contains("copied again from the stream"));
    assert!(std::fs::read(&copy).unwrap() == good);
    flip(200);
    let rebuild = run(h.cmd(&admin), &["rebuild"]);
    assert!(
        rebuild.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuild.stderr)
    );
    let now = std::fs::read(&copy).unwrap();
    assert!(
        now.starts_with(&good),
        "{} vs {} bytes; first difference at {:?}; rebuild said {}",
        now.len(),
        good.len(),
        now.iter().zip(&good).position(|(a, b)| a != b),
        String::from_utf8_lossy(&rebuild.stderr)
    );
    assert_eq!(
        h.json(&admin, &["task", "list", "--all"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    verify_ok(&h, &admin);
}

/// The first commands on a host with no stores yet (a new host of a JetStream ledger, or a
/// file ledger whose views/ was deleted), many at once: the first builds the stores, and the
/// others use them; none removes a store another has just built. (The CI benchmark of eight
/// writers on new hosts once failed 2 of ~480 commands with "database is locked", which
/// this removal explains; this test did not reproduce that on the build before, so it
/// guards the behaviour rather than proves the fix.)
#[test]
fn many_first_commands_at_once_share_the_stores_the_first_one_builds() {
    for round in 0..3 {
        let l = Ledger::init();
        l.json(&["user", "add", "w1", "--role", "worker"]);
        std::fs::remove_dir_all(l.dir.join("views")).unwrap();
        let failures = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for i in 0..8 {
                let (l, failures) = (&l, &failures);
                s.spawn(move || {
                    let out = l
                        .admin()
                        .args(["--json", "task", "create", &format!("round {round} #{i}")])
                        .output()
                        .unwrap();
                    if !out.status.success() {
                        failures
                            .lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&out.stderr).into_owned());
                    }
                });
            }
        });
        let failures = failures.into_inner().unwrap();
        assert!(failures.is_empty(), "round {round}: {failures:?}");
        assert_eq!(l.json(&["task", "list", "--all"]).as_array().unwrap().len(), 8);
        l.ok(&["verify"]);
    }
}
