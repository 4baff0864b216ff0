//! The dashboards (issue 17): sign-in, My tasks, Tasks, Accounting, Analytics and Ledger.
//! Each page runs the commands CLI.md gives its data, as the signed-in user, and renders
//! their `--json` documents; a role the command refuses sees the refusal (403) and nothing
//! else. Forms post back here with the session's CSRF token, then redirect (POST/redirect/GET).

use std::collections::HashMap;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde_json::Value;

use super::security::{self, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use super::{AppState, date_param, status_of};
use crate::app::Env;
use crate::cli::output::{Format, Out};
use crate::cli::{analytics, audit, balance, earnings, events, export, login, passwd, shuffle, task};
use crate::error::{AppError, Kind, Result};
use crate::money::Money;
use crate::zone::Zone;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(sign_in))
        .route("/logout", post(sign_out))
        .route("/password", get(password_form).post(change_password))
        .route("/my", get(my_tasks))
        .route("/tasks", get(tasks_page).post(create_task))
        .route("/tasks/{task}/done", post(task_done))
        .route("/tasks/shuffle", get(shuffle_confirm).post(shuffle_now))
        .route("/accounting", get(accounting_page))
        .route("/accounting/export/{kind}", get(download))
        .route("/analytics", get(analytics_page))
        .route("/ledger", get(ledger_page))
        .route("/ledger/verify", post(verify_now))
        .route("/ledger/stream", get(ledger_stream))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

const APP_CSS: &str = include_str!("static/app.css");
const APP_JS: &str = include_str!("static/app.js");

async fn css() -> Response {
    static_file("text/css; charset=utf-8", APP_CSS)
}

async fn js() -> Response {
    static_file("text/javascript; charset=utf-8", APP_JS)
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

// ---- running commands for a page ----

/// A command's `--json` document, as a page reads it.
fn call(env: &Env, f: impl Fn(&Env, &mut Out) -> Result<()>) -> Result<Value> {
    // a JetStream ledger: a lost race wrote nothing, and the command runs again
    let bytes = crate::app::retry_conflicts(env, || {
        let mut out = Out::buffer(Format::Json);
        f(env, &mut out).map(|()| out.into_bytes())
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        AppError::new(
            Kind::Failure,
            "internal",
            format!("a command's answer is not JSON: {e}"),
        )
    })
}

/// The signed-in person, for the navigation bar and the forms.
#[derive(Clone)]
pub struct Nav {
    pub login: String,
    pub role: String,
    pub csrf: String,
    pub active: &'static str,
    /// The message of the action that led here (see [`security::FLASH_COOKIE`]).
    pub flash: String,
}

impl Nav {
    /// The pages this role may open (each page's commands check again).
    pub fn links(&self) -> Vec<(&'static str, &'static str, bool)> {
        let r = self.role.as_str();
        [
            ("/my", "My tasks", true),
            ("/tasks", "Tasks", matches!(r, "admin" | "manager")),
            ("/accounting", "Accounting", matches!(r, "admin" | "accountant")),
            ("/analytics", "Analytics", r == "admin"),
            ("/ledger", "Ledger", r == "admin"),
        ]
        .into_iter()
        .filter(|l| l.2)
        .map(|(href, label, _)| (href, label, href == self.active))
        .collect()
    }
}

/// Runs a page's work on a blocking thread as the cookie's session: signed out (or a
/// session that ended) goes to the sign-in page; a refusal is an error page with its status.
async fn page(
    state: &AppState,
    headers: &HeaderMap,
    active: &'static str,
    work: impl FnOnce(&Env, Nav) -> Result<Response> + Send + 'static,
) -> Response {
    let Some(token) = security::cookie(headers, SESSION_COOKIE) else {
        return Redirect::to("/login").into_response();
    };
    let env = state.env().for_request(Some(token.clone()));
    let secure = security::behind_tls(headers);
    let flashed = security::cookie(headers, security::FLASH_COOKIE);
    let flash = flashed
        .as_deref()
        .and_then(security::flash_message)
        .unwrap_or_default();
    let result = tokio::task::spawn_blocking(move || {
        let me = call(&env, login::whoami).map_err(|e| (e, None::<Box<Nav>>))?;
        let nav = Nav {
            login: text(&me, "login"),
            role: text(&me, "role"),
            csrf: security::csrf_token(&token),
            active,
            flash,
        };
        let shown = Box::new(nav.clone());
        work(&env, nav).map_err(|e| (e, Some(shown)))
    })
    .await;
    let mut response = match result {
        Ok(Ok(response)) => response,
        Ok(Err((e, nav))) => error_page(&e, nav.map(|n| *n), secure),
        Err(e) => error_page(
            &AppError::new(Kind::Failure, "internal", e.to_string()),
            None,
            secure,
        ),
    };
    if flashed.is_some() && !response.status().is_redirection() {
        response.headers_mut().append(
            header::SET_COOKIE,
            security::set_cookie(security::FLASH_COOKIE, "", Duration::ZERO, secure),
        );
    }
    response
}

/// A redirect after an action, with its message for the next page (`what.n`, see
/// [`security::flash_message`]).
fn redirect_with_flash(to: &str, flash: &str, headers: &HeaderMap) -> Response {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        security::set_cookie(
            security::FLASH_COOKIE,
            flash,
            Duration::from_secs(60),
            security::behind_tls(headers),
        ),
    );
    r
}

