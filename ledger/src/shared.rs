//! A ledger whose log is a shared, replicated log service (NATS JetStream, [`crate::jetstream`])
//! rather than a file on this host, so that any number of hosts write the same ledger.
//!
//! The shared log holds the very bytes of the file log: each message is one or more whole
//! batches of lines, in order, and every append is a compare-and-set on the message sequence
//! ([`SharedLog::append`] after message `n` fails with [`LedgerError::Conflict`] if the log
//! has gone past `n`). So there is exactly one history, the hash chain runs across messages,
//! and a writer that lost a race catches up and decides again.
//!
//! Each host keeps a **replica**: the log's bytes in `events.jsonl` of its cache directory,
//! and beside it `replica.json`, the cursor (the last message copied, and the position after
//! it). The engine reads, projects and verifies the replica exactly as it does a file ledger;
//! the replica is derived and may be deleted at any time (it is fetched again). A replica
//! longer than its cursor (a crash between the two writes) is cut back to the cursor; a
//! replica shorter than its cursor is fetched again from the start.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{LedgerError, Problem};
use crate::line::Hash;
use crate::log::{self, LogReader, Position};

/// How long the end of the shared log, once asked, is taken as known by the same process.
const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_millis(20);

/// The cursor file of a replica, beside its `events.jsonl`.
pub const REPLICA_FILE: &str = "replica.json";

/// A log shared by many writers: an ordered sequence of messages, numbered from 1, each an
/// opaque payload (here: whole batches of log lines). Implemented by
/// [`crate::jetstream::JetStreamLog`]; the conformance tests run one suite against it and the
/// file log.
pub trait SharedLog: Send {
    /// Where the log is, for messages (e.g. `nats://127.0.0.1:4222/acme`).
    fn address(&self) -> &str;
    /// The last message's number and the id it was appended with (`None` for an empty
    /// log): a replica that holds as many messages checks by the id that they end the same.
    fn last_id(&mut self) -> Result<Option<(u64, String)>, LedgerError>;
    /// The number of the last message (0 for an empty log).
    fn last(&mut self) -> Result<u64, LedgerError> {
        Ok(self.last_id()?.map_or(0, |(n, _)| n))
    }
    /// Calls `each(number, payload)` for the messages after `after` up to `upto`, in order.
    fn read(&mut self, after: u64, upto: u64, each: EachMessage<'_>) -> Result<(), LedgerError>;
    /// Appends `payload` as message `after + 1`, only if message `after` is the last one
    /// (else [`LedgerError::Conflict`], nothing stored). `id` names the payload, so that a
    /// retransmission of the same append is not stored twice. Returns the new message's
    /// number.
    fn append(&mut self, after: u64, payload: &[u8], id: &str) -> Result<u64, LedgerError>;
    /// The largest payload one message may carry (bytes).
    fn max_payload(&self) -> usize;
}

/// What [`SharedLog::read`] calls for each message: its number and payload.
pub type EachMessage<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<(), LedgerError>;

/// An append that failed, and the position up to which batches were stored all the same
/// (`None`: nothing was; a long append carried in several messages may store its first ones).
#[derive(Debug)]
pub struct AppendFailure {
    pub error: LedgerError,
    pub stored: Option<Position>,
}

/// This host's copy of a shared log (see the module documentation).
pub struct Replica {
    log: Box<dyn SharedLog>,
    events: PathBuf,
    cursor_path: PathBuf,
    /// The last message copied into the replica.
    message: u64,
    /// The position after that message's last line.
    position: Position,
    /// When this replica last asked the shared log for its end, and what it was.
    checked: Option<(std::time::Instant, u64)>,
}

impl Replica {
    /// The replica of `log` in `dir`. Nothing is read until [`Replica::load`].
    pub fn new(dir: &Path, log: Box<dyn SharedLog>) -> Replica {
        Replica {
            log,
            events: dir.join(crate::EVENTS_FILE),
            cursor_path: dir.join(REPLICA_FILE),
            message: 0,
            position: Position::GENESIS,
            checked: None,
        }
    }

