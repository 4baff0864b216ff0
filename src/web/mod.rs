//! `popug serve`: the dashboards and the JSON API over the same ledger and the same rules
//! (CLI.md, "The JSON API of `popug serve`"; DESIGN §9).
//!
//! Every page and route runs the very command functions of the CLI, on a blocking thread,
//! with the request's credential ([`crate::app::Caller::Request`]) and its answer kept in a
//! buffer ([`Out::buffer`]): the API's bodies are byte for byte what `--json` prints, a
//! refusal is the command's own error, and no rule exists twice. Each request opens the
//! ledger afresh, so the server sees what other processes write without a restart.
//!
//! Security (docs/guarantees.md, "The web"): the session cookie is `HttpOnly`,
//! `SameSite=Strict` (and `Secure` behind TLS); every form carries a CSRF token bound to the
//! session; every response has a strict Content-Security-Policy; sign-in attempts are
//! throttled per login and per address; the API takes only `Authorization: Bearer`.

pub mod api;
pub mod openapi;
mod pages;
mod security;
mod svg;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::app::Env;
use crate::cli::output::{Format, Out};
use crate::error::{AppError, Kind};

/// What every handler shares: the ledger's environment and the server's own small state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    env: Env,
    throttle: security::Throttle,
    /// The last `verify` run from the Ledger page: its JSON answer (or error) and when.
    last_verify: std::sync::Mutex<Option<(String, serde_json::Value)>>,
    /// Set on SIGTERM: live event streams end so that the server can stop.
    stopping: AtomicBool,
    /// At most this many live event streams at once (each holds a blocking thread).
    streams: Arc<tokio::sync::Semaphore>,
    /// Passwords checked at once: an argon2 check takes ~19 MiB, so a burst of sign-ins
    /// waits here instead of growing memory.
    password_checks: tokio::sync::Semaphore,
}

/// How long `popug serve` waits after SIGTERM for open connections to finish.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Live event streams held open at once; more are refused with 503.
pub const MAX_STREAMS: usize = 16;

impl AppState {
    pub fn new(env: Env) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                env,
                throttle: security::Throttle::default(),
                last_verify: std::sync::Mutex::new(None),
                stopping: AtomicBool::new(false),
                streams: Arc::new(tokio::sync::Semaphore::new(MAX_STREAMS)),
                password_checks: tokio::sync::Semaphore::new(2),
            }),
        }
    }

    fn env(&self) -> &Env {
        &self.inner.env
    }

    fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Relaxed)
    }
}

/// The whole application: pages, the JSON API, static files, with the security headers and
/// the request log around them. Tests drive it in-process (`tower::ServiceExt::oneshot`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .route("/healthz", axum::routing::get(api::healthz))
        .with_state(state)
        .layer(middleware::from_fn(security::headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(middleware::from_fn(log_request))
}

/// One line per request on stderr: address, method, path, status, milliseconds.
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "-".into());
    let response = next.run(req).await;
    eprintln!(
        "{peer} {method} {} {} {:.1}ms",
        crate::text::shown(&path),
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Runs `popug serve`: binds `bind` (loopback by default), says where on stderr, serves until
/// SIGTERM or SIGINT, then finishes the requests in flight and exits 0.
pub fn serve(mut env: Env, bind: SocketAddr) -> crate::error::Result<()> {
    // a server prints no notification (an answer is its document; the Ledger page shows
    // them), so it gathers none either: it would keep them for as long as it runs
    env.stdout_deliveries = Default::default();
    // the ledger must exist and open before the first request: a wrong --ledger fails here.
    // It stays open, idle, while the server runs: a store that some connection holds keeps
    // its WAL index, so each request's own connections skip reading the store's WAL again
    // (SQLite rebuilds the index when a process is the first to open a store). It holds no
    // transaction, so it is in no writer's or checkpoint's way.
    let _held_open = env.open()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::new(Kind::Failure, "io_error", "cannot start the server").source(e))?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
            AppError::new(Kind::Failure, "bind_failed", format!("cannot listen on {bind}"))
                .source(e)
                .hint("choose another address with --bind ADDR:PORT")
        })?;
        let addr = listener.local_addr()?;
        eprintln!(
            "popug serve: listening on http://{addr} (ledger {})",
            env.ledger_dir.display()
        );
        let state = AppState::new(env);
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let stopped = Arc::new(tokio::sync::Notify::new());
        let signalled = stopped.clone();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            shutdown_signal(state).await;
            signalled.notify_one();
        });
        // requests in flight may finish; a client that holds its connection open (a stalled
        // stream, a slow request) is not waited for longer than SHUTDOWN_GRACE
        tokio::select! {
            served = server => served?,
            () = async {
                stopped.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => eprintln!("popug serve: connections still open after {} s were closed", SHUTDOWN_GRACE.as_secs()),
        }
        eprintln!("popug serve: stopped");
        Ok(())
    });
    // a blocking thread still reading for a request is not waited for either
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

