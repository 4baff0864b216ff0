//! The ledger commands through the real binary: init, events, verify, rebuild, completions,
//! man; exit codes and error shapes of CLI.md; nothing written on failure.

mod common;

use std::fs;

use common::{Ledger, popug};

#[test]
fn init_creates_a_private_ledger_and_prints_the_password_once() {
    let l = Ledger::new();
    let out = l
        .cmd()
        .args(["--json", "init", "--admin", "boss", "--timezone", "Europe/Berlin"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["admin"]["login"], "boss");
    let password = doc["admin"]["password"].as_str().unwrap();
    assert_eq!(password.len(), 20);
    assert!(doc["admin"]["user_id"].as_str().unwrap().len() == 36);
    assert_eq!(
        doc["ledger"].as_str().unwrap(),
        fs::canonicalize(&l.dir).unwrap().to_str().unwrap()
    );

    // the password is nowhere on disk; its argon2id hash is in the log
    for p in common::all_files(&l.dir) {
        let bytes = fs::read(&p).unwrap();
        assert!(
            !bytes.windows(password.len()).any(|w| w == password.as_bytes()),
            "password in {}",
            p.display()
        );
    }
    let log = fs::read_to_string(l.dir.join("events.jsonl")).unwrap();
    assert!(log.contains("\"password_hash\":\"$argon2id$"));
    assert!(log.contains("\"timezone\":\"Europe/Berlin\""));

    // private files even though this test runs with the default umask
    common::assert_private(&l.dir);
    assert!(
        l.dir.join("views/auth.db").is_file(),
        "each context has its store"
    );
}

#[test]
fn files_stay_private_under_a_permissive_umask() {
    let l = Ledger::new();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec '{}' --ledger '{}' init",
            common::bin().display(),
            l.dir.display()
        ))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    common::assert_private(&l.dir);
}

#[test]
fn init_twice_is_a_conflict_and_changes_nothing() {
    let l = Ledger::init();
    let before = l.snapshot();
    let out = l.cmd().args(["init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already exists") && err.contains("hint:"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(l.snapshot(), before);
}

#[test]
fn bad_init_input_is_refused_before_anything_is_created() {
    let l = Ledger::new();
    for (args, needle) in [
        (vec!["init", "--timezone", "Mars/Olympus"], "not a timezone"),
        (vec!["init", "--admin", "Bad Login"], "not a valid login"),
        (vec!["init", "--admin", "../escape"], "not a valid login"),
    ] {
        let out = l.cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle), "{args:?}");
        assert!(!l.dir.exists(), "{args:?} created the ledger");
    }
    let out = l
        .cmd()
        .env("POPUG_NOW", "not-a-time")
        .arg("init")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = l.cmd().env("POPUG_SEED", "-3").arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!l.dir.exists());
}

