//! The analytics context: management earnings per day, workers in the red, the most
//! expensive task of a period. Queries over its own store (`views/analytics.db`), which its
//! projection keeps from the events ([`projection`]).

pub mod projection;

/// This context's store: `views/analytics.db`, written only by its projection.
pub const STORE: &str = "analytics";
/// The version of this store's tables: bump it when they change, and this store alone is
/// rebuilt from the log on open.
/// 2: days counted with the tz database bundled in the binary (`crate::zone`, tzdata 2026f),
/// which moved days in a few zones against chrono-tz's 2025b.
pub const STORE_VERSION: u32 = 2;

use chrono::{Datelike, Duration, NaiveDate};
use rusqlite::{Connection, OptionalExtension};

/// Fees charged and rewards paid on one day; payouts are not earnings.
#[derive(Debug, Clone, PartialEq)]
pub struct DayEarnings {
    pub date: String,
    pub fees: i64,
    pub rewards: i64,
}

impl DayEarnings {
    pub fn earnings(&self) -> i64 {
        self.fees - self.rewards
    }
}

pub fn earnings(
    db: &Connection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> rusqlite::Result<Vec<DayEarnings>> {
    let mut stmt = db.prepare_cached(
        "SELECT date, fees, rewards FROM earnings_days
         WHERE (?1 IS NULL OR date >= ?1) AND (?2 IS NULL OR date <= ?2) ORDER BY date",
    )?;
    stmt.query_map((from.map(|d| d.to_string()), to.map(|d| d.to_string())), |r| {
        Ok(DayEarnings {
            date: r.get(0)?,
            fees: r.get(1)?,
            rewards: r.get(2)?,
        })
    })?
    .collect()
}

/// How many workers' balances were negative at the end of `date`: people who were workers
/// at the end of that day (their role then, not now), so a past day's answer never changes.
pub fn negative_workers(db: &Connection, date: NaiveDate) -> rusqlite::Result<i64> {
    // a balance at the end of D is the sum of its day totals up to D: one row per worker
    // and day, whatever the number of transactions
    db.prepare_cached(
        "WITH roles AS (SELECT user_id, role FROM role_history h
                        WHERE seq = (SELECT MAX(seq) FROM role_history WHERE user_id = h.user_id AND since_day <= ?1)),
              balances AS (SELECT user_id, SUM(delta) AS balance FROM worker_days WHERE date <= ?1 GROUP BY user_id)
         SELECT count(*) FROM balances b JOIN roles r ON r.user_id = b.user_id AND r.role = 'worker'
         WHERE b.balance < 0",
    )?
    .query_row([date.to_string()], |r| r.get(0))
}

#[derive(Debug, Clone, PartialEq)]
pub struct TopTask {
    pub task_id: String,
    pub number: i64,
    pub title: String,
    pub reward: i64,
    pub completed_on: String,
    pub assignee: String,
}

/// The highest reward among the tasks completed between `from` and `to` (inclusive).
pub fn most_expensive(db: &Connection, from: NaiveDate, to: NaiveDate) -> rusqlite::Result<Option<TopTask>> {
    db.prepare_cached(
        "SELECT t.task_id, t.number, t.title, t.reward, t.completed_on, u.login
         FROM analytics_tasks t JOIN analytics_users u ON u.user_id = t.assignee_id
         WHERE t.completed_on BETWEEN ?1 AND ?2
         ORDER BY t.reward DESC, t.completed_at, t.number LIMIT 1",
    )?
    .query_row((from.to_string(), to.to_string()), |r| {
        Ok(TopTask {
            task_id: r.get(0)?,
            number: r.get(1)?,
            title: r.get(2)?,
            reward: r.get(3)?,
            completed_on: r.get(4)?,
            assignee: r.get(5)?,
        })
    })
    .optional()
}

/// The ISO week (Monday to Sunday) and the calendar month containing `d`.
pub fn week_of(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = d - Duration::days(d.weekday().num_days_from_monday() as i64);
    (monday, monday + Duration::days(6))
}

pub fn month_of(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = d.with_day(1).expect("day 1 exists");
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    }
    .expect("valid date");
    (first, next - Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weeks_start_on_monday_and_months_end_on_their_last_day() {
        assert_eq!(week_of(d("2026-11-27")), (d("2026-11-23"), d("2026-11-29")));
        assert_eq!(week_of(d("2026-11-23")), (d("2026-11-23"), d("2026-11-29")));
        assert_eq!(week_of(d("2026-11-29")), (d("2026-11-23"), d("2026-11-29")));
        assert_eq!(month_of(d("2026-02-10")), (d("2026-02-01"), d("2026-02-28")));
        assert_eq!(month_of(d("2028-02-10")), (d("2028-02-01"), d("2028-02-29")));
        assert_eq!(month_of(d("2026-12-31")), (d("2026-12-01"), d("2026-12-31")));
    }
}
