//! The auth context: users, passwords, roles, sessions and API tokens. Passwords are argon2id
//! hashes with salts from the OS; sessions and tokens are random secrets recorded only as
//! SHA-256 hashes, so checking one is a hash and an index lookup, never argon2.

pub mod decide;
pub mod projection;

/// This context's store: `views/auth.db` (users, credentials), written only by its projection.
pub const STORE: &str = "auth";
/// The version of this store's tables: bump it when they change, and this store alone is
/// rebuilt from the log on open.
pub const STORE_VERSION: u32 = 1;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use rand::RngExt;
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::error::{AppError, Kind, Result};
use crate::events::{Notify, Role};

/// Letters and digits that cannot be confused with one another when read aloud or copied.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A temporary password: 20 characters from the OS's random source (never from POPUG_SEED,
/// so a reproducible run never means a predictable password). About 114 bits.
pub fn generate_password() -> String {
    let mut rng = rand::rng();
    (0..20)
        .map(|_| PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())] as char)
        .collect()
}

/// A session or API token: a prefix that says which, and 256 random bits from the OS.
pub fn generate_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
    format!("{prefix}_{}", hex(&bytes))
}

/// Lowercase hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn token_sha256(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two secrets' digests in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A password as it is hashed and checked: RFC 8265's OpaqueString profile normalizes to
/// NFC, so the same password typed on a keyboard or OS that sends NFD (decomposed accents)
/// is the same password.
pub fn normalize_password(password: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    password.nfc().collect()
}

/// argon2id of the NFC form, with the crate's default parameters and a random salt; a PHC
/// string.
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(normalize_password(password).as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::new(Kind::Failure, "internal", format!("cannot hash a password: {e}")))
}

/// Whether `password` is the one hashed in `phc`: its NFC form (every hash made since
/// passwords are normalized), else the bytes as typed, for a hash made before, from a
/// password typed in another form (checked only when the two forms differ).
pub fn password_matches(password: &str, phc: &str) -> bool {
    let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(phc) else {
        return false;
    };
    let check = |p: &str| Argon2::default().verify_password(p.as_bytes(), &parsed).is_ok();
    let nfc = normalize_password(password);
    check(&nfc) || (nfc != password && check(password))
}

/// A password a person chose: 8 to 1024 characters, no control or invisible format
/// characters.
pub fn validate_new_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(8..=1024).contains(&n) || password.chars().any(crate::text::is_forbidden) {
        return Err(AppError::usage(
            "the new password must be 8 to 1024 characters without control characters",
        ));
    }
    Ok(())
}

/// Checks a login: 1–32 characters, lowercase letters, digits, `.`, `_`, `-`, starting with a
/// letter. Logins appear in paths (Maildir) and in journals, so they stay this plain.
pub fn validate_login(login: &str) -> Result<()> {
    let ok = (1..=32).contains(&login.len())
        && login.starts_with(|c: char| c.is_ascii_lowercase())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AppError::usage(format!("`{}` is not a valid login", login))
            .hint("a login is 1 to 32 characters: lowercase letters, digits, `.`, `_` or `-`, starting with a letter"))
    }
}

/// A user as the projections know them.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub user_id: String,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    pub notify: Notify,
    /// False once an admin deactivated them (`popug user deactivate`).
    pub active: bool,
}

/// The columns `user_from_row` reads; a macro, so that the queries are constant strings
/// (the statement cache is keyed by the SQL text: no string is built per lookup).
macro_rules! select_user {
    ($rest:literal) => {
        concat!(
            "SELECT user_id, login, name, email, role, notify, active FROM users ",
            $rest
        )
    };
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(4)?;
    let notify: String = r.get(5)?;
    Ok(User {
        user_id: r.get(0)?,
        login: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        role: role.parse().unwrap_or(Role::Worker),
        notify: notify.parse().unwrap_or(Notify::None),
        active: r.get(6)?,
    })
}

pub fn user_by_login(db: &Connection, login: &str) -> rusqlite::Result<Option<User>> {
    db.prepare_cached(select_user!("WHERE login = ?1"))?
        .query_row([login], user_from_row)
        .optional()
}

