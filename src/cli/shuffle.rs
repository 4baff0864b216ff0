//! `popug shuffle`: every open task to a random worker (managers, admins; CLI.md).

use crate::app::Env;
use crate::auth::{self, db_error};
use crate::cli::output::Out;
use crate::cli::session;
use crate::error::Result;
use crate::events::{Payload, Role, TaskStatus};
use crate::money::Money;
use crate::tasks::{self, Filter};

pub fn shuffle(env: &Env, out: &mut Out) -> Result<()> {
    let mut ledger = env.open_to_write()?;
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
    let (shuffle_id, moves) = w.decide(|ctx| tasks::decide_shuffle(&open, &workers, ctx))?;
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
        assign_to: logins.get(m.assign_to.as_str()).map_or("", String::as_str),
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
    Ok(())
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
