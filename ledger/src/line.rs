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
        // lowercase hex digit -> its value; 0xff for any other byte
        const NIBBLE: [u8; 256] = {
            let mut t = [0xff; 256];
            let mut i = 0;
            while i < 10 {
                t[b'0' as usize + i] = i as u8;
                i += 1;
            }
            let mut i = 0;
            while i < 6 {
                t[b'a' as usize + i] = 10 + i as u8;
                i += 1;
            }
            t
        };
        let mut out = [0u8; 32];
        let mut bad = 0u8;
        for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
            let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
            bad |= hi | lo;
            *o = (hi << 4) | lo;
        }
        // a valid nibble has its high bits clear; 0xff sets them
        (bad & 0xf0 == 0).then_some(Hash(out))
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
    /// The application's decoding of `data`, made once and shared by every store's
    /// projection and reactor that reads this event (see [`Event::decoded`]). Not part of
    /// the line: `Default::default()` for a new event.
    pub decoded: Decoded,
}

/// An event's payload as the application decoded it, once (see [`Event::decoded`]).
#[derive(Clone, Default)]
pub struct Decoded(std::sync::OnceLock<std::sync::Arc<dyn std::any::Any + Send + Sync>>);

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Decoded(..)"
        } else {
            "Decoded(none)"
        })
    }
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
    /// The application's decoding of this event, made by `decode` the first time it is
    /// asked for and kept with the event: in a replay the stores' threads share one chunk
    /// of events, so each payload is parsed once however many stores read it. An error is
    /// not kept (the next call decodes again and fails the same way).
    ///
    /// # Panics
    /// When asked for another type than the one decoded first: an application decodes its
    /// events into one type.
    pub fn decoded<T: std::any::Any + Send + Sync, E>(
        &self,
        decode: impl FnOnce(&Event) -> Result<T, E>,
    ) -> Result<&T, E> {
        let kept = match self.decoded.0.get() {
            Some(kept) => kept,
            None => {
                let fresh = std::sync::Arc::new(decode(self)?);
                // another thread may have decoded it meanwhile: either copy is the same
                let _ = self.decoded.0.set(fresh);
                self.decoded.0.get().expect("set just now")
            }
        };
        Ok(kept
            .downcast_ref::<T>()
            .expect("an application decodes its events into one type"))
    }

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

/// A line in the form [`encode`] writes, cut into the envelope's fields without a JSON
/// parser: each key is matched in its frozen order, strings may hold no escape (then the
/// line is left to serde), and `data` is what lies between `"data":` and the three fixed
/// fields that end the line, checked to be one JSON value with nothing around it.
struct Canonical<'a> {
    rest: &'a str,
}

