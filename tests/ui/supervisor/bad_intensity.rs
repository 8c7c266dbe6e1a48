#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        intensity: -1,
        period: ten,
        children: [manager events: Log],
    }
}

fn main() {}
