#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

supervisor! {
    struct Tree {
        strategy: one_for_won,
        intensity: -3,
        children: [
            manager events: Log { restart: forever },
            guard console: Console { manager: evnts },
            guard file: File { manager: events, args: "x.log".to_owned() },
        ],
    }
}

// One mistake in the tree, and its uses still type-check: no error below.
async fn use_it() -> Result<(), event_core::SupervisorError> {
    let tree = Tree::start().await?;
    tree.events().notify(Log::Line("hi".into())).await.ok();
    let _file: &event_core::HandlerRef<File> = tree.file();
    tree.stop().await
}

fn main() {
    let _ = use_it();
}
