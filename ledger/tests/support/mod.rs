//! A tiny bank used to test the engine: `Deposited` events (decided by a command), a
//! `receipts` reactor that answers each with one `Receipted` event carrying the running
//! total, and a `balances` projection. Shared by the tests and the `appender` example.
#![allow(dead_code)]

pub mod nats;
pub mod ports;

use popug_ledger::{
    BoxError, Context, Event, Ledger, NewEvent, Options, Projection, Reactor, Store, Subscribers,
};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize)]
pub struct Deposited {
    pub account: String,
    pub amount: i64,
}

#[derive(Serialize, Deserialize)]
pub struct Receipted {
    pub account: String,
    pub amount: i64,
    pub total_after: i64,
}

pub struct Balances;

impl Projection for Balances {
    fn name(&self) -> &str {
        "balances"
    }
    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch(
            "CREATE TABLE accounts (account TEXT PRIMARY KEY, deposited INTEGER NOT NULL,
               receipted INTEGER NOT NULL, deposits INTEGER NOT NULL, receipts INTEGER NOT NULL,
               last_total INTEGER NOT NULL) STRICT;",
        )
    }
    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            "Deposited" => {
                let d: Deposited = event.data_as()?;
                db.execute(
                    "INSERT INTO accounts VALUES (?1, ?2, 0, 1, 0, 0)
                     ON CONFLICT (account) DO UPDATE SET deposited = deposited + ?2, deposits = deposits + 1",
                    params![d.account, d.amount],
                )?;
            }
            "Receipted" => {
                let r: Receipted = event.data_as()?;
                db.execute(
                    "UPDATE accounts SET receipted = receipted + ?2, receipts = receipts + 1, last_total = ?3
                     WHERE account = ?1",
                    params![r.account, r.amount, r.total_after],
                )?;
            }
            _ => {}
        }
        Ok(())
    }
}

pub struct Receipts;

impl Reactor for Receipts {
    fn name(&self) -> &str {
        "receipts"
    }
    fn react(
        &self,
        db: &Connection,
        event: &Event,
        _ctx: &mut Context<'_>,
    ) -> Result<Vec<NewEvent>, BoxError> {
        if event.event_type != "Deposited" {
            return Ok(vec![]);
        }
        let d: Deposited = event.data_as()?;
        let receipted: i64 = db.query_row(
            "SELECT receipted FROM accounts WHERE account = ?1",
            [&d.account],
            |r| r.get(0),
        )?;
        let r = Receipted {
            account: d.account,
            amount: d.amount,
            total_after: receipted + d.amount,
        };
        Ok(vec![NewEvent::new("Receipted", 1, "receipts", "system", &r)?])
    }
}

/// Two stores: `bank` (the balances and the receipts reactor that reads them) and `tally`
/// (events counted by type), so that every write commits two stores.
pub fn subscribers() -> Subscribers {
    Subscribers {
        stores: vec![
            Store::new("bank", 1).projection(Balances).reactor(Receipts),
            Store::new("tally", 1).projection(Tally),
        ],
    }
}

/// The file of the `bank` store in the ledger at `dir`.
pub fn bank_db(dir: &Path) -> std::path::PathBuf {
    dir.join("views/bank.db")
}

/// Counts the events of each type: a second store, fed by the same events.
pub struct Tally;

impl Projection for Tally {
    fn name(&self) -> &str {
        "tally"
    }
    fn migrate(&self, db: &Connection) -> rusqlite::Result<()> {
        db.execute_batch("CREATE TABLE tally (event_type TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT;")
    }
    fn apply(&self, db: &Connection, event: &Event) -> Result<(), BoxError> {
        db.prepare_cached(
            "INSERT INTO tally VALUES (?1, 1) ON CONFLICT (event_type) DO UPDATE SET n = n + 1",
        )?
        .execute([&event.event_type])?;
        Ok(())
    }
}

pub fn options(seed: Option<u64>) -> Options {
    Options {
        seed,
        ..Options::default()
    }
}

pub fn open(dir: &Path) -> Ledger {
    Ledger::open(dir, subscribers(), options(None)).expect("open ledger")
}

pub fn deposit(account: &str, amount: i64) -> NewEvent {
    NewEvent::new(
        "Deposited",
        1,
        "bank",
        "tester",
        &Deposited {
            account: account.into(),
            amount,
        },
    )
    .unwrap()
}

/// Each account of the `bank` store: (account, deposited, receipted, deposits, receipts).
pub fn totals(l: &Ledger) -> Vec<(String, i64, i64, i64, i64)> {
    let mut stmt = l
        .store("bank")
        .prepare("SELECT account, deposited, receipted, deposits, receipts FROM accounts ORDER BY account")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// Reads every committed event straight from the log file.
pub fn all_events(dir: &Path) -> Vec<Event> {
    popug_ledger::LogReader::open(&dir.join("events.jsonl"), popug_ledger::Position::GENESIS)
        .unwrap()
        .map(|r| r.unwrap().0)
        .collect()
}

/// The bank's rules, checked from the log alone: every deposit has exactly one receipt,
/// caused by it, and each receipt's running total is right.
pub fn check_exactly_once(events: &[Event]) {
    use std::collections::HashMap;
    let mut receipts: HashMap<uuid::Uuid, u32> = HashMap::new();
    let mut totals: HashMap<String, i64> = HashMap::new();
    for e in events {
        if e.event_type == "Receipted" {
            let r: Receipted = e.data_as().unwrap();
            *receipts
                .entry(e.causation_id.expect("a receipt has a cause"))
                .or_default() += 1;
            let t = totals.entry(r.account.clone()).or_default();
            *t += r.amount;
            assert_eq!(*t, r.total_after, "running total of receipt seq {}", e.seq);
            assert_eq!(e.producer, "receipts");
        }
    }
    for e in events.iter().filter(|e| e.event_type == "Deposited") {
        assert_eq!(
            receipts.get(&e.id).copied().unwrap_or(0),
            1,
            "receipts for deposit seq {}",
            e.seq
        );
    }
    let deposits = events.iter().filter(|e| e.event_type == "Deposited").count();
    assert_eq!(
        receipts.len(),
        deposits,
        "a receipt points at something that is not a deposit"
    );
}
