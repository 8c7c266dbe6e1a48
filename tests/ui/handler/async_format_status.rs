use std::fmt;

use event_core::handler;

struct Log;

#[handler(event = u32)]
impl Log {
    fn init() -> Self {
        Log
    }

    fn handle_event(&mut self, _: &u32) {}

    async fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("log")
    }
}

fn main() {}
