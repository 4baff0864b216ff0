//! `tasks`: every task with its price, status and current assignee.

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

use crate::events::{Payload, TaskCreated, TaskReassigned, TaskStatusChanged};

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
             CREATE INDEX tasks_open ON tasks (status, assignee_id);",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        let at = || popug_ledger::line::format_at(&event.at);
        match event.event_type.as_str() {
            TaskCreated::TYPE => {
                let t = crate::events::task_created(event)?;
                db.prepare_cached(
                    "INSERT INTO tasks (task_id, number, title, jira_id, description, status, assignee_id,
                         assign_fee, reward, created_at)
                     VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM tasks), ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?8)",
                )?
                .execute((&t.task_id, &t.title, &t.jira_id, &t.description, &t.assignee_id, t.assign_fee, t.reward, at()))?;
            }
            TaskStatusChanged::TYPE => {
                let e: TaskStatusChanged = event.data_as()?;
                // the calendar day of completion, in the ledger's timezone (for analytics)
                let on = crate::money::day_of(&event.at, &crate::accounting::timezone(db)?).to_string();
                db.prepare_cached(
                    "UPDATE tasks SET status = ?2, completed_at = ?3, completed_on = ?4 WHERE task_id = ?1",
                )?
                .execute((&e.task_id, e.to.as_str(), at(), on))?;
            }
            TaskReassigned::TYPE => {
                let e: TaskReassigned = event.data_as()?;
                db.prepare_cached(
                    "UPDATE tasks SET assignee_id = ?2, reassignments = reassignments + 1 WHERE task_id = ?1",
                )?
                .execute((&e.task_id, &e.assign_to))?;
            }
            _ => {}
        }
        Ok(())
    }
}