/// Like [`page`], for a form that changes something: the CSRF field is checked first, and
/// a form without the session's token writes nothing (403).
async fn action(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
    work: impl FnOnce(&Env, Nav) -> Result<Response> + Send + 'static,
) -> Response {
    let Some(token) = security::cookie(headers, SESSION_COOKIE) else {
        return Redirect::to("/login").into_response();
    };
    if !security::csrf_matches(
        &security::csrf_token(&token),
        form.get("csrf").map(String::as_str),
    ) {
        return error_page(
            &AppError::new(
                Kind::Denied,
                "bad_csrf",
                "this form has expired or came from another site",
            )
            .hint("reload the page and try again"),
            None,
            security::behind_tls(headers),
        );
    }
    page(state, headers, "", work).await
}

fn error_page(e: &AppError, nav: Option<Nav>, secure: bool) -> Response {
    let status = status_of(e);
    if status == StatusCode::UNAUTHORIZED && e.code != "bad_credentials" {
        // the session ended (revoked, expired, user deactivated): sign in again
        let mut r = Redirect::to("/login").into_response();
        r.headers_mut().insert(
            header::SET_COOKIE,
            security::set_cookie(SESSION_COOKIE, "", Duration::ZERO, secure),
        );
        return r;
    }
    let body = ErrorPage {
        nav,
        status: status.as_u16(),
        message: e.message.clone(),
        hint: e.hint.clone().unwrap_or_default(),
    };
    (status, html(&body)).into_response()
}

fn html(t: &impl Template) -> Html<String> {
    Html(
        t.render()
            .unwrap_or_else(|e| format!("<!doctype html><p>cannot render the page: {e}")),
    )
}

fn ok_html(t: &impl Template) -> Result<Response> {
    Ok(html(t).into_response())
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn cents(v: &Value, key: &str) -> String {
    Money(v[key].as_i64().unwrap_or(0)).to_string()
}

/// Today in the ledger's timezone `tz`, by the ledger's clock (`POPUG_NOW` when set).
fn today(env: &Env, tz: &Zone) -> NaiveDate {
    let now = match env.clock {
        popug_ledger::Clock::Fixed(t) => t,
        popug_ledger::Clock::System => chrono::Utc::now(),
    };
    tz.date_of(&now)
}

/// The ledger's timezone (DESIGN §5: days are the ledger's days), as the scheduler keeps it.
pub(super) fn zone(ledger: &popug_ledger::Ledger) -> Result<Zone> {
    crate::scheduler::zone(ledger.store(crate::scheduler::STORE)).map_err(crate::auth::db_error)
}

/// An instant of the log (RFC 3339, UTC) as people read it: `2026-11-30 17:05` in the
/// ledger's timezone. Anything else is shown as it is.
pub(super) fn local_time(at: &str, tz: &Zone) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            tz.local(&t.with_timezone(&chrono::Utc))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_owned())
}

/// An amount as CSV exports write it (`12.50`, `-3.00`) in cents.
fn amount_cents(s: &str) -> i64 {
    let (negative, s) = s.strip_prefix('-').map_or((false, s), |rest| (true, rest));
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<2}");
    let cents = whole.parse::<i64>().unwrap_or(0) * 100 + frac[..2].parse::<i64>().unwrap_or(0);
    if negative { -cents } else { cents }
}

fn client_addr(connect: &Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>) -> String {
    connect
        .as_ref()
        .map_or_else(|| "local".into(), |c| c.0.0.ip().to_string())
}

