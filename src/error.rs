//! Errors a person can act on: a kind (which decides the exit code of CLI.md), a message,
//! the cause chain, and a hint about what to do next.

use std::fmt;

use popug_ledger::LedgerError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// I/O or internal failure.
    Failure = 1,
    /// Usage or invalid input.
    Usage = 2,
    /// Not signed in, bad credentials or not allowed.
    Denied = 3,
    NotFound = 4,
    /// Login taken, task already done, ledger exists.
    Conflict = 5,
    /// The ledger is damaged.
    Damaged = 6,
}

#[derive(Debug)]
pub struct AppError {
    pub kind: Kind,
    /// A stable machine-readable code for `--json` (`"ledger_damaged"`, …).
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AppError {
    /// A shared log refused the command's append because another host appended first:
    /// nothing was written, and deciding again may succeed.
    pub fn is_conflict(&self) -> bool {
        self.code == "conflict"
    }

    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            code,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> AppError {
        AppError::new(Kind::Usage, "invalid_input", message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> AppError {
        self.hint = Some(hint.into());
        self
    }

    pub fn source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> AppError {
        self.source = Some(Box::new(source));
        self
    }

    /// Says where the problem is: `row 3: the title is empty`.
    pub fn context(mut self, place: &str) -> AppError {
        self.message = format!("{place}: {}", self.message);
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.kind as u8
    }

    /// The causes below the message, outermost first.
    pub fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = next {
            out.push(e.to_string());
            next = e.source();
        }
        out
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The auth context's refusals at the CLI boundary: each its exit code, code and hint.
impl From<crate::auth::decide::AuthError> for AppError {
    fn from(e: crate::auth::decide::AuthError) -> AppError {
        use crate::auth::decide::AuthError as A;
        let (kind, code, hint) = match &e {
            A::LoginTaken(_) => (Kind::Conflict, "login_taken", "choose another login"),
            A::LastAdmin(_) => (Kind::Conflict, "last_admin", "make someone else an admin first"),
            A::NoToken(_) => (Kind::NotFound, "no_token", "`popug token list` shows your tokens"),
            A::TokenRevoked(_) => (
                Kind::Conflict,
                "token_revoked",
                "`popug token list` shows your tokens",
            ),
            A::BadCredentials => return AppError::new(Kind::Denied, "bad_credentials", e.to_string()),
            A::BadTokenName => return AppError::usage(e.to_string()),
        };
        AppError::new(kind, code, e.to_string()).hint(hint)
    }
}

/// The tasks context's refusals at the CLI boundary: each its exit code, code and hint.
impl From<crate::tasks::TaskError> for AppError {
    fn from(e: crate::tasks::TaskError) -> AppError {
        use crate::tasks::TaskError as T;
        let (kind, code, hint) = match &e {
            T::EmptyTitle
            | T::TitleTooLong
            | T::TitleForbiddenCharacter
            | T::DescriptionTooLong
            | T::DescriptionForbiddenCharacter
            | T::BadIdempotencyKey => (Kind::Usage, "invalid_input", None),
            T::TitleBracket => (
                Kind::Usage,
                "invalid_input",
                Some("put the Jira id in --jira-id, e.g. `popug task create \"Fix beak\" --jira-id POP-42`"),
            ),
            T::BadJiraId(_) => (
                Kind::Usage,
                "invalid_input",
                Some("a Jira id looks like POP-42: capital letters, a dash, a number"),
            ),
            T::NoWorkers => (
                Kind::Conflict,
                "no_workers",
                Some("add one with `popug user add LOGIN --role worker`"),
            ),
            T::NoWorkerToHandOverTo(_) => (
                Kind::Conflict,
                "no_workers",
                Some("add a worker first with `popug user add LOGIN --role worker`"),
            ),
            T::NotAssignee { .. } => (
                Kind::Denied,
                "not_assignee",
                Some("`popug task list` shows your open tasks"),
            ),
            T::AlreadyDone(_) => (Kind::Conflict, "task_done", None),
            T::NoTask(_) => (
                Kind::NotFound,
                "no_task",
                Some("`popug task list` shows your tasks; a task is named by its number or id"),
            ),
            T::IdempotencyKeyReused(_) => (
                Kind::Conflict,
                "idempotency_key_reused",
                Some("use a new key for a new request; the same key only repeats the same request"),
            ),
        };
        let err = AppError::new(kind, code, e.to_string());
        match hint {
            Some(h) => err.hint(h),
            None => err,
        }
    }
}

/// The scheduler's refusals at the CLI boundary.
impl From<crate::scheduler::ScheduleError> for AppError {
    fn from(e: crate::scheduler::ScheduleError) -> AppError {
        use crate::scheduler::ScheduleError as S;
        let hint = match &e {
            S::NotBegun { .. } => "pay today or an earlier day",
            S::BeforeLedger { .. } => "pay a day on or after the ledger's first day",
        };
        AppError::usage(e.to_string()).hint(hint)
    }
}

impl From<LedgerError> for AppError {
    fn from(e: LedgerError) -> AppError {
        let (kind, code, hint) = match &e {
            // the log is intact: a store holds other rows than its replay (derived data)
            LedgerError::Corrupt {
                problem: popug_ledger::Problem::ReplayMismatch { .. },
                ..
            } => (
                Kind::Damaged,
                "ledger_damaged",
                Some(
                    "the log is intact and the stores are derived from it: `popug rebuild` builds them anew",
                ),
            ),
            LedgerError::Corrupt { .. } => (
                Kind::Damaged,
                "ledger_damaged",
                Some(
                    "`popug verify` checks the whole ledger; restore events.jsonl from a backup, the projections are rebuilt from it",
                ),
            ),
            LedgerError::NotFound(_) => (
                Kind::NotFound,
                "no_ledger",
                Some("create one with `popug init`, or point at one with --ledger DIR or POPUG_LEDGER"),
            ),
            LedgerError::AlreadyExists(_) => (
                Kind::Conflict,
                "ledger_exists",
                Some("choose another directory with --ledger DIR"),
            ),
            LedgerError::Interrupted => (
                Kind::Failure,
                "interrupted",
                Some("the old projections are in place and nothing was left behind; run it again"),
            ),
            LedgerError::NotEmpty(_) => (
                Kind::Conflict,
                "directory_not_empty",
                Some("give --ledger a new or empty directory; popug creates it private (0700)"),
            ),
            LedgerError::ClockBehind { .. } => (
                Kind::Usage,
                "clock_behind",
                Some("POPUG_NOW must not be earlier than the last event; unset it to use the system clock"),
            ),
            LedgerError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => (
                Kind::Failure,
                "io_error",
                Some("check that you own the ledger directory and that it is writable"),
            ),
            LedgerError::Io { source, .. } if source.raw_os_error() == Some(libc::ENOSPC) => (
                Kind::Failure,
                "disk_full",
                Some("free some space; nothing was written"),
            ),
            LedgerError::Io { source, .. } if source.raw_os_error() == Some(libc::EROFS) => (
                Kind::Failure,
                "read_only",
                Some("the ledger is on a read-only filesystem; nothing was written"),
            ),
            // a failed sync cuts the log back to its last durable byte (a command whose own
            // batch was durable before is `recorded_not_applied` instead)
            LedgerError::SyncFailed { .. } => (
                Kind::Failure,
                "io_error",
                Some(
                    "the disk could not make the log durable: this command's events were taken back and nothing was recorded; run it again once the disk is sound",
                ),
            ),
            // another program (an `sqlite3` shell, a backup tool) held a store's write lock
            // for longer than a writer waits (30 s)
            LedgerError::Db { source, .. }
                if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
            {
                (
                    Kind::Failure,
                    "store_locked",
                    Some(
                        "another program holds this store of the ledger open for writing (an `sqlite3` shell, \
                         a backup tool): close it and run the command again",
                    ),
                )
            }
            LedgerError::Db { path, .. } => match filesystem_trouble(path) {
                Some(FsTrouble::ReadOnly) => (
                    Kind::Failure,
                    "read_only",
                    Some("the ledger is on a read-only filesystem; nothing was written"),
                ),
                Some(FsTrouble::Full) => (
                    Kind::Failure,
                    "disk_full",
                    Some("the disk holding the ledger is full; free some space"),
                ),
                None => (Kind::Failure, "internal", None),
            },
            LedgerError::Conflict { .. } => (
                Kind::Conflict,
                "conflict",
                Some("other hosts kept writing first; nothing was written: run it again"),
            ),
            LedgerError::Shared { .. } => (
                Kind::Failure,
                "ledger_unavailable",
                Some(
                    "check that the NATS servers are up and have a quorum (`nats-server` with -js); \
                     an append that was not acknowledged may still be stored once, never twice: look before \
                     repeating it (with --idempotency-key a retry is safe)",
                ),
            ),
            LedgerError::SharedExists(_) => (
                Kind::Conflict,
                "ledger_exists",
                Some("choose another ledger name after the servers: nats://HOST:PORT/NAME"),
            ),
            LedgerError::Leased { .. } => (
                Kind::Conflict,
                "worker_running",
                Some("one `popug worker` per context at a time across the cluster: stop the other one first"),
            ),
            LedgerError::Diverged { .. } => (
                Kind::Damaged,
                "ledger_damaged",
                Some(
                    "nothing was written; the message names the copy to remove if the stream was made again on purpose",
                ),
            ),
            LedgerError::UnfinishedCopy(_) => (
                Kind::NotFound,
                "no_ledger",
                Some(
                    "run the `popug ledger copy` again: it starts over, and the stream opens once the copy is whole",
                ),
            ),
            LedgerError::SharedNotFound(_) => (
                Kind::NotFound,
                "no_ledger",
                Some(
                    "create it with `popug init --ledger nats://HOST:PORT/NAME`, or copy one there with `popug ledger copy`",
                ),
            ),
            LedgerError::Unapplied { source, .. } if source.is_conflict() => (
                Kind::Failure,
                "recorded_not_applied",
                Some(
                    "the command happened: do not repeat it; other hosts kept appending, and the next command finishes its reactions",
                ),
            ),
            LedgerError::Unapplied { .. } => (
                Kind::Failure,
                "recorded_not_applied",
                Some(
                    "the command happened: do not repeat it (with --idempotency-key a retry is safe); \
                     fix the cause (free some space), and the next command brings the stores up to date",
                ),
            ),
            LedgerError::React { .. } | LedgerError::Flush { .. } => (
                Kind::Failure,
                "internal",
                Some(
                    "what the command decided may already be in the log: fix the cause, and the next \
                     command finishes the pending reactions, once (`popug verify` shows the reaction lag)",
                ),
            ),
            _ => (Kind::Failure, "internal", None),
        };
        let mut message = e.to_string();
        if code == "read_only" || code == "disk_full" {
            message = format!(
                "{message}: {}",
                if code == "read_only" {
                    "read-only filesystem"
                } else {
                    "no space left on the device"
                }
            );
        }
        let source = match e {
            LedgerError::Io { source, .. } => {
                Some(Box::new(source) as Box<dyn std::error::Error + Send + Sync>)
            }
            LedgerError::Db { source, .. } => Some(Box::new(source) as _),
            LedgerError::Apply { source, .. }
            | LedgerError::React { source, .. }
            | LedgerError::Flush { source, .. } => Some(source),
            LedgerError::Encode(source) => Some(Box::new(source) as _),
            LedgerError::Unapplied { source, .. } | LedgerError::SyncFailed { source, .. } => {
                Some(source as _)
            }
            _ => None,
        };
        AppError {
            kind,
            code,
            message,
            hint: hint.map(str::to_owned),
            source,
        }
    }
}

/// An I/O failure outside the engine (session files, reading stdin, the ledger directory).
impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> AppError {
        AppError::new(Kind::Failure, "io_error", "an input or output operation failed").source(e)
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

enum FsTrouble {
    ReadOnly,
    Full,
}

/// Why a write under `path` may have failed, from the filesystem's own state: SQLite reports a
/// full or read-only disk as a generic I/O or open error.
fn filesystem_trouble(path: &std::path::Path) -> Option<FsTrouble> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent()?;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own and reads the NUL-terminated path.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    if st.f_flag & libc::ST_RDONLY != 0 {
        return Some(FsTrouble::ReadOnly);
    }
    // less than 64 KiB left for an unprivileged writer counts as full
    if (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) < 64 * 1024 {
        return Some(FsTrouble::Full);
    }
    None
}
