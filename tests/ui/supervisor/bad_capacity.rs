#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager events: Log { bounded: 0 },
            manager alarms: Alarm { bounded: 8ms },
            guard console: Console { manager: alarms, dedicated: 0 },
        ],
    }
}

fn main() {}
