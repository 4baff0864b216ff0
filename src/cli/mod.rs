//! The command line: clap definitions, dispatch, and the mapping of errors to output and
//! exit codes. One file per command; this one only parses and dispatches.

pub(crate) mod analytics;
pub(crate) mod audit;
pub(crate) mod balance;
pub(crate) mod earnings;
pub(crate) mod events;
pub(crate) mod export;
mod import;
mod init;
mod ledger;
pub(crate) mod login;
mod man;
pub mod output;
pub(crate) mod passwd;
pub(crate) mod pay_daily;
mod rebuild;
mod report;
mod schema;
pub(crate) mod session;
pub(crate) mod shuffle;
pub(crate) mod task;
mod token;
pub mod user;
pub(crate) mod verify;
mod worker;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::app::Env;
use crate::error::{AppError, Result};
use crate::tasks::ImportFormat;
use output::{Format, Out};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "popug",
    version,
    about = "The Popug task tracker: tasks, accounting and daily payouts on a hash-chained event ledger",
    long_about = None,
    after_help = "Environment: POPUG_LEDGER, POPUG_FORMAT, POPUG_TOKEN, POPUG_NOW (RFC 3339 instant used as now; at most 5 minutes ahead of the real clock), \
                  POPUG_SEED (read by init: a seeded ledger for tests and demos; later commands accept only the ledger's own seed), NO_COLOR.\n\
                  Exit codes: 0 ok, 1 failure, 2 invalid input, 3 not allowed, 4 not found, 5 conflict, 6 ledger damaged."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The ledger directory [default: ~/.local/share/popug]
    #[arg(long, global = true, env = "POPUG_LEDGER", value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Print exactly one JSON document on stdout (same as --format json)
    #[arg(long, global = true)]
    pub json: bool,
    /// Output format (also POPUG_FORMAT); for `task import`, the input's format (csv, jsonl)
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<output::FormatArg>,
    /// Plain output without colour (also NO_COLOR)
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// Each subcommand's arguments are built only when it is the one being parsed
/// (`#[command(defer = true)]`, clap's `Command::defer`): building all of them took 0.17 ms of
/// every command's start, for the one it runs. Help, completions and manual pages build
/// the whole tree as before.
#[derive(Debug, Clone, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a ledger and its first admin; prints the admin's temporary password once
    Init(init::InitArgs),
    /// Sign in: checks the password and saves a session for this OS user and ledger
    Login(login::LoginArgs),
    /// Sign out: ends the saved session
    Logout,
    /// Who is signed in
    Whoami,
    /// Change your password
    Passwd(passwd::PasswdArgs),
    /// API tokens for automation (cron)
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Users: add, list, show, set-role, deactivate, reset-password
    #[command(subcommand)]
    User(user::UserCommand),
    /// Tasks: create, done, list, show, import
    #[command(subcommand)]
    Task(task::TaskCommand),
    /// Reassign every open task to a random worker (admins, managers)
    Shuffle,
    /// Pay every positive balance at the end of a day (admins, accountants; cron)
    PayDaily(pay_daily::PayDailyArgs),
    /// A balance: yours, someone's, or everyone's
    Balance(balance::BalanceArgs),
    /// An account's transactions with running balance, oldest first
    Audit(audit::AuditArgs),
    /// Management earnings per day: fees charged minus rewards paid (admins, accountants)
    Earnings(earnings::RangeArgs),
    /// A day's earnings, workers in the red, and the most expensive task of the day, week and month (admins)
    Analytics(analytics::AnalyticsArgs),
    /// CSV exports, or the accounting journal for hledger/ledger (admins, accountants)
    Export(export::ExportArgs),
    /// Print the log as JSON lines, exactly as stored (admins)
    Events(events::EventsArgs),
    /// Check every invariant of the ledger; exit 6 naming the first problem
    Verify,
    /// Recreate the stores (views/*.db) from the log (admins)
    Rebuild,
    /// The JSON Schema of an event type (TYPE or TYPE@VERSION); without one, the catalogue
    Schema { r#type: Option<String> },
    /// Serve the web dashboards and the JSON API /api/v1/ over this ledger, until SIGTERM
    Serve {
        /// The address and port to listen on (loopback unless you choose otherwise)
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
    },
    /// Leave the reactions of these contexts (accounting, payments, notifications, all) to
    /// `popug worker`; with none, commands run every reaction again (admins)
    HandOver {
        /// accounting, payments, notifications or all; none: take them all back
        contexts: Vec<String>,
    },
    /// Run the reactions of these contexts (accounting, payments, notifications, all) as
    /// the log grows, until SIGTERM (an admin's API token)
    Worker {
        /// accounting, payments, notifications or all
        #[arg(required = true)]
        contexts: Vec<String>,
        /// Catch up once and exit
        #[arg(long)]
        once: bool,
    },
    /// The ledger as a whole: copy it to a new place (a directory or nats://)
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): every subcommand and flag, or one command's page
    Man {
        /// A command, e.g. `task create` (default: popug and every subcommand)
        command: Vec<String>,
    },
}

