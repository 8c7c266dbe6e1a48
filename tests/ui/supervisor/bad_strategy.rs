#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        strategy: one_for_won,
        children: [manager events: Log],
    }
}

fn main() {}
