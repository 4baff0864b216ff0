//! A whole day at UberPopug Inc. through the real binary, checked against an independent
//! model of the rules; and every refusal, with its exit code, its message and a ledger that
//! is unchanged byte for byte.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use common::Ledger;
use serde_json::Value;

/// A ledger with users of every role, each with a token.
struct Company {
    l: Ledger,
    /// Each user's temporary password, as `user add` printed it.
    passwords: BTreeMap<String, String>,
    tokens: BTreeMap<String, String>,
    clock: std::cell::Cell<u32>,
}

impl Company {
    fn new() -> Company {
        let l = Ledger::init_with(&[("POPUG_NOW", "2026-11-27T08:00:00Z"), ("POPUG_SEED", "7")]);
        let c = Company {
            l,
            passwords: BTreeMap::new(),
            tokens: BTreeMap::new(),
            clock: std::cell::Cell::new(0),
        };
        let mut c = c;
        let admin_pw = c.l.admin_password.clone();
        let t = c.login("admin", &admin_pw);
        c.tokens.insert("admin".into(), t);
        for (login, role, notify) in [
            ("w1", "worker", "stdout"),
            ("w2", "worker", "file"),
            ("w3", "worker", "none"),
            ("boss", "manager", "stdout"),
            ("acc", "accountant", "stdout"),
        ] {
            let doc = c.json_as(
                "admin",
                &[
                    "user",
                    "add",
                    login,
                    "--role",
                    role,
                    "--notify",
                    notify,
                    "--email",
                    &format!("{login}@example.com"),
                ],
            );
            assert_eq!(doc["login"], login);
            assert_eq!(doc["role"], role);
            let pw = doc["password"].as_str().unwrap().to_owned();
            c.passwords.insert(login.to_owned(), pw.clone());
            let t = c.login(login, &pw);
            c.tokens.insert(login.into(), t);
        }
        c
    }

    /// Every command runs a second later than the one before, on 2026-11-27.
    fn cmd_as(&self, who: &str) -> Command {
        let n = self.clock.get() + 1;
        self.clock.set(n);
        let mut c = self.l.cmd();
        c.env("POPUG_NOW", format!("2026-11-27T09:{:02}:{:02}Z", n / 60, n % 60))
            .env("POPUG_SEED", "7");
        if let Some(t) = self.tokens.get(who) {
            c.env("POPUG_TOKEN", t);
        }
        c
    }

    fn login(&self, login: &str, password: &str) -> String {
        common::login_token(self.cmd_as(""), login, password)
    }

