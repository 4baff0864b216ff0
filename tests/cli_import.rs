//! `popug task import` through the real binary: CSV and JSON lines, more than one group
//! commit, the same fees, balances and notifications as one-by-one creation, and every
//! refusal with its exit code and a ledger that is unchanged byte for byte.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::Ledger;
use serde_json::Value;

/// A ledger with two workers (stdout and file notifications) and a manager's token.
fn company() -> Ledger {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker"]);
    l.ok(&["user", "add", "gosha", "--role", "worker", "--notify", "file"]);
    l
}

fn import(l: &Ledger, args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = l
        .admin()
        // chunks of 1,000 tasks (debug builds only) so that a test crosses chunk boundaries
        .env("POPUG_IMPORT_CHUNK", "1000")
        .args(["task", "import"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn refused(l: &Ledger, args: &[&str], stdin: &[u8], code: i32, needle: &str) {
    let before = l.snapshot();
    let out = import(l, args, stdin);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: expected `{needle}` in: {err}");
    assert!(out.stdout.is_empty() || !err.is_empty());
    assert_eq!(l.snapshot(), before, "{args:?} changed the ledger");
}

fn events(l: &Ledger) -> Vec<Value> {
    l.ok(&["events", "--json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn a_csv_file_creates_priced_and_assigned_tasks_with_their_fees_and_notifications() {
    let l = company();
    let file = l.home.join("tasks.csv");
    std::fs::write(
        &file,
        "title,jira_id,description\nFix the beak,POP-1,\"Grease it, gently\"\nFeed parrots,,\n\"Sweep, then mop\",POP-77,\n",
    )
    .unwrap();
    let doc = l.json(&["task", "import", file.to_str().unwrap()]);
    assert_eq!(
        doc,
        serde_json::json!({"imported": 3, "first_number": 1, "last_number": 3})
    );

    let tasks = l.json(&["task", "list", "--all"]);
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[0]["title"], "Fix the beak");
    assert_eq!(tasks[0]["jira_id"], "POP-1");
    assert_eq!(tasks[0]["description"], "Grease it, gently");
    assert_eq!(tasks[1]["jira_id"], Value::Null, "an empty cell is no jira id");
    assert_eq!(tasks[2]["title"], "Sweep, then mop");

    // each task: priced in range, its fee debited from its assignee, one notification
    let balances = l.json(&["balance", "--all"]);
    let mut owed = std::collections::BTreeMap::<String, i64>::new();
    for t in tasks {
        let fee = t["assign_fee_cents"].as_i64().unwrap();
        let reward = t["reward_cents"].as_i64().unwrap();
        assert!((1000..=2000).contains(&fee) && fee % 100 == 0, "{t}");
        assert!((2000..=4000).contains(&reward) && reward % 100 == 0, "{t}");
        *owed
            .entry(t["assignee"].as_str().unwrap().to_owned())
            .or_default() -= fee;
    }
    for b in balances.as_array().unwrap() {
        let login = b["login"].as_str().unwrap();
        if login == "admin" {
            continue;
        }
        assert_eq!(
            b["balance_cents"].as_i64().unwrap(),
            owed.get(login).copied().unwrap_or(0),
            "{b}"
        );
    }
    let evs = events(&l);
    let count = |t: &str| evs.iter().filter(|e| e["type"] == t).count();
    assert_eq!(count("TaskCreated"), 3);
    let fees = evs
        .iter()
        .filter(|e| {
            e["type"] == "AccountBalanceUpdated" && e["data"]["transaction"]["reason"] == "assign_fee"
        })
        .count();
    assert_eq!(fees, 3, "one fee per imported task");
    let assigned = evs
        .iter()
        .filter(|e| {
            e["type"] == "NotificationSent" && e["data"]["subject"].as_str().unwrap().contains("assigned")
        })
        .count();
    assert_eq!(assigned, 3, "one notification per imported task");
    // each task is its own atomic batch, as with `task create`
    for e in evs.iter().filter(|e| e["type"] == "TaskCreated") {
        assert_eq!(e["batch_end"], e["seq"], "{e}");
        assert_eq!(e["causation_id"], Value::Null);
    }
    l.ok(&["verify"]);
}

#[test]
fn json_lines_from_stdin_in_several_group_commits_number_tasks_in_order() {
    let l = company();
    let n = 2_500; // three chunks of 1,000
    let mut input = String::new();
    for i in 0..n {
        input.push_str(&format!("{{\"title\":\"Task {i}\"}}\n"));
        if i % 1000 == 0 {
            input.push('\n'); // blank lines are skipped
        }
    }
    let out = import(&l, &["-", "--json"], input.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({"imported": n, "first_number": 1, "last_number": n})
    );
    // stdout-channel notifications go to stderr as JSON lines under --json
    let notes = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("\"notification\""))
        .count();
    assert!(notes > 0 && notes < n, "kesha's notifications only: {notes}");

    let tasks = l.json(&["task", "list", "--all"]);
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), n);
    for (i, t) in tasks.iter().enumerate() {
        assert_eq!(t["number"], i as i64 + 1);
        assert_eq!(t["title"], format!("Task {i}"));
    }
    // the Maildir of the file-channel worker holds one message per task assigned to them
    let gosha = tasks.iter().filter(|t| t["assignee"] == "gosha").count();
    let maildir = std::fs::read_dir(l.dir.join("notifications/gosha/new"))
        .unwrap()
        .count();
    assert_eq!(maildir, gosha + 1, "one per task, plus the welcome message");
    assert_eq!(notes + gosha, n, "every task told its assignee");
    let v = l.ok(&["verify"]);
    assert!(v.contains("ok"), "{v}");
}

#[test]
fn the_format_follows_the_flag_the_file_name_or_the_first_character() {
    let l = company();
    let jsonl = l.home.join("t.jsonl");
    std::fs::write(&jsonl, "{\"title\":\"From a file\"}\n").unwrap();
    assert_eq!(
        l.json(&["task", "import", jsonl.to_str().unwrap()])["imported"],
        1
    );
    let out = import(&l, &["-", "--json"], b"title\nFrom a CSV on stdin\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = import(&l, &["-", "--format", "csv", "--json"], b"title\n{not json}\n");
    assert!(out.status.success(), "--format csv wins over sniffing");
    let titles = common::titles(&l.json(&["task", "list", "--all"]));
    assert_eq!(titles, ["From a file", "From a CSV on stdin", "{not json}"]);
    // an empty file imports nothing
    let out = import(&l, &["-", "--format", "jsonl", "--json"], b"");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::json!({"imported": 0, "first_number": null, "last_number": null})
    );
}

#[test]
fn a_bad_row_anywhere_refuses_the_whole_file_and_writes_nothing() {
    let l = company();
    l.ok(&["task", "create", "Already there"]);
    let long = format!("{{\"title\":\"{}\"}}\n", "x".repeat(201));
    // (input format, input, what the error says): every one exit 2, nothing written
    let bad_rows: [(&str, &[u8], &str); 11] = [
        ("csv", b"title\nok\n\nfine\n\"\"\n", "the title is empty"),
        ("csv", b"title,owner\nx,y\n", "unknown column `owner`"),
        ("csv", b"jira_id\nPOP-1\n", "no `title` column"),
        ("csv", b"title,jira_id\nx,not-a-jira-id\n", "is not a Jira id"),
        ("csv", b"title\n[POP-1] old style\n", "may not contain `[`"),
        ("jsonl", b"{\"title\":\"ok\"}\n{\"title\":\"x\"\n", "line 2"),
        (
            "jsonl",
            b"{\"title\":\"ok\",\"assignee\":\"kesha\"}\n",
            "unknown field",
        ),
        ("jsonl", b"{\"jira_id\":\"POP-1\"}\n", "missing field `title`"),
        ("jsonl", b"\xff\xfe\n", "line 1"),
        ("jsonl", long.as_bytes(), "longer than 200"),
        ("json", b"", "names the input's format"),
    ];
    for (format, input, needle) in bad_rows {
        refused(&l, &["-", "--format", format], input, 2, needle);
    }
    refused(&l, &["/nonexistent/tasks.csv"], b"", 4, "cannot read");
    refused(&l, &[l.home.to_str().unwrap()], b"", 2, "cannot read");
    let tasks = l.json(&["task", "list", "--all"]);
    assert_eq!(tasks.as_array().unwrap().len(), 1);
}

#[test]
fn importing_needs_a_signed_in_user_and_a_worker() {
    let l = Ledger::init();
    refused(
        &l,
        &["-", "--format", "csv"],
        b"title\nNobody to do it\n",
        5,
        "no worker",
    );
    let before = l.snapshot();
    let file = l.home.join("t.csv");
    std::fs::write(&file, "title\nNobody signed in\n").unwrap();
    let out = l
        .cmd()
        .args(["task", "import", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(l.snapshot(), before);
}

#[test]
fn jsonl_is_an_input_format_only() {
    let l = company();
    let before = l.snapshot();
    let out = l.admin().args(["balance", "--format", "jsonl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("input format"));
    let out = l
        .admin()
        .env("POPUG_FORMAT", "xml")
        .args(["balance"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(l.snapshot(), before);
    // POPUG_FORMAT still chooses the output of every command, import included
    let out = l
        .admin()
        .env("POPUG_FORMAT", "json")
        .args(["balance", "--all"])
        .output()
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&out.stdout).is_ok());
}
