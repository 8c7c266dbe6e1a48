//! A key that cannot be read is the only error: the event type it may have held is not also
//! reported missing.

use event_core::handler;

struct NoValue;

#[handler(event)]
impl NoValue {
    fn init() -> Self {
        NoValue
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct NoType;

#[handler(event = )]
impl NoType {
    fn init() -> Self {
        NoType
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct NotAPath;

#[handler(event = u32, crate = "event_core")]
impl NotAPath {
    fn init() -> Self {
        NotAPath
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct NoComma;

#[handler(event = u32 crate = event_core)]
impl NoComma {
    fn init() -> Self {
        NoComma
    }

    fn handle_event(&mut self, _: &u32) {}
}

fn main() {
    let _ = (NoValue::init(), NoType::init(), NotAPath::init(), NoComma::init());
}
