//! The JSON API under `/api/v1/` (CLI.md, "The JSON API of `popug serve`"): each route runs
//! the matching command with the request's Bearer token, and answers its `--json` document
//! byte for byte, or its error as `{"error":{"code","message","hint"?}}` with the status of
//! [`super::status_of`]. A refused write writes nothing: it is the command's own refusal.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{AppState, date_param, error_response, error_with_answer, run};
use crate::app::Env;
use crate::cli::output::{Format, Out};
use crate::cli::{analytics, audit, balance, earnings, events, pay_daily, shuffle, task};
use crate::error::{AppError, Kind};
use crate::events::Role;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/tasks", get(list_tasks).post(create_task))
        .route("/tasks/{task}", get(show_task))
        .route("/tasks/{task}/done", post(task_done))
        .route("/shuffle", post(shuffle))
        .route("/pay-daily", post(pay_daily))
        .route("/balances", get(all_balances))
        .route("/balances/{login}", get(one_balance))
        .route("/audit/{login}", get(audit))
        .route("/earnings", get(earnings))
        .route("/analytics", get(analytics))
        .route("/events", get(events))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(errors_as_json))
}

/// Refusals made by the HTTP layer before a handler runs (a method not allowed, a body too
/// large, a path that is not UTF-8) in the API's error shape too: `{"error":{"code","message"}}`.
async fn errors_as_json(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let (kind, code) = match status.as_u16() {
        405 => (Kind::Usage, "method_not_allowed"),
        413 => (Kind::Usage, "too_large"),
        404 => (Kind::NotFound, "no_route"),
        s if s < 500 => (Kind::Usage, "invalid_input"),
        _ => (Kind::Failure, "internal"),
    };
    let message = match String::from_utf8_lossy(&text).trim() {
        "" => status.canonical_reason().unwrap_or("refused").to_lowercase(),
        t => t.to_owned(),
    };
    let mut answer = error_response(&AppError::new(kind, code, message));
    *answer.status_mut() = status;
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    answer
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), if any. The API takes no
/// cookie: a browser cannot be made to send a Bearer header by another site (no CSRF).
pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// A command's JSON answer as the response.
fn json_answer(result: Result<Vec<u8>, (AppError, Vec<u8>)>) -> Response {
    match result {
        Ok(body) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body,
        )
            .into_response(),
        Err((e, answer)) => error_with_answer(&e, &answer),
    }
}

/// Runs the command `parse` makes of the request, as the request's Bearer token, and answers
/// its `--json` document; a request `parse` refuses is answered 400 and runs nothing.
async fn command<F>(
    state: &AppState,
    headers: &HeaderMap,
    parse: impl FnOnce() -> Result<F, AppError>,
) -> Response
where
    F: Fn(&Env, &mut Out) -> crate::error::Result<()> + Send + 'static,
{
    match parse() {
        Ok(f) => json_answer(run(state, bearer(headers), Format::Json, f).await),
        Err(e) => error_response(&e),
    }
}

type Params = Query<Vec<(String, String)>>;

/// The query's parameters by name, after refusing (400) a name this route does not take, or
/// one given twice: a typo is an error, never a filter silently ignored.
fn known(params: &[(String, String)], names: &[&str]) -> Result<HashMap<String, String>, AppError> {
    let mut out = HashMap::new();
    for (k, v) in params {
        if !names.contains(&k.as_str()) {
            return Err(AppError::usage(format!(
                "this route takes no query parameter `{}`",
                crate::text::shown(k)
            ))
            .hint(if names.is_empty() {
                "it takes none".to_owned()
            } else {
                format!("it takes {}", names.join(", "))
            }));
        }
        if out.insert(k.clone(), v.clone()).is_some() {
            return Err(AppError::usage(format!(
                "the query parameter `{k}` is given twice"
            )));
        }
    }
    Ok(out)
}

