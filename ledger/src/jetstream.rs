//! The shared log on NATS JetStream: one stream per ledger, one subject, each message one or
//! more whole batches of log lines; appends are compare-and-set on the stream's last
//! sequence (`Nats-Expected-Last-Sequence`), which the server checks on every publish and
//! which survives restarts and the de-duplication window (unlike `Nats-Msg-Id`, which is
//! set too, to absorb a retransmission within the window).
//!
//! The engine is synchronous; this module owns a single-threaded tokio runtime and bounds
//! every request with a time-out, so a cluster that is down or without quorum is an error
//! naming the NATS failure ([`LedgerError::Shared`]), never a hang.

use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use futures_util::StreamExt;

pub use async_nats::jetstream::Message;

use crate::error::LedgerError;
use crate::shared::{EachMessage, SharedLog};

/// How long one request (connect, publish, read) may take before it is tried again.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request is tried again after transient failures (a server gone, a stream
/// electing its leader) before it is an error.
pub const RETRY_BUDGET: Duration = Duration::from_secs(15);
/// Messages read one by one (one round trip each) below this many; an ordered consumer
/// streams longer catch-ups.
const DIRECT_READ_MAX: u64 = 32;

/// The stream metadata key that marks the destination of an unfinished `ledger copy`.
const COPY_MARK: &str = "popug-copy";

/// How long a lease lives without being renewed ([`JetStreamLog::take_lease`]).
pub const LEASE_TTL: Duration = Duration::from_secs(10);

/// One holder's lease of a key ([`JetStreamLog::take_lease`]).
pub struct Lease {
    store: jetstream::kv::Store,
    key: String,
    holder: String,
    revision: u64,
}

/// Where a JetStream ledger is: `nats://HOST:PORT[,HOST:PORT…]/NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `nats://HOST:PORT` of each server given.
    pub servers: Vec<String>,
    /// The stream's name (letters, digits, `-` and `_`).
    pub name: String,
}

impl Address {
    /// Whether `s` is a URL (`scheme://…`) rather than a directory: a ledger address given
    /// as a URL is a JetStream ledger's, and a scheme other than `nats://` (`tls://`, `http://`)
    /// is then refused by [`Address::parse`], never taken for a directory name.
    pub fn is_url(s: &str) -> bool {
        s.split_once("://")
            .is_some_and(|(scheme, _)| !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphabetic()))
    }

    /// Parses `nats://HOST:PORT[,HOST:PORT…]/NAME`.
    pub fn parse(s: &str) -> Result<Address, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("`{s}` does not start with nats://"))?;
        if !scheme.eq_ignore_ascii_case("nats") {
            return Err(format!(
                "`{scheme}://` is not a ledger address: a JetStream ledger is nats://HOST:PORT/NAME (TLS and credentials are not supported yet)"
            ));
        }
        let (hosts, name) = rest
            .split_once('/')
            .ok_or_else(|| format!("`{s}` names no ledger: add /NAME after the servers"))?;
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "`{name}` is not a ledger name: use 1 to 64 letters, digits, `-` or `_`"
            ));
        }
        let mut servers = Vec::new();
        for h in hosts.split(',') {
            let h = h.trim().trim_start_matches("nats://");
            if h.contains('@') {
                return Err(
                    "the address holds credentials (user@ or user:password@): they would be shown in every message; credentials are not supported yet"
                        .to_owned(),
                );
            }
            let ok = h
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err(format!("`{h}` is not HOST:PORT in `{s}`"));
            }
            servers.push(format!("nats://{h}"));
        }
        Ok(Address {
            servers,
            name: name.to_owned(),
        })
    }

    fn subject(&self) -> String {
        format!("ledger.{}", self.name)
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hosts: Vec<&str> = self
            .servers
            .iter()
            .map(|s| s.trim_start_matches("nats://"))
            .collect();
        write!(f, "nats://{}/{}", hosts.join(","), self.name)
    }
}

