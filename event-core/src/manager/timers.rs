//! A manager's timers: one set for all its handlers, kept in its mailbox and fired by its loop,
//! which sleeps until the earliest deadline (one `tokio::time::Sleep` per manager, not a task
//! per timer).
//!
//! Deadlines count in milliseconds (the resolution of tokio's timers), rounded up: the timers
//! due in one millisecond form a bucket, in the order they were set, and a binary heap holds
//! the distinct milliseconds. Arming and cancelling a timer are O(1) when its millisecond has
//! a bucket already (a burst), O(log M) in the M distinct milliseconds otherwise; firing is
//! O(1) a timer. A millisecond whose timers were all cancelled stays in the heap until it
//! comes up.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use tokio::time::Instant;

use super::registry::{Registry, State, NIL};

/// An armed timer's message, boxed: each handler has its own message type.
pub(super) type Payload = crate::callback::Owned<Box<dyn Any + Send>>;

/// A timer: its message, its millisecond, and its neighbours in that millisecond's bucket.
pub(super) struct Timer {
    payload: Payload,
    tick: u64,
    prev: u32,
    next: u32,
}

/// The timer at place `at`, if one is there.
fn timer_at(registry: &mut Registry<Timer>, at: u32) -> Option<&mut Timer> {
    registry.at_mut(at).and_then(|(_, e)| e.item.as_mut())
}

/// The first and last timer of a millisecond, by place in the registry.
#[derive(Clone, Copy)]
struct Bucket {
    first: u32,
    last: u32,
}

/// Milliseconds are numbered in order: a multiplication spreads them.
#[derive(Default)]
struct TickHasher(u64);

impl Hasher for TickHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(super) struct Timers {
    registry: Registry<Timer>,
    buckets: HashMap<u64, Bucket, BuildHasherDefault<TickHasher>>,
    /// The milliseconds with a bucket (and some whose bucket is gone), earliest first.
    ticks: BinaryHeap<Reverse<u64>>,
    base: Instant,
    /// The millisecond the manager's loop waits for while it waits (`u64::MAX` for none);
    /// `None` while it runs, when it looks at the timers before it waits again.
    pub(super) waiting: Option<u64>,
}

const MS: u64 = 1_000_000;

impl Timers {
    pub(super) fn new() -> Self {
        Timers {
            registry: Registry::default(),
            buckets: HashMap::default(),
            ticks: BinaryHeap::new(),
            base: Instant::now(),
            // The loop may be waiting without knowing of timers yet.
            waiting: Some(u64::MAX),
        }
    }

    /// The millisecond after `base` of instant `at`, rounded up.
    fn tick(&self, at: Instant) -> u64 {
        let ns = at.saturating_duration_since(self.base).as_nanos();
        u64::try_from(ns.div_ceil(MS as u128)).unwrap_or(u64::MAX)
    }

    fn instant(&self, tick: u64) -> Instant {
        let far = Duration::from_secs(86400 * 365 * 30);
        self.base + Duration::from_millis(tick).min(far)
    }

    /// Arms a timer of handler `uid` (its list is `head`) due at `at`. Returns its reference,
    /// and whether the manager's loop must be woken to wait for it.
    pub(super) fn arm(
        &mut self,
        uid: u64,
        head: &mut u32,
        at: Instant,
        payload: Payload,
    ) -> (u64, bool) {
        let tick = self.tick(at);
        let place = self.registry.next_place();
        let prev = match self.buckets.get_mut(&tick) {
            Some(b) => std::mem::replace(&mut b.last, place),
            None => {
                self.buckets.insert(
                    tick,
                    Bucket {
                        first: place,
                        last: place,
                    },
                );
                self.ticks.push(Reverse(tick));
                NIL
            }
        };
        if let Some(t) = timer_at(&mut self.registry, prev) {
            t.next = place;
        }
        let timer = Timer {
            payload,
            tick,
            prev,
            next: NIL,
        };
        let r = self.registry.insert(uid, head, timer);
        let wake = self.waiting.is_some_and(|w| tick < w);
        if wake {
            self.waiting = None;
        }
        (r, wake)
    }

