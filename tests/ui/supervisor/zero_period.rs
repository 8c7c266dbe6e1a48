#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        intensity: 0,
        period: 0,
        children: [
            manager events: Log,
            guard console: Console { manager: events, in_place: { intensity: 3, period: 0ms } },
        ],
    }
}

fn main() {}