#[test]
fn json_errors_have_the_documented_shape() {
    let l = Ledger::new();
    let out = l.cmd().args(["--json", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    let doc: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(doc["error"]["code"], "no_ledger");
    assert!(doc["error"]["message"].as_str().unwrap().contains("no ledger"));

    let out = l.cmd().args(["--json", "frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(doc["error"]["code"], "usage");
}

/// A ledger path that is a file, not a directory, is no ledger (exit 4, the path named), for
/// reading and writing commands alike, and the file is left as it was. Before, every command
/// failed with exit 1 and "an input or output operation failed" (Not a directory), naming
/// nothing.
#[test]
fn a_ledger_path_that_is_a_file_is_named_as_no_ledger_and_left_alone() {
    let l = Ledger::new();
    let file = l.dir.parent().unwrap().join("tasks.csv");
    fs::write(&file, "title\nnot a ledger\n").unwrap();
    let file_arg = file.to_str().unwrap();
    for args in [
        vec!["verify"],
        vec!["balance", "--all"],
        vec!["task", "create", "x"],
    ] {
        // --ledger wins over the POPUG_LEDGER the helper sets
        let out = l
            .cmd()
            .args(["--json", "--ledger", file_arg])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(4),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(doc["error"]["code"], "no_ledger", "{args:?}: {doc}");
        assert!(
            doc["error"]["message"].as_str().unwrap().contains(file_arg),
            "the path is named: {doc}"
        );
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "title\nnot a ledger\n");
}

#[test]
fn events_prints_the_stored_lines_exactly_but_password_hashes() {
    let l = Ledger::init();
    let out = l.ok(&["events"]);
    let stored = fs::read_to_string(l.dir.join("events.jsonl")).unwrap();
    assert!(stored.contains("$argon2id$"));
    assert!(!out.contains("$argon2"), "a password hash is shown: {out}");
    assert_eq!(out.lines().count(), stored.lines().count());
    for (shown, stored) in out.lines().zip(stored.lines()) {
        match stored.split_once("\"password_hash\":\"") {
            None => assert_eq!(shown, stored),
            Some((before, rest)) => {
                let after = &rest[rest.find('"').unwrap()..];
                assert_eq!(shown, format!("{before}\"password_hash\":\"<redacted>{after}"));
            }
        }
    }
    let only_users = l.ok(&["events", "--type", "UserCreated"]);
    assert_eq!(only_users.lines().count(), 1);
    assert!(only_users.contains("\"type\":\"UserCreated\""));
    let total = out.lines().count();
    let since = l.ok(&["events", "--since", "1"]);
    assert_eq!(since.lines().count(), total - 1);
    assert!(since.starts_with("{\"seq\":2,"));
    assert!(l.ok(&["events", "--since", &total.to_string()]).is_empty());
    // events is for admins
    let anon = l.cmd().arg("events").output().unwrap();
    assert_eq!(anon.status.code(), Some(3));
}

#[test]
fn events_follow_prints_what_is_appended_later() {
    let l = Ledger::init();
    let mut child = l
        .admin()
        .args(["events", "--follow", "--type", "UserCreated"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.contains("\"seq\":2"), "{first}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn verify_passes_on_a_fresh_ledger() {
    let l = Ledger::init();
    let doc = l.json(&["verify"]);
    let lines = fs::read_to_string(l.dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["events"], lines);
    assert_eq!(doc["projection_lag"], 0);
    assert_eq!(doc["reaction_lag"], 0);
    assert!(doc["tables_compared"].as_array().unwrap().len() >= 9);
    assert!(l.ok(&["verify"]).starts_with(&format!("ok: {lines} events")));
}

#[test]
fn editing_deleting_or_reordering_a_line_makes_verify_exit_6_and_name_it() {
    let l = Ledger::init();
    let original = fs::read_to_string(l.dir.join("events.jsonl")).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let join = |ls: Vec<&str>| ls.iter().map(|s| format!("{s}\n")).collect::<String>();

    let edited = original.replacen("\"timezone\":\"UTC\"", "\"timezone\":\"UTX\"", 1);
    let deleted = join(vec![lines[1]]);
    let reordered = join(vec![lines[1], lines[0]]);
    for (what, content, line) in [
        ("edited", edited, 1),
        ("deleted", deleted, 1),
        ("reordered", reordered, 1),
    ] {
        fs::write(l.dir.join("events.jsonl"), &content).unwrap();
        let out = l.cmd().arg("verify").output().unwrap();
        assert_eq!(out.status.code(), Some(6), "{what}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("line {line}")), "{what}: {err}");
        assert_eq!(
            fs::read_to_string(l.dir.join("events.jsonl")).unwrap(),
            content,
            "{what}: verify wrote"
        );
        let out = l.cmd().args(["--json", "verify"]).output().unwrap();
        assert_eq!(out.status.code(), Some(6));
        let doc: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(doc["error"]["code"], "ledger_damaged");
        // and no other command writes on top of the damage
        let out = l.admin().arg("rebuild").output().unwrap();
        assert_eq!(out.status.code(), Some(6), "{what}: rebuild");
        assert_eq!(fs::read_to_string(l.dir.join("events.jsonl")).unwrap(), content);
    }
    fs::write(l.dir.join("events.jsonl"), &original).unwrap();
    l.ok(&["rebuild"]);
    l.ok(&["verify"]);
}

#[test]
fn a_deleted_database_is_rebuilt_and_rebuild_reports_the_events() {
    let l = Ledger::init();
    fs::remove_dir_all(l.dir.join(popug_ledger::VIEWS_DIR)).unwrap();
    let doc = l.json(&["rebuild"]);
    let lines = fs::read_to_string(l.dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(doc["events"], lines);
    assert!(l.json(&["verify"])["tables_compared"].as_array().unwrap().len() >= 9);
    let anon = l.cmd().arg("rebuild").output().unwrap();
    assert_eq!(anon.status.code(), Some(3), "rebuild is for admins");
}

#[test]
fn completions_are_up_to_date_with_the_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "popug.bash"),
        ("zsh", "_popug"),
        ("fish", "popug.fish"),
        ("elvish", "popug.elv"),
        ("powershell", "_popug.ps1"),
    ] {
        let out = popug().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        if std::env::var_os("POPUG_BLESS").is_some() {
            fs::write(root.join(file), &out.stdout).unwrap();
        }
        let stored = fs::read(root.join(file)).unwrap_or_default();
        assert!(
            stored == out.stdout,
            "completions/{file} is out of date: run `POPUG_BLESS=1 cargo test --test cli_ledger completions`"
        );
    }
}

#[test]
fn man_page_and_help_work() {
    let man = popug().arg("man").output().unwrap();
    assert!(man.status.success());
    let text = String::from_utf8(man.stdout).unwrap();
    assert!(text.contains(".TH popug 1"));
    let help = popug().arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes"));
}

/// A rebuild and verify replay the log with folds that keep totals, counters and the
/// timezone in memory (`Projection::replay`); commands apply events one by one. `verify`
/// compares the two, so a ledger whose days differ between UTC and its timezone, with
/// fees, rewards, a payout and balances on both sides of zero, shows that both ways give
/// the same rows.
#[test]
fn the_replays_folds_give_the_rows_that_commands_kept_in_a_timezone_far_from_utc() {
    let l = Ledger::new();
    let at = |t: &str| format!("2026-03-01T{t}Z");
    let run = |token: &str, now: &str, args: &[&str]| -> serde_json::Value {
        let out = l
            .cmd()
            .env("POPUG_NOW", at(now))
            .env("POPUG_TOKEN", token)
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "popug {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let doc = run("", "08:00:00", &["init", "--timezone", "Pacific/Kiritimati"]);
    let mut login = l.cmd();
    login.env("POPUG_NOW", at("08:00:01"));
    let admin = common::login_token(login, "admin", doc["admin"]["password"].as_str().unwrap());
    let mut workers = Vec::new();
    for (i, w) in ["w1", "w2"].into_iter().enumerate() {
        let doc = run(
            &admin,
            &format!("08:0{i}:02"),
            &["user", "add", w, "--role", "worker", "--notify", "none"],
        );
        let mut login = l.cmd();
        login.env("POPUG_NOW", at(&format!("08:0{i}:03")));
        workers.push(common::login_token(login, w, doc["password"].as_str().unwrap()));
    }
    // 09:00 UTC is 23:00 on 1 March in Kiritimati (UTC+14); 11:00 UTC is 01:00 on 2 March
    let numbers: Vec<String> = (0..6)
        .map(|i| {
            run(
                &admin,
                &format!("09:00:{i:02}"),
                &["task", "create", &format!("t{i}")],
            )["number"]
                .to_string()
        })
        .collect();
    let mut done = 0;
    for (i, number) in numbers.iter().enumerate().step_by(2) {
        // whoever it was assigned to finishes it
        let finished = workers.iter().any(|w| {
            let out = l
                .cmd()
                .env("POPUG_NOW", at(&format!("11:00:{i:02}")))
                .env("POPUG_TOKEN", w)
                .args(["task", "done", number])
                .output()
                .unwrap();
            out.status.success()
        });
        assert!(finished, "task {number} was finished by its assignee");
        done += 1;
    }
    run(&admin, "11:30:00", &["shuffle"]);
    run(&admin, "12:00:00", &["pay-daily", "--date", "2026-03-01"]);

    let analytics = run(&admin, "12:00:01", &["analytics", "--date", "2026-03-02"]);
    let earnings = run(&admin, "12:00:02", &["earnings"]);
    let balances = run(&admin, "12:00:03", &["balance", "--all"]);
    assert_eq!(done, 3);
    assert!(
        analytics.to_string().contains("\"t"),
        "the day's tasks are there: {analytics}"
    );
    let days: Vec<&str> = earnings
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        days,
        ["2026-03-01", "2026-03-02"],
        "fees on the 1st, rewards on the 2nd, local time"
    );

    let v = run(&admin, "12:00:03", &["verify"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["projection_lag"], 0);
    // and a rebuilt database answers as the one the commands kept
    run(&admin, "12:00:04", &["rebuild"]);
    assert_eq!(
        run(&admin, "12:00:05", &["analytics", "--date", "2026-03-02"]),
        analytics
    );
    assert_eq!(run(&admin, "12:00:06", &["earnings"]), earnings);
    assert_eq!(run(&admin, "12:00:07", &["balance", "--all"]), balances);
}

/// The stores are read together through read-only SQLite URIs (`file:…?mode=ro`): a ledger
/// whose path holds the characters a URI gives meaning to (`%`, `?`, `#`, a space) reads and
/// verifies like any other.
#[test]
fn a_ledger_path_with_uri_characters_reads_across_stores() {
    let mut l = Ledger::new();
    l.dir = l.dir.with_file_name("the co %41mpany?x=1#frag");
    let out = l.cmd().args(["--json", "init"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    l.admin_token = common::login_token(l.cmd(), "admin", doc["admin"]["password"].as_str().unwrap());
    l.ok(&["user", "add", "kesha", "--role", "worker"]);
    l.ok(&["task", "create", "Fix the beak"]);
    // balance --all and audit read accounts and users together; verify reads every store
    let balances = l.json(&["balance", "--all"]);
    let kesha = balances
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["login"] == "kesha")
        .unwrap();
    assert!(kesha["balance_cents"].as_i64().unwrap() < 0, "{balances}");
    assert_eq!(l.json(&["audit", "kesha"]).as_array().unwrap().len(), 1);
    let v = l.json(&["verify"]);
    assert_eq!(v["ok"], true);
    assert!(v["tables_compared"].as_array().unwrap().len() > 20, "{v}");
    // and nothing was made beside it at the path a careless URI would have meant
    let parent = l.dir.parent().unwrap();
    let names: Vec<String> = fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n == "home" || n == "the co %41mpany?x=1#frag"),
        "{names:?}"
    );
}

/// A store that is missing, not a database, or from a later time than the log (a backup that
/// copied the log before the stores) is never read as it is: `verify` names a missing one
/// and writes nothing, and the next command builds any of them anew from the log.
#[test]
fn a_missing_corrupt_or_foreign_store_is_named_by_verify_and_rebuilt_from_the_log() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker"]);
    for i in 0..3 {
        l.ok(&["task", "create", &format!("t{i}")]);
    }
    let tasks_db = l.dir.join("views/tasks.db");
    let remove_store = |path: &std::path::Path| {
        for suffix in ["", "-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", path.display()));
        }
    };
    // a store from later: three more tasks than this log has
    let later = tempfile::tempdir().unwrap();
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    };
    copy(&l.dir, &later.path().join("l"));
    let later_dir = later.path().join("l");
    for i in 3..6 {
        let out = l
            .admin()
            .env("POPUG_LEDGER", &later_dir)
            .args(["task", "create", &format!("t{i}")])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let count = || l.json(&["task", "list", "--all"]).as_array().unwrap().len();

    // missing: verify says so, exit 0, and creates nothing
    remove_store(&tasks_db);
    let v = l.json(&["verify"]);
    assert_eq!(
        (v["ok"].as_bool(), v["stores_missing"].clone()),
        (Some(true), serde_json::json!(["tasks"]))
    );
    assert!(!tasks_db.exists(), "verify writes nothing");
    assert_eq!(count(), 3, "the next command builds it");

    // not a database: the next command builds it anew
    remove_store(&tasks_db);
    fs::write(&tasks_db, vec![0x5a; 8192]).unwrap();
    assert_eq!(count(), 3);

    // from a later time than the log: rebuilt, not believed
    remove_store(&tasks_db);
    {
        let db = rusqlite::Connection::open(later_dir.join("views/tasks.db")).unwrap();
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    fs::copy(later_dir.join("views/tasks.db"), &tasks_db).unwrap();
    // verify names it as not this log's (exit 0), rather than calling the log damaged
    let v = l.json(&["verify"]);
    assert_eq!(v["stores_missing"], serde_json::json!(["tasks"]), "{v}");
    assert_eq!(count(), 3, "three tasks in this log, not six");
    let created = l.json(&["task", "create", "next"]);
    assert_eq!(created["number"], 4);
    let v = l.json(&["verify"]);
    assert_eq!(
        (v["ok"].as_bool(), v["projection_lag"].as_u64()),
        (Some(true), Some(0))
    );
    assert_eq!(v["stores_missing"], serde_json::json!([]));
}

/// The stores hold every balance and every credential's hash: a command that writes makes
/// their folder and files private again when someone loosened them.
#[test]
fn a_command_that_writes_makes_loosened_stores_private_again() {
    use std::os::unix::fs::PermissionsExt;
    let l = Ledger::init();
    let views = l.dir.join("views");
    let auth = views.join("auth.db");
    fs::set_permissions(&views, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&auth, fs::Permissions::from_mode(0o644)).unwrap();
    l.ok(&["user", "add", "kesha", "--role", "worker"]);
    common::assert_private(&views);
}

/// A store whose rows differ from the log's replay is damage of derived data: `verify` says
/// so (exit 6) and points at `rebuild`, not at restoring the intact log; `rebuild` mends it.
#[test]
fn a_tampered_store_is_damage_that_rebuild_mends() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker"]);
    l.ok(&["task", "create", "t"]);
    {
        let db = rusqlite::Connection::open(l.dir.join("views/accounting.db")).unwrap();
        db.execute(
            "UPDATE accounts SET balance = balance + 100 WHERE user_id IS NOT NULL",
            [],
        )
        .unwrap();
    }
    let out = l.admin().args(["--json", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    let hint = err["error"]["hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("popug rebuild") && !hint.contains("restore"),
        "{err}"
    );
    l.ok(&["rebuild"]);
    assert_eq!(l.json(&["verify"])["ok"], true);
}

/// A recovery that rebuilds a store of another version and, at a lower index, a store from
/// another time gives each store its own tables back (the copies were once paired in the
/// wrong order: auth.db received the payments tables).
#[test]
fn a_stale_store_and_a_foreign_store_are_each_rebuilt_into_their_own_file() {
    let l = Ledger::init();
    l.ok(&["user", "add", "kesha", "--role", "worker"]);
    l.ok(&["task", "create", "t0"]);
    let later = tempfile::tempdir().unwrap();
    let later_dir = later.path().join("l");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(&l.dir)
        .arg(&later_dir)
        .status()
        .unwrap();
    assert!(status.success());
    let out = l
        .admin()
        .env("POPUG_LEDGER", &later_dir)
        .args(["user", "add", "gosha", "--role", "worker"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let checkpoint = |dir: &std::path::Path, store: &str| {
        let db = rusqlite::Connection::open(dir.join(format!("views/{store}.db"))).unwrap();
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    };
    // auth (a low index) from a later time than this log ...
    checkpoint(&later_dir, "auth");
    checkpoint(&l.dir, "auth");
    for suffix in ["-wal", "-shm"] {
        let _ = fs::remove_file(l.dir.join(format!("views/auth.db{suffix}")));
    }
    fs::copy(later_dir.join("views/auth.db"), l.dir.join("views/auth.db")).unwrap();
    // ... and payments (a higher one) of another schema version
    let payments = rusqlite::Connection::open(l.dir.join("views/payments.db")).unwrap();
    payments
        .execute_batch("UPDATE ledger_meta SET value = '999' WHERE key = 'schema_version';")
        .unwrap();
    drop(payments);
    let users = l.json(&["user", "list"]);
    let logins: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["admin", "kesha"], "auth holds this log's users");
    assert_eq!(l.json(&["balance", "--all"]).as_array().unwrap().len(), 2);
    assert_eq!(l.json(&["verify"])["ok"], true);
}