    /// The bucket links of the armed timer at place `at`.
    fn links(&mut self, at: u32) -> Option<(u64, u32, u32)> {
        match self.registry.at_mut(at) {
            Some((_, e)) if e.state == State::Armed => {
                e.item.as_ref().map(|t| (t.tick, t.prev, t.next))
            }
            _ => None,
        }
    }

    /// Takes the armed timer at place `at` out of its millisecond's bucket (before it leaves
    /// the registry: its neighbours are found there).
    fn unlink(&mut self, at: u32) {
        let Some((tick, prev, next)) = self.links(at) else {
            return;
        };
        match timer_at(&mut self.registry, prev) {
            Some(p) => p.next = next,
            None => {
                if let Some(b) = self.buckets.get_mut(&tick) {
                    b.first = next;
                }
            }
        }
        match timer_at(&mut self.registry, next) {
            Some(n) => n.prev = prev,
            None => {
                if let Some(b) = self.buckets.get_mut(&tick) {
                    b.last = prev;
                }
            }
        }
        if self.buckets.get(&tick).is_some_and(|b| b.first == NIL) {
            self.buckets.remove(&tick);
        }
    }

    /// Cancels timer `r` of handler `uid`, pending or fired and not yet handled. Returns whether
    /// it was, and its message if it had not fired (to be dropped outside the mailbox's lock).
    pub(super) fn cancel(&mut self, r: u64, uid: u64, head: &mut u32) -> Option<Option<Payload>> {
        if self.registry.get_mut(r)?.uid != uid {
            return None;
        }
        self.unlink(r as u32);
        let (_, timer) = self.registry.remove(r, uid, head)?;
        Some(timer.map(|t| t.payload))
    }

    /// Forgets a fired timer whose message the handler got; returns whether it was still
    /// wanted (not cancelled in between).
    pub(super) fn handled(&mut self, r: u64, uid: u64, head: &mut u32) -> bool {
        match self.registry.get_mut(r) {
            Some(e) if e.state == State::Fired && e.uid == uid => {
                self.registry.remove(r, uid, head);
                true
            }
            _ => false,
        }
    }

    /// Cancels every timer of the list `head`, handing their messages to `drop_later`.
    pub(super) fn cancel_all(&mut self, head: &mut u32, drop_later: &mut Vec<Payload>) {
        let mut at = *head;
        while at != NIL {
            let next = self.registry.next_in_list(at);
            self.unlink(at);
            at = next;
        }
        self.registry
            .remove_all(head, |_, timer| drop_later.extend(timer.map(|t| t.payload)));
    }

    /// The earliest deadline of a timer still armed, if any: its millisecond, and as an
    /// instant.
    pub(super) fn next_deadline(&mut self) -> Option<(u64, Instant)> {
        while let Some(Reverse(tick)) = self.ticks.peek().copied() {
            if self.buckets.contains_key(&tick) {
                return Some((tick, self.instant(tick)));
            }
            self.ticks.pop();
        }
        None
    }

