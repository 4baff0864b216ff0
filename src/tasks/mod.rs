//! The tasks context: creating, completing and shuffling tasks. Decisions read the
//! projections and take the clock and random source from the engine's context.

pub mod copy;
pub mod projection;

/// This context's store: `views/tasks.db` (tasks, idempotency keys, and its copies of the assignees and the calendar), written only by its projection.
pub const STORE: &str = "tasks";
/// The version of this store's tables: bump it when they change, and this store alone is
/// rebuilt from the log on open.
/// 3: completion days counted with the tz database bundled in the binary (`crate::zone`,
/// tzdata 2026f), which moved days in a few zones against chrono-tz's 2025b.
pub const STORE_VERSION: u32 = 3;

use popug_ledger::Context;
use rand::RngExt;
use rusqlite::{Connection, OptionalExtension};

use crate::auth::{Actor, db_error};
use crate::error::{AppError, Result};
use crate::events::{Role, TaskCreated, TaskReassigned, TaskStatus, TaskStatusChanged};

/// Assignment fee and completion reward, in whole currency units (DESIGN.md §5).
pub const FEE_UNITS: std::ops::RangeInclusive<i64> = 10..=20;
pub const REWARD_UNITS: std::ops::RangeInclusive<i64> = 20..=40;
pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub task_id: String,
    pub number: i64,
    pub title: String,
    pub jira_id: Option<String>,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub assignee_id: String,
    pub assignee: String,
    pub assign_fee: i64,
    pub reward: i64,
    pub created_at: String,
    pub completed_at: Option<String>,
}

/// Why a task decision refuses (DESIGN §5, CLI.md `task`, `shuffle`). The CLI gives each an
/// exit code and a hint (`crate::error`); the rules know nothing of terminals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("the title is empty")]
    EmptyTitle,
    #[error("the title is longer than {MAX_TITLE} characters")]
    TitleTooLong,
    #[error("the title contains control characters or invisible format characters (such as U+202E)")]
    TitleForbiddenCharacter,
    /// `[ID]` in a title is the old format; the Jira id has its own field (TaskCreated v2).
    #[error("a title may not contain `[` or `]`")]
    TitleBracket,
    #[error("`{0}` is not a Jira id")]
    BadJiraId(String),
    #[error("the description is longer than {MAX_DESCRIPTION} characters")]
    DescriptionTooLong,
    #[error("the description contains control characters or invisible format characters (such as U+202E)")]
    DescriptionForbiddenCharacter,
    /// No active worker to give a task to.
    #[error("there is no worker to assign tasks to")]
    NoWorkers,
    /// A worker's open tasks have no other worker to go to (`user set-role`, `deactivate`).
    #[error("{0} open tasks would have no worker to go to")]
    NoWorkerToHandOverTo(usize),
    #[error("task {number} is assigned to {assignee}, not to you")]
    NotAssignee { number: i64, assignee: String },
    #[error("task {0} is already done")]
    AlreadyDone(i64),
    #[error("there is no task `{0}`")]
    NoTask(String),
    #[error("an idempotency key is 1 to 200 characters without control characters")]
    BadIdempotencyKey,
    #[error("the idempotency key `{0}` was used for a different request")]
    IdempotencyKeyReused(String),
}

/// What a person asks for in `popug task create`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub jira_id: Option<String>,
    pub description: Option<String>,
}

impl NewTask {
    /// Trims and checks every field; a title with `[` or `]` belongs to the old format
    /// (the Jira id goes in `--jira-id`).
    pub fn validated(self) -> Result<NewTask, TaskError> {
        let title = self.title.trim().to_owned();
        if title.is_empty() {
            return Err(TaskError::EmptyTitle);
        }
        if title.chars().count() > MAX_TITLE {
            return Err(TaskError::TitleTooLong);
        }
        if title.chars().any(crate::text::is_forbidden) {
            return Err(TaskError::TitleForbiddenCharacter);
        }
        if title.contains(['[', ']']) {
            return Err(TaskError::TitleBracket);
        }
        let jira_id = match self.jira_id.map(|j| j.trim().to_owned()) {
            Some(j) if !valid_jira_id(&j) => return Err(TaskError::BadJiraId(j)),
            j => j,
        };
        let description = match self.description {
            Some(d) if d.chars().count() > MAX_DESCRIPTION => return Err(TaskError::DescriptionTooLong),
            Some(d)
                if d.chars()
                    .any(|c| crate::text::is_forbidden(c) && c != '\n' && c != '\t') =>
            {
                return Err(TaskError::DescriptionForbiddenCharacter);
            }
            Some(d) if d.trim().is_empty() => None,
            d => d,
        };
        Ok(NewTask {
            title,
            jira_id,
            description,
        })
    }
}

