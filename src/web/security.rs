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
/// The message of the last action, for the page it redirected to (POST/redirect/GET): set by
/// the action, shown and cleared by the next page. A cookie, not the URL, so that no link can
/// show a message for something that did not happen.
pub const FLASH_COOKIE: &str = "popug_flash";

/// The text of a flash cookie's value (`done.12`, `created.3`, `shuffled.8`, `password.2`);
/// `None` for anything else.
pub fn flash_message(value: &str) -> Option<String> {
    let (what, n) = value.split_once('.')?;
    let n: u64 = n.parse().ok()?;
    Some(match what {
        "done" => format!("Task #{n} done: its reward is credited."),
        "created" => format!("Task #{n} created and assigned."),
        "shuffled" => format!("Shuffled {n} open tasks: each new assignee was charged the task's fee."),
        "password" => format!("Password changed; other sessions ended: {n}."),
        _ => return None,
    })
}

/// How long a web session lasts: its credential in the ledger and its cookie alike.
pub const SESSION_HOURS: u64 = 12;

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

/// Password attempts (sign-in, and the current password of a change) are counted per login
/// and per client address over a sliding window; past [`Throttle::LIMIT`] for a login or
/// [`Throttle::ADDRESS_LIMIT`] for an address in [`Throttle::WINDOW`], attempts are refused
/// (429) before any password is checked. An
/// attempt is counted when it *begins* ([`Throttle::begin`]), so a burst of parallel attempts
/// cannot slip past the limit while the first ones are still being checked; a success
/// clears its login's count.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    /// Attempts per login in the window.
    pub const LIMIT: usize = 5;
    /// Attempts per client address in the window: higher, as many people may share one
    /// address (an office, a proxy); it stops one address from trying many logins.
    pub const ADDRESS_LIMIT: usize = 30;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// Keys kept at most; beyond that the oldest windows are dropped (memory stays bounded
    /// under a flood of made-up logins).
    const MAX_KEYS: usize = 100_000;
    /// A login is at most 32 characters (`auth::validate_login`): a longer one is counted by
    /// its first 64 bytes, so made-up logins cannot grow the table's memory.
    const MAX_LOGIN_KEY: usize = 64;

    fn keys(login: &str, addr: &str) -> [String; 2] {
        let mut end = login.len().min(Self::MAX_LOGIN_KEY);
        while !login.is_char_boundary(end) {
            end -= 1;
        }
        [format!("login:{}", &login[..end]), format!("addr:{addr}")]
    }

    /// Counts an attempt for `login` from `addr`, or refuses it: `Err(wait)` when the login
    /// or the address has used up its attempts (nothing is counted then).
    pub fn begin(&self, login: &str, addr: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let keys = Self::keys(login, addr);
        let wait = keys
            .iter()
            .zip([Self::LIMIT, Self::ADDRESS_LIMIT])
            .filter_map(|(k, limit)| {
                let times = map.get_mut(k)?;
                times.retain(|t| now.duration_since(*t) < Self::WINDOW);
                (times.len() >= limit).then(|| Self::WINDOW - now.duration_since(times[times.len() - limit]))
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if map.len() >= Self::MAX_KEYS {
            map.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < Self::WINDOW)
            });
        }
        for k in keys {
            map.entry(k).or_default().push(now);
        }
        Ok(())
    }

    /// The attempt succeeded: its login's count starts again, and the address's count loses
    /// this attempt (an office behind one address is not locked out by its own sign-ins).
    pub fn succeeded(&self, login: &str, addr: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let [login_key, addr_key] = Self::keys(login, addr);
        map.remove(&login_key);
        if let Some(times) = map.get_mut(&addr_key) {
            times.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_refuses_after_the_limit_per_login_and_per_address() {
        let t = Throttle::default();
        for _ in 0..Throttle::LIMIT {
            assert!(t.begin("kesha", "10.0.0.1").is_ok());
        }
        assert!(
            t.begin("kesha", "10.0.0.2").is_err(),
            "the login is throttled from anywhere"
        );
        assert!(
            t.begin("gosha", "10.0.0.1").is_ok(),
            "another login from that address may try"
        );
        for i in 0..Throttle::ADDRESS_LIMIT - Throttle::LIMIT - 1 {
            assert!(t.begin(&format!("user{i}"), "10.0.0.1").is_ok());
        }
        assert!(
            t.begin("rio", "10.0.0.1").is_err(),
            "one address cannot try many logins"
        );
        assert!(t.begin("gosha", "10.0.0.3").is_ok());
        t.succeeded("gosha", "10.0.0.3");
        assert!(
            t.begin("gosha", "10.0.0.4").is_ok(),
            "a success clears the login's count"
        );
        for _ in 0..Throttle::LIMIT * 2 {
            assert!(t.begin("iago", "10.0.0.5").is_ok());
            t.succeeded("iago", "10.0.0.5");
        }
        assert!(
            t.begin("iago", "10.0.0.5").is_ok(),
            "successes never lock an address out"
        );
    }

    #[test]
    fn a_long_made_up_login_is_counted_by_its_first_bytes() {
        let t = Throttle::default();
        let long = "é".repeat(1_000_000);
        for i in 0..Throttle::LIMIT {
            assert!(t.begin(&format!("{long}{i}"), &format!("10.0.0.{i}")).is_ok());
        }
        assert!(
            t.begin(&long, "10.9.9.9").is_err(),
            "the same first 64 bytes are one login"
        );
        let map = t.failures.lock().unwrap();
        assert!(map.keys().all(|k| k.len() <= 6 + Throttle::MAX_LOGIN_KEY));
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