fn flag(params: &HashMap<String, String>, name: &str) -> Result<bool, AppError> {
    match params.get(name).map(String::as_str) {
        None | Some("" | "0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(other) => Err(AppError::usage(format!(
            "{name}: `{}` is not 1, true, 0 or false",
            crate::text::shown(other)
        ))),
    }
}

/// A JSON request body (an empty body is `{}`), refused with 400 when it is not the shape.
fn body<T: for<'de> Deserialize<'de> + Default>(bytes: &Bytes) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let shape = |e: serde_json::Error| {
        AppError::usage(format!("the request body is not the JSON this route takes: {e}"))
    };
    // an object, never the array form serde would also accept for a struct
    match serde_json::from_slice::<serde_json::Value>(bytes).map_err(shape)? {
        object @ serde_json::Value::Object(_) => serde_json::from_value(object).map_err(shape),
        _ => Err(AppError::usage("the request body must be a JSON object")),
    }
}

async fn not_found() -> Response {
    error_response(
        &AppError::new(Kind::NotFound, "no_route", "there is no such API route")
            .hint("docs/openapi.json lists every route"),
    )
}

pub(super) async fn healthz(State(state): State<AppState>) -> Response {
    let env = state.env().clone();
    let head =
        tokio::task::spawn_blocking(move || -> crate::error::Result<u64> { Ok(env.open()?.head()?.seq) })
            .await;
    match head {
        Ok(Ok(seq)) => axum::Json(serde_json::json!({"ok": true, "head": seq})).into_response(),
        Ok(Err(e)) => error_response(&e),
        Err(e) => error_response(&AppError::new(Kind::Failure, "internal", e.to_string())),
    }
}

async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Response {
    command(&state, &headers, || Ok(crate::cli::login::whoami)).await
}

async fn list_tasks(State(state): State<AppState>, headers: HeaderMap, Query(params): Params) -> Response {
    command(&state, &headers, || {
        let params = known(&params, &["all", "status", "assignee"])?;
        let status = match params.get("status").map(String::as_str) {
            None | Some("") => None,
            Some(s @ ("open" | "done")) => Some(s.to_owned()),
            Some(other) => {
                return Err(AppError::usage(format!(
                    "status: `{}` is not open or done",
                    crate::text::shown(other)
                )));
            }
        };
        let list = task::TaskCommand::List {
            all: flag(&params, "all")?,
            status,
            assignee: params.get("assignee").filter(|s| !s.is_empty()).cloned(),
        };
        Ok(move |env: &Env, out: &mut Out| task::run(env, out, list.clone()))
    })
    .await
}