async fn shutdown_signal(state: AppState) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    eprintln!("popug serve: stopping");
    state.inner.stopping.store(true, Ordering::Relaxed);
}

/// Runs a command for one request on a blocking thread, with `token` as the caller and its
/// answer kept in a buffer of `format`. A command that fails after printing its answer
/// (`pay-daily` when a payout failed) gives back both: the error and that answer.
async fn run<F>(
    state: &AppState,
    token: Option<String>,
    format: Format,
    f: F,
) -> Result<Vec<u8>, (AppError, Vec<u8>)>
where
    F: Fn(&Env, &mut Out) -> crate::error::Result<()> + Send + 'static,
{
    let env = state.env().for_request(token);
    tokio::task::spawn_blocking(move || {
        let mut last = Vec::new();
        // a JetStream ledger: a lost race wrote nothing, and the command runs again
        crate::app::retry_conflicts(&env, || {
            let mut out = Out::buffer(format);
            let done = f(&env, &mut out);
            last = out.into_bytes();
            done
        })
        .map(|()| std::mem::take(&mut last))
        .map_err(|e| (e, std::mem::take(&mut last)))
    })
    .await
    .unwrap_or_else(|e| {
        Err((
            AppError::new(
                Kind::Failure,
                "internal",
                format!("the request's work failed: {e}"),
            ),
            Vec::new(),
        ))
    })
}

/// An optional date parameter (`YYYY-MM-DD`; empty is absent) of a query or form, refused
/// (400) as the command line refuses it.
pub(crate) fn date_param(
    params: &std::collections::HashMap<String, String>,
    key: &str,
) -> Result<Option<chrono::NaiveDate>, AppError> {
    params
        .get(key)
        .filter(|s| !s.is_empty())
        .map(|s| crate::cli::balance::parse_date(s).map_err(|m| AppError::usage(format!("{key}: {m}"))))
        .transpose()
}

/// The HTTP status of a command's exit code (CLI.md): 2→400; 3→401 when no valid
/// credential came with the request, else 403; 4→404; 5→409; 6 and 1→500; a throttled
/// sign-in 429; too many live streams, or a JetStream cluster out of reach, 503.
pub fn status_of(e: &AppError) -> StatusCode {
    match e.kind {
        Kind::Usage => StatusCode::BAD_REQUEST,
        Kind::Denied if e.code == "too_many_attempts" => StatusCode::TOO_MANY_REQUESTS,
        Kind::Denied if matches!(e.code, "not_signed_in" | "bad_token" | "bad_credentials") => {
            StatusCode::UNAUTHORIZED
        }
        Kind::Denied => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Failure if matches!(e.code, "busy" | "ledger_unavailable") => StatusCode::SERVICE_UNAVAILABLE,
        Kind::Damaged | Kind::Failure => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as the API answers it: `{"error":{"code","message","hint"?}}` with its status.
pub fn error_response(e: &AppError) -> Response {
    error_with_answer(e, &[])
}

/// An error, and the answer the command printed before it failed (if any) as `"answer"`:
/// `pay-daily` lists every payment even when one failed (CLI.md).
pub fn error_with_answer(e: &AppError, answer: &[u8]) -> Response {
    let mut error = serde_json::json!({"code": e.code, "message": e.message});
    if let Some(h) = &e.hint {
        error["hint"] = h.clone().into();
    }
    let mut body = serde_json::json!({ "error": error });
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(answer) {
        body["answer"] = document;
    }
    let mut response = (status_of(e), axum::Json(body)).into_response();
    if status_of(e) == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
