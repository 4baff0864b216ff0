//! Hostile command lines: each gets a clear error with the exit code of CLI.md and leaves the
//! ledger unchanged byte for byte; SQL-looking text is just text; no secret is echoed.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use common::Ledger;

fn refused(l: &Ledger, args: &[OsString], env: &[(&str, &str)], code: i32) {
    let before = l.snapshot();
    let out = l.admin().args(args).envs(env.iter().copied()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?} {env:?}: {err}");
    assert!(err.contains("error"), "{args:?}: no error message: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(l.snapshot(), before, "{args:?} changed the ledger");
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

#[test]
fn bad_input_table() {
    let l = Ledger::init();
    l.ok(&["user", "add", "w1", "--role", "worker"]);
    let huge = "x".repeat(100_000);
    let long_login = "a".repeat(33);
    let cases: Vec<(Vec<OsString>, i32)> = vec![
        // not UTF-8
        (
            vec![
                "task".into(),
                "create".into(),
                OsString::from_vec(vec![0x66, 0xff, 0xfe]),
            ],
            2,
        ),
        (
            vec!["user".into(), "show".into(), OsString::from_vec(vec![0xc3, 0x28])],
            2,
        ),
        // huge, control characters, header injection
        (os(&["task", "create", &huge]), 2),
        (os(&["task", "create", "\u{1b}[31mred"]), 2),
        (os(&["task", "create", "tab\there"]), 2),
        (os(&["task", "create", "ok", "--description", "bell \u{7}"]), 2),
        (
            os(&[
                "user",
                "add",
                "x",
                "--role",
                "worker",
                "--email",
                "a@b.example\r\nBcc: evil@example.com",
            ]),
            2,
        ),
        (
            os(&["user", "add", "x", "--role", "worker", "--name", "line\nbreak"]),
            2,
        ),
        (os(&["user", "add", &long_login, "--role", "worker"]), 2),
        // negative and overflowing numbers
        (os(&["events", "--since", "-1"]), 2),
        (os(&["events", "--since", "18446744073709551616"]), 2),
        (os(&["task", "done", "--", "-1"]), 4),
        (os(&["task", "show", "99999999999999999999999"]), 4),
        (os(&["token", "create", "--name", "t", "--expires-in", "-5d"]), 2),
        (
            os(&["token", "create", "--name", "t", "--expires-in", "99999999999d"]),
            2,
        ),
        // bad dates
        (os(&["pay-daily", "--date", "2026-02-30"]), 2),
        (os(&["pay-daily", "--date", ""]), 2),
        (os(&["audit", "--from", "2026-1-1"]), 2),
        (os(&["audit", "--to", "tomorrow"]), 2),
        // unknown roles and channels
        (os(&["user", "add", "x", "--role", "root"]), 2),
        (os(&["user", "set-role", "w1", "superuser"]), 2),
        (
            os(&[
                "user",
                "add",
                "x",
                "--role",
                "worker",
                "--notify",
                "carrier-pigeon",
            ]),
            2,
        ),
        // SQL-looking lookups find nothing
        (os(&["user", "show", "x' OR '1'='1"]), 4),
        (os(&["task", "show", "1 OR 1=1"]), 4),
        (os(&["balance", "w1'; DROP TABLE accounts; --"]), 4),
        (os(&["--format", "xml", "task", "list"]), 2),
    ];
    for (args, code) in &cases {
        refused(&l, args, &[], *code);
    }
    for (k, v) in [
        ("POPUG_SEED", "abc"),
        ("POPUG_SEED", "-1"),
        ("POPUG_NOW", "yesterday"),
        ("POPUG_FORMAT", "xml"),
    ] {
        refused(&l, &os(&["task", "list"]), &[(k, v)], 2);
    }
    assert!(l.json(&["verify"])["ok"] == true);
}

#[test]
fn sql_looking_text_is_stored_verbatim() {
    let l = Ledger::init();
    l.ok(&["user", "add", "w1", "--role", "worker"]);
    let title = "Robert'); DROP TABLE tasks; -- \"quoted\" ☃";
    let doc = l.json(&["task", "create", title, "--description", "1; DELETE FROM users"]);
    let shown = l.json(&["task", "show", &doc["number"].to_string()]);
    assert_eq!(shown["title"], title);
    assert_eq!(shown["description"], "1; DELETE FROM users");
    assert_eq!(l.json(&["user", "list"]).as_array().unwrap().len(), 2);
    assert_eq!(l.json(&["verify"])["ok"], true);
}

#[test]
fn secrets_are_not_echoed_in_errors() {
    let l = Ledger::init();
    let secret = "pgt_deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
    let out = l
        .cmd()
        .env("POPUG_TOKEN", secret)
        .args(["--json", "whoami"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&secret[4..]));
    let mut child = l
        .cmd()
        .args(["login", "admin", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"hunter2-wrong-password\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    // and the password hash is never shown by user commands
    let users = l.ok(&["--json", "user", "list"]);
    assert!(!users.contains("argon2"), "{users}");
}