/// A v2 Jira id: 1 to 20 capital letters or digits starting with a letter, a dash, 1 to 10
/// digits (`POP-42`).
pub(crate) fn valid_jira_id(j: &str) -> bool {
    let Some((project, number)) = j.split_once('-') else {
        return false;
    };
    (1..=20).contains(&project.len())
        && project.starts_with(|c: char| c.is_ascii_uppercase())
        && project
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && (1..=10).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
}

/// The input of `task import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// A header with `title` and optionally `jira_id`, `description`.
    Csv,
    /// One JSON object per line with those fields.
    Jsonl,
}

impl ImportFormat {
    /// From the file's name, else from its first character (`{` is JSON lines).
    pub fn guess(file: &std::path::Path, bytes: &[u8]) -> ImportFormat {
        match file.extension().and_then(|e| e.to_str()) {
            Some("csv") => ImportFormat::Csv,
            Some("jsonl" | "ndjson") => ImportFormat::Jsonl,
            _ if bytes.trim_ascii_start().starts_with(b"{") => ImportFormat::Jsonl,
            _ => ImportFormat::Csv,
        }
    }

    /// Reads and checks every row; any bad row refuses the whole input.
    pub fn parse(self, bytes: &[u8]) -> Result<Vec<NewTask>> {
        match self {
            ImportFormat::Csv => parse_csv(bytes),
            ImportFormat::Jsonl => parse_jsonl(bytes),
        }
    }
}

/// One row of `task import`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportRow {
    title: String,
    #[serde(default)]
    jira_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

impl ImportRow {
    fn validated(self, row: &str) -> Result<NewTask> {
        let empty_is_none = |s: Option<String>| s.filter(|s| !s.is_empty());
        NewTask {
            title: self.title,
            jira_id: empty_is_none(self.jira_id),
            description: empty_is_none(self.description),
        }
        .validated()
        .map_err(|e| {
            let e = crate::error::AppError::from(e).context(row);
            match e.hint {
                Some(_) => e,
                None => e.hint(NOTHING_IMPORTED),
            }
        })
    }
}

const NOTHING_IMPORTED: &str =
    "each task needs a title; jira_id and description are optional; nothing was imported";

/// A refused row; `why` may quote the input (a parser's message): the error printer shows
/// it escaped ([`crate::text::shown`]).
fn bad_row(row: &str, why: impl std::fmt::Display) -> AppError {
    AppError::usage(format!("{row}: {why}")).hint(NOTHING_IMPORTED)
}

/// Reads and checks every row of a CSV file of tasks (a header with `title` and optionally
/// `jira_id`, `description`). Any bad row refuses the whole file.
fn parse_csv(bytes: &[u8]) -> Result<Vec<NewTask>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| bad_row("the header", e))?.clone();
    if let Some(h) = headers
        .iter()
        .find(|h| !["title", "jira_id", "description"].contains(h))
    {
        return Err(bad_row(
            "the header",
            format!("unknown column `{}` (columns: title, jira_id, description)", h),
        ));
    }
    if !headers.iter().any(|h| h == "title") {
        return Err(bad_row("the header", "there is no `title` column"));
    }
    let mut out = Vec::new();
    for (i, record) in reader.deserialize::<ImportRow>().enumerate() {
        let row = format!("row {} (line {})", i + 1, i + 2);
        let record = record.map_err(|e| bad_row(&row, e))?;
        out.push(record.validated(&row)?);
    }
    Ok(out)
}

/// Reads and checks every line of a JSON-lines file of tasks (`{"title": …, "jira_id": …,
/// "description": …}`); blank lines are skipped. Any bad line refuses the whole file.
fn parse_jsonl(bytes: &[u8]) -> Result<Vec<NewTask>> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let row = format!("line {}", i + 1);
        let record: ImportRow = serde_json::from_slice(line).map_err(|e| bad_row(&row, e))?;
        out.push(record.validated(&row)?);
    }
    Ok(out)
}

