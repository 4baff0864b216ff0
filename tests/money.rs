//! Money at the edges, through the real binary: payment runs that are missed, made early,
//! made out of order or twice in a DST hour pay each day's own end-of-day balance, once;
//! nothing is forfeited, nothing is paid twice. An independent model of the rules (DESIGN
//! §5) checks every payment: what the worker held at the end of its day, as of the run.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::Ledger;
use serde_json::Value;

struct Company {
    l: Ledger,
    tokens: BTreeMap<String, String>,
    /// The model: each worker's balance changes per billing day (in the ledger's timezone).
    model: BTreeMap<String, BTreeMap<String, i64>>,
    tz: chrono_tz::Tz,
}

impl Company {
    fn new(tz: &str, init_at: &str) -> Company {
        // the timezone is set at init
        let l = Ledger::init_with_args(&[("POPUG_NOW", init_at)], &["--timezone", tz]);
        let mut c = Company {
            tokens: BTreeMap::new(),
            model: BTreeMap::new(),
            tz: tz.parse().unwrap(),
            l,
        };
        c.tokens.insert("admin".into(), c.l.admin_token.clone());
        for (login, role) in [("w1", "worker"), ("w2", "worker"), ("boss", "manager")] {
            let out =
                c.l.admin()
                    .env("POPUG_NOW", init_at)
                    .args(["--json", "user", "add", login, "--role", role, "--notify", "none"])
                    .output()
                    .unwrap();
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            let mut cmd = c.l.cmd();
            cmd.env("POPUG_NOW", init_at);
            let t = common::login_token(cmd, login, doc["password"].as_str().unwrap());
            c.tokens.insert(login.into(), t);
        }
        c
    }

    fn day(&self, at: &str) -> String {
        let t: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
        t.with_timezone(&self.tz).date_naive().to_string()
    }

    fn run(&self, who: &str, at: &str, args: &[&str]) -> Value {
        let out = self.cmd(who, at).arg("--json").args(args).output().unwrap();
        common::ok_json(out, &format!("{who} {args:?} at {at}"))
    }

    fn cmd(&self, who: &str, at: &str) -> Command {
        let mut c = self.l.cmd();
        c.env("POPUG_TOKEN", &self.tokens[who]).env("POPUG_NOW", at);
        c
    }

    fn book(&mut self, login: &str, day: &str, delta: i64) {
        *self
            .model
            .entry(login.into())
            .or_default()
            .entry(day.into())
            .or_default() += delta;
    }

    /// The boss creates a task at `at`; its assignee finishes it at once when `done`.
    fn work(&mut self, at: &str, done: bool) {
        let d = self.run("boss", at, &["task", "create", "Work"]);
        let who = d["assignee"].as_str().unwrap().to_owned();
        let day = self.day(at);
        self.book(&who, &day, -d["assign_fee_cents"].as_i64().unwrap());
        if done {
            let n = d["number"].to_string();
            let r = self.run(&who, at, &["task", "done", &n]);
            self.book(&who, &day, r["reward_cents"].as_i64().unwrap());
        }
    }

    /// What `login` held at the end of `day` in the model.
    fn owed(&self, login: &str, day: &str) -> i64 {
        self.model
            .get(login)
            .map_or(0, |days| days.range(..=day.to_owned()).map(|(_, v)| v).sum())
    }

