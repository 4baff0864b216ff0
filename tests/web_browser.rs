//! The dashboards in a real browser: Debian's Chromium driven through WebDriver
//! (chromedriver, with the `fantoccini` client) against a real `popug serve` on loopback.
//! A worker signs in, sees the task, presses Done and sees the balance change; is refused
//! the accounting page; a manager shuffles after the confirmation; an accountant downloads
//! the CSV; an admin sees analytics and the ledger's events arrive live. Screenshots of each
//! page go to `target/web-screenshots/` (CI keeps them).
//!
//! Without chromium and chromedriver the test says so loudly and passes, unless
//! `POPUG_REQUIRE_CHROMIUM=1` (set by `.ci/run`), which makes a skip a failure.

mod common;
#[path = "../ledger/tests/support/ports.rs"]
mod ports;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::serve::Server;
use common::{Ledger, login_token};
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver in its own process group, killed with everything it started (Chromium
/// included) when dropped, even when the test fails.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        use std::os::unix::process::CommandExt;
        let port = ports::test_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        // the guard exists before anything can fail, so a failure still stops chromedriver
        let driver = Driver { child, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group we created for chromedriver.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn available() -> bool {
    let there = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !there {
        let required = std::env::var_os("POPUG_REQUIRE_CHROMIUM").is_some_and(|v| v == "1");
        eprintln!(
            "\n!!! SKIPPED: the browser test needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver) !!!\n"
        );
        assert!(!required, "POPUG_REQUIRE_CHROMIUM=1 and Chromium is missing");
    }
    there
}

async fn browser(driver: &Driver, downloads: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1200,900"],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false},
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("a screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The text of the element, found again when the page replaced it between the finding and
/// the reading (a live page: the Ledger page's events arrive while it is read).
///
/// chromedriver reports a replaced node either as the standard "stale element reference" or,
/// when the page swaps it while the command is on its way, as an "unknown error" from the
/// DevTools inspector ("Node with given id does not belong to the document"). Both mean the
/// same: find it again.
async fn text_of(c: &Client, css: &str) -> String {
    for _ in 0..20 {
        match find(c, Locator::Css(css)).await.text().await {
            Ok(text) => return text,
            Err(fantoccini::error::CmdError::Standard(e)) if replaced(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the text of `{css}`: {e}"),
        }
    }
    panic!("`{css}` was replaced 20 times in a row")
}

fn replaced(e: &fantoccini::error::WebDriver) -> bool {
    use fantoccini::error::ErrorStatus;
    e.error == ErrorStatus::StaleElementReference
        || (e.error == ErrorStatus::UnknownError && e.message.contains("does not belong to the document"))
}

/// The element, waiting (at most 10 s) for a page that is still loading.
async fn find(c: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(locator)
        .await
    {
        Ok(e) => e,
        Err(e) => panic!(
            "no {locator:?} on {:?}: {e}\n{}",
            c.current_url().await,
            c.source().await.unwrap_or_default()
        ),
    }
}

async fn sign_in(c: &Client, server: &Server, login: &str, password: &str) {
    c.goto(&server.url("/login")).await.unwrap();
    find(c, Locator::Id("login"))
        .await
        .send_keys(login)
        .await
        .unwrap();
    find(c, Locator::Id("password"))
        .await
        .send_keys(password)
        .await
        .unwrap();
    find(c, Locator::Id("sign-in")).await.click().await.unwrap();
    let who = text_of(c, "#whoami").await;
    assert!(who.starts_with(login), "signed in as {login}: {who}");
}

async fn sign_out(c: &Client) {
    find(c, Locator::Id("sign-out")).await.click().await.unwrap();
    find(c, Locator::Id("sign-in")).await;
}

/// Waits up to `limit` for `check` to hold, polling.
async fn eventually<F: std::future::Future<Output = bool>>(
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboards_in_a_real_browser() {
    if !available() {
        return;
    }
    // a company: an admin, a manager, an accountant, one worker, one task
    let ledger = Ledger::init();
    let mut passwords = std::collections::BTreeMap::new();
    for (login, role) in [("zazu", "manager"), ("iago", "accountant"), ("kesha", "worker")] {
        let doc = ledger.json(&["user", "add", login, "--role", role]);
        passwords.insert(login, doc["password"].as_str().unwrap().to_owned());
    }
    let task = ledger.json(&["task", "create", "Fix the beak"]);
    let number = task["number"].to_string();
    let mut server = Server::start(&ledger);
    let driver = Driver::start();
    let downloads = tempfile::tempdir().unwrap();
    let c = browser(&driver, downloads.path()).await;

    // the worker: the task, Done, the balance changes
    sign_in(&c, &server, "kesha", &passwords["kesha"]).await;
    let before = text_of(&c, "#balance").await;
    assert_eq!(
        before,
        "-".to_owned() + &popug::money::Money(task["assign_fee_cents"].as_i64().unwrap()).to_string()
    );
    let row = text_of(&c, "#open-tasks").await;
    assert!(row.contains("Fix the beak"), "the task is listed: {row}");
    shot(&c, "my-tasks").await;
    find(&c, Locator::Id(&format!("done-{number}")))
        .await
        .click()
        .await
        .unwrap();
    assert!(text_of(&c, "#message").await.contains("done"));
    let after = text_of(&c, "#balance").await;
    let expected = popug::money::Money(
        task["reward_cents"].as_i64().unwrap() - task["assign_fee_cents"].as_i64().unwrap(),
    );
    assert_eq!(after, expected.to_string(), "the reward is credited");
    shot(&c, "my-tasks-done").await;
    // ... and is refused the books
    c.goto(&server.url("/accounting")).await.unwrap();
    assert!(text_of(&c, "h1").await.contains("Not allowed"));
    assert!(
        c.find(Locator::Id("balances")).await.is_err(),
        "no balance is shown to a worker"
    );
    shot(&c, "accounting-refused").await;
    sign_out(&c).await;

    // the manager: a new task, then a shuffle after the confirmation
    sign_in(&c, &server, "zazu", &passwords["zazu"]).await;
    c.goto(&server.url("/tasks")).await.unwrap();
    find(&c, Locator::Id("title"))
        .await
        .send_keys("Clean the cage")
        .await
        .unwrap();
    find(&c, Locator::Id("create")).await.click().await.unwrap();
    assert!(text_of(&c, "#message").await.contains("created"));
    shot(&c, "tasks").await;
    find(&c, Locator::Id("shuffle")).await.click().await.unwrap();
    let confirm = text_of(&c, "#confirm").await;
    assert!(
        confirm.contains("Reassign 1 open tasks"),
        "the confirmation says how many: {confirm}"
    );
    shot(&c, "shuffle-confirm").await;
    find(&c, Locator::Id("confirm-shuffle"))
        .await
        .click()
        .await
        .unwrap();
    assert!(text_of(&c, "#message").await.contains("Shuffled 1 open tasks"));
    sign_out(&c).await;

    // the accountant: the books, and the CSV downloaded
    sign_in(&c, &server, "iago", &passwords["iago"]).await;
    c.goto(&server.url("/accounting")).await.unwrap();
    assert!(text_of(&c, "#balances").await.contains("kesha"));
    shot(&c, "accounting").await;
    find(&c, Locator::Id("export-transactions"))
        .await
        .click()
        .await
        .unwrap();
    let file = downloads.path().join("popug-transactions.csv");
    assert!(
        eventually(Duration::from_secs(15), || async {
            std::fs::metadata(&file).is_ok_and(|m| m.len() > 0)
        })
        .await,
        "the CSV was downloaded"
    );
    let csv = std::fs::read_to_string(&file).unwrap();
    let cli_csv = ledger.ok(&["export", "transactions"]);
    assert_eq!(csv, cli_csv, "the download is `popug export transactions`");
    sign_out(&c).await;

    // the admin: analytics, and the ledger's events arriving live
    sign_in(&c, &server, "admin", &ledger.admin_password).await;
    c.goto(&server.url("/analytics")).await.unwrap();
    find(&c, Locator::Css("svg.chart rect")).await;
    shot(&c, "analytics").await;
    c.goto(&server.url("/ledger")).await.unwrap();
    let head: u64 = text_of(&c, "#head").await.parse().unwrap();
    // another process writes; the page shows it without a reload
    let mut cmd = ledger.cmd();
    let admin = login_token(ledger.cmd(), "admin", &ledger.admin_password);
    cmd.env("POPUG_TOKEN", &admin)
        .args(["task", "create", "Written elsewhere"]);
    assert!(cmd.output().unwrap().status.success());
    let arrived = eventually(Duration::from_secs(15), || async {
        text_of(&c, "#head").await.parse::<u64>().unwrap_or(0) > head + 1
    })
    .await;
    assert!(arrived, "the new events arrived live on the Ledger page");
    assert!(text_of(&c, "#events").await.contains("TaskCreated"));
    find(&c, Locator::Id("verify-now")).await.click().await.unwrap();
    let verified = eventually(Duration::from_secs(30), || async {
        text_of(&c, "#verify").await.starts_with("ok:")
    })
    .await;
    assert!(verified, "verify ran: {}", text_of(&c, "#verify").await);
    shot(&c, "ledger").await;
    // a phone-sized window still shows the page
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&server.url("/my")).await.unwrap();
    shot(&c, "my-tasks-phone").await;

    // the server stops cleanly on SIGTERM, even with the live stream open
    c.goto(&server.url("/ledger")).await.unwrap();
    let status = server
        .terminate(Duration::from_secs(10))
        .expect("popug serve stopped within 10 s");
    assert!(status.success(), "popug serve exits 0 on SIGTERM: {status:?}");
    c.close().await.unwrap();
    drop(driver);
    let log = server.whole_log();
    assert!(
        log.contains("POST /tasks/") && log.contains("GET /ledger/stream"),
        "one line per request: {log}"
    );
}