// ---- templates ----

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Option<Nav>,
    status: u16,
    message: String,
    hint: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    csrf: String,
    login: String,
    error: String,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Option<Nav>,
    error: String,
}

pub struct TaskRow {
    pub number: String,
    pub title: String,
    pub jira_id: String,
    pub status: String,
    pub assignee: String,
    pub fee: String,
    pub reward: String,
}

impl TaskRow {
    fn of(t: &Value) -> TaskRow {
        TaskRow {
            number: text(t, "number"),
            title: text(t, "title"),
            jira_id: text(t, "jira_id"),
            status: text(t, "status"),
            assignee: text(t, "assignee"),
            fee: cents(t, "assign_fee_cents"),
            reward: cents(t, "reward_cents"),
        }
    }
}

pub struct AuditRow {
    pub at: String,
    pub day: String,
    pub what: String,
    pub amount: String,
    pub balance: String,
    pub negative: bool,
}

fn audit_rows(doc: &Value, tz: &Zone) -> Vec<AuditRow> {
    doc.as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let what = match (text(t, "reason").as_str(), t["task_number"].as_i64()) {
                (reason, Some(n)) => format!("{} #{n} {}", reason.replace('_', " "), text(t, "task_title")),
                (reason, None) => reason.replace('_', " "),
            };
            AuditRow {
                at: local_time(&text(t, "at"), tz),
                day: text(t, "billing_date"),
                what,
                amount: cents(t, "amount_cents"),
                balance: cents(t, "balance_cents"),
                negative: t["amount_cents"].as_i64().unwrap_or(0) < 0,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "my.html")]
struct MyPage {
    nav: Option<Nav>,
    open: Vec<TaskRow>,
    done: Vec<TaskRow>,
    balance: String,
    audit: Vec<AuditRow>,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    nav: Option<Nav>,
    status: String,
    assignee: String,
    tasks: Vec<TaskRow>,
    /// Tasks that match but are not shown (beyond [`TASKS_SHOWN`]).
    more: usize,
    form: NewTaskForm,
}

/// The most tasks the Tasks page shows at once (the newest); filters narrow the rest.
const TASKS_SHOWN: usize = 500;

#[derive(Template)]
#[template(path = "shuffle.html")]
struct ShufflePage {
    nav: Option<Nav>,
    open: usize,
    charge: String,
}

pub struct PayoutDay {
    pub date: String,
    pub count: usize,
    pub total_cents: i64,
    pub failed: usize,
}

impl PayoutDay {
    pub fn total(&self) -> String {
        Money(self.total_cents).to_string()
    }
}

#[derive(Template)]
#[template(path = "accounting.html")]
struct AccountingPage {
    nav: Option<Nav>,
    today: String,
    fees: String,
    rewards: String,
    earnings: String,
    balances: Vec<(String, String, bool)>,
    login: String,
    audit: Vec<AuditRow>,
    audit_error: String,
    /// The range as typed, shown again in the form.
    from: String,
    to: String,
    payouts: Vec<PayoutDay>,
    exports: Vec<(&'static str, &'static str)>,
}

pub struct TopRow {
    pub period: &'static str,
    pub number: String,
    pub title: String,
    pub reward: String,
    pub assignee: String,
    pub completed_on: String,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct AnalyticsPage {
    nav: Option<Nav>,
    date: String,
    earnings: String,
    negative_workers: String,
    chart: String,
    red_days: Vec<(String, String)>,
    top: Vec<TopRow>,
}

pub struct EventRow {
    pub seq: String,
    pub at: String,
    pub kind: String,
    pub producer: String,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    nav: Option<Nav>,
    /// The ledger's timezone, in which times are shown.
    tz: String,
    head: String,
    verify: String,
    verified_at: String,
    /// The last verify's outcome; `None` before the first.
    verify_ok: Option<bool>,
    events: Vec<EventRow>,
    notifications: Vec<(String, String, String)>,
}

// ---- handlers ----

async fn home(headers: HeaderMap) -> Redirect {
    match security::cookie(&headers, SESSION_COOKIE) {
        Some(_) => Redirect::to("/my"),
        None => Redirect::to("/login"),
    }
}

async fn login_form(headers: HeaderMap) -> Response {
    let csrf = crate::auth::generate_token("csrf");
    let page = LoginPage {
        nav: None,
        csrf: csrf.clone(),
        login: String::new(),
        error: String::new(),
    };
    let mut r = html(&page).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        security::set_cookie(
            LOGIN_CSRF_COOKIE,
            &csrf,
            Duration::from_secs(3600),
            security::behind_tls(&headers),
        ),
    );
    r
}