async fn show_task(State(state): State<AppState>, headers: HeaderMap, Path(task): Path<String>) -> Response {
    command(&state, &headers, || {
        Ok(move |env: &Env, out: &mut Out| {
            task::run(env, out, task::TaskCommand::Show { task: task.clone() })
        })
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewTaskBody {
    #[serde(default)]
    title: String,
    jira_id: Option<String>,
    description: Option<String>,
}

/// `POST /tasks`: `task create`; an `Idempotency-Key` header is `--idempotency-key`.
async fn create_task(State(state): State<AppState>, headers: HeaderMap, bytes: Bytes) -> Response {
    let key = headers.get("idempotency-key").map(|v| v.as_bytes().to_vec());
    command(&state, &headers, || {
        let input: NewTaskBody = body(&bytes)?;
        // the key as the command line takes it: any UTF-8 text (the command checks its rules)
        let idempotency_key = key
            .map(String::from_utf8)
            .transpose()
            .map_err(|_| AppError::usage("the Idempotency-Key header is not UTF-8"))?;
        let create = task::TaskCommand::Create {
            title: input.title,
            jira_id: input.jira_id,
            description: input.description,
            idempotency_key,
        };
        Ok(move |env: &Env, out: &mut Out| task::run(env, out, create.clone()))
    })
    .await
}

async fn task_done(State(state): State<AppState>, headers: HeaderMap, Path(task): Path<String>) -> Response {
    command(&state, &headers, || {
        Ok(move |env: &Env, out: &mut Out| {
            task::run(env, out, task::TaskCommand::Done { task: task.clone() })
        })
    })
    .await
}

async fn shuffle(State(state): State<AppState>, headers: HeaderMap) -> Response {
    command(&state, &headers, || Ok(shuffle::shuffle)).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PayDailyBody {
    date: Option<String>,
}

async fn pay_daily(State(state): State<AppState>, headers: HeaderMap, bytes: Bytes) -> Response {
    command(&state, &headers, || {
        let date = body::<PayDailyBody>(&bytes)?
            .date
            .map(|d| balance::parse_date(&d).map_err(|m| AppError::usage(format!("date: {m}"))))
            .transpose()?;
        Ok(move |env: &Env, out: &mut Out| pay_daily::pay_daily(env, out, pay_daily::PayDailyArgs { date }))
    })
    .await
}

async fn all_balances(State(state): State<AppState>, headers: HeaderMap) -> Response {
    command(&state, &headers, || {
        Ok(|env: &Env, out: &mut Out| {
            balance::balance(
                env,
                out,
                balance::BalanceArgs {
                    login: None,
                    all: true,
                },
            )
        })
    })
    .await
}

async fn one_balance(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(login): Path<String>,
) -> Response {
    command(&state, &headers, || {
        let args = balance::BalanceArgs {
            login: Some(login),
            all: false,
        };
        Ok(move |env: &Env, out: &mut Out| balance::balance(env, out, args.clone()))
    })
    .await
}

async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(login): Path<String>,
    Query(params): Params,
) -> Response {
    command(&state, &headers, || {
        let params = known(&params, &["from", "to"])?;
        let args = audit::AuditArgs {
            login: Some(login),
            from: date_param(&params, "from")?,
            to: date_param(&params, "to")?,
        };
        Ok(move |env: &Env, out: &mut Out| audit::audit(env, out, args.clone()))
    })
    .await
}

async fn earnings(State(state): State<AppState>, headers: HeaderMap, Query(params): Params) -> Response {
    command(&state, &headers, || {
        let params = known(&params, &["from", "to"])?;
        let range = earnings::RangeArgs {
            from: date_param(&params, "from")?,
            to: date_param(&params, "to")?,
        };
        Ok(move |env: &Env, out: &mut Out| earnings::earnings(env, out, range.clone()))
    })
    .await
}

async fn analytics(State(state): State<AppState>, headers: HeaderMap, Query(params): Params) -> Response {
    command(&state, &headers, || {
        let params = known(&params, &["date"])?;
        let args = analytics::AnalyticsArgs {
            date: date_param(&params, "date")?,
        };
        Ok(move |env: &Env, out: &mut Out| analytics::analytics(env, out, args.clone()))
    })
    .await
}

/// `GET /events?since=SEQ`: the log as JSON lines (`popug events`), or with
/// `Accept: text/event-stream` the log followed live: one server-sent event per line, its
/// `id` the line's seq.
async fn events(State(state): State<AppState>, headers: HeaderMap, Query(params): Params) -> Response {
    // `type` may be given more than once, as `popug events --type T --type U`
    let types: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "type")
        .map(|(_, v)| v.clone())
        .collect();
    let rest: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != "type").collect();
    let params = match known(&rest, &["since"]) {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    let since = match params.get("since").filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                return error_response(&AppError::usage(format!(
                    "since: `{}` is not a sequence number",
                    crate::text::shown(s)
                )));
            }
        },
    };
    let follow = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let token = bearer(&headers);
    if follow {
        return follow_events(state, token, since, types, false).await;
    }
    match run(&state, token, Format::Json, move |env, out| {
        events::events(
            env,
            out,
            events::EventsArgs {
                since,
                types: types.clone(),
                follow: false,
            },
        )
    })
    .await
    {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            )],
            body,
        )
            .into_response(),
        Err((e, _)) => error_response(&e),
    }
}

