//! `popug task import FILE|-`: many tasks at once, in group commits (CLI.md).

use serde_json::json;

use crate::app::Env;
use crate::auth::db_error;
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::cli::session;
use crate::cli::task::task_batch;
use crate::error::{AppError, Kind, Result};
use crate::tasks::{self, NewTask};

/// Tasks created per group commit by `task import`: one write and one fsync for the tasks,
/// one for their reactions, one SQLite commit for all. Larger chunks amortise the per-user
/// index pages (tasks by assignee, transactions by account, notifications by user) that
/// every chunk dirties and writes through the WAL: 100,000 tasks took 17.8 s in chunks of
/// 2,000 and 13.1 s in chunks of 10,000 (see BENCHMARKS.md), at ~35 MB more memory.
pub const IMPORT_CHUNK: usize = 10_000;

/// The chunk size; debug builds (the test suite) may lower it with `POPUG_IMPORT_CHUNK` so
/// that a test crosses chunk boundaries without importing tens of thousands of tasks.
fn import_chunk() -> usize {
    popug_ledger::debug_setting("POPUG_IMPORT_CHUNK", IMPORT_CHUNK)
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
    let mut ledger = env.open_to_write()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    let keyed = match &idempotency_key {
        Some(k) => tasks::keyed_request(w.store(crate::tasks::STORE), &actor.user.user_id, k, &request)?
            .unwrap_or_default(),
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
        let created = w.decide(|ctx| tasks::decide_create(&workers, input, ctx))?;
        ids.insert(row, created.task_id.clone().into());
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
    let done = w.append_in_chunks(batches, import_chunk(), |_, events| {
        imported += tasks_in(&events);
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
    let said = match (first_number, last_number) {
        (Some(a), Some(b)) => format!("Imported {imported} tasks (#{a} to #{b})"),
        _ => "Imported 0 tasks".into(),
    };
    out.report(&Answer::new(
        json!({"imported": imported, "first_number": first_number, "last_number": last_number}),
        vec![said],
    ))
}
