#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree<E>(events: E) {
        children: [guard console: Console { manager: events }],
    }
}

fn main() {}
