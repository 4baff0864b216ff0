//! `tasks`: every task with its price, status and current assignee; `idempotency_keys`;
//! and the context's own copies: `assignees` (every user, with role and whether active:
//! whom a task may be given, and their logins) and `tasks_calendar` (the timezone).

use popug_ledger::{BoxError, Event, Projection, Replay};
use rusqlite::{Connection, Statement};

use crate::events::{IdempotencyKeyUsed, TaskCreated, TaskReassigned, TaskStatusChanged};
use crate::events::{PopugEvent, decode};
use crate::scheduler::CalendarCopy;

/// The tasks context's copy of the ledger's timezone (completion days).
pub const CALENDAR: CalendarCopy = CalendarCopy::new("tasks_calendar");

pub struct Tasks;

impl Projection for Tasks {
    fn name(&self) -> &str {
        "tasks.tasks"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE tasks (task_id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, title TEXT NOT NULL,
                 jira_id TEXT, description TEXT, status TEXT NOT NULL, assignee_id TEXT NOT NULL,
                 assign_fee INTEGER NOT NULL, reward INTEGER NOT NULL, created_at TEXT NOT NULL,
                 completed_at TEXT, completed_on TEXT, reassignments INTEGER NOT NULL DEFAULT 0) STRICT, WITHOUT ROWID;
             CREATE INDEX tasks_completed_on ON tasks (completed_on, reward) WHERE completed_on IS NOT NULL;
             CREATE INDEX tasks_open ON tasks (status, assignee_id);
             CREATE TABLE idempotency_keys (user_id TEXT NOT NULL, key TEXT NOT NULL, row INTEGER NOT NULL,
                 request_sha256 TEXT NOT NULL, task_id TEXT NOT NULL, assignee_id TEXT NOT NULL,
                 PRIMARY KEY (user_id, key, row)) STRICT, WITHOUT ROWID;
             CREATE TABLE assignees (user_id TEXT PRIMARY KEY, login TEXT NOT NULL, role TEXT NOT NULL,
                 active INTEGER NOT NULL DEFAULT 1) STRICT;",
        )?;
        CALENDAR.migrate(db)
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            PopugEvent::TaskCreated(t) => {
                let number: i64 = db
                    .prepare_cached("SELECT COALESCE(MAX(number), 0) + 1 FROM tasks")?
                    .query_row([], |r| r.get(0))?;
                insert_task(&mut *db.prepare_cached(INSERT_TASK)?, event, t, number)?;
            }
            PopugEvent::TaskStatusChanged(e) => {
                // the calendar day of completion, in the ledger's timezone
                let tz = CALENDAR.timezone(db)?;
                change_status(&mut *db.prepare_cached(CHANGE_STATUS)?, event, e, &tz)?;
            }
            PopugEvent::TaskReassigned(e) => reassign(&mut *db.prepare_cached(REASSIGN)?, e)?,
            PopugEvent::IdempotencyKeyUsed(e) => key_used(db, &event.actor, e)?,
            _ => people(db, event)?,
        }
        Ok(())
    }

    fn replay<'db>(&self, db: &'db Connection) -> rusqlite::Result<Option<Box<dyn Replay + 'db>>> {
        Ok(Some(Box::new(TasksReplay {
            insert: db.prepare(INSERT_TASK)?,
            change_status: db.prepare(CHANGE_STATUS)?,
            reassign: db.prepare(REASSIGN)?,
            tasks: 0,
            timezone: None,
        })))
    }
}

const INSERT_TASK: &str =
    "INSERT INTO tasks (task_id, number, title, jira_id, description, status, assignee_id,
         assign_fee, reward, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?9)";
const CHANGE_STATUS: &str =
    "UPDATE tasks SET status = ?2, completed_at = ?3, completed_on = ?4 WHERE task_id = ?1";
const REASSIGN: &str =
    "UPDATE tasks SET assignee_id = ?2, reassignments = reassignments + 1 WHERE task_id = ?1";

