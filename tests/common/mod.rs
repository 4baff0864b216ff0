//! Helpers for driving the real `popug` binary against a private ledger directory.
#![allow(dead_code)]

pub mod serve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary under test: this build's, or `POPUG_TEST_BIN` (to show that a test fails on
/// an older binary: `POPUG_TEST_BIN=/tmp/popug-old cargo test --test trust`).
pub fn bin() -> PathBuf {
    match std::env::var_os("POPUG_TEST_BIN").filter(|b| !b.is_empty()) {
        Some(b) => PathBuf::from(b),
        None => PathBuf::from(env!("CARGO_BIN_EXE_popug")),
    }
}

/// A `popug` command with a clean environment: no saved session, no inherited POPUG_*.
pub fn popug() -> Command {
    let mut c = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("POPUG_") || k == "NO_COLOR" {
            c.env_remove(k);
        }
    }
    c
}

/// Signs `login` in through `cmd` (a `popug` command with its environment) and returns the
/// session token printed by `login --print-token`.
pub fn login_token(mut cmd: Command, login: &str, password: &str) -> String {
    use std::io::Write;
    let mut child = cmd
        .args(["login", login, "--password-stdin", "--print-token"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "login {login} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The titles of the tasks in a `task list --json` document, in its order.
pub fn titles(tasks: &serde_json::Value) -> Vec<String> {
    tasks
        .as_array()
        .expect("task list --json is an array")
        .iter()
        .map(|t| t["title"].as_str().expect("every task has a title").to_owned())
        .collect()
}

/// The one JSON document a command that must succeed printed; `what` names the command in
/// the failure message.
pub fn ok_json(out: std::process::Output, what: &str) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

pub struct Ledger {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub home: PathBuf,
    pub admin_password: String,
    /// A session token of `admin` (empty before init).
    pub admin_token: String,
}

impl Ledger {
    /// A directory where a ledger may be created (not yet initialised).
    pub fn new() -> Ledger {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ledger");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Ledger {
            _tmp: tmp,
            dir,
            home,
            admin_password: String::new(),
            admin_token: String::new(),
        }
    }

    /// An initialised ledger with admin `admin`.
    pub fn init() -> Ledger {
        Ledger::init_with(&[])
    }

    /// An initialised ledger with admin `admin`, created with these extra environment variables.
    pub fn init_with(env: &[(&str, &str)]) -> Ledger {
        Ledger::init_with_args(env, &[])
    }

    /// An initialised ledger with admin `admin`, created (and its admin signed in) with
    /// these extra environment variables and `init` arguments (e.g. `--timezone`).
    pub fn init_with_args(env: &[(&str, &str)], args: &[&str]) -> Ledger {
        let mut l = Ledger::new();
        let out = l
            .cmd()
            .envs(env.iter().copied())
            .args(["--json", "init"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        l.admin_password = doc["admin"]["password"].as_str().unwrap().to_owned();
        let mut cmd = l.cmd();
        cmd.envs(env.iter().copied());
        l.admin_token = login_token(cmd, "admin", &l.admin_password);
        l
    }

    pub fn cmd(&self) -> Command {
        let mut c = popug();
        c.env("POPUG_LEDGER", &self.dir)
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join("data"));
        c
    }

    /// A command run by the admin (with the admin's token).
    pub fn admin(&self) -> Command {
        let mut c = self.cmd();
        if !self.admin_token.is_empty() {
            c.env("POPUG_TOKEN", &self.admin_token);
        }
        c
    }

    /// Runs a command as the admin that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.admin().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "popug {args:?} failed with {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a command with `--json` that must succeed; returns its one document.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(&all);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("popug {args:?}: not one JSON document ({e}): {text}"))
    }

    /// Every file of the ledger directory with its bytes (to show that nothing changed).
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        snapshot(&self.dir)
    }
}

pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("popug.db") || name == "lock" || name == popug_ledger::VIEWS_DIR {
                continue; // derived (the stores, or the one database of older ledgers) or empty
            }
            if p.is_dir() {
                for (k, v) in snapshot(&p) {
                    out.insert(format!("{name}/{k}"), v);
                }
            } else {
                out.insert(name, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every file under `dir`, in its subfolders too.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Asserts that `dir` and every folder under it are 0700 and every file 0600.
pub fn assert_private(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                todo.push(p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
            }
        }
    }
}

/// Every context's store, as `views/<name>.db` (DESIGN §2).
pub const STORES: [&str; 7] = [
    "scheduler",
    "auth",
    "tasks",
    "accounting",
    "payments",
    "notifications",
    "analytics",
];

/// Another program's connection holding the write lock of the store file `path` (as an
/// admin's `sqlite3` shell in a transaction would) until it is dropped, which rolls its
/// empty transaction back and lets go, also when a test fails.
pub fn hold_store(path: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    db
}
