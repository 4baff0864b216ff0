//! The ledger's timezone: an IANA zone, whose calendar days are the ledger's days (DESIGN §5,
//! "Time": fees, rewards, payouts and analytics are counted by day in it).
//!
//! The rules come from the tz database compiled into the binary (jiff's bundled copy, tzdata
//! 2026f), never from the host's `/usr/share/zoneinfo`: every host of a shared log and every
//! replay of the log puts an instant on the same day, whatever the system was last updated
//! with. The bundled database is one block of TZif data that jiff reads when a zone is first
//! asked for; chrono-tz, used before, compiled every zone into tables of pointers that every
//! process start had to relocate (29,000 of the binary's 44,000 relocations: BENCHMARKS.md,
//! session 13).

use std::cell::RefCell;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// An IANA zone of the bundled tz database, with its name as the ledger records it.
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// UTC, the zone of a ledger that names none (and of a name this build does not know).
    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// The zone named `name` exactly as the tz database spells it (`UTC`, `Europe/Berlin`,
    /// `America/New_York`, or a link such as `US/Eastern`); `None` for any other text,
    /// including another spelling of a known name (`europe/berlin`), so that a ledger
    /// records one name for its zone.
    pub fn parse(name: &str) -> Option<Zone> {
        let tz = TimeZone::get(name).ok()?;
        (tz.iana_name() == Some(name)).then(|| Zone {
            name: name.to_owned(),
            tz,
        })
    }

    /// The zone named `name`, or UTC for a name this build does not know (a ledger's
    /// timezone is checked when it is set, so this is a ledger made by another build).
    pub fn or_utc(name: &str) -> Zone {
        Zone::parse(name).unwrap_or_else(Zone::utc)
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's offset from UTC at the instant `at`.
    fn offset_at(&self, at: &DateTime<Utc>) -> Duration {
        let seconds = match jiff::Timestamp::new(at.timestamp(), 0) {
            Ok(ts) => self.tz.to_offset(ts).seconds(),
            // outside jiff's range (years beyond ±9999): no zone has rules there
            Err(_) => 0,
        };
        Duration::seconds(i64::from(seconds))
    }

    /// The wall-clock time of the instant `at` in this zone.
    pub fn local(&self, at: &DateTime<Utc>) -> NaiveDateTime {
        at.naive_utc() + self.offset_at(at)
    }

    /// The calendar day of the instant `at` in this zone.
    pub fn date_of(&self, at: &DateTime<Utc>) -> NaiveDate {
        self.local(at).date()
    }

    /// The first instant of `day` in this zone: its midnight, or, on a day whose midnight a
    /// change of offset skips, the first whole hour that exists; where a change of offset
    /// makes that hour happen twice, the earlier of the two.
    pub fn day_start(&self, day: NaiveDate) -> DateTime<Utc> {
        (0..24)
            .find_map(|h| self.earliest(day.and_hms_opt(h, 0, 0)?))
            .expect("every day has a whole hour that exists")
    }

    /// The earliest instant whose wall-clock time here is `local`; `None` when a change of
    /// offset skips it.
    fn earliest(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        use chrono::{Datelike, Timelike};
        let civil = jiff::civil::DateTime::new(
            i16::try_from(local.year()).ok()?,
            i8::try_from(local.month()).ok()?,
            i8::try_from(local.day()).ok()?,
            i8::try_from(local.hour()).ok()?,
            i8::try_from(local.minute()).ok()?,
            i8::try_from(local.second()).ok()?,
            0,
        )
        .ok()?;
        let offset = match self.tz.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.seconds(),
            // the same wall-clock time twice: the earlier instant is the one with the
            // larger offset
            AmbiguousOffset::Fold { before, after } => before.seconds().max(after.seconds()),
            AmbiguousOffset::Gap { .. } => return None,
        };
        Some((local - Duration::seconds(i64::from(offset))).and_utc())
    }
}