pub fn user_by_id(db: &Connection, user_id: &str) -> rusqlite::Result<Option<User>> {
    db.prepare_cached(select_user!("WHERE user_id = ?1"))?
        .query_row([user_id], user_from_row)
        .optional()
}

pub fn all_users(db: &Connection) -> rusqlite::Result<Vec<User>> {
    let mut stmt = db.prepare_cached(select_user!("ORDER BY login"))?;
    stmt.query_map([], user_from_row)?.collect()
}

/// An API token as `token list` shows it (times RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub token_id: String,
    pub login: String,
    pub name: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The API tokens of `owner` (every user's when `None`), oldest first.
pub fn api_tokens(db: &Connection, owner: Option<&str>) -> rusqlite::Result<Vec<ApiToken>> {
    db.prepare_cached(
        "SELECT c.credential_id, u.login, c.name, c.created_at, c.expires_at, c.revoked_at
         FROM credentials c JOIN users u ON u.user_id = c.user_id
         WHERE c.kind = 'api' AND (?1 IS NULL OR c.user_id = ?1)
         ORDER BY c.created_at, c.credential_id",
    )?
    .query_map([owner], |r| {
        Ok(ApiToken {
            token_id: r.get(0)?,
            login: r.get(1)?,
            name: r.get(2)?,
            created_at: r.get(3)?,
            expires_at: r.get(4)?,
            revoked_at: r.get(5)?,
        })
    })?
    .collect()
}

pub fn password_hash_of(db: &Connection, user_id: &str) -> rusqlite::Result<Option<String>> {
    db.prepare_cached("SELECT password_hash FROM users WHERE user_id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()
}

/// Who is signed in, and with which credential.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub credential_id: String,
    /// `session` (signed in with a password) or `api` (an API token).
    pub credential_kind: String,
    /// When the credential in use expires (real clock); `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Actor {
    pub fn is(&self, roles: &[Role]) -> bool {
        roles.contains(&self.user.role)
    }

    /// Refuses (exit 3) unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<()> {
        if self.is(roles) {
            return Ok(());
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(AppError::new(
            Kind::Denied,
            "not_allowed",
            format!(
                "{what} is for {}; `{}` is a {}",
                allowed.join(", "),
                self.user.login,
                self.user.role.as_str()
            ),
        ))
    }
}

/// Resolves a session or API token to its user: unknown, revoked or expired is exit 3, as
/// is a deactivated user. Expiry is checked against the real clock, never `POPUG_NOW`
/// (CLI.md): moving the business clock back cannot revive a credential.
pub fn authenticate(db: &Connection, token: &str) -> Result<Actor> {
    let digest = token_sha256(token);
    type CredentialRow = (String, String, String, String, Option<String>, Option<String>);
    let row: Option<CredentialRow> = db
        .prepare_cached(
            "SELECT credential_id, user_id, kind, token_sha256, expires_at, revoked_at FROM credentials
             WHERE token_sha256 = ?1",
        )
        .and_then(|mut s| {
            s.query_row([&digest], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })
            .optional()
        })
        .map_err(db_error)?;
    let denied = |why: &str| {
        AppError::new(Kind::Denied, "bad_token", format!("your session or token {why}"))
            .hint("sign in with `popug login LOGIN`, or set POPUG_TOKEN to a valid API token")
    };
    let Some((credential_id, user_id, kind, stored, expires_at, revoked_at)) = row else {
        return Err(denied("is not known to this ledger"));
    };
    if !constant_time_eq(stored.as_bytes(), digest.as_bytes()) {
        return Err(denied("is not known to this ledger"));
    }
    if revoked_at.is_some() {
        return Err(denied("was revoked"));
    }
    let expires_at = match expires_at {
        None => None,
        Some(exp) => match DateTime::parse_from_rfc3339(&exp) {
            Ok(e) if e > Utc::now() => Some(e.with_timezone(&Utc)),
            _ => return Err(denied("has expired")),
        },
    };
    let user = user_by_id(db, &user_id)
        .map_err(db_error)?
        .ok_or_else(|| denied("belongs to no user"))?;
    if !user.active {
        return Err(denied("belongs to a deactivated user"));
    }
    Ok(Actor {
        user,
        credential_id,
        credential_kind: kind,
        expires_at,
    })
}

