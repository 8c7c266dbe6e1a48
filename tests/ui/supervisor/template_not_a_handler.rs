#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;


supervisor! {
    struct AlarmGuards(alarms: Alarm) {
        strategy: simple_one_for_one,
        template: guard Console { manager: alarms },
    }
}


fn main() {}
