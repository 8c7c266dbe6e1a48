//! The expansion is lint-clean: every form under `deny(warnings)` and clippy's pedantic lints
//! (`tests/handler_lints.rs` runs clippy over this file), public and private trees alike.
#![deny(warnings, missing_docs, clippy::pedantic)]

use event_core::{handler, supervisor, BoxError, StopToken};

/// The events.
#[derive(Debug)]
pub enum Log {
    /// A line.
    Line(String),
}

/// A handler.
pub struct Sink {
    lines: usize,
}

/// A request: how many lines.
pub struct Lines;

#[handler(event = Log)]
impl Sink {
    fn init(start: usize) -> Self {
        Sink { lines: start }
    }
    fn handle_event(&mut self, event: &Log) {
        let Log::Line(line) = event;
        self.lines += usize::from(!line.is_empty());
    }
    #[call]
    fn lines(&mut self, _: Lines) -> usize {
        self.lines
    }
}

supervisor! {
    /// Guards on demand.
    pub struct Sinks(events: Log) {
        strategy: simple_one_for_one,
        template: guard Sink { manager: events, in_place: true },
    }
}

supervisor! {
    /// The public tree.
    pub struct Public {
        strategy: one_for_all,
        intensity: 3,
        period: 10,
        auto_shutdown: all_significant,
        children: [
            manager events: Log { bounded: 8, debug_events: true },
            guard sink: Sink { manager: events, args: 0, key: "main" },
            task idle {
                run: |stop: StopToken| async move {
                    stop.stopped().await;
                    Ok::<(), BoxError>(())
                },
                restart: transient,
                significant: true,
            },
            supervisor sinks: Sinks(events),
        ],
    }
}

supervisor! {
    /// A private tree, its accessors unused.
    struct Private {
        children: [
            manager events: Log,
            guard sink: Sink { manager: events, args: 1 },
        ],
    }
}

supervisor! {
    /// Given a manager and values: standing handlers, a task cloning what it moves, a child of
    /// the `child` form.
    pub struct Given(events: Log, start: &usize, name: &'static str) {
        children: [
            manager own: Log { handlers: [Sink { args: *start }, Sink { args: 2, key: name }] },
            guard sink: Sink { manager: events, args: *start },
            task echo {
                clone: [own, start],
                run: |stop: StopToken| async move {
                    own.notify(Log::Line(start.to_string())).await?;
                    stop.stopped().await;
                    Ok::<(), BoxError>(())
                },
            },
            child spec: event_core::ChildSpec {
                from: event_core::ChildSpec::task("spec", |stop: StopToken| async move {
                    stop.stopped().await;
                    Ok(())
                }),
            },
        ],
    }
}

/// Runs the trees.
///
/// # Panics
/// If a tree does not start.
pub fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tree = Public::start().await.unwrap();
        tree.events()
            .sync_notify(Log::Line("one".into()))
            .await
            .unwrap();
        assert_eq!(tree.events().call(tree.sink(), Lines).await.unwrap(), 1);
        let more = tree.sinks().start_child(10).await.unwrap();
        assert_eq!(tree.events().call(more.handler(), Lines).await.unwrap(), 10);
        tree.stop().await.unwrap();
        let events = event_core::EventManager::<Log>::start().unwrap();
        let given = Given::start(&events, &3, "named").await.unwrap();
        given
            .own()
            .sync_notify(Log::Line("two".into()))
            .await
            .unwrap();
        given.stop().await.unwrap();
        let private = Private::start().await.unwrap();
        private.stop().await.unwrap();
    });
}
