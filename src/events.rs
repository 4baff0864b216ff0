//! The event catalogue (DESIGN.md §4): every event type, its version and its payload.
//!
//! Do *not* change a payload once a version has shipped: field names, types and meaning are
//! in ledgers people keep. A change is a new version with an upcaster.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use popug_ledger::NewEvent;

pub use crate::ids::{AccountId, CredentialId, PaymentId, TaskId, UserId};
pub use crate::money::Money;

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

/// The ledger's first event (v2): settings that hold for its whole life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerInitialized {
    pub ledger_id: String,
    /// IANA name of the timezone in which a calendar day is counted.
    pub timezone: String,
    /// The seed every draw (prices, assignees, ids) of this ledger comes from, for tests and
    /// reproducible demos (`POPUG_SEED` at `init`); null for a real ledger, whose draws come
    /// from the OS. Fixed here, so no later caller can choose it (CLI.md, `POPUG_SEED`).
    pub seed: Option<u64>,
}

impl Payload for LedgerInitialized {
    const TYPE: &'static str = "LedgerInitialized";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "scheduler";
}

// LedgerInitialized v1, as older ledgers hold it: no seed (they were never seeded at
// `init`). Frozen, its schema too (the doc comments below are its schema's words); read
// only through `ledger_initialized`.
/// The ledger's first event: settings that hold for its whole life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "LedgerInitialized")]
pub struct LedgerInitializedV1 {
    pub ledger_id: String,
    /// IANA name of the timezone in which a calendar day is counted.
    pub timezone: String,
}

/// Reads a `LedgerInitialized` of any version as the current one (v1: unseeded); for
/// [`decode`], the one place upcasters run.
fn ledger_initialized(event: &popug_ledger::Event) -> serde_json::Result<LedgerInitialized> {
    match event.version {
        1 => event
            .data_as::<LedgerInitializedV1>()
            .map(|v1| LedgerInitialized {
                ledger_id: v1.ledger_id,
                timezone: v1.timezone,
                seed: None,
            }),
        _ => event.data_as(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "accountant" => Ok(Role::Accountant),
            "worker" => Ok(Role::Worker),
            _ => Err(format!(
                "`{}` is not a role (admin, manager, accountant, worker)",
                s
            )),
        }
    }
}

impl std::str::FromStr for Notify {
    type Err = String;
    fn from_str(s: &str) -> Result<Notify, String> {
        match s {
            "stdout" => Ok(Notify::Stdout),
            "file" => Ok(Notify::File),
            "none" => Ok(Notify::None),
            _ => Err(format!("`{}` is not a channel (stdout, file, none)", s)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreated {
    pub user_id: UserId,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRoleChanged {
    pub user_id: UserId,
    pub from: Role,
    pub to: Role,
}

impl Payload for UserRoleChanged {
    const TYPE: &'static str = "UserRoleChanged";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "auth";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChanged {
    pub user_id: UserId,
    pub password_hash: String,
}

impl Payload for PasswordChanged {
    const TYPE: &'static str = "PasswordChanged";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "auth";
}

/// An admin handed the reactions of these contexts to worker processes (`popug hand-over`;
/// `popug worker` runs them): from this event on, commands leave those reactions to the
/// workers. The list replaces the one before; empty: commands run every reaction again.
/// Contexts: `accounting`, `payments`, `notifications`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionsHandedOver {
    pub contexts: Vec<String>,
}

impl Payload for ReactionsHandedOver {
    const TYPE: &'static str = "ReactionsHandedOver";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "scheduler";
}

/// An admin ended someone's work here (`popug user deactivate`): they can no longer sign
/// in and are never assigned a task again; their account stays, and is still paid out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDeactivated {
    pub user_id: UserId,
}

impl Payload for UserDeactivated {
    const TYPE: &'static str = "UserDeactivated";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "auth";
}

/// A signed-in session (`popug login`) or an API token (`popug token create`) (v2). Only the
/// SHA-256 of the secret is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialIssued {
    pub credential_id: CredentialId,
    pub user_id: UserId,
    /// `session` or `api`
    pub kind: String,
    pub name: Option<String>,
    pub token_sha256: String,
    pub expires_at: Option<String>,
    /// The credential this one was made with (an API token made in a session or with another
    /// token); null for a session made with a password. Revoking a credential for cause
    /// (`token revoke`, `passwd` ending the other sessions) revokes what it made too.
    pub parent_id: Option<CredentialId>,
}

impl Payload for CredentialIssued {
    const TYPE: &'static str = "CredentialIssued";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "auth";
}

// CredentialIssued v1, as older ledgers hold it: no parent. Frozen, its schema too (the doc
// comments below are its schema's words); read only through `credential_issued`.
/// A signed-in session (`popug login`) or an API token (`popug token create`). Only the
/// SHA-256 of the secret is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CredentialIssued")]
pub struct CredentialIssuedV1 {
    pub credential_id: CredentialId,
    pub user_id: UserId,
    /// `session` or `api`
    pub kind: String,
    pub name: Option<String>,
    pub token_sha256: String,
    pub expires_at: Option<String>,
}

/// Reads a `CredentialIssued` of any version as the current one (v1: no parent known); for
/// [`decode`], the one place upcasters run.
fn credential_issued(event: &popug_ledger::Event) -> serde_json::Result<CredentialIssued> {
    match event.version {
        1 => event.data_as::<CredentialIssuedV1>().map(|v1| CredentialIssued {
            credential_id: v1.credential_id,
            user_id: v1.user_id,
            kind: v1.kind,
            name: v1.name,
            token_sha256: v1.token_sha256,
            expires_at: v1.expires_at,
            parent_id: None,
        }),
        _ => event.data_as(),
    }
}

/// `popug logout` or `popug token revoke`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialRevoked {
    pub credential_id: CredentialId,
}

impl Payload for CredentialRevoked {
    const TYPE: &'static str = "CredentialRevoked";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "auth";
}

/// The accounting account of a user, or of the company (`user_id` null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountCreated {
    pub account_id: AccountId,
    pub user_id: Option<UserId>,
}