/// A ledger's stream on a NATS JetStream cluster, connected.
pub struct JetStreamLog {
    address: Address,
    text: String,
    runtime: tokio::runtime::Runtime,
    client: async_nats::Client,
    js: jetstream::Context,
    stream: Option<stream::Stream>,
    consumer: Option<jetstream::consumer::PullConsumer>,
    /// The key-value bucket of the leases, once made or found (a waiting worker asks for
    /// its lease every half second).
    leases: Option<jetstream::kv::Store>,
    /// Whether a stream marked as an unfinished copy may be used (by the copy itself).
    copying: bool,
}

impl JetStreamLog {
    /// Connects to the cluster at `address` (the stream need not exist yet).
    pub fn connect(address: &Address) -> Result<JetStreamLog, LedgerError> {
        let text = address.to_string();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| shared_err("start a runtime for", &text, e))?;
        let servers: Vec<async_nats::ServerAddr> = address
            .servers
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .map_err(|e| shared_err("parse", &text, e))?;
        // a server restarting, or all of them: tried again for up to RETRY_BUDGET; once
        // connected, the client reconnects on its own (each request has its own bound)
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(100);
        let client = loop {
            let attempt = runtime.block_on(async {
                tokio::time::timeout(
                    REQUEST_TIMEOUT,
                    async_nats::ConnectOptions::new()
                        .connection_timeout(REQUEST_TIMEOUT)
                        .request_timeout(Some(REQUEST_TIMEOUT))
                        .max_reconnects(None)
                        .connect(servers.clone()),
                )
                .await
            });
            let failed = match attempt {
                Ok(Ok(client)) => break client,
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out".to_owned(),
            };
            if started.elapsed() + pause > RETRY_BUDGET {
                return Err(shared_err("connect to", &text, failed));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        };
        // the context spawns its acknowledgement task on the runtime it is made in
        let mut js = {
            let _in_runtime = runtime.enter();
            jetstream::new(client.clone())
        };
        js.set_timeout(REQUEST_TIMEOUT);
        Ok(JetStreamLog {
            address: address.clone(),
            text,
            runtime,
            client,
            js,
            stream: None,
            consumer: None,
            leases: None,
            copying: false,
        })
    }