/// The calendar day of `at` in the zone named `tz` ([`Zone::or_utc`]). The zone last asked
/// for on this thread is kept, with the name it was asked by, so a replay that counts a day
/// for every event looks its name up once.
pub fn day_of(at: &DateTime<Utc>, tz: &str) -> NaiveDate {
    thread_local! {
        static LAST: RefCell<Option<(String, Zone)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_ref().is_none_or(|(asked, _)| asked != tz) {
            *last = Some((tz.to_owned(), Zone::or_utc(tz)));
        }
        last.as_ref().expect("set just now").1.date_of(at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_zone_is_known_by_its_exact_iana_name() {
        assert_eq!(Zone::parse("Europe/Berlin").unwrap().name(), "Europe/Berlin");
        assert_eq!(Zone::parse("US/Eastern").unwrap().name(), "US/Eastern");
        assert_eq!(Zone::parse("UTC").unwrap().name(), "UTC");
        assert!(Zone::parse("europe/berlin").is_none());
        assert!(Zone::parse("Mars/Olympus_Mons").is_none());
        assert!(Zone::parse("").is_none());
    }

    #[test]
    fn an_instant_falls_on_its_day_in_the_zone() {
        let late = at("2026-11-27T23:30:00Z");
        assert_eq!(day_of(&late, "UTC").to_string(), "2026-11-27");
        assert_eq!(day_of(&late, "Europe/Berlin").to_string(), "2026-11-28");
        assert_eq!(day_of(&late, "America/New_York").to_string(), "2026-11-27");
        assert_eq!(day_of(&late, "Pacific/Kiritimati").to_string(), "2026-11-28");
        // an unknown name counts in UTC
        assert_eq!(day_of(&late, "Nowhere/Else").to_string(), "2026-11-27");
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(
            berlin.local(&at("2026-07-01T21:59:59Z")).to_string(),
            "2026-07-01 23:59:59"
        );
        assert_eq!(
            berlin.date_of(&at("2026-07-01T22:00:00Z")).to_string(),
            "2026-07-02"
        );
    }

    #[test]
    fn a_day_starts_at_its_first_instant_even_when_midnight_is_skipped() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(berlin.day_start(day("2026-11-30")), at("2026-11-29T23:00:00Z"));
        assert_eq!(berlin.day_start(day("2026-07-01")), at("2026-06-30T22:00:00Z"));
        // Havana moves its clocks at midnight: 2026-03-08 00:00 does not exist there, the
        // day begins at 01:00 (UTC-4)
        let havana = Zone::parse("America/Havana").unwrap();
        assert_eq!(havana.day_start(day("2026-03-08")), at("2026-03-08T05:00:00Z"));
        // and on 2025-11-02 00:00 happened twice (UTC-4, then UTC-5): the earlier
        assert_eq!(havana.day_start(day("2025-11-02")), at("2025-11-02T04:00:00Z"));
    }

    /// Every zone chrono-tz knew (tzdata 2025b), which ledgers were made with until session
    /// 13, is known by the same name here, and gives every day of 2015–2027 the same first
    /// instant, and four instants of each day the same day and wall-clock time; except where
    /// the tz database itself changed a zone's rules between 2025b and 2026f (listed, so that
    /// a new difference fails the test and is looked at).
    #[test]
    fn the_bundled_zones_count_days_as_chrono_tz_did() {
        use chrono::{Datelike, TimeZone};
        // zones whose rules for 2015–2027 the tz database changed between 2025b and 2026f:
        // Morocco's offset after Ramadan 2026; permanent daylight time from November 2026 in
        // British Columbia, Alberta, Manitoba, the Northwest Territories and Cuba (2025b
        // still had them fall back)
        const CHANGED: &[&str] = &[
            "Africa/Casablanca",
            "Africa/El_Aaiun",
            "America/Edmonton",
            "America/Havana",
            "America/Inuvik",
            "America/Rainy_River",
            "America/Vancouver",
            "America/Winnipeg",
            "America/Yellowknife",
            "Canada/Central",
            "Canada/Mountain",
            "Canada/Pacific",
            "Cuba",
        ];
        let mut differ = Vec::new();
        for old in chrono_tz::TZ_VARIANTS {
            let name = old.name();
            let zone = Zone::parse(name).unwrap_or_else(|| panic!("`{name}` is not known"));
            let mut first = None;
            let mut day = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
            while day.year() < 2028 {
                let old_start = (0..24)
                    .find_map(|h| old.from_local_datetime(&day.and_hms_opt(h, 0, 0)?).earliest())
                    .unwrap()
                    .with_timezone(&Utc);
                let mut same = zone.day_start(day) == old_start;
                for h in [0, 7, 13, 19] {
                    let at = old_start + Duration::hours(h) + Duration::minutes(17);
                    same &= zone.date_of(&at) == at.with_timezone(&old).date_naive();
                    same &= zone.local(&at) == at.with_timezone(&old).naive_local();
                }
                if !same && first.is_none() {
                    first = Some(day);
                }
                day += Duration::days(1);
            }
            if let Some(day) = first {
                differ.push(format!("{name} (from {day})"));
            }
        }
        let unexpected: Vec<_> = differ
            .iter()
            .filter(|d| !CHANGED.iter().any(|c| d.starts_with(&format!("{c} "))))
            .collect();
        assert!(
            unexpected.is_empty(),
            "zones that count days differently: {unexpected:?}"
        );
    }
}
