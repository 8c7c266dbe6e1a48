#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;


supervisor! {
    Tree {
        children: [manager events: Log],
    }
}

fn main() {}
