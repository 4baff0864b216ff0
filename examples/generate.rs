//! The benchmark workload: a seeded, realistic ledger made by popug's own decisions and
//! reactors (not by writing events by hand): workers, a manager and an accountant; every day
//! tasks are created in the morning, most open tasks are done in the afternoon, the manager
//! shuffles once a week, and the day is paid in the evening. Tasks per day are tuned so that
//! the log holds about `--events` events after `--days` days.
//!
//! usage: cargo run --release --example generate -- DIR [--events 1000000] [--workers 1000]
//!        [--days 365] [--seed 42] [--start 2025-11-27] [--unpaid-last-day]
//!
//! Sign in afterwards with `popug login admin` and the password `bench-admin-pw` (workers:
//! `bench-worker-pw`; every worker shares one password hash, to save 1,000 argon2 runs).

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use popug::app::subscribers;
use popug::auth::{self, Actor};
use popug::events::{Notify, Payload, Role, TaskStatus, UserCreated};
use popug::tasks::{self, Filter, NewTask};
use popug_ledger::{Clock, Ledger, Options};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const CHUNK: usize = 2_000;

struct Args {
    dir: PathBuf,
    events: u64,
    workers: usize,
    days: u32,
    seed: u64,
    start: NaiveDate,
    /// Leave the last day unpaid (for timing `pay-daily` on it).
    unpaid_last_day: bool,
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        dir: PathBuf::new(),
        events: 1_000_000,
        workers: 1_000,
        days: 365,
        seed: 42,
        start: NaiveDate::from_ymd_opt(2025, 11, 27).unwrap(),
        unpaid_last_day: false,
    };
    let usage = "usage: generate DIR [--events N] [--workers N] [--days N] [--seed N] [--start YYYY-MM-DD] \
                 [--unpaid-last-day]";
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{a} needs a value\n{usage}"));
        match a.as_str() {
            "--events" => args.events = value().parse().expect("--events N"),
            "--workers" => args.workers = value().parse().expect("--workers N"),
            "--days" => args.days = value().parse().expect("--days N"),
            "--seed" => args.seed = value().parse().expect("--seed N"),
            "--start" => args.start = value().parse().expect("--start YYYY-MM-DD"),
            "--unpaid-last-day" => args.unpaid_last_day = true,
            "-h" | "--help" => {
                println!("{usage}");
                std::process::exit(0);
            }
            _ if args.dir.as_os_str().is_empty() => args.dir = PathBuf::from(&a),
            _ => panic!("unexpected argument `{a}`\n{usage}"),
        }
    }
    assert!(!args.dir.as_os_str().is_empty(), "{usage}");
    args
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn at(day: NaiveDate, h: u32, m: u32) -> Clock {
    Clock::Fixed(Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0).unwrap()))
}

