//! Typed reports: what a read command answers, rendered in every form CLI.md promises from
//! one value. A report is a JSON document for scripts (`--json`), and for people a few
//! sentences and a table; under `--format csv` a list report prints its table and an object
//! report its document as one table (`Out::json`).
//!
//! Every command answers through [`Out::report`] but three that write as they go, so that
//! memory does not grow with the answer: `shuffle` (its JSON streams one reassigned task at
//! a time; a shuffle may move 100,000 tasks), `export` (rows to a file or stdout) and
//! `events` (log lines as they are read).

use crate::cli::output::{Format, Out};
use crate::error::Result;

/// A table: headers and rows.
pub type Table = (Vec<&'static str>, Vec<Vec<String>>);

/// What a person reads: sentences, a table, then sentences after it.
#[derive(Default)]
pub struct Human {
    pub lines: Vec<String>,
    pub table: Option<Table>,
    pub after: Vec<String>,
}

impl Human {
    /// A table alone.
    pub fn table(table: Table) -> Human {
        Human {
            table: Some(table),
            ..Human::default()
        }
    }
}

/// A command's answer, in every form (see the module documentation).
pub trait Report {
    /// A list (its CSV is its table) rather than one object (its CSV is the document).
    const LIST: bool;
    /// The JSON document of `--json`, in the shape CLI.md gives.
    fn document(&self) -> serde_json::Value;
    /// The sentences and table of the default output.
    fn human(&self) -> Human;
    /// The CSV table of a list report, when it is not the human table (`None`: it is).
    fn csv(&self) -> Option<Table> {
        None
    }
}

impl Out {
    /// Prints `report` in this run's format.
    pub fn report<R: Report>(&mut self, report: &R) -> Result<()> {
        let csv_table = R::LIST && self.format == Format::Csv;
        if self.is_document() && !csv_table {
            return self.json(&report.document());
        }
        if csv_table && let Some((header, rows)) = report.csv() {
            return self.table(&header, rows);
        }
        let human = report.human();
        for line in &human.lines {
            self.line(line)?;
        }
        if let Some((header, rows)) = human.table {
            self.table(&header, rows)?;
        }
        for line in &human.after {
            self.line(line)?;
        }
        Ok(())
    }
}

/// The answer of a command that does something (creates a task, pays a day, signs in): one
/// JSON object for scripts (its CSV is that object as one table), sentences and maybe a
/// table for people.
pub struct Answer {
    pub document: serde_json::Value,
    pub human: Human,
}

impl Answer {
    /// An answer that people read as `lines`.
    pub fn new(document: serde_json::Value, lines: Vec<String>) -> Answer {
        Answer {
            document,
            human: Human {
                lines,
                ..Human::default()
            },
        }
    }

    /// The same answer with a table after its sentences.
    pub fn with_table(mut self, table: Table) -> Answer {
        self.human.table = Some(table);
        self
    }
}

impl Report for Answer {
    const LIST: bool = false;
    fn document(&self) -> serde_json::Value {
        self.document.clone()
    }
    fn human(&self) -> Human {
        Human {
            lines: self.human.lines.clone(),
            table: self.human.table.clone(),
            after: self.human.after.clone(),
        }
    }
}
