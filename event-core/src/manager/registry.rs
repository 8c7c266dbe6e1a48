//! The slab a manager keeps its handlers' timers and watches in: entries found by reference in
//! O(1), each handler's entries chained into a list of their own (its head kept in the
//! handler's context), so that a handler leaving drops its entries without looking at the
//! others'.
//!
//! A reference is the entry's place and its generation: a place is reused once its entry is
//! removed, under a new generation, so a stale reference finds nothing.

/// No entry: the end of a list.
pub(super) const NIL: u32 = u32::MAX;

/// Where an entry stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum State {
    Free,
    /// Set (a timer not due, a subscriber still there).
    Armed,
    /// Its notice is on the way to the handler, which forgets the entry once it gets it.
    Fired,
}

pub(super) struct Entry<T> {
    generation: u32,
    prev: u32,
    /// The next entry of the same handler, or, for a free entry, the next free one.
    next: u32,
    pub(super) state: State,
    pub(super) uid: u64,
    pub(super) item: Option<T>,
}

pub(super) struct Registry<T> {
    entries: Vec<Entry<T>>,
    free: u32,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            entries: Vec::new(),
            free: NIL,
        }
    }
}

/// A reference: generation and place.
pub(super) fn reference(generation: u32, at: u32) -> u64 {
    (generation as u64) << 32 | at as u64
}

fn place(r: u64) -> u32 {
    r as u32
}

impl<T> Registry<T> {
    /// The place the next entry inserted takes.
    pub(super) fn next_place(&self) -> u32 {
        match self.free {
            NIL => self.entries.len() as u32,
            at => at,
        }
    }

    /// Adds an armed entry for handler `uid`, at the head of its list `head`.
    pub(super) fn insert(&mut self, uid: u64, head: &mut u32, item: T) -> u64 {
        let at = match self.free {
            NIL => {
                self.entries.push(Entry {
                    generation: 0,
                    prev: NIL,
                    next: NIL,
                    state: State::Free,
                    uid: 0,
                    item: None,
                });
                (self.entries.len() - 1) as u32
            }
            at => {
                self.free = self.entries[at as usize].next;
                at
            }
        };
        if *head != NIL {
            self.entries[*head as usize].prev = at;
        }
        let e = &mut self.entries[at as usize];
        e.prev = NIL;
        e.next = *head;
        e.state = State::Armed;
        e.uid = uid;
        e.item = Some(item);
        *head = at;
        reference(e.generation, at)
    }

    /// The entry after the one at place `at` in its handler's list.
    pub(super) fn next_in_list(&self, at: u32) -> u32 {
        self.entries.get(at as usize).map_or(NIL, |e| e.next)
    }

    /// The entry `r` refers to, unless it was removed.
    pub(super) fn get_mut(&mut self, r: u64) -> Option<&mut Entry<T>> {
        let e = self.entries.get_mut(place(r) as usize)?;
        (e.state != State::Free && reference(e.generation, place(r)) == r).then_some(e)
    }

    /// The entry at place `at`, whatever its generation.
    pub(super) fn at_mut(&mut self, at: u32) -> Option<(u64, &mut Entry<T>)> {
        let e = self.entries.get_mut(at as usize)?;
        (e.state != State::Free).then(|| (reference(e.generation, at), e))
    }

    /// Removes entry `r` of handler `uid`, whose list is `head`: its state before, and its
    /// item.
    pub(super) fn remove(
        &mut self,
        r: u64,
        uid: u64,
        head: &mut u32,
    ) -> Option<(State, Option<T>)> {
        let e = self.get_mut(r)?;
        if e.uid != uid {
            return None;
        }
        Some(self.free_at(place(r), head))
    }

    /// Removes every entry of the list `head`, giving each one's state and item to `each`.
    pub(super) fn remove_all(&mut self, head: &mut u32, mut each: impl FnMut(State, Option<T>)) {
        while *head != NIL {
            let (state, item) = self.free_at(*head, head);
            each(state, item);
        }
    }

    fn free_at(&mut self, at: u32, head: &mut u32) -> (State, Option<T>) {
        let (prev, next) = {
            let e = &self.entries[at as usize];
            (e.prev, e.next)
        };
        match prev {
            NIL => *head = next,
            p => self.entries[p as usize].next = next,
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        let free = self.free;
        let e = &mut self.entries[at as usize];
        let state = std::mem::replace(&mut e.state, State::Free);
        e.generation = e.generation.wrapping_add(1);
        e.next = free;
        e.prev = NIL;
        self.free = at;
        (state, e.item.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_reference_and_dropped_by_handler() {
        let mut reg = Registry::default();
        let (mut a, mut b) = (NIL, NIL);
        let a1 = reg.insert(1, &mut a, "a1");
        let b1 = reg.insert(2, &mut b, "b1");
        let a2 = reg.insert(1, &mut a, "a2");
        assert_eq!(reg.get_mut(a1).unwrap().item, Some("a1"));
        // Another handler's reference removes nothing.
        assert!(reg.remove(b1, 1, &mut a).is_none());
        assert_eq!(reg.remove(a1, 1, &mut a), Some((State::Armed, Some("a1"))));
        assert!(reg.get_mut(a1).is_none(), "removed");
        // The place is reused under a new generation: the old reference finds nothing.
        let b2 = reg.insert(2, &mut b, "b2");
        assert_ne!(b2, a1);
        assert!(reg.get_mut(a1).is_none());
        let mut gone = Vec::new();
        reg.remove_all(&mut a, |_, item| gone.push(item.unwrap()));
        assert_eq!(gone, ["a2"]);
        assert_eq!(a, NIL);
        assert!(reg.get_mut(a2).is_none());
        let mut gone = Vec::new();
        reg.remove_all(&mut b, |_, item| gone.push(item.unwrap()));
        assert_eq!(gone, ["b2", "b1"]);
    }
}
