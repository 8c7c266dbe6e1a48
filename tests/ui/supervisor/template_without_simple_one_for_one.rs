#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Guards(events: Log) {
        strategy: one_for_one,
        template: guard Console { manager: events },
    }
}

fn main() {}
