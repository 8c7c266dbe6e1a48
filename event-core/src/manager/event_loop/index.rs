//! The index of a long handler list: where each handler is, by its identity and by its uid, so
//! that an install (which refuses an identity installed already), a call, a delete, a dropped
//! link, an info message, a timer or a watch finds its handler among thousands without looking
//! through them all. Each handler is filed twice, under each hash, in one table: the list's
//! slot says which one a search found.
//!
//! A short list needs none: looking through a few handlers is as quick, and costs no memory.
//! A long one keeps a table of 4 bytes per entry (at most 4 in 5 used): an open-addressing
//! table of positions in the list, each with 8 bits of its identity's hash beside it, so that
//! a search passes over most other identities without reading their slots. It says where a
//! handler may be; the list's slot at that place says whether it is.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;

use crate::handler::HandlerId;

/// The hash the index files an identity under: one per process, seeded at random.
pub(in crate::manager) fn id_hash(id: &HandlerId) -> u64 {
    static STATE: OnceLock<RandomState> = OnceLock::new();
    STATE.get_or_init(RandomState::new).hash_one(id)
}

/// The hash the index files a handler's uid under (the address of its timers, watches, infos
/// and reports): uids are numbered in order, which a multiplication spreads.
pub(super) fn uid_hash(uid: u64) -> u64 {
    uid.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

const POS_BITS: u32 = 24;
const POS_MASK: u32 = (1 << POS_BITS) - 1;
/// A place never used: a search ends there.
const EMPTY: u32 = u32::MAX;
/// A place whose entry was removed: a search goes on past it.
const GONE: u32 = u32::MAX - 1;

/// The longest list an index covers: its positions stay clear of `EMPTY` and `GONE`.
pub(super) const MAX_LEN: usize = (POS_MASK - 1) as usize;

pub(super) struct Index {
    table: Box<[u32]>,
    /// Places holding an entry or `GONE`.
    used: usize,
}

impl Index {
    /// An empty index with room for `n` entries.
    pub(super) fn with_room(n: usize) -> Self {
        let len = (n + n / 4 + 1).next_power_of_two().max(16);
        Index {
            table: vec![EMPTY; len].into_boxed_slice(),
            used: 0,
        }
    }

    /// Whether `n` more entries keep the table at most 4 in 5 used.
    pub(super) fn has_room(&self, n: usize) -> bool {
        (self.used + n) * 5 <= self.table.len() * 4
    }

    fn entry(hash: u64, pos: usize) -> u32 {
        debug_assert!(pos < MAX_LEN);
        ((hash >> 56) as u32) << POS_BITS | pos as u32
    }

    /// The places a search for `hash` looks at, in order.
    fn probe(&self, hash: u64) -> impl Iterator<Item = usize> {
        let mask = self.table.len() - 1;
        let home = hash as usize & mask;
        (0..self.table.len()).map(move |i| (home + i) & mask)
    }

    /// Files the handler at `pos` under `hash`. Needs room.
    pub(super) fn insert(&mut self, hash: u64, pos: usize) {
        let entry = Self::entry(hash, pos);
        for at in self.probe(hash) {
            match self.table[at] {
                EMPTY => {
                    self.used += 1;
                    self.table[at] = entry;
                    return;
                }
                GONE => {
                    self.table[at] = entry;
                    return;
                }
                _ => {}
            }
        }
        unreachable!("an index with room has an empty place");
    }

    /// The first position filed under `hash` for which `is` holds.
    pub(super) fn find(&self, hash: u64, mut is: impl FnMut(usize) -> bool) -> Option<usize> {
        let tag = Self::entry(hash, 0);
        for at in self.probe(hash) {
            match self.table[at] {
                EMPTY => return None,
                GONE => {}
                e if e & !POS_MASK == tag && is((e & POS_MASK) as usize) => {
                    return Some((e & POS_MASK) as usize)
                }
                _ => {}
            }
        }
        None
    }

    /// Unfiles the handler at `pos`, filed under `hash`.
    pub(super) fn remove(&mut self, hash: u64, pos: usize) {
        let entry = Self::entry(hash, pos);
        for at in self.probe(hash) {
            match self.table[at] {
                EMPTY => return,
                e if e == entry => {
                    self.table[at] = GONE;
                    return;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_filed_and_not_what_was_removed() {
        let mut index = Index::with_room(100);
        // Every hash lands on the same home, and the same tag: the worst case.
        for pos in 0..100 {
            assert!(index.has_room(1));
            index.insert(7, pos);
        }
        for pos in 0..100 {
            assert_eq!(index.find(7, |p| p == pos), Some(pos));
        }
        index.remove(7, 40);
        assert_eq!(index.find(7, |p| p == 40), None);
        assert_eq!(
            index.find(7, |p| p == 41),
            Some(41),
            "found past a removed entry"
        );
        index.insert(7, 40);
        assert_eq!(index.find(7, |p| p == 40), Some(40));
        // Another hash's tag: every entry is passed over without asking about its slot.
        assert_eq!(index.find(u64::MAX, |_| panic!("asked")), None);
    }

    #[test]
    fn has_room_for_four_entries_in_five() {
        let mut index = Index::with_room(100);
        let places = index.table.len();
        let mut filed = 0;
        while index.has_room(1) {
            index.insert(filed as u64, filed);
            filed += 1;
        }
        assert_eq!(filed, places * 4 / 5);
    }
}
