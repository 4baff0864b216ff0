//! The scheduler context: the ledger's calendar (its timezone, set once at `init`) and the
//! days paid. Its store is `views/scheduler.db`; other contexts learn the timezone from
//! `LedgerInitialized` into a copy of their own ([`CalendarCopy`]), never from this store.
//! Uses the ledger's projection interface and the bundled tz database (`crate::zone`);
//! nothing of the CLI.

use crate::events::{PopugEvent, decode};
use crate::zone::Zone;
use popug_ledger::{BoxError, Event, Projection, Replay};
use rusqlite::{Connection, OptionalExtension, Statement};

use crate::events::MakeDailyPaymentsCommand;

/// The scheduler's store: `views/scheduler.db`.
pub const STORE: &str = "scheduler";
/// The version of this store's tables (DESIGN §4): bump it when they change, and the store
/// alone is rebuilt from the log on open.
pub const STORE_VERSION: u32 = 1;

/// `settings`: the one row of ledger-wide settings; `payment_days`: every day a payment
/// run paid, from its first run on.
pub struct Calendar;

impl Projection for Calendar {
    fn name(&self) -> &str {
        "scheduler.calendar"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), ledger_id TEXT NOT NULL,
                 timezone TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;
             CREATE TABLE payment_days (date TEXT PRIMARY KEY, seq INTEGER NOT NULL, at TEXT NOT NULL) STRICT;",
        )
    }

    fn replay<'db>(&self, db: &'db Connection) -> rusqlite::Result<Option<Box<dyn Replay + 'db>>> {
        Ok(Some(Calendar::fold(db)?))
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            PopugEvent::LedgerInitialized(e) => {
                db.prepare_cached(
                    "INSERT INTO settings (id, ledger_id, timezone, created_at) VALUES (1, ?1, ?2, ?3)",
                )?
                .execute((
                    &e.ledger_id,
                    &e.timezone,
                    popug_ledger::line::format_at(&event.at),
                ))?;
            }
            PopugEvent::MakeDailyPaymentsCommand(c) => {
                day_paid(&mut *db.prepare_cached(INSERT_PAYMENT_DAY)?, event, c)?
            }
            _ => {}
        }
        Ok(())
    }
}

/// A day is paid from its first payment run on; later runs for the same day (a morning
/// catch-up, then the evening run) keep the first row.
const INSERT_PAYMENT_DAY: &str =
    "INSERT INTO payment_days (date, seq, at) VALUES (?1, ?2, ?3) ON CONFLICT (date) DO NOTHING";

fn day_paid(stmt: &mut Statement<'_>, event: &Event, c: &MakeDailyPaymentsCommand) -> Result<(), BoxError> {
    stmt.execute((
        &c.date,
        event.seq as i64,
        popug_ledger::line::format_at(&event.at),
    ))?;
    Ok(())
}

/// The timezone of a ledger before its settings exist.
pub const DEFAULT_TIMEZONE: &str = "UTC";

/// The ledger's timezone, from the scheduler's store (UTC before `LedgerInitialized`).
pub fn timezone(db: &Connection) -> rusqlite::Result<String> {
    Ok(db
        .prepare_cached("SELECT timezone FROM settings WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned()))
}

/// The ledger's timezone as a zone ([`Zone::or_utc`], as [`crate::zone::day_of`] counts
/// days).
pub fn zone(db: &Connection) -> rusqlite::Result<Zone> {
    Ok(Zone::or_utc(&timezone(db)?))
}

/// The last day a payment run paid, if any (`YYYY-MM-DD`, the ledger's timezone).
pub fn last_paid_day(db: &Connection) -> rusqlite::Result<Option<String>> {
    db.query_row("SELECT MAX(date) FROM payment_days", [], |r| r.get(0))
}

/// A context's own copy of the ledger's timezone: a one-row table in that context's store,
/// named by it, filled from `LedgerInitialized` (the timezone is set once and never
/// changes). Contexts that count days (tasks, accounting, analytics) keep one, so that no
/// context reads the scheduler's store.
pub struct CalendarCopy {
    table: &'static str,
}

impl CalendarCopy {
    /// A copy kept in the table `table` of the caller's store.
    pub const fn new(table: &'static str) -> CalendarCopy {
        CalendarCopy { table }
    }

    pub fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(&format!(
            "CREATE TABLE {} (id INTEGER PRIMARY KEY CHECK (id = 1), timezone TEXT NOT NULL) STRICT;",
            self.table
        ))
    }

    /// Takes the timezone from a `LedgerInitialized`; other events are left alone.
    pub fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if let PopugEvent::LedgerInitialized(e) = decode(event)? {
            db.prepare_cached(&format!(
                "INSERT INTO {} (id, timezone) VALUES (1, ?1)",
                self.table
            ))?
            .execute([&e.timezone])?;
        }
        Ok(())
    }

    /// The timezone, or `None` before `LedgerInitialized`.
    pub fn configured(&self, db: &Connection) -> rusqlite::Result<Option<String>> {
        db.prepare_cached(&format!("SELECT timezone FROM {} WHERE id = 1", self.table))?
            .query_row([], |r| r.get(0))
            .optional()
    }

    /// The timezone (UTC before `LedgerInitialized`).
    pub fn timezone(&self, db: &Connection) -> rusqlite::Result<String> {
        Ok(self
            .configured(db)?
            .unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned()))
    }

    /// The timezone as a zone (UTC for a name this build does not know).
    pub fn zone(&self, db: &Connection) -> rusqlite::Result<Zone> {
        Ok(Zone::or_utc(&self.timezone(db)?))
    }
}

