//! The auth context's decisions (DESIGN §5, CLI.md `user`, `token`): pure functions of what
//! the caller read (a user, how many admins there are, a token's state) and the input, to
//! the events to append, or an [`AuthError`]. No SQL, no terminal: the CLI turns an error
//! into an exit code and a hint (`crate::error`).

use crate::auth::User;
use crate::events::{Role, UserDeactivated, UserRoleChanged};

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
        user_id: user.user_id.clone(),
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
        user_id: user.user_id.clone(),
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
