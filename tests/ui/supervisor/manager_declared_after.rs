#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            guard console: Console { manager: events },
            manager events: Log,
        ],
    }
}

fn main() {}