    /// Runs `pay-daily` (with `--date` when given) and checks every payment against the
    /// model, day by day in the order paid; returns the days the run covered.
    fn pay(&mut self, at: &str, date: Option<&str>) -> Vec<String> {
        let mut args = vec!["pay-daily"];
        if let Some(d) = date {
            args.extend(["--date", d]);
        }
        let doc = self.run("admin", at, &args);
        let mut paid_any = false;
        // (a binary before `days` existed covered only its `date`: so it can be shown to fail)
        let days: Vec<String> = match doc["days"].as_array() {
            Some(days) => days.iter().map(|d| d.as_str().unwrap().to_owned()).collect(),
            None if doc["already_paid"] == true => Vec::new(),
            None => vec![doc["date"].as_str().unwrap().to_owned()],
        };
        let payments = doc["payments"].as_array().unwrap().clone();
        // every day of the run, oldest first: who was owed is paid exactly that
        let mut by_day: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for d in &days {
            by_day.insert(d.clone(), Vec::new());
        }
        for p in payments {
            assert_eq!(p["status"], "confirmed", "{p}");
            let day = p["date"].as_str().or(doc["date"].as_str()).unwrap();
            by_day
                .get_mut(day)
                .unwrap_or_else(|| panic!("{p} is not for a day of the run: {doc}"))
                .push(p);
        }
        for (day, ps) in by_day {
            for login in ["w1", "w2"] {
                let owed = self.owed(login, &day);
                let paid: i64 = ps
                    .iter()
                    .filter(|p| p["login"] == login)
                    .map(|p| p["amount_cents"].as_i64().unwrap())
                    .sum();
                assert_eq!(paid, owed.max(0), "{login} on {day} (run at {at}): {ps:?}");
                if paid > 0 {
                    self.book(login, &day, -paid);
                }
            }
            paid_any |= !ps.is_empty();
        }
        assert_eq!(doc["already_paid"], !paid_any, "{doc}");
        let v = self.l.json(&["verify"]);
        assert_eq!(v["ok"], true);
        days
    }

    fn balances_match_the_model(&self) {
        for login in ["w1", "w2"] {
            let b = self.run("admin", "2026-11-30T00:00:00Z", &["balance", login]);
            let model: i64 = self.model.get(login).map_or(0, |d| d.values().sum());
            assert_eq!(b["balance_cents"].as_i64().unwrap(), model, "{login}");
        }
    }
}

/// A day's work: tasks created and finished, so the workers who did them end the day in the
/// black (a reward is never less than a fee).
fn busy(c: &mut Company, day: &str, from_hour: u32, to_hour: u32) {
    for h in from_hour..to_hour {
        c.work(&format!("{day}T{h:02}:10:00Z"), true);
        c.work(&format!("{day}T{h:02}:20:00Z"), true);
    }
}

#[test]
fn a_missed_evening_run_is_caught_up_at_boot_and_the_evening_run_still_pays_the_day() {
    let mut c = Company::new("UTC", "2026-11-25T08:00:00Z");
    busy(&mut c, "2026-11-25", 9, 12);
    assert_eq!(c.pay("2026-11-25T20:00:00Z", None), ["2026-11-25"]);
    busy(&mut c, "2026-11-26", 9, 12);
    // no run on the evening of the 26th; the timer catches up at boot on the 27th: yesterday
    // is paid as yesterday (the model checks each amount), then today so far (nothing yet)
    assert!(c.owed("w1", "2026-11-26") > 0 || c.owed("w2", "2026-11-26") > 0);
    assert_eq!(c.pay("2026-11-27T07:00:00Z", None), ["2026-11-26", "2026-11-27"]);
    busy(&mut c, "2026-11-27", 9, 14);
    // the evening run pays what was earned since the morning
    let days = c.pay("2026-11-27T20:00:00Z", None);
    assert_eq!(days, ["2026-11-27"]);
    // asking for yesterday again covers nothing; a second evening run pays nothing (the
    // model, checked in `pay`, says nobody is owed anything more)
    assert!(c.pay("2026-11-27T21:00:00Z", Some("2026-11-26")).is_empty());
    assert_eq!(c.pay("2026-11-27T21:30:00Z", None), ["2026-11-27"]);
    c.balances_match_the_model();
}

#[test]
fn paying_a_later_day_first_pays_every_earlier_unpaid_day_its_own_balance() {
    let mut c = Company::new("UTC", "2026-11-25T08:00:00Z");
    busy(&mut c, "2026-11-25", 9, 12);
    busy(&mut c, "2026-11-26", 9, 10);
    // on the 27th, open tasks only: fees push balances down after a positive 26th, which
    // the 26th's own payment must not lose
    for h in 9..14 {
        c.work(&format!("2026-11-27T{h:02}:00:00Z"), false);
    }
    let days = c.pay("2026-11-28T09:00:00Z", Some("2026-11-27"));
    assert_eq!(
        days,
        ["2026-11-25", "2026-11-26", "2026-11-27"]
            .map(String::from)
            .to_vec()
    );
    // the 26th and 25th are not paid again
    assert!(c.pay("2026-11-28T09:10:00Z", Some("2026-11-26")).is_empty());
    assert!(c.pay("2026-11-28T09:20:00Z", Some("2026-11-25")).is_empty());
    c.balances_match_the_model();
}

