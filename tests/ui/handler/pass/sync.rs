//! Plain callbacks in every supported shape: with and without the context, `&self` or `&mut
//! self` (or written `self: &mut Self`), fallible or not, lifetimes named or elided; the impl
//! block may hold other items too.

use event_core::{handler, Context, Handler, Info, Terminate};

#[handler]
struct Minimal;

#[handler(event = u32)]
impl Minimal {
    fn init() -> Self {
        Minimal
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct WithContext {
    sum: u32,
}

#[handler(event = u32)]
impl WithContext {
    const LIMIT: u32 = 100;

    fn init(start: u32, cx: &mut Context<u32, Self>) -> Result<Self, String> {
        if start > Self::LIMIT {
            return Err(format!("{start} is past the limit"));
        }
        cx.keep();
        Ok(WithContext { sum: start })
    }

    fn handle_event(&mut self, n: &u32, cx: &mut Context<u32, Self>) -> Result<(), &'static str> {
        if *n == 0 {
            return Err("zero");
        }
        self.add(*n);
        if self.sum > Self::LIMIT {
            cx.remove_self();
        }
        Ok(())
    }

    fn handle_info(&mut self, info: Info<u8>) {
        if let Info::Message(n) = info {
            self.add(u32::from(n));
        }
    }

    /// Not a callback: an ordinary method.
    fn add(&mut self, n: u32) {
        self.sum += n;
    }

    fn terminate(self, reason: Terminate) -> (u32, bool) {
        (self.sum, matches!(reason, Terminate::Stop))
    }
}

/// Only the context: `Args = ()`. Borrows itself immutably.
struct ContextOnly;

#[handler(event = u32)]
impl ContextOnly {
    fn init(_cx: &mut Context<u32, Self>) -> Self {
        ContextOnly
    }

    fn handle_event(&self, _: &u32) {}

    fn handle_info(&self, _: event_core::Info<()>, _: &mut Context<u32, Self>) {}
}

/// No init: built with `Default`.
#[derive(Default)]
struct Defaulted;

#[handler(event = u32)]
impl Defaulted {
    fn handle_event(&mut self, _: &u32) {}
}

/// The handler named by its type, lifetimes named, receivers typed, and a fallible hand-over.
struct Spelled {
    seen: u32,
}

#[handler(event = u32)]
impl Spelled {
    fn init(seen: u32) -> Spelled {
        Spelled { seen }
    }

    #[allow(clippy::needless_arbitrary_self_type)]
    fn handle_event<'a>(self: &'a mut Self, _: &'a u32, _: &'a mut Context<u32, Self>) {
        self.seen += 1;
    }

    #[allow(clippy::needless_arbitrary_self_type)]
    fn terminate(mut self: Self, _: Terminate) -> Result<u32, String> {
        self.seen += 1;
        self.seen
            .checked_mul(2)
            .ok_or_else(|| "too many".to_owned())
    }
}

fn is_handler<H, A, I, O>()
where
    H: Handler<u32, Args = A, Info = I, Handover = O>,
{
}

pub fn main() {
    is_handler::<Minimal, (), (), ()>();
    is_handler::<WithContext, u32, u8, (u32, bool)>();
    is_handler::<ContextOnly, (), (), ()>();
    is_handler::<Defaulted, (), (), ()>();
    is_handler::<Spelled, u32, (), Result<u32, String>>();
}
