//! Given/when/then for the business rules: events are folded into in-memory stores, one per
//! context, exactly as the engine would, then a decision or a reaction is asked what follows
//! (a reactor sees its own context's store only, as it does in the engine).

use chrono::{DateTime, Utc};
use popug_ledger::{Context, Event, Hash, NewEvent, Projection, Reactor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rusqlite::Connection;
use uuid::Uuid;

use crate::events::*;

/// A store in memory: (its name, its connection, its projections, its reactors' names).
type TestStore = (String, Connection, Vec<Box<dyn Projection>>, Vec<String>);

pub struct Given {
    stores: Vec<TestStore>,
    seq: u64,
    pub now: DateTime<Utc>,
    pub rng: StdRng,
}

impl Given {
    pub fn new() -> Given {
        let subs = crate::app::subscribers(std::path::Path::new("/nonexistent"));
        let stores = subs
            .stores
            .into_iter()
            .map(|s| {
                let db = Connection::open_in_memory().unwrap();
                for p in &s.projections {
                    p.migrate(&db).unwrap();
                }
                let reactors = s.reactors.iter().map(|r| r.name().to_owned()).collect();
                (s.name, db, s.projections, reactors)
            })
            .collect();
        let mut g = Given {
            stores,
            seq: 0,
            now: "2026-11-27T10:00:00Z".parse().unwrap(),
            rng: StdRng::seed_from_u64(1),
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
            decoded: Default::default(),
        };
        for (_, db, projections, _) in &self.stores {
            for p in projections {
                p.apply(db, &event).unwrap();
            }
        }
        event
    }

    /// The store called `name` (a context's `STORE`).
    pub fn store(&self, name: &str) -> &Connection {
        &self
            .stores
            .iter()
            .find(|s| s.0 == name)
            .unwrap_or_else(|| panic!("no store {name}"))
            .1
    }

    /// A user with an account, as auth and accounting would have made them.
    pub fn user(mut self, login: &str, role: Role) -> Given {
        self.apply(&UserCreated {
            user_id: format!("id-{login}").into(),
            login: login.into(),
            name: None,
            email: None,
            role,
            password_hash: "x".into(),
            notify: Notify::None,
        });
        self.apply(&AccountCreated {
            account_id: format!("acct-{login}").into(),
            user_id: Some(format!("id-{login}").into()),
        });
        self
    }

    /// When `event` happens, what does `reactor` decide? (The event is applied first.)
    pub fn when<P: Payload>(&mut self, reactor: &dyn Reactor, p: &P) -> Vec<NewEvent> {
        let event = self.apply(p);
        self.react(reactor, &event)
    }

    /// What `reactor` decides for an event already applied (its own store, this clock).
    pub fn react(&mut self, reactor: &dyn Reactor, event: &Event) -> Vec<NewEvent> {
        let db = &self
            .stores
            .iter()
            .find(|s| s.3.iter().any(|r| r == reactor.name()))
            .expect("the reactor belongs to a store")
            .1;
        let mut ctx = Context::new(self.now, &mut self.rng);
        reactor.react(db, event, &mut ctx).unwrap()
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
