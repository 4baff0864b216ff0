//! Outputs scripts can trust, for every subcommand (CLI.md, "Global"): `--json` is exactly
//! one JSON document on stdout, `--format csv` exactly one CSV table (a header of column
//! names, every row as wide), `events` JSON lines in every format, and what cannot be a
//! document (`man`, `completions`, a JSON Schema as CSV, the journal on stdout) is refused
//! with exit 2. The subcommands are listed from clap itself, so a new command without a case
//! here fails the test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::process::Stdio;

use common::Ledger;
use serde_json::Value;

struct World {
    l: Ledger,
    tokens: BTreeMap<String, String>,
    passwords: BTreeMap<String, String>,
}

impl World {
    fn new() -> World {
        let l = Ledger::init();
        let mut w = World {
            tokens: BTreeMap::new(),
            passwords: BTreeMap::new(),
            l,
        };
        w.tokens.insert("admin".into(), w.l.admin_token.clone());
        for (login, role, notify) in [
            ("w1", "worker", "stdout"),
            ("w2", "worker", "stdout"),
            ("boss", "manager", "stdout"),
            ("acc", "accountant", "none"),
        ] {
            w.add(login, role, notify);
        }
        for i in 0..4 {
            let t = w.json("boss", &["task", "create", &format!("Seed {i}")], None);
            if i % 2 == 0 {
                let who = t["assignee"].as_str().unwrap().to_owned();
                w.json(&who, &["task", "done", &t["number"].to_string()], None);
            }
        }
        w
    }

    fn add(&mut self, login: &str, role: &str, notify: &str) {
        let doc = self.json(
            "admin",
            &["user", "add", login, "--role", role, "--notify", notify],
            None,
        );
        let pw = doc["password"].as_str().unwrap().to_owned();
        self.tokens
            .insert(login.into(), common::login_token(self.l.cmd(), login, &pw));
        self.passwords.insert(login.into(), pw);
    }

    fn run(&self, who: &str, args: &[String], stdin: Option<&str>) -> std::process::Output {
        self.run_with(who, args, stdin, &[])
    }