async fn sign_in(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let secure = security::behind_tls(&headers);
    let login_name = form.get("login").cloned().unwrap_or_default();
    let again = |status: StatusCode, error: String| {
        let csrf = crate::auth::generate_token("csrf");
        let page = LoginPage {
            nav: None,
            csrf: csrf.clone(),
            login: login_name.clone(),
            error,
        };
        let mut r = (status, html(&page)).into_response();
        r.headers_mut().insert(
            header::SET_COOKIE,
            security::set_cookie(LOGIN_CSRF_COOKIE, &csrf, Duration::from_secs(3600), secure),
        );
        r
    };
    let expected = security::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !security::csrf_matches(&expected, form.get("csrf").map(String::as_str)) {
        return again(
            StatusCode::FORBIDDEN,
            "This form expired; please sign in again.".into(),
        );
    }
    let addr = client_addr(&connect);
    if let Err(wait) = state.inner.throttle.begin(&login_name, &addr) {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins; try again in {} minutes.",
                wait.as_secs().div_ceil(60)
            ),
        );
    }
    let password = form.get("password").cloned().unwrap_or_default();
    let env = state.env().for_request(None);
    let attempt = login_name.clone();
    let Ok(_checking) = state.inner.password_checks.acquire().await else {
        return again(StatusCode::SERVICE_UNAVAILABLE, "The server is stopping.".into());
    };
    let lifetime = chrono::Duration::hours(security::SESSION_HOURS as i64);
    let result =
        tokio::task::spawn_blocking(move || login::sign_in(&env, &attempt, &password, lifetime)).await;
    match result {
        Ok(Ok(signed)) => {
            state.inner.throttle.succeeded(&login_name, &addr);
            let mut r = Redirect::to("/my").into_response();
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                security::set_cookie(
                    SESSION_COOKIE,
                    &signed.token,
                    Duration::from_secs(security::SESSION_HOURS * 3600),
                    secure,
                ),
            );
            h.append(
                header::SET_COOKIE,
                security::set_cookie(LOGIN_CSRF_COOKIE, "", Duration::ZERO, secure),
            );
            r
        }
        Ok(Err(e)) if e.code == "bad_credentials" => {
            again(StatusCode::UNAUTHORIZED, "Wrong login or password.".into())
        }
        Ok(Err(e)) => again(status_of(&e), e.message),
        Err(e) => again(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let secure = security::behind_tls(&headers);
    action(&state, &headers, &form, move |env, _| {
        call(env, login::logout)?;
        let mut r = Redirect::to("/login").into_response();
        r.headers_mut().insert(
            header::SET_COOKIE,
            security::set_cookie(SESSION_COOKIE, "", Duration::ZERO, secure),
        );
        Ok(r)
    })
    .await
}

async fn password_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, "", |_, nav| {
        ok_html(&PasswordPage {
            nav: Some(nav),
            error: String::new(),
        })
    })
    .await
}

async fn change_password(
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (current, new, again) = (get("current"), get("new"), get("again"));
    let addr = client_addr(&connect);
    let throttle = state.clone();
    let request_headers = headers.clone();
    action(&state, &headers, &form, move |env, nav| {
        // guessing the current password with a stolen session is throttled as sign-in is
        let outcome = if new != again {
            Err(AppError::usage("the two new passwords differ"))
        } else if let Err(wait) = throttle.inner.throttle.begin(&nav.login, &addr) {
            Err(AppError::new(
                Kind::Denied,
                "too_many_attempts",
                format!(
                    "too many wrong passwords; try again in {} minutes",
                    wait.as_secs().div_ceil(60)
                ),
            ))
        } else {
            let result = call(env, |env, out| {
                passwd::change_password(env, &mut env.open()?, out, &current, &new)
            });
            if result.is_ok() {
                throttle.inner.throttle.succeeded(&nav.login, &addr);
            }
            result
        };
        let (status, error) = match outcome {
            Ok(doc) => {
                let ended = doc["sessions_ended"].as_u64().unwrap_or(0);
                return Ok(redirect_with_flash(
                    "/password",
                    &format!("password.{ended}"),
                    &request_headers,
                ));
            }
            Err(e)
                if matches!(e.kind, Kind::Usage)
                    || matches!(e.code, "bad_credentials" | "too_many_attempts") =>
            {
                (status_of(&e), e.message)
            }
            Err(e) => return Err(e),
        };
        Ok((
            status,
            html(&PasswordPage {
                nav: Some(nav),
                error,
            }),
        )
            .into_response())
    })
    .await
}

