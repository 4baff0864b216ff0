//! The event line: the frozen on-disk form of one event, how it is written and how its hash
//! is computed. Uses serde_json for the envelope and sha2 for the chain; nothing else.
//!
//! Do *not* change the envelope: the field order, names and types of `LineOut`/`LineIn`
//! are part of every ledger ever written, and the hash covers the exact bytes on disk.
//!
//! A line is `P,"hash":"H"}\n`, where `P}` is the event as a JSON object without its hash
//! field (keys in the fixed order below) and `H = hex(sha256(P + "}"))`. Verification never
//! re-serializes: it hashes the bytes that are there.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// `,"hash":"` + 64 hex digits + `"}`
const HASH_SUFFIX_LEN: usize = 9 + 64 + 2;
const HASH_KEY: &[u8] = br#","hash":""#;

/// A SHA-256 digest of one line; the `prev` of the first line is all zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub const GENESIS: Hash = Hash([0; 32]);

    fn of_object_without_hash(prefix: &[u8]) -> Hash {
        let mut h = Sha256::new();
        h.update(prefix);
        h.update(b"}");
        Hash(h.finalize().into())
    }

    fn write_hex(&self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for b in self.0 {
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        }
    }

    fn from_hex(s: &[u8]) -> Option<Hash> {
        if s.len() != 64 {
            return None;
        }
        let nib = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 32];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            out[i] = (nib(pair[0])? << 4) | nib(pair[1])?;
        }
        Some(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::with_capacity(64);
        self.write_hex(&mut v);
        f.write_str(std::str::from_utf8(&v).expect("hex is ascii"))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Hash::from_hex(s.as_bytes()).ok_or(())
    }
}

/// One event as it is in the log.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: u64,
    pub id: Uuid,
    pub event_type: String,
    pub version: u32,
    pub at: DateTime<Utc>,
    pub producer: String,
    pub actor: String,
    /// The event this one reacts to; `None` for the events a command decided.
    pub causation_id: Option<Uuid>,
    pub correlation_id: Uuid,
    pub data: Box<RawValue>,
    /// The `seq` of the last event of the atomic batch this event was appended in.
    pub batch_end: u64,
    pub prev: Hash,
    pub hash: Hash,
}

impl PartialEq for Event {
    fn eq(&self, o: &Event) -> bool {
        (
            self.seq,
            &self.id,
            &self.event_type,
            self.version,
            &self.at,
            &self.producer,
            &self.actor,
        ) == (
            o.seq,
            &o.id,
            &o.event_type,
            o.version,
            &o.at,
            &o.producer,
            &o.actor,
        ) && (
            self.causation_id,
            &self.correlation_id,
            self.data.get(),
            self.batch_end,
            &self.prev,
            &self.hash,
        ) == (
            o.causation_id,
            &o.correlation_id,
            o.data.get(),
            o.batch_end,
            &o.prev,
            &o.hash,
        )
    }
}

impl Event {
    /// Decodes `data` into a payload type.
    pub fn data_as<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_str(self.data.get())
    }

    /// True for the first event of a batch that a command (not a reaction) appended.
    pub fn is_root(&self) -> bool {
        self.causation_id.is_none()
    }
}

/// Everything the caller decides about an event; the engine adds position and chain.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    pub version: u32,
    pub producer: String,
    pub actor: String,
    pub data: Box<RawValue>,
}

impl NewEvent {
    pub fn new(
        event_type: &str,
        version: u32,
        producer: &str,
        actor: &str,
        data: &(impl Serialize + ?Sized),
    ) -> serde_json::Result<NewEvent> {
        Ok(NewEvent {
            event_type: event_type.to_owned(),
            version,
            producer: producer.to_owned(),
            actor: actor.to_owned(),
            data: serde_json::value::to_raw_value(data)?,
        })
    }
}

/// The fields of a line in their frozen order, without the hash.
#[derive(Serialize)]
struct LineOut<'a> {
    seq: u64,
    id: &'a Uuid,
    #[serde(rename = "type")]
    event_type: &'a str,
    v: u32,
    at: &'a str,
    producer: &'a str,
    actor: &'a str,
    causation_id: Option<&'a Uuid>,
    correlation_id: &'a Uuid,
    data: &'a RawValue,
    batch_end: u64,
    prev: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineIn<'a> {
    seq: u64,
    id: Uuid,
    #[serde(rename = "type", borrow)]
    event_type: std::borrow::Cow<'a, str>,
    v: u32,
    #[serde(borrow)]
    at: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    producer: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    actor: std::borrow::Cow<'a, str>,
    causation_id: Option<Uuid>,
    correlation_id: Uuid,
    data: Box<RawValue>,
    batch_end: u64,
    #[serde(borrow)]
    prev: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    hash: std::borrow::Cow<'a, str>,
}

