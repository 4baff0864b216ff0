//! The payments context: sends each payout through a provider and confirms or reports the
//! failure. The default provider writes the day's payout batch to `payouts/DATE.csv`.

pub mod projection;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use popug_ledger::{BoxError, Context, Event, NewEvent, Reactor};
use rusqlite::Connection;

use crate::events::{Payload, PaymentSendingConfirmed, PaymentSendingFailed};
use crate::events::{PopugEvent, decode};
use crate::money::Money;

/// This context's store: `views/payments.db` (payouts, and its copy of the payees), written
/// only by its projection.
pub const STORE: &str = "payments";
/// The version of this store's tables: bump it when they change, and this store alone is
/// rebuilt from the log on open.
pub const STORE_VERSION: u32 = 2;

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

    /// Makes every payout sent so far durable (called before their confirmations are
    /// appended to the log).
    fn flush(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Writes payouts to `payouts/DATE.csv` (header `payment_id,login,amount,date`), one row per
/// payment id; `flush` fsyncs the files written to.
pub struct FilePayouts {
    pub dir: PathBuf,
    /// Per day file: the payment ids already in it (with their row) and the open file.
    open: std::cell::RefCell<std::collections::HashMap<String, PayoutFile>>,
}

struct PayoutFile {
    rows: std::collections::HashMap<String, usize>,
    lines: usize,
    file: fs::File,
    dirty: bool,
}

impl FilePayouts {
    pub fn new(dir: PathBuf) -> FilePayouts {
        FilePayouts {
            dir,
            open: Default::default(),
        }
    }

    fn file_for(&self, date: &str) -> std::io::Result<std::cell::RefMut<'_, PayoutFile>> {
        let mut open = self.open.borrow_mut();
        if !open.contains_key(date) {
            // a real private folder of this user, never a link planted to send payouts elsewhere
            crate::files::own_private_dir(&self.dir)?;
            let path = self.dir.join(format!("{date}.csv"));
            // one descriptor for reading what is there and appending: never through a link
            // (O_NOFOLLOW), never blocked by a FIFO (O_NONBLOCK), and only a regular file
            let mut file = OpenOptions::new()
                .read(true)
                .create(true)
                .append(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
                .open(&path)?;
            if !file.metadata()?.is_file() {
                return Err(std::io::Error::other(format!(
                    "{} is not a regular file",
                    path.display()
                )));
            }
            let mut existing = String::new();
            std::io::Read::read_to_string(&mut file, &mut existing)?;
            if !existing.is_empty() && !existing.ends_with('\n') {
                file.write_all(b"\n")?;
            }
            let mut rows = std::collections::HashMap::new();
            let mut lines = 0;
            for (i, line) in existing.split_inclusive('\n').enumerate() {
                lines = i + 1;
                if let Some(complete) = line.strip_suffix('\n')
                    && let Some((id, _)) = complete.split_once(',')
                {
                    rows.insert(id.to_owned(), i + 1);
                }
            }
            if lines == 0 {
                file.write_all(b"payment_id,login,amount,date\n")?;
                lines = 1;
            }
            open.insert(
                date.to_owned(),
                PayoutFile {
                    rows,
                    lines,
                    file,
                    dirty: true,
                },
            );
        }
        Ok(std::cell::RefMut::map(open, |o| {
            o.get_mut(date).expect("just inserted")
        }))
    }
}

impl PaymentProvider for FilePayouts {
    fn send(&self, p: &Payout) -> Result<String, String> {
        let write = || -> std::io::Result<String> {
            let mut f = self.file_for(&p.date)?;
            if let Some(row) = f.rows.get(&p.payment_id) {
                return Ok(format!("payouts/{}.csv#{row}", p.date));
            }
            let line = format!("{},{},{},{}\n", p.payment_id, p.login, Money(p.amount), p.date);
            f.file.write_all(line.as_bytes())?;
            f.lines += 1;
            let row = f.lines;
            f.rows.insert(p.payment_id.clone(), row);
            f.dirty = true;
            Ok(format!("payouts/{}.csv#{row}", p.date))
        };
        write().map_err(|e| {
            // a row may be half written: reopen next time, which completes it as a line of
            // its own (see `file_for`) instead of gluing the next row to it
            self.open.borrow_mut().remove(&p.date);
            format!("cannot write the payout file: {e}")
        })
    }

    fn flush(&self) -> Result<(), String> {
        for f in self.open.borrow_mut().values_mut().filter(|f| f.dirty) {
            f.file
                .sync_all()
                .map_err(|e| format!("cannot sync the payout file: {e}"))?;
            f.dirty = false;
        }
        Ok(())
    }
}

pub struct Payments {
    pub provider: Box<dyn PaymentProvider>,
}

impl Reactor for Payments {
    fn name(&self) -> &str {
        "payments"
    }

    /// Handed to `popug worker` (`popug hand-over`), as this context's store records.
    fn handed_over(&self, db: &Connection) -> Result<bool, BoxError> {
        crate::handover::is_handed_over(db, STORE)
    }

    /// Its files (payout files) are on the host that runs it: on a JetStream ledger only a
    /// `popug worker` runs it.
    fn host_side_effects(&self) -> bool {
        true
    }

    fn flush(&self) -> Result<(), BoxError> {
        Ok(self.provider.flush()?)
    }

    fn react(
        &self,
        db: &Connection,
        event: &Event,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<NewEvent>, BoxError> {
        let PopugEvent::SentPaymentCommand(cmd) = decode(event)? else {
            return Ok(vec![]);
        };
        // the payout row is visible once written: the command it pays must be durable
        // first (docs/guarantees.md P6)
        ctx.durable()?;
        let cmd = cmd.clone();
        let login = projection::payee_login(db, &cmd.user_id)?.unwrap_or_else(|| cmd.user_id.clone().into());
        let payout = Payout {
            payment_id: cmd.payment_id.clone().into(),
            login,
            amount: cmd.amount.0,
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
        let p = FilePayouts::new(tmp.path().join("payouts"));
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
        p.flush().unwrap();
        assert_eq!(p.send(&a).unwrap(), r1, "resending changes nothing");
        let after_restart = FilePayouts::new(tmp.path().join("payouts"));
        assert_eq!(
            after_restart.send(&b).unwrap(),
            r2,
            "nor does resending after a restart"
        );
        assert_ne!(r1, r2);
        let text = std::fs::read_to_string(tmp.path().join("payouts/2026-11-27.csv")).unwrap();
        assert_eq!(
            text,
            "payment_id,login,amount,date\np1,w1,12.34,2026-11-27\np2,w2,5.00,2026-11-27\n"
        );
    }
}
