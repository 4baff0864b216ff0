//! Maintenance commands on the ledger itself: `events`, `verify`, `rebuild`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use clap::Args;
use popug_ledger::{Ledger, LogReader, Position};
use serde_json::json;

use crate::app::{Env, subscribers};
use crate::cli::output::Out;
use crate::error::{AppError, Kind, Result};
use crate::events::Role;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events after this seq (pass the last seq you have seen)
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub since: u64,
    /// Only events of this type (e.g. UserCreated); may be repeated
    #[arg(long = "type", value_name = "T")]
    pub types: Vec<String>,
    /// Keep printing new events as they are appended (until interrupted)
    #[arg(long)]
    pub follow: bool,
}

/// Prints each committed line exactly as it is stored. A second reader walks the file in
/// step with the checking reader, so what is printed is the stored bytes, never a
/// re-serialization, and only lines the checking reader accepted.
pub fn events(env: &Env, out: &mut Out, args: EventsArgs) -> Result<()> {
    let (ledger, _) = crate::cli::session::signed_in(env, &[Role::Admin], "reading the event log")?;
    let path = ledger.events_path().to_owned();
    let mut raw = BufReader::new(File::open(&path)?);
    let mut line = Vec::new();
    let mut from = Position::GENESIS;
    loop {
        let mut reader = LogReader::open(&path, from)?;
        for item in reader.by_ref() {
            let (event, _) = item?;
            line.clear();
            raw.read_until(b'\n', &mut line)?;
            if event.seq > args.since && (args.types.is_empty() || args.types.contains(&event.event_type)) {
                out.raw(&redact_password_hashes(&line))?;
            }
        }
        from = reader.position();
        if !args.follow {
            return Ok(());
        }
        out.flush()?;
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The key whose value `events` never shows (CLI.md): an argon2 hash can be attacked offline.
const PASSWORD_HASH_KEY: &[u8] = b"\"password_hash\":\"";

/// `line` with every `"password_hash":"…"` value shown as `"<redacted>"`. The key can only
/// appear unescaped as a key: inside a JSON string its quotes are escaped.
fn redact_password_hashes(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let find = |hay: &[u8]| {
        hay.windows(PASSWORD_HASH_KEY.len())
            .position(|w| w == PASSWORD_HASH_KEY)
    };
    if find(line).is_none() {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = Vec::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = find(rest) {
        let value = at + PASSWORD_HASH_KEY.len();
        out.extend_from_slice(&rest[..value]);
        out.extend_from_slice(b"<redacted>");
        // a PHC string holds no quote or backslash; stop at the closing quote
        let end = rest[value..]
            .iter()
            .position(|&b| b == b'"')
            .map_or(rest.len(), |n| value + n);
        rest = &rest[end..];
    }
    out.extend_from_slice(rest);
    std::borrow::Cow::Owned(out)
}

pub fn verify(env: &Env, out: &mut Out) -> Result<()> {
    let options = env.options()?;
    let seed = options.seed;
    let mut ledger = Ledger::open_unchecked(&env.ledger_dir, subscribers(&env.ledger_dir), options)?;
    let bar = out.progress_bar("verifying");
    let b = bar.clone();
    ledger.set_progress(move |done, total| {
        b.set_length(total);
        b.set_position(done);
    });
    let started = Instant::now();
    // the business invariants and the pending deliveries, on verify's own snapshot
    let deferred = std::cell::RefCell::new((0usize, None::<String>));
    let report = ledger.verify_with(|db, caught_up| {
        let pending = crate::notifications::projection::deferred(db)?;
        *deferred.borrow_mut() = (pending.len(), pending.first().map(|d| d.reason.clone()));
        Ok(crate::invariants::check(db, caught_up)?)
    });
    bar.finish_and_clear();
    let report = report?;
    if let Some(problem) = report.problem.clone() {
        return Err(AppError::new(Kind::Damaged, "invariant_broken", problem)
            .hint("the log itself is intact; report this as a bug with `popug events` attached"));
    }
    let (deferred, first_reason) = deferred.into_inner();
    let elapsed = started.elapsed();
    if out.is_document() {
        return out.json(&json!({
            "ok": true,
            "deferred_notifications": deferred,
            "events": report.events,
            "last_seq": report.last.seq,
            "last_hash": report.last.hash.to_string(),
            "projection_lag": report.projection_lag,
            "reaction_lag": report.reaction_lag,
            "torn_bytes": report.torn_bytes,
            "tables_compared": report.tables_compared,
            "seed": seed,
            "elapsed_ms": elapsed.as_millis() as u64,
        }));
    }
    out.line(&format!(
        "ok: {} events, hash chain intact, seq contiguous (last {} {})",
        report.events,
        report.last.seq,
        &report.last.hash.to_string()[..16]
    ))?;
    if let Some(seed) = seed {
        out.line(&format!(
            "note: this ledger is seeded (POPUG_SEED={seed}): its prices and assignees are reproducible, for tests and demos only"
        ))?;
    }
    if report.tables_compared.is_empty() {
        out.line(
            "note: a store is missing or from another version; the next command builds it from the log",
        )?;
    } else {
        out.line(&format!(
            "ok: replaying the log gives exactly the projections ({} tables)",
            report.tables_compared.len()
        ))?;
    }
    if report.projection_lag > 0 || report.reaction_lag > 0 {
        out.line(&format!(
            "note: an interrupted command left {} events unprojected and {} unreacted; the next command finishes them",
            report.projection_lag, report.reaction_lag
        ))?;
    }
    if deferred > 0 {
        out.line(&format!(
            "note: {deferred} notifications wait for a Maildir that cannot be written (first: {}); later commands deliver them",
            crate::text::shown(first_reason.as_deref().unwrap_or("unknown"))
        ))?;
    }
    if report.torn_bytes > 0 {
        out.line(&format!(
            "note: {} bytes of an interrupted write follow the last complete batch; the next command moves them aside",
            report.torn_bytes
        ))?;
    }
    Ok(())
}

pub fn rebuild(env: &Env, out: &mut Out) -> Result<()> {
    // opening already rebuilds a missing or outdated database, which lets an admin sign in
    let (ledger, _) = crate::cli::session::signed_in(env, &[Role::Admin], "rebuilding the projections")?;
    drop(ledger);
    let started = Instant::now();
    let bar = out.progress_bar("rebuilding");
    let b = bar.clone();
    let rebuilt = Ledger::rebuild_at_with_progress(
        &env.ledger_dir,
        subscribers(&env.ledger_dir),
        env.options()?,
        move |done, total| {
            b.set_length(total);
            b.set_position(done);
        },
    );
    bar.finish_and_clear();
    let (_, report) = rebuilt?;
    let elapsed = started.elapsed();
    if let Some(left) = &report.leftover_removed {
        eprintln!(
            "note: removed {}, left by a rebuild that was killed",
            left.display()
        );
    }
    if out.is_document() {
        return out.json(&json!({
            "events": report.events,
            "last_seq": report.last.seq,
            "elapsed_ms": elapsed.as_millis() as u64,
        }));
    }
    out.line(&format!(
        "rebuilt the stores (views/*.db) from {} events in {:.2}s",
        report.events,
        elapsed.as_secs_f64()
    ))
}

/// `popug schema [TYPE[@V]]`: one schema as JSON, or the catalogue (type, version).
pub fn schema(out: &mut Out, which: Option<String>) -> Result<()> {
    let all = crate::events::catalogue();
    let Some(which) = which else {
        if out.is_json() {
            let list: Vec<_> = all.iter().map(|(t, v, _)| json!({"type": t, "v": v})).collect();
            return out.json(&list);
        }
        return out.table(
            &["type", "v"],
            all.iter()
                .map(|(t, v, _)| vec![t.to_string(), v.to_string()])
                .collect(),
        );
    };
    if out.format == crate::cli::output::Format::Csv && out.explicit {
        return Err(
            AppError::usage("a JSON Schema is not a table: `schema TYPE` has no --format csv")
                .hint("drop --format csv; `popug schema --format csv` lists the catalogue"),
        );
    }
    let (name, version) = match which.split_once('@') {
        Some((n, v)) => (
            n,
            Some(
                v.parse::<u32>()
                    .map_err(|_| AppError::usage(format!("`{}` is not a version number", v)))?,
            ),
        ),
        None => (which.as_str(), None),
    };
    let found = all
        .iter()
        .filter(|(t, v, _)| *t == name && version.is_none_or(|want| want == *v))
        .max_by_key(|(_, v, _)| *v);
    match found {
        Some((_, _, schema)) => {
            out.raw(
                serde_json::to_string_pretty(schema)
                    .expect("a schema serializes")
                    .as_bytes(),
            )?;
            out.raw(b"\n")
        }
        None => Err(AppError::new(
            Kind::NotFound,
            "no_schema",
            format!("there is no event type `{}`", which),
        )
        .hint("`popug schema` lists every event type and version")),
    }
}
