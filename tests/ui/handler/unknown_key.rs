use event_core::handler;

struct Log;

#[handler(event = u32, evnt = u64, name = "log")]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_event(&mut self, _: &u32) {}
}

fn main() {
    // The impl is still emitted: its methods can be used.
    let mut log = Log::init();
    log.handle_event(&1);
}
