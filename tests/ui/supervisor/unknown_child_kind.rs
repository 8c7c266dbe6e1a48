#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manger events: Log,
            worker pool: Log,
        ],
    }
}

fn main() {}