async fn my_tasks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, "/my", move |env, nav| {
        let list = |status: &str| {
            call(env, |env, out| {
                task::run(
                    env,
                    out,
                    task::TaskCommand::List {
                        all: false,
                        status: Some(status.into()),
                        assignee: None,
                    },
                )
            })
        };
        let rows = |doc: Value| {
            doc.as_array()
                .into_iter()
                .flatten()
                .map(TaskRow::of)
                .collect::<Vec<_>>()
        };
        let open = rows(list("open")?);
        let done = rows(list("done")?);
        let balance = call(env, |env, out| {
            balance::balance(
                env,
                out,
                balance::BalanceArgs {
                    login: None,
                    all: false,
                },
            )
        })?;
        let audit = call(env, |env, out| {
            audit::audit(
                env,
                out,
                audit::AuditArgs {
                    login: None,
                    from: None,
                    to: None,
                },
            )
        })?;
        let mut audit = audit_rows(&audit, &zone(&env.open()?)?);
        audit.reverse();
        ok_html(&MyPage {
            nav: Some(nav),
            open,
            done,
            balance: cents(&balance, "balance_cents"),
            audit,
        })
    })
    .await
}

async fn task_done(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let request_headers = headers.clone();
    action(&state, &headers, &form, move |env, _| {
        let doc = call(env, |env, out| {
            task::run(env, out, task::TaskCommand::Done { task: number.clone() })
        })?;
        let flash = format!("done.{}", doc["number"].as_u64().unwrap_or(0));
        Ok(redirect_with_flash("/my", &flash, &request_headers))
    })
    .await
}

/// What was typed into the create form, and why it was refused: shown again, not lost.
#[derive(Default)]
pub struct NewTaskForm {
    pub error: String,
    pub title: String,
    pub jira_id: String,
    pub description: String,
}

/// The Tasks page: every task (filtered, the newest [`TASKS_SHOWN`]) and the create form.
fn tasks_view(
    env: &Env,
    nav: Nav,
    status: Option<String>,
    assignee: Option<String>,
    form: NewTaskForm,
) -> Result<Response> {
    let (s, a) = (status.clone(), assignee.clone());
    let doc = call(env, |env, out| {
        task::run(
            env,
            out,
            task::TaskCommand::List {
                all: true,
                status: s.clone(),
                assignee: a.clone(),
            },
        )
    })?;
    let all = doc.as_array().map_or(0, Vec::len);
    let refused = !form.error.is_empty();
    let page = html(&TasksPage {
        nav: Some(nav),
        status: status.unwrap_or_default(),
        assignee: assignee.unwrap_or_default(),
        // the newest first, and not more than a page can carry
        tasks: doc
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .take(TASKS_SHOWN)
            .map(TaskRow::of)
            .collect(),
        more: all.saturating_sub(TASKS_SHOWN),
        form,
    });
    let status = if refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, page).into_response())
}

async fn tasks_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = q
        .get("status")
        .filter(|s| matches!(s.as_str(), "open" | "done"))
        .cloned();
    let assignee = q.get("assignee").filter(|s| !s.is_empty()).cloned();
    page(&state, &headers, "/tasks", move |env, nav| {
        tasks_view(env, nav, status, assignee, NewTaskForm::default())
    })
    .await
}

