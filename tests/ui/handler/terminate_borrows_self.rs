use event_core::{handler, Terminate};

struct ByMutRef(u32);

#[handler(event = u32)]
impl ByMutRef {
    fn init() -> Self {
        ByMutRef(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    fn terminate(&mut self, _: Terminate) -> u32 {
        self.0
    }
}

struct ByRef(u32);

#[handler(event = u32)]
impl ByRef {
    fn init() -> Self {
        ByRef(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    fn terminate(&self) -> u32 {
        self.0
    }
}

struct NoSelf;

#[handler(event = u32)]
impl NoSelf {
    fn init() -> Self {
        NoSelf
    }

    fn handle_event(&mut self, _: &u32) {}

    fn terminate(reason: Terminate) {
        let _ = reason;
    }
}

fn main() {}
