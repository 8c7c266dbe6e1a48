#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager events: Log,
            task ticker { run: |_stop| async { Ok(()) } },
            guard console: Console { manager: ticker },
        ],
    }
}

fn main() {}
