use event_core::handler;

struct Log;

#[handler(event = u32)]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_events(&mut self, _: &u32) {}
}

fn main() {}
