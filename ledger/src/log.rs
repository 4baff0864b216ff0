//! The append-only log file: streaming reads with chain checks, the committed/torn boundary,
//! torn-tail recovery and durable appends. Knows nothing of SQLite or of what events mean.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::{LedgerError, Problem};
use crate::line::{self, Event, Hash};

/// Where the log stands after some event: what the next line must continue from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The seq of the last event read (0 before the first).
    pub seq: u64,
    /// The byte offset just after that event's line.
    pub offset: u64,
    /// That event's hash (the `prev` of the next line).
    pub hash: Hash,
    /// Its instant; the next event's `at` may not be earlier.
    pub at: Option<DateTime<Utc>>,
}

impl Position {
    pub const GENESIS: Position = Position {
        seq: 0,
        offset: 0,
        hash: Hash::GENESIS,
        at: None,
    };

    /// The position just after `event`, whose line ends at `end_offset`.
    pub(crate) fn after(event: &Event, end_offset: u64) -> Position {
        Position {
            seq: event.seq,
            offset: end_offset,
            hash: event.hash,
            at: Some(event.at),
        }
    }
}

/// Bytes after the last complete batch: a crash (or a writer still at work) left them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Torn {
    pub from_offset: u64,
    pub len: u64,
}

/// Streams the committed events of a log from a known position, checking each line's hash,
/// the chain, the contiguity of `seq`, the order of `at` and the batch framing.
///
/// Only whole batches are yielded: the events of a batch whose last line is not (yet) there
/// are held back, so a reader never sees half of an atomic append. Memory is bounded by the
/// largest batch, whatever the size of the log.
pub struct LogReader {
    path: PathBuf,
    reader: BufReader<File>,
    buf: Vec<u8>,
    /// Position after the last yielded (committed) event.
    committed: Position,
    /// Position after the last line read, committed or not.
    read: Position,
    line_no: u64,
    /// Events of the batch being read, not yet closed.
    pending: Vec<(Event, u64)>,
    ready: std::collections::VecDeque<(Event, u64)>,
    torn: Option<Torn>,
    done: bool,
    failed: bool,
    stop_after: Option<u64>,
}

impl LogReader {
    /// Opens `path` and reads from `from`, which must be the end of a line of that log.
    pub fn open(path: &Path, from: Position) -> Result<LogReader, LedgerError> {
        let mut file = File::open(path).map_err(|e| LedgerError::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| LedgerError::io("read", path, e))?
            .len();
        if len < from.offset {
            return Err(LedgerError::corrupt(
                from.seq,
                from.offset,
                Problem::Shorter {
                    expected: from.offset,
                    found: len,
                },
            ));
        }
        if from.offset > 0 {
            check_line_end(&mut file, path, &from)?;
        }
        file.seek(SeekFrom::Start(from.offset))
            .map_err(|e| LedgerError::io("read", path, e))?;
        Ok(LogReader {
            path: path.to_owned(),
            reader: BufReader::with_capacity(256 * 1024, file),
            buf: Vec::with_capacity(1024),
            committed: from,
            read: from,
            line_no: from.seq,
            pending: Vec::new(),
            ready: Default::default(),
            torn: None,
            done: false,
            failed: false,
            stop_after: None,
        })
    }

    /// Stops after the event with this seq (the rest of the log is left unread).
    pub fn stop_after(mut self, seq: u64) -> LogReader {
        self.stop_after = Some(seq);
        self
    }

    /// The position after the last event yielded so far.
    pub fn position(&self) -> Position {
        self.committed
    }

    /// After the iterator ended: the bytes past the last complete batch, if any.
    pub fn torn(&self) -> Option<Torn> {
        self.torn
    }

    fn fail(&mut self, offset: u64, problem: Problem) -> LedgerError {
        self.failed = true;
        LedgerError::corrupt(self.line_no, offset, problem)
    }