/// Parses `args`, runs the command and returns the exit code of CLI.md.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let wants_json = args.iter().any(|a| a == "--json")
        || args.windows(2).any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    // known before parsing, so that help and usage errors are plain too
    let color =
        !args.iter().any(|a| a == "--no-color") && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let command = Cli::command().color(if color {
        clap::ColorChoice::Auto
    } else {
        clap::ColorChoice::Never
    });
    let cli = match command
        .try_get_matches_from(&args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return output::clap_error(e, wants_json),
    };
    let (format, input_format) = match formats(&cli) {
        Ok(f) => f,
        Err(e) => {
            let out = Out::new(if wants_json { Format::Json } else { Format::Table }, color);
            return out.finish(Err(e));
        }
    };
    let mut out = Out::new(format, color);
    out.explicit = cli.global.json || cli.global.format.is_some();
    let result = run(cli, &mut out, input_format);
    out.finish(result)
}

/// The output format (`--json`, else `--format`, else POPUG_FORMAT, else table) and, for
/// `task import`, the input format its `--format` names.
fn formats(cli: &Cli) -> Result<(Format, Option<ImportFormat>)> {
    let importing = matches!(cli.command, Command::Task(task::TaskCommand::Import { .. }));
    let env_format = match std::env::var("POPUG_FORMAT") {
        Ok(s) if !s.is_empty() => Some(match s.as_str() {
            "table" => Format::Table,
            "json" => Format::Json,
            "csv" => Format::Csv,
            _ => {
                return Err(
                    AppError::usage(format!("POPUG_FORMAT `{}` is not an output format", s))
                        .hint("use table, json or csv"),
                );
            }
        }),
        _ => None,
    };
    let (flag_output, input) = match cli.global.format {
        None => (None, None),
        Some(f) if importing => {
            let input = f.input().ok_or_else(|| {
                AppError::usage(format!(
                    "`task import --format` names the input's format (csv or jsonl), not `{}`",
                    format!("{f:?}").to_lowercase()
                ))
                .hint("use --json for a JSON answer")
            })?;
            (None, Some(input))
        }
        Some(f) => {
            let output = f.output().ok_or_else(|| {
                AppError::usage("jsonl is an input format of `task import`, not an output format")
                    .hint("use --format table, json or csv")
            })?;
            (Some(output), None)
        }
    };
    let output = if cli.global.json {
        Format::Json
    } else {
        flag_output.or(env_format).unwrap_or(Format::Table)
    };
    Ok((output, input))
}

