//! `popug serve`'s JSON API and pages, in-process (tower's `oneshot`, no port): every route
//! answers as the matching command does for every role, byte for byte; a refused request
//! writes nothing; the pages' sign-in, CSRF, throttle and headers hold.

mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Ledger, login_token, ok_json};
use http_body_util::BodyExt;
use popug::web::{AppState, router};
use tower::ServiceExt;

/// A ledger with one user of each role and a task, and each user's session token.
struct Company {
    ledger: Ledger,
    tokens: BTreeMap<&'static str, String>,
    app: axum::Router,
}

const PEOPLE: [(&str, &str); 4] = [
    ("zazu", "manager"),
    ("iago", "accountant"),
    ("kesha", "worker"),
    ("gosha", "worker"),
];

impl Company {
    fn new() -> Company {
        let ledger = Ledger::init_with(&[("POPUG_SEED", "7")]);
        let mut tokens = BTreeMap::new();
        tokens.insert("admin", ledger.admin_token.clone());
        for (login, role) in PEOPLE {
            let doc = ledger.json(&["user", "add", login, "--role", role]);
            let password = doc["password"].as_str().expect("a temporary password").to_owned();
            let mut cmd = ledger.cmd();
            cmd.env("POPUG_SEED", "7");
            tokens.insert(login, login_token(cmd, login, &password));
        }
        ledger.json(&["task", "create", "Fix the beak"]);
        ledger.json(&["task", "create", "Clean the cage"]);
        let env = popug::app::Env::new(Some(ledger.dir.clone())).expect("an environment");
        let app = router(AppState::new(env));
        Company { ledger, tokens, app }
    }

    fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    /// Runs `popug --json ARGS` as `who`: (exit code, stdout).
    fn cli(&self, who: &str, args: &[&str]) -> (i32, Vec<u8>) {
        let out = self
            .ledger
            .cmd()
            .env("POPUG_TOKEN", self.token(who))
            .env("POPUG_SEED", "7")
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        (out.status.code().unwrap(), out.stdout)
    }

    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, Vec<u8>, axum::http::HeaderMap) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if !body.is_empty() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let response = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        (status, bytes, headers)
    }

    /// Assignees finish new tasks through the API until one of them has a positive balance
    /// (a payout is owed).
    async fn someone_earns(&self) {
        for i in 0..20 {
            let t = self.ledger.json(&["task", "create", &format!("paid {i}")]);
            let who = if t["assignee"] == "kesha" {
                "kesha"
            } else {
                "gosha"
            };
            let uri = format!("/api/v1/tasks/{}/done", t["number"]);
            let (status, body, _) = self.call("POST", &uri, Some(self.token(who)), "").await;
            assert_eq!(status, StatusCode::OK);
            let done: serde_json::Value = serde_json::from_slice(&body).unwrap();
            if done["balance_cents"].as_i64().unwrap() > 0 {
                return;
            }
        }
        panic!("nobody earned money in 20 tasks");
    }

    fn events(&self) -> Vec<u8> {
        std::fs::read(self.ledger.dir.join("events.jsonl")).unwrap()
    }
}