    fn run_with(
        &self,
        who: &str,
        args: &[String],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> std::process::Output {
        let mut c = self.l.cmd();
        c.envs(env.iter().copied());
        if let Some(t) = self.tokens.get(who) {
            c.env("POPUG_TOKEN", t);
        }
        let mut child = c
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            let _ = input.write_all(s.as_bytes());
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn json(&self, who: &str, args: &[&str], stdin: Option<&str>) -> Value {
        let mut all = vec!["--json".to_owned()];
        all.extend(args.iter().map(|a| a.to_string()));
        let out = self.run(who, &all, stdin);
        assert!(
            out.status.success(),
            "{who} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// What a format must give for one invocation.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// `--json`: one JSON document; `--format csv`: one CSV table.
    Document,
    /// JSON lines whatever the format (`events`).
    Lines,
    /// Refused with exit 2 and nothing on stdout.
    Refused,
}

/// One invocation: who runs it, its arguments (after the format flag), its standard input,
/// and what each format must give.
struct Case {
    who: String,
    args: Vec<String>,
    stdin: Option<String>,
    csv: Expect,
    json: Expect,
}

fn case(who: &str, args: &[&str]) -> Case {
    Case {
        who: who.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: None,
        csv: Expect::Document,
        json: Expect::Document,
    }
}

/// The invocations of the leaf command `path`, made afresh for one format run (`tag`).
fn cases(w: &mut World, path: &str, tag: &str) -> Vec<Case> {
    let s = |x: &str| x.to_owned();
    match path {
        "init" => {
            let dir = w.l.home.join(format!("new-{tag}"));
            vec![case("", &["--ledger", dir.to_str().unwrap(), "init"])]
        }
        "login" => {
            let mut c = case("", &["login", "w1", "--password-stdin", "--print-token"]);
            c.stdin = Some(format!("{}\n", w.passwords["w1"]));
            vec![c]
        }
        "logout" => {
            let login = format!("out-{tag}");
            w.add(&login, "accountant", "none");
            vec![case(&login, &["logout"])]
        }
        "whoami" => vec![case("w1", &["whoami"])],
        "passwd" => {
            let login = format!("pw-{tag}");
            w.add(&login, "accountant", "none");
            let mut c = case(&login, &["passwd", "--password-stdin"]);
            c.stdin = Some(format!("{}\na new long password\n", w.passwords[&login]));
            vec![c]
        }
        "token create" => vec![case("w1", &["token", "create", "--name", &format!("t-{tag}")])],
        "token list" => vec![
            case("w1", &["token", "list"]),
            case("admin", &["token", "list", "--all"]),
        ],
        "token revoke" => {
            let t = w.json("w1", &["token", "create", "--name", &format!("r-{tag}")], None);
            vec![case("w1", &["token", "revoke", t["token_id"].as_str().unwrap()])]
        }
        "user add" => vec![case(
            "admin",
            &["user", "add", &format!("u-{tag}"), "--role", "accountant"],
        )],
        "user list" => vec![case("admin", &["user", "list"])],
        "user show" => vec![case("admin", &["user", "show", "w1"])],
        "user set-role" => {
            let login = format!("sr-{tag}");
            w.add(&login, "manager", "none");
            vec![case("admin", &["user", "set-role", &login, "accountant"])]
        }
        "user deactivate" => {
            let login = format!("d-{tag}");
            w.add(&login, "accountant", "none");
            vec![case("admin", &["user", "deactivate", &login])]
        }
        "user reset-password" => {
            let login = format!("rp-{tag}");
            w.add(&login, "accountant", "none");
            vec![case("admin", &["user", "reset-password", &login])]
        }
        "task create" => vec![case("boss", &["task", "create", &format!("New {tag}")])],
        "task done" => {
            let t = w.json("boss", &["task", "create", &format!("To do {tag}")], None);
            let who = t["assignee"].as_str().unwrap().to_owned();
            vec![case(&who, &["task", "done", &t["number"].to_string()])]
        }
        "task list" => vec![
            case("w1", &["task", "list"]),
            case("admin", &["task", "list", "--all"]),
        ],
        "task show" => vec![case("admin", &["task", "show", "1"])],
        "task import" => {
            let file = w.l.home.join(format!("import-{tag}.jsonl"));
            std::fs::write(&file, "{\"title\":\"One\"}\n{\"title\":\"Two\"}\n").unwrap();
            vec![Case {
                args: vec![s("task"), s("import"), file.to_str().unwrap().to_owned()],
                ..case("boss", &[])
            }]
        }
        "shuffle" => vec![case("admin", &["shuffle"])],
        "pay-daily" => vec![case("acc", &["pay-daily"])],
        "balance" => vec![
            case("w1", &["balance"]),
            case("admin", &["balance", "w2"]),
            case("admin", &["balance", "--all"]),
        ],
        "audit" => vec![case("admin", &["audit", "w1"])],
        "earnings" => vec![case("acc", &["earnings"])],
        "analytics" => vec![case("admin", &["analytics"])],
        "export" => {
            let mut all: Vec<Case> = ["transactions", "balances", "payouts", "tasks", "users"]
                .iter()
                .map(|k| case("acc", &["export", k]))
                .collect();
            let file = w.l.home.join(format!("books-{tag}.journal"));
            all.push(case(
                "acc",
                &[
                    "export",
                    "tasks",
                    "-o",
                    w.l.home.join(format!("t-{tag}.csv")).to_str().unwrap(),
                ],
            ));
            all.push(case("acc", &["export", "journal", "-o", file.to_str().unwrap()]));
            all.push(Case {
                csv: Expect::Refused,
                json: Expect::Refused,
                ..case("acc", &["export", "journal"])
            });
            all
        }
        "events" => vec![Case {
            csv: Expect::Lines,
            json: Expect::Lines,
            ..case("admin", &["events"])
        }],
        "verify" => vec![case("", &["verify"])],
        // none handed over: the answer, with nothing written
        "hand-over" => vec![case("admin", &["hand-over"])],
        "worker" => vec![case("admin", &["worker", "all", "--once"])],
        "ledger copy" => {
            let to = w.l.home.join(format!("copy-{tag}"));
            let from = w.l.dir.to_str().unwrap().to_owned();
            vec![case("", &["ledger", "copy", &from, to.to_str().unwrap()])]
        }
        "rebuild" => vec![case("admin", &["rebuild"])],
        "schema" => vec![
            case("", &["schema"]),
            Case {
                csv: Expect::Refused,
                ..case("", &["schema", "TaskCreated"])
            },
        ],
        "completions" => vec![Case {
            csv: Expect::Refused,
            json: Expect::Refused,
            ..case("", &["completions", "bash"])
        }],
        // a server: it has no --json or --format (exit 2), and is tested in tests/web_*.rs
        "serve" => vec![Case {
            csv: Expect::Refused,
            json: Expect::Refused,
            ..case("", &["serve", "--bind", "127.0.0.1:0"])
        }],
        "man" => vec![Case {
            csv: Expect::Refused,
            json: Expect::Refused,
            ..case("", &["man"])
        }],
        other => panic!("`popug {other}` has no case in tests/outputs.rs: add one"),
    }
}

/// Every leaf subcommand of popug, as words (`task create`), help excluded.
fn leaves(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let path = format!("{prefix}{}", sub.get_name());
        if sub.has_subcommands() {
            leaves(sub, &format!("{path} "), out);
        } else {
            out.push(path);
        }
    }
}

/// A CSV header is column names (lowercase words), never a sentence for people.
fn is_column_name(h: &str) -> bool {
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.# ".contains(c))
}

#[test]
fn every_subcommand_prints_one_json_document_or_one_csv_table() {
    let mut w = World::new();
    let mut paths = Vec::new();
    leaves(&popug::cli::command(), "", &mut paths);
    assert!(paths.len() >= 30, "{paths:?}");
    let mut checked = BTreeSet::new();
    for path in &paths {
        for (flag, tag) in [(vec!["--format", "csv"], "csv"), (vec!["--json"], "json")] {
            for c in cases(&mut w, path, tag) {
                // `task import --format` names its input's format (README): its answer's
                // format comes from POPUG_FORMAT
                let importing = c.args.starts_with(&["task".to_owned(), "import".to_owned()]);
                let (mut args, env): (Vec<String>, Vec<(&str, &str)>) = if importing && tag == "csv" {
                    (Vec::new(), vec![("POPUG_FORMAT", "csv")])
                } else {
                    (flag.iter().map(|f| f.to_string()).collect(), Vec::new())
                };
                args.extend(c.args.iter().cloned());
                let out = w.run_with(&c.who, &args, c.stdin.as_deref(), &env);
                let (stdout, stderr) = (
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                    String::from_utf8_lossy(&out.stderr).into_owned(),
                );
                let what = format!("{} popug {}", c.who, args.join(" "));
                let expect = if tag == "csv" { c.csv } else { c.json };
                match expect {
                    Expect::Refused => {
                        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
                        assert!(stdout.is_empty(), "{what}: {stdout}");
                    }
                    Expect::Lines => {
                        assert!(out.status.success(), "{what}: {stderr}");
                        for line in stdout.lines() {
                            serde_json::from_str::<Value>(line)
                                .unwrap_or_else(|e| panic!("{what}: not a JSON line ({e}): {line}"));
                        }
                    }
                    Expect::Document if tag == "json" => {
                        assert!(out.status.success(), "{what}: {stderr}");
                        serde_json::from_str::<Value>(&stdout)
                            .unwrap_or_else(|e| panic!("{what}: not one JSON document ({e}): {stdout}"));
                    }
                    Expect::Document => {
                        assert!(out.status.success(), "{what}: {stderr}");
                        let mut reader = csv::Reader::from_reader(stdout.as_bytes());
                        let header = reader
                            .headers()
                            .unwrap_or_else(|e| panic!("{what}: no CSV header ({e}): {stdout}"))
                            .clone();
                        assert!(!header.is_empty(), "{what}: empty output");
                        for h in &header {
                            assert!(is_column_name(h), "{what}: `{h}` is not a column name: {stdout}");
                        }
                        for row in reader.records() {
                            let row =
                                row.unwrap_or_else(|e| panic!("{what}: not one CSV table ({e}): {stdout}"));
                            assert_eq!(row.len(), header.len(), "{what}: {stdout}");
                        }
                    }
                }
                checked.insert(path.clone());
            }
        }
    }
    assert_eq!(checked.len(), paths.len());
    // a usage error under --json names what is wrong
    let out = w.run("boss", &["--json".into(), "task".into(), "create".into()], None);
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(
        err["error"]["message"].as_str().unwrap().contains("<TITLE>"),
        "{err}"
    );
}

#[test]
fn the_manual_documents_every_subcommand_and_its_flags() {
    let page = |args: &[&str]| {
        let out = common::popug().arg("man").args(args).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let all = page(&[]);
    let mut paths = Vec::new();
    leaves(&popug::cli::command(), "", &mut paths);
    for path in &paths {
        let name = format!("popug-{}", path.replace(' ', "-"));
        assert!(
            all.contains(&format!(".TH {name} ")),
            "no page for `popug {path}`"
        );
    }
    // every flag of every subcommand is on its page
    fn flags(cmd: &clap::Command, out: &mut Vec<(String, String)>, path: &str) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let p = format!("{path} {}", sub.get_name()).trim().to_owned();
            for a in sub.get_arguments().filter_map(|a| a.get_long()) {
                out.push((p.clone(), a.to_owned()));
            }
            flags(sub, out, &p);
        }
    }
    let mut all_flags = Vec::new();
    flags(&popug::cli::command(), &mut all_flags, "");
    for (path, flag) in all_flags {
        let words: Vec<&str> = path.split(' ').collect();
        let one = page(&words);
        assert!(
            one.contains(&format!("\\-\\-{}", flag.replace('-', "\\-"))),
            "`popug {path}` does not document --{flag}"
        );
    }
    assert!(
        all.contains("idempotency"),
        "the flags of task create are documented"
    );
    assert!(all.contains("jira"), "the flags of task create are documented");
    let out = common::popug().args(["man", "frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn messages_show_input_as_typed_and_say_what_is_wrong_with_a_date() {
    let w = World::new();
    let out = w.run("admin", &["user".into(), "show".into(), "kesé".into()], None);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`kesé`"), "{err}");
    let out = w.run(
        "acc",
        &["pay-daily".into(), "--date".into(), "2026-02-30".into()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
    let out = w.run(
        "acc",
        &["pay-daily".into(), "--date".into(), "30.02.2026".into()],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("use YYYY-MM-DD"));
    let schema = w.run("", &["schema".into(), "TaskCreated@1".into()], None);
    assert!(
        !String::from_utf8_lossy(&schema.stdout).contains("[`"),
        "rustdoc links in a schema"
    );
}

#[test]
fn no_color_reaches_help_and_usage_errors_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("POPUG_REQUIRE_PTY").is_none(),
            "`script` (util-linux) is required"
        );
        eprintln!("SKIPPED: `script` (util-linux) is not installed");
        return;
    }
    let bin = common::bin();
    for (env, args) in [
        ("", "--no-color --help"),
        ("NO_COLOR=1 ", "--help"),
        ("", "--no-color frobnicate"),
    ] {
        let out = std::process::Command::new("script")
            .args(["-qec", &format!("{env}{} {args}", bin.display()), "/dev/null"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("popug") || text.contains("frobnicate"), "{text}");
        assert!(!text.contains('\u{1b}'), "colour with `{env}{args}`: {text:?}");
    }
    // and without either, help on a terminal is coloured (the check above can fail)
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("{} --help", bin.display()), "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
}

#[test]
fn one_object_answers_keep_every_field_under_csv_and_popug_format_is_not_an_ask() {
    let w = World::new();
    let csv = |who: &str, args: &[&str]| {
        let mut all = vec!["--format".to_owned(), "csv".to_owned()];
        all.extend(args.iter().map(|a| a.to_string()));
        let out = w.run(who, &all, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut r = csv::Reader::from_reader(&out.stdout[..]);
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        (header, rows)
    };
    let (h, rows) = csv("admin", &["analytics"]);
    assert!(
        h.contains(&"earnings_cents".into()) && h.contains(&"negative_workers".into()),
        "{h:?}"
    );
    assert_eq!(rows.len(), 1);
    let (h, rows) = csv("admin", &["shuffle"]);
    assert!(
        h.contains(&"shuffle_id".into()) && h.contains(&"tasks.assign_to".into()),
        "{h:?}"
    );
    assert!(!rows.is_empty());
    let (h, _) = csv("acc", &["pay-daily"]);
    assert!(
        h.contains(&"already_paid".into()) && h.contains(&"days".into()),
        "{h:?}"
    );
    // POPUG_FORMAT is a default, not an ask: man and the journal keep their one form
    let out = w.run_with("", &["man".into()], None, &[("POPUG_FORMAT", "json")]);
    assert!(
        out.status.success() && out.stdout.starts_with(b".ie"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = w.run_with(
        "acc",
        &["export".into(), "journal".into()],
        None,
        &[("POPUG_FORMAT", "csv")],
    );
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("account assets:bank"));
}

#[test]
fn export_never_replaces_a_fifo_a_device_or_a_link() {
    let w = World::new();
    let fifo = w.l.home.join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let target = w.l.home.join("target.csv");
    std::fs::write(&target, "keep").unwrap();
    let link = w.l.home.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for path in [&fifo, &link] {
        let out = w.run(
            "acc",
            &[
                "export".into(),
                "users".into(),
                "-o".into(),
                path.to_str().unwrap().into(),
            ],
            None,
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
}

#[test]
fn an_import_prints_its_notifications_after_its_answer() {
    let w = World::new();
    let file = w.l.home.join("n.jsonl");
    std::fs::write(&file, "{\"title\":\"A\"}\n{\"title\":\"B\"}\n").unwrap();
    let out = w.run(
        "boss",
        &["task".into(), "import".into(), file.to_str().unwrap().into()],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let answer = text.find("Imported 2 tasks").unwrap_or_else(|| panic!("{text}"));
    let first_note = text.find("notification for").unwrap_or_else(|| panic!("{text}"));
    assert!(answer < first_note, "{text}");
}

#[test]
fn popug_format_from_the_environment_leaves_schema_and_completions_alone() {
    let w = World::new();
    for args in [vec!["schema", "TaskCreated"], vec!["completions", "bash"]] {
        let out = w.run_with(
            "",
            &args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            None,
            &[("POPUG_FORMAT", "csv")],
        );
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty());
    }
}
