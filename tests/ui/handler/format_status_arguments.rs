use std::fmt;

use event_core::handler;

struct Log;

#[handler(event = u32)]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_event(&mut self, _: &u32) {}

    fn format_status(&mut self) -> fmt::Result {
        Ok(())
    }
}

fn main() {}
