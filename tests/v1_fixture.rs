//! A ledger written before TaskCreated v2 (the Jira id inside the title) keeps working: it
//! replays, verifies and reports, and new v2 tasks join it. The fixture in
//! `tests/fixtures/v1-ledger/events.jsonl` was made by `regenerate_v1_fixture` below
//! (`cargo test --test v1_fixture -- --ignored regenerate`); the admin's password is
//! `fixture-admin-pw`.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use popug::events::{
    LedgerInitializedV1, MakeDailyPaymentsCommand, Notify, Payload, Role, TaskStatus, TaskStatusChanged,
    UserCreated,
};
use popug_ledger::{Clock, Ledger, NewEvent, Options};

const FIXTURE: &str = "tests/fixtures/v1-ledger/events.jsonl";
const PASSWORD: &str = "fixture-admin-pw";
/// (v1 title, assignee, fee, reward, done)
const TASKS: [(&str, &str, i64, i64, bool); 4] = [
    ("[POP-1] Fix beak", "w1", 1500, 3000, true),
    ("[POP-2] Clean cage", "w2", 1200, 2500, false),
    ("Feed the chicks", "w1", 1000, 4000, true),
    ("[UBERPOP-42] Sing at dawn", "w2", 2000, 2000, false),
];

#[test]
#[ignore = "writes the fixture; run by hand when the fixture must change"]
fn regenerate_v1_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("l");
    let opts = Options {
        seed: Some(42),
        ..Options::default()
    };
    let mut l = Ledger::create(&dir, popug::app::subscribers(&dir), opts).unwrap();
    let at = |s: &str| Clock::Fixed(s.parse().unwrap());
    let user = |id: &str, login: &str, role: Role, hash: &str| {
        UserCreated {
            user_id: id.into(),
            login: login.into(),
            name: None,
            email: None,
            role,
            password_hash: hash.into(),
            notify: Notify::None,
        }
        .to_event("system")
    };
    let hash = popug::auth::hash_password(PASSWORD).unwrap();
    l.write(at("2026-11-02T09:00:00Z"))
        .unwrap()
        .append(vec![
            // the fixture is an old ledger: its genesis is LedgerInitialized v1
            NewEvent::new(
                "LedgerInitialized",
                1,
                "scheduler",
                "system",
                &LedgerInitializedV1 {
                    ledger_id: "v1-fixture".into(),
                    timezone: "UTC".into(),
                },
            )
            .unwrap(),
            user("u-admin", "admin", Role::Admin, &hash),
        ])
        .unwrap();
    for (id, login) in [("u-w1", "w1"), ("u-w2", "w2")] {
        l.write(at("2026-11-02T09:01:00Z"))
            .unwrap()
            .append(vec![user(id, login, Role::Worker, "x")])
            .unwrap();
    }
    for (i, (title, who, fee, reward, _)) in TASKS.iter().enumerate() {
        let data = serde_json::json!({"task_id": format!("task-{i}"), "title": title, "description": null,
            "assignee_id": format!("u-{who}"), "assign_fee": fee, "reward": reward});
        let v1 = NewEvent::new("TaskCreated", 1, "tasks", "u-admin", &data).unwrap();
        l.write(at("2026-11-02T10:00:00Z"))
            .unwrap()
            .append(vec![v1])
            .unwrap();
    }
    for (i, (_, who, _, _, done)) in TASKS.iter().enumerate() {
        if *done {
            let e = TaskStatusChanged {
                task_id: format!("task-{i}").into(),
                from: TaskStatus::Open,
                to: TaskStatus::Done,
            };
            l.write(at("2026-11-03T10:00:00Z"))
                .unwrap()
                .append(vec![e.to_event(&format!("u-{who}"))])
                .unwrap();
        }
    }
    let pay = MakeDailyPaymentsCommand {
        date: "2026-11-03".into(),
    };
    l.write(at("2026-11-03T23:00:00Z"))
        .unwrap()
        .append(vec![pay.to_event("u-admin")])
        .unwrap();
    fs::copy(
        dir.join("events.jsonl"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE),
    )
    .unwrap();
}

#[test]
fn a_v1_ledger_replays_verifies_and_reports() {
    let mut l = common::Ledger::new();
    fs::create_dir(&l.dir).unwrap();
    fs::set_permissions(&l.dir, fs::Permissions::from_mode(0o700)).unwrap();
    let log = l.dir.join("events.jsonl");
    fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE), &log).unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o600)).unwrap();
    let original = fs::read(&log).unwrap();
    assert!(String::from_utf8_lossy(&original).contains("\"type\":\"TaskCreated\",\"v\":1"));

    l.admin_token = common::login_token(l.cmd(), "admin", PASSWORD);
    assert!(l.admin_token.starts_with("pgs_"));
    assert!(
        fs::read(&log).unwrap().starts_with(&original),
        "the v1 lines are never rewritten"
    );

    let v = l.json(&["verify"]);
    assert_eq!(v["ok"], true);
    assert!(v["tables_compared"].as_array().unwrap().len() >= 9);

    // the titles are upcast on read
    let tasks = l.json(&["task", "list", "--all"]);
    let got: Vec<(String, Option<String>)> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["title"].as_str().unwrap().to_owned(),
                t["jira_id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let want = vec![
        ("Fix beak".to_owned(), Some("POP-1".to_owned())),
        ("Clean cage".to_owned(), Some("POP-2".to_owned())),
        ("Feed the chicks".to_owned(), None),
        ("Sing at dawn".to_owned(), Some("UBERPOP-42".to_owned())),
    ];
    assert_eq!(got, want);

    // money as the rules say: fees, rewards, and the 3rd's payout of w1's positive balance
    let mut expected = std::collections::BTreeMap::from([("w1", 0i64), ("w2", 0)]);
    for (_, who, fee, reward, done) in TASKS {
        *expected.get_mut(who).unwrap() += if done { reward - fee } else { -fee };
    }
    let w1_paid = expected["w1"].max(0);
    expected.insert("w1", expected["w1"] - w1_paid);
    let balances = l.json(&["balance", "--all"]);
    for b in balances.as_array().unwrap() {
        let login = b["login"].as_str().unwrap();
        assert_eq!(
            b["balance_cents"].as_i64().unwrap(),
            expected.get(login).copied().unwrap_or(0),
            "{login}"
        );
    }
    let a = l.json(&["analytics", "--date", "2026-11-03"]);
    assert_eq!(a["most_expensive_task"]["day"]["reward_cents"], 4000);
    assert_eq!(a["most_expensive_task"]["day"]["title"], "Feed the chicks");
    let e = l.json(&["earnings"]);
    let total: i64 = e
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["earnings_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(total, TASKS.iter().map(|t| t.2).sum::<i64>() - 3000 - 4000);

    // new tasks are v2 and live beside the old ones; a bracket in a new title is refused
    l.ok(&["task", "create", "Fix wing", "--jira-id", "POP-3"]);
    let refused = l
        .admin()
        .args(["task", "create", "[POP-4] Old style"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let now = String::from_utf8(fs::read(&log).unwrap()).unwrap();
    assert!(now.lines().last().is_some());
    assert!(now.contains("\"type\":\"TaskCreated\",\"v\":2"));
    assert_eq!(l.json(&["verify"])["ok"], true);
    // a rebuild from scratch gives the same answers
    l.ok(&["rebuild"]);
    assert_eq!(l.json(&["task", "list", "--all"]).as_array().unwrap().len(), 5);
}
