use event_core::handler;

struct Log;

#[handler(event = u32)]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_event(&mut self, line: &String) {
        let _ = line;
    }
}

fn main() {}
