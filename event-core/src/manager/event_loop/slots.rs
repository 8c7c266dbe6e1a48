//! The manager's handler list. [`Slots`] owns the list and what is known of it as a whole (how
//! many handlers are dedicated, which the fast path of an event asks); a [`Slot`] is one
//! installed handler, laid out for the common case.
//!
//! Most handlers run inline, unsupervised, without an in-place restart policy, and have no key
//! or a numeric one: their slot is the boxed handler cell and the key, 24 bytes. Their
//! identity's type comes from the cell and their uid from its context, so neither is stored
//! twice. Every other handler (dedicated, supervised, restarted in place, keyed by name) keeps
//! its parts behind one box, a cost paid only by those. Only this file matches the layout; the
//! loop asks a slot for its [`Target`] or its parts.

use crate::handler::{HandlerId, Key};
use crate::manager::crash::InPlace;
use crate::manager::dedicated::Dedicated;
use crate::manager::erased::ErasedHandler;
use crate::manager::link::LinkTx;

/// The installed handlers, in install order: events run from the back (newest first, as in
/// OTP).
pub(super) struct Slots<E: 'static> {
    list: Vec<Slot<E>>,
    /// How many of them are dedicated.
    dedicated: usize,
}

impl<E: 'static> Slots<E> {
    pub(super) fn new() -> Self {
        Slots {
            list: Vec::new(),
            dedicated: 0,
        }
    }

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
        self.list.iter().rposition(|s| s.is(id))
    }

    /// The index of the handler with this uid (the address of its timers, watches and reports).
    pub(super) fn find_uid(&self, uid: u64) -> Option<usize> {
        self.list.iter().rposition(|s| s.uid() == uid)
    }

    /// The index of the handler supervised through the link `link`.
    pub(super) fn find_link(&self, link: u64) -> Option<usize> {
        self.list
            .iter()
            .rposition(|s| s.link().is_some_and(|l| l.id == link))
    }

    /// The identities, newest first.
    pub(super) fn ids(&self) -> Vec<HandlerId> {
        self.list.iter().rev().map(Slot::id).collect()
    }

    /// Installs at the head. The list grows by doubling from one, not from four as a `Vec`
    /// does: most managers hold a handler or two.
    pub(super) fn push(&mut self, slot: Slot<E>) {
        if self.list.len() == self.list.capacity() {
            self.list.reserve_exact(self.list.len().max(1));
        }
        self.count(&slot, true);
        self.list.push(slot);
    }

    /// Puts a handler back at index `i` (a restart in place, a swap in its place).
    pub(super) fn insert(&mut self, i: usize, slot: Slot<E>) {
        self.count(&slot, true);
        self.list.insert(i, slot);
    }

    /// Takes the handler at `i` out of the list.
    pub(super) fn take(&mut self, i: usize) -> Slot<E> {
        let slot = self.list.remove(i);
        self.count(&slot, false);
        slot
    }

    /// Takes the newest handler out of the list.
    pub(super) fn pop(&mut self) -> Option<Slot<E>> {
        let slot = self.list.pop()?;
        self.count(&slot, false);
        Some(slot)
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

/// No key, or a numeric key other than `u64::MAX` (which stands for no key); any other key
/// makes the slot a full one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct LeanKey(u64);

impl LeanKey {
    const NONE: u64 = u64::MAX;

    fn new(key: Option<&Key>) -> Option<Self> {
        match key {
            None => Some(LeanKey(Self::NONE)),
            Some(Key::Num(n)) if *n != Self::NONE => Some(LeanKey(*n)),
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

impl<E: 'static> Slot<E> {
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

    pub(super) fn restarts(&self) -> bool {
        matches!(self, Slot::Full(f) if f.restart.is_some())
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
        assert!(LeanKey::new(Some(&Key::Name("log".into()))).is_none());
        let none = LeanKey::new(None).unwrap();
        assert!(!none.is(Some(&Key::Num(u64::MAX))));
    }
}