#[test]
fn two_runs_in_the_repeated_dst_hour_lose_nothing_and_pay_nothing_twice() {
    // Berlin leaves summer time on 2026-10-25: 02:00-03:00 local happens twice
    // (00:00-01:00Z as CEST, 01:00-02:00Z as CET)
    let mut c = Company::new("Europe/Berlin", "2026-10-23T08:00:00Z");
    busy(&mut c, "2026-10-23", 9, 12);
    assert_eq!(c.pay("2026-10-23T18:00:00Z", None), ["2026-10-23"]);
    busy(&mut c, "2026-10-24", 9, 12);
    // the evening run of the 24th was missed; a run fires at 02:30 CEST and again at 02:30 CET
    c.work("2026-10-24T23:10:00Z", true); // 01:10 on the 25th in Berlin
    let first = c.pay("2026-10-25T00:30:00Z", None);
    assert_eq!(first, ["2026-10-24", "2026-10-25"]);
    c.work("2026-10-25T00:50:00Z", true);
    c.work("2026-10-25T01:10:00Z", true);
    assert_eq!(c.pay("2026-10-25T01:30:00Z", None), ["2026-10-25"]);
    busy(&mut c, "2026-10-25", 9, 12);
    assert_eq!(c.pay("2026-10-25T18:00:00Z", None), ["2026-10-25"]);
    c.balances_match_the_model();
}

#[test]
fn a_first_run_pays_every_day_since_the_ledger_began() {
    let mut c = Company::new("UTC", "2026-11-24T08:00:00Z");
    busy(&mut c, "2026-11-24", 9, 11);
    busy(&mut c, "2026-11-25", 9, 11);
    let days = c.pay("2026-11-26T12:00:00Z", None);
    assert_eq!(days, ["2026-11-24", "2026-11-25", "2026-11-26"]);
    c.balances_match_the_model();
}

/// Runs `popug --json task import FILE --idempotency-key KEY` as the boss with `env`.
fn import(c: &Company, file: &std::path::Path, key: &str, env: &[(&str, &str)]) -> Output {
    c.cmd("boss", "2026-11-27T10:00:00Z")
        .envs(env.iter().copied())
        .args(["--json", "task", "import"])
        .arg(file)
        .args(["--idempotency-key", key])
        .output()
        .unwrap()
}

use std::process::Output;