fn run(cli: Cli, out: &mut Out, input_format: Option<ImportFormat>) -> Result<()> {
    match cli.command {
        Command::Completions { shell } => {
            refuse_formats(out, "completions", "a shell script")?;
            out.format = Format::Table;
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "popug", &mut buf);
            out.raw(&buf)
        }
        Command::Schema { r#type } => schema::schema(out, r#type),
        Command::Ledger(cmd) => ledger::run(out, cmd),
        Command::Man { command } => {
            refuse_formats(out, "man", "a manual page (roff)")?;
            out.format = Format::Table;
            out.raw(&man::render(&command)?)
        }
        command => {
            let env = Env::new(cli.global.ledger)?;
            // the notifications the command delivered are printed after its own output
            // (CLI.md), also when it then fails; but a failed command's stderr under
            // `--json` or `--format csv` is its error document alone, for the script that
            // reads it (they stay in the log, and on the Ledger page)
            let done = run_on_ledger(&env, out, command, input_format);
            if done.is_err() && out.format != Format::Table {
                env.stdout_deliveries.take();
                return done;
            }
            let printed = session::print_deliveries(out, &env);
            done.and(printed)
        }
    }
}

/// Runs a command that needs a ledger: once on a file ledger; on JetStream again after each
/// lost race to append.
fn run_on_ledger(
    env: &Env,
    out: &mut Out,
    command: Command,
    input_format: Option<ImportFormat>,
) -> Result<()> {
    if env.shared.is_none() {
        // a one-shot command on a file ledger opens it once or twice and exits as
        // soon as it is done: its stores are released by the exit rather than closed
        // one by one. Not a server or a running worker (they open ledgers without
        // end), nor a JetStream ledger, whose commands open it again after each lost
        // race to append
        if !matches!(
            command,
            Command::Serve { .. } | Command::Worker { once: false, .. }
        ) {
            popug_ledger::leave_stores_open_at_exit();
        }
        return dispatch(env, out, command, input_format);
    }
    // a command that lost the race to append wrote nothing: it runs again
    crate::app::retry_conflicts(env, || dispatch(env, out, command.clone(), input_format))
}

/// Runs one command that needs a ledger.
fn dispatch(env: &Env, out: &mut Out, command: Command, input_format: Option<ImportFormat>) -> Result<()> {
    match command {
        Command::Init(args) => init::run(env, out, args),
        Command::Login(args) => login::login(env, out, args),
        Command::Logout => login::logout(env, out),
        Command::Whoami => login::whoami(env, out),
        Command::Passwd(args) => passwd::passwd(env, out, args),
        Command::Token(cmd) => token::token(env, out, cmd),
        Command::User(cmd) => user::run(env, out, cmd),
        Command::Task(task::TaskCommand::Import {
            file,
            idempotency_key,
        }) => import::import(env, out, &file, input_format, idempotency_key),
        Command::Task(cmd) => task::run(env, out, cmd),
        Command::Shuffle => shuffle::shuffle(env, out),
        Command::PayDaily(args) => pay_daily::pay_daily(env, out, args),
        Command::Balance(args) => balance::balance(env, out, args),
        Command::Audit(args) => audit::audit(env, out, args),
        Command::Earnings(args) => earnings::earnings(env, out, args),
        Command::Analytics(args) => analytics::analytics(env, out, args),
        Command::Export(args) => export::export(env, out, args),
        Command::Events(args) => events::events(env, out, args),
        Command::Verify => verify::verify(env, out),
        Command::HandOver { contexts } => worker::hand_over(env, out, contexts),
        Command::Worker { contexts, once } => worker::worker(env, out, contexts, once),
        Command::Rebuild => rebuild::rebuild(env, out),
        Command::Serve { bind } => {
            refuse_formats(out, "serve", "a web server")?;
            crate::web::serve(env.clone(), bind)
        }
        Command::Completions { .. } | Command::Man { .. } | Command::Schema { .. } | Command::Ledger(_) => {
            unreachable!("handled above")
        }
    }
}

/// `man` and `completions` print a document of their own kind: `--json` and `--format` are
/// refused (exit 2) rather than ignored (CLI.md).
fn refuse_formats(out: &mut Out, command: &str, what: &str) -> Result<()> {
    if out.asked_for_document() {
        return Err(AppError::usage(format!(
            "`{command}` prints {what}; it has no --json or --format"
        )));
    }
    Ok(())
}

/// The clap command, for completions and man pages generated outside the binary, built:
/// every subcommand's arguments are in it (the binary builds only the one it parses, see
/// [`Command`]).
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}