/// A replay's fold for the calendar: the payment-day statement prepared once.
struct CalendarReplay<'db> {
    insert_payment_day: Statement<'db>,
}

impl Replay for CalendarReplay<'_> {
    fn apply(&mut self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match decode(event)? {
            PopugEvent::MakeDailyPaymentsCommand(c) => day_paid(&mut self.insert_payment_day, event, c),
            PopugEvent::LedgerInitialized(_) => Calendar.apply(db, event),
            _ => Ok(()),
        }
    }
}

impl Calendar {
    /// The replay's fold (see [`Projection::replay`]).
    fn fold<'db>(db: &'db Connection) -> rusqlite::Result<Box<dyn Replay + 'db>> {
        Ok(Box::new(CalendarReplay {
            insert_payment_day: db.prepare(INSERT_PAYMENT_DAY)?,
        }))
    }
}

/// Why the scheduler refuses a payment run (CLI.md `pay-daily`: exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{date} has not begun yet (today is {today})")]
    NotBegun {
        date: chrono::NaiveDate,
        today: chrono::NaiveDate,
    },
    #[error("{date} is before the ledger began ({first_day})")]
    BeforeLedger {
        date: chrono::NaiveDate,
        first_day: chrono::NaiveDate,
    },
}

/// Decides a payment run for `date` (DESIGN §5, CLI.md `pay-daily`): one
/// `MakeDailyPaymentsCommand` per day to pay, oldest first. That is `date` and, before it,
/// every day after `last_paid` (the last day a run paid), or from `first_day` (the ledger's
/// first day) when nothing was ever paid: a missed run is caught up day by day, each day
/// paying its own end-of-day balances. A day already paid is paid again only when it is
/// `date` itself (the evening run after a morning catch-up pays what was earned since, and
/// a run with nothing owed pays nothing). A day before `last_paid` is never paid again: the
/// later day's payment already paid its earnings (such a gap exists only in ledgers written
/// before catch-up existed). A day that has not begun is refused (exit 2).
pub fn decide_pay_daily(
    last_paid: Option<chrono::NaiveDate>,
    first_day: chrono::NaiveDate,
    date: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<Vec<MakeDailyPaymentsCommand>, ScheduleError> {
    if date > today {
        return Err(ScheduleError::NotBegun { date, today });
    }
    if date < first_day {
        // nothing can be owed before the ledger began, and counting days from a typo
        // (`--date 0001-01-01`) would make one payment run per day since then
        return Err(ScheduleError::BeforeLedger { date, first_day });
    }
    let from = match last_paid {
        Some(last) if date < last => return Ok(Vec::new()),
        Some(last) if date == last => date,
        Some(last) => last.succ_opt().expect("a paid day has a next day"),
        None => first_day,
    };
    Ok(from
        .iter_days()
        .take_while(|d| *d <= date)
        .map(|d| MakeDailyPaymentsCommand { date: d.to_string() })
        .collect())
}

/// The ledger's first day in its timezone (the day of `LedgerInitialized`).
pub fn first_day(db: &Connection, tz: &Zone) -> rusqlite::Result<chrono::NaiveDate> {
    let at: String = db
        .prepare_cached("SELECT created_at FROM settings WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let at = chrono::DateTime::parse_from_rfc3339(&at).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(tz.date_of(&at.with_timezone(&chrono::Utc)))
}

#[cfg(test)]
mod rules {
    use super::*;

    fn d(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_run_pays_every_unpaid_day_up_to_its_date_oldest_first() {
        let days =
            |v: Vec<MakeDailyPaymentsCommand>| -> Vec<String> { v.into_iter().map(|c| c.date).collect() };
        let today = d("2026-11-28");
        let first = d("2026-11-25");
        // a day that has not begun, a day before the ledger began
        assert!(decide_pay_daily(None, first, d("2026-11-29"), today).is_err());
        assert!(decide_pay_daily(None, first, d("2000-01-01"), today).is_err());
        assert!(decide_pay_daily(Some(d("2026-11-26")), first, d("2026-11-24"), today).is_err());
        // nothing paid yet: from the ledger's first day
        assert_eq!(
            days(decide_pay_daily(None, first, today, today).unwrap()),
            ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"]
        );
        // the evening run was missed: the morning catch-up pays yesterday, then today so far
        assert_eq!(
            days(decide_pay_daily(Some(d("2026-11-26")), first, today, today).unwrap()),
            ["2026-11-27", "2026-11-28"]
        );
        // the evening run after a morning catch-up pays what was earned since
        assert_eq!(
            days(decide_pay_daily(Some(today), first, today, today).unwrap()),
            ["2026-11-28"]
        );
        // an earlier day than the last paid one was paid by that day's run
        assert!(
            decide_pay_daily(Some(today), first, d("2026-11-27"), today)
                .unwrap()
                .is_empty()
        );
        // asking for an older day pays only up to it
        assert_eq!(
            days(decide_pay_daily(Some(d("2026-11-25")), first, d("2026-11-26"), today).unwrap()),
            ["2026-11-26"]
        );
    }
}
