//! Reports and exports through the binary, checked against numbers computed independently
//! from the same day's JSON outputs; the journal cross-checked with the real hledger and
//! ledger-cli.

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::Ledger;
use serde_json::Value;

struct Day {
    l: Ledger,
    tokens: BTreeMap<String, String>,
    n: std::cell::Cell<u32>,
    /// Payments made by the `pay-daily` runs.
    payments: std::cell::Cell<usize>,
    paid_cents: std::cell::Cell<i64>,
}

impl Day {
    /// Each command a second after the one before, on `day`.
    fn tick(&self, day: &str) -> String {
        self.n.set(self.n.get() + 1);
        let n = self.n.get();
        format!("{day}T10:{:02}:{:02}Z", n / 60, n % 60)
    }

    fn run(&self, who: &str, day: &str, args: &[&str]) -> Value {
        let mut cmd = self.as_user(who);
        cmd.env("POPUG_NOW", self.tick(day)).arg("--json");
        serde_json::from_slice(&succeed(cmd, args)).unwrap()
    }

    fn raw(&self, who: &str, args: &[&str]) -> String {
        String::from_utf8(succeed(self.as_user(who), args)).unwrap()
    }

    fn as_user(&self, who: &str) -> std::process::Command {
        let mut cmd = self.l.cmd();
        cmd.env("POPUG_TOKEN", &self.tokens[who]);
        cmd
    }
}

