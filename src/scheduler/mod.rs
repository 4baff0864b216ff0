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

/// Decides a payment run for `date`. `None` when that day (or a later one) is already paid:
/// paying a day twice pays nothing. A day that has not begun yet cannot be paid.
pub fn decide_pay_daily(
    db: &Connection,
    date: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> crate::error::Result<Option<crate::events::MakeDailyPaymentsCommand>> {
    if date > today {
        return Err(
            crate::error::AppError::usage(format!("{date} has not begun yet (today is {today})"))
                .hint("pay today or an earlier day"),
        );
    }
    let last = crate::accounting::last_paid_day(db).map_err(crate::auth::db_error)?;
    if last.is_some_and(|l| l.as_str() >= date.to_string().as_str()) {
        return Ok(None);
    }
    Ok(Some(crate::events::MakeDailyPaymentsCommand {
        date: date.to_string(),
    }))
}

#[cfg(test)]
mod rules {
    use super::*;
    use crate::testkit::Given;

    fn d(s: &str) -> chrono::NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_day_is_paid_once_and_never_before_it_begins() {
        let mut g = Given::new();
        let today = d("2026-11-27");
        assert!(decide_pay_daily(&g.db, d("2026-11-28"), today).is_err());
        let cmd = decide_pay_daily(&g.db, today, today).unwrap().unwrap();
        assert_eq!(cmd.date, "2026-11-27");
        g.apply(&cmd);
        assert_eq!(
            decide_pay_daily(&g.db, today, today).unwrap(),
            None,
            "paying the same day twice pays nothing"
        );
        assert_eq!(
            decide_pay_daily(&g.db, d("2026-11-20"), today).unwrap(),
            None,
            "an earlier day is covered"
        );
        assert!(
            decide_pay_daily(&g.db, d("2026-11-28"), d("2026-11-28"))
                .unwrap()
                .is_some()
        );
    }
}
