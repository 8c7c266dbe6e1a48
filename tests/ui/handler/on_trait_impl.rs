use std::fmt;

use event_core::handler;

struct Log;

#[handler(event = u32)]
impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Log")
    }
}

fn main() {}