/// Prices the task once and assigns it to a uniformly random one of `workers` (the active
/// workers, [`worker_ids`]; read once for many tasks). DESIGN §5: fee 10..=20, reward
/// 20..=40 whole units, in cents.
pub fn decide_create(
    workers: &[String],
    input: NewTask,
    ctx: &mut Context<'_>,
) -> Result<TaskCreated, TaskError> {
    if workers.is_empty() {
        return Err(TaskError::NoWorkers);
    }
    let assignee_id = workers[ctx.rng.random_range(0..workers.len())].clone();
    let assign_fee = ctx.rng.random_range(FEE_UNITS) * 100;
    let reward = ctx.rng.random_range(REWARD_UNITS) * 100;
    Ok(TaskCreated {
        task_id: ctx.new_id().to_string().into(),
        title: input.title,
        jira_id: input.jira_id,
        description: input.description,
        assignee_id: assignee_id.into(),
        assign_fee: crate::money::Money(assign_fee),
        reward: crate::money::Money(reward),
    })
}

/// Only the assignee, only an open task.
pub fn decide_done(task: &Task, actor: &Actor) -> Result<TaskStatusChanged, TaskError> {
    if task.assignee_id != actor.user.user_id {
        return Err(TaskError::NotAssignee {
            number: task.number,
            assignee: task.assignee.clone(),
        });
    }
    if task.status == TaskStatus::Done {
        return Err(TaskError::AlreadyDone(task.number));
    }
    Ok(TaskStatusChanged {
        task_id: task.task_id.clone().into(),
        from: TaskStatus::Open,
        to: TaskStatus::Done,
    })
}

/// Every one of the `open` tasks to a uniformly random one of `workers` (possibly the same
/// one): one move per task, in the order given, under one shuffle id.
pub fn decide_shuffle(
    open: &[Task],
    workers: &[String],
    ctx: &mut Context<'_>,
) -> Result<(String, Vec<TaskReassigned>), TaskError> {
    let shuffle_id = ctx.new_id().to_string();
    if open.is_empty() {
        return Ok((shuffle_id, Vec::new()));
    }
    if workers.is_empty() {
        return Err(TaskError::NoWorkers);
    }
    let moves = open
        .iter()
        .map(|t| TaskReassigned {
            task_id: t.task_id.clone().into(),
            assign_from: t.assignee_id.clone().into(),
            assign_to: (workers[ctx.rng.random_range(0..workers.len())].clone()).into(),
            shuffle_id: shuffle_id.clone(),
        })
        .collect();
    Ok((shuffle_id, moves))
}

/// The open tasks of `user_id`, each handed to a uniformly random active worker other than
/// them: for a worker who leaves (`user deactivate`) or stops being a worker (`user
/// set-role`), since only workers are assigned tasks (DESIGN §5). Accounting charges each
/// new assignee the task's fee, as for a shuffle. Exit 5 when there are open tasks and no
/// other worker to take them. Returns the moves with the tasks they move, in task order.
/// `open`: the user's open tasks; `workers`: the active workers ([`worker_ids`]).
pub fn decide_hand_over(
    open: Vec<Task>,
    workers: &[String],
    user_id: &str,
    ctx: &mut Context<'_>,
) -> Result<Vec<(Task, TaskReassigned)>, TaskError> {
    let others: Vec<String> = workers.iter().filter(|w| *w != user_id).cloned().collect();
    if !open.is_empty() && others.is_empty() {
        return Err(TaskError::NoWorkerToHandOverTo(open.len()));
    }
    let (_, moves) = decide_shuffle(&open, &others, ctx)?;
    Ok(open.into_iter().zip(moves).collect())
}

/// What a key already did: the request it was used for and, per row, the task made and its
/// first assignee.
#[derive(Debug, Default)]
pub struct KeyedRequest {
    pub request_sha256: String,
    pub rows: std::collections::BTreeMap<u64, (String, String)>,
}

/// Checks an idempotency key: 1 to 200 characters, none of them control or invisible.
pub fn validate_idempotency_key(key: &str) -> Result<(), TaskError> {
    if key.is_empty() || key.chars().count() > 200 || key.chars().any(crate::text::is_forbidden) {
        return Err(TaskError::BadIdempotencyKey);
    }
    Ok(())
}

