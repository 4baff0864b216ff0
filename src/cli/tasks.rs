//! `task create|done|list|show` and `shuffle`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::{IdempotencyKeyUsed, Payload, Role, TaskStatus};
use crate::money::Money;
use crate::tasks::{self, Filter, NewTask, Task};

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Create a task; it is priced once and assigned to a random worker
    Create {
        title: String,
        #[arg(long, value_name = "ID")]
        jira_id: Option<String>,
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
            let mut ledger = env.open()?;
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
                Some(k) => tasks::keyed_request(w.store(crate::tasks::STORE), k, &request)?,
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
                    let created = w.decide(|_, ctx| tasks::decide_create(&workers, input, ctx))?;
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
            if out.is_document() {
                out.json(&json!({
                    "task_id": task.task_id, "number": task.number, "title": task.title, "jira_id": task.jira_id,
                    "assignee": first_assignee, "assign_fee_cents": task.assign_fee, "reward_cents": task.reward,
                }))?;
            } else {
                out.line(&format!(
                    "Task #{} assigned to {} (fee {}, reward {})",
                    task.number,
                    first_assignee,
                    Money(task.assign_fee),
                    Money(task.reward)
                ))?;
            }
            session::print_notifications(out, w.store(crate::auth::STORE), w.appended())
        }
        TaskCommand::Done { task } => {
            let mut ledger = env.open()?;
            let mut w = ledger.write(env.clock)?;
            let actor = session::actor(env, w.store(crate::auth::STORE))?;
            let t = tasks::find(w.store(crate::tasks::STORE), &task)?;
            let change = tasks::decide_done(&t, &actor)?;
            w.append(vec![change.to_event(&actor.user.user_id)])?;
            let (_, balance) =
                crate::accounting::account_of(w.store(crate::accounting::STORE), &actor.user.user_id)
                    .map_err(db_error)?
                    .ok_or_else(|| AppError::new(Kind::Failure, "internal", "the assignee has no account"))?;
            if out.is_document() {
                out.json(&json!({"task_id": t.task_id, "number": t.number, "reward_cents": t.reward, "balance_cents": balance}))?;
            } else {
                out.line(&format!(
                    "Task #{} done: reward {} credited, balance {}",
                    t.number,
                    Money(t.reward),
                    Money(balance)
                ))?;
            }
            session::print_notifications(out, w.store(crate::auth::STORE), w.appended())
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
            let list = tasks::list(db, &filter).map_err(db_error)?;
            if out.is_json() {
                return out.json(&list.iter().map(task_json).collect::<Vec<_>>());
            }
            out.table(&HEADER, task_rows(&list))
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
            if out.is_json() {
                return out.json(&task_json(&t));
            }
            if out.format == crate::cli::output::Format::Csv {
                // one table: the description is a column of its row, never a line of its own
                let mut header = HEADER.to_vec();
                header.push("description");
                let mut rows = task_rows(std::slice::from_ref(&t));
                rows[0].push(t.description.clone().unwrap_or_default());
                return out.table(&header, rows);
            }
            out.table(&HEADER, task_rows(std::slice::from_ref(&t)))?;
            if let Some(d) = &t.description {
                out.line(d)?;
            }
            Ok(())
        }
    }
}

