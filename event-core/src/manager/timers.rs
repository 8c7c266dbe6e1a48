//! A manager's timers: one set for all its handlers, kept in its mailbox and fired by its loop,
//! which sleeps until the earliest deadline (one `tokio::time::Sleep` per manager, not a task
//! per timer). Arming, cancelling and firing a timer are O(log N): its message waits in the
//! registry, and its deadline in a binary heap; a cancelled timer's deadline stays in the heap
//! until it comes up or until the cancelled ones are half of it, when the heap is rebuilt.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use tokio::time::Instant;

use super::registry::{Registry, State};

/// An armed timer's message, boxed: each handler has its own message type.
pub(super) type Payload = Box<dyn Any + Send>;

pub(super) struct Timers {
    registry: Registry<Payload>,
    /// Deadlines (nanoseconds after `base`) and the timers' references, earliest first.
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    /// How many of the heap's entries are of timers cancelled.
    stale: usize,
    base: Instant,
    /// The deadline the manager's loop waits for while it waits (`u64::MAX` for none); `None`
    /// while it runs, when it looks at the heap before it waits again.
    pub(super) waiting: Option<u64>,
}

impl Timers {
    pub(super) fn new() -> Self {
        Timers {
            registry: Registry::default(),
            heap: BinaryHeap::new(),
            stale: 0,
            base: Instant::now(),
            // The loop may be waiting without knowing of timers yet.
            waiting: Some(u64::MAX),
        }
    }

    fn since_base(&self, at: Instant) -> u64 {
        let d = at.saturating_duration_since(self.base);
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
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
        let due = self.since_base(at);
        let r = self.registry.insert(uid, head, payload);
        self.heap.push(Reverse((due, r)));
        let wake = self.waiting.is_some_and(|w| due < w);
        if wake {
            self.waiting = None;
        }
        (r, wake)
    }

    /// Cancels timer `r` of handler `uid`, pending or fired and not yet handled. Returns whether
    /// it was, and its message if it had not fired (to be dropped outside the mailbox's lock).
    pub(super) fn cancel(&mut self, r: u64, uid: u64, head: &mut u32) -> Option<Option<Payload>> {
        let (state, payload) = self.registry.remove(r, uid, head)?;
        if state == State::Armed {
            self.stale += 1;
            self.compact();
        }
        Some(payload)
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
        let mut armed = 0;
        self.registry.remove_all(head, |state, payload| {
            armed += usize::from(state == State::Armed);
            drop_later.extend(payload);
        });
        self.stale += armed;
        self.compact();
    }

    /// Rebuilds the heap without the cancelled timers once they are half of it.
    fn compact(&mut self) {
        if self.stale > 64 && self.stale * 2 > self.heap.len() {
            let registry = &mut self.registry;
            self.heap.retain(|Reverse((_, r))| {
                registry
                    .get_mut(*r)
                    .is_some_and(|e| e.state == State::Armed)
            });
            self.stale = 0;
        }
    }

    /// The earliest deadline of a timer still armed, if any, after `base` and as an instant.
    pub(super) fn next_deadline(&mut self) -> Option<(u64, Instant)> {
        while let Some(Reverse((due, r))) = self.heap.peek().copied() {
            if self
                .registry
                .get_mut(r)
                .is_some_and(|e| e.state == State::Armed)
            {
                return Some((due, self.base + std::time::Duration::from_nanos(due)));
            }
            self.heap.pop();
            self.stale = self.stale.saturating_sub(1);
        }
        None
    }

    /// Fires the timers due by `now`, at most `max` of them, earliest first: each one's handler
    /// uid, reference and message go to `fire`.
    pub(super) fn fire_due(
        &mut self,
        now: Instant,
        max: usize,
        mut fire: impl FnMut(u64, u64, Payload),
    ) {
        let now = self.since_base(now);
        let mut fired = 0;
        while fired < max {
            match self.heap.peek() {
                Some(Reverse((due, _))) if *due <= now => {}
                _ => return,
            }
            let Some(Reverse((_, r))) = self.heap.pop() else {
                return;
            };
            match self.registry.get_mut(r) {
                Some(e) if e.state == State::Armed => {
                    e.state = State::Fired;
                    if let Some(payload) = e.item.take() {
                        fire(e.uid, r, payload);
                        fired += 1;
                    }
                }
                _ => self.stale = self.stale.saturating_sub(1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::registry::NIL;
    use std::time::Duration;

    #[test]
    fn fires_in_deadline_order_and_never_a_cancelled_one() {
        let mut t = Timers::new();
        let mut head = NIL;
        let base = t.base;
        let at = |ms| base + Duration::from_millis(ms);
        let (late, _) = t.arm(1, &mut head, at(30), Box::new("late"));
        let (_, _) = t.arm(1, &mut head, at(10), Box::new("early"));
        let (gone, _) = t.arm(1, &mut head, at(20), Box::new("cancelled"));
        assert!(matches!(t.cancel(gone, 1, &mut head), Some(Some(_))));
        assert_eq!(t.next_deadline().map(|d| d.1), Some(at(10)));
        let mut fired = Vec::new();
        t.fire_due(at(25), usize::MAX, |_, _, p| {
            fired.push(*p.downcast::<&str>().unwrap())
        });
        assert_eq!(fired, ["early"]);
        assert_eq!(t.next_deadline().map(|d| d.1), Some(at(30)));
        t.fire_due(at(30), usize::MAX, |_, r, _| assert_eq!(r, late));
        // Fired, not handled yet: cancelling it still counts, and then it is not wanted.
        assert!(t.cancel(late, 1, &mut head).is_some());
        assert!(!t.handled(late, 1, &mut head));
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn many_cancelled_timers_do_not_stay_in_the_heap() {
        let mut t = Timers::new();
        let mut head = NIL;
        let at = t.base + Duration::from_secs(3600);
        let refs: Vec<u64> = (0..1000)
            .map(|_| t.arm(1, &mut head, at, Box::new(())).0)
            .collect();
        for r in &refs[..900] {
            t.cancel(*r, 1, &mut head);
        }
        assert!(t.heap.len() <= 200, "heap of {} entries", t.heap.len());
        let mut drop_later = Vec::new();
        t.cancel_all(&mut head, &mut drop_later);
        assert_eq!(drop_later.len(), 100);
        assert_eq!(t.next_deadline(), None);
    }
}
