#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager events: Log,
            guard console: Console {
                manager: events,
                backoff: { first: 10min, attempts: 0, tries: 3 },
            },
        ],
    }
}

fn main() {}