impl Payload for AccountCreated {
    const TYPE: &'static str = "AccountCreated";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "accounting";
}

/// TaskCreated v2: the Jira id apart from the title. Amounts are integer minor units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskCreated {
    pub task_id: TaskId,
    pub title: String,
    pub jira_id: Option<String>,
    pub description: Option<String>,
    pub assignee_id: UserId,
    pub assign_fee: Money,
    pub reward: Money,
}

impl Payload for TaskCreated {
    const TYPE: &'static str = "TaskCreated";
    const VERSION: u32 = 2;
    const PRODUCER: &'static str = "tasks";
}

// Read only through `task_created`, which upcasts it (the rule: `TaskCreatedV1::upcast`).
/// TaskCreated v1, as older ledgers hold it: the Jira id inside the title, as in
/// "[POP-42] Fix beak". Frozen; readers upcast it to v2 (schemas/README.md gives the rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TaskCreated")]
pub struct TaskCreatedV1 {
    pub task_id: TaskId,
    pub title: String,
    pub description: Option<String>,
    pub assignee_id: UserId,
    pub assign_fee: Money,
    pub reward: Money,
}

impl TaskCreatedV1 {
    /// The v2 task this v1 task is (the rule, documented in `schemas/README.md`):
    ///
    /// 1. A leading `[ID]` whose ID is a valid v2 Jira id (`POP-42`: capital letters or
    ///    digits, a dash, a number) and that is followed by more text becomes `jira_id`;
    ///    the rest, trimmed, is the title. Any other leading bracket stays in the title.
    /// 2. What v2 forbids in a title is rewritten, never dropped: `[` and `]` become `(` and
    ///    `)`, a control or invisible format character is written out as its escape
    ///    (`\u{202e}`), and a title longer than v2 allows is cut.
    /// 3. When rule 2 changed anything, the v1 title is kept whole at the head of the
    ///    description (`v1 title: …`, brackets and all, control characters escaped), so no
    ///    text is lost.
    ///
    /// The result always passes v2's validation (`tasks::NewTask::validated`); a property
    /// test over generated v1 titles checks it.
    pub fn upcast(self) -> TaskCreated {
        let original = self.title.trim();
        let (jira_id, rest) = match original.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((id, rest)) if crate::tasks::valid_jira_id(id.trim()) && !rest.trim().is_empty() => {
                (Some(id.trim().to_owned()), rest.trim())
            }
            _ => (None, original),
        };
        let title = v2_text(rest, crate::tasks::MAX_TITLE, false);
        let description = self
            .description
            .map(|d| v2_text(&d, crate::tasks::MAX_DESCRIPTION, true))
            .filter(|d| !d.trim().is_empty());
        let description = if title == rest && !title.is_empty() {
            description
        } else {
            let kept = format!("v1 title: {}", v2_text(original, usize::MAX, true));
            let whole = match description {
                Some(d) => format!("{kept}\n\n{d}"),
                None => kept,
            };
            Some(whole.chars().take(crate::tasks::MAX_DESCRIPTION).collect())
        };
        TaskCreated {
            task_id: self.task_id,
            title: if title.is_empty() {
                "(untitled)".into()
            } else {
                title
            },
            jira_id,
            description,
            assignee_id: self.assignee_id,
            assign_fee: self.assign_fee,
            reward: self.reward,
        }
    }
}

