//! `crate = path` names the runtime when it is re-exported under another path.

mod runtime {
    pub use event_core as core_reexport;
}

use event_core::Handler;

#[runtime::core_reexport::handler(crate = runtime::core_reexport)]
struct Counter {
    n: u32,
}

#[runtime::core_reexport::handler(event = u32, crate = runtime::core_reexport)]
impl Counter {
    fn init(n: u32) -> Self {
        Counter { n }
    }

    fn handle_event(&mut self, n: &u32) {
        self.n += n;
    }
}

fn is_handler<H: Handler<u32, Args = u32>>() {}

pub fn main() {
    is_handler::<Counter>();
}