/// Runs `cmd args`, which must succeed; returns its stdout.
fn succeed(mut cmd: std::process::Command, args: &[&str]) -> Vec<u8> {
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Two days of activity; returns the ledger and, per day, (fees, rewards) and the rewards of
/// completed tasks, all from the commands' own outputs.
/// Per day: (fees, rewards) charged and credited.
type Money = BTreeMap<String, (i64, i64)>;
/// Per day: (task number, reward) of each completion.
type Done = BTreeMap<String, Vec<(i64, i64)>>;

fn two_days() -> (Day, Money, Done) {
    let l = Ledger::init_with(&[("POPUG_NOW", "2026-11-25T08:00:00Z")]);
    let mut d = Day {
        l,
        tokens: BTreeMap::new(),
        n: std::cell::Cell::new(0),
        payments: std::cell::Cell::new(0),
        paid_cents: std::cell::Cell::new(0),
    };
    d.tokens.insert("admin".into(), d.l.admin_token.clone());
    for (login, role) in [("w1", "worker"), ("w2", "worker"), ("acc", "accountant")] {
        let doc = d.run(
            "admin",
            "2026-11-25",
            &["user", "add", login, "--role", role, "--notify", "none"],
        );
        let mut cmd = d.l.cmd();
        cmd.env("POPUG_NOW", d.tick("2026-11-25"));
        let t = common::login_token(cmd, login, doc["password"].as_str().unwrap());
        assert!(t.starts_with("pgs_"), "login {login} failed");
        d.tokens.insert(login.into(), t);
    }
    let mut money: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut done: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for day in ["2026-11-25", "2026-11-26"] {
        let mut created = Vec::new();
        for i in 0..6 {
            let t = d.run("admin", day, &["task", "create", &format!("{day} task {i}")]);
            money.entry(day.into()).or_default().0 += t["assign_fee_cents"].as_i64().unwrap();
            created.push(t);
        }
        let s = d.run("admin", day, &["shuffle"]);
        for t in s["tasks"].as_array().unwrap() {
            money.entry(day.into()).or_default().0 += t["assign_fee_cents"].as_i64().unwrap();
        }
        for w in ["w1", "w2"] {
            let mine = d.run(w, day, &["task", "list"]);
            for t in mine.as_array().unwrap().iter().take(2) {
                let r = d.run(w, day, &["task", "done", &t["number"].to_string()]);
                money.entry(day.into()).or_default().1 += r["reward_cents"].as_i64().unwrap();
                done.entry(day.into())
                    .or_default()
                    .push((r["number"].as_i64().unwrap(), r["reward_cents"].as_i64().unwrap()));
            }
        }
        let paid = d.run("acc", day, &["pay-daily"]);
        d.payments
            .set(d.payments.get() + paid["payments"].as_array().unwrap().len());
        d.paid_cents
            .set(d.paid_cents.get() + paid["total_cents"].as_i64().unwrap());
    }
    (d, money, done)
}

#[test]
fn earnings_and_analytics_match_the_day_and_exports_round_trip() {
    let (d, money, done) = two_days();
    // earnings: fees minus rewards per day; payouts are not earnings
    let e = d.run("acc", "2026-11-26", &["earnings"]);
    let got: BTreeMap<String, (i64, i64, i64)> = e
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["date"].as_str().unwrap().into(),
                (
                    r["fees_cents"].as_i64().unwrap(),
                    r["rewards_cents"].as_i64().unwrap(),
                    r["earnings_cents"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    let want: BTreeMap<String, (i64, i64, i64)> = money
        .iter()
        .map(|(k, (f, r))| (k.clone(), (*f, *r, f - r)))
        .collect();
    assert_eq!(got, want);
    let one = d.run(
        "admin",
        "2026-11-26",
        &["earnings", "--from", "2026-11-26", "--to", "2026-11-26"],
    );
    assert_eq!(one.as_array().unwrap().len(), 1);

    // analytics for the 26th: that day's earnings, the workers in the red, the top tasks
    let a = d.run("admin", "2026-11-26", &["analytics", "--date", "2026-11-26"]);
    assert_eq!(a["earnings_cents"].as_i64().unwrap(), want["2026-11-26"].2);
    let day_top = done["2026-11-26"].iter().map(|x| x.1).max().unwrap();
    let week_top = done.values().flatten().map(|x| x.1).max().unwrap();
    assert_eq!(
        a["most_expensive_task"]["day"]["reward_cents"].as_i64().unwrap(),
        day_top
    );
    assert_eq!(
        a["most_expensive_task"]["week"]["reward_cents"].as_i64().unwrap(),
        week_top
    );
    assert_eq!(
        a["most_expensive_task"]["month"]["reward_cents"]
            .as_i64()
            .unwrap(),
        week_top
    );
    let balances = d.run("acc", "2026-11-26", &["balance", "--all"]);
    let negative = balances
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| {
            ["w1", "w2"].contains(&b["login"].as_str().unwrap()) && b["balance_cents"].as_i64().unwrap() < 0
        })
        .count();
    assert_eq!(a["negative_workers"].as_u64().unwrap() as usize, negative);
    let none = d.run("admin", "2026-11-26", &["analytics", "--date", "2026-10-01"]);
    assert!(none["most_expensive_task"]["day"].is_null());

    // CSV exports: a header, two-decimal amounts, ISO dates; they round-trip through csv
    let tx = d.raw("acc", &["export", "transactions"]);
    let mut r = csv::Reader::from_reader(tx.as_bytes());
    assert_eq!(r.headers().unwrap().get(0), Some("transaction_id"));
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let amount = &rec[6];
        assert!(
            amount.split_once('.').is_some_and(|(_, c)| c.len() == 2),
            "{amount}"
        );
        assert!(chrono::NaiveDate::parse_from_str(&rec[2], "%Y-%m-%d").is_ok());
        let cents: i64 = amount.replace('.', "").parse().unwrap();
        *sums.entry(rec[3].to_owned()).or_default() += cents;
    }
    for b in balances.as_array().unwrap() {
        let login = b["login"].as_str().unwrap();
        assert_eq!(
            sums.get(login).copied().unwrap_or(0),
            b["balance_cents"].as_i64().unwrap(),
            "{login}"
        );
    }
    for what in ["balances", "payouts", "tasks", "users"] {
        let text = d.raw("admin", &["export", what]);
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let width = r.headers().unwrap().len();
        let n = r.records().map(|x| assert_eq!(x.unwrap().len(), width)).count();
        let expected = match what {
            "payouts" => d.payments.get(),
            "balances" | "users" => 4,
            _ => 12,
        };
        assert_eq!(n, expected, "{what} export rows");
        assert!(!text.contains("argon2"), "{what} leaks a password hash");
    }
    // the balances export equals balance --all; the payouts export equals the pay-daily runs
    let bal_csv = d.raw("acc", &["export", "balances"]);
    let mut r = csv::Reader::from_reader(bal_csv.as_bytes());
    for rec in r.records() {
        let rec = rec.unwrap();
        let want = balances
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["login"] == rec[0])
            .unwrap()["balance_cents"]
            .as_i64()
            .unwrap();
        assert_eq!(
            rec[2].replace('.', "").parse::<i64>().unwrap(),
            want,
            "{}",
            &rec[0]
        );
    }
    let pay_csv = d.raw("acc", &["export", "payouts"]);
    let paid: i64 = csv::Reader::from_reader(pay_csv.as_bytes())
        .records()
        .map(|rec| rec.unwrap()[3].replace('.', "").parse::<i64>().unwrap())
        .sum();
    assert_eq!(paid, d.paid_cents.get());
    let out = d.l.dir.parent().unwrap().join("tasks.csv");
    d.raw(
        "admin",
        &[
            "export",
            "tasks",
            "--from",
            "2026-11-26",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let text = fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 1 + 6, "six tasks were created on the 26th");

    // a worker may not export
    let refused =
        d.l.cmd()
            .env("POPUG_TOKEN", &d.tokens["w1"])
            .args(["export", "users"])
            .output()
            .unwrap();
    assert_eq!(refused.status.code(), Some(3));
}

/// Writes the day's journal (with these export arguments) beside the ledger and runs `tool`
/// on it with `args`; `None` (loudly) when the tool is missing, unless `require_env` is set.
fn run_books(d: &Day, export: &[&str], tool: &str, args: &[&str], require_env: &str) -> Option<String> {
    let mut all = vec!["export", "journal"];
    all.extend_from_slice(export);
    let journal = d.raw("acc", &all);
    let path =
        d.l.dir
            .parent()
            .unwrap()
            .join(format!("popug-{}.journal", export.join("_")));
    fs::write(&path, &journal).unwrap();
    let Ok(out) = std::process::Command::new(tool)
        .arg("-f")
        .arg(&path)
        .args(args)
        .output()
    else {
        assert!(
            std::env::var_os(require_env).is_none(),
            "{tool} is required ({require_env}) but not installed"
        );
        eprintln!("SKIPPED: {tool} is not installed; the journal cross-check did not run");
        return None;
    };
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}\n{journal}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// `hledger check -s` passes on the day's books, and their balances agree with popug's;
/// returns `hledger bal -O csv` (`None`: hledger is missing and not required).
fn hledger_books(d: &Day) -> Option<String> {
    let req = "POPUG_REQUIRE_HLEDGER";
    run_books(d, &[], "hledger", &["check", "-s"], req)?;
    let bal = run_books(
        d,
        &[],
        "hledger",
        &["bal", "--flat", "--no-total", "-O", "csv"],
        req,
    )?;
    books_agree(
        "hledger",
        &hledger_balances(&bal),
        &d.run("acc", "2026-11-26", &["balance", "--all"]),
    );
    Some(bal)
}

/// Each account's balance from `hledger bal -O csv`, in cents.
fn hledger_balances(text: &str) -> BTreeMap<String, i64> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let cents: i64 = rec[1]
                .replace([',', '.'], "")
                .parse()
                .unwrap_or_else(|_| panic!("{text}"));
            (rec[0].to_owned(), cents)
        })
        .collect()
}

