//! The manager's handler list. [`Slots`] owns the list and what is known of it as a whole (how
//! many handlers are dedicated, which the fast path of an event asks, and, for a long list, the
//! index that finds a handler by its identity); a [`Slot`] is one installed handler, laid out
//! for the common case.
//!
//! A handler taken out of the list leaves its place vacant, so that the others keep their
//! places (and the index its positions): a vacant slot is a lean one whose cell does nothing,
//! which an event passes through. The list is tidied (its vacant places dropped, the index
//! rebuilt) between messages, once they are more than half of it, so a removal costs O(1)
//! amortised.
//!
//! Most handlers run inline, unsupervised, without an in-place restart policy, and have no key
//! or a numeric one: their slot is the boxed handler cell and the key, 24 bytes. Their
//! identity's type comes from the cell and their uid from its context, so neither is stored
//! twice. Every other handler (dedicated, supervised, restarted in place, keyed by name) keeps
//! its parts behind one box, a cost paid only by those. Only this file matches the layout; the
//! loop asks a slot for its [`Target`] or its parts.

use std::any::Any;
use std::fmt;

use super::index::{id_hash, uid_hash, Index, MAX_LEN};
use crate::exit::Terminate;
use crate::handler::{HandlerId, Key, Step};
use crate::manager::context::Requests;
use crate::manager::crash::InPlace;
use crate::manager::dedicated::Dedicated;
use crate::manager::erased::ErasedHandler;
use crate::manager::link::LinkTx;

/// How many handlers make a list long enough to index.
const INDEXED_FROM: usize = 32;

/// The installed handlers, in install order: events run from the back (newest first, as in
/// OTP).
pub(super) struct Slots<E: 'static> {
    /// The handlers, and the vacant places of those taken out since the list was tidied.
    list: Vec<Slot<E>>,
    // The counts are `u32` and the index boxed, so that an idle manager's task, which holds
    // this, stays small.
    vacant: u32,
    /// How many of them are dedicated.
    dedicated: u32,
    /// Where each handler is, once the list is long.
    index: Option<Box<Index>>,
}

