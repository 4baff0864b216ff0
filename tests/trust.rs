//! Trust at the edges, through the real binary: nobody can steer the clock, the draws or
//! someone else's credentials; admins can help when a credential leaks or someone leaves;
//! hostile text cannot lie in a table, run in a spreadsheet or drive a terminal; files go
//! only where they should. Each refusal writes nothing.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

use common::Ledger;
use serde_json::Value;

/// A ledger with workers w1, w2 (file channel), w3 and a manager, each signed in.
struct Company {
    l: Ledger,
    passwords: std::collections::BTreeMap<String, String>,
    tokens: std::collections::BTreeMap<String, String>,
}

impl Company {
    fn new() -> Company {
        Company::with(&[])
    }

    fn with(env: &[(&str, &str)]) -> Company {
        let l = Ledger::init_with(env);
        let mut c = Company {
            l,
            passwords: Default::default(),
            tokens: Default::default(),
        };
        c.tokens.insert("admin".into(), c.l.admin_token.clone());
        for (login, role, notify) in [
            ("w1", "worker", "none"),
            ("w2", "worker", "file"),
            ("w3", "worker", "none"),
            ("boss", "manager", "none"),
        ] {
            let doc =
                c.l.json(&["user", "add", login, "--role", role, "--notify", notify]);
            let pw = doc["password"].as_str().unwrap().to_owned();
            let token = common::login_token(c.l.cmd(), login, &pw);
            c.passwords.insert(login.into(), pw);
            c.tokens.insert(login.into(), token);
        }
        c
    }

    fn cmd(&self, who: &str) -> Command {
        let mut c = self.l.cmd();
        c.env("POPUG_TOKEN", &self.tokens[who]);
        c
    }

    fn json(&self, who: &str, args: &[&str]) -> Value {
        let out = self.cmd(who).arg("--json").args(args).output().unwrap();
        common::ok_json(out, &format!("{who} {args:?}"))
    }

    /// `cmd` fails with `code` and `needle` on stderr, and the ledger is unchanged.
    fn refused(&self, mut cmd: Command, code: i32, needle: &str) -> String {
        let before = self.l.snapshot();
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{cmd:?}: {err}");
        assert!(err.contains(needle), "{cmd:?}: expected `{needle}` in {err}");
        assert_eq!(self.l.snapshot(), before, "{cmd:?} changed the ledger");
        err
    }

    /// The exit code of `whoami` with `token`: 0 while it works, 3 once it does not.
    fn whoami(&self, token: &str) -> Option<i32> {
        self.l
            .cmd()
            .env("POPUG_TOKEN", token)
            .arg("whoami")
            .output()
            .unwrap()
            .status
            .code()
    }

    /// Tasks are created and done until some worker's balance is positive; that worker.
    fn someone_earns(&self) -> String {
        for i in 0..10 {
            let d = self.json("boss", &["task", "create", &format!("T{i}")]);
            let who = d["assignee"].as_str().unwrap().to_owned();
            self.json(&who, &["task", "done", &d["number"].to_string()]);
            if self.json(&who, &["balance"])["balance_cents"].as_i64().unwrap() > 0 {
                return who;
            }
        }
        panic!("nobody earned anything in ten tasks");
    }

    /// Breaks w2's Maildir (a file where `new/` goes) until a notification for w2 is
    /// deferred, then repairs it; returns the Maildir.
    fn defer_a_notification_for_w2(&self) -> std::path::PathBuf {
        let maildir = self.l.dir.join("notifications/w2");
        fs::remove_dir_all(maildir.join("new")).unwrap();
        fs::write(maildir.join("new"), b"in the way").unwrap();
        while !self.events().iter().any(|e| e["type"] == "NotificationDeferred") {
            self.json("boss", &["task", "create", "For w2"]);
        }
        fs::remove_file(maildir.join("new")).unwrap();
        fs::create_dir(maildir.join("new")).unwrap();
        maildir
    }

    /// The boss creates `n` tasks; the numbers of those assigned to `who`.
    fn create_tasks(&self, n: usize, who: &str) -> Vec<i64> {
        (0..n)
            .map(|i| self.json("boss", &["task", "create", &format!("T{i}")]))
            .filter(|d| d["assignee"] == who)
            .map(|d| d["number"].as_i64().unwrap())
            .collect()
    }

