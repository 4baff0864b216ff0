//! `popug events [--after SEQ]`: the log as it is, password hashes redacted (CLI.md).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::Duration;

use clap::Args;
use popug_ledger::{LogReader, Position};

use crate::app::Env;
use crate::cli::output::Out;
use crate::error::Result;
use crate::events::Role;

#[derive(Debug, Clone, Args)]
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
    out.stdout_is_data = true;
    let out = std::cell::RefCell::new(out);
    stream(
        env,
        &args,
        || {
            let mut out = out.borrow_mut();
            // what the open delivered, printed while following (a follow ends by a signal,
            // and never reaches the command's end)
            let _ = crate::cli::session::print_deliveries(&mut out, env);
            out.flush().is_err()
        },
        |line| out.borrow_mut().raw(line),
    )
}

/// The log's lines after `args.since` (of `args.types`, when given), each with its newline
/// and password hashes redacted, handed to `emit` as they are read; with `args.follow`, then
/// every line appended later, polled every 200 ms, until `stop` says so (checked between
/// polls) or `emit` fails. Admins only (exit 3). Shared by `popug events` and the web.
pub fn stream(
    env: &Env,
    args: &EventsArgs,
    stop: impl Fn() -> bool,
    mut emit: impl FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    let (mut ledger, _) = crate::cli::session::signed_in(env, &[Role::Admin], "reading the event log")?;
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
                emit(&redact_password_hashes(&line))?;
            }
        }
        from = reader.position();
        if !args.follow || stop() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
        // a JetStream ledger: what other hosts appended comes into this host's replica
        ledger.refresh()?;
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

/// The last `n` complete lines of the log (fewer when it is shorter), oldest first, each
/// with its newline and password hashes redacted. Read backwards from the end of the file,
/// so the cost does not grow with the log; for display only: the lines are not checked here
/// (`popug verify` checks them). Admins only (exit 3), as `popug events`.
pub fn last_lines(env: &Env, n: usize) -> Result<Vec<Vec<u8>>> {
    use std::io::{Read, Seek, SeekFrom};
    let (ledger, _) = crate::cli::session::signed_in(env, &[Role::Admin], "reading the event log")?;
    let mut file = File::open(ledger.events_path())?;
    let len = file.metadata()?.len();
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::with_capacity((len - start) as usize);
        (&mut file).take(len - start).read_to_end(&mut bytes)?;
        // complete lines only: a torn tail (no newline yet) is not an event
        let end = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut lines: Vec<&[u8]> = bytes[..end].split_inclusive(|&b| b == b'\n').collect();
        if start > 0 && !lines.is_empty() {
            lines.remove(0); // began mid-line
        }
        if lines.len() >= n || start == 0 {
            let from = lines.len().saturating_sub(n);
            return Ok(lines[from..]
                .iter()
                .map(|l| redact_password_hashes(l).into_owned())
                .collect());
        }
        window *= 4;
    }
}
