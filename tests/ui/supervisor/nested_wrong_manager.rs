#[path = "support/prelude.rs"]
mod prelude;

use event_core::{handler, supervisor};
use prelude::*;


pub struct Siren;

#[handler(event = Alarm)]
impl Siren {
    fn init() -> Self {
        Siren
    }
    fn handle_event(&mut self, _: &Alarm) {}
}

supervisor! {
    struct AlarmGuards(alarms: Alarm) {
        strategy: simple_one_for_one,
        template: guard Siren { manager: alarms },
    }
}

supervisor! {
    struct Tree {
        children: [
            manager events: Log,
            supervisor guards: AlarmGuards(events),
        ],
    }
}

fn main() {}
