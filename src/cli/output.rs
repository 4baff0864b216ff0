//! Rendering: tables for people, one JSON document for scripts, errors on stderr in the
//! shape CLI.md promises. A closed pipe (`popug events | head`) ends the command quietly.

use std::io::{self, Write};
use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::error::{AppError, Kind, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// What `--format` accepts: an output format, or (for `task import` only) the input's
/// format, `csv` or `jsonl` (CLI.md gives `task import` its own `--format csv|jsonl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
    /// JSON lines (input of `task import` only)
    Jsonl,
}

impl FormatArg {
    /// As an output format; `None` for `jsonl`, which is only ever an input.
    pub fn output(self) -> Option<Format> {
        match self {
            FormatArg::Table => Some(Format::Table),
            FormatArg::Json => Some(Format::Json),
            FormatArg::Csv => Some(Format::Csv),
            FormatArg::Jsonl => None,
        }
    }

    /// As the input format of `task import`; `None` for `table` and `json`.
    pub fn input(self) -> Option<crate::tasks::ImportFormat> {
        match self {
            FormatArg::Csv => Some(crate::tasks::ImportFormat::Csv),
            FormatArg::Jsonl => Some(crate::tasks::ImportFormat::Jsonl),
            FormatArg::Table | FormatArg::Json => None,
        }
    }
}

pub struct Out {
    pub format: Format,
    pub color: bool,
    /// Whether the format was asked for on the command line (`--json`, `--format`) rather
    /// than taken from `POPUG_FORMAT`: only an explicit ask is refused by the commands whose
    /// output has one form (`man`, `completions`, a schema, the journal).
    pub explicit: bool,
    /// Whether stdout holds data a script reads in every format: the bare token of `login
    /// --print-token` and `token create`, the log lines of `events`, the CSV or journal of
    /// `export`. The notifications the command delivers then go to stderr, as text in the
    /// table format (see [`crate::cli::session::print_deliveries`]).
    pub stdout_is_data: bool,
    stdout: Sink,
}

/// Where an answer goes: standard output, or (for `popug serve`, which runs the same
/// commands for a request) a buffer that becomes the response body.
enum Sink {
    Stdout(io::StdoutLock<'static>),
    Buffer(Vec<u8>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(s) => s.write(buf),
            Sink::Buffer(b) => b.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.write_all(buf),
            Sink::Buffer(b) => b.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(s) => s.flush(),
            Sink::Buffer(_) => Ok(()),
        }
    }
}

pub fn io_error(e: io::Error) -> AppError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return AppError::new(Kind::Failure, "broken_pipe", "output closed");
    }
    AppError::new(Kind::Failure, "io_error", "cannot write the output").source(e)
}

impl Out {
    pub fn new(format: Format, color: bool) -> Out {
        Out {
            format,
            color,
            explicit: true,
            stdout_is_data: false,
            stdout: Sink::Stdout(io::stdout().lock()),
        }
    }

    /// An answer kept in memory rather than printed: what `popug serve` sends as a
    /// response body, byte for byte what the command prints under the same format.
    pub fn buffer(format: Format) -> Out {
        Out {
            format,
            color: false,
            explicit: true,
            stdout_is_data: false,
            stdout: Sink::Buffer(Vec::new()),
        }
    }

    /// Whether this answer goes to a person's terminal or a pipe (not a buffer): only then
    /// are a command's side notes (stdout-channel notifications) written to stderr.
    pub fn is_terminal_run(&self) -> bool {
        matches!(self.stdout, Sink::Stdout(_))
    }

    /// The bytes a buffered answer holds (empty for one printed to stdout).
    pub fn into_bytes(self) -> Vec<u8> {
        match self.stdout {
            Sink::Buffer(b) => b,
            Sink::Stdout(_) => Vec::new(),
        }
    }

    /// Whether the command line asked for a machine format (not `POPUG_FORMAT`).
    pub fn asked_for_document(&self) -> bool {
        self.explicit && self.format != Format::Table
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Whether the answer is a document for a machine (`--json` or `--format csv`): a
    /// command whose answer is one object prints it with [`Out::json`], which writes one
    /// JSON document, or under `--format csv` one header and one row (CLI.md).
    pub fn is_document(&self) -> bool {
        self.format != Format::Table
    }

    /// Writes bytes as they are.
    pub fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.stdout.write_all(bytes).map_err(io_error)
    }

