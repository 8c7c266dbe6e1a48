use event_core::handler;

struct Log;

#[handler(event = u32, event = u64, crate = event_core, crate = event_core)]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_event(&mut self, _: &u32) {}
}

fn main() {}