    /// Whether the ledger's stream exists.
    pub fn exists(&mut self) -> Result<bool, LedgerError> {
        match self.stream() {
            Ok(_) => Ok(true),
            Err(LedgerError::SharedNotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates the ledger's stream with `replicas` copies (1, or 3 on a three-node cluster):
    /// file storage, no deletes or purges, direct reads. [`LedgerError::SharedExists`] if
    /// it is there already.
    pub fn create(&mut self, replicas: usize) -> Result<(), LedgerError> {
        self.create_with(replicas, Default::default())
    }

    /// [`JetStreamLog::create`] marked as the destination of a `ledger copy` not finished
    /// yet: nothing opens it until [`JetStreamLog::finish_copy`] removes the mark, so a copy
    /// that was interrupted never passes for a (shorter) ledger.
    pub fn create_for_copy(&mut self, replicas: usize) -> Result<(), LedgerError> {
        self.create_with(replicas, [(COPY_MARK.to_owned(), "unfinished".to_owned())].into())
    }

    /// Removes the mark of an unfinished copy (the copy is whole and checked).
    pub fn finish_copy(&mut self) -> Result<(), LedgerError> {
        let mut config = self.stream()?.cached_info().config.clone();
        config.metadata.remove(COPY_MARK);
        let js = self.js.clone();
        self.request(
            "finish the copy to",
            || {
                let (js, config) = (js.clone(), config.clone());
                async move { js.update_stream(config).await }
            },
            |_| None,
        )?;
        self.stream = None;
        Ok(())
    }

    /// Lets this connection use a stream marked as an unfinished copy (`ledger copy`, which
    /// makes it, fills it, checks it and removes the mark).
    pub fn for_copy(mut self) -> JetStreamLog {
        self.copying = true;
        self
    }

    /// Whether the stream is the destination of a `ledger copy` that did not finish.
    pub fn is_unfinished_copy(&mut self) -> Result<bool, LedgerError> {
        Ok(self
            .stream()?
            .cached_info()
            .config
            .metadata
            .contains_key(COPY_MARK))
    }

    fn create_with(
        &mut self,
        replicas: usize,
        metadata: std::collections::HashMap<String, String>,
    ) -> Result<(), LedgerError> {
        if self.exists()? {
            return Err(LedgerError::SharedExists(self.text.clone()));
        }
        let config = stream::Config {
            metadata,
            name: self.address.name.clone(),
            subjects: vec![self.address.subject()],
            storage: stream::StorageType::File,
            num_replicas: replicas,
            deny_delete: true,
            deny_purge: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        };
        let js = self.js.clone();
        let created = self.block("create", async move { js.create_stream(config).await })?;
        self.stream = Some(created);
        Ok(())
    }

    /// Follows the log with the durable consumer `name` (created when missing: explicit
    /// acknowledgement, messages from now on, redelivered after 30 s without an
    /// acknowledgement). Call it before catching up, so that no message falls between the
    /// catch-up and the first wait.
    pub fn follow(&mut self, name: &str) -> Result<(), LedgerError> {
        let stream = self.stream()?;
        let name = name.to_owned();
        let consumer = self.request(
            "follow",
            || {
                let (s, name) = (stream.clone(), name.clone());
                async move {
                    s.get_or_create_consumer(
                        &name,
                        jetstream::consumer::pull::Config {
                            durable_name: Some(name.clone()),
                            ack_policy: jetstream::consumer::AckPolicy::Explicit,
                            deliver_policy: jetstream::consumer::DeliverPolicy::New,
                            ack_wait: Duration::from_secs(30),
                            ..Default::default()
                        },
                    )
                    .await
                }
            },
            |_| None,
        )?;
        self.consumer = Some(consumer);
        Ok(())
    }

    /// Waits up to `wait` for new messages on the consumer [`JetStreamLog::follow`] made, and
    /// returns them unacknowledged; [`JetStreamLog::ack`] them once what they cause is done.
    /// A worker crash before that only delivers them again, and the engine's checkpoints and
    /// causation rule keep their work from being done twice.
    pub fn wait_for_messages(&mut self, wait: Duration) -> Result<Vec<jetstream::Message>, LedgerError> {
        let consumer = self
            .consumer
            .clone()
            .ok_or_else(|| shared_err("follow", &self.text, "no consumer: call follow first"))?;
        let batch = self.block("follow", async move {
            consumer.fetch().max_messages(1000).expires(wait).messages().await
        })?;
        let text = self.text.clone();
        self.runtime.block_on(async move {
            use futures_util::TryStreamExt;
            tokio::time::timeout(wait + REQUEST_TIMEOUT, batch.try_collect::<Vec<_>>())
                .await
                .map_err(|_| shared_err("follow", &text, "timed out"))?
                .map_err(|e| shared_err("follow", &text, e))
        })
    }

    /// Takes the lease `key` for `holder` (e.g. `worker-notifications`): at most one holder
    /// at a time across the cluster, kept in the key-value bucket `popug-leases-NAME`
    /// beside the stream. A lease not renewed for [`LEASE_TTL`] lapses (its holder died).
    /// [`LedgerError::Leased`] when someone else holds it.
    pub fn take_lease(&mut self, key: &str, holder: &str) -> Result<Lease, LedgerError> {
        let store = self.lease_bucket()?;
        let taken = self.within(store.create(key, holder.as_bytes().to_vec().into()));
        match taken {
            Ok(Ok(revision)) => Ok(Lease {
                store,
                key: key.to_owned(),
                holder: holder.to_owned(),
                revision,
            }),
            Ok(Err(e)) if e.kind() == jetstream::kv::CreateErrorKind::AlreadyExists => {
                let other = self
                    .within(store.get(key))
                    .ok()
                    .and_then(|r| r.ok().flatten())
                    .map(|v| String::from_utf8_lossy(&v).into_owned())
                    .unwrap_or_else(|| "unknown".to_owned());
                Err(LedgerError::Leased {
                    key: key.to_owned(),
                    holder: other,
                })
            }
            Ok(Err(e)) => Err(shared_err("lease", &self.text, e)),
            Err(_) => Err(shared_err("lease", &self.text, "timed out")),
        }
    }

    /// Renews a lease (call more often than every [`LEASE_TTL`]); [`LedgerError::Leased`]
    /// when it lapsed and someone else holds it now.
    pub fn renew_lease(&mut self, lease: &mut Lease) -> Result<(), LedgerError> {
        let (store, key, holder, revision) = (
            lease.store.clone(),
            lease.key.clone(),
            lease.holder.clone(),
            lease.revision,
        );
        let renewed = self.within(store.update(key, holder.as_bytes().to_vec().into(), revision));
        match renewed {
            Ok(Ok(revision)) => {
                lease.revision = revision;
                Ok(())
            }
            Ok(Err(e)) if e.kind() == jetstream::kv::UpdateErrorKind::WrongLastRevision => {
                Err(LedgerError::Leased {
                    key: lease.key.clone(),
                    holder: "another worker (this one's lease lapsed)".to_owned(),
                })
            }
            Ok(Err(e)) => Err(shared_err("renew the lease of", &self.text, e)),
            Err(_) => Err(shared_err("renew the lease of", &self.text, "timed out")),
        }
    }

    /// Gives a lease back (a worker that stops cleanly), so the next one need not wait.
    pub fn release_lease(&mut self, lease: Lease) {
        let _ = self.within(
            lease
                .store
                .delete_expect_revision(lease.key, Some(lease.revision)),
        );
    }

    /// Acknowledges messages [`JetStreamLog::wait_for_messages`] gave.
    pub fn ack(&mut self, messages: Vec<jetstream::Message>) -> Result<(), LedgerError> {
        for m in messages {
            self.block("acknowledge", async move { m.double_ack().await })?;
        }
        Ok(())
    }

    /// Deletes the stream (tests; an operator's `nats stream rm` does the same).
    pub fn delete(&mut self) -> Result<(), LedgerError> {
        let js = self.js.clone();
        let name = self.address.name.clone();
        self.block("delete", async move { js.delete_stream(name).await })?;
        self.stream = None;
        Ok(())
    }

    fn stream(&mut self) -> Result<stream::Stream, LedgerError> {
        if let Some(s) = &self.stream {
            return Ok(s.clone());
        }
        let text = self.text.clone();
        let stream = self.request(
            "reach",
            || {
                let (js, name) = (self.js.clone(), self.address.name.clone());
                async move { js.get_stream(name).await }
            },
            |e| {
                matches!(
                    e.kind(),
                    jetstream::context::GetStreamErrorKind::JetStream(ref j)
                        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
                )
                .then(|| LedgerError::SharedNotFound(text.clone()))
            },
        )?;
        if !self.copying && stream.cached_info().config.metadata.contains_key(COPY_MARK) {
            return Err(LedgerError::UnfinishedCopy(self.text.clone()));
        }
        self.stream = Some(stream.clone());
        Ok(stream)
    }

    /// Runs one request to the cluster, bounded by [`REQUEST_TIMEOUT`]; see [`Self::request`].
    /// Runs `f` to its end, or for at most [`REQUEST_TIMEOUT`] (`Err`: it timed out).
    fn within<T>(&self, f: impl Future<Output = T>) -> Result<T, tokio::time::error::Elapsed> {
        self.runtime
            .block_on(async { tokio::time::timeout(REQUEST_TIMEOUT, f).await })
    }

    /// The leases' key-value bucket, made the first time (`popug-leases-NAME`, replicated as
    /// the stream is, entries living [`LEASE_TTL`]), then kept.
    fn lease_bucket(&mut self) -> Result<jetstream::kv::Store, LedgerError> {
        if let Some(store) = &self.leases {
            return Ok(store.clone());
        }
        let replicas = self.stream()?.cached_info().config.num_replicas.max(1);
        let bucket = format!("popug-leases-{}", self.address.name);
        let js = self.js.clone();
        let store = self.request(
            "lease",
            || {
                let (js, bucket) = (js.clone(), bucket.clone());
                async move {
                    js.create_key_value(jetstream::kv::Config {
                        bucket,
                        history: 1,
                        max_age: LEASE_TTL,
                        num_replicas: replicas,
                        ..Default::default()
                    })
                    .await
                }
            },
            |_| None,
        )?;
        self.leases = Some(store.clone());
        Ok(store)
    }

    fn block<T, E: std::fmt::Display>(
        &self,
        action: &'static str,
        f: impl Future<Output = Result<T, E>>,
    ) -> Result<T, LedgerError> {
        match self.within(f) {
            Err(_) => Err(shared_err(action, &self.text, "timed out")),
            Ok(Err(e)) => Err(shared_err(action, &self.text, e)),
            Ok(Ok(v)) => Ok(v),
        }
    }

    /// Runs a request made by `make` until it succeeds, until `permanent` says its error is
    /// final (and what it is), or until [`RETRY_BUDGET`] has passed: a server that died, a
    /// stream electing a new leader (a few seconds) is waited out; a cluster that stays
    /// down is an error, never a hang.
    fn request<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
        &self,
        action: &'static str,
        mut make: impl FnMut() -> F,
        permanent: impl Fn(&E) -> Option<LedgerError>,
    ) -> Result<T, LedgerError> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let f = make();
            let last = match self
                .runtime
                .block_on(async { tokio::time::timeout(REQUEST_TIMEOUT, f).await })
            {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => match permanent(&e) {
                    Some(err) => return Err(err),
                    None => e.to_string(),
                },
                Err(_) => "timed out".to_owned(),
            };
            if started.elapsed() + pause > RETRY_BUDGET {
                return Err(shared_err(action, &self.text, last));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }
}

impl SharedLog for JetStreamLog {
    fn address(&self) -> &str {
        &self.text
    }

    fn last_id(&mut self) -> Result<Option<(u64, String)>, LedgerError> {
        let stream = self.stream()?;
        let subject = self.address.subject();
        let found = self.request(
            "read",
            || {
                let (s, subject) = (stream.clone(), subject.clone());
                async move {
                    match s.get_last_raw_message_by_subject(&subject).await {
                        Ok(m) => Ok(Some(m)),
                        Err(e) if e.kind() == jetstream::stream::LastRawMessageErrorKind::NoMessageFound => {
                            Ok(None)
                        }
                        Err(e) => Err(e),
                    }
                }
            },
            |_| None,
        )?;
        Ok(found.map(|m| {
            let id = m
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            (m.sequence, id)
        }))
    }

    fn read(&mut self, after: u64, upto: u64, each: EachMessage<'_>) -> Result<(), LedgerError> {
        if upto <= after {
            return Ok(());
        }
        let stream = self.stream()?;
        if upto - after <= DIRECT_READ_MAX {
            for n in after + 1..=upto {
                let msg = self.request(
                    "read",
                    || {
                        let s = stream.clone();
                        async move { s.get_raw_message(n).await }
                    },
                    |_| None,
                )?;
                each(n, &msg.payload)?;
            }
            return Ok(());
        }
        // a long catch-up streams through an ordered consumer; if the stream of messages
        // breaks (a server gone), a new consumer goes on from the next message
        let started = std::time::Instant::now();
        let mut next = after + 1;
        while next <= upto {
            let consumer = self.request(
                "read",
                || {
                    let s = stream.clone();
                    async move {
                        s.create_consumer(jetstream::consumer::pull::OrderedConfig {
                            deliver_policy: jetstream::consumer::DeliverPolicy::ByStartSequence {
                                start_sequence: next,
                            },
                            ..Default::default()
                        })
                        .await
                    }
                },
                |_| None,
            )?;
            let mut messages = self.block("read", async move { consumer.messages().await })?;
            while next <= upto {
                let item = self
                    .runtime
                    .block_on(async { tokio::time::timeout(REQUEST_TIMEOUT, messages.next()).await });
                let broken = match item {
                    Err(_) => "timed out".to_owned(),
                    Ok(None) => "the stream of messages ended".to_owned(),
                    Ok(Some(Err(e))) => e.to_string(),
                    Ok(Some(Ok(msg))) => {
                        let n = msg
                            .info()
                            .map_err(|e| shared_err("read", &self.text, e))?
                            .stream_sequence;
                        each(n, &msg.payload)?;
                        next = n + 1;
                        continue;
                    }
                };
                if started.elapsed() > RETRY_BUDGET {
                    return Err(shared_err("read", &self.text, broken));
                }
                break;
            }
        }
        Ok(())
    }

    /// Publishes with `Nats-Expected-Last-Sequence: after` and `Nats-Msg-Id: id`. When the
    /// acknowledgement does not come (a server died, a leader is being elected), the same
    /// message is published again until [`RETRY_BUDGET`] passes: the server stores it at
    /// most once (the id within the de-duplication window, the expected sequence always),
    /// and a message found at `after + 1` is recognised as this one by its bytes.
    fn append(&mut self, after: u64, payload: &[u8], id: &str) -> Result<u64, LedgerError> {
        // the stream must exist: a publish to a missing one would only time out
        let stream = self.stream()?;
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        let payload = bytes::Bytes::copy_from_slice(payload);
        loop {
            let (js, subject) = (self.js.clone(), self.address.subject());
            let publish = jetstream::message::PublishMessage::build()
                .payload(payload.clone())
                .message_id(id)
                .expected_last_sequence(after);
            let outcome = self.runtime.block_on(async {
                tokio::time::timeout(REQUEST_TIMEOUT, async {
                    js.send_publish(subject, publish).await?.await
                })
                .await
            });
            let unknown = match outcome {
                Ok(Ok(ack)) => return Ok(ack.sequence),
                Ok(Err(e)) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    // someone appended after `after`: perhaps this very message, from an
                    // earlier attempt whose acknowledgement was lost
                    let s = stream.clone();
                    let there = self.request(
                        "read",
                        || {
                            let s = s.clone();
                            async move { s.get_raw_message(after + 1).await }
                        },
                        |_| None,
                    )?;
                    if there.payload == payload {
                        return Ok(after + 1);
                    }
                    let found = self
                        .last()
                        .map_or_else(|_| "unknown".to_owned(), |n| n.to_string());
                    return Err(LedgerError::Conflict {
                        address: self.text.clone(),
                        expected: after,
                        found,
                    });
                }
                Ok(Err(e)) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    return Err(shared_err("append to", &self.text, e));
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "timed out waiting for the acknowledgement".to_owned(),
            };
            if started.elapsed() + pause > RETRY_BUDGET {
                return Err(shared_err(
                    "append to",
                    &self.text,
                    format!("{unknown} (whether it was stored is settled by the next read of the log)"),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    fn max_payload(&self) -> usize {
        // headers (ids, the expected sequence) take a little of the server's limit
        self.client
            .server_info()
            .max_payload
            .saturating_sub(1024)
            .max(4096)
    }
}

fn shared_err(action: &'static str, address: &str, e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Shared {
        action,
        address: address.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::Address;

    #[test]
    fn addresses_parse_and_print_back() {
        let a = Address::parse("nats://127.0.0.1:4222,10.0.0.2:4223/acme_1").unwrap();
        assert_eq!(a.servers, ["nats://127.0.0.1:4222", "nats://10.0.0.2:4223"]);
        assert_eq!(a.name, "acme_1");
        assert_eq!(a.to_string(), "nats://127.0.0.1:4222,10.0.0.2:4223/acme_1");
        for bad in [
            "nats://h:4222",
            "nats://h:4222/",
            "nats://h/x",
            "nats://h:0/x",
            "nats://h:4222/a.b",
            "nats://:4222/x",
            "nats://user:secret@h:4222/x",
            "tls://h:4222/x",
            "/tmp/x",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
        assert!(Address::is_url("tls://h:4222/x") && Address::is_url("NATS://h:1/x"));
        assert!(!Address::is_url("/tmp/x") && !Address::is_url("./a://b"));
        assert_eq!(
            Address::parse("NATS://h:1/x").unwrap().to_string(),
            "nats://h:1/x"
        );
        // an error never repeats a secret
        let e = Address::parse("nats://user:secret@h:4222/x").unwrap_err();
        assert!(e.contains("credentials") && !e.contains("secret"), "{e}");
    }
}