async fn create_task(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let opt = |k: &str| form.get(k).filter(|s| !s.trim().is_empty()).cloned();
    let (title, jira_id, description) = (
        form.get("title").cloned().unwrap_or_default(),
        opt("jira_id"),
        opt("description"),
    );
    let request_headers = headers.clone();
    action(&state, &headers, &form, move |env, nav| {
        let typed = NewTaskForm {
            error: String::new(),
            title: title.clone(),
            jira_id: jira_id.clone().unwrap_or_default(),
            description: description.clone().unwrap_or_default(),
        };
        let created = call(env, |env, out| {
            task::run(
                env,
                out,
                task::TaskCommand::Create {
                    title: title.clone(),
                    jira_id: jira_id.clone(),
                    description: description.clone(),
                    idempotency_key: None,
                },
            )
        });
        let doc = match created {
            Ok(doc) => doc,
            // a form that breaks a rule comes back with what was typed and why
            Err(e) if e.kind == Kind::Usage && matches!(nav.role.as_str(), "admin" | "manager") => {
                let form = NewTaskForm {
                    error: e.message,
                    ..typed
                };
                return tasks_view(
                    env,
                    Nav {
                        active: "/tasks",
                        ..nav
                    },
                    None,
                    None,
                    form,
                );
            }
            Err(e) => return Err(e),
        };
        // back to where the creator works: the Tasks page is for admins and managers
        let page = if matches!(nav.role.as_str(), "admin" | "manager") {
            "/tasks"
        } else {
            "/my"
        };
        let flash = format!("created.{}", doc["number"].as_u64().unwrap_or(0));
        Ok(redirect_with_flash(page, &flash, &request_headers))
    })
    .await
}

async fn shuffle_confirm(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, "/tasks", |env, nav| {
        let doc = call(env, |env, out| {
            task::run(
                env,
                out,
                task::TaskCommand::List {
                    all: true,
                    status: Some("open".into()),
                    assignee: None,
                },
            )
        })?;
        let open = doc.as_array().map_or(0, Vec::len);
        let charge: i64 = doc
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["assign_fee_cents"].as_i64())
            .sum();
        ok_html(&ShufflePage {
            nav: Some(nav),
            open,
            charge: Money(charge).to_string(),
        })
    })
    .await
}

async fn shuffle_now(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let request_headers = headers.clone();
    action(&state, &headers, &form, move |env, _| {
        let doc = call(env, shuffle::shuffle)?;
        let flash = format!("shuffled.{}", doc["reassigned"].as_u64().unwrap_or(0));
        // a redirect: reloading the page that follows cannot shuffle (and charge) again
        Ok(redirect_with_flash("/tasks", &flash, &request_headers))
    })
    .await
}

/// What the Accounting page offers to download: `popug export KIND`.
const EXPORTS: [(&str, &str); 6] = [
    ("transactions", "Transactions (CSV)"),
    ("balances", "Balances (CSV)"),
    ("payouts", "Payouts (CSV)"),
    ("tasks", "Tasks (CSV)"),
    ("users", "Users (CSV)"),
    ("journal", "Journal (hledger/ledger)"),
];

async fn accounting_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let login = q.get("login").filter(|s| !s.is_empty()).cloned();
    let range = date_param(&q, "from").and_then(|f| Ok((f, date_param(&q, "to")?)));
    let (typed_from, typed_to) = (
        q.get("from").cloned().unwrap_or_default(),
        q.get("to").cloned().unwrap_or_default(),
    );
    page(&state, &headers, "/accounting", move |env, nav| {
        let balances = call(env, |env, out| {
            balance::balance(
                env,
                out,
                balance::BalanceArgs {
                    login: None,
                    all: true,
                },
            )
        })?;
        let tz = zone(&env.open()?)?;
        let day = today(env, &tz);
        let earned = call(env, |env, out| {
            earnings::earnings(
                env,
                out,
                earnings::RangeArgs {
                    from: Some(day),
                    to: Some(day),
                },
            )
        })?;
        let row = earned
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(Value::Null);
        let mut audit_error = String::new();
        let audit = match (&login, range) {
            (Some(_), Err(e)) => {
                audit_error = e.message;
                Vec::new()
            }
            (Some(l), Ok((from, to))) => {
                let l = l.clone();
                match call(env, |env, out| {
                    audit::audit(
                        env,
                        out,
                        audit::AuditArgs {
                            login: Some(l.clone()),
                            from,
                            to,
                        },
                    )
                }) {
                    Ok(doc) => audit_rows(&doc, &tz),
                    // a mistyped login is said where it was typed, not instead of the page
                    Err(e) if matches!(e.kind, Kind::NotFound | Kind::Usage) => {
                        audit_error = e.message;
                        Vec::new()
                    }
                    Err(e) => return Err(e),
                }
            }
            (None, _) => Vec::new(),
        };
        let payouts = call(env, |env, out| {
            export::export(
                env,
                out,
                export::ExportArgs {
                    what: export::ExportKind::Payouts,
                    range: earnings::RangeArgs { from: None, to: None },
                    output: None,
                    bom: false,
                },
            )
        })?;
        let mut days: Vec<PayoutDay> = Vec::new();
        for p in payouts.as_array().into_iter().flatten() {
            let date = text(p, "date");
            if days.last().is_none_or(|d| d.date != date) {
                days.push(PayoutDay {
                    date: date.clone(),
                    count: 0,
                    total_cents: 0,
                    failed: 0,
                });
            }
            let d = days.last_mut().expect("pushed");
            d.count += 1;
            // what was paid: a failed payment's amount stayed on the balance
            if text(p, "status") == "failed" {
                d.failed += 1;
            } else {
                d.total_cents += amount_cents(&text(p, "amount"));
            }
        }
        days.reverse();
        ok_html(&AccountingPage {
            nav: Some(nav),
            today: day.to_string(),
            fees: cents(&row, "fees_cents"),
            rewards: cents(&row, "rewards_cents"),
            earnings: cents(&row, "earnings_cents"),
            balances: balances
                .as_array()
                .into_iter()
                .flatten()
                .map(|b| {
                    (
                        text(b, "login"),
                        cents(b, "balance_cents"),
                        b["balance_cents"].as_i64().unwrap_or(0) < 0,
                    )
                })
                .collect(),
            login: login.unwrap_or_default(),
            audit,
            audit_error,
            from: typed_from,
            to: typed_to,
            payouts: days,
            exports: EXPORTS.to_vec(),
        })
    })
    .await
}

