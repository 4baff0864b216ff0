//! The scheduler context: the ledger's calendar (its timezone, set once at `init`).
//! Uses the ledger's projection interface and chrono-tz; nothing of the CLI.

use popug_ledger::{BoxError, Event, Projection};
use rusqlite::Connection;

use crate::events::{LedgerInitialized, Payload};

/// `settings`: the one row of ledger-wide settings.
pub struct Calendar;

impl Projection for Calendar {
    fn name(&self) -> &str {
        "scheduler.calendar"
    }

    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), ledger_id TEXT NOT NULL,
                 timezone TEXT NOT NULL, created_at TEXT NOT NULL) STRICT;",
        )
    }

    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        if event.event_type == LedgerInitialized::TYPE {
            let e = crate::events::ledger_initialized(event)?;
            db.prepare_cached(
                "INSERT INTO settings (id, ledger_id, timezone, created_at) VALUES (1, ?1, ?2, ?3)",
            )?
            .execute((
                &e.ledger_id,
                &e.timezone,
                popug_ledger::line::format_at(&event.at),
            ))?;
        }
        Ok(())
    }
}

/// Parses an IANA timezone name (`UTC`, `Europe/Berlin`).
pub fn parse_timezone(name: &str) -> Option<chrono_tz::Tz> {
    name.parse().ok()
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
) -> crate::error::Result<Vec<crate::events::MakeDailyPaymentsCommand>> {
    if date > today {
        return Err(
            crate::error::AppError::usage(format!("{date} has not begun yet (today is {today})"))
                .hint("pay today or an earlier day"),
        );
    }
    if date < first_day {
        // nothing can be owed before the ledger began, and counting days from a typo
        // (`--date 0001-01-01`) would make one payment run per day since then
        return Err(crate::error::AppError::usage(format!(
            "{date} is before the ledger began ({first_day})"
        ))
        .hint("pay a day on or after the ledger's first day"));
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
        .map(|d| crate::events::MakeDailyPaymentsCommand { date: d.to_string() })
        .collect())
}

/// The ledger's first day in its timezone (the day of `LedgerInitialized`).
pub fn first_day(db: &Connection, tz: &chrono_tz::Tz) -> rusqlite::Result<chrono::NaiveDate> {
    let at: String = db
        .prepare_cached("SELECT created_at FROM settings WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let at = chrono::DateTime::parse_from_rfc3339(&at).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(at.with_timezone(tz).date_naive())
}

#[cfg(test)]
mod rules {
    use super::*;

    fn d(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_run_pays_every_unpaid_day_up_to_its_date_oldest_first() {
        let days = |v: Vec<crate::events::MakeDailyPaymentsCommand>| -> Vec<String> {
            v.into_iter().map(|c| c.date).collect()
        };
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