fn main() -> Res<()> {
    let args = parse_args();
    // private files, as popug makes them
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let started = Instant::now();
    let opts = Options {
        seed: Some(args.seed),
        ..Options::default()
    };
    let mut ledger = Ledger::create(&args.dir, subscribers(&args.dir), opts)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let admin_hash = auth::hash_password("bench-admin-pw")?;
    let worker_hash = auth::hash_password("bench-worker-pw")?;

    // day 0, 08:00: the ledger, its admin, a manager, an accountant and the workers
    {
        let mut w = ledger.write(at(args.start, 8, 0))?;
        let user = |w: &mut popug_ledger::WriteGuard<'_>, login: String, role, notify, hash: &str| {
            UserCreated {
                user_id: w.new_id().to_string().into(),
                login,
                name: None,
                email: None,
                role,
                password_hash: hash.to_owned(),
                notify,
            }
            .to_event("system")
        };
        let (ledger_id, admin_id) = (w.new_id().to_string(), w.new_id().to_string());
        w.append(popug::app::genesis(
            ledger_id,
            admin_id,
            "UTC",
            Some(args.seed),
            "admin",
            admin_hash,
        ))?;
        let mut batches = vec![
            vec![user(
                &mut w,
                "manager".into(),
                Role::Manager,
                Notify::None,
                &worker_hash,
            )],
            vec![user(
                &mut w,
                "accountant".into(),
                Role::Accountant,
                Notify::None,
                &worker_hash,
            )],
        ];
        for i in 0..args.workers {
            let notify = match i % 100 {
                0 => Notify::File,
                1 => Notify::None,
                _ => Notify::Stdout,
            };
            batches.push(vec![user(
                &mut w,
                format!("w{i:05}"),
                Role::Worker,
                notify,
                &worker_hash,
            )]);
        }
        w.append_in_chunks(batches, CHUNK, forget)?;
    }
    let manager = actor(&ledger, "manager")?;

    let mut overhead = 0u64; // events of yesterday's payment run and shuffle
    let mut last_report = Instant::now();
    for d in 0..args.days {
        let day = args.start + Duration::days(d as i64);
        let seq = ledger.head()?.seq;
        if seq >= args.events {
            break;
        }
        let per_day = (args.events - seq) / (args.days - d) as u64;
        let n_tasks = (per_day.saturating_sub(overhead) / 6).max(1) as usize;
        overhead = 0;

        // 09:00 tasks arrive
        {
            let mut w = ledger.write(at(day, 9, 0))?;
            let workers = tasks::worker_ids(w.store(tasks::STORE))?;
            let mut batches = Vec::with_capacity(n_tasks);
            for _ in 0..n_tasks {
                let input = NewTask {
                    title: format!("Task {}", rng.random_range(1..1_000_000u32)),
                    jira_id: rng
                        .random_bool(0.3)
                        .then(|| format!("POP-{}", rng.random_range(1..100_000u32))),
                    description: None,
                };
                let t = w.decide(|ctx| tasks::decide_create(&workers, input, ctx))?;
                batches.push(vec![t.to_event(&manager.user.user_id)]);
            }
            w.append_in_chunks(batches, CHUNK, forget)?;
        }
        // Wednesdays 12:00, the manager shuffles every open task
        if d % 7 == 3 {
            let mut w = ledger.write(at(day, 12, 0))?;
            let before = w.head()?.seq;
            let open = tasks::list(
                w.store(tasks::STORE),
                &tasks::Filter {
                    status: Some(popug::events::TaskStatus::Open),
                    assignee_id: None,
                },
            )?;
            let workers = tasks::worker_ids(w.store(tasks::STORE))?;
            let (_, moves) = w.decide(|ctx| tasks::decide_shuffle(&open, &workers, ctx))?;
            w.append(moves.iter().map(|m| m.to_event(&manager.user.user_id)).collect())?;
            overhead += w.head()?.seq - before;
        }
        // 17:00 most open tasks are done by their assignees
        {
            let mut w = ledger.write(at(day, 17, 0))?;
            let open = tasks::list(
                w.store(tasks::STORE),
                &Filter {
                    status: Some(TaskStatus::Open),
                    assignee_id: None,
                },
            )?;
            let mut batches = Vec::new();
            for t in open.iter().filter(|_| rng.random_bool(0.85)) {
                let who = Actor {
                    user: auth::user_by_id(w.store(auth::STORE), &t.assignee_id)?.expect("assignee exists"),
                    credential_id: String::new(),
                    credential_kind: "session".into(),
                    expires_at: None,
                };
                let change = tasks::decide_done(t, &who)?;
                batches.push(vec![change.to_event(&who.user.user_id)]);
            }
            w.append_in_chunks(batches, CHUNK, forget)?;
        }
        // 23:30 the day is paid
        if !(args.unpaid_last_day && d + 1 == args.days) {
            let mut w = ledger.write(at(day, 23, 30))?;
            let before = w.head()?.seq;
            let last_paid = popug::scheduler::last_paid_day(w.store(popug::scheduler::STORE))?
                .and_then(|d| d.parse().ok());
            let runs = popug::scheduler::decide_pay_daily(last_paid, day, day, day)?;
            if !runs.is_empty() {
                w.append(runs.iter().map(|r| r.to_event(&manager.user.user_id)).collect())?;
            }
            overhead += w.head()?.seq - before;
        }
        if last_report.elapsed().as_secs() >= 5 {
            last_report = Instant::now();
            eprintln!(
                "day {d}: {} events, {:.0} s",
                ledger.head()?.seq,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let head = ledger.head()?;
    let size = std::fs::metadata(ledger.events_path())?.len();
    println!(
        "{} events ({:.1} MB) in {:.1} s at {}",
        head.seq,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        args.dir.display()
    );
    Ok(())
}

/// What the generator does with each group commit's events: nothing (it prints no
/// notifications).
fn forget(
    _: &popug_ledger::WriteGuard<'_>,
    _: Vec<popug_ledger::Event>,
) -> Result<(), popug_ledger::LedgerError> {
    Ok(())
}

fn actor(ledger: &Ledger, login: &str) -> Res<Actor> {
    Ok(Actor {
        user: auth::user_by_login(ledger.store(auth::STORE), login)?.ok_or("no such user")?,
        credential_id: String::new(),
        credential_kind: "session".into(),
        expires_at: None,
    })
}