    /// Reads lines until a batch closes or the file ends.
    fn fill(&mut self) -> Result<(), LedgerError> {
        while self.ready.is_empty() && !self.done {
            if self.stop_after.is_some_and(|s| self.committed.seq >= s) {
                self.done = true;
                break;
            }
            self.buf.clear();
            let start = self.read.offset;
            let n = match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(n) => n,
                Err(e) => {
                    self.failed = true;
                    return Err(LedgerError::io("read", &self.path, e));
                }
            };
            if n == 0 {
                self.finish_at_eof();
                break;
            }
            self.line_no += 1;
            let end = start + n as u64;
            if self.buf.last() != Some(&b'\n') {
                // A line cut short can only be the very end of the file.
                self.finish_at_eof();
                break;
            }
            let decoded = line::decode(&self.buf[..n - 1]);
            let event = match decoded {
                Ok(e) => e,
                Err(err) => {
                    if self.at_eof()? {
                        self.finish_at_eof();
                        break;
                    }
                    return Err(self.fail(start, Problem::Line(err)));
                }
            };
            self.check_chain(&event, start)?;
            self.read = Position::after(&event, end);
            let closes = event.seq == event.batch_end;
            self.pending.push((event, end));
            if closes {
                self.committed = self.read;
                self.ready.extend(self.pending.drain(..));
            }
        }
        Ok(())
    }

    fn check_chain(&mut self, event: &Event, offset: u64) -> Result<(), LedgerError> {
        let expected = self.read.seq + 1;
        if event.seq != expected {
            return Err(self.fail(
                offset,
                Problem::SeqGap {
                    expected,
                    found: event.seq,
                },
            ));
        }
        if event.prev != self.read.hash {
            return Err(self.fail(offset, Problem::BrokenChain));
        }
        if let Some(last) = self.read.at
            && event.at < last
        {
            return Err(self.fail(offset, Problem::TimeWentBack { last, at: event.at }));
        }
        let open_batch_end = self.pending.first().map(|(e, _)| e.batch_end);
        let framing_ok = match open_batch_end {
            Some(end) => event.batch_end == end,
            None => event.batch_end >= event.seq,
        };
        if !framing_ok {
            return Err(self.fail(offset, Problem::BadBatch));
        }
        Ok(())
    }

    fn at_eof(&mut self) -> Result<bool, LedgerError> {
        match self.reader.fill_buf() {
            Ok(buf) => Ok(buf.is_empty()),
            Err(e) => Err(LedgerError::io("read", &self.path, e)),
        }
    }

    fn finish_at_eof(&mut self) {
        self.done = true;
        let file_len = self.reader.get_ref().metadata().map(|m| m.len()).unwrap_or(0);
        let end = file_len.max(self.read.offset);
        if end > self.committed.offset {
            self.torn = Some(Torn {
                from_offset: self.committed.offset,
                len: end - self.committed.offset,
            });
        }
        self.pending.clear();
    }
}

/// Events per chunk handed from the reading thread to the threads that apply them.
const READ_AHEAD_CHUNK: usize = 512;

/// A chunk of decoded events shared by the threads that apply it (see
/// [`LogReader::read_shared`]).
pub type SharedChunk = std::sync::Arc<Vec<(Event, u64)>>;

impl LogReader {
    /// Runs `consume` over chunks of this reader's items, decoded and hash-checked ahead by
    /// a second thread, as shared chunks that `consume` may hand on to other threads (one
    /// per store in a parallel replay); each chunk is freed by whoever drops it last. The
    /// error that stopped the reading comes after the chunk before it. Gives back the reader
    /// afterwards, for its position and torn tail. If `consume` stops early, the reading
    /// thread stops too.
    pub fn read_shared<R>(
        self,
        consume: impl FnOnce(&mut dyn Iterator<Item = Result<SharedChunk, LedgerError>>) -> R,
    ) -> (R, LogReader) {
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<SharedChunk, LedgerError>>(4);
            let reading = s.spawn(move || {
                let mut reader = self;
                let mut chunk = Vec::with_capacity(READ_AHEAD_CHUNK);
                loop {
                    match reader.next() {
                        Some(Ok(item)) => chunk.push(item),
                        Some(Err(e)) => {
                            if !chunk.is_empty() {
                                let _ = tx.send(Ok(std::sync::Arc::new(chunk)));
                            }
                            let _ = tx.send(Err(e));
                            return reader;
                        }
                        None => {
                            if !chunk.is_empty() {
                                let _ = tx.send(Ok(std::sync::Arc::new(chunk)));
                            }
                            return reader;
                        }
                    }
                    if chunk.len() >= READ_AHEAD_CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(READ_AHEAD_CHUNK));
                        if tx.send(Ok(std::sync::Arc::new(full))).is_err() {
                            return reader;
                        }
                    }
                }
            });
            let result = consume(&mut rx.iter());
            // hung up: a reading thread still sending stops at its next chunk
            drop(rx);
            let reader = reading.join().expect("the log reading thread does not panic");
            (result, reader)
        })
    }
}

impl Iterator for LogReader {
    type Item = Result<(Event, u64), LedgerError>;

    /// Yields each committed event with the byte offset just after its line.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.ready.is_empty()
            && let Err(e) = self.fill()
        {
            return Some(Err(e));
        }
        let item = self.ready.pop_front()?;
        if self.stop_after.is_some_and(|s| item.0.seq > s) {
            self.ready.clear();
            self.done = true;
            return None;
        }
        Some(Ok(item))
    }
}

