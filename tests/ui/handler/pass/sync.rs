//! Plain callbacks in every supported shape: with and without the context, fallible or not.

use event_core::{handler, Context, Info, Terminate};

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
    fn init(start: u32, cx: &mut Context<u32, Self>) -> Result<Self, String> {
        cx.keep();
        Ok(WithContext { sum: start })
    }

    fn handle_event(&mut self, n: &u32, cx: &mut Context<u32, Self>) -> Result<(), &'static str> {
        self.sum += n;
        if self.sum > 100 {
            cx.remove_self();
        }
        Ok(())
    }

    fn handle_info(&mut self, info: Info<u8>) {
        if let Info::Message(n) = info {
            self.sum += u32::from(n);
        }
    }

    fn terminate(self, reason: Terminate) -> (u32, bool) {
        (self.sum, matches!(reason, Terminate::Stop))
    }
}

/// Only the context: `Args = ()`.
struct ContextOnly;

#[handler(event = u32)]
impl ContextOnly {
    fn init(_cx: &mut Context<u32, Self>) -> Self {
        ContextOnly
    }

    fn handle_event(&self, _: &u32) {}
}

/// No init: built with `Default`.
#[derive(Default)]
struct Defaulted;

#[handler(event = u32)]
impl Defaulted {
    fn handle_event(&mut self, _: &u32) {}
}

fn main() {}
