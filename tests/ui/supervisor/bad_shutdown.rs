#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager events: Log { shutdown: brutal },
            manager alarms: Alarm { shutdown: 5min },
        ],
    }
}

fn main() {}
