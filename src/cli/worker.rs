//! Contexts as services (DESIGN §8): `popug hand-over CONTEXT…` records that the reactions of
//! those contexts are left to workers, and `popug worker CONTEXT… [--once]` runs them, on any
//! host, until SIGTERM.

use std::time::Duration;

use popug_ledger::jetstream::JetStreamLog;
use serde_json::json;

use crate::app::Env;
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::cli::session;
use crate::error::{AppError, Result};
use crate::events::{Payload, ReactionsHandedOver, Role};
use crate::handover::CONTEXTS;

/// How long a worker on a file ledger sleeps between two looks at the log.
const POLL: Duration = Duration::from_millis(200);
/// How long a worker on a JetStream ledger waits for new messages at a time.
const WAIT: Duration = Duration::from_secs(1);

/// The contexts named (`all` for every one), in the order commands run their reactions;
/// an unknown name is exit 2.
fn contexts(names: &[String]) -> Result<Vec<String>> {
    let mut wanted = Vec::new();
    for n in names {
        match n.as_str() {
            "all" => wanted.extend(CONTEXTS),
            c if CONTEXTS.contains(&c) => {
                wanted.push(CONTEXTS[CONTEXTS.iter().position(|x| *x == c).unwrap()])
            }
            other => {
                return Err(AppError::usage(format!(
                    "`{}` is not a context with reactions",
                    crate::text::shown(other)
                ))
                .hint("use accounting, payments, notifications or all"));
            }
        }
    }
    Ok(CONTEXTS
        .iter()
        .filter(|c| wanted.contains(c))
        .map(|c| (*c).to_owned())
        .collect())
}

/// `popug hand-over [CONTEXT…]` (admins): from now on commands leave these contexts'
/// reactions to `popug worker`; without a context, commands run every reaction again.
/// Answers `{"contexts":[…],"changed":bool}`; the same list again writes nothing.
pub fn hand_over(env: &Env, out: &mut Out, names: Vec<String>) -> Result<()> {
    let wanted = contexts(&names)?;
    let mut ledger = env.open()?;
    let mut w = ledger.write(env.clock)?;
    let actor = session::actor(env, w.store(crate::auth::STORE))?;
    actor.require(&[Role::Admin], "handing reactions to workers")?;
    let mut current = Vec::new();
    for c in CONTEXTS {
        if crate::handover::is_handed_over(w.store(c), c).map_err(internal)? {
            current.push(c.to_owned());
        }
    }
    let changed = current != wanted;
    if changed {
        w.append(vec![
            ReactionsHandedOver {
                contexts: wanted.clone(),
            }
            .to_event(&actor.user.user_id),
        ])?;
    }
    let line = if wanted.is_empty() {
        "commands run every reaction themselves".to_owned()
    } else {
        format!(
            "the reactions of {} are left to `popug worker {}`",
            wanted.join(", "),
            wanted.join(" ")
        )
    };
    out.report(&Answer::new(
        json!({"contexts": wanted, "changed": changed}),
        vec![if changed {
            line
        } else {
            format!("unchanged: {line}")
        }],
    ))
}

/// `popug worker CONTEXT… [--once]` (an admin's credential): runs the reactions of those
/// contexts, and only those, whenever the log grows; `--once` catches up and exits. SIGTERM
/// or SIGINT: the batch under way is finished, then exit 0. Answers
/// `{"contexts":[…],"head":SEQ,"appended":N}` (N events its reactions appended).
pub fn worker(env: &Env, out: &mut Out, names: Vec<String>, once: bool) -> Result<()> {
    let wanted = contexts(&names)?;
    if wanted.is_empty() {
        return Err(
            AppError::usage("name the contexts whose reactions this worker runs")
                .hint("e.g. `popug worker notifications`, or `popug worker all`"),
        );
    }
    let interrupt = popug_ledger::Interrupt::catch();
    let consumer = format!("popug-worker-{}", wanted.join("-"));
    // following starts before the first catch-up: no message falls in between
    let mut follow = env.connect()?;
    if let Some(log) = &mut follow {
        log.follow(&consumer)?;
    }
    let (start, handed) = {
        let ledger = env.open()?;
        let actor = session::actor(env, ledger.store(crate::auth::STORE))?;
        actor.require(&[Role::Admin], "running workers")?;
        let mut handed = Vec::new();
        for c in &wanted {
            if crate::handover::is_handed_over(ledger.store(c), c).map_err(internal)? {
                handed.push(c.clone());
            }
        }
        (ledger.head()?.seq, handed)
    };
    for c in wanted.iter().filter(|c| !handed.contains(c)) {
        eprintln!(
            "note: {c} is not handed over: commands run its reactions too (`popug hand-over {c}` leaves them to workers)"
        );
    }
    let as_worker = Env {
        worker: Some(wanted.clone()),
        ..env.clone()
    };
    let mut head = start;
    let mut appended = 0u64;
    loop {
        // one batch: catch up and run this worker's reactions, all or nothing per round
        let before = head;
        let ledger = as_worker.open()?;
        head = ledger.head()?.seq;
        drop(ledger);
        appended += reactions_between(&as_worker, before, head)?;
        if once || interrupt.caught() {
            break;
        }
        match &mut follow {
            Some(log) => {
                let messages = wait(log, &interrupt)?;
                // what they caused is done by the next round; then they are acknowledged
                let ledger = as_worker.open()?;
                let after = ledger.head()?.seq;
                drop(ledger);
                appended += reactions_between(&as_worker, head, after)?;
                head = after;
                log.ack(messages)?;
            }
            None => {
                let log = as_worker.ledger_dir.join(popug_ledger::EVENTS_FILE);
                let seen = std::fs::metadata(&log)?.len();
                while !interrupt.caught() && std::fs::metadata(&log)?.len() == seen {
                    std::thread::sleep(POLL);
                }
            }
        }
        if interrupt.caught() {
            break;
        }
    }
    out.report(&Answer::new(
        json!({"contexts": wanted, "head": head, "appended": appended}),
        vec![format!(
            "worker {}: caught up to seq {head}; its reactions appended {appended} events",
            wanted.join(" ")
        )],
    ))
}

/// Waits for new messages of the shared log, a second at a time, until some come or a
/// signal does.
fn wait(
    log: &mut JetStreamLog,
    interrupt: &popug_ledger::Interrupt,
) -> Result<Vec<popug_ledger::jetstream::Message>> {
    loop {
        let messages = log.wait_for_messages(WAIT)?;
        if !messages.is_empty() || interrupt.caught() {
            return Ok(messages);
        }
    }
}

fn internal(e: popug_ledger::BoxError) -> AppError {
    AppError::new(crate::error::Kind::Failure, "internal", e.to_string())
}

/// How many events between `after` (exclusive) and `upto` were appended by this worker's
/// reactions (their producer is one of its contexts' reactors).
fn reactions_between(env: &Env, after: u64, upto: u64) -> Result<u64> {
    if upto <= after {
        return Ok(0);
    }
    let workers = env.worker.clone().unwrap_or_default();
    let ledger = env.open()?;
    let mut n = 0;
    for e in ledger.read_after(after)? {
        let e = e?;
        if e.seq > upto {
            break;
        }
        if e.causation_id.is_some() && workers.contains(&e.producer) {
            n += 1;
        }
    }
    Ok(n)
}
