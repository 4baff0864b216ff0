//! A ledger written before each context had its own store opens, rebuilds, verifies and
//! answers exactly as before with this build. The fixture in `tests/fixtures/schema9-ledger`
//! was written by the binary of commit cd593d2 (one projection database, `popug.db`, schema
//! 9), with the answers that binary gave, by its `make.sh`.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const FIXTURE: &str = "tests/fixtures/schema9-ledger";

/// A private copy of the fixture's ledger (the log and the old `popug.db`), as it was on
/// the old binary's machine.
fn copy_of_the_old_ledger(dir: &Path) {
    fs::create_dir(dir).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).unwrap();
    for f in ["events.jsonl", "popug.db", "lock"] {
        fs::copy(Path::new(FIXTURE).join("ledger").join(f), dir.join(f)).unwrap();
        fs::set_permissions(dir.join(f), fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn an_old_ledger_opens_migrates_and_answers_as_the_old_binary_did() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    copy_of_the_old_ledger(&dir);
    let log_before = fs::read(dir.join("events.jsonl")).unwrap();
    let home = tmp.path().join("home");
    fs::create_dir(&home).unwrap();
    let cmd = || {
        let mut c = common::popug();
        c.env("POPUG_LEDGER", &dir)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"));
        c
    };
    let password = fs::read_to_string(Path::new(FIXTURE).join("admin-password")).unwrap();
    // the first command builds the stores from the log and removes the old database
    let token = common::login_token(cmd(), "boss", password.trim());
    assert!(
        !dir.join("popug.db").exists(),
        "the old projection database is removed"
    );
    for store in common::STORES {
        assert!(
            dir.join(format!("views/{store}.db")).is_file(),
            "views/{store}.db"
        );
    }
    // the log only grew (the login's credential): nothing of the old one was rewritten
    let log_after = fs::read(dir.join("events.jsonl")).unwrap();
    assert_eq!(&log_after[..log_before.len()], &log_before[..]);

    let answer = |args: &[&str]| -> Vec<u8> {
        let out = cmd().env("POPUG_TOKEN", &token).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let expected = |name: &str| fs::read(Path::new(FIXTURE).join("expected").join(name)).unwrap();
    let checks: [(&[&str], &str); 8] = [
        (&["--json", "balance", "--all"], "balance.json"),
        (&["--json", "audit", "kesha"], "audit-kesha.json"),
        (&["--json", "task", "list", "--all"], "tasks.json"),
        (&["--json", "analytics", "--date", "2026-11-25"], "analytics.json"),
        (&["--json", "earnings"], "earnings.json"),
        (&["--format", "csv", "export", "transactions"], "transactions.csv"),
        (&["export", "journal"], "journal.ledger"),
        (&["--json", "user", "list"], "users.json"),
    ];
    for round in ["migrated", "rebuilt"] {
        for (args, file) in checks {
            assert_eq!(
                String::from_utf8_lossy(&answer(args)),
                String::from_utf8_lossy(&expected(file)),
                "{round}: popug {args:?} answers as the old binary did"
            );
        }
        let v: serde_json::Value = serde_json::from_slice(&answer(&["--json", "verify"])).unwrap();
        assert_eq!(v["ok"], true, "{round}: {v}");
        assert_eq!(
            (v["projection_lag"].as_u64(), v["reaction_lag"].as_u64()),
            (Some(0), Some(0)),
            "{round}"
        );
        answer(&["rebuild"]);
    }
}
