#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Guards(events: Log) {
        strategy: simple_one_for_one,
    }
}

fn main() {}
