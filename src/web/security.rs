//! The web's defences (docs/guarantees.md, "The web"): response headers, the session cookie,
//! CSRF tokens and the sign-in throttle.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The session cookie: the session token of `popug login`, never readable by scripts.
pub const SESSION_COOKIE: &str = "popug_session";
/// The sign-in form's CSRF cookie (double submit, before there is a session to bind to).
pub const LOGIN_CSRF_COOKIE: &str = "popug_login_csrf";

/// The Content-Security-Policy of every response: nothing but this origin's own style sheet
/// and script; no inline script or style, no frames, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to every response.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A cookie's value from the request's `Cookie` headers (RFC 6265 §5.4).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether the request reached us over TLS through a proxy that says so: then cookies are
/// `Secure`. (A forged header only makes a cookie stricter.)
pub fn behind_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` behind TLS;
/// `max_age` 0 removes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        max_age.as_secs()
    ))
    .expect("a cookie of token characters")
}

/// The CSRF token of a session: a digest of its session token under a label, so it is
/// bound to the session, changes with it, and cannot be derived without the cookie (which
/// scripts cannot read). Checked on every form that changes something.
pub fn csrf_token(session_token: &str) -> String {
    crate::auth::token_sha256(&format!("popug web csrf\0{session_token}"))[..32].to_owned()
}

/// Whether a form's CSRF field matches the expected token, in constant time.
pub fn csrf_matches(expected: &str, given: Option<&str>) -> bool {
    given.is_some_and(|g| crate::auth::constant_time_eq(expected.as_bytes(), g.as_bytes()))
}

/// Failed sign-ins are counted per login and per client address over a sliding window;
/// past [`Throttle::LIMIT`] in [`Throttle::WINDOW`], attempts are refused (429) before any
/// password is checked, so guessing is slowed to a few tries per quarter hour.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    pub const LIMIT: usize = 5;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// Keys kept at most; beyond that the oldest windows are dropped (memory stays bounded
    /// under a flood of made-up logins).
    const MAX_KEYS: usize = 100_000;

    fn keys(login: &str, addr: &str) -> [String; 2] {
        [format!("login:{login}"), format!("addr:{addr}")]
    }

    /// How long until another attempt is allowed, if it is not allowed now.
    pub fn wait(&self, login: &str, addr: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        Self::keys(login, addr)
            .iter()
            .filter_map(|k| {
                let times = map.get_mut(k)?;
                times.retain(|t| now.duration_since(*t) < Self::WINDOW);
                (times.len() >= Self::LIMIT).then(|| Self::WINDOW - now.duration_since(times[0]))
            })
            .max()
    }

    pub fn failed(&self, login: &str, addr: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX_KEYS {
            map.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < Self::WINDOW)
            });
        }
        for k in Self::keys(login, addr) {
            map.entry(k).or_default().push(now);
        }
    }

    pub fn succeeded(&self, login: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("login:{login}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_refuses_after_the_limit_per_login_and_per_address() {
        let t = Throttle::default();
        for _ in 0..Throttle::LIMIT {
            assert!(t.wait("kesha", "10.0.0.1").is_none());
            t.failed("kesha", "10.0.0.1");
        }
        assert!(
            t.wait("kesha", "10.0.0.2").is_some(),
            "the login is throttled from anywhere"
        );
        assert!(
            t.wait("gosha", "10.0.0.1").is_some(),
            "the address is throttled for any login"
        );
        assert!(t.wait("gosha", "10.0.0.3").is_none());
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session() {
        let a = csrf_token("pgs_a");
        assert_eq!(a, csrf_token("pgs_a"));
        assert_ne!(a, csrf_token("pgs_b"));
        assert!(csrf_matches(&a, Some(&a)));
        assert!(!csrf_matches(&a, Some("")));
        assert!(!csrf_matches(&a, None));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; popug_session=pgs_x; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("pgs_x"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