    /// A sentence for people. Under `--format csv` it goes to stderr: stdout holds exactly
    /// one CSV table (CLI.md).
    pub fn line(&mut self, text: &str) -> Result<()> {
        if self.format == Format::Csv {
            if self.is_terminal_run() {
                let _ = writeln!(io::stderr().lock(), "{text}");
            }
            return Ok(());
        }
        writeln!(self.stdout, "{text}").map_err(io_error)
    }

    pub fn flush(&mut self) -> Result<()> {
        self.stdout.flush().map_err(io_error)
    }

    /// A progress bar over bytes on stderr: drawn only for people (a terminal, table format),
    /// hidden when stderr is piped or the output is for a machine.
    pub fn progress_bar(&self, what: &str) -> indicatif::ProgressBar {
        use std::io::IsTerminal;
        if self.format != Format::Table || !io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        bar
    }

    /// The one JSON document of a `--json` run; under `--format csv`, the same document as
    /// one CSV table ([`json_table`]).
    pub fn json(&mut self, value: &impl Serialize) -> Result<()> {
        if self.format == Format::Csv {
            let value = serde_json::to_value(value).map_err(|e| io_error(e.into()))?;
            let (header, rows) = json_table(&value);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            return self.table(&header, rows);
        }
        serde_json::to_writer(&mut self.stdout, value).map_err(|e| io_error(e.into()))?;
        writeln!(self.stdout).map_err(io_error)
    }

    /// A table for people, or CSV with a header row under `--format csv`.
    pub fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) -> Result<()> {
        if self.format == Format::Csv {
            let mut w = csv::Writer::from_writer(&mut self.stdout);
            let csv_err = |e: csv::Error| match e.into_kind() {
                csv::ErrorKind::Io(io) => io_error(io),
                other => AppError::new(Kind::Failure, "internal", format!("cannot write CSV: {other:?}")),
            };
            w.write_record(header).map_err(csv_err)?;
            for r in rows {
                w.write_record(csv_record(&r)).map_err(csv_err)?;
            }
            return w.flush().map_err(io_error);
        }
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        if !self.color {
            t.force_no_tty();
        }
        t.set_header(header.iter().copied());
        for r in rows {
            t.add_row(r);
        }
        self.line(&t.to_string())
    }

    /// Ends the command: prints the error (if any) on stderr and returns the exit code.
    pub fn finish(mut self, result: Result<()>) -> ExitCode {
        let flushed = result.and_then(|()| self.flush());
        match flushed {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.code == "broken_pipe" => ExitCode::SUCCESS,
            Err(e) => {
                print_error(&e, self.is_json());
                ExitCode::from(e.exit_code())
            }
        }
    }
}