/// Checks that the books' `liabilities:workers:<login>` are `balance --all` inverted (as of
/// `at`), and that everything else sums to the opposite.
fn books_agree(tool: &str, reported: &BTreeMap<String, i64>, balances: &Value) {
    let mut total = 0;
    let mut nonzero = 0;
    for b in balances.as_array().unwrap() {
        let login = b["login"].as_str().unwrap();
        let cents = b["balance_cents"].as_i64().unwrap();
        total += cents;
        nonzero += usize::from(cents != 0);
        assert_eq!(
            reported
                .get(&format!("liabilities:workers:{login}"))
                .copied()
                .unwrap_or(0),
            -cents,
            "{tool}, {login}: {reported:?}"
        );
    }
    assert!(nonzero > 0, "the two days leave some balance to compare");
    let rest: i64 = reported
        .iter()
        .filter(|(a, _)| !a.starts_with("liabilities:"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(rest, total, "{tool}: {reported:?}");
}

#[test]
fn the_books_pass_strict_checks_and_agree_with_popug_in_hledger() {
    let (d, money, _) = two_days();
    let req = "POPUG_REQUIRE_HLEDGER";
    if hledger_books(&d).is_none() {
        return;
    }
    // the income statement per day is popug's earnings: fees as revenue, rewards as expenses
    let is = run_books(&d, &[], "hledger", &["is", "-D", "-O", "csv"], req).unwrap();
    // `hledger is -D`: the "Account" row names the days, the "Net:" row is each day's net
    // income, which must be popug's earnings for that day
    let rows: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(is.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.get(0) == Some(name))
            .unwrap_or_else(|| panic!("{is}"))
    };
    let cents = |v: &str| -> i64 {
        v.replace([',', '.'], "")
            .parse()
            .unwrap_or_else(|_| panic!("{is}"))
    };
    let net_by_day: BTreeMap<String, i64> = row("Account")
        .iter()
        .skip(1)
        .zip(row("Net:").iter().skip(1))
        .map(|(day, net)| (day.to_owned(), cents(net)))
        .collect();
    let earnings = d.run("acc", "2026-11-26", &["earnings"]);
    assert_eq!(net_by_day.len(), earnings.as_array().unwrap().len(), "{is}");
    for e in earnings.as_array().unwrap() {
        let day = e["date"].as_str().unwrap();
        assert_eq!(
            net_by_day[day],
            e["earnings_cents"].as_i64().unwrap(),
            "hledger is -D on {day}: {is}"
        );
    }
    for e in earnings.as_array().unwrap() {
        let day = e["date"].as_str().unwrap();
        let (fees, rewards) = money[day];
        assert_eq!(
            (
                e["fees_cents"].as_i64().unwrap(),
                e["rewards_cents"].as_i64().unwrap()
            ),
            (fees, rewards)
        );
        let daily = run_books(
            &d,
            &[],
            "hledger",
            &[
                "bal",
                "revenue",
                "expenses",
                "-b",
                day,
                "-e",
                &next_day(day),
                "--flat",
                "--no-total",
                "-O",
                "csv",
            ],
            req,
        )
        .unwrap();
        let b = hledger_balances(&daily);
        assert_eq!(
            -b.get("revenue:fees").copied().unwrap_or(0),
            fees,
            "{day}: {daily}"
        );
        assert_eq!(
            b.get("expenses:rewards").copied().unwrap_or(0),
            rewards,
            "{day}: {daily}"
        );
        assert_eq!(
            -b.values().sum::<i64>(),
            e["earnings_cents"].as_i64().unwrap(),
            "{day}"
        );
    }
    assert!(
        is.contains("revenue:fees") && is.contains("expenses:rewards"),
        "{is}"
    );
    // a journal from the 26th opens with the balances from before it
    let from = run_books(
        &d,
        &["--from", "2026-11-26"],
        "hledger",
        &["bal", "--flat", "--no-total", "-O", "csv"],
        req,
    )
    .unwrap();
    books_agree(
        "hledger --from",
        &hledger_balances(&from),
        &d.run("acc", "2026-11-26", &["balance", "--all"]),
    );
    run_books(&d, &["--from", "2026-11-26"], "hledger", &["check", "-s"], req).unwrap();
    // one payee per worker, not one per transaction
    let payees = run_books(&d, &[], "hledger", &["payees"], req).unwrap();
    let mut got: Vec<&str> = payees.lines().collect();
    got.sort();
    assert!(
        got.iter().all(|p| ["w1", "w2", "opening balances"].contains(p)),
        "{payees}"
    );
}

fn next_day(day: &str) -> String {
    let d: chrono::NaiveDate = day.parse().unwrap();
    d.succ_opt().unwrap().to_string()
}

#[test]
fn the_books_pass_pedantic_checks_and_agree_with_popug_in_ledger_cli() {
    let (d, _, _) = two_days();
    let format = "%(account)\t%(quantity(scrub(display_total)))\n";
    let args = [
        "--pedantic",
        "bal",
        "--flat",
        "--no-total",
        "--balance-format",
        format,
    ];
    let Some(text) = run_books(&d, &[], "ledger", &args, "POPUG_REQUIRE_LEDGER") else {
        return;
    };
    let parse = |text: &str| -> BTreeMap<String, i64> {
        text.lines()
            .map(|line| {
                let (account, amount) = line.split_once('\t').unwrap_or_else(|| panic!("{text}"));
                let units: f64 = amount.trim().parse().unwrap_or_else(|_| panic!("{text}"));
                (account.trim().to_owned(), (units * 100.0).round() as i64)
            })
            .collect()
    };
    let balances = d.run("acc", "2026-11-26", &["balance", "--all"]);
    books_agree("ledger", &parse(&text), &balances);
    let from = run_books(
        &d,
        &["--from", "2026-11-26"],
        "ledger",
        &args,
        "POPUG_REQUIRE_LEDGER",
    )
    .unwrap();
    books_agree("ledger --from", &parse(&from), &balances);
}

#[test]
fn a_user_named_like_an_account_changes_nothing_in_the_books() {
    let (d, _, _) = two_days();
    for login in ["company", "revenue", "assets"] {
        d.run(
            "admin",
            "2026-11-26",
            &["user", "add", login, "--role", "worker", "--notify", "none"],
        );
    }
    for _ in 0..6 {
        d.run("admin", "2026-11-26", &["task", "create", "More"]);
    }
    let Some(bal) = hledger_books(&d) else {
        return;
    };
    let revenue = hledger_balances(&bal)["revenue:fees"];
    let fees: i64 = d
        .run("acc", "2026-11-26", &["earnings"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fees_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(-revenue, fees, "{bal}");
}
