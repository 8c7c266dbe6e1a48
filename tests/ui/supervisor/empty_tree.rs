#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        strategy: one_for_all,
    }
}

supervisor! {
    struct Other {
        children: [],
    }
}

fn main() {}
