#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

// A comma forgotten after a key's value is reported there, once; the keys after it are still
// read, so the tree and its accessors are generated.
supervisor! {
    struct Tree {
        strategy: one_for_one
        children: [
            manager events: Log,
            guard console: Console { manager: events },
        ],
    }
}

async fn use_it() -> Result<(), event_core::SupervisorError> {
    let tree = Tree::start().await?;
    tree.events().notify(Log::Line("hi".into())).await.ok();
    let _console: &event_core::HandlerRef<Console> = tree.console();
    tree.stop().await
}

fn main() {
    let _ = use_it();
}
