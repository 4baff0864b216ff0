//! The auth context's decisions (DESIGN §5, CLI.md `user`, `token`): pure functions of what
//! the caller read (a user, how many admins there are, a token's state) and the input, to
//! the events to append, or an [`AuthError`]. No SQL, no terminal: the CLI turns an error
//! into an exit code and a hint (`crate::error`).

use chrono::{DateTime, Utc};

use crate::auth::User;
use crate::events::{CredentialIssued, Role, UserDeactivated, UserRoleChanged};

/// Why an auth decision refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the login `{0}` is taken")]
    LoginTaken(String),
    /// The last active admin cannot stop being one (demoted or deactivated).
    #[error("`{0}` is the last admin")]
    LastAdmin(String),
    /// No such API token, or not one this user may revoke (not told apart, so that
    /// another user's token is not confirmed to exist).
    #[error("there is no API token `{0}` you may revoke")]
    NoToken(String),
    #[error("token `{0}` is already revoked")]
    TokenRevoked(String),
    /// No such user, a wrong password, or a deactivated user: not told apart, so that a
    /// login attempt learns nothing about who exists.
    #[error("wrong login or password")]
    BadCredentials,
    #[error("a token name is 1 to 100 characters without control characters")]
    BadTokenName,
}

/// A credential to issue: its id, the SHA-256 of its secret (the secret itself is never
/// recorded) and when it expires (`None`: never), by the real clock (CLI.md).
pub struct NewCredential {
    pub credential_id: String,
    pub token_sha256: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// `login`: a session for `user` when the password matched (`password_matches`, checked by
/// the caller with argon2 against the user's hash, or a dummy hash for an unknown login).
pub fn login(
    user: Option<&User>,
    password_matches: bool,
    c: NewCredential,
) -> Result<CredentialIssued, AuthError> {
    match user {
        Some(u) if password_matches && u.active => Ok(CredentialIssued {
            credential_id: c.credential_id.into(),
            user_id: u.user_id.clone().into(),
            kind: "session".into(),
            name: None,
            token_sha256: c.token_sha256,
            expires_at: c.expires_at.as_ref().map(popug_ledger::line::format_at),
            parent_id: None,
        }),
        _ => Err(AuthError::BadCredentials),
    }
}

/// A token's name, trimmed: 1 to 100 characters, none of them control or invisible.
pub fn token_name(name: &str) -> Result<&str, AuthError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(crate::text::is_forbidden) {
        return Err(AuthError::BadTokenName);
    }
    Ok(name)
}

/// How a signed-in user is signed in: with which credential, of which kind, until when.
pub struct Signer<'a> {
    pub user: &'a User,
    pub credential_id: &'a str,
    /// `session` or `api`.
    pub kind: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

/// `token create NAME`: an API token for the signer, made by their credential (its
/// `parent_id`). It expires when asked (`c.expires_at`), but a token made with an API token
/// never outlives that token (CLI.md: a leaked short-lived token cannot mint a lasting
/// one); the second value says whether it was cut short so.
pub fn create_token(
    signer: &Signer<'_>,
    name: &str,
    c: NewCredential,
) -> Result<(CredentialIssued, bool), AuthError> {
    let name = token_name(name)?;
    let ceiling = (signer.kind == "api").then_some(signer.expires_at).flatten();
    let expires = match (c.expires_at, ceiling) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    };
    let capped = expires != c.expires_at;
    Ok((
        CredentialIssued {
            credential_id: c.credential_id.into(),
            user_id: signer.user.user_id.clone().into(),
            kind: "api".into(),
            name: Some(name.to_owned()),
            token_sha256: c.token_sha256,
            expires_at: expires.as_ref().map(popug_ledger::line::format_at),
            parent_id: Some(signer.credential_id.to_owned().into()),
        },
        capped,
    ))
}

/// `user add`: refused when the login is taken (`existing` is the user with that login).
pub fn add_user(existing: Option<&User>, login: &str) -> Result<(), AuthError> {
    match existing {
        Some(_) => Err(AuthError::LoginTaken(login.to_owned())),
        None => Ok(()),
    }
}

/// Refuses to take the admin role from the last active admin (`active_admins` counted
/// before the change).
fn keep_an_admin(user: &User, active_admins: i64) -> Result<(), AuthError> {
    if user.role == Role::Admin && user.active && active_admins <= 1 {
        return Err(AuthError::LastAdmin(user.login.clone()));
    }
    Ok(())
}

/// `user set-role`: the change, or nothing when the role is the same (a no-op).
pub fn set_role(user: &User, to: Role, active_admins: i64) -> Result<Option<UserRoleChanged>, AuthError> {
    if user.role == to {
        return Ok(None);
    }
    keep_an_admin(user, active_admins)?;
    Ok(Some(UserRoleChanged {
        user_id: user.user_id.clone().into(),
        from: user.role,
        to,
    }))
}

/// `user deactivate`: the event, or nothing for a user already deactivated (a no-op). The
/// caller revokes their credentials and hands their open tasks over in the same batch.
pub fn deactivate(user: &User, active_admins: i64) -> Result<Option<UserDeactivated>, AuthError> {
    if !user.active {
        return Ok(None);
    }
    keep_an_admin(user, active_admins)?;
    Ok(Some(UserDeactivated {
        user_id: user.user_id.clone().into(),
    }))
}

