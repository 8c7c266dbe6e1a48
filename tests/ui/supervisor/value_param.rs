#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Inner(events: Log) {
        children: [guard console: Console { manager: events }],
    }
}

supervisor! {
    struct Tree(bus: &String, limit: &u32) {
        children: [
            guard console: Console { manager: bus },
            supervisor inner: Inner(limit),
            guard file: File { manager: bs, args: bus.clone() },
        ],
    }
}

fn main() {}
