#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        children: [
            manager alarms: Alarm { handlers: [Console] },
            manager events: Log {
                handlers: [
                    Console,
                    File { args: 7u32 },
                    File,
                    Console,
                    File { key: 1, args: "a".into() },
                    File { key: 1, args: "b".into() },
                ],
            },
            manager broken: Log { handlers: Console },
            manager unknown_key: Log { handlers: [Console { args: (), manager: events }] },
        ],
    }
}

fn main() {}
