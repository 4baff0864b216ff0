//! `popug task create|list|show|done` (CLI.md); `import` is in `import.rs`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::output::Out;
use crate::cli::report::{Answer, Human, Report, Table};
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{IdempotencyKeyUsed, Payload, Role, TaskStatus};
use crate::money::Money;
use crate::tasks::{self, Filter, NewTask, Task};

#[derive(Debug, Clone, Subcommand)]
pub enum TaskCommand {
    /// Create a task; it is priced once and assigned to a random worker
    Create {
        /// What is to be done: up to 200 characters, without `[` or `]`
        title: String,
        /// The task's Jira id (e.g. POP-42), shown as `[POP-42]` before the title
        #[arg(long, value_name = "ID")]
        jira_id: Option<String>,
        /// More about the task, up to 10,000 characters
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// A retried request with this key answers as the first time and creates nothing
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// Mark your task done (its number or id); the reward is credited at once
    Done { task: String },
    /// Your open tasks; --all or --assignee for everyone's (admins, managers)
    List {
        #[arg(long)]
        all: bool,
        #[arg(long, value_parser = ["open", "done"])]
        status: Option<String>,
        #[arg(long, value_name = "LOGIN")]
        assignee: Option<String>,
    },
    /// One task (its number or id)
    Show { task: String },
    /// Create many tasks from a CSV or JSON-lines file (`-` for stdin), each priced and
    /// assigned as by `task create`, in group-committed batches
    Import {
        /// The file of tasks, or `-` for stdin. Its format is `--format csv` (a header with
        /// title and optionally jira_id, description) or `--format jsonl`; by default it
        /// follows the file name (.csv, .jsonl), else the first character of the input
        file: std::path::PathBuf,
        /// A retried import with this key creates only the rows not created yet, and
        /// answers as a complete import
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
}

pub fn task_json(t: &Task) -> Value {
    json!({
        "task_id": t.task_id, "number": t.number, "title": t.title, "jira_id": t.jira_id,
        "description": t.description, "status": t.status.as_str(), "assignee": t.assignee,
        "assign_fee_cents": t.assign_fee, "reward_cents": t.reward, "created_at": t.created_at,
        "completed_at": t.completed_at,
    })
}

fn task_rows(tasks: &[Task]) -> Vec<Vec<String>> {
    tasks
        .iter()
        .map(|t| {
            let title = match &t.jira_id {
                Some(j) => format!("[{j}] {}", t.title),
                None => t.title.clone(),
            };
            vec![
                t.number.to_string(),
                title,
                t.status.as_str().into(),
                t.assignee.clone(),
                Money(t.assign_fee).to_string(),
                Money(t.reward).to_string(),
            ]
        })
        .collect()
}

const HEADER: [&str; 6] = ["#", "title", "status", "assignee", "fee", "reward"];

/// `task list`: tasks in number order.
struct TaskList(Vec<Task>);

impl Report for TaskList {
    const LIST: bool = true;
    fn document(&self) -> Value {
        self.0.iter().map(task_json).collect()
    }
    fn human(&self) -> Human {
        Human::table((HEADER.to_vec(), task_rows(&self.0)))
    }
}

/// `task show TASK`: one task's row, and its description under it.
struct OneTask(Task);

impl Report for OneTask {
    const LIST: bool = true;
    fn document(&self) -> Value {
        task_json(&self.0)
    }
    fn human(&self) -> Human {
        Human {
            after: self.0.description.iter().cloned().collect(),
            ..Human::table((HEADER.to_vec(), task_rows(std::slice::from_ref(&self.0))))
        }
    }
    /// One table: the description is a column of its row, never a line of its own.
    fn csv(&self) -> Option<Table> {
        let mut header = HEADER.to_vec();
        header.push("description");
        let mut rows = task_rows(std::slice::from_ref(&self.0));
        rows[0].push(self.0.description.clone().unwrap_or_default());
        Some((header, rows))
    }
}

pub fn run(env: &Env, out: &mut Out, cmd: TaskCommand) -> Result<()> {
    match cmd {
        TaskCommand::Create {
            title,
            jira_id,
            description,
            idempotency_key,
        } => {
            let input = NewTask {
                title,
                jira_id,
                description,
            }
            .validated()?;
            if let Some(k) = &idempotency_key {
                tasks::validate_idempotency_key(k)?;
            }
            let mut ledger = env.open_to_write()?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.store(crate::auth::STORE))?;
            let opt = |o: &Option<String>| o.as_deref().unwrap_or("").as_bytes().to_vec();
            let request = tasks::request_sha256(&[
                b"task create",
                input.title.as_bytes(),
                &opt(&input.jira_id),
                &opt(&input.description),
            ]);
            let keyed = match &idempotency_key {
                Some(k) => {
                    tasks::keyed_request(w.store(crate::tasks::STORE), &actor.user.user_id, k, &request)?
                }
                None => None,
            };
            let (task, first_assignee) = match keyed.as_ref().and_then(|k| k.rows.get(&0)) {
                // the same request again: the first answer, nothing written
                Some((task_id, assignee_id)) => {
                    let task = tasks::find(w.store(crate::tasks::STORE), task_id)?;
                    let login = auth::user_by_id(w.store(crate::auth::STORE), assignee_id)
                        .map_err(db_error)?
                        .map(|u| u.login)
                        .unwrap_or_default();
                    (task, login)
                }
                None => {
                    let workers = tasks::worker_ids(w.store(tasks::STORE)).map_err(db_error)?;
                    let created = w.decide(|ctx| tasks::decide_create(&workers, input, ctx))?;
                    w.append(task_batch(
                        &created,
                        idempotency_key.as_deref(),
                        &request,
                        0,
                        &actor,
                    ))?;
                    let task = tasks::find(w.store(crate::tasks::STORE), &created.task_id)?;
                    let login = task.assignee.clone();
                    (task, login)
                }
            };
            out.report(&Answer::new(json!({
                    "task_id": task.task_id, "number": task.number, "title": task.title, "jira_id": task.jira_id,
                    "assignee": first_assignee, "assign_fee_cents": task.assign_fee, "reward_cents": task.reward,
                }), vec![format!(
                    "Task #{} assigned to {} (fee {}, reward {})",
                    task.number,
                    first_assignee,
                    Money(task.assign_fee),
                    Money(task.reward)
                )]))
        }
        TaskCommand::Done { task } => {
            let mut ledger = env.open_to_write()?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.store(crate::auth::STORE))?;
            let t = tasks::find(w.store(crate::tasks::STORE), &task)?;
            let change = tasks::decide_done(&t, &actor)?;
            w.append(vec![change.to_event(&actor.user.user_id)])?;
            let (_, balance) =
                crate::accounting::account_of(w.store(crate::accounting::STORE), &actor.user.user_id)
                    .map_err(db_error)?
                    .ok_or_else(|| AppError::new(Kind::Failure, "internal", "the assignee has no account"))?;
            out.report(&Answer::new(json!({"task_id": t.task_id, "number": t.number, "reward_cents": t.reward, "balance_cents": balance}), vec![format!(
                    "Task #{} done: reward {} credited, balance {}",
                    t.number,
                    Money(t.reward),
                    Money(balance)
                )]))
        }
        TaskCommand::List {
            all,
            status,
            assignee,
        } => {
            let ledger = env.open()?;
            let db = ledger.store(tasks::STORE);
            let actor = session::actor(env, ledger.store(crate::auth::STORE))?;
            let status = status.map(|s| {
                if s == "done" {
                    TaskStatus::Done
                } else {
                    TaskStatus::Open
                }
            });
            let filter = if all || assignee.is_some() {
                actor.require(&[Role::Admin, Role::Manager], "listing other people's tasks")?;
                let assignee_id = match assignee {
                    Some(login) => Some(
                        auth::user_by_login(ledger.store(crate::auth::STORE), &login)
                            .map_err(db_error)?
                            .ok_or_else(|| {
                                AppError::new(
                                    Kind::NotFound,
                                    "no_user",
                                    format!("there is no user `{}`", login),
                                )
                            })?
                            .user_id,
                    ),
                    None => None,
                };
                Filter { status, assignee_id }
            } else {
                Filter {
                    status: Some(status.unwrap_or(TaskStatus::Open)),
                    assignee_id: Some(actor.user.user_id.clone()),
                }
            };
            out.report(&TaskList(tasks::list(db, &filter).map_err(db_error)?))
        }
        TaskCommand::Import { .. } => unreachable!("cli::run calls `import` with the --format it names"),
        TaskCommand::Show { task } => {
            let ledger = env.open()?;
            let actor = session::actor(env, ledger.store(crate::auth::STORE))?;
            let t = tasks::find(ledger.store(crate::tasks::STORE), &task)?;
            if !tasks::may_see(&t, &actor) {
                return Err(AppError::new(
                    Kind::Denied,
                    "not_allowed",
                    format!("task {} is not assigned to you", t.number),
                )
                .hint("`popug task list` shows your tasks"));
            }
            out.report(&OneTask(t))
        }
    }
}

/// A created task's atomic batch: the task, and under an idempotency key the key's use for
/// this `row` of the request (so that a retry finds exactly the rows already made).
pub(super) fn task_batch(
    created: &crate::events::TaskCreated,
    key: Option<&str>,
    request_sha256: &str,
    row: u64,
    actor: &crate::auth::Actor,
) -> Vec<popug_ledger::NewEvent> {
    let by = &actor.user.user_id;
    let mut batch = vec![created.to_event(by)];
    if let Some(key) = key {
        batch.push(
            IdempotencyKeyUsed {
                key: key.to_owned(),
                request_sha256: request_sha256.to_owned(),
                row,
                task_id: created.task_id.clone(),
            }
            .to_event(by),
        );
    }
    batch
}
