#[path = "support/prelude.rs"]
mod prelude;

use event_core::supervisor;
use prelude::*;

use event_core::{BoxError, StopToken};

supervisor! {
    struct Tree(events: Log, bus: &String) {
        children: [
            task ticker { run: |stop: StopToken| async move { stop.stopped().await; Ok::<(), BoxError>(()) } },
            task a { clone: [evnts], run: |_stop: StopToken| async move { Ok::<(), BoxError>(()) } },
            task b { clone: [ticker, later], run: |_stop: StopToken| async move { Ok::<(), BoxError>(()) } },
            task c { clone: [bus, bus], run: |_stop: StopToken| async move { Ok::<(), BoxError>(()) } },
            task d { clone: [], run: |_stop: StopToken| async move { Ok::<(), BoxError>(()) } },
            task e { clone: bus, run: |_stop: StopToken| async move { Ok::<(), BoxError>(()) } },
            manager later: Log,
        ],
    }
}

fn main() {}
