#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        auto_shutdown: any_significant,
        children: [
            manager events: Log { significant: true },
            guard console: Console { manager: events, restart: permanent, significant: true },
        ],
    }
}

fn main() {}
