//! Contexts as services (DESIGN §8): `popug hand-over CONTEXT…` records that the reactions of
//! those contexts are left to workers, and `popug worker CONTEXT… [--once]` runs them, on any
//! host, until SIGTERM.

use std::time::{Duration, Instant};

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
/// How long a worker whose notifications wait for a Maildir that could not be written waits
/// for new events before it tries them again anyway (guarantee D2): on a quiet ledger no
/// new event may come for hours. Each try that leaves them waiting doubles the wait, up to
/// [`RETRY_MAX`]. Debug builds (the tests) may shorten it with `POPUG_WORKER_RETRY_MS`.
fn retry_after() -> Duration {
    Duration::from_millis(popug_ledger::debug_setting("POPUG_WORKER_RETRY_MS", 5_000))
}
/// The longest wait between two tries of a delivery that keeps failing (a Maildir broken for
/// good is tried, and warned about, every five minutes rather than every five seconds).
const RETRY_MAX: Duration = Duration::from_secs(300);

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
    let mut ledger = env.open_to_write()?;
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
    // the credential first: nothing is made on the cluster for a caller who may not
    let (start, handed, makes_files) = {
        let ledger = env.open()?;
        let actor = session::actor(env, ledger.store(crate::auth::STORE))?;
        actor.require(&[Role::Admin], "running workers")?;
        let mut handed = Vec::new();
        for c in &wanted {
            if crate::handover::is_handed_over(ledger.store(c), c).map_err(internal)? {
                handed.push(c.clone());
            }
        }
        let makes_files: Vec<bool> = wanted.iter().map(|c| ledger.host_side_effects(c)).collect();
        (ledger.head()?, handed, makes_files)
    };
    for (c, makes_files) in wanted
        .iter()
        .zip(makes_files)
        .filter(|(c, _)| !handed.contains(c))
    {
        let files_only_here = env.shared.is_some() && makes_files;
        eprintln!(
            "note: {c} is not handed over: {} (`popug hand-over {c}` leaves them to workers)",
            if files_only_here {
                "on a JetStream ledger only workers make its files, so commands leave it alone anyway"
            } else {
                "commands run its reactions too"
            }
        );
    }
    // one worker per context across the cluster: two on two hosts would each write the
    // same payout or message into their own files
    let leases = match &env.shared {
        Some(_) => Some(Leases::take(env, &wanted, &interrupt)?),
        None => None,
    };
    let mut follow = env.connect()?;
    if let Some(log) = &mut follow {
        // following starts before the first catch-up: no message falls in between
        log.follow(&format!("popug-worker-{}", wanted.join("-")))?;
    }
    let as_worker = Env {
        worker: Some(wanted.clone()),
        ..env.clone()
    };
    let mut head = start;
    let mut appended = 0u64;
    // the messages that woke the worker, acknowledged once the batch after them is done
    let mut unacked = Vec::new();
    // when deliveries wait (deferred), the next batch comes by then even if no event does;
    // the wait doubles while they keep waiting
    let mut retry_at: Option<Instant> = None;
    let mut retry_wait = retry_after();
    let result = (|| -> Result<()> {
        loop {
            if let Some(leases) = &leases {
                leases.still_held()?;
            }
            // one batch: catch up and run this worker's reactions, all or nothing per round
            match as_worker.open() {
                Ok(mut ledger) => {
                    // what it deferred is tried again in every batch, new events or not. An
                    // open runs a write session (and with it the worker's retries) when
                    // there is something to catch up, and always on a shared log; a file
                    // ledger's open with nothing new writes nothing, so it asks for one
                    if env.shared.is_none() && ledger.head()? == head && deferred_waiting(&ledger, &wanted)? {
                        ledger.catch_up()?;
                    }
                    let now = ledger.head()?;
                    appended += reactions_of(&ledger, head, now, &wanted)?;
                    head = now;
                    retry_at = if deferred_waiting(&ledger, &wanted)? {
                        let at = Instant::now() + retry_wait;
                        retry_wait = (retry_wait * 2).min(RETRY_MAX);
                        Some(at)
                    } else {
                        retry_wait = retry_after();
                        None
                    };
                }
                // a cluster restarting, a leader being elected: the worker waits it out
                Err(e) if !once && e.code == "ledger_unavailable" => {
                    eprintln!("warning: {}; trying again in a second", e.message);
                    std::thread::sleep(Duration::from_secs(1));
                    if interrupt.caught() {
                        return Ok(());
                    }
                    continue;
                }
                Err(e) => return Err(e),
            }
            // a running worker prints what each batch delivered as it goes
            if !once {
                crate::cli::session::print_deliveries(out, env)?;
            }
            if let Some(log) = &mut follow
                && let Err(e) = log.ack(std::mem::take(&mut unacked))
            {
                // not acknowledged: delivered again later, and the batch then finds nothing to do
                eprintln!("warning: {e}");
            }
            if once || interrupt.caught() {
                return Ok(());
            }
            match &mut follow {
                Some(log) => match wait(log, &interrupt, retry_at) {
                    Ok(messages) => unacked = messages,
                    Err(e) if e.code == "ledger_unavailable" => {
                        eprintln!("warning: {}; trying again in a second", e.message);
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    Err(e) => return Err(e),
                },
                None => {
                    let log = as_worker.ledger_dir.join(popug_ledger::EVENTS_FILE);
                    let seen = std::fs::metadata(&log)?.len();
                    while !interrupt.caught()
                        && std::fs::metadata(&log)?.len() == seen
                        && retry_at.is_none_or(|at| Instant::now() < at)
                    {
                        std::thread::sleep(POLL);
                    }
                }
            }
            if interrupt.caught() {
                return Ok(());
            }
        }
    })();
    if let Some(leases) = leases {
        leases.release();
    }
    result?;
    out.report(&Answer::new(
        json!({"contexts": wanted, "head": head.seq, "appended": appended}),
        vec![format!(
            "worker {}: caught up to seq {}; its reactions appended {appended} events",
            wanted.join(" "),
            head.seq
        )],
    ))
}