/// A created task's atomic batch: the task, and under an idempotency key the key's use for
/// this `row` of the request (so that a retry finds exactly the rows already made).
fn task_batch(
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

pub fn shuffle(env: &Env, out: &mut Out) -> Result<()> {
    let mut ledger = env.open()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    actor.require(&[Role::Admin, Role::Manager], "shuffling tasks")?;
    // the open tasks (for the decision and the output) and every login, read once
    let open = tasks::list(
        w.store(tasks::STORE),
        &Filter {
            status: Some(TaskStatus::Open),
            assignee_id: None,
        },
    )
    .map_err(db_error)?;
    let workers = tasks::worker_ids(w.store(tasks::STORE)).map_err(db_error)?;
    let (shuffle_id, moves) = w.decide(|_, ctx| tasks::decide_shuffle(&open, &workers, ctx))?;
    w.append(moves.iter().map(|m| m.to_event(&actor.user.user_id)).collect())?;
    let logins: std::collections::HashMap<String, String> = auth::all_users(w.store(crate::auth::STORE))
        .map_err(db_error)?
        .into_iter()
        .map(|u| (u.user_id, u.login))
        .collect();
    // one row per move, borrowed from the decision: a shuffle of 100,000 tasks prints
    // without building a JSON tree of them first
    let rows = moves.iter().zip(&open).map(|(m, t)| ShuffledRow {
        task_id: &m.task_id,
        number: t.number,
        assign_from: &t.assignee,
        assign_to: logins.get(&m.assign_to).map_or("", String::as_str),
        assign_fee_cents: t.assign_fee,
    });
    if out.is_document() {
        out.json(&Shuffled {
            shuffle_id: &shuffle_id,
            reassigned: moves.len(),
            tasks: SerializeIter(std::cell::Cell::new(Some(rows))),
        })?;
    } else {
        out.line(&format!("Shuffled {} open tasks ({shuffle_id})", moves.len()))?;
        let table = rows
            .map(|r| {
                vec![
                    r.number.to_string(),
                    r.assign_from.to_owned(),
                    r.assign_to.to_owned(),
                    Money(r.assign_fee_cents).to_string(),
                ]
            })
            .collect();
        out.table(&["#", "from", "to", "fee"], table)?;
    }
    session::print_notifications(out, w.store(crate::auth::STORE), w.appended())
}

/// `shuffle --json`: `{"shuffle_id","reassigned","tasks":[...]}` (CLI.md).
#[derive(serde::Serialize)]
#[serde(bound = "")]
/// Keys in the order `json!` gave them before (sorted), so the output is unchanged.
struct Shuffled<'a, I: Iterator<Item = ShuffledRow<'a>>> {
    reassigned: usize,
    shuffle_id: &'a str,
    tasks: SerializeIter<I>,
}

#[derive(serde::Serialize)]
struct ShuffledRow<'a> {
    assign_fee_cents: i64,
    assign_from: &'a str,
    assign_to: &'a str,
    number: i64,
    task_id: &'a str,
}

/// A JSON array written from an iterator as it goes (serialized once).
struct SerializeIter<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = T>, T: serde::Serialize> serde::Serialize for SerializeIter<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let items = self
            .0
            .take()
            .ok_or_else(|| serde::ser::Error::custom("rows already written"))?;
        s.collect_seq(items)
    }
}

/// Tasks created per group commit by `task import`: one write and one fsync for the tasks,
/// one for their reactions, one SQLite commit for all. Larger chunks amortise the per-user
/// index pages (tasks by assignee, transactions by account, notifications by user) that
/// every chunk dirties and writes through the WAL: 100,000 tasks took 17.8 s in chunks of
/// 2,000 and 13.1 s in chunks of 10,000 (see BENCHMARKS.md), at ~35 MB more memory.
pub const IMPORT_CHUNK: usize = 10_000;

