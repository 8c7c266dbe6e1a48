#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

// A comma forgotten after a key's value (of the tree, or of a child) is reported there, once;
// the keys after it are still read, so the tree and its accessors are generated.
supervisor! {
    struct Tree {
        strategy: one_for_one
        children: [
            manager events: Log,
            guard console: Console { manager: events },
            guard file: File { manager: events args: "x.log".to_owned() },
        ],
    }
}

async fn use_it() -> Result<(), event_core::SupervisorError> {
    let tree = Tree::start().await?;
    tree.events().notify(Log::Line("hi".into())).await.ok();
    let _console: &event_core::HandlerRef<Console> = tree.console();
    let _file: &event_core::HandlerRef<File> = tree.file();
    tree.stop().await
}

fn main() {
    let _ = use_it();
}