/// `GET /accounting/export/KIND[?from=D&to=D&bom=1]`: `popug export KIND` as a download (CSV,
/// or the journal), with the command's range and byte-order mark and its refusals.
async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    use clap::ValueEnum;
    let Ok(what) = export::ExportKind::from_str(&kind, false) else {
        return error_page(
            &AppError::new(Kind::NotFound, "no_export", "there is no such export"),
            None,
            false,
        );
    };
    let asked = date_param(&q, "from").and_then(|f| Ok((f, date_param(&q, "to")?)));
    let bom = q.get("bom").is_some_and(|v| v == "1" || v == "true");
    page(&state, &headers, "/accounting", move |env, _| {
        let (from, to) = asked?;
        let mut out = Out::buffer(Format::Table);
        export::export(
            env,
            &mut out,
            export::ExportArgs {
                what,
                range: earnings::RangeArgs { from, to },
                output: None,
                bom,
            },
        )?;
        let (kind_header, name) = if what == export::ExportKind::Journal {
            ("text/plain; charset=utf-8", "popug.journal".to_owned())
        } else {
            ("text/csv; charset=utf-8", format!("popug-{kind}.csv"))
        };
        let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            .map_err(|e| AppError::new(Kind::Failure, "internal", e.to_string()))?;
        Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(kind_header)),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            out.into_bytes(),
        )
            .into_response())
    })
    .await
}

async fn analytics_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let asked = date_param(&q, "date");
    page(&state, &headers, "/analytics", move |env, nav| {
        let asked = asked?;
        let doc = call(env, |env, out| {
            analytics::analytics(env, out, analytics::AnalyticsArgs { date: asked })
        })?;
        let date: NaiveDate = text(&doc, "date")
            .parse()
            .map_err(|_| AppError::new(Kind::Failure, "internal", "analytics answered no date"))?;
        let from = date - chrono::Days::new(29);
        let series = call(env, |env, out| {
            earnings::earnings(
                env,
                out,
                earnings::RangeArgs {
                    from: Some(from),
                    to: Some(date),
                },
            )
        })?;
        let by_day: HashMap<String, i64> = series
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| (text(d, "date"), d["earnings_cents"].as_i64().unwrap_or(0)))
            .collect();
        let points: Vec<(String, i64)> = from
            .iter_days()
            .take_while(|d| *d <= date)
            .map(|d| {
                let key = d.to_string();
                let v = by_day.get(&key).copied().unwrap_or(0);
                (key, v)
            })
            .collect();
        let mut red_days = Vec::new();
        for back in (0..7u64).rev() {
            let day = date - chrono::Days::new(back);
            let d = call(env, |env, out| {
                analytics::analytics(env, out, analytics::AnalyticsArgs { date: Some(day) })
            })?;
            red_days.push((day.to_string(), text(&d, "negative_workers")));
        }
        let top = ["day", "week", "month"]
            .into_iter()
            .map(|period| {
                let t = &doc["most_expensive_task"][period];
                TopRow {
                    period,
                    number: text(t, "number"),
                    title: text(t, "title"),
                    reward: if t.is_null() {
                        String::new()
                    } else {
                        cents(t, "reward_cents")
                    },
                    assignee: text(t, "assignee"),
                    completed_on: text(t, "completed_on"),
                }
            })
            .collect();
        ok_html(&AnalyticsPage {
            nav: Some(nav),
            date: date.to_string(),
            earnings: cents(&doc, "earnings_cents"),
            negative_workers: text(&doc, "negative_workers"),
            chart: super::svg::bars(&points, &format!("management earnings per day, {from} to {date}")),
            red_days,
            top,
        })
    })
    .await
}

