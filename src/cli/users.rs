//! `user add|list|show|set-role`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::app::Env;
use crate::auth::{self, User, db_error};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{Notify, Payload, Role, UserCreated, UserRoleChanged};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and their account; prints the temporary password once
    Add {
        login: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Where their notifications go
        #[arg(long, default_value = "stdout")]
        notify: Notify,
    },
    /// Every user
    List,
    /// One user
    Show { login: String },
    /// Change a user's role
    SetRole { login: String, role: Role },
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Role::Worker, Role::Manager, Role::Accountant, Role::Admin]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl clap::ValueEnum for Notify {
    fn value_variants<'a>() -> &'a [Self] {
        &[Notify::Stdout, Notify::File, Notify::None]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub fn user_json(u: &User) -> Value {
    json!({"user_id": u.user_id, "login": u.login, "name": u.name, "email": u.email,
           "role": u.role.as_str(), "notify": u.notify.as_str()})
}

fn user_row(u: &User) -> Vec<String> {
    vec![
        u.login.clone(),
        u.role.as_str().into(),
        u.name.clone().unwrap_or_default(),
        u.email.clone().unwrap_or_default(),
        u.notify.as_str().into(),
        u.user_id.clone(),
    ]
}

const HEADER: [&str; 6] = ["login", "role", "name", "email", "notify", "id"];

fn text_field(what: &str, v: Option<String>, max: usize) -> Result<Option<String>> {
    match v.map(|s| s.trim().to_owned()) {
        Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => Err(AppError::usage(
            format!("the {what} must be at most {max} characters without control characters"),
        )),
        Some(s) if s.is_empty() => Ok(None),
        v => Ok(v),
    }
}

fn validate_email(e: &Option<String>) -> Result<()> {
    if let Some(e) = e {
        let ok = e
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'))
            && !e.contains(char::is_whitespace)
            && !e.contains(['<', '>', ','])
            && e.len() <= 254;
        if !ok {
            return Err(AppError::usage(format!(
                "`{}` is not an email address",
                e.escape_default()
            )));
        }
    }
    Ok(())
}

fn unknown_user(login: &str) -> AppError {
    AppError::new(
        Kind::NotFound,
        "no_user",
        format!("there is no user `{}`", login.escape_default()),
    )
    .hint("`popug user list` shows every user")
}

pub fn run(env: &Env, out: &mut Out, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            login,
            role,
            name,
            email,
            notify,
        } => {
            auth::validate_login(&login)?;
            let name = text_field("name", name, 200)?;
            let email = text_field("email", email, 254)?;
            validate_email(&email)?;
            let mut ledger = env.open()?;
            session::actor(env, ledger.db())?.require(&[Role::Admin], "adding users")?;
            let password = auth::generate_password();
            let password_hash = auth::hash_password(&password)?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.db())?;
            actor.require(&[Role::Admin], "adding users")?;
            if auth::user_by_login(w.db(), &login).map_err(db_error)?.is_some() {
                return Err(AppError::new(
                    Kind::Conflict,
                    "login_taken",
                    format!("the login `{login}` is taken"),
                )
                .hint("choose another login"));
            }
            let user_id = w.new_id().to_string();
            w.append(vec![
                UserCreated {
                    user_id: user_id.clone(),
                    login: login.clone(),
                    name,
                    email,
                    role,
                    password_hash,
                    notify,
                }
                .to_event(&actor.user.user_id),
            ])?;
            if out.is_json() {
                out.json(
                    &json!({"user_id": user_id, "login": login, "role": role.as_str(), "password": password}),
                )?;
            } else {
                out.line(&format!(
                    "Added {login} ({}), temporary password: {password}",
                    role.as_str()
                ))?;
                out.line("The password is shown only this once.")?;
            }
            session::print_notifications(out, w.db(), w.appended())
        }
        UserCommand::List => {
            let ledger = env.open()?;
            let actor = session::actor(env, ledger.db())?;
            actor.require(&[Role::Admin, Role::Manager, Role::Accountant], "listing users")?;
            let users = auth::all_users(ledger.db()).map_err(db_error)?;
            if out.is_json() {
                return out.json(&users.iter().map(user_json).collect::<Vec<_>>());
            }
            out.table(&HEADER, users.iter().map(user_row).collect())
        }
        UserCommand::Show { login } => {
            let ledger = env.open()?;
            let actor = session::actor(env, ledger.db())?;
            actor.require(
                &[Role::Admin, Role::Manager, Role::Accountant],
                "looking up users",
            )?;
            let user = auth::user_by_login(ledger.db(), &login)
                .map_err(db_error)?
                .ok_or_else(|| unknown_user(&login))?;
            if out.is_json() {
                return out.json(&user_json(&user));
            }
            out.table(&HEADER, vec![user_row(&user)])
        }
        UserCommand::SetRole { login, role } => {
            let mut ledger = env.open()?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.db())?;
            actor.require(&[Role::Admin], "changing roles")?;
            let user = auth::user_by_login(w.db(), &login)
                .map_err(db_error)?
                .ok_or_else(|| unknown_user(&login))?;
            if user.role != role {
                if user.role == Role::Admin {
                    let admins: i64 = w
                        .db()
                        .query_row("SELECT count(*) FROM users WHERE role = 'admin'", [], |r| {
                            r.get(0)
                        })
                        .map_err(db_error)?;
                    if admins == 1 {
                        return Err(AppError::new(
                            Kind::Conflict,
                            "last_admin",
                            format!("`{login}` is the last admin"),
                        )
                        .hint("make someone else an admin first"));
                    }
                }
                w.append(vec![
                    UserRoleChanged {
                        user_id: user.user_id.clone(),
                        from: user.role,
                        to: role,
                    }
                    .to_event(&actor.user.user_id),
                ])?;
            }
            let doc = json!({"user_id": user.user_id, "login": login, "from": user.role.as_str(), "role": role.as_str(), "changed": user.role != role});
            if out.is_json() {
                return out.json(&doc);
            }
            out.line(&format!("{login}: {} -> {}", user.role.as_str(), role.as_str()))
        }
    }
}