    /// Reads the cursor and reconciles the replica's file with it (creating both empty when
    /// missing). Call under the writer lock of the directory, every time it is taken: other
    /// processes of this host may have copied messages since.
    pub fn load(&mut self) -> Result<(), LedgerError> {
        if !self.events.exists() {
            log::create_private(&self.events)?;
        }
        (self.message, self.position) = match fs::read(&self.cursor_path) {
            Ok(bytes) => parse_cursor(&bytes).unwrap_or((0, Position::GENESIS)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, Position::GENESIS),
            Err(e) => return Err(LedgerError::io("read", &self.cursor_path, e)),
        };
        let len = log::file_len(&self.events)?;
        if len < self.position.offset || !log::has_line_at(&self.events, &self.position)? {
            // the replica lost what its cursor says it holds: fetch it all again
            self.message = 0;
            self.position = Position::GENESIS;
        }
        if len != self.position.offset {
            truncate(&self.events, self.position.offset)?;
        }
        Ok(())
    }

    /// Forgets the replica (a new ledger on an empty stream): an empty file, no cursor.
    pub(crate) fn reset(&mut self) -> Result<(), LedgerError> {
        if self.events.exists() {
            truncate(&self.events, 0)?;
        }
        match fs::remove_file(&self.cursor_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LedgerError::io("remove", &self.cursor_path, e)),
        }
        self.load()
    }

    pub fn address(&self) -> &str {
        self.log.address()
    }

    /// The log's position after the last message copied.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The number of the last message copied.
    pub fn message(&self) -> u64 {
        self.message
    }

    /// The shared log itself.
    pub fn log(&mut self) -> &mut dyn SharedLog {
        self.log.as_mut()
    }

    /// Copies every message the replica lacks, checking each line's hash, the chain and the
    /// batch framing as the file log's reader does; a message that breaks them is
    /// [`LedgerError::Corrupt`] and nothing of it is kept. Returns how many messages came.
    pub fn sync(&mut self) -> Result<u64, LedgerError> {
        match self.sync_from_cursor() {
            // the stream does not continue what this host copied: deleted and made again, or
            // rewritten. A history that changed under a copy is never taken silently (a file
            // ledger refuses a rewritten log the same way); the operator who knows why
            // removes the copy
            Err(LedgerError::Corrupt { line, problem, .. }) if self.message > 0 => {
                Err(LedgerError::Diverged {
                    address: self.log.address().to_owned(),
                    copy: self.events.parent().unwrap_or(Path::new(".")).to_owned(),
                    detail: format!("at line {line}: {problem}"),
                })
            }
            result => result,
        }
    }