/// The ids of the user's credentials not revoked yet (expired ones included: revoking them
/// costs nothing, and they can never come back anyway), oldest first.
pub fn unrevoked_credentials(
    db: &Connection,
    user_id: &str,
    kind: Option<&str>,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = db.prepare_cached(
        "SELECT credential_id FROM credentials WHERE user_id = ?1 AND revoked_at IS NULL
         AND (?2 IS NULL OR kind = ?2) ORDER BY created_at, credential_id",
    )?;
    stmt.query_map((user_id, kind), |r| r.get(0))?.collect()
}

/// The credentials made, directly or not, with any of `roots` (API tokens made in a session
/// or with another token) that are not revoked yet: revoking a credential for cause
/// revokes them too, so a leaked session or token cannot leave a token of its own behind.
pub fn live_descendants(db: &Connection, roots: &[String]) -> rusqlite::Result<Vec<String>> {
    let mut stmt = db.prepare_cached(
        "SELECT credential_id, revoked_at IS NULL FROM credentials WHERE parent_id = ?1
         ORDER BY created_at, credential_id",
    )?;
    let mut found = Vec::new();
    let mut queue: std::collections::VecDeque<String> = roots.iter().cloned().collect();
    let mut seen: std::collections::HashSet<String> = roots.iter().cloned().collect();
    while let Some(parent) = queue.pop_front() {
        let children: Vec<(String, bool)> = stmt
            .query_map([&parent], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (child, live) in children {
            if seen.insert(child.clone()) {
                if live {
                    found.push(child.clone());
                }
                queue.push_back(child);
            }
        }
    }
    Ok(found)
}

/// The events that revoke `credential_ids`, written by `actor`.
pub fn revocations<'a>(
    credential_ids: impl IntoIterator<Item = &'a String>,
    actor: &str,
) -> Vec<popug_ledger::NewEvent> {
    use crate::events::{CredentialRevoked, Payload};
    credential_ids
        .into_iter()
        .map(|id| {
            CredentialRevoked {
                credential_id: id.clone().into(),
            }
            .to_event(actor)
        })
        .collect()
}

/// How many active admins there are (the last one cannot be demoted or deactivated).
pub fn active_admins(db: &Connection) -> rusqlite::Result<i64> {
    db.prepare_cached("SELECT count(*) FROM users WHERE role = 'admin' AND active")?
        .query_row([], |r| r.get(0))
}

pub fn db_error(e: rusqlite::Error) -> AppError {
    AppError::new(Kind::Failure, "internal", "the projection database failed").source(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_random_and_unambiguous() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
    }

    #[test]
    fn password_hashes_are_argon2id_salted_and_verifiable() {
        let h1 = hash_password("correct horse").unwrap();
        let h2 = hash_password("correct horse").unwrap();
        assert!(h1.starts_with("$argon2id$"), "{h1}");
        assert_ne!(h1, h2);
        assert!(password_matches("correct horse", &h1));
        assert!(!password_matches("correct horsf", &h1));
        assert!(!password_matches("x", "not a phc string"));
    }

    #[test]
    fn tokens_are_256_bit_and_stored_as_sha256() {
        let t = generate_token("pgt");
        assert!(t.starts_with("pgt_") && t.len() == 4 + 64);
        assert_ne!(t, generate_token("pgt"));
        let h = token_sha256(&t);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&t[4..]));
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn logins_are_plain() {
        for ok in ["admin", "popug3", "a.b-c_d"] {
            validate_login(ok).unwrap();
        }
        for bad in ["", "Admin", "1abc", "a b", "a/b", "../x", "ä", &"a".repeat(33)] {
            assert!(validate_login(bad).is_err(), "{bad}");
        }
    }
}
