//! `user add|list|show|set-role`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::app::Env;
use crate::auth::{self, User, db_error, decide};
use crate::cli::output::Out;
use crate::cli::report::{Answer, Human, Report};
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{Notify, PasswordChanged, Payload, Role, UserCreated};

#[derive(Debug, Clone, Subcommand)]
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
    /// Change a user's role; a worker's open tasks go to other workers
    SetRole { login: String, role: Role },
    /// End someone's work here: no sign-in, credentials revoked, open tasks handed over;
    /// their balance is still paid out
    Deactivate { login: String },
    /// A new temporary password for someone, printed once; their sessions and tokens end
    ResetPassword { login: String },
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
           "role": u.role.as_str(), "notify": u.notify.as_str(), "active": u.active})
}

fn user_row(u: &User) -> Vec<String> {
    vec![
        u.login.clone(),
        u.role.as_str().into(),
        u.name.clone().unwrap_or_default(),
        u.email.clone().unwrap_or_default(),
        u.notify.as_str().into(),
        if u.active { "yes" } else { "no" }.into(),
        u.user_id.clone(),
    ]
}

const HEADER: [&str; 7] = ["login", "role", "name", "email", "notify", "active", "id"];

/// `user list`: every user, by login.
struct Users(Vec<User>);

impl Report for Users {
    const LIST: bool = true;
    fn document(&self) -> Value {
        self.0.iter().map(user_json).collect()
    }
    fn human(&self) -> Human {
        Human::table((HEADER.to_vec(), self.0.iter().map(user_row).collect()))
    }
}

/// `user show LOGIN`: one user, as one row of the list.
struct OneUser(User);

impl Report for OneUser {
    const LIST: bool = true;
    fn document(&self) -> Value {
        user_json(&self.0)
    }
    fn human(&self) -> Human {
        Human::table((HEADER.to_vec(), vec![user_row(&self.0)]))
    }
}

/// The events that hand `user`'s open tasks to other workers, and their JSON (CLI.md:
/// `[{"task_id","number","assign_to","assign_fee_cents"}]`).
fn hand_over(
    w: &mut popug_ledger::WriteGuard<'_>,
    user: &User,
    actor: &str,
) -> Result<(Vec<popug_ledger::NewEvent>, Vec<Value>)> {
    let (open, workers) = {
        let db = w.store(crate::tasks::STORE);
        let open = crate::tasks::list(
            db,
            &crate::tasks::Filter {
                status: Some(crate::events::TaskStatus::Open),
                assignee_id: Some(user.user_id.clone()),
            },
        )
        .map_err(db_error)?;
        (open, crate::tasks::worker_ids(db).map_err(db_error)?)
    };
    let moves = w.decide(|ctx| crate::tasks::decide_hand_over(open, &workers, &user.user_id, ctx))?;
    let mut events = Vec::with_capacity(moves.len());
    let mut docs = Vec::with_capacity(moves.len());
    for (task, m) in moves {
        let to = auth::user_by_id(w.store(crate::auth::STORE), &m.assign_to)
            .map_err(db_error)?
            .map(|u| u.login)
            .unwrap_or_default();
        docs.push(
            json!({"task_id": task.task_id, "number": task.number, "assign_to": to,
                         "assign_fee_cents": task.assign_fee}),
        );
        events.push(m.to_event(actor));
    }
    Ok((events, docs))
}

/// Revocations of every credential of `user` still in force.
fn revoke_all(
    w: &popug_ledger::WriteGuard<'_>,
    user: &User,
    actor: &str,
) -> Result<Vec<popug_ledger::NewEvent>> {
    let ids =
        auth::unrevoked_credentials(w.store(crate::auth::STORE), &user.user_id, None).map_err(db_error)?;
    Ok(auth::revocations(&ids, actor))
}

/// A line per task handed over, after the sentence that says so.
fn reassigned_lines(docs: &[Value]) -> impl Iterator<Item = String> + '_ {
    docs.iter().map(|d| {
        format!(
            "  task #{} -> {} (fee {})",
            d["number"],
            d["assign_to"].as_str().unwrap_or_default(),
            crate::money::Money(d["assign_fee_cents"].as_i64().unwrap_or_default())
        )
    })
}

fn text_field(what: &str, v: Option<String>, max: usize) -> Result<Option<String>> {
    match v.map(|s| s.trim().to_owned()) {
        Some(s) if s.chars().count() > max || s.chars().any(crate::text::is_forbidden) => {
            Err(AppError::usage(format!(
                "the {what} must be at most {max} characters without control or invisible format characters"
            )))
        }
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
            return Err(AppError::usage(format!("`{}` is not an email address", e)));
        }
    }
    Ok(())
}

/// The preamble of an admin's command about one user, inside its write session: the
/// caller signed in and an admin (exit 3 otherwise, `what` naming the work), and the user
/// `login` (exit 4 when there is none).
fn admin_and_user(
    env: &Env,
    w: &popug_ledger::WriteGuard<'_>,
    login: &str,
    what: &str,
) -> Result<(crate::auth::Actor, User)> {
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    actor.require(&[Role::Admin], what)?;
    let user = auth::user_by_login(w.store(crate::auth::STORE), login)
        .map_err(db_error)?
        .ok_or_else(|| unknown_user(login))?;
    Ok((actor, user))
}

