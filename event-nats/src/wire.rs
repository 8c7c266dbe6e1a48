//! The wire format: where events go (subjects), and what a message carries (the envelope and
//! its headers). JSON, so a service in another language can publish and read the same events
//! with its own NATS client.
//!
//! - A *bus* is one JetStream stream, named after the bus, holding the subjects
//!   `<bus>.events.>`.
//! - A publisher publishes to `<bus>.events.<manager>`, `<manager>` being its manager's name
//!   with every character other than ASCII letters, digits, `-` and `_` written `_`.
//! - A message is a batch of consecutive events of one publisher:
//!   `{"origin":{"manager":"alarms","incarnation":"4f1c…"},"seq":17,"events":[e17,e18,…]}`,
//!   each event in its serde JSON form; `seq` numbers the first event, the others follow, and
//!   a publisher's first event is 1.
//! - Its `Nats-Msg-Id` header is `<incarnation>.<seq>`, so JetStream drops a batch published
//!   twice (a retry after a lost acknowledgement) within the stream's duplicate window.
//! - Its `traceparent` header (W3C Trace Context) names the batch's trace: the publisher logs
//!   the publish, and the bridge hands the events over, in `tracing` spans that carry it.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Who published an event: a manager, in one incarnation of its publisher (a process, or a
/// re-install of the publishing handler). Sequence numbers count per origin.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The publishing manager's name.
    pub manager: String,
    /// Unique to one publisher's lifetime: 16 hexadecimal digits.
    pub incarnation: String,
}

impl Origin {
    /// The origin of a new publisher in manager `manager`, with a fresh incarnation.
    pub fn new(manager: impl Into<String>) -> Self {
        Origin {
            manager: manager.into(),
            incarnation: fresh_incarnation(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.manager, self.incarnation)
    }
}

/// A value no other publisher has: 16 hexadecimal digits.
fn fresh_incarnation() -> String {
    format!("{:016x}", random())
}

/// 64 random bits: the process's random hash keys, mixed with the clock, the process id and a
/// counter. Unique, not secret.
fn random() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(now);
    h.write_u32(std::process::id());
    h.write_u64(COUNT.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// The trace context header of a batch (W3C Trace Context).
pub(crate) const TRACEPARENT: &str = "traceparent";

/// A new W3C `traceparent` value for a batch: version 00, a random trace id and span id,
/// sampled.
pub(crate) fn traceparent() -> String {
    format!("00-{:016x}{:016x}-{:016x}-01", random(), random(), random())
}

/// A received batch, decoded.
#[derive(Debug, Deserialize)]
#[serde(bound = "E: Deserialize<'de>")]
pub(crate) struct Envelope<E> {
    pub(crate) origin: Origin,
    pub(crate) seq: u64,
    pub(crate) events: Vec<E>,
}

/// Encodes a batch whose events are serialized already.
pub(crate) fn encode(origin: &Origin, seq: u64, events: &[Vec<u8>]) -> Vec<u8> {
    let origin = serde_json::to_vec(origin).unwrap_or_default();
    let len = events.iter().map(|e| e.len() + 1).sum::<usize>() + origin.len() + 48;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"{\"origin\":");
    out.extend_from_slice(&origin);
    out.extend_from_slice(format!(",\"seq\":{seq},\"events\":[").as_bytes());
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(e);
    }
    out.extend_from_slice(b"]}");
    out
}

/// The stream holding a bus's events.
pub(crate) fn stream_name(bus: &str) -> String {
    bus.to_string()
}

/// The subjects of a bus's stream.
pub(crate) fn bus_subjects(bus: &str) -> String {
    format!("{bus}.events.>")
}

/// The subject a manager's events are published to.
pub(crate) fn subject(bus: &str, manager: &str) -> String {
    format!("{bus}.events.{}", token(manager))
}

/// A manager's name as one subject token: every character other than ASCII letters, digits,
/// `-` and `_` written `_`.
pub(crate) fn token(manager: &str) -> String {
    manager
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '_',
        })
        .collect()
}

/// The `Nats-Msg-Id` of the batch starting at `seq`.
pub(crate) fn message_id(origin: &Origin, seq: u64) -> String {
    format!("{}.{seq}", origin.incarnation)
}

/// Whether `bus` can name a stream and start its subjects: ASCII letters, digits, `-`, `_`.
pub(crate) fn valid_bus(bus: &str) -> bool {
    !bus.is_empty()
        && bus
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_decodes_as_it_was_encoded() {
        let origin = Origin::new("alarms");
        let events: Vec<Vec<u8>> = [1u32, 2, 3]
            .iter()
            .map(|n| serde_json::to_vec(n).unwrap())
            .collect();
        let bytes = encode(&origin, 7, &events);
        let env: Envelope<u32> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(env.origin, origin);
        assert_eq!(env.seq, 7);
        assert_eq!(env.events, [1, 2, 3]);
    }

    #[test]
    fn subjects_keep_only_safe_characters() {
        assert_eq!(
            subject("bus", "alarms.eu west*"),
            "bus.events.alarms_eu_west_"
        );
        assert!(valid_bus("charging-stations_1"));
        assert!(!valid_bus("a.b") && !valid_bus("") && !valid_bus("a>"));
    }

    #[test]
    fn a_traceparent_has_the_w3c_shape() {
        let t = traceparent();
        let parts: Vec<&str> = t.split('-').collect();
        assert_eq!(parts.len(), 4, "{t}");
        assert_eq!((parts[0], parts[3]), ("00", "01"));
        assert_eq!((parts[1].len(), parts[2].len()), (32, 16));
        assert!(t.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn incarnations_differ() {
        assert_ne!(Origin::new("m").incarnation, Origin::new("m").incarnation);
        assert_eq!(Origin::new("m").incarnation.len(), 16);
    }
}