    fn sync_from_cursor(&mut self) -> Result<u64, LedgerError> {
        // asked a moment ago (a command opens the ledger, then starts its write session):
        // the answer stands; a write made on an older head is refused by the
        // compare-and-set and decided again, so this only saves a round trip
        let last = match self.checked {
            Some((at, last)) if at.elapsed() < RECHECK_AFTER && last <= self.message => self.message,
            _ => {
                let found = self.log.last_id()?;
                // as many messages as this copy: they must end with this copy's last one (a
                // stream made again to the same length is not this copy's ledger)
                if let Some((n, id)) = &found
                    && *n == self.message
                    && *id != message_id(&self.position)
                {
                    return Err(LedgerError::corrupt(
                        self.position.seq,
                        self.position.offset,
                        Problem::Other(format!("its message {n} is not the one this host copied")),
                    ));
                }
                let last = found.map_or(0, |(n, _)| n);
                // the answer stands from when the stream gave it, not from each use of it
                self.checked = Some((std::time::Instant::now(), last));
                last
            }
        };
        if last < self.message {
            return Err(LedgerError::corrupt(
                self.position.seq,
                self.position.offset,
                Problem::Other(format!(
                    "it has {last} messages, but this host already copied {}",
                    self.message
                )),
            ));
        }
        if last == self.message {
            return Ok(0);
        }
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.events)
            .map_err(|e| LedgerError::io("open", &self.events, e))?;
        let start = (self.message, self.position);
        let mut expected = self.message + 1;
        let mut received = 0u64;
        let copied = self.log.read(self.message, last, &mut |n, payload| {
            if n != expected {
                return Err(LedgerError::corrupt(
                    start.1.seq,
                    start.1.offset,
                    Problem::Other(format!(
                        "the shared log skipped from message {} to {n}",
                        expected - 1
                    )),
                ));
            }
            expected += 1;
            received += payload.len() as u64;
            file.write_all(payload)
                .map_err(|e| LedgerError::io("write", &self.events, e))
        });
        let checked = copied.and_then(|()| {
            let mut reader = LogReader::open(&self.events, start.1)?;
            for item in reader.by_ref() {
                item?;
            }
            match reader.torn() {
                // every message ends with a whole batch: bytes left over are not a torn write
                Some(torn) => Err(LedgerError::corrupt(
                    reader.position().seq + 1,
                    torn.from_offset,
                    Problem::BadBatch,
                )),
                None => Ok(reader.position()),
            }
        });
        match checked {
            Ok(position) => {
                file.sync_data()
                    .map_err(|e| LedgerError::io("sync", &self.events, e))?;
                self.message = last;
                self.position = position;
                self.save_cursor()?;
                Ok(last - start.0)
            }
            Err(e) => {
                truncate(&self.events, start.1.offset)?;
                Err(e)
            }
        }
    }

    /// Appends `bytes` (whole batches of lines encoded after `start`, the replica's
    /// position) to the shared log, as few messages as its payload limit allows, each cut
    /// at the end of a batch, then to the replica. `batch_ends` are the offsets in `bytes`
    /// where a batch ends. On an error, returns with it the position up to which the
    /// messages before were stored (`None`: nothing was).
    pub(crate) fn append(
        &mut self,
        start: Position,
        bytes: &[u8],
        batch_ends: &[(usize, Position)],
    ) -> Result<(), Box<AppendFailure>> {
        if start != self.position {
            return Err(Box::new(AppendFailure {
                error: LedgerError::corrupt(
                    start.seq,
                    start.offset,
                    Problem::UnexpectedLength {
                        expected: self.position.offset,
                        found: start.offset,
                    },
                ),
                stored: None,
            }));
        }
        let max = self.log.max_payload().max(1);
        let mut from = 0usize;
        let mut stored: Option<Position> = None;
        while from < bytes.len() {
            // the furthest batch end that fits; a batch larger than a message goes alone (and
            // is refused by the log, whole)
            let fits = batch_ends
                .iter()
                .filter(|(end, _)| *end > from)
                .take_while(|(end, _)| end - from <= max)
                .last()
                .or_else(|| batch_ends.iter().find(|(end, _)| *end > from))
                .copied();
            let Some((end, after)) = fits else { break };
            let payload = &bytes[from..end];
            let id = message_id(&after);
            let appended = self.log.append(self.message, payload, &id).and_then(|n| {
                crate::crash_point("shared.appended");
                log::append_durably(&self.events, self.position.offset, payload).map(|()| n)
            });
            match appended {
                Ok(n) => {
                    self.message = n;
                    self.position = after;
                    stored = Some(after);
                    from = end;
                }
                Err(e) => {
                    // the log went on without this replica: the next sync must ask
                    self.checked = None;
                    if stored.is_some() {
                        let _ = self.save_cursor();
                    }
                    return Err(Box::new(AppendFailure { error: e, stored }));
                }
            }
        }
        self.save_cursor()
            .map_err(|error| Box::new(AppendFailure { error, stored }))
    }

    fn save_cursor(&self) -> Result<(), LedgerError> {
        let p = &self.position;
        let text = serde_json::json!({
            "message": self.message,
            "seq": p.seq,
            "offset": p.offset,
            "hash": p.hash.to_string(),
            "at": p.at.map(|t| crate::line::format_at(&t)),
        })
        .to_string();
        let dir = self.cursor_path.parent().unwrap_or(Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| LedgerError::io("create a file in", dir, e))?;
        tmp.write_all(text.as_bytes())
            .map_err(|e| LedgerError::io("write", tmp.path(), e))?;
        // NamedTempFile is created 0600; the cursor is derived, so it needs no sync: a lost
        // cursor only makes the replica fetch again
        tmp.persist(&self.cursor_path)
            .map_err(|e| LedgerError::io("replace", &self.cursor_path, e.error))?;
        Ok(())
    }
}