/// Events shown on the Ledger page when it opens; later ones arrive live.
const LAST_EVENTS: u64 = 20;

async fn ledger_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let last_verify = state
        .inner
        .last_verify
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    page(&state, &headers, "/ledger", move |env, nav| {
        let ledger = env.open()?;
        let head = ledger.head()?.seq;
        let tz = zone(&ledger)?;
        let lines: Vec<Value> = events::last_lines(env, LAST_EVENTS as usize)?
            .iter()
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect();
        let notes = crate::notifications::projection::recent(
            ledger.store(crate::notifications::STORE),
            crate::events::Notify::Stdout,
            50,
        )
        .map_err(crate::auth::db_error)?;
        let (verify, verified_at, verify_ok) = match last_verify {
            None => ("not run since the server started".to_owned(), String::new(), None),
            Some((at, v)) if v["ok"] == true => (
                format!("ok: {} events, last seq {}", v["events"], v["last_seq"]),
                at,
                Some(true),
            ),
            Some((at, v)) => (text(&v, "message"), at, Some(false)),
        };
        ok_html(&LedgerPage {
            nav: Some(nav),
            tz: tz.name().to_owned(),
            head: head.to_string(),
            verify,
            verified_at,
            verify_ok,
            events: lines
                .iter()
                .rev()
                .map(|e| EventRow {
                    seq: text(e, "seq"),
                    at: local_time(&text(e, "at"), &tz),
                    kind: text(e, "type"),
                    producer: text(e, "producer"),
                })
                .collect(),
            notifications: notes
                .into_iter()
                .map(|n| (n.seq.to_string(), n.login, n.subject))
                .collect(),
        })
    })
    .await
}

/// `POST /ledger/verify`: runs `popug verify` (admins) and keeps its answer for the page.
async fn verify_now(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let keep = state.clone();
    action(&state, &headers, &form, move |env, _| {
        crate::cli::session::signed_in(env, &[crate::events::Role::Admin], "verifying the ledger")?;
        let result = match call(env, crate::cli::verify::verify) {
            Ok(doc) => doc,
            Err(e) if e.kind == Kind::Damaged => serde_json::json!({"ok": false, "message": e.message}),
            Err(e) => return Err(e),
        };
        let at = popug_ledger::line::format_at(&chrono::Utc::now());
        *keep.inner.last_verify.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, result));
        Ok(Redirect::to("/ledger").into_response())
    })
    .await
}

/// `GET /ledger/stream?since=SEQ`: the Ledger page's live events (server-sent events), with
/// the session cookie instead of a Bearer token. Each event's line carries one more field,
/// `local`: its instant as the page shows the others (`2026-11-30 17:05` in the ledger's
/// timezone, by popug's own tz database), so that a live row reads as the rows rendered
/// with the page, whatever tz database the browser has.
async fn ledger_stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(token) = security::cookie(&headers, SESSION_COOKIE) else {
        return super::error_response(&AppError::new(
            Kind::Denied,
            "not_signed_in",
            "you are not signed in",
        ));
    };
    let since = q.get("since").and_then(|s| s.parse().ok()).unwrap_or(0);
    super::api::follow_events(state, Some(token), since, Vec::new(), true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_to_the_minute_in_the_ledgers_timezone() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            local_time("2026-11-30T23:30:00.000Z", &berlin),
            "2026-12-01 00:30"
        );
        assert_eq!(
            local_time("2026-11-30T23:30:00.000Z", &Zone::utc()),
            "2026-11-30 23:30"
        );
        assert_eq!(local_time("not a time", &berlin), "not a time");
    }

    #[test]
    fn amounts_of_the_exports_are_read_back_in_cents() {
        assert_eq!(amount_cents("12.50"), 1250);
        assert_eq!(amount_cents("-3.00"), -300);
        assert_eq!(amount_cents("7"), 700);
        assert_eq!(amount_cents("0.5"), 50);
    }
}