    fn json_as(&self, who: &str, args: &[&str]) -> Value {
        let out = self.cmd_as(who).arg("--json").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{who}: popug {args:?} -> {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    fn fails_as(&self, who: &str, args: &[&str], code: i32, needle: &str) {
        let before = self.l.snapshot();
        let out = self.cmd_as(who).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{who}: popug {args:?}: {err}");
        assert!(
            err.contains(needle),
            "{who}: popug {args:?}: expected `{needle}` in: {err}"
        );
        assert_eq!(
            self.l.snapshot(),
            before,
            "{who}: popug {args:?} changed the ledger"
        );
    }
}

/// The rules of DESIGN.md §5, kept apart from popug: balances per login.
#[derive(Default, Debug)]
struct Model {
    balances: BTreeMap<String, i64>,
    open: BTreeMap<i64, (String, i64, i64)>, // number -> (assignee, fee, reward)
}

impl Model {
    fn created(&mut self, doc: &Value) {
        let (who, fee, reward) = (
            doc["assignee"].as_str().unwrap(),
            doc["assign_fee_cents"].as_i64().unwrap(),
            doc["reward_cents"].as_i64().unwrap(),
        );
        assert!((1000..=2000).contains(&fee) && fee % 100 == 0, "fee {fee}");
        assert!(
            (2000..=4000).contains(&reward) && reward % 100 == 0,
            "reward {reward}"
        );
        assert!(
            ["w1", "w2", "w3"].contains(&who),
            "assigned to a non-worker: {who}"
        );
        *self.balances.entry(who.into()).or_default() -= fee;
        self.open
            .insert(doc["number"].as_i64().unwrap(), (who.into(), fee, reward));
    }

    fn done(&mut self, who: &str, number: i64) -> i64 {
        let (assignee, _, reward) = self.open.remove(&number).unwrap();
        assert_eq!(assignee, who);
        *self.balances.entry(who.into()).or_default() += reward;
        self.balances[who]
    }

    fn shuffled(&mut self, doc: &Value) {
        assert_eq!(doc["reassigned"].as_u64().unwrap() as usize, self.open.len());
        for t in doc["tasks"].as_array().unwrap() {
            let n = t["number"].as_i64().unwrap();
            let entry = self.open.get_mut(&n).unwrap();
            assert_eq!(t["assign_from"], entry.0.as_str());
            assert_eq!(t["assign_fee_cents"].as_i64().unwrap(), entry.1);
            entry.0 = t["assign_to"].as_str().unwrap().into();
            *self.balances.entry(entry.0.clone()).or_default() -= entry.1;
        }
    }
}

#[test]
fn a_whole_day_matches_the_model_of_the_rules() {
    let c = Company::new();
    let mut m = Model::default();

    // anyone signed in creates tasks
    for (who, title) in [
        ("admin", "Fix beak"),
        ("boss", "Clean cage"),
        ("acc", "Count seeds"),
        ("w1", "Sing"),
        ("w2", "Preen"),
        ("boss", "Feed"),
        ("admin", "Guard nest"),
        ("w3", "Fly"),
    ] {
        let doc = c.json_as(who, &["task", "create", title, "--description", "today"]);
        assert_eq!(doc["title"], title);
        m.created(&doc);
    }
    let doc = c.json_as("admin", &["task", "create", "Fix wing", "--jira-id", "POP-42"]);
    assert_eq!(doc["jira_id"], "POP-42");
    m.created(&doc);

    // each worker sees exactly their open tasks
    for w in ["w1", "w2", "w3"] {
        let mine = c.json_as(w, &["task", "list"]);
        let got: Vec<i64> = mine
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = m.open.iter().filter(|(_, v)| v.0 == w).map(|(k, _)| *k).collect();
        assert_eq!(got, want, "{w}'s tasks");
    }

    // completions: every worker finishes their first open task
    let firsts: Vec<(String, i64)> = ["w1", "w2", "w3"]
        .iter()
        .filter_map(|w| {
            m.open
                .iter()
                .find(|(_, v)| v.0 == *w)
                .map(|(n, _)| (w.to_string(), *n))
        })
        .collect();
    for (w, n) in &firsts {
        let doc = c.json_as(w, &["task", "done", &n.to_string()]);
        let expected = m.done(w, *n);
        assert_eq!(doc["balance_cents"].as_i64().unwrap(), expected);
        assert_eq!(doc["number"].as_i64().unwrap(), *n);
    }

    // the manager shuffles every open task, each reassignment charged again
    let doc = c.json_as("boss", &["shuffle"]);
    m.shuffled(&doc);

    // more completions after the shuffle: all but one open task
    let seconds: Vec<(String, i64)> = m.open.iter().skip(1).map(|(n, v)| (v.0.clone(), *n)).collect();
    for (w, n) in &seconds {
        c.json_as(w, &["task", "done", &format!("#{n}")]);
        m.done(w, *n);
    }

    // balances equal the model
    let all = c.json_as("acc", &["balance", "--all"]);
    let got: BTreeMap<String, i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["login"].as_str().unwrap().to_owned(),
                b["balance_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    for (login, bal) in &got {
        assert_eq!(*bal, m.balances.get(login).copied().unwrap_or(0), "{login}");
    }

    // every audit log sums to its balance, with a running balance
    for (login, bal) in &got {
        let audit = c.json_as("admin", &["audit", login]);
        let rows = audit.as_array().unwrap();
        let sum: i64 = rows.iter().map(|r| r["amount_cents"].as_i64().unwrap()).sum();
        assert_eq!(sum, *bal, "{login}'s audit");
        let mut running = 0;
        for r in rows {
            running += r["amount_cents"].as_i64().unwrap();
            assert_eq!(r["balance_cents"].as_i64().unwrap(), running, "{login}");
            assert_eq!(r["billing_date"], "2026-11-27");
        }
    }

    // the accountant's cron token pays the day
    let cron = c.json_as("acc", &["token", "create", "--name", "cron"]);
    let cron_token = cron["token"].as_str().unwrap().to_owned();
    let mut pay = c
        .cmd_as("")
        .env("POPUG_TOKEN", &cron_token)
        .args(["--json", "pay-daily", "--date", "2026-11-27"])
        .output()
        .unwrap();
    assert!(pay.status.success(), "{}", String::from_utf8_lossy(&pay.stderr));
    let paid: Value = serde_json::from_slice(&pay.stdout).unwrap();
    assert_eq!(paid["date"], "2026-11-27");
    let expected: BTreeMap<String, i64> = m
        .balances
        .iter()
        .filter(|(_, b)| **b > 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    // the draws decide whether anyone ended the day ahead (about 1 run in 1000, no one)
    assert_eq!(paid["already_paid"], expected.is_empty(), "{paid}");
    let payments: BTreeMap<String, i64> = paid["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["status"], "confirmed");
            (
                p["login"].as_str().unwrap().to_owned(),
                p["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(payments, expected);
    assert_eq!(
        paid["total_cents"].as_i64().unwrap(),
        expected.values().sum::<i64>()
    );
    for login in expected.keys() {
        m.balances.insert(login.clone(), 0);
    }
    let csv = fs::read_to_string(c.l.dir.join("payouts/2026-11-27.csv")).unwrap_or_default();
    let rows = if expected.is_empty() {
        0
    } else {
        1 + expected.len()
    };
    assert_eq!(csv.lines().count(), rows, "{csv}");

    // a second run pays nothing
    pay = c
        .cmd_as("")
        .env("POPUG_TOKEN", &cron_token)
        .args(["--json", "pay-daily", "--date", "2026-11-27"])
        .output()
        .unwrap();
    let again: Value = serde_json::from_slice(&pay.stdout).unwrap();
    assert_eq!(again["already_paid"], true);
    assert_eq!(again["payments"].as_array().unwrap().len(), 0);
    assert_eq!(
        fs::read_to_string(c.l.dir.join("payouts/2026-11-27.csv")).unwrap(),
        csv
    );

    // after the payments: zero or negative balances, as the model says
    let all = c.json_as("admin", &["balance", "--all"]);
    for b in all.as_array().unwrap() {
        let login = b["login"].as_str().unwrap();
        assert_eq!(
            b["balance_cents"].as_i64().unwrap(),
            m.balances.get(login).copied().unwrap_or(0),
            "{login}"
        );
        assert!(b["balance_cents"].as_i64().unwrap() <= 0);
    }

    // the company account mirrors the workers
    let db = rusqlite::Connection::open(c.l.dir.join("views/accounting.db")).unwrap();
    let company: i64 = db
        .query_row("SELECT balance FROM accounts WHERE user_id IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    let users: i64 = db
        .query_row(
            "SELECT SUM(balance) FROM accounts WHERE user_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(company, -users);

    // w2 reads mail: one RFC 5322 message per notification sent to the file channel
    let events = c.l.ok(&["events", "--type", "NotificationSent"]);
    let w2_id = c.json_as("admin", &["user", "show", "w2"])["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let to_w2 = events
        .lines()
        .filter(|l| l.contains(&format!("\"user_id\":\"{w2_id}\"")))
        .count();
    let maildir = c.l.dir.join("notifications/w2/new");
    let mails: Vec<_> = fs::read_dir(&maildir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // the welcome at least; tasks reach w2 as the draws go (none of 16 about 1 run in 660)
    assert!(
        to_w2 >= 1 && mails.len() == to_w2,
        "{to_w2} notifications, {} mails",
        mails.len()
    );
    for mail in &mails {
        let text = fs::read_to_string(mail).unwrap();
        let (headers, body) = text.split_once("\r\n\r\n").unwrap();
        for h in [
            "Date: ",
            "From: ",
            "To: w2 <w2@example.com>",
            "Subject: ",
            "Message-ID: <",
        ] {
            assert!(headers.contains(h), "{h} missing in {}", mail.display());
        }
        assert!(!body.trim().is_empty());
    }
    // w3 asked for no notifications
    assert!(!c.l.dir.join("notifications/w3").exists());
    assert!(!events.lines().any(|l| l.contains("\"channel\":\"none\"")));

    // the log verifies, and so do the business invariants
    let v = c.l.json(&["verify"]);
    assert_eq!(v["ok"], true);
    assert_eq!(v["projection_lag"], 0);
}

#[test]
fn stdout_notifications_follow_the_output_and_go_to_stderr_under_json() {
    let c = Company::new();
    // only w1 (stdout) and w2 (file) and w3 (none) can be assigned; find a task for w1
    for i in 0..30 {
        let out = c
            .cmd_as("admin")
            .args(["task", "create", &format!("t{i}")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if text.contains("assigned to w1") {
            let first = text.lines().next().unwrap();
            assert!(first.starts_with("Task #"), "{text}");
            assert!(text.contains("notification for w1: Task #"), "{text}");
            let out = c
                .cmd_as("admin")
                .args(["--json", "task", "create", "again"])
                .output()
                .unwrap();
            serde_json::from_slice::<Value>(&out.stdout).expect("stdout stays one JSON document");
            return;
        }
    }
    panic!("30 tasks and none for w1");
}

#[test]
fn every_refusal_has_its_exit_code_and_message_and_writes_nothing() {
    let c = Company::new();
    let t = c.json_as("admin", &["task", "create", "Mine"]);
    let n = t["number"].as_i64().unwrap().to_string();
    let owner = t["assignee"].as_str().unwrap().to_owned();
    c.json_as(&owner, &["task", "done", &n]);
    let open = c.json_as("admin", &["task", "create", "Open one"]);
    let open_n = open["number"].as_i64().unwrap().to_string();
    let open_owner = open["assignee"].as_str().unwrap().to_owned();
    let not_open_owner = ["w1", "w2", "w3"].into_iter().find(|w| *w != open_owner).unwrap();

    // not allowed (3)
    c.fails_as("w1", &["user", "add", "x", "--role", "worker"], 3, "is for admin");
    c.fails_as("boss", &["user", "set-role", "w1", "manager"], 3, "is for admin");
    c.fails_as("w1", &["user", "list"], 3, "listing users");
    c.fails_as("w1", &["shuffle"], 3, "shuffling");
    c.fails_as("acc", &["shuffle"], 3, "shuffling");
    c.fails_as("w1", &["pay-daily"], 3, "paying out");
    c.fails_as("boss", &["pay-daily"], 3, "paying out");
    c.fails_as("w1", &["balance", "w2"], 3, "another user's balance");
    c.fails_as("w1", &["balance", "--all"], 3, "everyone's balance");
    c.fails_as("boss", &["balance", "--all"], 3, "everyone's balance");
    c.fails_as("w1", &["audit", "w2"], 3, "audit");
    c.fails_as("w1", &["task", "list", "--all"], 3, "other people's tasks");
    c.fails_as(
        "acc",
        &["task", "list", "--assignee", "w1"],
        3,
        "other people's tasks",
    );
    c.fails_as(not_open_owner, &["task", "done", &open_n], 3, "not to you");
    c.fails_as("admin", &["task", "done", &open_n], 3, "not to you");
    c.fails_as(
        not_open_owner,
        &["task", "show", &open_n],
        3,
        "not assigned to you",
    );
    // not signed in / bad credentials (3)
    c.fails_as("nobody", &["task", "list"], 3, "not signed in");
    let mut bad = c.l.cmd();
    bad.env("POPUG_TOKEN", "pgt_0000");
    let before = c.l.snapshot();
    let out = bad.args(["task", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(c.l.snapshot(), before);
    for (login, pw) in [("w1", "wrong password"), ("ghost", "whatever1")] {
        let mut child =
            c.l.cmd()
                .args(["login", login, "--password-stdin"])
                .stdin(Stdio::piped())
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pw}").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{login}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("wrong login or password"));
        assert_eq!(c.l.snapshot(), before);
    }
    // not found (4)
    c.fails_as("admin", &["task", "show", "999"], 4, "no task `999`");
    c.fails_as("w1", &["task", "done", "999"], 4, "no task");
    c.fails_as("admin", &["user", "show", "ghost"], 4, "no user `ghost`");
    c.fails_as("admin", &["balance", "ghost"], 4, "no user");
    c.fails_as("admin", &["user", "set-role", "ghost", "worker"], 4, "no user");
    c.fails_as("admin", &["token", "revoke", "nope"], 4, "no API token");
    // conflicts (5)
    c.fails_as(&owner, &["task", "done", &n], 5, "already done");
    c.fails_as("admin", &["user", "add", "w1", "--role", "worker"], 5, "taken");
    c.fails_as("admin", &["user", "set-role", "admin", "worker"], 5, "last admin");
    // invalid input (2)
    c.fails_as("admin", &["task", "create", ""], 2, "title is empty");
    c.fails_as("admin", &["task", "create", "   "], 2, "title is empty");
    c.fails_as(
        "admin",
        &["task", "create", "[POP-1] Old style"],
        2,
        "may not contain `[`",
    );
    c.fails_as(
        "admin",
        &["task", "create", &"x".repeat(201)],
        2,
        "longer than 200",
    );
    c.fails_as("admin", &["task", "create", "bell\u{7}"], 2, "control characters");
    c.fails_as(
        "admin",
        &["task", "create", "ok", "--jira-id", "pop 1"],
        2,
        "not a Jira id",
    );
    c.fails_as(
        "admin",
        &[
            "task",
            "create",
            "Robert'); DROP TABLE tasks;--",
            "--jira-id",
            "'; --",
        ],
        2,
        "not a Jira id",
    );
    c.fails_as(
        "admin",
        &["user", "add", "x", "--role", "king"],
        2,
        "invalid value",
    );
    c.fails_as(
        "admin",
        &["user", "add", "Bad Name", "--role", "worker"],
        2,
        "not a valid login",
    );
    c.fails_as(
        "admin",
        &["user", "add", "x", "--role", "worker", "--email", "nope"],
        2,
        "not an email",
    );
    c.fails_as(
        "admin",
        &["user", "add", "x", "--role", "worker", "--notify", "pigeon"],
        2,
        "invalid value",
    );
    c.fails_as("acc", &["pay-daily", "--date", "2026-13-01"], 2, "not a date");
    c.fails_as("acc", &["pay-daily", "--date", "27.11.2026"], 2, "not a date");
    c.fails_as("acc", &["pay-daily", "--date", "2026-11-28"], 2, "has not begun");
    c.fails_as(
        "admin",
        &["token", "create", "--name", "x", "--expires-in", "forever"],
        2,
        "not a lifetime",
    );
    let before = c.l.snapshot();
    let out =
        c.l.cmd()
            .env("POPUG_TOKEN", &c.tokens["admin"])
            .env("POPUG_NOW", "2026-11-26T00:00:00Z")
            .args(["task", "create", "Back in time"])
            .output()
            .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("earlier than the last event"));
    assert_eq!(c.l.snapshot(), before);
}

#[test]
fn tokens_expire_and_can_be_revoked_and_sessions_end_at_logout() {
    let c = Company::new();
    let doc = c.json_as(
        "acc",
        &["token", "create", "--name", "short", "--expires-in", "3s"],
    );
    let short = doc["token"].as_str().unwrap().to_owned();
    let id = doc["token_id"].as_str().unwrap().to_owned();
    let expires: chrono::DateTime<chrono::Utc> = doc["expires_at"].as_str().unwrap().parse().unwrap();
    // valid now (if this machine is slow enough to have taken the 3 s already, there is
    // nothing to check here)
    let ok = c
        .cmd_as("")
        .env("POPUG_TOKEN", &short)
        .args(["whoami"])
        .output()
        .unwrap();
    assert!(ok.status.success() || chrono::Utc::now() >= expires);
    // expired once its lifetime has passed on the real clock, and a business clock set
    // back (POPUG_NOW) does not revive it
    if let Ok(left) = (expires - chrono::Utc::now()).to_std() {
        std::thread::sleep(left + std::time::Duration::from_millis(200));
    }
    for now in [None, Some("2026-11-27T09:00:00Z")] {
        let mut cmd = c.l.cmd();
        if let Some(now) = now {
            cmd.env("POPUG_NOW", now);
        }
        let out = cmd.env("POPUG_TOKEN", &short).args(["whoami"]).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{now:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("expired"));
    }
    // revoked
    let list = c.json_as("acc", &["token", "list"]);
    assert_eq!(list[0]["token_id"], id.as_str());
    assert!(!list.to_string().contains(&short), "token list shows no secret");
    c.json_as("acc", &["token", "revoke", &id]);
    let out = c
        .cmd_as("")
        .env("POPUG_TOKEN", &short)
        .args(["whoami"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("revoked"));
    c.fails_as("acc", &["token", "revoke", &id], 5, "already revoked");
    // the log holds only hashes of tokens
    let log = fs::read_to_string(c.l.dir.join("events.jsonl")).unwrap();
    for t in c.tokens.values().chain([&short]) {
        assert!(!log.contains(&t[4..]), "a token is in the log");
    }
    // a saved session: login saves it, logout ends it
    let mut child =
        c.l.cmd()
            .args(["login", "admin", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", c.l.admin_password).unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let who = c.l.cmd().arg("whoami").output().unwrap();
    assert!(String::from_utf8_lossy(&who.stdout).starts_with("admin (admin)"));
    assert!(c.l.cmd().arg("logout").status().unwrap().success());
    let out = c.l.cmd().arg("whoami").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
}

/// Runs `popug passwd --password-stdin` as `who` with these lines on standard input.
fn passwd(c: &Company, who: &str, lines: &[&str]) -> std::process::Output {
    let mut child = c
        .cmd_as(who)
        .args(["passwd", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for l in lines {
        writeln!(stdin, "{l}").unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn passwd_asks_for_the_current_password_and_ends_the_other_sessions() {
    let c = Company::new();
    let old = c.passwords["w1"].clone();
    let other_session = c.login("w1", &old);
    let whoami = |token: &str| {
        c.l.cmd()
            .env("POPUG_TOKEN", token)
            .arg("whoami")
            .output()
            .unwrap()
    };
    assert!(whoami(&other_session).status.success());

    // a wrong current password: exit 3, nothing written
    let before = c.l.snapshot();
    let out = passwd(&c, "w1", &["not the password", "a new long password"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("current password is wrong"));
    assert_eq!(c.l.snapshot(), before, "a refused passwd wrote");
    // a new password that is too short: exit 2, nothing written
    let out = passwd(&c, "w1", &[&old, "short"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(c.l.snapshot(), before, "a refused passwd wrote");

    let out = passwd(&c, "w1", &[&old, "a new long password"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // the session that changed it goes on; every other session of w1 has ended
    assert!(whoami(&c.tokens["w1"]).status.success());
    let out = whoami(&other_session);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("revoked"));
    // the new password signs in, the old one does not
    assert!(c.login("w1", "a new long password").starts_with("pgs_"));
    let out = c
        .cmd_as("")
        .args(["login", "w1", "--password-stdin", "--print-token"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut ch| {
            writeln!(ch.stdin.take().unwrap(), "{old}").unwrap();
            ch.wait()
        })
        .unwrap();
    assert_eq!(out.code(), Some(3));
}

#[test]
fn a_failed_payout_reverses_the_zeroing_and_is_reported() {
    let c = Company::new();
    // give some worker a positive balance
    let mut paid_worker = None;
    for i in 0..10 {
        let t = c.json_as("admin", &["task", "create", &format!("t{i}")]);
        let who = t["assignee"].as_str().unwrap().to_owned();
        c.json_as(
            &who,
            &["task", "done", &t["number"].as_i64().unwrap().to_string()],
        );
        if c.json_as(&who, &["balance"])["balance_cents"].as_i64().unwrap() > 0 {
            paid_worker = Some(who);
            break;
        }
    }
    let who = paid_worker.expect("someone earned money");
    let before = c.json_as(&who, &["balance"])["balance_cents"].as_i64().unwrap();
    // the payout provider cannot write: payouts/ is a file, not a folder
    fs::write(c.l.dir.join("payouts"), b"in the way").unwrap();
    let out = c.cmd_as("acc").args(["--json", "pay-daily"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["payments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "failed")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed"));
    assert_eq!(
        c.json_as(&who, &["balance"])["balance_cents"].as_i64().unwrap(),
        before,
        "the zeroing was reversed"
    );
    let audit = c.json_as(&who, &["audit"]);
    let reasons: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.ends_with(&["daily_payment", "payment_failed"]),
        "{reasons:?}"
    );
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn an_interrupted_command_is_finished_by_the_next_one_exactly_once() {
    let c = Company::new();
    let before = fs::read_to_string(c.l.dir.join("events.jsonl")).unwrap();
    let doc = c.json_as("admin", &["task", "create", "Interrupted"]);
    let full = fs::read_to_string(c.l.dir.join("events.jsonl")).unwrap();
    let added: Vec<&str> = full[before.len()..].lines().collect();
    assert!(added.len() >= 2, "the command's batch and its reactions");
    assert!(added[0].contains("\"type\":\"TaskCreated\""));
    // the process died after the command's batch was durable, before any reaction
    fs::write(c.l.dir.join("events.jsonl"), format!("{before}{}\n", added[0])).unwrap();
    // and every store with it (they were ahead of the cut log: derived, built again)
    fs::remove_dir_all(c.l.dir.join(popug_ledger::VIEWS_DIR)).unwrap();
    // the next command finishes the reactions before it decides anything
    let assignee = doc["assignee"].as_str().unwrap();
    let bal = c.json_as(assignee, &["balance"]);
    assert_eq!(
        bal["balance_cents"].as_i64().unwrap(),
        -doc["assign_fee_cents"].as_i64().unwrap()
    );
    let again = fs::read_to_string(c.l.dir.join("events.jsonl")).unwrap();
    let count = |t: &str| {
        again
            .lines()
            .filter(|l| l.contains(&format!("\"type\":\"{t}\"")))
            .count()
    };
    let fees = again
        .lines()
        .filter(|l| l.contains("\"reason\":\"assign_fee\""))
        .count();
    assert_eq!(fees, 1, "one fee for one assignment");
    assert_eq!(count("TaskCreated"), 1);
    // the reactions are stamped with the clock of the command that finished them
    // (POPUG_NOW, on 2026-11-27), not the system's, so that clock can go on writing
    let finished: Vec<&str> = again[full[..before.len()].len() + added[0].len() + 1..]
        .lines()
        .collect();
    assert!(!finished.is_empty());
    for line in &finished {
        assert!(
            line.contains("\"at\":\"2026-11-27T09:"),
            "stamped by POPUG_NOW: {line}"
        );
    }
    // and a later command does not repeat them
    c.json_as("admin", &["balance", "--all"]);
    assert_eq!(fs::read_to_string(c.l.dir.join("events.jsonl")).unwrap(), again);
    c.json_as("admin", &["task", "create", "After the recovery"]);
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn an_undeliverable_maildir_fails_no_command_and_a_later_command_delivers_it_once() {
    let c = Company::new();
    let events = || fs::read_to_string(c.l.dir.join("events.jsonl")).unwrap();
    // w2 reads mail, but their new/ is a file: the Maildir cannot be read (the reactor lists
    // new/ and cur/ before its first message), so no message can be written
    let maildir = c.l.dir.join("notifications/w2");
    fs::remove_dir_all(maildir.join("new")).unwrap();
    fs::write(maildir.join("new"), b"in the way").unwrap();
    // tasks go to a random worker (w1, w2 or w3); every create succeeds, w2's first one
    // leaves its notification deferred, with a warning
    let task_id = (1..=30)
        .find_map(|i| {
            let before = events();
            let title = format!("Task {i}");
            let out = c
                .cmd_as("admin")
                .args(["--json", "task", "create", &title])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{err}");
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            if doc["assignee"] != "w2" {
                return None;
            }
            assert!(
                err.contains("warning: a notification for w2 could not be delivered")
                    && err.contains("notifications/w2/new"),
                "{err}"
            );
            let added: Vec<Value> = events()[before.len()..]
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let types: Vec<&str> = added.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(
                types,
                ["TaskCreated", "AccountBalanceUpdated", "NotificationDeferred"],
                "the fee is charged, the notification deferred: {err}"
            );
            Some(added[0]["id"].as_str().unwrap().to_owned())
        })
        .expect("one of 30 tasks goes to w2");
    assert_eq!(
        fs::read_dir(maildir.join("tmp")).unwrap().count(),
        0,
        "nothing written"
    );
    // nobody is blocked meanwhile: reads and other users' writes work, verify says it waits
    c.l.json(&["balance", "--all"]);
    let out = c.cmd_as("w1").args(["--json", "balance"]).output().unwrap();
    assert!(out.status.success());
    let v = c.l.json(&["verify"]);
    assert_eq!(
        (v["ok"].as_bool(), v["deferred_notifications"].as_u64()),
        (Some(true), Some(1)),
        "{v}"
    );
    let text = c.l.ok(&["verify"]);
    assert!(text.contains("1 notifications wait for a Maildir"), "{text}");

    // new/ is a folder again: the next command that writes delivers it, once
    fs::remove_file(maildir.join("new")).unwrap();
    fs::create_dir(maildir.join("new")).unwrap();
    c.json_as("admin", &["task", "create", "After the repair"]);
    c.json_as("admin", &["task", "create", "And one more"]);
    let sent: Vec<Value> = events()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "NotificationSent" && e["data"]["caused_by"] == task_id.as_str())
        .collect();
    assert_eq!(sent.len(), 1, "one notification for the task");
    let fees = events()
        .lines()
        .filter(|l| l.contains("\"reason\":\"assign_fee\"") && l.contains(&task_id))
        .count();
    assert_eq!(fees, 1, "one fee for the task");
    let id = sent[0]["data"]["notification_id"].as_str().unwrap();
    let delivered: Vec<_> = fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(id))
        .collect();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(fs::read_dir(maildir.join("tmp")).unwrap().count(), 0);
    let v = c.l.json(&["verify"]);
    assert_eq!(
        (
            v["ok"].as_bool(),
            v["reaction_lag"].as_u64(),
            v["deferred_notifications"].as_u64()
        ),
        (Some(true), Some(0), Some(0)),
        "{v}"
    );
}
