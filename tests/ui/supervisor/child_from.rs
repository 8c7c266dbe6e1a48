#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            child missing: event_core::ChildSpec { restart: transient },
            child wrong: event_core::ChildSpec { from: 7u32 },
        ],
    }
}

fn main() {}