/// Whether the log at `path` has, ending at `pos.offset`, the line that `pos` remembers (its
/// hash): false for a position past the end of the log or on another line. For a store's
/// checkpoint that may come from another ledger or another time.
pub(crate) fn has_line_at(path: &Path, pos: &Position) -> Result<bool, LedgerError> {
    if pos.seq == 0 {
        return Ok(true);
    }
    if pos.offset > file_len(path)? {
        return Ok(false);
    }
    let mut file = File::open(path).map_err(|e| LedgerError::io("open", path, e))?;
    match check_line_end(&mut file, path, pos) {
        Ok(()) => Ok(true),
        Err(LedgerError::Corrupt { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Checks that the line ending at `pos.offset` is the one the caller remembers: it must end
/// with `pos.hash`. A log that was cut, swapped or rewritten below a checkpoint fails here.
fn check_line_end(file: &mut File, path: &Path, pos: &Position) -> Result<(), LedgerError> {
    let mut tail = [0u8; 68];
    if pos.offset < tail.len() as u64 {
        return Err(LedgerError::corrupt(
            pos.seq,
            pos.offset,
            Problem::CheckpointMismatch,
        ));
    }
    file.seek(SeekFrom::Start(pos.offset - tail.len() as u64))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| LedgerError::io("read", path, e))?;
    let expected = format!("\"{}\"}}\n", pos.hash);
    if tail[..] != *expected.as_bytes() {
        return Err(LedgerError::corrupt(
            pos.seq,
            pos.offset,
            Problem::CheckpointMismatch,
        ));
    }
    Ok(())
}

/// Creates a file that only its owner may read or write.
pub(crate) fn create_private(path: &Path) -> Result<File, LedgerError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| LedgerError::io("create", path, e))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| LedgerError::io("sync", dir, e))
}

/// Moves the torn bytes at the end of the log to `events.jsonl.torn-<timestamp>` and cuts the
/// log back to its last complete batch. Only a writer holding the lock may call this.
pub(crate) fn recover_torn(path: &Path, torn: Torn, now: DateTime<Utc>) -> Result<PathBuf, LedgerError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| LedgerError::io("open", path, e))?;
    let mut bytes = Vec::with_capacity(torn.len as usize);
    file.seek(SeekFrom::Start(torn.from_offset))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| LedgerError::io("read", path, e))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let stamp = now.format("%Y%m%dT%H%M%S%.9fZ");
    let mut aside = dir.join(format!("events.jsonl.torn-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        aside = dir.join(format!("events.jsonl.torn-{stamp}-{n}"));
        n += 1;
    }
    let mut out = create_private(&aside)?;
    out.write_all(&bytes)
        .and_then(|_| out.sync_all())
        .map_err(|e| LedgerError::io("write", &aside, e))?;
    sync_dir(dir)?;
    file.set_len(torn.from_offset)
        .and_then(|_| file.sync_all())
        .map_err(|e| LedgerError::io("truncate", path, e))?;
    Ok(aside)
}

/// Appends already-encoded lines and makes them durable. On failure the log is cut back to
/// `expected_len`, so a failed append leaves nothing behind (a crash leaves a torn tail,
/// which the next writer moves aside).
pub(crate) fn append_durably(path: &Path, expected_len: u64, bytes: &[u8]) -> Result<(), LedgerError> {
    append(path, expected_len, bytes, true)
}

/// Appends `bytes` to the log at `path`, which must be `expected_len` bytes long, synced
/// (`fdatasync`) when `sync`; else the caller makes them durable later with
/// [`sync_appended`], before anything depends on them. A failed write (or sync) is undone:
/// the file is cut back to `expected_len`.
pub(crate) fn append(path: &Path, expected_len: u64, bytes: &[u8], sync: bool) -> Result<(), LedgerError> {
    let mut file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| LedgerError::io("open", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| LedgerError::io("read", path, e))?
        .len();
    if len != expected_len {
        return Err(LedgerError::corrupt(
            0,
            len,
            Problem::UnexpectedLength {
                expected: expected_len,
                found: len,
            },
        ));
    }
    #[cfg(debug_assertions)]
    if std::env::var_os("POPUG_LEDGER_CRASH_AT").is_some_and(|v| v == "append.torn") {
        let half = &bytes[..bytes.len() / 2];
        let _ = file.write_all(half).and_then(|_| file.sync_data());
        crate::crash_point("append.torn");
    }
    let result = file
        .write_all(bytes)
        .and_then(|_| if sync { file.sync_data() } else { Ok(()) });
    if let Err(e) = result {
        let _ = file.set_len(expected_len).and_then(|_| file.sync_data());
        return Err(LedgerError::io("append to", path, e));
    }
    Ok(())
}

/// Makes durable (one `fdatasync`) what was appended to the log at `path` since it was
/// `from` bytes long. When the sync fails, nothing after `from` can be known to be on disk:
/// the log is cut back to `from` (nothing after it was acknowledged), and the error says so.
pub(crate) fn sync_appended(path: &Path, from: u64) -> Result<(), LedgerError> {
    sync_data(path).inspect_err(|_| {
        let _ = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|file| file.set_len(from).and_then(|_| file.sync_data()));
    })
}

/// Makes the log at `path` durable (`fdatasync`; fail point `sync` in debug builds).
pub(crate) fn sync_data(path: &Path) -> Result<(), LedgerError> {
    let file = File::open(path).map_err(|e| LedgerError::io("open", path, e))?;
    crate::fail_point("sync", "sync", path)?;
    file.sync_data().map_err(|e| LedgerError::io("sync", path, e))
}

pub(crate) fn file_len(path: &Path) -> Result<u64, LedgerError> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| LedgerError::io("read", path, e))
}
