#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

// Three slips of syntax, each reported on its token; the rest of the tree is still read.
supervisor! {
    struct Tree {
        children: [
            manager events: Log { bounded 64 },
            guard console Console { manager: events },
            guard file: File { manager: events, args: "x.log".to_owned() }
            task ticker { run: |stop: event_core::StopToken| async move {
                stop.stopped().await;
                Ok::<(), event_core::BoxError>(())
            } },
            guard alarm: Console { manager: events },
        ],
    }
}

// The children read have their accessors: no error below.
async fn use_it() -> Result<(), event_core::SupervisorError> {
    let tree = Tree::start().await?;
    tree.events().notify(Log::Line("hi".into())).await.ok();
    let _file: &event_core::HandlerRef<File> = tree.file();
    let _alarm: &event_core::HandlerRef<Console> = tree.alarm();
    tree.stop().await
}

fn main() {
    let _ = use_it();
}
