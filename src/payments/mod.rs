//! The payments context: sends each payout through a provider and confirms or reports the
//! failure. The default provider writes the day's payout batch to `payouts/DATE.csv`.

pub mod projection;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use popug_ledger::{BoxError, Context, Event, NewEvent, Reactor};
use rusqlite::Connection;

use crate::auth::user_by_id;
use crate::events::{Payload, PaymentSendingConfirmed, PaymentSendingFailed, SentPaymentCommand};
use crate::money::Money;

/// One payout to send.
#[derive(Debug, Clone)]
pub struct Payout {
    pub payment_id: String,
    pub login: String,
    pub amount: i64,
    pub date: String,
}

/// Where money goes. `send` must be idempotent per `payment_id`: after a crash the same
/// payout may be sent again, and it must not be paid twice.
pub trait PaymentProvider {
    /// The provider's reference for the payout, or why it failed.
    fn send(&self, payout: &Payout) -> Result<String, String>;
}

/// Writes payouts to `payouts/DATE.csv` (header `payment_id,login,amount,date`), one row per
/// payment id, fsynced.
pub struct FilePayouts {
    pub dir: PathBuf,
}

impl PaymentProvider for FilePayouts {
    fn send(&self, p: &Payout) -> Result<String, String> {
        let write = || -> std::io::Result<String> {
            if !self.dir.exists() {
                fs::create_dir(&self.dir)?;
                fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))?;
            }
            let file = self.dir.join(format!("{}.csv", p.date));
            let existing = fs::read_to_string(&file).unwrap_or_default();
            if let Some(row) = existing
                .lines()
                .position(|l| l.starts_with(&format!("{},", p.payment_id)))
            {
                return Ok(format!("payouts/{}.csv#{}", p.date, row + 1));
            }
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&file)?;
            let mut text = String::new();
            if existing.is_empty() {
                text.push_str("payment_id,login,amount,date\n");
            }
            text.push_str(&format!(
                "{},{},{},{}\n",
                p.payment_id,
                p.login,
                Money(p.amount),
                p.date
            ));
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            let rows = existing.lines().count().max(1) + 1;
            Ok(format!("payouts/{}.csv#{}", p.date, rows))
        };
        write().map_err(|e| format!("cannot write the payout file: {e}"))
    }
}

pub struct Payments {
    pub provider: Box<dyn PaymentProvider>,
}

impl Reactor for Payments {
    fn name(&self) -> &str {
        "payments"
    }

    fn react(
        &self,
        db: &Connection,
        event: &Event,
        _ctx: &mut Context<'_>,
    ) -> Result<Vec<NewEvent>, BoxError> {
        if event.event_type != SentPaymentCommand::TYPE {
            return Ok(vec![]);
        }
        let cmd: SentPaymentCommand = event.data_as()?;
        let login = user_by_id(db, &cmd.user_id)?
            .map(|u| u.login)
            .unwrap_or_else(|| cmd.user_id.clone());
        let payout = Payout {
            payment_id: cmd.payment_id.clone(),
            login,
            amount: cmd.amount,
            date: cmd.date.clone(),
        };
        Ok(vec![match self.provider.send(&payout) {
            Ok(provider_ref) => PaymentSendingConfirmed {
                payment_id: cmd.payment_id,
                user_id: cmd.user_id,
                amount: cmd.amount,
                provider_ref,
            }
            .to_event("system"),
            Err(reason) => PaymentSendingFailed {
                payment_id: cmd.payment_id,
                user_id: cmd.user_id,
                amount: cmd.amount,
                reason,
            }
            .to_event("system"),
        }])
    }
}
