//! `popug ledger copy SRC DST`: a whole ledger from a directory to NATS JetStream or back
//! (or between two of either), every hash checked (CLI.md). How a company moves to a
//! cluster, and how an auditor takes a JetStream ledger home to `popug verify` it.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use popug_ledger::jetstream::{Address, JetStreamLog};
use popug_ledger::{LedgerError, LogReader, Position, shared};
use serde_json::json;

use crate::cli::output::Out;
use crate::cli::report::Answer;
use crate::error::{AppError, Result};

#[derive(Debug, Clone, Subcommand)]
pub enum LedgerCommand {
    /// Copy a whole ledger (its log) to a new place: a directory or nats://HOST:PORT/NAME
    Copy(CopyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// Where the ledger is: a directory, or nats://HOST:PORT[,HOST:PORT…]/NAME
    pub src: String,
    /// Where the copy goes (must not exist yet): a directory, or nats://HOST:PORT[,…]/NAME
    pub dst: String,
    /// For a nats:// destination: how many servers keep a copy of its stream
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=5))]
    pub replicas: Option<u8>,
}

/// A ledger's place: a directory, or a stream on a NATS cluster.
enum Place {
    Dir(PathBuf),
    Nats(Address),
}

impl Place {
    fn parse(s: &str) -> Result<Place> {
        if Address::is_url(s) {
            return Address::parse(s).map(Place::Nats).map_err(|m| {
                AppError::usage(m).hint("a JetStream ledger is nats://HOST:PORT[,HOST:PORT…]/NAME")
            });
        }
        if s.is_empty() {
            return Err(AppError::usage("a ledger's place cannot be empty"));
        }
        Ok(Place::Dir(PathBuf::from(s)))
    }
}

pub fn run(out: &mut Out, cmd: LedgerCommand) -> Result<()> {
    match cmd {
        LedgerCommand::Copy(args) => copy(out, args),
    }
}

fn copy(out: &mut Out, args: CopyArgs) -> Result<()> {
    let src = Place::parse(&args.src)?;
    let dst = Place::parse(&args.dst)?;
    if args.replicas.is_some() && matches!(dst, Place::Dir(_)) {
        return Err(AppError::usage("--replicas is for a nats:// destination"));
    }
    // Ctrl-C or SIGTERM stops the copy between two messages, and nothing is left behind
    let interrupt = popug_ledger::Interrupt::catch();
    // the source, whole and checked, as a file log: a directory's own, or a download of the
    // stream into a temporary directory
    let staged = tempfile::Builder::new().prefix("popug-copy-").tempdir()?;
    let (source_log, source_end) = match &src {
        Place::Dir(dir) => {
            let path = dir.join(popug_ledger::EVENTS_FILE);
            if !path.is_file() {
                return Err(LedgerError::NotFound(dir.clone()).into());
            }
            let end = check(&path)?;
            (path, end)
        }
        Place::Nats(address) => {
            let mut log = JetStreamLog::connect(address)?;
            if !log.exists()? {
                return Err(LedgerError::SharedNotFound(address.to_string()).into());
            }
            let end = shared::download(Box::new(log), staged.path())?;
            (staged.path().join(popug_ledger::EVENTS_FILE), end)
        }
    };
    // the copy, read back, ends where the source does, or it is undone
    let same_end = |copied: popug_ledger::Position| -> Result<popug_ledger::Position> {
        if (copied.seq, copied.hash) != (source_end.seq, source_end.hash) {
            return Err(AppError::new(
                crate::error::Kind::Damaged,
                "ledger_damaged",
                format!(
                    "the copy ends at seq {} ({}) but the source at seq {} ({})",
                    copied.seq, copied.hash, source_end.seq, source_end.hash
                ),
            ));
        }
        Ok(copied)
    };
    let copied = match &dst {
        Place::Dir(dir) => {
            let made = new_ledger_dir(dir)?;
            let result = write_file_log(&source_log, source_end, &dir.join(popug_ledger::EVENTS_FILE))
                .and_then(|()| check(&dir.join(popug_ledger::EVENTS_FILE)))
                .and_then(same_end)
                .and_then(|end| interrupt.check().map(|()| end).map_err(Into::into));
            if result.is_err() {
                undo_dir(dir, made);
            }
            result?
        }
        Place::Nats(address) => {
            let mut log = JetStreamLog::connect(address)?.for_copy();
            // a copy there that was interrupted is this command's own leftover: it starts over
            if log.exists()? && log.is_unfinished_copy()? {
                eprintln!("note: {address} holds an unfinished copy; it is made again");
                log.delete()?;
            }
            // marked unfinished until it is whole and checked: nothing opens it before
            log.create_for_copy(usize::from(args.replicas.unwrap_or(1)))?;
            let result = shared::upload(&source_log, &mut log, source_end, &mut || interrupt.check())
                .map_err(AppError::from)
                .and_then(|_| {
                    // read back what the cluster holds, checked again
                    let back = tempfile::Builder::new().prefix("popug-copy-").tempdir()?;
                    Ok(shared::download(
                        Box::new(JetStreamLog::connect(address)?.for_copy()),
                        back.path(),
                    )?)
                })
                .and_then(same_end)
                .and_then(|end| {
                    log.finish_copy()?;
                    Ok(end)
                });
            if result.is_err() {
                // the stream is this command's own: nothing is left half-copied
                let _ = log.delete();
            }
            result?
        }
    };
    out.report(&Answer::new(
        json!({
            "from": args.src, "to": args.dst, "events": copied.seq,
            "last_hash": copied.hash.to_string(), "bytes": copied.offset,
        }),
        vec![format!(
            "copied {} events ({} bytes) from {} to {}; every hash checked, the last {}",
            copied.seq, copied.offset, args.src, args.dst, copied.hash
        )],
    ))
}

/// Reads the whole file log at `path`, checking every line, and gives the position after
/// its last complete batch (a torn tail is not part of the ledger and is not copied).
fn check(path: &Path) -> Result<Position> {
    let mut reader = LogReader::open(path, Position::GENESIS)?;
    for item in reader.by_ref() {
        item?;
    }
    Ok(reader.position())
}

/// Creates `dir` for a new ledger: refused (exit 5) if it holds a ledger or anything else.
/// Returns whether this call made the directory.
fn new_ledger_dir(dir: &Path) -> Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    if dir.join(popug_ledger::EVENTS_FILE).exists() {
        return Err(LedgerError::AlreadyExists(dir.to_owned()).into());
    }
    if dir.exists() {
        let empty = dir.is_dir() && std::fs::read_dir(dir)?.next().is_none();
        if !empty {
            return Err(LedgerError::NotEmpty(dir.to_owned()).into());
        }
        return Ok(false);
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::create_dir(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(true)
}

fn undo_dir(dir: &Path, made: bool) {
    let _ = std::fs::remove_file(dir.join(popug_ledger::EVENTS_FILE));
    if made {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Writes the first `end.offset` bytes of the log at `from` into a new private file `to`,
/// synced with its directory.
fn write_file_log(from: &Path, end: Position, to: &Path) -> Result<()> {
    use std::io::{Read, Write};
    let mut src = std::fs::File::open(from)?.take(end.offset);
    let mut dst = crate::files::create_new_private(to)?;
    std::io::copy(&mut src, &mut dst)?;
    dst.flush()?;
    dst.sync_all()?;
    std::fs::File::open(to.parent().unwrap_or(Path::new(".")))?.sync_all()?;
    Ok(())
}
