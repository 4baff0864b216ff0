//! `popug verify`: the whole log checked, every store replayed and compared, the business
//! invariants checked, on one snapshot (CLI.md, docs/guarantees.md).

use std::time::Instant;

use serde_json::json;

use crate::app::Env;
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::error::{AppError, Kind, Result};

pub fn verify(env: &Env, out: &mut Out) -> Result<()> {
    // a JetStream ledger's replica is synced first: its seed is read from what came
    let mut ledger = env.open_unchecked()?;
    let options = env.options()?;
    let seed = options.seed;
    ledger.set_options(options);
    let bar = out.progress_bar("verifying");
    let b = bar.clone();
    ledger.set_progress(move |done, total| {
        b.set_length(total);
        b.set_position(done);
    });
    let started = Instant::now();
    // the business invariants and the pending deliveries, on verify's own snapshot
    let deferred = std::cell::RefCell::new((0usize, None::<String>));
    let handed = std::cell::RefCell::new(Vec::new());
    let checks = |db: &rusqlite::Connection,
                  caught_up: bool|
     -> std::result::Result<Option<String>, popug_ledger::BoxError> {
        *handed.borrow_mut() = crate::handover::handed_over(db)?;
        let pending = crate::notifications::projection::deferred(db)?;
        *deferred.borrow_mut() = (pending.len(), pending.first().map(|d| d.reason.clone()));
        Ok(crate::invariants::check(db, caught_up)?)
    };
    // a JetStream ledger: a line that does not check in this host's copy is this host's
    // damage when the stream is whole: the copy is made again and checked again
    let report = ledger.verify_or_recopy(checks);
    crate::app::note_recopied(&ledger);
    bar.finish_and_clear();
    let report = report?;
    if let Some(problem) = report.problem.clone() {
        return Err(AppError::new(Kind::Damaged, "invariant_broken", problem)
            .hint("the log itself is intact; report this as a bug with `popug events` attached"));
    }
    let (deferred, first_reason) = deferred.into_inner();
    let elapsed = started.elapsed();
    let document = json!({
        "ok": true,
        "deferred_notifications": deferred,
        "events": report.events,
        "last_seq": report.last.seq,
        "last_hash": report.last.hash.to_string(),
        "projection_lag": report.projection_lag,
        "reaction_lag": report.reaction_lag,
        "torn_bytes": report.torn_bytes,
        "tables_compared": report.tables_compared,
        "stores_missing": report.stores_missing,
        "seed": seed,
        "elapsed_ms": elapsed.as_millis() as u64,
    });
    let mut said = vec![format!(
        "ok: {} events, hash chain intact, seq contiguous (last {} {})",
        report.events,
        report.last.seq,
        &report.last.hash.to_string()[..16]
    )];
    if let Some(seed) = seed {
        said.push(format!(
            "note: this ledger is seeded (POPUG_SEED={seed}): its prices and assignees are reproducible, for tests and demos only"
        ));
    }
    if !report.tables_compared.is_empty() {
        said.push(format!(
            "ok: replaying the log gives exactly the projections ({} tables)",
            report.tables_compared.len()
        ));
    }
    if report.tables_compared.is_empty() {
        said.push(
            "note: a store is missing or from another version; the next command builds it from the log"
                .into(),
        );
    } else if !report.stores_missing.is_empty() {
        said.push(format!(
            "note: the stores {} are missing, unreadable, from another version or not of this log: neither compared nor checked; the next command builds them from the log",
            report.stores_missing.join(", ")
        ));
    }
    let handed = handed.into_inner();
    if report.projection_lag == 0 && report.reaction_lag > 0 && !handed.is_empty() {
        said.push(format!(
            "note: reactions to the last {} events are not all made yet: those of {} are left to `popug worker`, the others to the next command",
            report.reaction_lag,
            handed.join(", ")
        ));
    } else if (report.projection_lag > 0 || report.reaction_lag > 0) && env.shared.is_some() {
        // on a shared log, other hosts' commands are simply not in this host's stores yet
        said.push(format!(
            "note: this host's stores have not applied the last {} events of the shared log yet; the next command here catches them up",
            report.projection_lag.max(report.reaction_lag)
        ));
    } else if report.projection_lag > 0 || report.reaction_lag > 0 {
        said.push(format!(
            "note: an interrupted command left {} events unprojected and {} unreacted; the next command finishes them",
            report.projection_lag, report.reaction_lag
        ));
    }
    if deferred > 0 {
        said.push(format!(
            "note: {deferred} notifications wait for a Maildir that cannot be written (first: {}); later commands deliver them (a worker's next batch, for a context handed to it)",
            crate::text::shown(first_reason.as_deref().unwrap_or("unknown"))
        ));
    }
    if report.torn_bytes > 0 {
        said.push(format!(
            "note: {} bytes of an interrupted write follow the last complete batch; the next command moves them aside",
            report.torn_bytes
        ));
    }
    out.report(&Answer::new(document, said))
}