/// `token revoke ID`: `found` is the token's revocation state (`None`: no such token this
/// user may revoke; `Some(Some(_))`: revoked already).
pub fn revoke_token(id: &str, found: Option<Option<String>>) -> Result<(), AuthError> {
    match found {
        None => Err(AuthError::NoToken(id.to_owned())),
        Some(Some(_)) => Err(AuthError::TokenRevoked(id.to_owned())),
        Some(None) => Ok(()),
    }
}

#[cfg(test)]
mod rules {
    use super::*;
    use crate::events::Notify;

    fn user(login: &str, role: Role, active: bool) -> User {
        User {
            user_id: format!("id-{login}"),
            login: login.into(),
            name: None,
            email: None,
            role,
            notify: Notify::None,
            active,
        }
    }

    #[test]
    fn given_a_taken_login_when_a_user_is_added_then_it_is_refused() {
        let kesha = user("kesha", Role::Worker, true);
        assert_eq!(
            add_user(Some(&kesha), "kesha"),
            Err(AuthError::LoginTaken("kesha".into()))
        );
        assert_eq!(add_user(None, "kesha"), Ok(()));
    }

    #[test]
    fn given_the_last_admin_when_demoted_or_deactivated_then_it_is_refused() {
        let boss = user("boss", Role::Admin, true);
        assert_eq!(
            set_role(&boss, Role::Worker, 1),
            Err(AuthError::LastAdmin("boss".into()))
        );
        assert_eq!(deactivate(&boss, 1), Err(AuthError::LastAdmin("boss".into())));
        assert!(set_role(&boss, Role::Worker, 2).unwrap().is_some());
        assert!(deactivate(&boss, 2).unwrap().is_some());
        assert_eq!(
            set_role(&boss, Role::Admin, 1),
            Ok(None),
            "the same role is a no-op"
        );
    }

    #[test]
    fn given_a_deactivated_user_when_deactivated_again_then_nothing_happens() {
        assert_eq!(deactivate(&user("gone", Role::Worker, false), 1), Ok(None));
    }

    fn credential(expires_at: Option<&str>) -> NewCredential {
        NewCredential {
            credential_id: "c".into(),
            token_sha256: "h".into(),
            expires_at: expires_at.map(|t| t.parse().unwrap()),
        }
    }

    #[test]
    fn given_a_login_then_only_an_active_user_with_the_right_password_gets_a_session() {
        let kesha = user("kesha", Role::Worker, true);
        let s = login(Some(&kesha), true, credential(Some("2026-12-30T00:00:00Z"))).unwrap();
        assert_eq!(
            (s.kind.as_str(), s.user_id.as_str(), s.parent_id),
            ("session", "id-kesha", None)
        );
        assert_eq!(s.expires_at.as_deref(), Some("2026-12-30T00:00:00.000Z"));
        assert_eq!(
            login(Some(&kesha), false, credential(None)),
            Err(AuthError::BadCredentials)
        );
        assert_eq!(
            login(None, true, credential(None)),
            Err(AuthError::BadCredentials)
        );
        let gone = user("gone", Role::Worker, false);
        assert_eq!(
            login(Some(&gone), true, credential(None)),
            Err(AuthError::BadCredentials)
        );
    }

    #[test]
    fn given_an_api_token_when_it_makes_a_token_then_the_new_one_never_outlives_it() {
        let kesha = user("kesha", Role::Worker, true);
        let api = Signer {
            user: &kesha,
            credential_id: "parent",
            kind: "api",
            expires_at: Some("2026-12-01T00:00:00Z".parse().unwrap()),
        };
        let (t, capped) = create_token(&api, " cron ", credential(Some("2027-01-01T00:00:00Z"))).unwrap();
        assert!(capped);
        assert_eq!(t.expires_at.as_deref(), Some("2026-12-01T00:00:00.000Z"));
        assert_eq!(
            (t.name.as_deref(), t.parent_id.as_deref()),
            (Some("cron"), Some("parent"))
        );
        let (t, capped) = create_token(&api, "cron", credential(None)).unwrap();
        assert!(capped, "`never` from an expiring token is cut to its expiry");
        assert_eq!(t.expires_at.as_deref(), Some("2026-12-01T00:00:00.000Z"));
        // a session made by the password is not capped
        let session = Signer {
            kind: "session",
            ..api
        };
        let (t, capped) = create_token(&session, "cron", credential(None)).unwrap();
        assert!(!capped && t.expires_at.is_none());
        for bad in ["", "  ", "a\u{202e}b"] {
            assert_eq!(
                create_token(&session, bad, credential(None)).unwrap_err(),
                AuthError::BadTokenName
            );
        }
    }

    #[test]
    fn given_a_token_when_revoked_then_only_a_live_one_is() {
        assert_eq!(revoke_token("t", None), Err(AuthError::NoToken("t".into())));
        assert_eq!(
            revoke_token("t", Some(Some("x".into()))),
            Err(AuthError::TokenRevoked("t".into()))
        );
        assert_eq!(revoke_token("t", Some(None)), Ok(()));
    }
}
