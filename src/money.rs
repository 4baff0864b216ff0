//! Money as integer minor units, and the calendar day of an instant in the ledger's timezone.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

/// An amount in minor units (cents). Displayed with two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// The calendar day of `at` in the timezone `tz` (an IANA name; UTC if unknown).
pub fn day_of(at: &DateTime<Utc>, tz: &str) -> NaiveDate {
    match tz.parse::<chrono_tz::Tz>() {
        Ok(tz) => at.with_timezone(&tz).date_naive(),
        Err(_) => at.date_naive(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_shows_two_decimals_and_a_sign() {
        assert_eq!(Money(1500).to_string(), "15.00");
        assert_eq!(Money(-5).to_string(), "-0.05");
        assert_eq!(Money(0).to_string(), "0.00");
        assert_eq!(Money(i64::MIN).to_string(), "-92233720368547758.08");
    }

    #[test]
    fn a_day_is_counted_in_the_ledger_timezone() {
        let at: DateTime<Utc> = "2026-11-27T23:30:00Z".parse().unwrap();
        assert_eq!(day_of(&at, "UTC").to_string(), "2026-11-27");
        assert_eq!(day_of(&at, "Europe/Berlin").to_string(), "2026-11-28");
        assert_eq!(day_of(&at, "America/New_York").to_string(), "2026-11-27");
    }
}
