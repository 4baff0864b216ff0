//! `popug export transactions|payments|journal`: CSV, JSON and the company's books as an
//! hledger/ledger journal (CLI.md).

use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::app::Env;
use crate::auth::db_error;
use crate::cli::earnings::{RangeArgs, check_range};
use crate::cli::output::{Out, io_error};
use crate::cli::session;
use crate::error::{AppError, Kind, Result};
use crate::events::Role;
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    Transactions,
    Balances,
    Payouts,
    Tasks,
    Users,
    Journal,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub what: ExportKind,
    #[command(flatten)]
    pub range: RangeArgs,
    /// Write to FILE instead of standard output (`-`: standard output)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Begin a CSV export with a UTF-8 byte order mark, which Excel needs to read it as
    /// UTF-8 (CSV exports only)
    #[arg(long)]
    pub bom: bool,
}

fn d2(cents: i64) -> String {
    Money(cents).to_string()
}

type Rows = (Vec<&'static str>, Vec<Vec<String>>);

fn query_rows(
    db: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    money: &[usize],
) -> Result<Vec<Vec<String>>> {
    let mut stmt = db.prepare(sql).map_err(db_error)?;
    let n = stmt.column_count();
    let rows = stmt
        .query_map(params, |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => String::new(),
                        rusqlite::types::ValueRef::Integer(v) if money.contains(&i) => d2(v),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                        rusqlite::types::ValueRef::Blob(_) => String::new(),
                    })
                })
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(db_error)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_error)?;
    Ok(rows)
}

/// The first instant of `day` in `tz`, as stored instants are written (RFC 3339 UTC, ms):
/// a creation instant is on or after it exactly when it falls on `day` or later in the
/// ledger's timezone. A day whose midnight a DST change skips begins at its first instant.
fn day_start(day: NaiveDate, tz: &crate::zone::Zone) -> String {
    popug_ledger::line::format_at(&tz.day_start(day))
}

fn export_rows(db: &rusqlite::Connection, what: ExportKind, r: &RangeArgs) -> Result<Rows> {
    let (from, to) = (r.from.map(|d| d.to_string()), r.to.map(|d| d.to_string()));
    // creation instants are filtered by the ledger's day, as billing dates are (CLI.md)
    let tz = crate::scheduler::zone(db).map_err(db_error)?;
    let created_from = r.from.map(|d| day_start(d, &tz));
    let created_before = r.to.and_then(|d| d.succ_opt()).map(|d| day_start(d, &tz));
    Ok(match what {
        ExportKind::Transactions => (
            vec!["transaction_id", "at", "billing_date", "login", "kind", "reason", "amount", "balance_after", "task_number", "task_id"],
            query_rows(
                db,
                "SELECT t.transaction_id, t.at, t.billing_date, u.login, t.kind, t.reason, t.delta, t.balance_after, k.number, t.task_id
                 FROM transactions t JOIN accounts a ON a.account_id = t.account_id JOIN users u ON u.user_id = a.user_id
                 LEFT JOIN tasks k ON k.task_id = t.task_id
                 WHERE (?1 IS NULL OR t.billing_date >= ?1) AND (?2 IS NULL OR t.billing_date <= ?2) ORDER BY t.seq",
                (&from, &to),
                &[6, 7],
            )?,
        ),
        ExportKind::Balances => (
            vec!["login", "role", "balance"],
            if r.to.is_some() || r.from.is_some() {
                // the balance at the end of --to (or today), from the transactions billed up to then
                query_rows(
                    db,
                    "SELECT u.login, u.role, COALESCE((SELECT SUM(delta) FROM transactions t WHERE t.account_id = a.account_id
                         AND (?1 IS NULL OR t.billing_date <= ?1)), 0)
                     FROM accounts a JOIN users u ON u.user_id = a.user_id ORDER BY u.login",
                    [&to],
                    &[2],
                )?
            } else {
                query_rows(
                    db,
                    "SELECT u.login, u.role, a.balance FROM accounts a JOIN users u ON u.user_id = a.user_id ORDER BY u.login",
                    [],
                    &[2],
                )?
            },
        ),
        ExportKind::Payouts => (
            vec!["payment_id", "date", "login", "amount", "status", "provider_ref", "reason"],
            query_rows(
                db,
                "SELECT p.payment_id, p.date, u.login, p.amount, p.status, p.provider_ref, p.reason
                 FROM payments p JOIN users u ON u.user_id = p.user_id
                 WHERE (?1 IS NULL OR p.date >= ?1) AND (?2 IS NULL OR p.date <= ?2) ORDER BY p.date, u.login",
                (&from, &to),
                &[3],
            )?,
        ),
        ExportKind::Tasks => (
            vec!["number", "task_id", "title", "jira_id", "status", "assignee", "assign_fee", "reward", "created_at", "completed_at"],
            query_rows(
                db,
                "SELECT t.number, t.task_id, t.title, t.jira_id, t.status, u.login, t.assign_fee, t.reward, t.created_at, t.completed_at
                 FROM tasks t JOIN users u ON u.user_id = t.assignee_id
                 WHERE (?1 IS NULL OR t.created_at >= ?1) AND (?2 IS NULL OR t.created_at < ?2)
                 ORDER BY t.number",
                (&created_from, &created_before),
                &[6, 7],
            )?,
        ),
        ExportKind::Users => (
            vec!["user_id", "login", "name", "email", "role", "notify", "created_at"],
            query_rows(
                db,
                "SELECT user_id, login, name, email, role, notify, created_at FROM users
                 WHERE (?1 IS NULL OR created_at >= ?1) AND (?2 IS NULL OR created_at < ?2)
                 ORDER BY login",
                (&created_from, &created_before),
                &[],
            )?,
        ),
        ExportKind::Journal => unreachable!("the journal is not a table"),
    })
}

