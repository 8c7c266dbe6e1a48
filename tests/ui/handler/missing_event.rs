use event_core::handler;

struct Log;

#[handler]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_event(&mut self, _: &u32) {}
}

fn main() {
    let _ = Log::init();
}