impl<E: 'static> Slots<E> {
    pub(super) fn new() -> Self {
        Slots {
            list: Vec::new(),
            vacant: 0,
            dedicated: 0,
            index: None,
        }
    }

    /// The length of the list, vacant places included: the index an event starts from.
    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether any handler is dedicated: then an event takes the slow path, which shares it.
    pub(super) fn any_dedicated(&self) -> bool {
        self.dedicated > 0
    }

    /// The slots, for a sweep of an event through them.
    pub(super) fn as_mut_slice(&mut self) -> &mut [Slot<E>] {
        &mut self.list
    }

    pub(super) fn get(&self, i: usize) -> &Slot<E> {
        &self.list[i]
    }

    pub(super) fn get_mut(&mut self, i: usize) -> &mut Slot<E> {
        &mut self.list[i]
    }

    /// The index of the handler `id` names.
    pub(super) fn find(&self, id: &HandlerId) -> Option<usize> {
        match &self.index {
            Some(index) => index.find(id_hash(id), |i| self.list[i].is(id)),
            None => self.list.iter().rposition(|s| s.is(id)),
        }
    }

    /// The index of the handler with this uid (the address of its timers, watches and reports).
    pub(super) fn find_uid(&self, uid: u64) -> Option<usize> {
        match &self.index {
            Some(index) => index.find(uid_hash(uid), |i| self.list[i].uid() == uid),
            None => self.list.iter().rposition(|s| s.uid() == uid),
        }
    }

    /// The index of the handler supervised through the link `link`, whose handler's identity
    /// hashes to `hash` ([`id_hash`]).
    pub(super) fn find_link(&self, link: u64, hash: u64) -> Option<usize> {
        let is = |s: &Slot<E>| s.link().is_some_and(|l| l.id == link);
        match &self.index {
            Some(index) => index.find(hash, |i| is(&self.list[i])),
            None => self.list.iter().rposition(is),
        }
    }

    /// The identities, newest first.
    /// The installed handlers, newest first.
    pub(super) fn live(&self) -> impl Iterator<Item = &Slot<E>> {
        self.list.iter().rev().filter(|s| !s.is_vacant())
    }

    pub(super) fn ids(&self) -> Vec<HandlerId> {
        let live = self.list.iter().rev().filter(|s| !s.is_vacant());
        live.map(Slot::id).collect()
    }

    /// Installs at the head. The list grows by doubling from one, not from four as a `Vec`
    /// does: most managers hold a handler or two.
    pub(super) fn push(&mut self, slot: Slot<E>) {
        if self.list.len() == self.list.capacity() {
            self.list.reserve_exact(self.list.len().max(1));
        }
        self.count(&slot, true);
        self.file(&slot, self.list.len());
        self.list.push(slot);
    }

    /// Puts a handler back at index `i`, where it was taken out (a restart in place, a swap in
    /// its place).
    pub(super) fn insert(&mut self, i: usize, slot: Slot<E>) {
        self.count(&slot, true);
        if self.list.get(i).is_some_and(Slot::is_vacant) {
            self.file(&slot, i);
            self.list[i] = slot;
            self.vacant -= 1;
        } else if i == self.list.len() {
            self.file(&slot, i);
            self.list.push(slot);
        } else {
            self.list.insert(i, slot);
            self.reindex();
        }
    }

    /// Takes the handler at `i` out of the list; its place stays vacant until the list is
    /// tidied, so that the others, and a handler put back there, keep their places.
    pub(super) fn take(&mut self, i: usize) -> Slot<E> {
        let slot = std::mem::replace(&mut self.list[i], Slot::vacant());
        debug_assert!(!slot.is_vacant(), "taken from a vacant place");
        self.vacant += 1;
        self.count(&slot, false);
        self.unfile(&slot, i);
        slot
    }

    /// Takes the newest handler out of the list.
    pub(super) fn pop(&mut self) -> Option<Slot<E>> {
        while self.list.last().is_some_and(Slot::is_vacant) {
            self.list.pop();
            self.vacant -= 1;
        }
        let slot = self.list.pop()?;
        self.count(&slot, false);
        self.unfile(&slot, self.list.len());
        Some(slot)
    }

    /// Drops the vacant places once they are more than half of the list. Only between
    /// messages: the handlers' places change.
    #[inline]
    pub(super) fn tidy(&mut self) {
        if self.vacant != 0 && self.vacant as usize * 2 > self.list.len() {
            self.list.retain(|s| !s.is_vacant());
            self.vacant = 0;
            self.reindex();
        }
    }

    /// Indexes the list afresh, if it is long enough to need it and short enough to allow it.
    fn reindex(&mut self) {
        let live = self.list.len() - self.vacant as usize;
        self.index = (live >= INDEXED_FROM && self.list.len() <= MAX_LEN)
            .then(|| Box::new(self.build_index(live * 4)));
    }

    /// An index of the list with room for `room` entries (two a handler).
    fn build_index(&self, room: usize) -> Index {
        let mut index = Index::with_room(room);
        for (i, s) in self.list.iter().enumerate() {
            if !s.is_vacant() {
                index.insert(id_hash(&s.id()), i);
                index.insert(uid_hash(s.uid()), i);
            }
        }
        index
    }

    /// Files the handler `slot`, about to be put at `i`, in the index: builds the index when
    /// the list becomes long, and a larger one when it is full.
    fn file(&mut self, slot: &Slot<E>, i: usize) {
        if i >= MAX_LEN || self.list.len() >= MAX_LEN {
            // Too long to index: searched through.
            self.index = None;
            return;
        }
        let live = self.list.len() - self.vacant as usize + 1;
        match &mut self.index {
            Some(index) if index.has_room(2) => {
                index.insert(id_hash(&slot.id()), i);
                index.insert(uid_hash(slot.uid()), i);
            }
            None if live < INDEXED_FROM => {}
            _ => {
                let mut index = self.build_index(live * 4);
                index.insert(id_hash(&slot.id()), i);
                index.insert(uid_hash(slot.uid()), i);
                self.index = Some(Box::new(index));
            }
        }
    }

    fn unfile(&mut self, slot: &Slot<E>, i: usize) {
        if let Some(index) = &mut self.index {
            index.remove(id_hash(&slot.id()), i);
            index.remove(uid_hash(slot.uid()), i);
        }
    }

    fn count(&mut self, slot: &Slot<E>, added: bool) {
        if let Slot::Full(f) = slot {
            if let Body::Dedicated(_) = f.body {
                match added {
                    true => self.dedicated += 1,
                    false => self.dedicated -= 1,
                }
            }
        }
    }
}