/// A worker's leases on its contexts (one worker per context across the cluster), renewed
/// every [`RENEW`] by a thread with its own connection, so that a long batch never lets
/// them lapse; the worker checks [`Leases::still_held`] between batches.
struct Leases {
    lost: std::sync::Arc<std::sync::Mutex<Option<popug_ledger::LedgerError>>>,
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// How often a worker renews its leases (they lapse after `LEASE_TTL` without renewal).
const RENEW: Duration = Duration::from_secs(2);

impl Leases {
    /// Takes the lease of each context, waiting (up to the leases' lifetime and a little
    /// more) for the one of a worker that died to lapse; a lease still renewed by a live
    /// worker after that is exit 5 `worker_running`.
    fn take(env: &Env, contexts: &[String], interrupt: &popug_ledger::Interrupt) -> Result<Leases> {
        let mut log = env.connect()?.expect("a JetStream ledger");
        let holder = format!("{} (pid {})", host_name(), std::process::id());
        let deadline =
            std::time::Instant::now() + popug_ledger::jetstream::LEASE_TTL + Duration::from_secs(5);
        let mut held = Vec::new();
        for c in contexts {
            let key = format!("worker-{c}");
            let mut said = false;
            let lease = loop {
                match log.take_lease(&key, &holder) {
                    Ok(lease) => break lease,
                    Err(popug_ledger::LedgerError::Leased { holder: other, .. })
                        if std::time::Instant::now() < deadline && !interrupt.caught() =>
                    {
                        if !said {
                            eprintln!(
                                "note: the worker of {c} is {other}; waiting for its lease to lapse if it died"
                            );
                            said = true;
                        }
                        std::thread::sleep(Duration::from_millis(500));
                    }
                    Err(e) => {
                        for lease in held {
                            log.release_lease(lease);
                        }
                        return Err(AppError::from(e).hint(format!(
                            "one `popug worker {c}` at a time across the cluster: stop the other one first"
                        )));
                    }
                }
            };
            held.push(lease);
        }
        let lost = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let flag = lost.clone();
        let thread = std::thread::spawn(move || {
            let mut held = held;
            loop {
                match stopped.recv_timeout(RENEW) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        for lease in &mut held {
                            if let Err(e) = log.renew_lease(lease) {
                                // a cluster that is briefly away is waited out by the next
                                // renewal; a lease someone else holds is lost for good
                                if matches!(e, popug_ledger::LedgerError::Leased { .. }) {
                                    *flag.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                                    return;
                                }
                            }
                        }
                    }
                    _ => {
                        for lease in held {
                            log.release_lease(lease);
                        }
                        return;
                    }
                }
            }
        });
        Ok(Leases { lost, stop, thread })
    }

    /// Exit 5 when a lease was lost (this worker stalled past its lifetime and another took
    /// over): it must not go on making side effects.
    fn still_held(&self) -> Result<()> {
        match self.lost.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Gives the leases back (a clean stop: the next worker need not wait).
    fn release(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// This machine's name, for the holder of a worker's lease.
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown host".into()
    }
}

/// Waits for new messages of the shared log, a second at a time, until some come, a signal
/// does, or the instant `until` (deferred deliveries to try again) passes.
fn wait(
    log: &mut JetStreamLog,
    interrupt: &popug_ledger::Interrupt,
    until: Option<Instant>,
) -> Result<Vec<popug_ledger::jetstream::Message>> {
    loop {
        let left = until.map_or(WAIT, |at| at.saturating_duration_since(Instant::now()).min(WAIT));
        let messages = log.wait_for_messages(left)?;
        if !messages.is_empty() || interrupt.caught() || until.is_some_and(|at| Instant::now() >= at) {
            return Ok(messages);
        }
    }
}

/// Whether this worker runs the notifications context and some of its notifications wait
/// for a Maildir that could not be written (`notifications_deferred`).
fn deferred_waiting(ledger: &popug_ledger::Ledger, wanted: &[String]) -> Result<bool> {
    if !wanted.iter().any(|c| c == crate::notifications::STORE) {
        return Ok(false);
    }
    crate::notifications::projection::any_deferred(ledger.store(crate::notifications::STORE))
        .map_err(crate::auth::db_error)
}

fn internal(e: popug_ledger::BoxError) -> AppError {
    AppError::new(crate::error::Kind::Failure, "internal", e.to_string())
}

/// How many events after `from` and up to `upto` (positions of `ledger`) were appended by
/// the reactions of `contexts` (their producer is one of those contexts' reactors). What
/// other writers append after `upto` meanwhile is the next batch's to count.
fn reactions_of(
    ledger: &popug_ledger::Ledger,
    from: popug_ledger::Position,
    upto: popug_ledger::Position,
    contexts: &[String],
) -> Result<u64> {
    let mut n = 0;
    for e in ledger.read_from(from)? {
        let e = e?;
        if e.seq > upto.seq {
            break;
        }
        if e.causation_id.is_some() && contexts.contains(&e.producer) {
            n += 1;
        }
    }
    Ok(n)
}
