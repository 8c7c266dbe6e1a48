//! One installed handler in a manager's list, laid out for the common case.
//!
//! Most handlers run inline, unsupervised, without an in-place restart policy, and have no key
//! or a numeric one: their slot is the boxed handler cell and the key, 24 bytes. Their
//! identity's type comes from the cell and their uid from its context, so neither is stored
//! twice. Every other handler (dedicated, supervised, restarted in place, keyed by name) keeps
//! its parts behind one box, a cost paid only by those.

use crate::cell::ErasedHandler;
use crate::dedicated::Dedicated;
use crate::handler::{HandlerId, Key};
use crate::link::LinkTx;
use crate::restart::InPlace;

pub(crate) enum Slot<E: 'static> {
    Lean {
        cell: Box<dyn ErasedHandler<E>>,
        key: LeanKey,
    },
    Full(Box<Full<E>>),
}

/// A handler with the rare parts.
pub(crate) struct Full<E: 'static> {
    pub(crate) id: HandlerId,
    pub(crate) uid: u64,
    pub(crate) body: Body<E>,
    pub(crate) link: Option<LinkTx>,
    /// Set for an inline handler restarted in place (a dedicated one's task keeps its own).
    pub(crate) restart: Option<Box<InPlace>>,
}

pub(crate) enum Body<E: 'static> {
    Inline(Box<dyn ErasedHandler<E>>),
    Dedicated(Dedicated<E>),
}

/// No key, or a numeric key other than `u64::MAX` (which stands for no key); any other key
/// makes the slot a full one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct LeanKey(u64);

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
    /// The slot of an inline handler `id` with neither link nor restart policy: lean when its
    /// key allows and the cell's type is the identity's.
    pub(crate) fn inline(id: HandlerId, uid: u64, cell: Box<dyn ErasedHandler<E>>) -> Self {
        match LeanKey::new(id.key()) {
            Some(key) if cell.is(&id) && cell.uid() == uid => Slot::Lean { cell, key },
            _ => Slot::Full(Box::new(Full {
                id,
                uid,
                body: Body::Inline(cell),
                link: None,
                restart: None,
            })),
        }
    }

    pub(crate) fn full(full: Full<E>) -> Self {
        Slot::Full(Box::new(full))
    }

    pub(crate) fn id(&self) -> HandlerId {
        match self {
            Slot::Lean { cell, key } => cell.id(key.get()),
            Slot::Full(f) => f.id.clone(),
        }
    }

    /// Whether this is the handler `id` names; the key is compared first, as it differs most.
    pub(crate) fn is(&self, id: &HandlerId) -> bool {
        match self {
            Slot::Lean { cell, key } => key.is(id.key()) && cell.is(id),
            Slot::Full(f) => f.id == *id,
        }
    }

    pub(crate) fn uid(&self) -> u64 {
        match self {
            Slot::Lean { cell, .. } => cell.uid(),
            Slot::Full(f) => f.uid,
        }
    }

    /// The handler's cell, if it runs inline.
    pub(crate) fn cell(&mut self) -> Option<&mut Box<dyn ErasedHandler<E>>> {
        match self {
            Slot::Lean { cell, .. } => Some(cell),
            Slot::Full(f) => match &mut f.body {
                Body::Inline(cell) => Some(cell),
                Body::Dedicated(_) => None,
            },
        }
    }

    pub(crate) fn is_dedicated(&self) -> bool {
        matches!(self, Slot::Full(f) if matches!(f.body, Body::Dedicated(_)))
    }

    pub(crate) fn link(&self) -> Option<&LinkTx> {
        match self {
            Slot::Lean { .. } => None,
            Slot::Full(f) => f.link.as_ref(),
        }
    }

    pub(crate) fn take_link(&mut self) -> Option<LinkTx> {
        match self {
            Slot::Lean { .. } => None,
            Slot::Full(f) => f.link.take(),
        }
    }

    pub(crate) fn restarts(&self) -> bool {
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
