#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        stratgy: one_for_all,
        children: [
            manager events: Log { bounded: 10, capacity: 10 },
            guard console: Console { manager: events, restrat: transient },
        ],
    }
}

fn main() {}
