//! A real `popug serve` on loopback under load: a few hundred concurrent API requests while
//! CLI commands write to the same ledger from other processes. Nothing is lost, nothing is
//! written twice, no request fails with a 5xx, and `verify` passes. And SIGTERM stops the
//! server with a live event stream open (exit 0, promptly).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use common::serve::{Server, request};
use common::{Ledger, login_token, ok_json};

/// Client threads, and requests each: 320 requests in all, at most 8 open at once.
const CLIENTS: usize = 8;
const REQUESTS: usize = 40;
/// Tasks the CLI creates meanwhile, from other processes.
const CLI_TASKS: usize = 15;

#[test]
fn hundreds_of_concurrent_requests_while_the_cli_writes_lose_nothing() {
    let ledger = Ledger::init();
    let mut passwords = BTreeMap::new();
    for (login, role) in [
        ("zazu", "manager"),
        ("iago", "accountant"),
        ("kesha", "worker"),
        ("gosha", "worker"),
    ] {
        let doc = ledger.json(&["user", "add", login, "--role", role]);
        passwords.insert(login, doc["password"].as_str().unwrap().to_owned());
    }
    let manager = login_token(ledger.cmd(), "zazu", &passwords["zazu"]);
    let accountant = login_token(ledger.cmd(), "iago", &passwords["iago"]);
    let server = Server::start(&ledger);
    let addr = server.addr.clone();

    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (addr, manager, accountant) = (addr.clone(), manager.clone(), accountant.clone());
            std::thread::spawn(move || {
                let mut created = Vec::new();
                let mut statuses = Vec::new();
                for i in 0..REQUESTS {
                    let (status, body) = match i % 4 {
                        0 => {
                            let title = format!("api {client}-{i}");
                            let (status, body) = request(
                                &addr,
                                "POST",
                                "/api/v1/tasks",
                                Some(&manager),
                                &format!(r#"{{"title":"{title}"}}"#),
                            );
                            if status == 200 {
                                created.push(title);
                            }
                            (status, body)
                        }
                        1 => request(&addr, "GET", "/api/v1/tasks?all=1", Some(&manager), ""),
                        2 => request(&addr, "GET", "/api/v1/balances", Some(&accountant), ""),
                        _ => request(&addr, "GET", "/healthz", None, ""),
                    };
                    statuses.push((status, body));
                }
                (created, statuses)
            })
        })
        .collect();
    // meanwhile, the command line writes from other processes
    let mut cli_titles = Vec::new();
    for k in 0..CLI_TASKS {
        let title = format!("cli {k}");
        let out = ledger
            .admin()
            .args(["--json", "task", "create", &title])
            .output()
            .unwrap();
        ok_json(out, "task create");
        cli_titles.push(title);
        if k == CLI_TASKS / 2 {
            ok_json(
                ledger
                    .cmd()
                    .env("POPUG_TOKEN", &manager)
                    .args(["--json", "shuffle"])
                    .output()
                    .unwrap(),
                "shuffle",
            );
        }
    }
    let mut api_titles = Vec::new();
    let mut answered = 0;
    for c in clients {
        let (created, statuses) = c.join().expect("a client thread");
        for (status, body) in &statuses {
            assert!(*status < 500, "no request fails on the server: {status} {body}");
            assert_eq!(*status, 200, "every request of this mix succeeds: {body}");
        }
        answered += statuses.len();
        api_titles.extend(created);
    }
    assert_eq!(answered, CLIENTS * REQUESTS);
    assert_eq!(
        api_titles.len(),
        CLIENTS * REQUESTS / 4,
        "every create was answered"
    );
    // every acknowledged task is in the ledger exactly once, numbered without gaps
    let tasks = ledger.json(&["task", "list", "--all"]);
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks.as_array().unwrap() {
        *count.entry(t["title"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    for title in api_titles.iter().chain(&cli_titles) {
        assert_eq!(count.get(title), Some(&1), "`{title}` is there once");
    }
    let numbers: Vec<u64> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
    assert_eq!(numbers.len(), api_titles.len() + cli_titles.len());
    let verify = ok_json(
        ledger.admin().args(["--json", "verify"]).output().unwrap(),
        "verify",
    );
    assert_eq!(verify["ok"], true);
    let mut server = server;
    assert!(
        server
            .terminate(Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
    let log = server
        .whole_log()
        .lines()
        .filter(|l| l.contains(" /api/v1/") || l.contains(" /healthz "))
        .count();
    assert!(log >= CLIENTS * REQUESTS, "one log line per request ({log})");
}

#[test]
fn sigterm_stops_the_server_promptly_with_a_live_stream_open() {
    let ledger = Ledger::init();
    let mut server = Server::start(&ledger);
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "GET /api/v1/events?since=0 HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer {}\r\n\r\n",
        ledger.admin_token
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    let mut saw_data = false;
    while reader.read_line(&mut line).unwrap() > 0 {
        if line.starts_with("data: ") {
            let event: serde_json::Value =
                serde_json::from_str(line.trim_start_matches("data: ").trim()).unwrap();
            assert_eq!(event["seq"], 1, "the stream begins after `since`");
            saw_data = true;
            break;
        }
        line.clear();
    }
    assert!(saw_data, "the live stream sent the log");
    let status = server
        .terminate(Duration::from_secs(5))
        .expect("popug serve stopped within 5 s of SIGTERM");
    assert!(status.success(), "exit 0: {status:?}");
}

/// Reads server-sent events until `want` says stop or the stream ends; the seqs seen.
fn read_events(reader: &mut impl BufRead, mut want: impl FnMut(u64) -> bool) -> (Vec<u64>, bool) {
    let mut seqs = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return (seqs, true),
            // the last chunk of a chunked body: the stream's response is over
            Ok(_) if line == "0\r\n" => return (seqs, true),
            Ok(_) => {}
            Err(_) => return (seqs, false), // timed out: still open
        }
        if let Some(data) = line.strip_prefix("data: ") {
            let seq = serde_json::from_str::<serde_json::Value>(data.trim()).unwrap()["seq"]
                .as_u64()
                .unwrap();
            seqs.push(seq);
            if !want(seq) {
                return (seqs, false);
            }
        }
    }
}

#[test]
fn a_live_stream_ends_when_its_session_is_signed_out() {
    let ledger = Ledger::init();
    ledger.ok(&["user", "add", "kesha", "--role", "worker"]);
    let session = login_token(ledger.cmd(), "admin", &ledger.admin_password);
    let server = Server::start(&ledger);
    let head = String::from_utf8(std::fs::read(ledger.dir.join("events.jsonl")).unwrap())
        .unwrap()
        .lines()
        .count();
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "GET /api/v1/events?since={} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer {session}\r\n\r\n",
        head - 1
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (seen, _) = read_events(&mut reader, |_| false);
    assert_eq!(seen, [head as u64], "the stream is live");
    // sign the stream's session out, then write: the stream must not carry it
    let out = ledger
        .cmd()
        .env("POPUG_TOKEN", &session)
        .args(["logout"])
        .output()
        .unwrap();
    assert!(out.status.success());
    std::thread::sleep(Duration::from_millis(1500));
    ok_json(
        ledger
            .admin()
            .args(["--json", "task", "create", "After sign-out"])
            .output()
            .unwrap(),
        "task create",
    );
    let logout_seq = head as u64 + 1;
    let (after, ended) = read_events(&mut reader, |_| true);
    assert!(
        after.iter().all(|s| *s <= logout_seq),
        "nothing written after the sign-out reached the signed-out stream: {after:?}"
    );
    assert!(ended, "the stream ended");
}

/// The Ledger page's live rows show each event's time as the server shows the rest of the
/// page: the stream carries it (`local`), made by popug's own tz database. Before, the
/// page's script formatted `at` with the browser's tz database, which in Vancouver from
/// November 2026 (permanent daylight time, tzdata 2026f) may still be an hour behind.
#[test]
fn the_ledger_pages_live_rows_carry_their_time_in_the_ledgers_timezone() {
    let init_at = "2026-11-21T07:00:00Z";
    let ledger = Ledger::init_with_args(&[("POPUG_NOW", init_at)], &["--timezone", "America/Vancouver"]);
    let session = ledger.admin_token.clone();
    let mut add = ledger.admin();
    add.env("POPUG_NOW", init_at)
        .args(["--json", "user", "add", "kesha", "--role", "worker"]);
    ok_json(add.output().unwrap(), "user add");
    let head = String::from_utf8(std::fs::read(ledger.dir.join("events.jsonl")).unwrap())
        .unwrap()
        .lines()
        .count();
    let server = Server::start(&ledger);
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "GET /ledger/stream?since={head} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nCookie: popug_session={session}\r\n\r\n"
    )
    .unwrap();
    let mut create = ledger.admin();
    create
        .env("POPUG_NOW", "2026-11-21T07:30:00Z")
        .args(["--json", "task", "create", "Shown live"]);
    ok_json(create.output().unwrap(), "task create");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let first = loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the stream ended before an event"
        );
        if let Some(data) = line.strip_prefix("data: ") {
            break serde_json::from_str::<serde_json::Value>(data.trim()).unwrap();
        }
    };
    assert_eq!(first["seq"], head as u64 + 1, "{first}");
    assert_eq!(first["at"], "2026-11-21T07:30:00.000Z", "{first}");
    // UTC-7 all year in Vancouver from November 2026: the 21st, not 23:30 on the 20th
    assert_eq!(first["local"], "2026-11-21 00:30", "{first}");
}

#[test]
fn sigterm_does_not_wait_for_a_client_that_never_reads() {
    let ledger = Ledger::init();
    ledger.ok(&["user", "add", "kesha", "--role", "worker"]);
    // enough log that the stream fills the socket and the server's queue
    let rows: String = std::iter::once("title\n".to_owned())
        .chain((0..4000).map(|i| format!("a task with a long enough title - number {i}\n")))
        .collect();
    let csv = ledger.dir.parent().unwrap().join("tasks.csv");
    std::fs::write(&csv, rows).unwrap();
    ledger.ok(&["task", "import", csv.to_str().unwrap()]);
    let mut server = Server::start(&ledger);
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer {}\r\n\r\n",
        ledger.admin_token
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(1)); // the client reads nothing
    let started = std::time::Instant::now();
    let status = server
        .terminate(Duration::from_secs(15))
        .expect("popug serve stopped despite the stalled client");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped within the grace period: {:?}",
        started.elapsed()
    );
    drop(stream);
}