fn unknown_user(login: &str) -> AppError {
    AppError::new(Kind::NotFound, "no_user", format!("there is no user `{}`", login))
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
            session::actor(env, ledger.store(crate::auth::STORE))?.require(&[Role::Admin], "adding users")?;
            let password = auth::generate_password();
            let password_hash = auth::hash_password(&password)?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.store(crate::auth::STORE))?;
            actor.require(&[Role::Admin], "adding users")?;
            let existing = auth::user_by_login(w.store(crate::auth::STORE), &login).map_err(db_error)?;
            decide::add_user(existing.as_ref(), &login)?;
            let user_id = w.new_id().to_string();
            w.append(vec![
                UserCreated {
                    user_id: user_id.clone().into(),
                    login: login.clone(),
                    name,
                    email,
                    role,
                    password_hash,
                    notify,
                }
                .to_event(&actor.user.user_id),
            ])?;
            out.report(&Answer::new(
                json!({"user_id": user_id, "login": login, "role": role.as_str(), "password": password}),
                vec![
                    format!(
                        "Added {login} ({}), temporary password: {password}",
                        role.as_str()
                    ),
                    "The password is shown only this once.".into(),
                ],
            ))
        }
        UserCommand::List => {
            let (ledger, _) = session::signed_in(
                env,
                &[Role::Admin, Role::Manager, Role::Accountant],
                "listing users",
            )?;
            let users = auth::all_users(ledger.store(crate::auth::STORE)).map_err(db_error)?;
            out.report(&Users(users))
        }
        UserCommand::Show { login } => {
            let (ledger, _) = session::signed_in(
                env,
                &[Role::Admin, Role::Manager, Role::Accountant],
                "looking up users",
            )?;
            let user = auth::user_by_login(ledger.store(crate::auth::STORE), &login)
                .map_err(db_error)?
                .ok_or_else(|| unknown_user(&login))?;
            out.report(&OneUser(user))
        }
        UserCommand::SetRole { login, role } => {
            let mut ledger = env.open_to_write()?;
            let mut w = ledger.write(env.clock)?;
            let (actor, user) = admin_and_user(env, &w, &login, "changing roles")?;
            let mut reassigned = Vec::new();
            let admins = auth::active_admins(w.store(crate::auth::STORE)).map_err(db_error)?;
            if let Some(change) = decide::set_role(&user, role, admins)? {
                let (moves, docs) = match role {
                    Role::Worker => Default::default(),
                    _ => hand_over(&mut w, &user, &actor.user.user_id)?,
                };
                reassigned = docs;
                let mut batch = vec![change.to_event(&actor.user.user_id)];
                batch.extend(moves);
                w.append(batch)?;
            }
            let doc = json!({"user_id": user.user_id, "login": login, "from": user.role.as_str(), "to": role.as_str(),
                             "role": role.as_str(), "changed": user.role != role, "reassigned": reassigned});
            let mut said = vec![format!("{login}: {} -> {}", user.role.as_str(), role.as_str())];
            said.extend(reassigned_lines(&reassigned));
            out.report(&Answer::new(doc, said))
        }
        UserCommand::Deactivate { login } => {
            let mut ledger = env.open_to_write()?;
            let mut w = ledger.write(env.clock)?;
            let (actor, user) = admin_and_user(env, &w, &login, "deactivating users")?;
            let mut reassigned = Vec::new();
            let admins = auth::active_admins(w.store(crate::auth::STORE)).map_err(db_error)?;
            if let Some(deactivated) = decide::deactivate(&user, admins)? {
                let (moves, docs) = hand_over(&mut w, &user, &actor.user.user_id)?;
                reassigned = docs;
                let mut batch = vec![deactivated.to_event(&actor.user.user_id)];
                batch.extend(revoke_all(&w, &user, &actor.user.user_id)?);
                batch.extend(moves);
                w.append(batch)?;
            }
            let said = if user.active {
                let mut said = vec![format!(
                    "Deactivated {login}: no sign-in, every credential revoked, {} open tasks handed over",
                    reassigned.len()
                )];
                said.extend(reassigned_lines(&reassigned));
                said
            } else {
                vec![format!("{login} was already deactivated")]
            };
            out.report(&Answer::new(
                json!({"login": login, "reassigned": reassigned, "changed": user.active}),
                said,
            ))
        }
        UserCommand::ResetPassword { login } => {
            let mut ledger = env.open()?;
            session::actor(env, ledger.store(crate::auth::STORE))?
                .require(&[Role::Admin], "resetting passwords")?;
            let password = auth::generate_password();
            let password_hash = auth::hash_password(&password)?;
            let mut w = ledger.write(env.clock)?;
            let (actor, user) = admin_and_user(env, &w, &login, "resetting passwords")?;
            let mut batch = vec![
                PasswordChanged {
                    user_id: user.user_id.clone().into(),
                    password_hash,
                }
                .to_event(&actor.user.user_id),
            ];
            batch.extend(revoke_all(&w, &user, &actor.user.user_id)?);
            w.append(batch)?;
            out.report(&Answer::new(
                json!({"login": login, "password": password}),
                vec![
                    format!("New temporary password for {login}: {password}"),
                    "It is shown only this once; every session and token of theirs has ended.".into(),
                ],
            ))
        }
    }
}
