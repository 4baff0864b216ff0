//! `schemas/` holds the JSON Schema of every event type and version, generated from the Rust
//! payload types; this test fails when they drift (bless with `POPUG_BLESS=1`). Every event
//! of a real day, and of the v1 fixture, is validated against its schema.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn catalogue() -> Vec<(String, u64)> {
    let out = common::popug().args(["--json", "schema"]).output().unwrap();
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["v"].as_u64().unwrap()))
        .collect()
}

#[test]
fn schemas_are_up_to_date_with_the_binary() {
    let mut expected_files = Vec::new();
    for (ty, v) in catalogue() {
        let out = common::popug()
            .args(["schema", &format!("{ty}@{v}")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{ty}@{v}");
        let file = schemas_dir().join(format!("{ty}.v{v}.json"));
        if std::env::var_os("POPUG_BLESS").is_some() {
            fs::create_dir_all(schemas_dir()).unwrap();
            fs::write(&file, &out.stdout).unwrap();
        }
        let stored = fs::read(&file).unwrap_or_default();
        assert!(
            stored == out.stdout,
            "schemas/{ty}.v{v}.json is out of date: run `POPUG_BLESS=1 cargo test --test schemas`"
        );
        expected_files.push(format!("{ty}.v{v}.json"));
    }
    let mut present: Vec<String> = fs::read_dir(schemas_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    present.sort();
    expected_files.sort();
    assert_eq!(present, expected_files, "schemas/ holds a file for no event type");
    // the latest version is the default, an unknown type is not found
    let latest = common::popug().args(["schema", "TaskCreated"]).output().unwrap();
    assert_eq!(
        latest.stdout,
        fs::read(schemas_dir().join("TaskCreated.v2.json")).unwrap()
    );
    assert_eq!(
        common::popug()
            .args(["schema", "Nope"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(4)
    );
    assert_eq!(
        common::popug()
            .args(["schema", "TaskCreated@x"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

fn validators() -> BTreeMap<(String, u64), jsonschema::Validator> {
    catalogue()
        .into_iter()
        .map(|(ty, v)| {
            let schema: Value =
                serde_json::from_slice(&fs::read(schemas_dir().join(format!("{ty}.v{v}.json"))).unwrap())
                    .unwrap();
            ((ty, v), jsonschema::validator_for(&schema).unwrap())
        })
        .collect()
}

fn validate_log(text: &str, validators: &BTreeMap<(String, u64), jsonschema::Validator>) -> usize {
    let mut n = 0;
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let key = (e["type"].as_str().unwrap().to_owned(), e["v"].as_u64().unwrap());
        let validator = validators
            .get(&key)
            .unwrap_or_else(|| panic!("no schema for {key:?}"));
        let errors: Vec<String> = validator
            .iter_errors(&e["data"])
            .map(|err| err.to_string())
            .collect();
        assert!(errors.is_empty(), "{key:?} seq {}: {errors:?}", e["seq"]);
        n += 1;
    }
    n
}

#[test]
fn every_event_of_a_day_and_of_the_v1_fixture_matches_its_schema() {
    let validators = validators();
    // a day with every kind of event
    let l = common::Ledger::init();
    let w1 = l.json(&["user", "add", "w1", "--role", "worker", "--notify", "stdout"]);
    l.ok(&[
        "user",
        "add",
        "w2",
        "--role",
        "worker",
        "--notify",
        "file",
        "--name",
        "Popug Two",
        "--email",
        "w2@example.com",
    ]);
    l.ok(&["user", "set-role", "w2", "manager"]);
    l.ok(&["user", "set-role", "w2", "worker"]);
    l.ok(&["token", "create", "--name", "cron"]);
    let w1_token = common::login_token(l.cmd(), "w1", w1["password"].as_str().unwrap());
    for i in 0..6 {
        l.ok(&[
            "task",
            "create",
            &format!("t{i}"),
            "--jira-id",
            "POP-1",
            "--description",
            "d",
        ]);
    }
    // tasks land at random: shuffle until w1 holds one (all six could go to w2, 1 in 64;
    // each shuffle is another chance), so that the day has a completion
    let mine = (0..20)
        .map(|_| {
            l.ok(&["shuffle"]);
            let out = l
                .cmd()
                .env("POPUG_TOKEN", &w1_token)
                .args(["--json", "task", "list"])
                .output()
                .unwrap();
            serde_json::from_slice::<Value>(&out.stdout).unwrap()
        })
        .find(|tasks| !tasks.as_array().unwrap().is_empty())
        .expect("twenty shuffles never gave w1 a task");
    for t in mine.as_array().unwrap() {
        let done = l
            .cmd()
            .env("POPUG_TOKEN", &w1_token)
            .args(["task", "done", &t["number"].to_string()])
            .output()
            .unwrap();
        assert!(done.status.success());
    }
    l.ok(&["pay-daily"]);
    let log = fs::read_to_string(l.dir.join("events.jsonl")).unwrap();
    let n = validate_log(&log, &validators);
    for ty in [
        "UserRoleChanged",
        "CredentialIssued",
        "TaskReassigned",
        "TaskStatusChanged",
        "MakeDailyPaymentsCommand",
        "NotificationSent",
        "AccountBalanceUpdated",
    ] {
        assert!(log.contains(&format!("\"type\":\"{ty}\"")), "the day has no {ty}");
    }
    // and the old ledger
    let fixture = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1-ledger/events.jsonl"),
    )
    .unwrap();
    let m = validate_log(&fixture, &validators);
    eprintln!("{n} events of a day and {m} of the v1 fixture match their schemas");
}