    fn events(&self) -> Vec<Value> {
        fs::read_to_string(self.l.dir.join("events.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // the child may stop reading early (a refused line): a broken pipe is expected then
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[test]
fn popug_now_may_not_run_ahead_of_the_real_clock() {
    let c = Company::new();
    let ahead = iso(chrono::Utc::now() + chrono::Duration::days(2));
    let mut cmd = c.cmd("boss");
    cmd.env("POPUG_NOW", &ahead)
        .args(["task", "create", "From the future"]);
    c.refused(cmd, 2, "ahead of the real clock");
    let mut cmd = c.cmd("admin");
    cmd.env("POPUG_NOW", &ahead).arg("pay-daily");
    c.refused(cmd, 2, "ahead of the real clock");
    // a minute ahead (clocks differ a little between hosts) is fine
    let near = iso(chrono::Utc::now() + chrono::Duration::minutes(1));
    let out = c
        .cmd("boss")
        .env("POPUG_NOW", &near)
        .args(["task", "create", "Soon"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // and the real clock goes on writing afterwards
    c.json("boss", &["task", "create", "Later"]);
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn lifetimes_are_parsed_strictly_and_a_token_never_outlives_the_token_that_made_it() {
    let c = Company::new();
    for bad in ["5é", "é", "5", "d", "0d", "-1d", "1w", "99999999999999999d", ""] {
        let mut cmd = c.cmd("w1");
        cmd.args(["token", "create", "--name", "x", &format!("--expires-in={bad}")]);
        c.refused(cmd, 2, "is not a lifetime");
    }
    let short = c.json(
        "w1",
        &["token", "create", "--name", "short", "--expires-in", "1h"],
    );
    let short_exp: chrono::DateTime<chrono::Utc> = short["expires_at"].as_str().unwrap().parse().unwrap();
    let hour = short_exp - chrono::Utc::now();
    assert!(
        hour > chrono::Duration::minutes(59) && hour <= chrono::Duration::hours(1),
        "{short}"
    );
    let secs = c.json(
        "w1",
        &["token", "create", "--name", "secs", "--expires-in", "45s"],
    );
    assert!(secs["expires_at"].is_string());
    // made with the 1-hour token: `never` and `90d` both end with it
    for asked in ["never", "90d"] {
        let out =
            c.l.cmd()
                .env("POPUG_TOKEN", short["token"].as_str().unwrap())
                .args([
                    "--json",
                    "token",
                    "create",
                    "--name",
                    "child",
                    "--expires-in",
                    asked,
                ])
                .output()
                .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let child: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(child["expires_at"], short["expires_at"], "{asked}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("expires at"));
    }
    // made in a password session, `never` is never
    let forever = c.json(
        "w1",
        &["token", "create", "--name", "cron", "--expires-in", "never"],
    );
    assert!(forever["expires_at"].is_null());
}

#[test]
fn the_seed_is_fixed_at_init_and_no_caller_can_choose_it() {
    // a real ledger: any POPUG_SEED is refused, nothing written
    let c = Company::new();
    let mut cmd = c.cmd("w1");
    cmd.env("POPUG_SEED", "3")
        .args(["task", "create", "Cheap and mine"]);
    c.refused(cmd, 2, "not seeded");
    let v = c.l.json(&["verify"]);
    assert!(v["seed"].is_null(), "{v}");

    // a seeded ledger (tests, demos): its own seed is accepted, any other refused
    let s = Company::with(&[("POPUG_SEED", "42")]);
    let v = s.l.json(&["verify"]);
    assert_eq!(v["seed"], 42);
    assert!(s.l.ok(&["verify"]).contains("seeded (POPUG_SEED=42)"));
    let mut cmd = s.cmd("w1");
    cmd.env("POPUG_SEED", "43").args(["task", "create", "Steered"]);
    s.refused(cmd, 2, "not this ledger's seed");
    let out = s
        .cmd("w1")
        .env("POPUG_SEED", "42")
        .args(["task", "create", "Same seed"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // and without POPUG_SEED a seeded ledger still draws from its own seed
    let out = s
        .cmd("w1")
        .args(["task", "create", "No seed given"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(s.l.json(&["verify"])["ok"], true);
}

#[test]
fn passwords_are_compared_in_nfc_and_stdin_lines_are_capped() {
    let c = Company::new();
    let old = c.passwords["w1"].clone();
    // set a password typed in NFD (e + combining acute), sign in with it typed in NFC
    let nfd = "cafe\u{301} au lait, s'il vous plai\u{302}t";
    let nfc = "caf\u{e9} au lait, s'il vous pla\u{ee}t";
    let mut cmd = c.cmd("w1");
    cmd.args(["passwd", "--password-stdin"]);
    let out = with_stdin(cmd, format!("{old}\n{nfd}\n").as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for typed in [nfc, nfd] {
        let t = common::login_token(c.l.cmd(), "w1", typed);
        assert!(t.starts_with("pgs_"));
    }
    // a 10 MB line on --password-stdin is refused (exit 2) and nothing is written
    let before = c.l.snapshot();
    let mut cmd = c.l.cmd();
    cmd.args(["login", "w1", "--password-stdin", "--print-token"]);
    let out = with_stdin(cmd, &vec![b'a'; 10 << 20]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than 4096 bytes"));
    assert_eq!(c.l.snapshot(), before);
}

#[test]
fn admins_list_and_revoke_anyones_tokens_and_reset_passwords() {
    let c = Company::new();
    let t = c.json("w1", &["token", "create", "--name", "w1-cron"]);
    let id = t["token_id"].as_str().unwrap().to_owned();
    // everyone's tokens: admins only
    let mut cmd = c.cmd("boss");
    cmd.args(["token", "list", "--all"]);
    c.refused(cmd, 3, "is for admin");
    let all = c.json("admin", &["token", "list", "--all"]);
    let row = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["token_id"] == id.as_str())
        .unwrap();
    assert_eq!(row["login"], "w1");
    assert!(!all.to_string().contains(&t["token"].as_str().unwrap()[4..]));
    // someone else's token is not found for a non-admin
    let mut cmd = c.cmd("w2");
    cmd.args(["token", "revoke", &id]);
    c.refused(cmd, 4, "no API token");
    c.json("admin", &["token", "revoke", &id]);
    assert_eq!(c.whoami(t["token"].as_str().unwrap()), Some(3));

    // reset-password: admins only; a new password printed once, every credential ended
    let mut cmd = c.cmd("boss");
    cmd.args(["user", "reset-password", "w2"]);
    c.refused(cmd, 3, "is for admin");
    let mut cmd = c.cmd("admin");
    cmd.args(["user", "reset-password", "nobody"]);
    c.refused(cmd, 4, "no user");
    let w2_token = c.json(
        "w2",
        &["token", "create", "--name", "w2-cron", "--expires-in", "never"],
    );
    let doc = c.json("admin", &["user", "reset-password", "w2"]);
    assert_eq!(doc["login"], "w2");
    let fresh = doc["password"].as_str().unwrap();
    for token in [&c.tokens["w2"], w2_token["token"].as_str().unwrap()] {
        assert_eq!(c.whoami(token), Some(3));
    }
    assert!(common::login_token(c.l.cmd(), "w2", fresh).starts_with("pgs_"));
    let out = with_stdin(
        {
            let mut cmd = c.l.cmd();
            cmd.args(["login", "w2", "--password-stdin", "--print-token"]);
            cmd
        },
        format!("{}\n", c.passwords["w2"]).as_bytes(),
    );
    assert_eq!(out.status.code(), Some(3), "the old password is gone");
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn hostile_text_is_refused_or_defused() {
    let c = Company::new();
    // a right-to-left override (or any invisible format character) makes a table lie
    for title in ["Pay \u{202E}00.01", "Zero\u{200B}width", "Bell\u{7}"] {
        let mut cmd = c.cmd("boss");
        cmd.args(["task", "create", title]);
        c.refused(cmd, 2, "control characters or invisible format characters");
    }
    let mut cmd = c.cmd("admin");
    cmd.args([
        "user",
        "add",
        "eve",
        "--role",
        "worker",
        "--name",
        "Eve\u{202E}lyn",
    ]);
    c.refused(cmd, 2, "invisible format characters");
    // an import error quotes the input: terminal escapes are shown escaped, never sent
    let file = c.l.home.join("evil.jsonl");
    fs::write(&file, b"{\"title\": 7, \"x\": \"\x1b]0;pwned\x07\x1b[31m\"}\n").unwrap();
    let mut cmd = c.cmd("boss");
    cmd.args(["task", "import"]).arg(&file);
    let err = c.refused(cmd, 2, "line 1");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    // a formula in a title is shown, never run, in every CSV; amounts stay numbers
    let t = c.json(
        "boss",
        &["task", "create", "=HYPERLINK(\"http://evil.example\",\"x\")"],
    );
    let n = t["number"].to_string();
    let export = c.l.ok(&["export", "tasks"]);
    assert!(export.contains("'=HYPERLINK("), "{export}");
    assert!(!export.contains(",=HYPERLINK("), "{export}");
    let listed = c.l.ok(&["--format", "csv", "task", "show", &n]);
    assert!(listed.contains("'=HYPERLINK("), "{listed}");
    let tx = c.l.ok(&["export", "transactions"]);
    assert!(
        tx.lines().skip(1).any(|l| l.contains(",-1") || l.contains(",-2")),
        "{tx}"
    );
    assert!(!tx.contains("'-"), "an amount was defused: {tx}");
}

#[test]
fn export_writes_through_a_private_temporary_file_and_dash_is_stdout() {
    let c = Company::new();
    c.json("boss", &["task", "create", "One"]);
    let dir = c.l.home.join("out");
    fs::create_dir(&dir).unwrap();
    // the name the old code used for its temporary file: a link planted there is not followed
    let target = c.l.home.join("victim");
    fs::write(&target, b"keep me").unwrap();
    std::os::unix::fs::symlink(&target, dir.join("tasks.popug-tmp")).unwrap();
    let file = dir.join("tasks.csv");
    c.l.ok(&["export", "tasks", "-o", file.to_str().unwrap()]);
    assert_eq!(fs::read(&target).unwrap(), b"keep me");
    assert!(fs::read_to_string(&file).unwrap().starts_with("number,"));
    assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    // `-o -` is standard output, as `task import -` is standard input
    let out =
        c.l.admin()
            .current_dir(&dir)
            .args(["export", "tasks", "-o", "-"])
            .output()
            .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("number,"));
    assert!(!dir.join("-").exists());
}

#[test]
fn init_refuses_a_directory_that_holds_something_and_never_chmods_one_it_did_not_make() {
    let l = Ledger::new();
    fs::create_dir_all(&l.dir).unwrap();
    fs::set_permissions(&l.dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(l.dir.join("thesis.tex"), b"mine").unwrap();
    let before = common::snapshot(&l.dir);
    let out = l.cmd().arg("init").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    assert_eq!(common::snapshot(&l.dir), before);
    assert_eq!(fs::metadata(&l.dir).unwrap().permissions().mode() & 0o777, 0o755);
    // an empty directory is taken as it is: its mode stays the owner's choice
    fs::remove_file(l.dir.join("thesis.tex")).unwrap();
    let out = l.cmd().arg("init").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::metadata(&l.dir).unwrap().permissions().mode() & 0o777, 0o755);
    assert_eq!(
        fs::metadata(l.dir.join("events.jsonl"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // a directory init makes is private
    let fresh = l.home.join("fresh/ledger");
    let out = l.cmd().env("POPUG_LEDGER", &fresh).arg("init").output().unwrap();
    assert!(out.status.success());
    assert_eq!(fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn a_maildir_is_never_followed_through_a_link_and_kept_private() {
    let c = Company::new();
    let elsewhere = c.l.home.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let maildir = c.l.dir.join("notifications/w2");
    fs::remove_dir_all(&maildir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &maildir).unwrap();
    // tasks for w2 are created, charged and deferred; nothing lands in the link's target
    let mut to_w2 = 0;
    for i in 0..30 {
        let d = c.json("boss", &["task", "create", &format!("T{i}")]);
        to_w2 += (d["assignee"] == "w2") as usize;
    }
    assert!(to_w2 > 0);
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "written through the link"
    );
    let deferred = c
        .events()
        .iter()
        .filter(|e| e["type"] == "NotificationDeferred")
        .count();
    assert_eq!(deferred, to_w2);
    // once the link is replaced by a real folder, each is delivered once, in a private Maildir
    fs::remove_file(&maildir).unwrap();
    fs::create_dir(&maildir).unwrap();
    fs::set_permissions(&maildir, fs::Permissions::from_mode(0o755)).unwrap();
    c.json("boss", &["task", "create", "After"]);
    let new = fs::read_dir(maildir.join("new")).unwrap().count();
    let sent_to_w2 = c
        .events()
        .iter()
        .filter(|e| e["type"] == "NotificationSent")
        .count();
    assert!(
        new >= to_w2 && sent_to_w2 >= to_w2,
        "{new} messages, {sent_to_w2} sent"
    );
    assert_eq!(
        fs::metadata(&maildir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let v = c.l.json(&["verify"]);
    assert_eq!(v["deferred_notifications"], 0, "{v}");
}

#[test]
fn a_deactivated_worker_cannot_sign_in_holds_no_task_is_never_assigned_and_is_still_paid() {
    let c = Company::new();
    // w1 ends the day with open tasks and a positive balance
    let mut w1_open = c.create_tasks(40, "w1");
    assert!(w1_open.len() >= 2, "{w1_open:?}");
    let done = w1_open.pop().unwrap();
    c.json("w1", &["task", "done", &done.to_string()]);
    let w1_token = c.json(
        "w1",
        &["token", "create", "--name", "w1-cron", "--expires-in", "never"],
    );
    let balance_before = c.json("admin", &["balance", "w1"])["balance_cents"]
        .as_i64()
        .unwrap();
    let other_balances: i64 = ["w2", "w3"]
        .iter()
        .map(|w| {
            c.json("admin", &["balance", w])["balance_cents"]
                .as_i64()
                .unwrap()
        })
        .sum();

    // only admins; the last admin cannot be deactivated
    let mut cmd = c.cmd("boss");
    cmd.args(["user", "deactivate", "w1"]);
    c.refused(cmd, 3, "is for admin");
    let mut cmd = c.cmd("admin");
    cmd.args(["user", "deactivate", "admin"]);
    c.refused(cmd, 5, "last admin");

    let doc = c.json("admin", &["user", "deactivate", "w1"]);
    assert_eq!(doc["login"], "w1");
    let moved = doc["reassigned"].as_array().unwrap();
    let mut numbers: Vec<i64> = moved.iter().map(|m| m["number"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, w1_open, "every open task of w1 is handed over");
    let mut charged = 0;
    for m in moved {
        assert!(["w2", "w3"].contains(&m["assign_to"].as_str().unwrap()), "{m}");
        charged += m["assign_fee_cents"].as_i64().unwrap();
    }
    // each fee charged to the new assignee; w1's balance untouched
    let other_after: i64 = ["w2", "w3"]
        .iter()
        .map(|w| {
            c.json("admin", &["balance", w])["balance_cents"]
                .as_i64()
                .unwrap()
        })
        .sum();
    assert_eq!(other_after, other_balances - charged);
    assert_eq!(
        c.json("admin", &["balance", "w1"])["balance_cents"],
        balance_before
    );

    // no sign-in, no credential works, shown as inactive
    for token in [&c.tokens["w1"], w1_token["token"].as_str().unwrap()] {
        assert_eq!(c.whoami(token), Some(3));
    }
    let mut login = c.l.cmd();
    login.args(["login", "w1", "--password-stdin", "--print-token"]);
    let out = with_stdin(login, format!("{}\n", c.passwords["w1"]).as_bytes());
    assert_eq!(out.status.code(), Some(3));
    let users = c.json("admin", &["user", "list"]);
    let w1 = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "w1")
        .unwrap();
    assert_eq!(w1["active"], false);
    assert_eq!(c.json("admin", &["user", "show", "w2"])["active"], true);

    // never assigned again; still holds no open task
    for i in 0..30 {
        let d = c.json("boss", &["task", "create", &format!("After {i}")]);
        assert_ne!(d["assignee"], "w1");
    }
    let w1_tasks = c.json("admin", &["task", "list", "--assignee", "w1", "--status", "open"]);
    assert_eq!(w1_tasks.as_array().unwrap().len(), 0);
    // deactivating again changes nothing
    let before = c.l.snapshot();
    let again = c.json("admin", &["user", "deactivate", "w1"]);
    assert_eq!(again["reassigned"].as_array().unwrap().len(), 0);
    assert_eq!(c.l.snapshot(), before);

    // the balance is still paid out
    if balance_before > 0 {
        let run = c.json("admin", &["pay-daily"]);
        let paid = run["payments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["login"] == "w1")
            .unwrap_or_else(|| panic!("w1 was not paid: {run}"));
        assert_eq!(paid["amount_cents"].as_i64(), Some(balance_before));
    }
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn a_worker_moved_to_another_role_hands_over_their_open_tasks() {
    let c = Company::new();
    let w2_open = c.create_tasks(30, "w2");
    assert!(!w2_open.is_empty());
    let doc = c.json("admin", &["user", "set-role", "w2", "manager"]);
    assert_eq!(
        (doc["login"].as_str(), doc["from"].as_str(), doc["to"].as_str()),
        (Some("w2"), Some("worker"), Some("manager"))
    );
    let mut moved: Vec<i64> = doc["reassigned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert!(["w1", "w3"].contains(&m["assign_to"].as_str().unwrap()), "{m}");
            m["number"].as_i64().unwrap()
        })
        .collect();
    moved.sort();
    assert_eq!(moved, w2_open);
    // a manager cannot complete what was theirs
    let mut cmd = c.cmd("w2");
    cmd.args(["task", "done", &w2_open[0].to_string()]);
    c.refused(cmd, 3, "");
    // with no other worker, a worker with open tasks cannot move: exit 5, nothing written
    c.json("admin", &["user", "deactivate", "w3"]);
    let mut cmd = c.cmd("admin");
    cmd.args(["user", "set-role", "w1", "accountant"]);
    c.refused(cmd, 5, "no worker to go to");
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn payouts_are_never_written_through_a_link() {
    let c = Company::new();
    c.someone_earns();
    let elsewhere = c.l.home.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let _ = fs::remove_dir_all(c.l.dir.join("payouts"));
    std::os::unix::fs::symlink(&elsewhere, c.l.dir.join("payouts")).unwrap();
    let out = c.cmd("admin").args(["--json", "pay-daily"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["payments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "failed"),
        "{doc}"
    );
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "a payout went through the link"
    );
    // nobody else is blocked, and the books still balance
    c.json("boss", &["task", "create", "After"]);
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

/// Waits for `child` at most `secs` seconds; kills it and fails if it is still running.
fn within(mut child: std::process::Child, secs: u64, what: &str) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} still ran after {secs} s");
}

#[test]
fn a_fifo_or_a_link_among_the_payouts_blocks_nobody() {
    let c = Company::new();
    c.someone_earns();
    // the run pays the day of the last earning, at its instant: never the day after, which
    // the clock could have reached by now (the FIFO must be that day's payout file)
    let last = c.l.ok(&["events"]);
    let last: Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    let at = last["at"].as_str().unwrap().to_owned();
    let today = at[..10].to_owned();
    let payouts = c.l.dir.join("payouts");
    let _ = fs::create_dir(&payouts);
    let fifo = payouts.join(format!("{today}.csv"));
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let run = c
        .cmd("admin")
        .env("POPUG_NOW", &at)
        .args(["--json", "pay-daily"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = within(run, 20, "pay-daily with a FIFO for a payout file");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed"));
    let next = c
        .cmd("boss")
        .args(["task", "create", "After"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(within(next, 20, "the next command").status.success());
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn ending_a_leaked_credential_ends_the_tokens_it_made() {
    let c = Company::new();
    let whoami = |token: &str| c.whoami(token);
    // a leaked session mints a token that never expires; passwd ends the session and it
    let leaked = common::login_token(c.l.cmd(), "w1", &c.passwords["w1"]);
    let out =
        c.l.cmd()
            .env("POPUG_TOKEN", &leaked)
            .args([
                "--json",
                "token",
                "create",
                "--name",
                "mine-now",
                "--expires-in",
                "never",
            ])
            .output()
            .unwrap();
    let minted: Value = serde_json::from_slice(&out.stdout).unwrap();
    let minted = minted["token"].as_str().unwrap().to_owned();
    // a token of the owner's own session survives: cron keeps working
    let cron = c.json(
        "w1",
        &["token", "create", "--name", "cron", "--expires-in", "never"],
    );
    assert_eq!(whoami(&minted), Some(0));
    let mut cmd = c.cmd("w1");
    cmd.args(["--json", "passwd", "--password-stdin"]);
    let out = with_stdin(
        cmd,
        format!("{}\na brand new password\n", c.passwords["w1"]).as_bytes(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["sessions_ended"].as_u64(), doc["tokens_revoked"].as_u64()),
        (Some(1), Some(1)),
        "{doc}"
    );
    assert_eq!(whoami(&leaked), Some(3));
    assert_eq!(whoami(&minted), Some(3));
    assert_eq!(whoami(cron["token"].as_str().unwrap()), Some(0));

    // a leaked API token's children (and theirs) go with it when it is revoked
    let parent = c.json("w2", &["token", "create", "--name", "p", "--expires-in", "1h"]);
    let child = |token: &str, name: &str| -> Value {
        let out =
            c.l.cmd()
                .env("POPUG_TOKEN", token)
                .args(["--json", "token", "create", "--name", name])
                .output()
                .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let kid = child(parent["token"].as_str().unwrap(), "kid");
    let grandkid = child(kid["token"].as_str().unwrap(), "grandkid");
    assert_eq!(whoami(grandkid["token"].as_str().unwrap()), Some(0));
    let revoked = c.json("w2", &["token", "revoke", parent["token_id"].as_str().unwrap()]);
    assert_eq!(revoked["tokens_revoked"], 2, "{revoked}");
    for t in [&parent, &kid, &grandkid] {
        assert_eq!(whoami(t["token"].as_str().unwrap()), Some(3));
    }
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn every_format_character_is_refused_and_task_show_csv_is_one_table() {
    let c = Company::new();
    let tags: String = "approve payout"
        .chars()
        .map(|ch| char::from_u32(0xE0000 + ch as u32).unwrap())
        .collect();
    for bad in [
        format!("Fix{tags}"),
        "A\u{2028}B".into(),
        "A\u{206A}B".into(),
        "A\u{3164}B".into(),
        "\u{0600}1".into(),
    ] {
        let mut cmd = c.cmd("boss");
        cmd.args(["task", "create", &bad]);
        c.refused(cmd, 2, "invisible format characters");
        let mut cmd = c.cmd("boss");
        cmd.args(["task", "create", "ok", "--description", &bad]);
        c.refused(cmd, 2, "invisible format characters");
        let mut cmd = c.cmd("boss");
        cmd.args(["token", "create", "--name", &bad]);
        c.refused(cmd, 2, "without control characters");
    }
    // emoji sequences with joiners stay allowed
    c.json("boss", &["task", "create", "Feed the 👩\u{200D}👧 popugs"]);
    let t = c.json(
        "boss",
        &[
            "task",
            "create",
            "ok",
            "--description",
            "x\n=HYPERLINK(\"http://evil\"),=1+1",
        ],
    );
    let out =
        c.l.admin()
            .args(["--format", "csv", "task", "show", &t["number"].to_string()])
            .output()
            .unwrap();
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1, "{}", String::from_utf8_lossy(&out.stdout));
    let description = &rows[0][header.iter().position(|h| h == "description").unwrap()];
    assert_eq!(
        description, "x\n=HYPERLINK(\"http://evil\"),=1+1",
        "not a formula: it does not begin one"
    );
}

#[test]
fn a_refused_command_writes_nothing_even_with_a_delivery_pending() {
    let c = Company::new();
    c.defer_a_notification_for_w2();
    let mut cmd = c.l.cmd();
    cmd.env("POPUG_TOKEN", "pgt_bogus").args(["token", "revoke", "x"]);
    c.refused(cmd, 3, "not known");
    let mut cmd = c.cmd("w1");
    cmd.args(["shuffle"]);
    c.refused(cmd, 3, "is for admin");
    // the next command that writes delivers it
    c.json("boss", &["task", "create", "Now"]);
    assert_eq!(c.l.json(&["verify"])["deferred_notifications"], 0);
}

#[test]
fn init_never_takes_over_a_directory_with_a_planted_log_or_a_file() {
    let l = Ledger::new();
    fs::create_dir_all(&l.dir).unwrap();
    fs::write(l.dir.join("events.jsonl"), b"").unwrap();
    fs::set_permissions(l.dir.join("events.jsonl"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(l.dir.join("notes.txt"), b"mine").unwrap();
    let before = common::snapshot(&l.dir);
    let out = l.cmd().arg("init").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(common::snapshot(&l.dir), before);
    let file = l.home.join("a-file");
    fs::write(&file, b"x").unwrap();
    let out = l.cmd().env("POPUG_LEDGER", &file).arg("init").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read(&file).unwrap(), b"x");
}

#[test]
fn a_password_line_over_the_cap_is_refused_with_or_without_its_newline() {
    let c = Company::new();
    for input in [vec![b'a'; 4097], [vec![b'a'; 4097], b"\n".to_vec()].concat()] {
        let before = c.l.snapshot();
        let mut cmd = c.l.cmd();
        cmd.args(["login", "w1", "--password-stdin", "--print-token"]);
        let out = with_stdin(cmd, &input);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(c.l.snapshot(), before);
    }
}

#[test]
fn usage_errors_on_a_terminal_never_send_the_typed_escapes() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("POPUG_REQUIRE_PTY").is_none(),
            "`script` (util-linux) is required"
        );
        eprintln!("SKIPPED: `script` (util-linux) is not installed");
        return;
    }
    let l = Ledger::init();
    let cmd = format!(
        "{} user add x --role \"$(printf '\\033]0;PWNED\\007\\033[2J')\"",
        common::bin().display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("POPUG_LEDGER", &l.dir)
        .env("HOME", &l.home)
        .output()
        .unwrap();
    let all = [out.stdout, out.stderr].concat();
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("invalid value"), "{text}");
    assert!(!text.contains("\u{1b}]0;PWNED"), "{text:?}");
    assert!(!text.contains("\u{1b}[2J"), "{text:?}");
}

/// A `popug` command as an ordinary user (uid 65534 through `setpriv` when the tests run as
/// root, where permission bits do not apply), in `dir`.
fn as_ordinary_user(dir: &std::path::Path) -> Option<impl Fn() -> Command> {
    // SAFETY: geteuid has no preconditions
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        if Command::new("setpriv").arg("--version").output().is_err() {
            return None;
        }
        std::os::unix::fs::chown(dir, Some(65534), Some(65534)).unwrap();
    }
    let dir = dir.to_owned();
    Some(move || {
        let mut c = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(common::bin());
            c
        } else {
            Command::new(common::bin())
        };
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", dir.join("home"))
            .env("POPUG_LEDGER", dir.join("l"));
        c
    })
}

#[test]
fn a_maildir_folder_without_write_permission_defers_and_blocks_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(popug) = as_ordinary_user(tmp.path()) else {
        eprintln!("SKIPPED: running as root without `setpriv`: permission bits cannot be tested");
        assert!(
            std::env::var_os("POPUG_REQUIRE_SETPRIV").is_none(),
            "setpriv is required"
        );
        return;
    };
    let json = |args: &[&str], token: Option<&str>| -> Value {
        let mut c = popug();
        if let Some(t) = token {
            c.env("POPUG_TOKEN", t);
        }
        let out = c.arg("--json").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let init = json(&["init"], None);
    let mut login = popug();
    login.args(["login", "admin", "--password-stdin", "--print-token"]);
    let out = with_stdin(
        login,
        format!("{}\n", init["admin"]["password"].as_str().unwrap()).as_bytes(),
    );
    let admin = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    json(
        &["user", "add", "w1", "--role", "worker", "--notify", "file"],
        Some(&admin),
    );
    json(
        &["user", "add", "w2", "--role", "worker", "--notify", "none"],
        Some(&admin),
    );
    let new = tmp.path().join("l/notifications/w1/new");
    fs::set_permissions(&new, fs::Permissions::from_mode(0o500)).unwrap();
    let mut to_w1 = 0;
    for i in 0..20 {
        let d = json(&["task", "create", &format!("T{i}")], Some(&admin));
        to_w1 += (d["assignee"] == "w1") as usize;
    }
    assert!(to_w1 > 0);
    json(&["task", "list", "--all"], Some(&admin));
    let v = json(&["verify"], None);
    assert_eq!(v["deferred_notifications"].as_u64(), Some(to_w1 as u64), "{v}");
    fs::set_permissions(&new, fs::Permissions::from_mode(0o700)).unwrap();
    json(&["task", "create", "After"], Some(&admin));
    let v = json(&["verify"], None);
    assert_eq!(v["deferred_notifications"].as_u64(), Some(0), "{v}");
}

#[test]
fn a_crash_while_a_deferred_notification_is_delivered_delivers_it_once() {
    if !cfg!(debug_assertions) {
        eprintln!("SKIPPED: crash points exist in debug builds only");
        return;
    }
    let c = Company::new();
    let maildir = c.defer_a_notification_for_w2();
    for point in ["retry", "retry.durable"] {
        // deliver it, and die before (retry) or after (retry.durable) the event is durable
        let out = c
            .cmd("boss")
            .env("POPUG_LEDGER_CRASH_AT", point)
            .args(["task", "create", "Crashing"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the crash point was not reached");
        if point == "retry" {
            // the message may be in new/ already; the event is not in the log
            assert_eq!(
                c.l.json(&["verify"])["deferred_notifications"]
                    .as_u64()
                    .map(|n| n > 0),
                Some(true)
            );
        }
    }
    c.json("boss", &["task", "create", "After"]);
    let sent: Vec<String> = c
        .events()
        .iter()
        .filter(|e| e["type"] == "NotificationSent")
        .map(|e| e["data"]["notification_id"].as_str().unwrap().to_owned())
        .collect();
    let unique: std::collections::BTreeSet<&String> = sent.iter().collect();
    assert_eq!(unique.len(), sent.len(), "a notification was sent twice");
    let deferred: Vec<String> = c
        .events()
        .iter()
        .filter(|e| e["type"] == "NotificationDeferred")
        .map(|e| e["data"]["notification_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &deferred {
        assert!(sent.contains(id), "{id} was never delivered");
        let files = fs::read_dir(maildir.join("new"))
            .unwrap()
            .filter(|f| {
                f.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(id.as_str())
            })
            .count();
        assert_eq!(files, 1, "{id}: {files} messages");
    }
    let v = c.l.json(&["verify"]);
    assert_eq!(
        (v["ok"].as_bool(), v["deferred_notifications"].as_u64()),
        (Some(true), Some(0)),
        "{v}"
    );
}