/// The chunk size; debug builds (the test suite) may lower it with `POPUG_IMPORT_CHUNK` so
/// that a test crosses chunk boundaries without importing tens of thousands of tasks.
fn import_chunk() -> usize {
    #[cfg(debug_assertions)]
    if let Some(n) = std::env::var("POPUG_IMPORT_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    IMPORT_CHUNK
}

pub fn import(
    env: &Env,
    out: &mut Out,
    file: &std::path::Path,
    format: Option<tasks::ImportFormat>,
    idempotency_key: Option<String>,
) -> Result<()> {
    if let Some(k) = &idempotency_key {
        tasks::validate_idempotency_key(k)?;
    }
    let bytes = if file.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut b)?;
        b
    } else {
        std::fs::read(file).map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::NotFound {
                Kind::NotFound
            } else {
                Kind::Usage
            };
            AppError::new(
                kind,
                "cannot_read",
                format!("cannot read `{}`: {e}", file.display()),
            )
        })?
    };
    // every row is read and checked before the ledger is opened for writing
    let format = format.unwrap_or_else(|| tasks::ImportFormat::guess(file, &bytes));
    let inputs = format.parse(&bytes)?;
    // the request is its rows, whatever file or format carried them
    let request = {
        let mut parts: Vec<Vec<u8>> = vec![b"task import".to_vec()];
        for t in &inputs {
            parts.push(t.title.as_bytes().to_vec());
            parts.push(t.jira_id.as_deref().unwrap_or("").as_bytes().to_vec());
            parts.push(t.description.as_deref().unwrap_or("").as_bytes().to_vec());
        }
        tasks::request_sha256(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>())
    };
    let mut ledger = env.open()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    let keyed = match &idempotency_key {
        Some(k) => tasks::keyed_request(w.store(crate::tasks::STORE), k, &request)?.unwrap_or_default(),
        None => tasks::KeyedRequest::default(),
    };
    // rows a keyed import already created (a retry after a time-out or a crash) are skipped
    let todo: Vec<(u64, NewTask)> = inputs
        .into_iter()
        .enumerate()
        .map(|(i, t)| (i as u64, t))
        .filter(|(i, _)| !keyed.rows.contains_key(i))
        .collect();
    let workers = tasks::worker_ids(w.store(tasks::STORE)).map_err(db_error)?;
    if workers.is_empty() && !todo.is_empty() {
        return Err(tasks::TaskError::NoWorkers.into());
    }
    let total = todo.len() + keyed.rows.len();
    let mut ids: std::collections::BTreeMap<u64, String> = keyed
        .rows
        .iter()
        .map(|(row, (task, _))| (*row, task.clone()))
        .collect();
    let mut batches = Vec::with_capacity(todo.len());
    for (row, input) in todo {
        let created = w.decide(|_, ctx| tasks::decide_create(&workers, input, ctx))?;
        ids.insert(row, created.task_id.clone());
        batches.push(task_batch(
            &created,
            idempotency_key.as_deref(),
            &request,
            row,
            &actor,
        ));
    }
    let tasks_in = |events: &[popug_ledger::Event]| {
        events
            .iter()
            .filter(|e| {
                matches!(
                    crate::events::decode(e),
                    Ok(crate::events::PopugEvent::TaskCreated(_))
                )
            })
            .count()
    };
    let mut imported = keyed.rows.len();
    // printed after the command's own answer, as every command does (CLI.md); only those
    // for the stdout channel are kept, not every event of a large import
    let mut notes: Vec<popug_ledger::Event> = Vec::new();
    let done = w.append_in_chunks(batches, import_chunk(), |_, events| {
        imported += tasks_in(&events);
        notes.extend(events.into_iter().filter(session::is_stdout_notification));
        Ok::<(), AppError>(())
    });
    if let Err(e) = done {
        // the chunks before are in the ledger, whole; the failing one's tasks too if only
        // their reactions failed (the next command finishes those): say how far it got
        let written = imported + tasks_in(w.appended());
        return Err(match written {
            0 => e,
            _ => e.context(&format!(
                "{written} of {total} tasks were written before this failure (the next popug command \
                 finishes their fees and notifications)"
            )),
        });
    }
    let number = |id: Option<&String>| -> Result<Option<i64>> {
        id.map(|id| tasks::find(w.store(crate::tasks::STORE), id).map(|t| t.number))
            .transpose()
    };
    let first_number = number(ids.values().next())?;
    let last_number = number(ids.values().next_back())?;
    if out.is_document() {
        out.json(&json!({"imported": imported, "first_number": first_number, "last_number": last_number}))?;
    } else {
        match (first_number, last_number) {
            (Some(a), Some(b)) => out.line(&format!("Imported {imported} tasks (#{a} to #{b})"))?,
            _ => out.line("Imported 0 tasks")?,
        }
    }
    session::print_notifications(out, w.store(crate::auth::STORE), &notes)
}