/// Inserts the task of a `TaskCreated` as the `number`-th task.
fn insert_task(
    stmt: &mut Statement<'_>,
    event: &Event,
    t: &TaskCreated,
    number: i64,
) -> Result<(), BoxError> {
    let at = popug_ledger::line::format_at(&event.at);
    stmt.execute((
        &t.task_id,
        number,
        &t.title,
        &t.jira_id,
        &t.description,
        &t.assignee_id,
        t.assign_fee,
        t.reward,
        at,
    ))?;
    Ok(())
}

fn change_status(
    stmt: &mut Statement<'_>,
    event: &Event,
    e: &TaskStatusChanged,
    timezone: &str,
) -> Result<(), BoxError> {
    let on = crate::zone::day_of(&event.at, timezone).to_string();
    stmt.execute((
        &e.task_id,
        e.to.as_str(),
        popug_ledger::line::format_at(&event.at),
        on,
    ))?;
    Ok(())
}

fn reassign(stmt: &mut Statement<'_>, e: &TaskReassigned) -> Result<(), BoxError> {
    stmt.execute((&e.task_id, &e.assign_to))?;
    Ok(())
}

/// The replay's fold: the task count gives the next number (tasks are never deleted, so it
/// is the greatest number) and the ledger's timezone is read once it is set (it never
/// changes), instead of a query each; the statements stay prepared.
struct TasksReplay<'db> {
    insert: Statement<'db>,
    change_status: Statement<'db>,
    reassign: Statement<'db>,
    tasks: i64,
    timezone: Option<String>,
}

impl Replay for TasksReplay<'_> {
    fn apply(&mut self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            PopugEvent::TaskCreated(t) => {
                insert_task(&mut self.insert, event, t, self.tasks + 1)?;
                self.tasks += 1;
            }
            PopugEvent::TaskStatusChanged(e) => {
                if self.timezone.is_none() {
                    self.timezone = CALENDAR.configured(db)?;
                }
                let tz = self
                    .timezone
                    .as_deref()
                    .unwrap_or(crate::scheduler::DEFAULT_TIMEZONE);
                change_status(&mut self.change_status, event, e, tz)?;
            }
            PopugEvent::TaskReassigned(e) => reassign(&mut self.reassign, e)?,
            PopugEvent::IdempotencyKeyUsed(e) => key_used(db, &event.actor, e)?,
            _ => people(db, event)?,
        }
        Ok(())
    }
}

/// Keeps the context's copy of the people tasks may be given to (and the calendar): every
/// user with their login, current role and whether they are active.
fn people(db: &Connection, event: &Event) -> Result<(), BoxError> {
    match decode(event)? {
        PopugEvent::UserCreated(u) => {
            db.prepare_cached("INSERT INTO assignees (user_id, login, role) VALUES (?1, ?2, ?3)")?
                .execute((&u.user_id, &u.login, u.role.as_str()))?;
        }
        PopugEvent::UserRoleChanged(e) => {
            db.prepare_cached("UPDATE assignees SET role = ?2 WHERE user_id = ?1")?
                .execute((&e.user_id, e.to.as_str()))?;
        }
        PopugEvent::UserDeactivated(e) => {
            db.prepare_cached("UPDATE assignees SET active = 0 WHERE user_id = ?1")?
                .execute([&e.user_id])?;
        }
        _ => CALENDAR.apply(db, event)?,
    }
    Ok(())
}

/// Records a key's row with the task's first assignee (the first answer names them), under
/// the user who sent it: a key is that user's own (two users may pick the same key).
fn key_used(db: &Connection, user_id: &str, e: &IdempotencyKeyUsed) -> Result<(), BoxError> {
    db.prepare_cached(
        "INSERT INTO idempotency_keys (user_id, key, row, request_sha256, task_id, assignee_id)
         SELECT ?1, ?2, ?3, ?4, task_id, assignee_id FROM tasks WHERE task_id = ?5",
    )?
    .execute((user_id, &e.key, e.row as i64, &e.request_sha256, &e.task_id))?;
    Ok(())
}
