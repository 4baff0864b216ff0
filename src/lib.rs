//! popug: the Popug task tracker on a hash-chained event ledger.
//!
//! One folder per bounded context (`auth`, `scheduler`, …), each with its events, its
//! decisions and its projection; `cli` parses, authorizes, renders; `web` serves the same
//! commands as pages and a JSON API. Contexts talk only through the ledger.

pub mod accounting;
pub mod analytics;
pub mod app;
pub mod auth;
pub mod cli;
pub mod error;
pub mod events;
pub mod files;
pub mod handover;
pub mod ids;
pub mod invariants;
pub mod money;
pub mod notifications;
pub mod payments;
pub mod read;
pub mod scheduler;
pub mod tasks;
#[cfg(test)]
pub(crate) mod testkit;
pub mod text;
pub mod web;
pub mod zone;

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs popug with these arguments and returns its exit code (see CLI.md).
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    // Everything popug creates is private to its owner, whatever the caller's umask.
    // SAFETY: umask only changes this process's file-creation mask; no memory is involved.
    unsafe {
        libc::umask(0o077);
    }
    // before any thread opens a connection (see its docs)
    popug_ledger::configure_sqlite();
    cli::main(args)
}
