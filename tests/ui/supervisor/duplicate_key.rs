#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        strategy: one_for_all,
        strategy: one_for_one,
        children: [
            manager events: Log { restart: permanent, restart: transient },
        ],
    }
}

fn main() {}