/// `text` as v2 accepts it: brackets as parentheses (titles only), control and invisible
/// format characters escaped (a description keeps its newlines and tabs), at most `max`
/// characters, trimmed.
fn v2_text(text: &str, max: usize, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '[' if !multiline => out.push('('),
            ']' if !multiline => out.push(')'),
            '\n' | '\t' if multiline => out.push(c),
            c if crate::text::is_forbidden(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out.trim().chars().take(max).collect::<String>().trim().to_owned()
}

/// Every event type and version of the catalogue with its JSON Schema (draft 2020-12),
/// generated from the payload types above.
pub fn catalogue() -> Vec<(&'static str, u32, schemars::Schema)> {
    macro_rules! entries {
        ($($t:ty),* $(,)?) => { vec![$((<$t>::TYPE, <$t>::VERSION, schemars::schema_for!($t))),*] };
    }
    let mut all = entries![
        LedgerInitialized,
        UserCreated,
        UserRoleChanged,
        PasswordChanged,
        UserDeactivated,
        CredentialIssued,
        CredentialRevoked,
        AccountCreated,
        TaskCreated,
        TaskStatusChanged,
        TaskReassigned,
        IdempotencyKeyUsed,
        AccountBalanceUpdated,
        MakeDailyPaymentsCommand,
        SentPaymentCommand,
        PaymentSendingConfirmed,
        PaymentSendingFailed,
        NotificationSent,
        NotificationDeferred,
        ReactionsHandedOver,
    ];
    all.push(("TaskCreated", 1, schemars::schema_for!(TaskCreatedV1)));
    all.push(("LedgerInitialized", 1, schemars::schema_for!(LedgerInitializedV1)));
    all.push(("CredentialIssued", 1, schemars::schema_for!(CredentialIssuedV1)));
    all.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    all
}

/// Reads a `TaskCreated` of any version as the current one (the log is never rewritten);
/// for [`decode`], the one place upcasters run.
fn task_created(event: &popug_ledger::Event) -> serde_json::Result<TaskCreated> {
    match event.version {
        1 => event.data_as::<TaskCreatedV1>().map(TaskCreatedV1::upcast),
        _ => event.data_as(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Open,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskStatusChanged {
    pub task_id: TaskId,
    pub from: TaskStatus,
    pub to: TaskStatus,
}

impl Payload for TaskStatusChanged {
    const TYPE: &'static str = "TaskStatusChanged";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "tasks";
}

/// A task created under an idempotency key (`task create|import --idempotency-key`),
/// appended in the same atomic batch as its `TaskCreated`: a retried request with the same
/// key creates only the rows not yet created, and answers as the first time. In the log, so
/// that a rebuild and every host agree on which keys are used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyKeyUsed {
    pub key: String,
    /// SHA-256 of the request (hex): the same key with another request is refused.
    pub request_sha256: String,
    /// The row of the request this task came from (0 for `task create`).
    pub row: u64,
    pub task_id: TaskId,
}

impl Payload for IdempotencyKeyUsed {
    const TYPE: &'static str = "IdempotencyKeyUsed";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "tasks";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskReassigned {
    pub task_id: TaskId,
    pub assign_from: UserId,
    pub assign_to: UserId,
    pub shuffle_id: String,
}

impl Payload for TaskReassigned {
    const TYPE: &'static str = "TaskReassigned";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "tasks";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TxKind {
    Debit,
    Credit,
    Payment,
}

impl TxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Debit => "debit",
            TxKind::Credit => "credit",
            TxKind::Payment => "payment",
        }
    }

    /// The change to the account's balance of a transaction of this kind and `amount` (> 0).
    pub fn delta(self, amount: Money) -> i64 {
        match self {
            TxKind::Credit => amount.0,
            TxKind::Debit | TxKind::Payment => -amount.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    pub id: String,
    pub account_id: AccountId,
    /// The company's account, which takes the counter-entry.
    pub counter_account_id: AccountId,
    pub kind: TxKind,
    /// `assign_fee`, `reassign_fee`, `reward`, `daily_payment`, `payment_failed`
    pub reason: String,
    /// Positive, in minor units; `kind` gives the direction.
    pub amount: Money,
    pub task_id: Option<TaskId>,
    /// The calendar day (ledger timezone) the transaction belongs to.
    pub billing_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBalanceUpdated {
    pub transaction: Transaction,
    pub balance_after: Money,
}

impl Payload for AccountBalanceUpdated {
    const TYPE: &'static str = "AccountBalanceUpdated";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "accounting";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MakeDailyPaymentsCommand {
    pub date: String,
}

impl Payload for MakeDailyPaymentsCommand {
    const TYPE: &'static str = "MakeDailyPaymentsCommand";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "scheduler";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SentPaymentCommand {
    pub payment_id: PaymentId,
    pub user_id: UserId,
    pub amount: Money,
    pub date: String,
}

impl Payload for SentPaymentCommand {
    const TYPE: &'static str = "SentPaymentCommand";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "accounting";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentSendingConfirmed {
    pub payment_id: PaymentId,
    pub user_id: UserId,
    pub amount: Money,
    pub provider_ref: String,
}

impl Payload for PaymentSendingConfirmed {
    const TYPE: &'static str = "PaymentSendingConfirmed";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "payments";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentSendingFailed {
    pub payment_id: PaymentId,
    pub user_id: UserId,
    pub amount: Money,
    pub reason: String,
}

impl Payload for PaymentSendingFailed {
    const TYPE: &'static str = "PaymentSendingFailed";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "payments";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSent {
    pub notification_id: String,
    pub user_id: UserId,
    pub channel: Notify,
    pub subject: String,
    pub body: String,
    /// The id of the event this notification is about.
    pub caused_by: String,
}

/// A notification that could not be delivered (the user's Maildir is broken): recorded so
/// that later commands deliver it, once, when they can (then a `NotificationSent` with the
/// same `notification_id` follows), and so that `verify` can say it is pending. The command
/// that caused it does not fail (CLI.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationDeferred {
    pub notification_id: String,
    pub user_id: UserId,
    pub channel: Notify,
    pub subject: String,
    pub body: String,
    /// The id of the event this notification is about.
    pub caused_by: String,
    /// Why it could not be delivered (for the operator).
    pub reason: String,
}

impl Payload for NotificationDeferred {
    const TYPE: &'static str = "NotificationDeferred";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "notifications";
}

impl Payload for NotificationSent {
    const TYPE: &'static str = "NotificationSent";
    const VERSION: u32 = 1;
    const PRODUCER: &'static str = "notifications";
}

#[cfg(test)]
mod upcasting {
    use super::*;

    fn v1(title: &str) -> TaskCreated {
        TaskCreatedV1 {
            task_id: "t".into(),
            title: title.into(),
            description: None,
            assignee_id: "u".into(),
            assign_fee: crate::money::Money(1000),
            reward: crate::money::Money(2000),
        }
        .upcast()
    }

    #[test]
    fn a_v1_title_gives_up_its_jira_id() {
        let t = v1("[POP-42] Fix beak");
        assert_eq!(
            (t.jira_id.as_deref(), t.title.as_str()),
            (Some("POP-42"), "Fix beak")
        );
        let t = v1("  [UBERPOP-7]   Feed the chicks ");
        assert_eq!(
            (t.jira_id.as_deref(), t.title.as_str()),
            (Some("UBERPOP-7"), "Feed the chicks")
        );
    }

    #[test]
    fn what_v2_forbids_is_rewritten_and_the_v1_title_kept_in_the_description() {
        // (v1 title, jira id, v2 title, v1 title kept in the description)
        for (title, jira, v2_title, kept) in [
            ("Fix beak", None, "Fix beak", false),
            ("Fix [the] beak", None, "Fix (the) beak", true),
            ("[] empty id", None, "() empty id", true),
            ("[POP-1]", None, "(POP-1)", true),
            ("[unclosed title", None, "(unclosed title", true),
            ("[POP-7][POP-8] Two ids", Some("POP-7"), "(POP-8) Two ids", true),
            ("[pop-11] lower-case", None, "(pop-11) lower-case", true),
            ("Pay \u{202e}10.00", None, "Pay \\u{202e}10.00", true),
        ] {
            let t = v1(title);
            assert_eq!(
                (t.jira_id.as_deref(), t.title.as_str()),
                (jira, v2_title),
                "{title}"
            );
            let description = t.description.unwrap_or_default();
            assert_eq!(
                description.starts_with("v1 title: "),
                kept,
                "{title}: {description}"
            );
            if kept {
                assert!(
                    description.contains(&title.replace('\u{202e}', "\\u{202e}")),
                    "{description}"
                );
            }
        }
    }

    use proptest::prelude::*;

    proptest! {
        /// Every v1 title becomes a valid v2 task, and no text is lost: either the v2 title
        /// (with its Jira id) holds every non-space character of the v1 title, or the
        /// description keeps the v1 title whole.
        #[test]
        fn every_v1_title_upcasts_to_a_valid_v2_task_without_losing_text(
            title in "[\\[\\]A-Za-z0-9 \\-é\u{202e}\u{200b}\u{7}\n]{0,40}",
            description in proptest::option::of("[a-z \n\u{202e}]{0,20}"),
        ) {
            let t = TaskCreatedV1 {
                task_id: "t".into(),
                title: title.clone(),
                description,
                assignee_id: "u".into(),
                assign_fee: crate::money::Money(1000),
                reward: crate::money::Money(2000),
            }
            .upcast();
            let valid = crate::tasks::NewTask {
                title: t.title.clone(),
                jira_id: t.jira_id.clone(),
                description: t.description.clone(),
            }
            .validated();
            prop_assert!(valid.is_ok(), "{title:?} -> {t:?}: {:?}", valid.err());
            let valid = valid.unwrap();
            prop_assert_eq!((&valid.title, &valid.jira_id), (&t.title, &t.jira_id));
            let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            let rebuilt = match &t.jira_id {
                Some(j) => format!("[{j}]{}", t.title),
                None => t.title.clone(),
            };
            let kept = t.description.as_deref().is_some_and(|d| d.starts_with("v1 title: "));
            prop_assert!(kept || squeeze(&rebuilt) == squeeze(&title), "{title:?} -> {t:?}");
        }
    }
}

/// Every event of the catalogue at its current version: what consumers match on. Decoded
/// once per event by [`decode`], with every upcaster applied there (a consumer cannot
/// forget one: TaskCreated v1's "[POP-42] Fix beak" arrives as title "Fix beak" and Jira id
/// "POP-42" everywhere).
#[derive(Debug, Clone, PartialEq)]
pub enum PopugEvent {
    LedgerInitialized(LedgerInitialized),
    UserCreated(UserCreated),
    UserRoleChanged(UserRoleChanged),
    PasswordChanged(PasswordChanged),
    UserDeactivated(UserDeactivated),
    CredentialIssued(CredentialIssued),
    CredentialRevoked(CredentialRevoked),
    AccountCreated(AccountCreated),
    TaskCreated(TaskCreated),
    TaskStatusChanged(TaskStatusChanged),
    TaskReassigned(TaskReassigned),
    IdempotencyKeyUsed(IdempotencyKeyUsed),
    AccountBalanceUpdated(AccountBalanceUpdated),
    MakeDailyPaymentsCommand(MakeDailyPaymentsCommand),
    SentPaymentCommand(SentPaymentCommand),
    PaymentSendingConfirmed(PaymentSendingConfirmed),
    PaymentSendingFailed(PaymentSendingFailed),
    NotificationSent(NotificationSent),
    NotificationDeferred(NotificationDeferred),
    ReactionsHandedOver(ReactionsHandedOver),
    /// A type this build does not know (written by a newer one): every consumer passes it by.
    Unknown,
}

/// The event's payload as a [`PopugEvent`], decoded the first time any consumer asks and
/// shared by all of them afterwards ([`popug_ledger::Event::decoded`]: in a replay, every
/// store's thread reads the one decoding). Errors: a payload that does not match its type
/// and version (a damaged or foreign log).
pub fn decode(event: &popug_ledger::Event) -> serde_json::Result<&PopugEvent> {
    event.decoded(decode_fresh)
}

/// Decodes `event` without keeping the result (see [`decode`]).
fn decode_fresh(event: &popug_ledger::Event) -> serde_json::Result<PopugEvent> {
    use PopugEvent as E;
    Ok(match event.event_type.as_str() {
        LedgerInitialized::TYPE => E::LedgerInitialized(ledger_initialized(event)?),
        UserCreated::TYPE => E::UserCreated(event.data_as()?),
        UserRoleChanged::TYPE => E::UserRoleChanged(event.data_as()?),
        PasswordChanged::TYPE => E::PasswordChanged(event.data_as()?),
        UserDeactivated::TYPE => E::UserDeactivated(event.data_as()?),
        CredentialIssued::TYPE => E::CredentialIssued(credential_issued(event)?),
        CredentialRevoked::TYPE => E::CredentialRevoked(event.data_as()?),
        AccountCreated::TYPE => E::AccountCreated(event.data_as()?),
        TaskCreated::TYPE => E::TaskCreated(task_created(event)?),
        TaskStatusChanged::TYPE => E::TaskStatusChanged(event.data_as()?),
        TaskReassigned::TYPE => E::TaskReassigned(event.data_as()?),
        IdempotencyKeyUsed::TYPE => E::IdempotencyKeyUsed(event.data_as()?),
        AccountBalanceUpdated::TYPE => E::AccountBalanceUpdated(event.data_as()?),
        MakeDailyPaymentsCommand::TYPE => E::MakeDailyPaymentsCommand(event.data_as()?),
        SentPaymentCommand::TYPE => E::SentPaymentCommand(event.data_as()?),
        PaymentSendingConfirmed::TYPE => E::PaymentSendingConfirmed(event.data_as()?),
        PaymentSendingFailed::TYPE => E::PaymentSendingFailed(event.data_as()?),
        NotificationSent::TYPE => E::NotificationSent(event.data_as()?),
        NotificationDeferred::TYPE => E::NotificationDeferred(event.data_as()?),
        ReactionsHandedOver::TYPE => E::ReactionsHandedOver(event.data_as()?),
        _ => E::Unknown,
    })
}

#[cfg(test)]
mod decoding {
    use super::*;

    fn event(payload: NewEvent) -> popug_ledger::Event {
        popug_ledger::Event {
            seq: 1,
            id: uuid::Uuid::nil(),
            event_type: payload.event_type,
            version: payload.version,
            at: "2026-11-27T10:00:00Z".parse().unwrap(),
            producer: payload.producer,
            actor: payload.actor,
            causation_id: None,
            correlation_id: uuid::Uuid::nil(),
            data: payload.data,
            batch_end: 1,
            prev: popug_ledger::Hash::GENESIS,
            hash: popug_ledger::Hash::GENESIS,
            decoded: Default::default(),
        }
    }

    #[test]
    fn an_old_version_is_upcast_once_and_every_consumer_sees_the_current_one() {
        let v1 = TaskCreatedV1 {
            task_id: "t".into(),
            title: "[POP-42] Fix beak".into(),
            description: None,
            assignee_id: "w".into(),
            assign_fee: crate::money::Money(1000),
            reward: crate::money::Money(2000),
        };
        let e = event(NewEvent::new("TaskCreated", 1, "tasks", "a", &v1).unwrap());
        let PopugEvent::TaskCreated(t) = decode(&e).unwrap() else {
            panic!("a TaskCreated")
        };
        assert_eq!(
            (t.title.as_str(), t.jira_id.as_deref()),
            ("Fix beak", Some("POP-42"))
        );
        // the second consumer gets the same decoding, not a second parse
        assert!(std::ptr::eq(decode(&e).unwrap(), decode(&e).unwrap()));
        let unknown = event(NewEvent::new("FromTheFuture", 1, "x", "a", &serde_json::json!({})).unwrap());
        assert_eq!(decode(&unknown).unwrap(), &PopugEvent::Unknown);
        let bad = event(NewEvent::new("TaskCreated", 2, "tasks", "a", &serde_json::json!({"x": 1})).unwrap());
        assert!(decode(&bad).is_err());
    }
}