/// The log line `line` (one JSON object) with a `local` field: its `at` as the pages show
/// times in `zone`. A line that is not such an object is passed on as it is.
fn with_local_time(line: &[u8], zone: &crate::zone::Zone) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(serde_json::Value::Object(mut event)) => {
            let at = event.get("at").and_then(|a| a.as_str()).unwrap_or_default();
            let shown = super::pages::local_time(at, zone);
            event.insert("local".into(), serde_json::Value::String(shown));
            let mut out = serde_json::to_vec(&event).unwrap_or_else(|_| line.to_vec());
            out.push(b'\n');
            out
        }
        _ => line.to_vec(),
    }
}

/// The log after `since`, followed until the client goes away or the server stops, as
/// server-sent events. Admins only (as `popug events`); at most [`super::MAX_STREAMS`] at once.
/// With `local`, each line gets a `local` field: its `at` in the ledger's timezone, as the
/// pages show times (the Ledger page's stream; the API's lines stay as the log has them).
pub(super) async fn follow_events(
    state: AppState,
    token: Option<String>,
    since: u64,
    types: Vec<String>,
    local: bool,
) -> Response {
    // the caller is checked before the stream begins, so a refusal is an ordinary answer
    if let Err(e) = run(&state, token.clone(), Format::Json, |env, _| {
        crate::cli::session::signed_in(env, &[Role::Admin], "reading the event log").map(drop)
    })
    .await
    {
        return error_response(&e.0);
    }
    let Ok(permit) = state.inner.streams.clone().try_acquire_owned() else {
        return error_response(
            &AppError::new(Kind::Failure, "busy", "too many live event streams are open")
                .hint("close another Ledger page, or read /api/v1/events without following"),
        );
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(256);
    let env = state.env().for_request(token);
    let watcher = state.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let args = events::EventsArgs {
            since,
            types,
            follow: true,
        };
        // the credential is checked again every second: a stream ends when its session is
        // signed out or revoked, or its user deactivated or no longer an admin
        let checked = std::cell::Cell::new(std::time::Instant::now());
        let allowed = || {
            if checked.get().elapsed() < std::time::Duration::from_secs(1) {
                return true;
            }
            checked.set(std::time::Instant::now());
            crate::cli::session::signed_in(&env, &[Role::Admin], "reading the event log").is_ok()
        };
        let stop = || watcher.stopping() || tx.is_closed() || !allowed();
        // the ledger's timezone, read once (it is set when the ledger is made); without it
        // the page shows each live row's instant as the log has it (UTC)
        let zone = local
            .then(|| env.open().and_then(|ledger| super::pages::zone(&ledger)))
            .and_then(|zone| {
                zone.map_err(|e| {
                    eprintln!(
                        "warning: the Ledger page's stream shows times in UTC: {}",
                        e.message
                    )
                })
                .ok()
            });
        let _ = events::stream(&env, &args, stop, |line| {
            // a client that does not read cannot hold this thread: the send gives up when
            // the server stops or the client goes away
            let mut line = match &zone {
                Some(zone) => with_local_time(line, zone),
                None => line.to_vec(),
            };
            loop {
                match tx.try_send(line) {
                    Ok(()) => return Ok(()),
                    Err(tokio::sync::mpsc::error::TrySendError::Full(back)) if !watcher.stopping() => {
                        line = back;
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    Err(_) => return Err(AppError::new(Kind::Failure, "closed", "the stream ended")),
                }
            }
        });
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let line = rx.recv().await?;
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        let seq = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["seq"].as_u64())
            .unwrap_or(0);
        Some((
            Ok::<_, std::convert::Infallible>(SseEvent::default().id(seq.to_string()).data(text)),
            rx,
        ))
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
