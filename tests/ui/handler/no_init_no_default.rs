use event_core::handler;

struct Log;

#[handler(event = u32)]
impl Log {
    fn handle_event(&mut self, _: &u32) {}
}

fn main() {}
