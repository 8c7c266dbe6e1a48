#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager events: Log,
            guard console: Console { args: () },
            task ticker { restart: transient },
        ],
    }
}

fn main() {}