/// One installed handler.
pub(super) enum Slot<E: 'static> {
    Lean {
        cell: Box<dyn ErasedHandler<E>>,
        key: LeanKey,
    },
    Full(Box<Full<E>>),
}

/// A handler with the rare parts.
pub(super) struct Full<E: 'static> {
    id: HandlerId,
    uid: u64,
    body: Body<E>,
    link: Option<LinkTx>,
    /// Set for an inline handler restarted in place (a dedicated one's task keeps its own).
    restart: Option<Box<InPlace>>,
}

enum Body<E: 'static> {
    Inline(Box<dyn ErasedHandler<E>>),
    Dedicated(Dedicated<E>),
}

/// Where a handler's work goes: its cell, run on the manager's task, or its own task.
pub(super) enum Target<'a, E: 'static> {
    Inline(&'a mut Box<dyn ErasedHandler<E>>),
    Dedicated(&'a mut Dedicated<E>),
}

/// What an inline handler restarted in place needs for a restart.
pub(super) struct InPlaceParts<'a, E: 'static> {
    pub(super) id: &'a HandlerId,
    pub(super) restart: &'a mut Option<Box<InPlace>>,
    pub(super) link: Option<&'a LinkTx>,
    pub(super) cell: &'a mut dyn ErasedHandler<E>,
}

/// No key, or a numeric key below `u64::MAX - 1` (`u64::MAX` stands for no key, and
/// `u64::MAX - 1` marks a vacant place); any other key makes the slot a full one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct LeanKey(u64);

impl LeanKey {
    const NONE: u64 = u64::MAX;
    const VACANT: u64 = u64::MAX - 1;

    fn new(key: Option<&Key>) -> Option<Self> {
        match key {
            None => Some(LeanKey(Self::NONE)),
            Some(Key::Num(n)) if *n < Self::VACANT => Some(LeanKey(*n)),
            Some(_) => None,
        }
    }

    fn get(self) -> Option<Key> {
        (self.0 != Self::NONE).then_some(Key::Num(self.0))
    }

    fn is(self, key: Option<&Key>) -> bool {
        match key {
            None => self.0 == Self::NONE,
            Some(Key::Num(n)) => self.0 == *n && *n != Self::NONE,
            Some(Key::Name(_)) => false,
        }
    }
}

/// The cell of a vacant place: no handler, and nothing done for any message. A zero-sized
/// value, so a vacant slot allocates nothing.
struct Vacant;

impl<E: 'static> ErasedHandler<E> for Vacant {
    fn init(&mut self, _: Box<dyn Any + Send>) -> Step<'_> {
        Step::err("internal: a vacant place is never initialised")
    }
    fn handle_event<'a>(&'a mut self, _: &'a E) -> Step<'a> {
        Step::ok(())
    }
    fn handle_info(&mut self, _: Option<u64>, _: Box<dyn Any + Send>) -> Step<'_> {
        Step::ok(())
    }
    fn handle_down(&mut self, _: u64) -> Step<'_> {
        Step::ok(())
    }
    fn terminate(&mut self, _: Terminate) -> Step<'static, Box<dyn Any + Send>> {
        Step::ok(Box::new(()))
    }
    fn take_requests(&mut self) -> Option<Requests<E>> {
        None
    }
    fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(vacant)")
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn is(&self, _: &HandlerId) -> bool {
        false
    }
    fn id(&self, key: Option<Key>) -> HandlerId {
        HandlerId::of::<Vacant>(key)
    }
    fn uid(&self) -> u64 {
        // Uids start at 1.
        0
    }
}

