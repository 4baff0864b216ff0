//! `popug rebuild`: every store built anew from the log (admins; CLI.md).

use std::time::Instant;

use popug_ledger::Ledger;
use serde_json::json;

use crate::app::{Env, subscribers};
use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::error::Result;
use crate::events::Role;

pub fn rebuild(env: &Env, out: &mut Out) -> Result<()> {
    // opening already rebuilds a missing or outdated database, which lets an admin sign in
    let (ledger, _) = crate::cli::session::signed_in(env, &[Role::Admin], "rebuilding the projections")?;
    drop(ledger);
    let started = Instant::now();
    let bar = out.progress_bar("rebuilding");
    let b = bar.clone();
    let rebuild = |b: indicatif::ProgressBar| -> Result<(Ledger, popug_ledger::RebuildReport)> {
        let progress = move |done, total| {
            b.set_length(total);
            b.set_position(done);
        };
        // a JetStream ledger: its own ledger, whose reactions go to the stream, never a
        // file ledger over this host's copy (that would append to the copy alone)
        if env.shared.is_some() {
            let mut ledger = env.open_unchecked()?;
            ledger.set_options(env.options()?);
            ledger.set_progress(progress);
            let report = ledger.rebuild()?;
            return Ok((ledger, report));
        }
        Ok(Ledger::rebuild_at_with_progress(
            &env.ledger_dir,
            subscribers(&env.ledger_dir),
            env.options()?,
            progress,
        )?)
    };
    // the bar is gone before anything is printed, an error as well as the answer
    let rebuilt = rebuild(b);
    bar.finish_and_clear();
    let (ledger, report) = rebuilt?;
    crate::app::note_recopied(&ledger);
    let elapsed = started.elapsed();
    if let Some(left) = &report.leftover_removed {
        eprintln!(
            "note: removed {}, left by a rebuild that was killed",
            left.display()
        );
    }
    out.report(&Answer::new(
        json!({
            "events": report.events,
            "last_seq": report.last.seq,
            "elapsed_ms": elapsed.as_millis() as u64,
        }),
        vec![format!(
            "rebuilt the stores (views/*.db) from {} events in {:.2}s",
            report.events,
            elapsed.as_secs_f64()
        )],
    ))
}