/// The company's books as a journal that hledger and ledger both read, strict checks
/// included (CLI.md, `export journal`): every account and the commodity declared; a fee is
/// revenue (`revenue:fees`), a reward an expense (`expenses:rewards`), a payout money out of
/// the bank (`assets:bank`), each against what the company owes the worker
/// (`liabilities:workers:<login>`, whose inverted balance is `popug balance`). The payee is
/// the worker; the description names what happened and the task. With `--from D`, an
/// opening transaction at D carries each worker's balance from before D
/// (`equity:opening balances`).
fn journal(db: &rusqlite::Connection, r: &RangeArgs, w: &mut dyn Write, out: &Out) -> Result<usize> {
    let (from, to) = (r.from.map(|d| d.to_string()), r.to.map(|d| d.to_string()));
    let bar = out.progress_bar("exporting");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} transactions")
            .expect("a valid template"),
    );
    let total: i64 = db
        .query_row("SELECT count(*) FROM transactions", [], |r| r.get(0))
        .map_err(db_error)?;
    bar.set_length(total as u64);
    let logins: Vec<String> = db
        .prepare("SELECT u.login FROM accounts a JOIN users u ON u.user_id = a.user_id ORDER BY u.login")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(db_error)?;
    let mut head = String::from(
        "; popug: the company's books. What the company owes each worker is\n\
         ; liabilities:workers:<login> (`hledger bal --invert liabilities:workers` = `popug balance --all`);\n\
         ; fees are revenue, rewards expenses, payouts leave assets:bank.\n\n\
         commodity 1,000.00\n\n\
         account assets:bank\n\
         account revenue:fees\n\
         account expenses:rewards\n\
         account equity:opening balances\n",
    );
    for login in &logins {
        head.push_str(&format!("account liabilities:workers:{login}\n"));
    }
    head.push('\n');
    w.write_all(head.as_bytes()).map_err(io_error)?;
    if let Some(day) = &from {
        let opening: Vec<(String, i64)> = db
            .prepare(
                "SELECT u.login, SUM(t.delta) FROM transactions t JOIN accounts a ON a.account_id = t.account_id
                 JOIN users u ON u.user_id = a.user_id WHERE t.billing_date < ?1
                 GROUP BY u.login HAVING SUM(t.delta) != 0 ORDER BY u.login",
            )
            .and_then(|mut s| s.query_map([day], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db_error)?;
        if !opening.is_empty() {
            writeln!(w, "{day} * opening balances").map_err(io_error)?;
            for (login, balance) in &opening {
                writeln!(w, "    liabilities:workers:{login}    {}", d2(-balance)).map_err(io_error)?;
            }
            writeln!(w, "    equity:opening balances\n").map_err(io_error)?;
        }
    }
    let mut stmt = db
        .prepare(
            "SELECT t.billing_date, t.reason, k.number, k.title, u.login, t.delta, t.transaction_id
             FROM transactions t JOIN accounts a ON a.account_id = t.account_id JOIN users u ON u.user_id = a.user_id
             LEFT JOIN tasks k ON k.task_id = t.task_id
             WHERE (?1 IS NULL OR t.billing_date >= ?1) AND (?2 IS NULL OR t.billing_date <= ?2) ORDER BY t.billing_date, t.seq",
        )
        .map_err(db_error)?;
    let mut rows = stmt.query((&from, &to)).map_err(db_error)?;
    let mut written = 0;
    while let Some(row) = rows.next().map_err(db_error)? {
        type Line = (String, String, Option<i64>, Option<String>, String, i64, String);
        let (date, reason, number, title, login, delta, id): Line = (
            row.get(0).map_err(db_error)?,
            row.get(1).map_err(db_error)?,
            row.get(2).map_err(db_error)?,
            row.get(3).map_err(db_error)?,
            row.get(4).map_err(db_error)?,
            row.get(5).map_err(db_error)?,
            row.get(6).map_err(db_error)?,
        );
        let (what, other) = match reason.as_str() {
            "assign_fee" => ("assignment fee", "revenue:fees"),
            "reassign_fee" => ("reassignment fee", "revenue:fees"),
            "reward" => ("reward", "expenses:rewards"),
            "daily_payment" => ("daily payout", "assets:bank"),
            "payment_failed" => ("payout failed, returned", "assets:bank"),
            _ => (reason.as_str(), "equity:opening balances"),
        };
        // a `;` would start a comment in the description
        let task = match (number, title) {
            (Some(n), Some(t)) => format!(", task #{n} {}", t.replace(';', ",")),
            (Some(n), None) => format!(", task #{n}"),
            _ => String::new(),
        };
        writeln!(w, "{date} * {login} | {what}{task}  ; id:{id}").map_err(io_error)?;
        writeln!(w, "    liabilities:workers:{login}    {}", d2(-delta)).map_err(io_error)?;
        writeln!(w, "    {other}    {}", d2(delta)).map_err(io_error)?;
        writeln!(w).map_err(io_error)?;
        written += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(written)
}

/// `-o PATH` replaces PATH: a FIFO, a device or a symbolic link there would be replaced, not
/// written to; refused (exit 2) instead. `-o -` writes to standard output.
fn refuse_special_file(path: &std::path::Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => Err(AppError::usage(format!(
            "`{}` is not a regular file: an export replaces the file it writes",
            path.display()
        ))
        .hint("use `-o -` (or no -o) to write to standard output, a pipe or a device")),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` whole or not at all: a new private temporary file beside it
/// (`tempfile`: an unpredictable name, `O_EXCL`, so a link planted there cannot redirect
/// the write), synced, then renamed over `path`.
fn write_file_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".popug-export-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `export`: CSV (or the journal) on stdout or in a file. Under `--json` the rows are a JSON
/// array of objects keyed by the header (CLI.md); with `-o FILE` the answer is a receipt,
/// `{"path","rows","bytes"}` (one CSV row under `--format csv`). The journal is not a table:
/// on stdout it has no `--json` or `--format csv` (exit 2), and `--bom` is for CSV only.
pub fn export(env: &Env, out: &mut Out, args: ExportArgs) -> Result<()> {
    check_range(args.range.from, args.range.to)?;
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    out.stdout_is_data = to_stdout;
    let journal_kind = args.what == ExportKind::Journal;
    if journal_kind && args.bom {
        return Err(AppError::usage(
            "--bom is for CSV exports; a journal has no byte order mark",
        ));
    }
    if journal_kind && to_stdout && out.asked_for_document() {
        return Err(
            AppError::usage("the journal is not a table: it has no --json or --format csv")
                .hint("drop --json, or write it to a file with -o FILE (the answer is then a JSON receipt)"),
        );
    }
    let (ledger, _) = session::signed_in(env, &[Role::Admin, Role::Accountant], "exports")?;
    let snap = crate::read::Snapshot::of(&ledger)?;
    let db = snap.db();
    let mut buf: Vec<u8> = Vec::new();
    let rows_written;
    if journal_kind {
        rows_written = journal(db, &args.range, &mut buf, out)?;
    } else {
        let (header, rows) = export_rows(db, args.what, &args.range)?;
        rows_written = rows.len();
        if out.is_json() && to_stdout {
            let docs: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    header
                        .iter()
                        .zip(r)
                        .map(|(h, v)| (h.to_string(), serde_json::Value::from(v.as_str())))
                        .collect()
                })
                .collect();
            return out.json(&docs);
        }
        let bar = out.progress_bar("exporting");
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rows")
                .expect("a valid template"),
        );
        bar.set_length(rows.len() as u64);
        if args.bom {
            buf.extend_from_slice("\u{feff}".as_bytes());
        }
        let mut w = csv::Writer::from_writer(&mut buf);
        let csv_err =
            |e: csv::Error| AppError::new(Kind::Failure, "internal", format!("cannot write CSV: {e}"));
        w.write_record(&header).map_err(csv_err)?;
        for r in rows {
            w.write_record(crate::cli::output::csv_record(&r))
                .map_err(csv_err)?;
            bar.inc(1);
        }
        w.flush().map_err(io_error)?;
        bar.finish_and_clear();
    }
    match &args.output {
        _ if to_stdout => out.raw(&buf),
        None => unreachable!("no output is standard output"),
        Some(path) => {
            refuse_special_file(path)?;
            write_file_atomically(path, &buf).map_err(|e| {
                AppError::new(
                    Kind::Failure,
                    "io_error",
                    format!("cannot write `{}`", path.display()),
                )
                .source(e)
            })?;
            if out.is_document() {
                return out.json(&json!({"path": path, "rows": rows_written, "bytes": buf.len()}));
            }
            eprintln!("wrote {} bytes to {}", buf.len(), path.display());
            Ok(())
        }
    }
}
