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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_provider_pays_each_payment_id_once() {
        let tmp = tempfile::tempdir().unwrap();
        let p = FilePayouts {
            dir: tmp.path().join("payouts"),
        };
        let a = Payout {
            payment_id: "p1".into(),
            login: "w1".into(),
            amount: 1234,
            date: "2026-11-27".into(),
        };
        let b = Payout {
            payment_id: "p2".into(),
            login: "w2".into(),
            amount: 500,
            date: "2026-11-27".into(),
        };
        let r1 = p.send(&a).unwrap();
        let r2 = p.send(&b).unwrap();
        assert_eq!(p.send(&a).unwrap(), r1, "resending after a crash changes nothing");
        assert_ne!(r1, r2);
        let text = std::fs::read_to_string(tmp.path().join("payouts/2026-11-27.csv")).unwrap();
        assert_eq!(
            text,
            "payment_id,login,amount,date\np1,w1,12.34,2026-11-27\np2,w2,5.00,2026-11-27\n"
        );
    }
}