/// The instant format of `at`: RFC 3339, UTC, milliseconds.
pub fn format_at(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Appends the line of `event` (with its trailing `\n`) to `out` and returns its hash.
/// `event.hash` is ignored.
pub fn encode(event: &Event, out: &mut Vec<u8>) -> Hash {
    let start = out.len();
    let prev = event.prev.to_string();
    let at = format_at(&event.at);
    let line = LineOut {
        seq: event.seq,
        id: &event.id,
        event_type: &event.event_type,
        v: event.version,
        at: &at,
        producer: &event.producer,
        actor: &event.actor,
        causation_id: event.causation_id.as_ref(),
        correlation_id: &event.correlation_id,
        data: &event.data,
        batch_end: event.batch_end,
        prev: &prev,
    };
    serde_json::to_writer(&mut *out, &line).expect("serializing to a Vec cannot fail");
    let closing = out.pop();
    debug_assert_eq!(closing, Some(b'}'));
    let hash = Hash::of_object_without_hash(&out[start..]);
    out.extend_from_slice(HASH_KEY);
    hash.write_hex(out);
    out.extend_from_slice(b"\"}\n");
    hash
}

/// Why one line cannot be an event. The chain checks (seq, prev, time) are the reader's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("it is not a valid event line ({0})")]
    Malformed(String),
    #[error("its hash does not match its content (stored {stored}, computed {computed})")]
    HashMismatch { stored: Hash, computed: Hash },
}

/// Decodes one line (without its `\n`) and checks its own hash.
pub fn decode(line: &[u8]) -> Result<Event, LineError> {
    let parsed: LineIn<'_> = serde_json::from_slice(line).map_err(|e| LineError::Malformed(e.to_string()))?;
    let n = line.len();
    if n < HASH_SUFFIX_LEN
        || &line[n - HASH_SUFFIX_LEN..n - HASH_SUFFIX_LEN + HASH_KEY.len()] != HASH_KEY
        || &line[n - 2..] != b"\"}"
    {
        return Err(LineError::Malformed("`hash` is not the last field".into()));
    }
    let stored = Hash::from_hex(&line[n - 66..n - 2])
        .filter(|_| parsed.hash.as_bytes() == &line[n - 66..n - 2])
        .ok_or_else(|| LineError::Malformed("`hash` is not 64 lowercase hex digits".into()))?;
    let computed = Hash::of_object_without_hash(&line[..n - HASH_SUFFIX_LEN]);
    if stored != computed {
        return Err(LineError::HashMismatch { stored, computed });
    }
    let prev = parsed
        .prev
        .parse()
        .map_err(|()| LineError::Malformed("`prev` is not 64 lowercase hex digits".into()))?;
    let at = DateTime::parse_from_rfc3339(&parsed.at)
        .map_err(|e| LineError::Malformed(format!("`at` is not an RFC 3339 instant: {e}")))?
        .with_timezone(&Utc);
    Ok(Event {
        seq: parsed.seq,
        id: parsed.id,
        event_type: parsed.event_type.into_owned(),
        version: parsed.v,
        at,
        producer: parsed.producer.into_owned(),
        actor: parsed.actor.into_owned(),
        causation_id: parsed.causation_id,
        correlation_id: parsed.correlation_id,
        data: parsed.data,
        batch_end: parsed.batch_end,
        prev,
        hash: stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event {
            seq: 7,
            id: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
            event_type: "TaskCreated".into(),
            version: 2,
            at: "2026-11-27T09:15:02.123Z".parse().unwrap(),
            producer: "tasks".into(),
            actor: "system".into(),
            causation_id: None,
            correlation_id: Uuid::from_u128(42),
            data: serde_json::value::to_raw_value(&serde_json::json!({"title": "Fix \"beak\"", "hash": "x"}))
                .unwrap(),
            batch_end: 8,
            prev: Hash([7; 32]),
            hash: Hash::GENESIS,
        }
    }

    #[test]
    fn encode_then_decode_round_trips_and_keeps_key_order() {
        let mut buf = Vec::new();
        let hash = encode(&sample(), &mut buf);
        let text = std::str::from_utf8(&buf).unwrap();
        assert!(text.starts_with(r#"{"seq":7,"id":"#), "{text}");
        assert!(text.ends_with(&format!(",\"hash\":\"{hash}\"}}\n")), "{text}");
        let order = [
            "\"seq\"",
            "\"id\"",
            "\"type\"",
            "\"v\"",
            "\"at\"",
            "\"producer\"",
            "\"actor\"",
            "\"causation_id\"",
            "\"correlation_id\"",
            "\"data\"",
            "\"batch_end\"",
            "\"prev\"",
        ];
        let positions: Vec<_> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        let back = decode(&buf[..buf.len() - 1]).unwrap();
        assert_eq!(back, Event { hash, ..sample() });
    }

    #[test]
    fn the_hash_covers_every_byte_before_it() {
        let mut buf = Vec::new();
        encode(&sample(), &mut buf);
        buf.pop();
        let cut = buf.len() - HASH_SUFFIX_LEN;
        for i in 0..cut {
            let mut damaged = buf.clone();
            damaged[i] ^= 0x01;
            assert!(decode(&damaged).is_err(), "flip at byte {i} went unnoticed");
        }
    }

    #[test]
    fn a_data_field_named_hash_does_not_confuse_the_suffix() {
        let mut buf = Vec::new();
        encode(&sample(), &mut buf);
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.matches("\"hash\"").count(), 2);
        assert!(decode(text.trim_end().as_bytes()).is_ok());
    }

    #[test]
    fn hash_field_must_be_last_and_hex() {
        let mut buf = Vec::new();
        encode(&sample(), &mut buf);
        let text = String::from_utf8(buf).unwrap();
        let upper = text.trim_end().to_uppercase();
        assert!(matches!(decode(upper.as_bytes()), Err(LineError::Malformed(_))));
        assert!(matches!(decode(b"{}"), Err(LineError::Malformed(_))));
        assert!(matches!(decode(b"not json"), Err(LineError::Malformed(_))));
    }
}