impl<E: 'static> Slot<E> {
    /// A vacant place, left by a handler taken out.
    fn vacant() -> Self {
        Slot::Lean {
            cell: Box::new(Vacant),
            key: LeanKey(LeanKey::VACANT),
        }
    }

    pub(super) fn is_vacant(&self) -> bool {
        matches!(self, Slot::Lean { key, .. } if key.0 == LeanKey::VACANT)
    }

    /// The slot of an inline handler `id`, initialised in `cell`: lean when it has neither
    /// link nor restart policy, its key allows, and the cell's type is the identity's.
    pub(super) fn inline(
        id: HandlerId,
        uid: u64,
        cell: Box<dyn ErasedHandler<E>>,
        link: Option<LinkTx>,
        restart: Option<Box<InPlace>>,
    ) -> Self {
        if let (None, None, Some(key)) = (&link, &restart, LeanKey::new(id.key())) {
            if cell.is(&id) && cell.uid() == uid {
                return Slot::Lean { cell, key };
            }
        }
        Slot::full(id, uid, Body::Inline(cell), link, restart)
    }

    /// The slot of a dedicated handler `id`, whose task restarts it in place if it should.
    pub(super) fn dedicated(
        id: HandlerId,
        uid: u64,
        dedicated: Dedicated<E>,
        link: Option<LinkTx>,
    ) -> Self {
        Slot::full(id, uid, Body::Dedicated(dedicated), link, None)
    }

    fn full(
        id: HandlerId,
        uid: u64,
        body: Body<E>,
        link: Option<LinkTx>,
        restart: Option<Box<InPlace>>,
    ) -> Self {
        Slot::Full(Box::new(Full {
            id,
            uid,
            body,
            link,
            restart,
        }))
    }

    pub(super) fn id(&self) -> HandlerId {
        match self {
            Slot::Lean { cell, key } => cell.id(key.get()),
            Slot::Full(f) => f.id.clone(),
        }
    }

    /// Whether this is the handler `id` names; the key is compared first, as it differs most.
    pub(super) fn is(&self, id: &HandlerId) -> bool {
        match self {
            Slot::Lean { cell, key } => key.is(id.key()) && cell.is(id),
            Slot::Full(f) => f.id == *id,
        }
    }

    pub(super) fn uid(&self) -> u64 {
        match self {
            Slot::Lean { cell, .. } => cell.uid(),
            Slot::Full(f) => f.uid,
        }
    }

    /// Where the handler's work goes.
    pub(super) fn target(&mut self) -> Target<'_, E> {
        match self {
            Slot::Lean { cell, .. } => Target::Inline(cell),
            Slot::Full(f) => match &mut f.body {
                Body::Inline(cell) => Target::Inline(cell),
                Body::Dedicated(d) => Target::Dedicated(d),
            },
        }
    }

    /// The handler's cell, if it runs inline.
    pub(super) fn cell(&mut self) -> Option<&mut Box<dyn ErasedHandler<E>>> {
        match self.target() {
            Target::Inline(cell) => Some(cell),
            Target::Dedicated(_) => None,
        }
    }

    /// The handler's task, if it is dedicated.
    pub(super) fn as_dedicated(&self) -> Option<&Dedicated<E>> {
        match self {
            Slot::Full(f) => match &f.body {
                Body::Dedicated(d) => Some(d),
                Body::Inline(_) => None,
            },
            Slot::Lean { .. } => None,
        }
    }

    pub(super) fn link(&self) -> Option<&LinkTx> {
        match self {
            Slot::Lean { .. } => None,
            Slot::Full(f) => f.link.as_ref(),
        }
    }

    pub(super) fn take_link(&mut self) -> Option<LinkTx> {
        match self {
            Slot::Lean { .. } => None,
            Slot::Full(f) => f.link.take(),
        }
    }

    /// What a restart in place needs, if this inline handler is restarted in place.
    pub(super) fn in_place(&mut self) -> Option<InPlaceParts<'_, E>> {
        match self {
            Slot::Full(f) if f.restart.is_some() => match &mut f.body {
                Body::Inline(cell) => Some(InPlaceParts {
                    id: &f.id,
                    restart: &mut f.restart,
                    link: f.link.as_ref(),
                    cell: &mut **cell,
                }),
                Body::Dedicated(_) => None,
            },
            _ => None,
        }
    }

    /// Whether an inline handler that crashed is restarted in place: it has a policy, and its
    /// intensity allows one more restart (counted here). A policy spent is dropped.
    pub(super) fn allow_restart(&mut self) -> bool {
        match self {
            Slot::Full(f) => super::super::crash::allow(&mut f.restart),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_common_slot_is_three_words() {
        assert_eq!(std::mem::size_of::<Slot<u64>>(), 24);
    }

    #[test]
    fn lean_keys_keep_no_key_and_numbers_apart() {
        let none = LeanKey::new(None).unwrap();
        let zero = LeanKey::new(Some(&Key::Num(0))).unwrap();
        assert!(none.is(None) && !none.is(Some(&Key::Num(0))));
        assert!(zero.is(Some(&Key::Num(0))) && !zero.is(None));
        assert_eq!(none.get(), None);
        assert_eq!(zero.get(), Some(Key::Num(0)));
        assert!(!zero.is(Some(&Key::Name("0".into()))));
    }

    /// Remembers its key, to tell which handler answered.
    struct Named(Option<Key>);
    struct Which;

    impl crate::Handler<()> for Named {
        type Args = Option<Key>;
        type Info = ();
        type Handover = ();
        fn init(key: Option<Key>, _: &mut crate::Context<(), Self>) -> crate::Step<'static, Self> {
            crate::Step::ok(Named(key))
        }
        fn handle_event(&mut self, _: &(), _: &mut crate::Context<(), Self>) -> crate::Step<'_> {
            crate::Step::ok(())
        }
        fn terminate(self, _: crate::Terminate) -> crate::Step<'static, ()> {
            crate::Step::ok(())
        }
    }

    impl crate::Call<(), Which> for Named {
        type Reply = Option<Key>;
        fn handle_call(
            &mut self,
            _: Which,
            _: &mut crate::Context<(), Self>,
        ) -> crate::Step<'_, Option<Key>> {
            crate::Step::ok(self.0.clone())
        }
    }

    #[tokio::test]
    async fn handlers_in_lean_and_full_slots_keep_their_identities_apart() {
        let manager = crate::EventManager::<()>::builder().start().unwrap();
        // No key, the largest number (which a lean slot cannot hold), zero, and a name.
        let keys = [
            None,
            Some(Key::Num(u64::MAX)),
            Some(Key::Num(0)),
            Some(Key::Name("0".into())),
        ];
        for key in &keys {
            let install = match key {
                None => crate::Install::<Named>::new(),
                Some(k) => crate::Install::<Named>::new().key(k.clone()),
            };
            manager
                .add_handler_with(install, key.clone())
                .await
                .unwrap();
        }
        for key in &keys {
            let href = match key {
                None => crate::HandlerRef::<Named>::new(),
                Some(k) => crate::HandlerRef::<Named>::with_key(k.clone()),
            };
            assert_eq!(manager.call(&href, Which).await.unwrap(), *key);
        }
        let ids = manager.which_handlers().await.unwrap();
        let listed: Vec<Option<Key>> = ids.iter().rev().map(|id| id.key().cloned()).collect();
        assert_eq!(listed, keys);
        assert!(ids.iter().all(|id| id.is::<Named>()));
        let missing = crate::HandlerRef::<Named>::with_key(1u64);
        assert!(matches!(
            manager.call(&missing, Which).await,
            Err(crate::CallError::NotInstalled(_))
        ));
    }

    #[test]
    fn keys_a_lean_slot_cannot_hold_need_a_full_one() {
        assert!(LeanKey::new(Some(&Key::Num(u64::MAX))).is_none());
        assert!(LeanKey::new(Some(&Key::Num(u64::MAX - 1))).is_none());
        assert!(Slot::<()>::vacant().is_vacant());
        assert!(LeanKey::new(Some(&Key::Name("log".into()))).is_none());
        let none = LeanKey::new(None).unwrap();
        assert!(!none.is(Some(&Key::Num(u64::MAX))));
    }
}