impl<'a> Canonical<'a> {
    fn parse(line: &'a [u8]) -> Option<LineIn<'a>> {
        let text = std::str::from_utf8(line).ok()?;
        // the end first: `,"batch_end":N,"prev":"H","hash":"H"}`
        let n = text.len();
        let hash_at = n.checked_sub(HASH_SUFFIX_LEN)?;
        if !text.ends_with("\"}") || text.get(hash_at..hash_at + HASH_KEY.len())?.as_bytes() != HASH_KEY {
            return None;
        }
        let hash = text.get(hash_at + HASH_KEY.len()..n - 2)?;
        let prev_at = hash_at.checked_sub(PREV_LEN)?;
        let prev = text
            .get(prev_at..hash_at)?
            .strip_prefix(r#","prev":""#)?
            .strip_suffix('"')?;
        // serde would reject other bytes in these strings; `decode` wants lowercase hex
        let hex = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !hex(hash) || !hex(prev) {
            return None;
        }
        let digits = text[..prev_at]
            .bytes()
            .rev()
            .take_while(u8::is_ascii_digit)
            .count();
        let batch_end = uint(&text[prev_at - digits..prev_at])?;
        let data_end = (prev_at - digits).checked_sub(BATCH_END_KEY.len())?;
        if text.get(data_end..prev_at - digits)? != BATCH_END_KEY {
            return None;
        }
        let mut c = Canonical {
            rest: &text[..data_end],
        };
        let seq = uint(c.number(r#"{"seq":"#)?)?;
        let id = c.uuid(r#","id":"#)?;
        let event_type = c.string(r#","type":"#)?;
        let v = u32::try_from(uint(c.number(r#","v":"#)?)?).ok()?;
        let at = c.string(r#","at":"#)?;
        let producer = c.string(r#","producer":"#)?;
        let actor = c.string(r#","actor":"#)?;
        let causation_id = match c.rest.strip_prefix(r#","causation_id":null"#) {
            Some(rest) => {
                c.rest = rest;
                None
            }
            None => Some(c.uuid(r#","causation_id":"#)?),
        };
        let correlation_id = c.uuid(r#","correlation_id":"#)?;
        let raw = c.rest.strip_prefix(r#","data":"#)?;
        let (first, last) = (raw.bytes().next()?, raw.bytes().last()?);
        if first.is_ascii_whitespace() || last.is_ascii_whitespace() {
            return None;
        }
        let data = RawValue::from_string(raw.to_owned()).ok()?;
        Some(LineIn {
            seq,
            id,
            event_type: event_type.into(),
            v,
            at: at.into(),
            producer: producer.into(),
            actor: actor.into(),
            causation_id,
            correlation_id,
            data,
            batch_end,
            prev: prev.into(),
            hash: hash.into(),
        })
    }

    /// The digits after `key`, up to the next field.
    fn number(&mut self, key: &str) -> Option<&'a str> {
        let rest = self.rest.strip_prefix(key)?;
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        self.rest = &rest[len..];
        Some(&rest[..len])
    }

    /// The string after `key`, which holds no escape and no control character.
    fn string(&mut self, key: &str) -> Option<&'a str> {
        let rest = self.rest.strip_prefix(key)?.strip_prefix('"')?;
        let len = rest.bytes().position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.as_bytes()[len] != b'"' {
            return None;
        }
        self.rest = &rest[len + 1..];
        Some(&rest[..len])
    }

    fn uuid(&mut self, key: &str) -> Option<Uuid> {
        let s = self.string(key)?;
        // serde reads any form `Uuid::parse_str` knows; the hyphenated one is the encoder's
        (s.len() == 36).then(|| Uuid::try_parse(s).ok()).flatten()
    }
}

const BATCH_END_KEY: &str = r#","batch_end":"#;
/// `,"prev":"` + 64 hex digits + `"`
const PREV_LEN: usize = 9 + 64 + 1;

/// A JSON unsigned integer as serde reads it into a `u64`: no sign, no leading zero.
fn uint(digits: &str) -> Option<u64> {
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    digits.parse().ok()
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
///
/// Lines as [`encode`] writes them (keys in order, no whitespace, no escapes outside
/// `data`) are read field by field; any other line goes through serde, which accepts or
/// rejects it exactly as before. Both give the same event for a line both accept.
pub fn decode(line: &[u8]) -> Result<Event, LineError> {
    let parsed = match Canonical::parse(line) {
        Some(fields) => fields,
        None => serde_json::from_slice(line).map_err(|e| LineError::Malformed(e.to_string()))?,
    };
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
        decoded: Default::default(),
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
            decoded: Default::default(),
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

    /// Every field, to compare what the two readers of a line found.
    fn fields(l: &LineIn<'_>) -> String {
        format!(
            "{:?} {:?}",
            (l.seq, l.id, &l.event_type, l.v, &l.at, &l.producer, &l.actor),
            (
                l.causation_id,
                l.correlation_id,
                l.data.get(),
                l.batch_end,
                &l.prev,
                &l.hash
            )
        )
    }

    fn lines() -> Vec<Vec<u8>> {
        let data = [
            serde_json::json!({"title": "Fix \"beak\" \\ now", "hash": "x", "n": [1, 2.5, null, true]}),
            serde_json::json!({"login": "попуг", "note": "tab\there", "nested": {"batch_end": 1}}),
            serde_json::json!([]),
            serde_json::json!("just a string"),
        ];
        let mut out = Vec::new();
        for (i, d) in data.iter().enumerate() {
            for causation in [
                None,
                Some(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0009)),
            ] {
                let mut buf = Vec::new();
                let e = Event {
                    seq: 10_u64.pow(i as u32 * 4),
                    batch_end: u64::MAX - i as u64,
                    causation_id: causation,
                    actor: if i == 1 {
                        "попуг".into()
                    } else {
                        "system".into()
                    },
                    data: serde_json::value::to_raw_value(d).unwrap(),
                    ..sample()
                };
                encode(&e, &mut buf);
                buf.pop();
                out.push(buf);
            }
        }
        out
    }

    #[test]
    fn the_encoders_lines_are_read_field_by_field_as_serde_reads_them() {
        for line in lines() {
            let fast = Canonical::parse(&line).expect("an encoded line is canonical");
            let slow: LineIn<'_> = serde_json::from_slice(&line).unwrap();
            assert_eq!(fields(&fast), fields(&slow), "{}", String::from_utf8_lossy(&line));
            assert!(decode(&line).is_ok());
        }
    }

    #[test]
    fn a_line_the_field_reader_accepts_is_one_serde_accepts_with_the_same_fields() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let specials = b" \t\\\"{}[],:0123456789-.enul";
        let (mut accepted, mut fell_back) = (0, 0);
        for line in lines() {
            for _ in 0..4000 {
                let mut m = line.clone();
                for _ in 0..rng.random_range(1..=3) {
                    let at = rng.random_range(0..m.len());
                    let byte = specials[rng.random_range(0..specials.len())];
                    match rng.random_range(0..3) {
                        0 => m[at] = byte,
                        1 => m.insert(at, byte),
                        _ => {
                            m.remove(at);
                        }
                    }
                }
                match Canonical::parse(&m) {
                    Some(fast) => {
                        accepted += 1;
                        let slow: LineIn<'_> = serde_json::from_slice(&m).unwrap_or_else(|e| {
                            panic!(
                                "serde rejects ({e}) a line the field reader took: {}",
                                String::from_utf8_lossy(&m)
                            )
                        });
                        assert_eq!(fields(&fast), fields(&slow), "{}", String::from_utf8_lossy(&m));
                    }
                    None => fell_back += 1,
                }
            }
        }
        // both sides of the check ran: mutations that keep the form, and ones that break it
        assert!(
            accepted > 1000 && fell_back > 1000,
            "{accepted} accepted, {fell_back} fell back"
        );
    }

    #[test]
    fn a_line_with_escapes_in_the_envelope_is_read_by_serde() {
        let mut buf = Vec::new();
        let e = Event {
            actor: "a \"quoted\" actor".into(),
            ..sample()
        };
        let hash = encode(&e, &mut buf);
        buf.pop();
        assert!(Canonical::parse(&buf).is_none());
        assert_eq!(decode(&buf).unwrap(), Event { hash, ..e });
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
