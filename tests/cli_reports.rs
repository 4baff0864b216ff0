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

/// Runs `tool` with `args` on the day's exported journal and checks that every
/// `workers:<login>` balance it reports (parsed from its output by `parse`, in cents) is that
/// worker's `balance --all`, and `company` their opposite. Skips loudly when the tool is
/// missing, unless `require_env` is set.
fn journal_agrees_with_balances(
    tool: &str,
    args: &[&str],
    require_env: &str,
    parse: impl Fn(&str) -> BTreeMap<String, i64>,
) {
    let (d, _, _) = two_days();
    let journal = d.raw("acc", &["export", "journal"]);
    let path = d.l.dir.parent().unwrap().join("popug.journal");
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
        return;
    };
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let reported = parse(&text);
    let balances = d.run("acc", "2026-11-26", &["balance", "--all"]);
    let mut total = 0;
    let mut nonzero = 0;
    for b in balances.as_array().unwrap() {
        let login = b["login"].as_str().unwrap();
        let cents = b["balance_cents"].as_i64().unwrap();
        total += cents;
        nonzero += usize::from(cents != 0);
        assert_eq!(
            reported.get(&format!("workers:{login}")).copied().unwrap_or(0),
            cents,
            "{tool}, {login}: {text}"
        );
    }
    assert!(nonzero > 0, "the two days leave some balance to compare");
    assert_eq!(
        reported.get("company").copied().unwrap_or(0),
        -total,
        "{tool}: {text}"
    );
}

#[test]
fn the_journal_agrees_with_balance_all_in_hledger() {
    let args = ["bal", "--flat", "--no-total", "-O", "csv"];
    journal_agrees_with_balances("hledger", &args, "POPUG_REQUIRE_HLEDGER", |text| {
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
    });
}

#[test]
fn the_journal_agrees_with_balance_all_in_ledger_cli() {
    let format = "%(account)\t%(quantity(scrub(display_total)))\n";
    let args = ["bal", "--flat", "--no-total", "--balance-format", format];
    journal_agrees_with_balances("ledger", &args, "POPUG_REQUIRE_LEDGER", |text| {
        text.lines()
            .map(|line| {
                let (account, amount) = line.split_once('\t').unwrap_or_else(|| panic!("{text}"));
                let units: f64 = amount.trim().parse().unwrap_or_else(|_| panic!("{text}"));
                (account.trim().to_owned(), (units * 100.0).round() as i64)
            })
            .collect()
    });
}
