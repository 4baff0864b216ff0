//! The event catalogue (DESIGN.md §4): every event type, its version and its payload.
//!
//! Do *not* change a payload once a version has shipped: field names, types and meaning are
//! in ledgers people keep. A change is a new version with an upcaster.

use serde::{Deserialize, Serialize};

use popug_ledger::NewEvent;

/// A payload of one event type at one version.
pub trait Payload: Serialize {
    const TYPE: &'static str;
    const VERSION: u32;
    const PRODUCER: &'static str;

    fn to_event(&self, actor: &str) -> NewEvent {
        NewEvent::new(Self::TYPE, Self::VERSION, Self::PRODUCER, actor, self)
            .expect("catalogue payloads always serialize")
    }
}

/// The ledger's first event: settings that hold for its whole life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerInitialized {
    pub ledger_id: String,
    /// IANA name of the timezone in which a calendar day is counted.
    pub timezone: String,
}

impl Payload for LedgerInitialized {
    const TYPE: &'static str = "LedgerInitialized";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "scheduler";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Accountant,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Accountant => "accountant",
            Role::Worker => "worker",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notify {
    Stdout,
    File,
    None,
}

impl Notify {
    pub fn as_str(self) -> &'static str {
        match self {
            Notify::Stdout => "stdout",
            Notify::File => "file",
            Notify::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserCreated {
    pub user_id: String,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Role,
    /// argon2id PHC string; the password itself is never written anywhere.
    pub password_hash: String,
    pub notify: Notify,
}

impl Payload for UserCreated {
    const TYPE: &'static str = "UserCreated";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "auth";
}
