#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

use event_core::StopToken;

supervisor! {
    struct Tree {
        children: [
            task unit { run: |stop: StopToken| async move { stop.stopped().await } },
            task number { run: |_stop: StopToken| async move { Err::<(), u32>(7) } },
            task not_a_function { run: 7 },
        ],
    }
}

fn main() {}
