#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager events: Log,
            guard file: File { manager: events, args: 42 },
            guard file2: File { manager: events },
        ],
    }
}

fn main() {}
