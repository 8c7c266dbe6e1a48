#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Guards(events: Log) {
        strategy: simple_one_for_one,
        auto_shutdown: any_significant,
        template: guard Console { manager: events, restart: transient, significant: true },
    }
}

supervisor! {
    struct Others(events: Log) {
        strategy: simple_one_for_one,
        auto_shutdown: all_significant,
        template: guard Console { manager: events },
    }
}

fn main() {}