/// The id a message is appended with (`Nats-Msg-Id`): the seq and hash of its last event.
fn message_id(after: &Position) -> String {
    format!("{}:{}", after.seq, after.hash)
}

fn parse_cursor(bytes: &[u8]) -> Option<(u64, Position)> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let at = match v.get("at")?.as_str() {
        Some(s) => Some(
            chrono::DateTime::parse_from_rfc3339(s)
                .ok()?
                .with_timezone(&chrono::Utc),
        ),
        None => None,
    };
    Some((
        v.get("message")?.as_u64()?,
        Position {
            seq: v.get("seq")?.as_u64()?,
            offset: v.get("offset")?.as_u64()?,
            hash: v.get("hash")?.as_str()?.parse::<Hash>().ok()?,
            at,
        },
    ))
}

fn truncate(path: &Path, len: u64) -> Result<(), LedgerError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(len).and_then(|()| f.sync_data()))
        .map_err(|e| LedgerError::io("truncate", path, e))
}

/// Appends the committed batches of the file log at `path` up to `upto` (a batch's end: the
/// end of the log when the copy began, so that a log still being written is copied as it
/// was) to `log`, which must be empty ([`LedgerError::SharedExists`] if not), in as few
/// messages as its payload limit allows, each cut at the end of a batch and appended with
/// compare-and-set. Every line's hash and the chain are checked on the way (a damaged log
/// is [`LedgerError::Corrupt`], with nothing appended after the damage). `between` runs
/// before each message (an interruption stops the copy there). Returns the position after
/// the last batch.
pub fn upload(
    path: &Path,
    log: &mut dyn SharedLog,
    upto: Position,
    between: &mut dyn FnMut() -> Result<(), LedgerError>,
) -> Result<Position, LedgerError> {
    if log.last()? != 0 {
        return Err(LedgerError::SharedExists(log.address().to_owned()));
    }
    let max = log.max_payload().max(1) as u64;
    let mut file = fs::File::open(path).map_err(|e| LedgerError::io("open", path, e))?;
    let mut message = 0u64;
    // the message being gathered: whole batches from `start` to `end`
    let mut start = Position::GENESIS;
    let mut end = Position::GENESIS;
    let mut send = |from: Position, to: Position, message: &mut u64| -> Result<(), LedgerError> {
        use std::io::{Read, Seek, SeekFrom};
        between()?;
        let mut bytes = vec![0u8; (to.offset - from.offset) as usize];
        file.seek(SeekFrom::Start(from.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| LedgerError::io("read", path, e))?;
        *message = log.append(*message, &bytes, &message_id(&to))?;
        crate::crash_point("copy.message");
        Ok(())
    };
    for item in LogReader::open(path, Position::GENESIS)?.stop_after(upto.seq) {
        let (event, offset) = item?;
        if event.seq != event.batch_end {
            continue;
        }
        // a whole batch ends at `offset`: it goes with the message gathered so far, unless
        // that would pass the limit
        if end.offset > start.offset && offset - start.offset > max {
            send(start, end, &mut message)?;
            start = end;
        }
        end = Position::after(&event, offset);
    }
    if end.offset > start.offset {
        send(start, end, &mut message)?;
    }
    Ok(end)
}

/// Copies the whole shared log into a new file log in `dir` (which must hold no
/// `events.jsonl`), checking every line's hash, the chain and the framing as a replica's
/// sync does. Returns the position after the last batch.
pub fn download(log: Box<dyn SharedLog>, dir: &Path) -> Result<Position, LedgerError> {
    let mut replica = Replica::new(dir, log);
    replica.load()?;
    replica.sync()?;
    if replica.message() == 0 {
        return Err(LedgerError::SharedNotFound(replica.address().to_owned()));
    }
    // a plain file ledger from now on: no cursor beside it
    match fs::remove_file(&replica.cursor_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(LedgerError::io("remove", &replica.cursor_path, e)),
    }
    log::sync_dir(dir)?;
    Ok(replica.position())
}