/// The status CLI.md gives an exit code.
fn status_of_exit(code: i32, body: &[u8]) -> StatusCode {
    match code {
        0 => StatusCode::OK,
        2 => StatusCode::BAD_REQUEST,
        3 => {
            let doc: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let code = doc["error"]["code"].as_str().unwrap_or("");
            if matches!(code, "not_signed_in" | "bad_token" | "bad_credentials") {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            }
        }
        4 => StatusCode::NOT_FOUND,
        5 => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The error document of an API answer, without the hint (the CLI prints it the same).
fn error_code(body: &[u8]) -> String {
    let doc: serde_json::Value = serde_json::from_slice(body).expect("an error is JSON");
    assert!(
        doc["error"]["message"].is_string(),
        "an error has a message: {doc}"
    );
    doc["error"]["code"]
        .as_str()
        .expect("an error has a code")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_route_answers_as_its_command_for_every_role() {
    let c = Company::new();
    let routes: [(&str, Vec<&str>); 11] = [
        ("/api/v1/whoami", vec!["whoami"]),
        ("/api/v1/tasks", vec!["task", "list"]),
        ("/api/v1/tasks?all=1", vec!["task", "list", "--all"]),
        (
            "/api/v1/tasks?all=1&status=open&assignee=kesha",
            vec!["task", "list", "--all", "--status", "open", "--assignee", "kesha"],
        ),
        ("/api/v1/tasks/1", vec!["task", "show", "1"]),
        ("/api/v1/balances", vec!["balance", "--all"]),
        ("/api/v1/balances/kesha", vec!["balance", "kesha"]),
        (
            "/api/v1/audit/kesha?from=2000-01-01",
            vec!["audit", "kesha", "--from", "2000-01-01"],
        ),
        ("/api/v1/earnings", vec!["earnings"]),
        ("/api/v1/analytics", vec!["analytics"]),
        ("/api/v1/events?since=3", vec!["events", "--since", "3"]),
    ];
    let mut refusals = 0;
    for who in ["admin", "zazu", "iago", "kesha", "gosha"] {
        for (uri, args) in &routes {
            let (code, stdout) = c.cli(who, args);
            let (status, body, headers) = c.call("GET", uri, Some(c.token(who)), "").await;
            if code == 0 {
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "{who} GET {uri}: {}",
                    String::from_utf8_lossy(&body)
                );
                assert_eq!(
                    String::from_utf8_lossy(&body),
                    String::from_utf8_lossy(&stdout),
                    "{who} GET {uri} answers as `popug --json {}`",
                    args.join(" ")
                );
            } else {
                refusals += 1;
                let (_, cli_err) = {
                    let out = c
                        .ledger
                        .cmd()
                        .env("POPUG_TOKEN", c.token(who))
                        .arg("--json")
                        .args(args)
                        .output()
                        .unwrap();
                    (out.status.code(), out.stderr)
                };
                assert_eq!(
                    status,
                    status_of_exit(code, &cli_err),
                    "{who} GET {uri} (exit {code})"
                );
                let cli_doc: serde_json::Value = serde_json::from_slice(&cli_err).unwrap();
                assert_eq!(
                    error_code(&body),
                    cli_doc["error"]["code"],
                    "{who} GET {uri}: the command's own refusal"
                );
                assert_eq!(headers[header::CONTENT_TYPE], "application/json");
            }
        }
    }
    // workers are refused the books, the analytics and the log; managers the books
    assert!(
        refusals >= 12,
        "the matrix exercised the role checks ({refusals} refusals)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_valid_token_is_401_and_an_unknown_route_404() {
    let c = Company::new();
    for token in [None, Some("pgs_not-a-token")] {
        let (status, body, headers) = c.call("GET", "/api/v1/whoami", token, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        assert!(["not_signed_in", "bad_token"].contains(&error_code(&body).as_str()));
    }
    let (status, body, _) = c
        .call("GET", "/api/v1/no-such-thing", Some(c.token("admin")), "")
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::NOT_FOUND, "no_route")
    );
    // the server's own environment never stands in for a missing token
    let (status, _, _) = c.call("POST", "/api/v1/shuffle", None, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body, _) = c.call("GET", "/healthz", None, "").await;
    assert_eq!(status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(
        doc["head"].as_u64().unwrap() as usize,
        String::from_utf8(c.events()).unwrap().lines().count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_write_writes_nothing() {
    let c = Company::new();
    let kesha_task = {
        let doc = c.ledger.json(&["task", "list", "--all", "--assignee", "kesha"]);
        doc.as_array()
            .and_then(|a| a.first())
            .map(|t| t["number"].to_string())
    };
    let gosha_task = {
        let doc = c.ledger.json(&["task", "list", "--all", "--assignee", "gosha"]);
        doc.as_array()
            .and_then(|a| a.first())
            .map(|t| t["number"].to_string())
    };
    let someone_elses = kesha_task.clone().or(gosha_task.clone()).unwrap();
    let not_mine_for = if kesha_task.is_some() { "gosha" } else { "kesha" };
    // method, route, caller, body, status, error code
    type Case<'a> = (&'a str, String, Option<&'a str>, &'a str, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/shuffle".into(),
            Some("kesha"),
            "",
            StatusCode::FORBIDDEN,
            "not_allowed",
        ),
        (
            "POST",
            "/api/v1/shuffle".into(),
            Some("iago"),
            "",
            StatusCode::FORBIDDEN,
            "not_allowed",
        ),
        (
            "POST",
            "/api/v1/pay-daily".into(),
            Some("kesha"),
            "",
            StatusCode::FORBIDDEN,
            "not_allowed",
        ),
        (
            "POST",
            "/api/v1/pay-daily".into(),
            Some("zazu"),
            "{}",
            StatusCode::FORBIDDEN,
            "not_allowed",
        ),
        (
            "POST",
            "/api/v1/pay-daily".into(),
            Some("iago"),
            r#"{"date":"2026-02-30"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/pay-daily".into(),
            Some("iago"),
            r#"{"day":"2026-02-03"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks".into(),
            Some("kesha"),
            r#"{"title":""}"#,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks".into(),
            Some("kesha"),
            r#"{"title":"x","assignee":"me"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks".into(),
            Some("kesha"),
            "{not json",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks".into(),
            None,
            r#"{"title":"x"}"#,
            StatusCode::UNAUTHORIZED,
            "not_signed_in",
        ),
        (
            "POST",
            format!("/api/v1/tasks/{someone_elses}/done"),
            Some(not_mine_for),
            "",
            StatusCode::FORBIDDEN,
            "not_assignee",
        ),
        (
            "POST",
            format!("/api/v1/tasks/{someone_elses}/done"),
            Some("admin"),
            "",
            StatusCode::FORBIDDEN,
            "not_assignee",
        ),
        (
            "POST",
            "/api/v1/tasks/999/done".into(),
            Some("kesha"),
            "",
            StatusCode::NOT_FOUND,
            "no_task",
        ),
        (
            "GET",
            "/api/v1/earnings?from=2026-13-01".into(),
            Some("iago"),
            "",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "GET",
            "/api/v1/tasks?all=maybe".into(),
            Some("zazu"),
            "",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
        (
            "GET",
            "/api/v1/events?since=-1".into(),
            Some("admin"),
            "",
            StatusCode::BAD_REQUEST,
            "invalid_input",
        ),
    ];
    for (method, uri, who, body, want, code) in cases {
        let before = c.ledger.snapshot();
        let (status, answer, _) = c.call(method, &uri, who.map(|w| c.token(w)), body).await;
        assert_eq!(
            status,
            want,
            "{who:?} {method} {uri} {body}: {}",
            String::from_utf8_lossy(&answer)
        );
        assert_eq!(error_code(&answer), code, "{who:?} {method} {uri} {body}");
        assert!(
            c.ledger.snapshot() == before,
            "{who:?} {method} {uri} {body} wrote nothing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_the_api_follow_the_same_rules_and_answers_as_the_cli() {
    let c = Company::new();
    // anyone creates; the answer is `task create --json`'s shape
    let (status, body, _) = c
        .call(
            "POST",
            "/api/v1/tasks",
            Some(c.token("kesha")),
            r#"{"title":"Sing","jira_id":"POP-9"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let created: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "assign_fee_cents",
            "assignee",
            "jira_id",
            "number",
            "reward_cents",
            "task_id",
            "title"
        ]
    );
    assert_eq!(created["number"], 3);
    // an Idempotency-Key header is --idempotency-key: a retry creates nothing
    let keyed = |c: &Company| {
        let req = Request::post("/api/v1/tasks")
            .header(header::AUTHORIZATION, format!("Bearer {}", c.token("zazu")))
            .header("idempotency-key", "retry-1")
            .body(Body::from(r#"{"title":"Once"}"#))
            .unwrap();
        c.app.clone().oneshot(req)
    };
    let first = keyed(&c)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    let events = c.events();
    let again = keyed(&c)
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(first, again, "a retried request answers as the first");
    assert_eq!(c.events(), events, "and writes nothing");
    // the assignee finishes it; the answer carries the new balance, as `task done --json`
    let created: serde_json::Value = serde_json::from_slice(&first).unwrap();
    let assignee = created["assignee"].as_str().unwrap().to_owned();
    let who = if assignee == "kesha" { "kesha" } else { "gosha" };
    let uri = format!("/api/v1/tasks/{}/done", created["number"]);
    let (status, body, _) = c.call("POST", &uri, Some(c.token(who)), "").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let done: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (_, balance) = c.cli(who, &["balance"]);
    let balance: serde_json::Value = serde_json::from_slice(&balance).unwrap();
    assert_eq!(done["balance_cents"], balance["balance_cents"]);
    // twice is a conflict, and writes nothing
    let events = c.events();
    let (status, body, _) = c.call("POST", &uri, Some(c.token(who)), "").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::CONFLICT, "task_done")
    );
    assert_eq!(c.events(), events);
    // the manager shuffles; the accountant pays the day, once
    let (status, body, _) = c.call("POST", "/api/v1/shuffle", Some(c.token("zazu")), "").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let shuffled: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        shuffled["reassigned"].as_u64().unwrap() as usize,
        shuffled["tasks"].as_array().unwrap().len()
    );
    c.someone_earns().await;
    let (status, body, _) = c
        .call("POST", "/api/v1/pay-daily", Some(c.token("iago")), "")
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let paid: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (_, body, _) = c
        .call("POST", "/api/v1/pay-daily", Some(c.token("iago")), "{}")
        .await;
    let again: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(again["already_paid"], true);
    // the Accounting page's payouts by day add up to what the run paid
    assert!(
        paid["total_cents"].as_i64().unwrap() > 0,
        "someone was paid: {paid}"
    );
    {
        let mut b = Browser::new(&c);
        let iago = password_of(&c, "iago");
        b.sign_in("iago", &iago).await;
        let (_, page, _) = b.send("GET", "/accounting", &[], &[]).await;
        let row = format!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            paid["date"].as_str().unwrap(),
            paid["payments"].as_array().unwrap().len(),
            popug::money::Money(paid["total_cents"].as_i64().unwrap())
        );
        assert!(page.contains(&row), "{row} on the Accounting page");
    }
    ok_json(
        c.ledger.admin().args(["--json", "verify"]).output().unwrap(),
        "verify",
    );
}

#[test]
fn the_openapi_file_cli_md_and_the_router_agree_with_the_route_table() {
    let generated = serde_json::to_string_pretty(&popug::web::openapi::document()).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    if std::env::var_os("POPUG_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not what the code describes: run `POPUG_UPDATE_OPENAPI=1 cargo test --test web_api openapi`"
    );
    // CLI.md's table of routes names the same routes
    let cli_md =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/CLI.md"))
            .unwrap();
    let mut documented: Vec<String> = cli_md
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|r| r.starts_with("GET /") || r.starts_with("POST /"))
        .map(|r| {
            let (method, rest) = r.split_once(' ').unwrap();
            let path = rest.split(['[', '?', ' ']).next().unwrap();
            format!("{} {path}", method.to_lowercase())
        })
        .collect();
    // `GET /api/v1/balances[/{login}]` names two routes
    if documented.iter().any(|r| r == "get /api/v1/balances") {
        documented.push("get /api/v1/balances/{login}".into());
    }
    documented.sort();
    let mut table: Vec<String> = popug::web::openapi::ROUTES
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    table.sort();
    assert_eq!(documented, table, "docs/CLI.md's API table and the route table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_serves_every_route_of_the_table() {
    let c = Company::new();
    for r in popug::web::openapi::ROUTES {
        let uri = r.path.replace("{number}", "1").replace("{login}", "kesha");
        let method = r.method.to_uppercase();
        let (status, body, _) = c.call(&method, &uri, Some(c.token("gosha")), "").await;
        let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND && error_code(&body) == "no_route");
        assert!(
            !unrouted,
            "{method} {uri} is in the table but not served ({status})"
        );
    }
}

// ---- the pages ----

/// A browser's side of the pages: its cookies, and the request it sends.
struct Browser<'a> {
    c: &'a Company,
    cookies: BTreeMap<String, String>,
    addr: Option<std::net::SocketAddr>,
}

impl<'a> Browser<'a> {
    fn new(c: &'a Company) -> Browser<'a> {
        Browser {
            c,
            cookies: BTreeMap::new(),
            addr: None,
        }
    }

    async fn send(
        &mut self,
        method: &str,
        uri: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> (StatusCode, String, axum::http::HeaderMap) {
        let mut req = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header(header::COOKIE, cookie.join("; "));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let body = if form.is_empty() {
            Body::empty()
        } else {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            let encoded: Vec<String> = form
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
                    )
                })
                .collect();
            Body::from(encoded.join("&"))
        };
        let mut req = req.body(body).unwrap();
        if let Some(addr) = self.addr {
            req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
        }
        let response = self.c.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let body =
            String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        (status, body, headers)
    }

    /// The value of the first form field `name` on `page`.
    fn field(page: &str, name: &str) -> String {
        let at = page
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no field {name} on the page"));
        let rest = &page[at + name.len() + 15..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    async fn sign_in(&mut self, login: &str, password: &str) -> (StatusCode, String, axum::http::HeaderMap) {
        let (_, page, _) = self.send("GET", "/login", &[], &[]).await;
        let csrf = Browser::field(&page, "csrf");
        self.send(
            "POST",
            "/login",
            &[("csrf", &csrf), ("login", login), ("password", password)],
            &[],
        )
        .await
    }
}

/// A user with a password the test knows (a reset gives a temporary one).
fn password_of(c: &Company, login: &str) -> String {
    let doc = c.ledger.json(&["user", "reset-password", login]);
    doc["password"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_signs_in_sees_the_task_presses_done_and_the_balance_changes() {
    let c = Company::new();
    let mine = c.ledger.json(&["task", "list", "--all", "--assignee", "kesha"]);
    let number = match mine.as_array().and_then(|a| a.first()) {
        Some(t) => t["number"].to_string(),
        None => c.ledger.json(&["task", "list", "--all"])[0]["number"].to_string(),
    };
    let owner = c.ledger.json(&["task", "show", &number])["assignee"]
        .as_str()
        .unwrap()
        .to_owned();
    let password = password_of(&c, &owner);
    let mut b = Browser::new(&c);
    let (status, _, _) = b.send("GET", "/my", &[], &[]).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "signed out goes to the sign-in page"
    );
    let (status, _, headers) = b.sign_in(&owner, &password).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("popug_session="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "the session cookie is {flag}: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag over plain HTTP on loopback"
    );
    let (status, page, headers) = b.send("GET", "/my", &[], &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(
        page.contains(&format!("id=\"done-{number}\"")),
        "the task has a Done button"
    );
    let balance_before = Browser::field(
        &page
            .replace("id=\"balance\">", "name=\"balance\" value=\"")
            .replace("</strong>", "\""),
        "balance",
    );
    // without the CSRF field: refused, nothing written
    let events = c.events();
    let (status, _, _) = b
        .send(
            "POST",
            &format!("/tasks/{number}/done"),
            &[("csrf", "forged")],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(c.events(), events, "a forged form writes nothing");
    let csrf = Browser::field(&page, "csrf");
    let (status, _, headers) = b
        .send("POST", &format!("/tasks/{number}/done"), &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/my",
        "POST, then a redirect: a reload cannot post again"
    );
    let (_, page, _) = b.send("GET", "/my", &[], &[]).await;
    let balance_after = Browser::field(
        &page
            .replace("id=\"balance\">", "name=\"balance\" value=\"")
            .replace("</strong>", "\""),
        "balance",
    );
    assert_ne!(balance_before, balance_after, "the reward is credited");
    let (_, balance) = c.cli("admin", &["balance", &owner]);
    let balance: serde_json::Value = serde_json::from_slice(&balance).unwrap();
    assert_eq!(
        balance_after,
        popug::money::Money(balance["balance_cents"].as_i64().unwrap()).to_string()
    );
    assert!(
        page.contains(&format!("Task #{number} done")),
        "the action's message is shown once"
    );
    let (_, again, _) = b.send("GET", "/my", &[], &[]).await;
    assert!(!again.contains("done: its reward"), "and not again");
    // no link can make a page claim something that did not happen
    let (_, fake, _) = b.send("GET", "/my?done=999", &[], &[]).await;
    assert!(!fake.contains("Task #999"));
    // a worker is refused the books
    let (status, page, _) = b.send("GET", "/accounting", &[], &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("is a worker"), "the command's refusal is shown");
    // sign out ends the session in the ledger, not only in the browser
    let (_, page, _) = b.send("GET", "/my", &[], &[]).await;
    let csrf = Browser::field(&page, "csrf");
    let session = b.cookies["popug_session"].clone();
    let (status, _, _) = b.send("POST", "/logout", &[("csrf", &csrf)], &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = c.call("GET", "/api/v1/whoami", Some(&session), "").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the signed-out session is revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_throttled_per_login_and_a_failed_one_writes_nothing() {
    let c = Company::new();
    let password = password_of(&c, "zazu");
    let mut b = Browser::new(&c);
    b.addr = Some("10.1.2.3:5000".parse().unwrap());
    let events = c.events();
    for _ in 0..5 {
        let (status, page, _) = b.sign_in("zazu", "wrong-password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(page.contains("Wrong login or password"));
    }
    assert_eq!(c.events(), events, "failed sign-ins write nothing");
    let (status, page, _) = b.sign_in("zazu", &password).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits: {page}"
    );
    // from another address the login is still throttled; another login from there is not
    let mut other = Browser::new(&c);
    other.addr = Some("10.9.9.9:5000".parse().unwrap());
    let (status, _, _) = other.sign_in("zazu", &password).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let iago = password_of(&c, "iago");
    let (status, _, _) = other.sign_in("iago", &iago).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // and a sign-in form without its CSRF cookie is refused
    let mut fresh = Browser::new(&c);
    let (status, _, _) = fresh
        .send(
            "POST",
            "/login",
            &[("csrf", "x"), ("login", "iago"), ("password", &iago)],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_creates_and_shuffles_with_a_confirmation_and_titles_are_escaped() {
    let c = Company::new();
    let password = password_of(&c, "zazu");
    let mut b = Browser::new(&c);
    b.sign_in("zazu", &password).await;
    let (status, page, _) = b.send("GET", "/tasks", &[], &[]).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = Browser::field(&page, "csrf");
    let title = "<script>alert('x')</script>";
    let (status, _, headers) = b
        .send("POST", "/tasks", &[("csrf", &csrf), ("title", title)], &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/tasks");
    let (_, page, _) = b.send("GET", "/tasks", &[], &[]).await;
    assert!(page.contains("Task #3 created"));
    assert!(!page.contains("<script>alert"), "a title is text, never markup");
    assert!(
        page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "the title is shown escaped"
    );
    let open = c.ledger.json(&["task", "list", "--all", "--status", "open"]);
    let fees: i64 = open
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["assign_fee_cents"].as_i64().unwrap())
        .sum();
    let (_, page, _) = b.send("GET", "/tasks/shuffle", &[], &[]).await;
    assert!(page.contains(&format!(
        "Reassign <strong>{}</strong> open tasks",
        open.as_array().unwrap().len()
    )));
    assert!(
        page.contains(&popug::money::Money(fees).to_string()),
        "the confirmation says what it charges"
    );
    let events = c.events();
    let (status, _, headers) = b.send("POST", "/tasks/shuffle", &[("csrf", &csrf)], &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/tasks");
    let (_, page, _) = b.send("GET", "/tasks", &[], &[]).await;
    assert!(page.contains(&format!("Shuffled {} open tasks", open.as_array().unwrap().len())));
    assert!(c.events().len() > events.len());
    // reloading the page after a shuffle shuffles nothing
    let shuffled = c.events();
    b.send("GET", "/tasks", &[], &[]).await;
    assert_eq!(c.events(), shuffled);
    // behind a TLS proxy the cookie is Secure
    let mut tls = Browser::new(&c);
    let (_, login_page, _) = tls
        .send("GET", "/login", &[], &[("x-forwarded-proto", "https")])
        .await;
    let csrf = Browser::field(&login_page, "csrf");
    let (_, _, headers) = tls
        .send(
            "POST",
            "/login",
            &[("csrf", &csrf), ("login", "zazu"), ("password", &password)],
            &[("x-forwarded-proto", "https")],
        )
        .await;
    assert!(
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .all(|v| v.to_str().unwrap().contains("; Secure"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_page_opens_for_the_roles_of_its_commands_and_no_other() {
    let c = Company::new();
    // page, and the roles that may open it (as CLI.md gives its commands)
    let pages: [(&str, &[&str]); 8] = [
        ("/my", &["admin", "zazu", "iago", "kesha"]),
        ("/password", &["admin", "zazu", "iago", "kesha"]),
        ("/tasks", &["admin", "zazu"]),
        ("/tasks/shuffle", &["admin", "zazu"]),
        ("/accounting", &["admin", "iago"]),
        ("/accounting/export/journal", &["admin", "iago"]),
        ("/analytics", &["admin"]),
        ("/ledger", &["admin"]),
    ];
    for who in ["admin", "zazu", "iago", "kesha"] {
        let password = if who == "admin" {
            c.ledger.admin_password.clone()
        } else {
            password_of(&c, who)
        };
        let mut b = Browser::new(&c);
        let (status, _, _) = b
            .sign_in(if who == "admin" { "admin" } else { who }, &password)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{who} signs in");
        for (page, allowed) in &pages {
            let (status, body, _) = b.send("GET", page, &[], &[]).await;
            let want = if allowed.contains(&who) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, want, "{who} GET {page}: {}", &body[..body.len().min(300)]);
        }
    }
    // the Ledger page: the last events of the log, newest first, and the stdout notifications
    let mut b = Browser::new(&c);
    b.sign_in("admin", &c.ledger.admin_password).await;
    let (_, page, _) = b.send("GET", "/ledger", &[], &[]).await;
    let log = String::from_utf8(c.events()).unwrap();
    let last: Vec<serde_json::Value> = log
        .lines()
        .rev()
        .take(20)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut at = 0;
    for e in &last {
        // times in the ledger's timezone (UTC here), to the minute
        let when = chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
        let cell = format!(
            "<td class=\"num\">{}</td><td>{}</td><td>{}</td>",
            e["seq"],
            when.format("%Y-%m-%d %H:%M"),
            e["type"].as_str().unwrap()
        );
        let found = page[at..]
            .find(&cell)
            .unwrap_or_else(|| panic!("event {} on the Ledger page, in order", e["seq"]));
        at += found;
    }
    assert!(
        page.contains("Task #1 assigned to you"),
        "the stdout channel's notifications are shown"
    );
    let (_, journal, headers) = b.send("GET", "/accounting/export/journal", &[], &[]).await;
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"popug.journal\""
    );
    assert_eq!(
        journal,
        c.ledger.ok(&["export", "journal"]),
        "the download is `popug export journal`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_in_the_browser_ends_the_other_sessions() {
    let c = Company::new();
    let password = password_of(&c, "kesha");
    let cli_session = login_token(c.ledger.cmd(), "kesha", &password);
    let mut b = Browser::new(&c);
    b.sign_in("kesha", &password).await;
    let (_, page, _) = b.send("GET", "/password", &[], &[]).await;
    let csrf = Browser::field(&page, "csrf");
    // a wrong current password, or two new ones that differ: refused, nothing written
    let events = c.events();
    for (current, new, again) in [
        ("wrong-password", "a-new-password", "a-new-password"),
        (password.as_str(), "a-new-password", "another-one"),
    ] {
        let (status, page, _) = b
            .send(
                "POST",
                "/password",
                &[
                    ("csrf", &csrf),
                    ("current", current),
                    ("new", new),
                    ("again", again),
                ],
                &[],
            )
            .await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
            "{status}"
        );
        assert!(page.contains("id=\"error\""));
        assert_eq!(c.events(), events, "a refused change writes nothing");
    }
    let (status, page, _) = b
        .send(
            "POST",
            "/password",
            &[
                ("csrf", &csrf),
                ("current", &password),
                ("new", "a-new-password"),
                ("again", "a-new-password"),
            ],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, page, _) = b.send("GET", "/password", &[], &[]).await;
    assert!(
        page.contains("Password changed; other sessions ended: 1."),
        "{page}"
    );
    let (status, _, _) = c.call("GET", "/api/v1/whoami", Some(&cli_session), "").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the command line's session ended"
    );
    let (status, _, _) = b.send("GET", "/my", &[], &[]).await;
    assert_eq!(status, StatusCode::OK, "the browser's own session goes on");
    login_token(c.ledger.cmd(), "kesha", "a-new-password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_that_fails_is_500_with_every_payment_listed_as_pay_daily_prints_it() {
    let c = Company::new();
    c.someone_earns().await;
    // the payout provider cannot write: payouts/ is a file, not a folder
    std::fs::write(c.ledger.dir.join("payouts"), b"in the way").unwrap();
    let (status, body, _) = c
        .call("POST", "/api/v1/pay-daily", Some(c.token("iago")), "")
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["error"]["code"], "payment_failed");
    let payments = doc["answer"]["payments"]
        .as_array()
        .expect("the run's answer comes with the error");
    assert!(
        !payments.is_empty() && payments.iter().all(|p| p["status"] == "failed"),
        "{doc}"
    );
}

// ---- found by trying to break it ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_parallel_sign_ins_is_throttled_like_one_at_a_time() {
    let c = Company::new();
    let events = c.events();
    let mut attempts = Vec::new();
    for i in 0..20 {
        let c_app = c.app.clone();
        let mut b = Browser::new(&c);
        let (_, page, _) = b.send("GET", "/login", &[], &[]).await;
        let csrf = Browser::field(&page, "csrf");
        let cookie = format!("popug_login_csrf={}", b.cookies["popug_login_csrf"]);
        attempts.push(tokio::spawn(async move {
            let body = format!("csrf={csrf}&login=zazu&password=guess-{i}");
            let req = Request::post("/login")
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            c_app.oneshot(req).await.unwrap().status()
        }));
    }
    let mut checked = 0;
    for a in attempts {
        match a.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("a sign-in answered {other}"),
        }
    }
    assert!(
        checked <= 5,
        "{checked} passwords were checked in the burst, not at most 5"
    );
    assert_eq!(c.events(), events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_session_lasts_what_its_cookie_says_and_the_current_password_is_throttled() {
    let c = Company::new();
    let password = password_of(&c, "kesha");
    let mut b = Browser::new(&c);
    b.sign_in("kesha", &password).await;
    let log = String::from_utf8(c.events()).unwrap();
    let issued: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(issued["type"], "CredentialIssued");
    let expires =
        chrono::DateTime::parse_from_rfc3339(issued["data"]["expires_at"].as_str().unwrap()).unwrap();
    let hours = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!(
        (11.9..=12.0).contains(&hours),
        "the web session's credential lasts 12 hours, not {hours:.1}"
    );
    let (_, page, _) = b.send("GET", "/password", &[], &[]).await;
    let csrf = Browser::field(&page, "csrf");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let form = [
            ("csrf", csrf.as_str()),
            ("current", "not-it-at-all"),
            ("new", "a-new-password"),
            ("again", "a-new-password"),
        ];
        statuses.push(b.send("POST", "/password", &form, &[]).await.0);
    }
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(
        statuses[5],
        StatusCode::TOO_MANY_REQUESTS,
        "guessing the current password is throttled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_of_the_http_layer_are_in_the_api_error_shape_and_bodies_are_objects() {
    let c = Company::new();
    let (status, body, headers) = c
        .call("DELETE", "/api/v1/tasks", Some(c.token("admin")), "")
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&body), "method_not_allowed");
    assert!(headers.contains_key(header::ALLOW));
    let (status, body, _) = c
        .call("GET", "/api/v1/audit/%ff", Some(c.token("admin")), "")
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    let big = format!(r#"{{"title":"{}"}}"#, "x".repeat(3 * 1024 * 1024));
    let events = c.events();
    let (status, body, _) = c
        .call("POST", "/api/v1/tasks", Some(c.token("admin")), &big)
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let (status, body, _) = c
        .call(
            "POST",
            "/api/v1/tasks",
            Some(c.token("admin")),
            r#"["array form",null,null]"#,
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    assert_eq!(c.events(), events, "nothing written");
    // an Idempotency-Key is any UTF-8 text, as --idempotency-key takes it
    let req = Request::post("/api/v1/tasks")
        .header(header::AUTHORIZATION, format!("Bearer {}", c.token("zazu")))
        .header(
            "idempotency-key",
            axum::http::HeaderValue::from_bytes("café-1".as_bytes()).unwrap(),
        )
        .body(Body::from(r#"{"title":"Keyed"}"#))
        .unwrap();
    assert_eq!(c.app.clone().oneshot(req).await.unwrap().status(), StatusCode::OK);
    // a worker who creates a task is sent back to a page they may see
    let password = password_of(&c, "gosha");
    let mut b = Browser::new(&c);
    b.sign_in("gosha", &password).await;
    let (_, page, _) = b.send("GET", "/my", &[], &[]).await;
    let csrf = Browser::field(&page, "csrf");
    let (_, _, headers) = b
        .send(
            "POST",
            "/tasks",
            &[("csrf", &csrf), ("title", "From a worker")],
            &[],
        )
        .await;
    assert_eq!(headers[header::LOCATION], "/my");
    // a query parameter a route does not take is refused, never ignored
    let (status, body, _) = c
        .call("GET", "/api/v1/tasks?assigne=kesha", Some(c.token("admin")), "")
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    let (status, body, _) = c
        .call(
            "GET",
            "/api/v1/events?type=TaskCreated&type=UserCreated",
            Some(c.token("admin")),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let types: std::collections::BTreeSet<String> = String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        ["TaskCreated", "UserCreated"]
    );
    // downloads take the command's range and byte-order mark, and its refusals
    let mut acc = Browser::new(&c);
    let iago = password_of(&c, "iago");
    acc.sign_in("iago", &iago).await;
    let (status, _, _) = acc
        .send(
            "GET",
            "/accounting/export/tasks?from=2026-12-01&to=2026-11-01",
            &[],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, csv, _) = acc.send("GET", "/accounting/export/tasks?bom=1", &[], &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with('\u{feff}'), "a byte-order mark first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_form_comes_back_with_what_was_typed_and_why() {
    let c = Company::new();
    let password = password_of(&c, "zazu");
    let mut b = Browser::new(&c);
    b.sign_in("zazu", &password).await;
    let (_, page, _) = b.send("GET", "/tasks", &[], &[]).await;
    let csrf = Browser::field(&page, "csrf");
    let events = c.events();
    let form = [
        ("csrf", csrf.as_str()),
        ("title", "Count the seeds"),
        ("jira_id", "not a jira id"),
        ("description", "all of them, twice"),
    ];
    let (status, page, _) = b.send("POST", "/tasks", &form, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"form-error\""), "the reason is shown");
    assert!(page.contains("value=\"Count the seeds\""), "the title is kept");
    assert!(
        page.contains(">all of them, twice</textarea>"),
        "the description is kept"
    );
    assert_eq!(c.events(), events, "nothing written");
}