/// A CSV cell as written (CLI.md, "CSV"): text that a spreadsheet would read as a formula
/// (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so
/// a title such as `=HYPERLINK(…)` is shown, never run (OWASP's CSV injection advice).
/// Numbers (`-12.50`, `+3`) are written as they are: amounts stay numeric.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_number(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// A JSON answer as a table: an array of objects is one row each; an object is one row,
/// unless it holds exactly one list of objects (a shuffle's tasks, a payment run's
/// payments), which gives one row per item, the object's other fields repeated and the
/// item's fields named `list.field`. The columns are the keys in their order (a nested
/// object's keys as `outer.inner`); any other list is written as JSON in its cell, null
/// as an empty cell.
pub fn json_table(value: &serde_json::Value) -> (Vec<String>, Vec<Vec<String>>) {
    use serde_json::Value;
    fn flatten(prefix: &str, v: &Value, skip: Option<&str>, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if Some(k.as_str()) == skip {
                        continue;
                    }
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, None, out);
                }
            }
            Value::Null => out.push((prefix.to_owned(), String::new())),
            Value::String(s) => out.push((prefix.to_owned(), s.clone())),
            other => out.push((prefix.to_owned(), other.to_string())),
        }
    }
    let is_list_of_objects = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_object));
    let mut cells: Vec<Vec<(String, String)>> = Vec::new();
    match value {
        Value::Array(items) => {
            for o in items {
                let mut row = Vec::new();
                flatten(if o.is_object() { "" } else { "value" }, o, None, &mut row);
                cells.push(row);
            }
        }
        Value::Object(map) => {
            let lists: Vec<&String> = map
                .iter()
                .filter(|(_, v)| is_list_of_objects(v))
                .map(|(k, _)| k)
                .collect();
            let mut common = Vec::new();
            match lists.as_slice() {
                [list] => {
                    flatten("", value, Some(list.as_str()), &mut common);
                    let items = map[list.as_str()].as_array().expect("a list");
                    if items.is_empty() {
                        cells.push(common.clone());
                    }
                    for item in items {
                        let mut row = common.clone();
                        flatten(list, item, None, &mut row);
                        cells.push(row);
                    }
                }
                _ => {
                    flatten("", value, None, &mut common);
                    cells.push(common);
                }
            }
        }
        other => {
            let mut row = Vec::new();
            flatten("value", other, None, &mut row);
            cells.push(row);
        }
    }
    let mut header: Vec<String> = Vec::new();
    for row in &cells {
        for (k, _) in row {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let rows = cells
        .into_iter()
        .map(|row| {
            header
                .iter()
                .map(|h| {
                    row.iter()
                        .find(|(k, _)| k == h)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    (header, rows)
}

/// A row's cells as [`csv_cell`] writes them, for `csv::Writer::write_record`.
pub fn csv_record(row: &[String]) -> impl Iterator<Item = CsvCell<'_>> {
    row.iter().map(|c| CsvCell(csv_cell(c)))
}

/// One cell of [`csv_record`].
pub struct CsvCell<'a>(std::borrow::Cow<'a, str>);

impl AsRef<[u8]> for CsvCell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A plain decimal number, signed or not: `-12`, `+3.50`, `0.5`.
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

pub fn print_error(e: &AppError, json: bool) {
    let mut err = io::stderr().lock();
    if json {
        let mut body = serde_json::json!({ "code": e.code, "message": e.message });
        if let Some(h) = &e.hint {
            body["hint"] = h.clone().into();
        }
        let causes = e.causes();
        if !causes.is_empty() {
            body["causes"] = causes.into();
        }
        let _ = writeln!(err, "{}", serde_json::json!({ "error": body }));
    } else {
        // a message may quote input (a file's cell, a login): whatever it holds, it cannot
        // drive the terminal (JSON escapes control characters by itself)
        use crate::text::shown;
        let _ = writeln!(err, "error: {}", shown(&e.message));
        for c in e.causes() {
            let _ = writeln!(err, "  caused by: {}", shown(&c));
        }
        if let Some(h) = &e.hint {
            let _ = writeln!(err, "hint: {}", shown(h));
        }
    }
}

/// clap's own errors: help and version go to stdout with exit 0, usage errors exit 2.
pub fn clap_error(e: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                return ExitCode::from(Kind::Usage as u8);
            }
            ExitCode::SUCCESS
        }
        _ if json => {
            // the whole message (a missing argument is named on the lines after the first),
            // without the usage and the pointer to --help
            let text = e.render().to_string();
            let message = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
                .trim_start_matches("error: ")
                .to_owned();
            print_error(&AppError::new(Kind::Usage, "usage", message), true);
            ExitCode::from(Kind::Usage as u8)
        }
        _ => {
            // a usage error quotes what was typed: shown escaped, never sent to the terminal
            let text = e.render().to_string();
            let mut err = io::stderr().lock();
            for line in text.lines() {
                let _ = writeln!(err, "{}", crate::text::shown(line));
            }
            ExitCode::from(Kind::Usage as u8)
        }
    }
}

#[cfg(test)]
mod csv_cells {
    use super::csv_cell;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-12.50", "-12.50"),
            ("+3", "+3"),
            ("-", "'-"),
            ("Fix the beak", "Fix the beak"),
            ("2026-11-27", "2026-11-27"),
        ] {
            assert_eq!(csv_cell(cell), written, "{cell:?}");
        }
    }
}
