#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager alarms: Alarm,
            guard console: Console { manager: alarms },
        ],
    }
}

fn main() {}
