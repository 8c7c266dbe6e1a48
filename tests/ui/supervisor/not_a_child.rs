#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

/// Not a child: it implements no `IntoChild`.
pub struct Plain;

supervisor! {
    struct Tree {
        children: [
            child plain: Plain { from: Plain },
        ],
    }
}

fn main() {}
