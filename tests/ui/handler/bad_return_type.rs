use event_core::handler;

struct Log;

#[handler(event = u32)]
impl Log {
    fn init() -> Option<Self> {
        Some(Log)
    }

    fn handle_event(&mut self, _: &u32) -> bool {
        true
    }
}

fn main() {}