fn log(c: &Company) -> Vec<Value> {
    std::fs::read_to_string(c.l.dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_idempotency_key_is_its_users_own() {
    let c = Company::new("UTC", "2026-11-27T08:00:00Z");
    let args = ["task", "create", "Fix the beak", "--idempotency-key", "req-1"];
    let boss = c.run("boss", "2026-11-27T09:00:00Z", &args);
    // a worker who picks the same key and request makes their own task, and never sees
    // the boss's answer
    let w1 = c.run("w1", "2026-11-27T09:01:00Z", &args);
    assert_ne!(
        w1["task_id"], boss["task_id"],
        "another user's key is another key"
    );
    assert_eq!(w1["number"].as_i64(), boss["number"].as_i64().map(|n| n + 1));
    // and each user's retry still answers as their first time
    assert_eq!(c.run("w1", "2026-11-27T09:02:00Z", &args), w1);
    assert_eq!(c.run("boss", "2026-11-27T09:03:00Z", &args), boss);
    // a different request under w1's key is a conflict for w1 alone
    let out = c
        .cmd("w1", "2026-11-27T09:04:00Z")
        .args(["task", "create", "Something else", "--idempotency-key", "req-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
}

#[test]
fn a_retried_create_with_its_key_answers_as_the_first_time_and_writes_nothing() {
    let c = Company::new("UTC", "2026-11-27T08:00:00Z");
    let args = ["task", "create", "Fix the beak", "--idempotency-key", "req-1"];
    let first = c.run("boss", "2026-11-27T09:00:00Z", &args);
    let before = c.l.snapshot();
    // the client timed out and retries; meanwhile a shuffle moved the task
    let again = c.run("boss", "2026-11-27T09:01:00Z", &args);
    assert_eq!(again, first);
    assert_eq!(c.l.snapshot(), before, "a retry wrote");
    c.run("admin", "2026-11-27T09:02:00Z", &["shuffle"]);
    assert_eq!(
        c.run("boss", "2026-11-27T09:03:00Z", &args),
        first,
        "the first answer, whoever holds it now"
    );
    // the same key with another request: exit 5, nothing written
    let before = c.l.snapshot();
    let out = c
        .cmd("boss", "2026-11-27T09:04:00Z")
        .args(["task", "create", "Something else", "--idempotency-key", "req-1"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("different request"));
    assert_eq!(c.l.snapshot(), before);
    // keys live in the log: after a rebuild the retry still writes nothing
    c.l.ok(&["rebuild"]);
    let before = c.l.snapshot();
    assert_eq!(c.run("boss", "2026-11-27T09:05:00Z", &args), first);
    assert_eq!(c.l.snapshot(), before);
    let fees = log(&c)
        .iter()
        .filter(|e| {
            let tx = &e["data"]["transaction"];
            tx["reason"] == "assign_fee" && tx["task_id"] == first["task_id"]
        })
        .count();
    assert_eq!(fees, 1, "one fee for one task");
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn an_import_retried_after_a_crash_or_a_time_out_imports_each_row_once() {
    let c = Company::new("UTC", "2026-11-27T08:00:00Z");
    let file = c.l.home.join("tasks.csv");
    let rows: String = (0..10).map(|i| format!("Row {i}\n")).collect();
    std::fs::write(&file, format!("title\n{rows}")).unwrap();
    // killed after its second chunk of 3 was durable
    let out = import(
        &c,
        &file,
        "batch-7",
        &[
            ("POPUG_IMPORT_CHUNK", "3"),
            ("POPUG_LEDGER_CRASH_AT", "append.durable:2"),
        ],
    );
    assert!(!out.status.success());
    let created = |c: &Company| log(c).iter().filter(|e| e["type"] == "TaskCreated").count();
    assert_eq!(created(&c), 6, "two whole chunks");
    // the retry imports the rest, once, and answers for the whole request
    let out = import(&c, &file, "batch-7", &[("POPUG_IMPORT_CHUNK", "3")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["imported"], 10, "{answer}");
    assert_eq!(created(&c), 10);
    let titles: std::collections::BTreeSet<String> = log(&c)
        .iter()
        .filter(|e| e["type"] == "TaskCreated")
        .map(|e| e["data"]["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles.len(), 10, "each row once");
    // a retry of the finished import answers the same and writes nothing
    let before = c.l.snapshot();
    let out = import(&c, &file, "batch-7", &[]);
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), answer);
    assert_eq!(c.l.snapshot(), before);
    // the same key for another file: exit 5
    std::fs::write(&file, "title\nOther\n").unwrap();
    let out = import(&c, &file, "batch-7", &[]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(c.l.snapshot(), before);
    assert_eq!(c.l.json(&["verify"])["ok"], true);
}

#[test]
fn a_past_days_analytics_count_people_by_the_role_they_had_that_day() {
    let mut c = Company::new("UTC", "2026-11-25T08:00:00Z");
    // both workers end the 25th in the red (open tasks: fees only)
    let mut i = 0;
    while c.owed("w1", "2026-11-25") >= 0 || c.owed("w2", "2026-11-25") >= 0 {
        c.work(&format!("2026-11-25T10:{i:02}:00Z"), false);
        i += 1;
        assert!(i < 50);
    }
    let day = |c: &Company| {
        c.run(
            "admin",
            "2026-11-26T12:00:00Z",
            &["analytics", "--date", "2026-11-25"],
        )
    };
    let before = day(&c);
    assert_eq!(before["negative_workers"], 2, "{before}");
    // on the 26th w1 becomes a manager and a new worker joins: the 25th is what it was
    c.run(
        "admin",
        "2026-11-26T09:00:00Z",
        &["user", "set-role", "w1", "manager"],
    );
    c.run(
        "admin",
        "2026-11-26T09:05:00Z",
        &["user", "add", "w9", "--role", "worker", "--notify", "none"],
    );
    assert_eq!(day(&c), before);
    let today = c.run(
        "admin",
        "2026-11-26T12:00:00Z",
        &["analytics", "--date", "2026-11-26"],
    );
    assert!(today["negative_workers"].as_i64().unwrap() <= 1, "{today}");
}

#[test]
fn exports_filter_by_the_ledgers_day_as_billing_does() {
    let c = Company::new("Europe/Berlin", "2026-11-27T08:00:00Z");
    // 23:30 UTC on the 27th is 00:30 on the 28th in Berlin: its fee is billed on the 28th
    c.run("boss", "2026-11-27T22:30:00Z", &["task", "create", "Early one"]);
    let late = c.run("boss", "2026-11-27T23:30:00Z", &["task", "create", "Late one"]);
    let export = |what: &str, day: &str| c.l.ok(&["export", what, "--from", day, "--to", day]);
    let on_28 = export("tasks", "2026-11-28");
    assert!(on_28.contains("Late one"), "{on_28}");
    assert!(!on_28.contains("Early one"), "{on_28}");
    let on_27 = export("tasks", "2026-11-27");
    assert!(
        on_27.contains("Early one") && !on_27.contains("Late one"),
        "{on_27}"
    );
    let tx = export("transactions", "2026-11-28");
    assert!(tx.contains(late["task_id"].as_str().unwrap()), "{tx}");
    // users too: everyone was added on the 27th in Berlin (09:00 UTC)
    assert_eq!(export("users", "2026-11-28").lines().count(), 1, "a header only");
    assert!(export("users", "2026-11-27").lines().count() > 3);
}

#[test]
fn days_follow_the_tz_database_built_into_popug_not_an_older_one() {
    // British Columbia stays on daylight time (UTC-7) from November 2026 (tzdata 2026f);
    // tzdata 2025b, which popug used before, still had it fall back to UTC-8 on 2026-11-01
    let c = Company::new("America/Vancouver", "2026-11-20T20:00:00Z");
    // 07:30 UTC on the 21st is 00:30 on the 21st at UTC-7 (23:30 on the 20th at UTC-8)
    let task = c.run("boss", "2026-11-21T07:30:00Z", &["task", "create", "Night one"]);
    let export = |what: &str, day: &str| c.l.ok(&["export", what, "--from", day, "--to", day]);
    let id = task["task_id"].as_str().unwrap();
    assert!(export("tasks", "2026-11-21").contains("Night one"));
    assert!(!export("tasks", "2026-11-20").contains("Night one"));
    assert!(export("transactions", "2026-11-21").contains(id));
    assert!(!export("transactions", "2026-11-20").contains(id));
}

#[test]
fn the_audit_log_names_each_fees_and_rewards_task() {
    let mut c = Company::new("UTC", "2026-11-27T08:00:00Z");
    c.work("2026-11-27T09:00:00Z", true);
    let who = ["w1", "w2"]
        .into_iter()
        .find(|w| c.model.contains_key(*w))
        .unwrap();
    let audit = c.run("admin", "2026-11-27T10:00:00Z", &["audit", who]);
    let rows = audit.as_array().unwrap();
    assert!(rows.len() >= 2, "{audit}");
    for r in rows.iter().filter(|r| r["task_id"].is_string()) {
        assert_eq!(
            (r["task_number"].as_i64(), r["task_title"].as_str()),
            (Some(1), Some("Work")),
            "{r}"
        );
    }
    let table = c
        .cmd("admin", "2026-11-27T10:00:00Z")
        .args(["audit", who])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("Work"));
    // one range rule: --from after --to is refused, as by earnings and export
    let out = c
        .cmd("admin", "2026-11-27T10:00:00Z")
        .args(["audit", who, "--from", "2026-03-01", "--to", "2026-02-28"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_day_before_the_ledger_began_is_refused() {
    let c = Company::new("UTC", "2026-11-25T08:00:00Z");
    let before = c.l.snapshot();
    for date in ["2000-01-01", "2026-11-24"] {
        let out = c
            .cmd("admin", "2026-11-26T09:00:00Z")
            .args(["pay-daily", "--date", date])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("before the ledger began"));
    }
    assert_eq!(c.l.snapshot(), before);
}
