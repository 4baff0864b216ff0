//! Another context's own copy of the tasks (DESIGN §3): a context that needs a task's number,
//! title, terms or current assignee (accounting bills them, notifications name them,
//! analytics ranks them) keeps them in a table of its own store, fed by the `TaskCreated`
//! and `TaskReassigned` it receives anyway. The tasks context defines the copy, since the
//! numbering is its rule (a task's number is its place among the tasks created); the table
//! is the caller's, named by it.

use popug_ledger::{BoxError, Event};
use rusqlite::{Connection, Statement};

use crate::events::{PopugEvent, TaskCreated, decode};

/// A copy of the tasks kept in the table `table` of the caller's store: `task_id`, `number`,
/// `title`, `assign_fee` and `reward` (cents), `assignee_id` (the current one).
pub struct TaskCopy {
    table: &'static str,
}

impl TaskCopy {
    pub const fn new(table: &'static str) -> TaskCopy {
        TaskCopy { table }
    }

    /// Creates the table, with the caller's `extra` column definitions (`""`, or
    /// `", completed_on TEXT"`).
    pub fn migrate(&self, db: &Connection, extra: &str) -> rusqlite::Result<()> {
        db.execute_batch(&format!(
            "CREATE TABLE {} (task_id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE,
                 title TEXT NOT NULL, assign_fee INTEGER NOT NULL, reward INTEGER NOT NULL,
                 assignee_id TEXT NOT NULL{extra}) STRICT, WITHOUT ROWID;",
            self.table
        ))
    }

    /// Applies a `TaskCreated` or a `TaskReassigned`; says whether `event` was one.
    pub fn apply(&self, db: &Connection, event: &Event) -> Result<bool, BoxError> {
        match decode(event)? {
            PopugEvent::TaskCreated(t) => {
                let number: i64 = db
                    .prepare_cached(&format!(
                        "SELECT COALESCE(MAX(number), 0) + 1 FROM {}",
                        self.table
                    ))?
                    .query_row([], |r| r.get(0))?;
                insert(&mut *db.prepare_cached(&self.insert_sql())?, t, number)?;
            }
            PopugEvent::TaskReassigned(_) => self.reassign(db, event)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The copy in a replay from the first event: the insert prepared once and the tasks
    /// counted in memory (see `popug_ledger::Projection::replay`).
    pub fn fold<'db>(&self, db: &'db Connection) -> rusqlite::Result<TaskCopyFold<'db>> {
        Ok(TaskCopyFold {
            copy: TaskCopy { table: self.table },
            insert: db.prepare(&self.insert_sql())?,
            tasks: 0,
        })
    }

    fn insert_sql(&self) -> String {
        format!(
            "INSERT INTO {} (task_id, number, title, assign_fee, reward, assignee_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            self.table
        )
    }

    fn reassign(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if let PopugEvent::TaskReassigned(r) = decode(event)? {
            db.prepare_cached(&format!(
                "UPDATE {} SET assignee_id = ?2 WHERE task_id = ?1",
                self.table
            ))?
            .execute((&r.task_id, &r.assign_to))?;
        }
        Ok(())
    }
}

/// A [`TaskCopy`] in a replay.
pub struct TaskCopyFold<'db> {
    copy: TaskCopy,
    insert: Statement<'db>,
    /// The tasks copied so far (the next one's number is one more).
    tasks: i64,
}

impl TaskCopyFold<'_> {
    /// As [`TaskCopy::apply`].
    pub fn apply(&mut self, db: &Connection, event: &Event) -> Result<bool, BoxError> {
        match decode(event)? {
            PopugEvent::TaskCreated(t) => {
                self.tasks += 1;
                insert(&mut self.insert, t, self.tasks)?;
            }
            PopugEvent::TaskReassigned(_) => self.copy.reassign(db, event)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Copies a task as the `number`-th.
fn insert(stmt: &mut Statement<'_>, t: &TaskCreated, number: i64) -> rusqlite::Result<()> {
    stmt.execute((
        &t.task_id,
        number,
        &t.title,
        t.assign_fee,
        t.reward,
        &t.assignee_id,
    ))?;
    Ok(())
}