    /// Fires the timers due by `now`, at most `max` of them, earliest first and in the order
    /// they were set within a millisecond: each one's handler uid, reference and message go to
    /// `fire`. Returns how many fired.
    pub(super) fn fire_due(
        &mut self,
        now: Instant,
        max: usize,
        mut fire: impl FnMut(u64, u64, Payload),
    ) -> usize {
        let now = now.saturating_duration_since(self.base).as_nanos();
        let mut fired = 0;
        while fired < max {
            let Some(&Reverse(tick)) = self.ticks.peek() else {
                return fired;
            };
            if u128::from(tick) * u128::from(MS) > now {
                return fired;
            }
            let Some(mut at) = self.buckets.get(&tick).map(|b| b.first) else {
                self.ticks.pop();
                continue;
            };
            while at != NIL && fired < max {
                let Some((r, e)) = self.registry.at_mut(at) else {
                    break;
                };
                e.state = State::Fired;
                let uid = e.uid;
                let Some(timer) = e.item.take() else {
                    break;
                };
                at = timer.next;
                fire(uid, r, timer.payload);
                fired += 1;
            }
            if at == NIL {
                self.buckets.remove(&tick);
                self.ticks.pop();
            } else {
                // The rest of this millisecond, in the next batch.
                if let Some(b) = self.buckets.get_mut(&tick) {
                    b.first = at;
                }
                if let Some(t) = timer_at(&mut self.registry, at) {
                    t.prev = NIL;
                }
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    /// A timer's message, as the manager keeps it.
    fn payload<T: std::any::Any + Send>(value: T) -> super::Payload {
        crate::callback::Owned::new(Box::new(value))
    }

    use super::*;
    use crate::manager::registry::NIL;
    use std::time::Duration;

    #[test]
    fn fires_in_deadline_order_and_never_a_cancelled_one() {
        let mut t = Timers::new();
        let mut head = NIL;
        let base = t.base;
        let at = |ms| base + Duration::from_millis(ms);
        let (late, _) = t.arm(1, &mut head, at(30), payload("late"));
        let (_, _) = t.arm(1, &mut head, at(10), payload("early"));
        let (gone, _) = t.arm(1, &mut head, at(20), payload("cancelled"));
        assert!(matches!(t.cancel(gone, 1, &mut head), Some(Some(_))));
        assert_eq!(t.next_deadline().map(|d| d.1), Some(at(10)));
        let mut fired = Vec::new();
        t.fire_due(at(25), usize::MAX, |_, _, p| {
            fired.push(*p.into_inner().downcast::<&str>().unwrap())
        });
        assert_eq!(fired, ["early"]);
        assert_eq!(t.next_deadline().map(|d| d.1), Some(at(30)));
        assert_eq!(
            t.fire_due(at(30), usize::MAX, |_, r, _| assert_eq!(r, late)),
            1
        );
        // Fired, not handled yet: cancelling it still counts, and then it is not wanted.
        assert!(t.cancel(late, 1, &mut head).is_some());
        assert!(!t.handled(late, 1, &mut head));
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn many_cancelled_timers_leave_no_bucket() {
        let mut t = Timers::new();
        let mut head = NIL;
        let at = t.base + Duration::from_secs(3600);
        let refs: Vec<u64> = (0..1000)
            .map(|_| t.arm(1, &mut head, at, payload(())).0)
            .collect();
        for r in &refs[..900] {
            t.cancel(*r, 1, &mut head);
        }
        assert_eq!(t.buckets.len(), 1);
        let mut drop_later = Vec::new();
        t.cancel_all(&mut head, &mut drop_later);
        assert_eq!(drop_later.len(), 100);
        assert_eq!(t.next_deadline(), None);
        assert!(t.buckets.is_empty());
    }

    #[test]
    fn timers_of_one_millisecond_fire_in_the_order_set_around_those_cancelled() {
        let mut t = Timers::new();
        let (mut a, mut b) = (NIL, NIL);
        let at = t.base + Duration::from_millis(5);
        let mut refs = Vec::new();
        for n in 0..8u32 {
            // Handlers a and b interleaved in one bucket.
            let head = if n % 2 == 0 { &mut a } else { &mut b };
            refs.push(t.arm(u64::from(n % 2), head, at, payload(n)).0);
        }
        t.cancel(refs[0], 0, &mut a).unwrap();
        t.cancel(refs[7], 1, &mut b).unwrap();
        t.cancel(refs[3], 1, &mut b).unwrap();
        // Handler a leaves: 2, 4 and 6 go with it.
        let mut dropped = Vec::new();
        t.cancel_all(&mut a, &mut dropped);
        assert_eq!(dropped.len(), 3);
        let mut fired = Vec::new();
        t.fire_due(at, 1, |_, _, p| {
            fired.push(*p.into_inner().downcast::<u32>().unwrap())
        });
        t.fire_due(at, usize::MAX, |_, _, p| {
            fired.push(*p.into_inner().downcast::<u32>().unwrap())
        });
        assert_eq!(fired, [1, 5]);
        assert_eq!(t.next_deadline(), None);
    }
}
