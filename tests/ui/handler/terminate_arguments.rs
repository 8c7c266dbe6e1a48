use event_core::{handler, Context, Terminate};

struct WithContext;

#[handler(event = u32)]
impl WithContext {
    fn init() -> Self {
        WithContext
    }

    fn handle_event(&mut self, _: &u32) {}

    fn terminate(self, _: &mut Context<u32, Self>) {}
}

struct TooMany;

#[handler(event = u32)]
impl TooMany {
    fn init() -> Self {
        TooMany
    }

    fn handle_event(&mut self, _: &u32) {}

    fn terminate(self, _: Terminate, _: u8) {}
}

struct OpaqueHandover(String);

#[handler(event = u32)]
impl OpaqueHandover {
    fn init() -> Self {
        OpaqueHandover(String::new())
    }

    fn handle_event(&mut self, _: &u32) {}

    fn terminate(self) -> impl Send {
        self.0
    }
}

// Found by rustc: a reason of another type.
struct OtherReason;

#[handler(event = u32)]
impl OtherReason {
    fn init() -> Self {
        OtherReason
    }

    fn handle_event(&mut self, _: &u32) {}

    fn terminate(self, reason: String) {
        let _ = reason;
    }
}

fn main() {}
