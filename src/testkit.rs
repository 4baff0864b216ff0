//! Given/when/then for the business rules: events are folded into an in-memory projection
//! database exactly as the engine would, then a decision or a reaction is asked what follows.

use chrono::{DateTime, Utc};
use popug_ledger::{Context, Event, Hash, NewEvent, Projection, Reactor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rusqlite::Connection;
use uuid::Uuid;

use crate::events::*;

pub struct Given {
    pub db: Connection,
    seq: u64,
    pub now: DateTime<Utc>,
    pub rng: StdRng,
    projections: Vec<Box<dyn Projection>>,
}

impl Given {
    pub fn new() -> Given {
        let db = Connection::open_in_memory().unwrap();
        let projections = crate::app::subscribers(std::path::Path::new("/nonexistent")).projections;
        for p in &projections {
            p.migrate(&db).unwrap();
        }
        let mut g = Given {
            db,
            seq: 0,
            now: "2026-11-27T10:00:00Z".parse().unwrap(),
            rng: StdRng::seed_from_u64(1),
            projections,
        };
        g.apply(&LedgerInitialized {
            ledger_id: "l".into(),
            timezone: "UTC".into(),
            seed: None,
        });
        g.apply(&AccountCreated {
            account_id: "company".into(),
            user_id: None,
        });
        g
    }

    /// Folds one event into the projections.
    pub fn apply<P: Payload>(&mut self, p: &P) -> Event {
        self.apply_new(p.to_event("test"))
    }

    pub fn apply_new(&mut self, e: NewEvent) -> Event {
        self.seq += 1;
        let event = Event {
            seq: self.seq,
            id: Uuid::from_u128(self.seq as u128),
            event_type: e.event_type,
            version: e.version,
            at: self.now,
            producer: e.producer,
            actor: e.actor,
            causation_id: None,
            correlation_id: Uuid::from_u128(self.seq as u128),
            data: e.data,
            batch_end: self.seq,
            prev: Hash::GENESIS,
            hash: Hash::GENESIS,
        };
        for p in &self.projections {
            p.apply(&self.db, &event).unwrap();
        }
        event
    }

    /// A user with an account, as auth and accounting would have made them.
    pub fn user(mut self, login: &str, role: Role) -> Given {
        self.apply(&UserCreated {
            user_id: format!("id-{login}"),
            login: login.into(),
            name: None,
            email: None,
            role,
            password_hash: "x".into(),
            notify: Notify::None,
        });
        self.apply(&AccountCreated {
            account_id: format!("acct-{login}"),
            user_id: Some(format!("id-{login}")),
        });
        self
    }

    /// When `event` happens, what does `reactor` decide? (The event is applied first.)
    pub fn when<P: Payload>(&mut self, reactor: &dyn Reactor, p: &P) -> Vec<NewEvent> {
        let event = self.apply(p);
        let mut ctx = Context::new(self.now, &mut self.rng);
        reactor.react(&self.db, &event, &mut ctx).unwrap()
    }

    /// Applies a reactor's decision, as the engine would append and project it.
    pub fn then_apply(&mut self, out: Vec<NewEvent>) {
        for e in out {
            self.apply_new(e);
        }
    }
}

/// Decodes a decided event's payload.
pub fn payload<T: serde::de::DeserializeOwned>(e: &NewEvent) -> T {
    serde_json::from_str(e.data.get()).unwrap()
}