/// The SHA-256 (hex) of a request: its kind and its parts, each length-prefixed.
pub fn request_sha256(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    crate::auth::hex(&h.finalize())
}

/// What `user_id`'s `key` already did (`None`: never used). Keys are each user's own: the
/// same key from another user is another key (as a payment API scopes keys to an account).
/// The same key with another request is a conflict (exit 5, CLI.md `--idempotency-key`).
pub fn keyed_request(
    db: &Connection,
    user_id: &str,
    key: &str,
    request_sha256: &str,
) -> Result<Option<KeyedRequest>> {
    let mut stmt = db
        .prepare_cached(
            "SELECT row, request_sha256, task_id, assignee_id FROM idempotency_keys
             WHERE user_id = ?1 AND key = ?2",
        )
        .map_err(db_error)?;
    let rows: Vec<(i64, String, String, String)> = stmt
        .query_map([user_id, key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .and_then(|m| m.collect())
        .map_err(db_error)?;
    Ok(decide_key(rows, key, request_sha256)?)
}

/// What a key's recorded `rows` (row, request hash, task, first assignee) say of a request
/// with `request_sha256`: nothing yet, the same request again, or a conflict.
pub fn decide_key(
    rows: Vec<(i64, String, String, String)>,
    key: &str,
    request_sha256: &str,
) -> Result<Option<KeyedRequest>, TaskError> {
    let Some((_, first_hash, _, _)) = rows.first() else {
        return Ok(None);
    };
    if first_hash != request_sha256 {
        return Err(TaskError::IdempotencyKeyReused(key.to_owned()));
    }
    let mut out = KeyedRequest {
        request_sha256: first_hash.clone(),
        ..Default::default()
    };
    for (row, _, task, assignee) in rows {
        out.rows.insert(row as u64, (task, assignee));
    }
    Ok(Some(out))
}

/// The active workers, by id: whom a new or shuffled task may be given (DESIGN §5), from
/// this context's copy of the users.
pub fn worker_ids(db: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        db.prepare_cached("SELECT user_id FROM assignees WHERE role = 'worker' AND active ORDER BY user_id")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// Who may see a task: its assignee, and admins, managers and accountants.
pub fn may_see(task: &Task, actor: &Actor) -> bool {
    task.assignee_id == actor.user.user_id || actor.is(&[Role::Admin, Role::Manager, Role::Accountant])
}

#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<TaskStatus>,
    pub assignee_id: Option<String>,
}

const TASK_SELECT: &str =
    "SELECT t.task_id, t.number, t.title, t.jira_id, t.description, t.status, t.assignee_id,
    u.login, t.assign_fee, t.reward, t.created_at, t.completed_at
    FROM tasks t JOIN assignees u ON u.user_id = t.assignee_id";

fn task_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
    let status: String = r.get(5)?;
    Ok(Task {
        task_id: r.get(0)?,
        number: r.get(1)?,
        title: r.get(2)?,
        jira_id: r.get(3)?,
        description: r.get(4)?,
        status: if status == "done" {
            TaskStatus::Done
        } else {
            TaskStatus::Open
        },
        assignee_id: r.get(6)?,
        assignee: r.get(7)?,
        assign_fee: r.get(8)?,
        reward: r.get(9)?,
        created_at: r.get(10)?,
        completed_at: r.get(11)?,
    })
}

pub fn list(db: &Connection, f: &Filter) -> rusqlite::Result<Vec<Task>> {
    let sql = format!(
        "{TASK_SELECT} WHERE (?1 IS NULL OR t.status = ?1) AND (?2 IS NULL OR t.assignee_id = ?2) ORDER BY t.number"
    );
    let mut stmt = db.prepare_cached(&sql)?;
    stmt.query_map((f.status.map(|s| s.as_str()), &f.assignee_id), task_from_row)?
        .collect()
}

/// A task by its number (`12`, `#12`) or its id.
pub fn find(db: &Connection, key: &str) -> Result<Task> {
    let key = key.trim().trim_start_matches('#');
    let found = if let Ok(n) = key.parse::<i64>() {
        db.prepare_cached(&format!("{TASK_SELECT} WHERE t.number = ?1"))
            .and_then(|mut s| s.query_row([n], task_from_row).optional())
    } else {
        db.prepare_cached(&format!("{TASK_SELECT} WHERE t.task_id = ?1"))
            .and_then(|mut s| s.query_row([key], task_from_row).optional())
    };
    Ok(found
        .map_err(db_error)?
        .ok_or_else(|| TaskError::NoTask(key.to_owned()))?)
}

#[cfg(test)]
mod rules {
    use super::*;
    use crate::events::TaskCreated;
    use crate::testkit::Given;

    fn task(g: &mut Given, assignee: &str) -> TaskCreated {
        let t = TaskCreated {
            task_id: format!("task-{}", rand::RngExt::random::<u64>(&mut g.rng)).into(),
            title: "T".into(),
            jira_id: None,
            description: None,
            assignee_id: format!("id-{assignee}").into(),
            assign_fee: crate::money::Money(1500),
            reward: crate::money::Money(3000),
        };
        g.apply(&t);
        t
    }

    fn actor(login: &str, role: Role) -> Actor {
        let user = crate::auth::User {
            user_id: format!("id-{login}"),
            login: login.into(),
            name: None,
            email: None,
            role,
            notify: crate::events::Notify::None,
            active: true,
        };
        Actor {
            user,
            credential_id: "c".into(),
            credential_kind: "session".into(),
            expires_at: None,
        }
    }

    #[test]
    fn given_no_worker_when_a_task_is_created_then_it_is_refused() {
        let mut g = Given::new().user("boss", Role::Manager);
        let input = NewTask {
            title: "T".into(),
            ..Default::default()
        };
        let workers = worker_ids(g.store(STORE)).unwrap();
        let err = decide_create(&workers, input, &mut Context::new(g.now, &mut g.rng)).unwrap_err();
        assert_eq!(err, TaskError::NoWorkers);
    }

    #[test]
    fn given_workers_when_tasks_are_created_then_each_is_priced_in_range_and_given_to_a_random_worker() {
        let mut g = Given::new()
            .user("w1", Role::Worker)
            .user("w2", Role::Worker)
            .user("boss", Role::Manager);
        let mut seen = std::collections::BTreeSet::new();
        let (mut fees, mut rewards) = (
            std::collections::BTreeSet::new(),
            std::collections::BTreeSet::new(),
        );
        for _ in 0..300 {
            let input = NewTask {
                title: "T".into(),
                ..Default::default()
            };
            let workers = worker_ids(g.store(STORE)).unwrap();
            let t = decide_create(&workers, input, &mut Context::new(g.now, &mut g.rng)).unwrap();
            assert!(
                ["id-w1", "id-w2"].contains(&t.assignee_id.as_str()),
                "{}",
                t.assignee_id
            );
            assert!((1000..=2000).contains(&t.assign_fee.0) && t.assign_fee.0 % 100 == 0);
            assert!((2000..=4000).contains(&t.reward.0) && t.reward.0 % 100 == 0);
            seen.insert(t.assignee_id);
            fees.insert(t.assign_fee);
            rewards.insert(t.reward);
        }
        assert_eq!(seen.len(), 2, "both workers get tasks");
        assert_eq!(fees.len(), 11, "every fee from 10 to 20 occurs");
        assert_eq!(rewards.len(), 21, "every reward from 20 to 40 occurs");
    }

    #[test]
    fn given_an_open_task_when_its_assignee_finishes_it_then_it_is_done_and_no_one_else_may() {
        let mut g = Given::new().user("w1", Role::Worker).user("w2", Role::Worker);
        let t = task(&mut g, "w1");
        let found = find(g.store(STORE), &t.task_id).unwrap();
        assert!(matches!(
            decide_done(&found, &actor("w2", Role::Worker)),
            Err(TaskError::NotAssignee { .. })
        ));
        assert!(matches!(
            decide_done(&found, &actor("admin", Role::Admin)),
            Err(TaskError::NotAssignee { .. })
        ));
        let change = decide_done(&found, &actor("w1", Role::Worker)).unwrap();
        assert_eq!(
            change,
            TaskStatusChanged {
                task_id: t.task_id.clone(),
                from: TaskStatus::Open,
                to: TaskStatus::Done
            }
        );
        g.apply(&change);
        let done = find(g.store(STORE), &t.task_id).unwrap();
        assert_eq!(
            decide_done(&done, &actor("w1", Role::Worker)),
            Err(TaskError::AlreadyDone(done.number))
        );
    }

    #[test]
    fn given_open_and_done_tasks_when_shuffled_then_every_open_task_and_only_those_move() {
        let mut g = Given::new()
            .user("w1", Role::Worker)
            .user("w2", Role::Worker)
            .user("boss", Role::Manager);
        let created: Vec<_> = (0..3).map(|_| task(&mut g, "w1")).collect();
        let done = task(&mut g, "w2");
        g.apply(&TaskStatusChanged {
            task_id: done.task_id.clone(),
            from: TaskStatus::Open,
            to: TaskStatus::Done,
        });
        let open = list(
            g.store(STORE),
            &Filter {
                status: Some(TaskStatus::Open),
                assignee_id: None,
            },
        )
        .unwrap();
        let workers = worker_ids(g.store(STORE)).unwrap();
        let (shuffle_id, moves) =
            decide_shuffle(&open, &workers, &mut Context::new(g.now, &mut g.rng)).unwrap();
        assert_eq!(moves.len(), 3);
        let moved: Vec<_> = moves.iter().map(|m| m.task_id.clone()).collect();
        for t in &created {
            assert!(moved.contains(&t.task_id));
        }
        assert!(!moved.contains(&done.task_id));
        assert!(
            moves
                .iter()
                .all(|m| m.shuffle_id == shuffle_id && m.assign_from == "id-w1")
        );
        assert!(
            moves
                .iter()
                .all(|m| ["id-w1", "id-w2"].contains(&m.assign_to.as_str()))
        );
    }

    #[test]
    fn titles_are_checked() {
        let ok = NewTask {
            title: "  Fix beak ".into(),
            jira_id: Some("POP-42".into()),
            description: None,
        }
        .validated()
        .unwrap();
        assert_eq!(ok.title, "Fix beak");
        for (title, jira, why) in [
            ("", None, TaskError::EmptyTitle),
            ("[POP-1] x", None, TaskError::TitleBracket),
            ("a]b", None, TaskError::TitleBracket),
            ("x\u{1b}", None, TaskError::TitleForbiddenCharacter),
            ("ok", Some("42"), TaskError::BadJiraId("42".into())),
            ("ok", Some("pop-1"), TaskError::BadJiraId("pop-1".into())),
        ] {
            let r = NewTask {
                title: title.into(),
                jira_id: jira.map(Into::into),
                description: None,
            }
            .validated();
            assert_eq!(r, Err(why), "{title:?} {jira:?}");
        }
        assert!(
            NewTask {
                title: "x".repeat(MAX_TITLE),
                ..Default::default()
            }
            .validated()
            .is_ok()
        );
        assert_eq!(
            NewTask {
                title: "x".repeat(MAX_TITLE + 1),
                ..Default::default()
            }
            .validated(),
            Err(TaskError::TitleTooLong)
        );
    }

    #[test]
    fn a_worker_who_leaves_hands_over_only_their_open_tasks_and_never_to_themselves() {
        let mut g = Given::new().user("w1", Role::Worker).user("w2", Role::Worker);
        let mine: Vec<_> = (0..3).map(|_| task(&mut g, "w1")).collect();
        let open = list(
            g.store(STORE),
            &Filter {
                status: Some(TaskStatus::Open),
                assignee_id: Some("id-w1".into()),
            },
        )
        .unwrap();
        let workers = worker_ids(g.store(STORE)).unwrap();
        let moves = decide_hand_over(open, &workers, "id-w1", &mut Context::new(g.now, &mut g.rng)).unwrap();
        assert_eq!(moves.len(), mine.len());
        assert!(
            moves
                .iter()
                .all(|(_, m)| m.assign_from == "id-w1" && m.assign_to == "id-w2")
        );
        // the last worker cannot leave open tasks to no one
        let open = vec![find(g.store(STORE), &mine[0].task_id).unwrap()];
        assert_eq!(
            decide_hand_over(
                open,
                &["id-w1".into()],
                "id-w1",
                &mut Context::new(g.now, &mut g.rng)
            )
            .unwrap_err(),
            TaskError::NoWorkerToHandOverTo(1)
        );
    }
}
