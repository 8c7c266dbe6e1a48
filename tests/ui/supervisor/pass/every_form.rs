//! Every form `supervisor!` accepts.

use event_core::{handler, supervisor, BoxError, EventManager, StopToken};

#[derive(Debug)]
pub enum Log {
    Line(String),
}

pub struct Console;

#[handler(event = Log)]
impl Console {
    fn init() -> Self {
        Console
    }
    fn handle_event(&mut self, _: &Log) {}
}

pub struct File {
    pub path: String,
}

#[handler(event = Log)]
impl File {
    fn init(path: String) -> Self {
        File { path }
    }
    fn handle_event(&mut self, _: &Log) {}
}

/// `event_core` re-exported elsewhere, as `crate:` names it.
mod runtime {
    pub use event_core::*;
}

/// A task's body: publishes one line, then waits to be stopped.
fn publisher(events: EventManager<Log>) -> impl Fn(StopToken) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), BoxError>> + Send>> + Send + Sync {
    move |stop| {
        let events = events.clone();
        Box::pin(async move {
            events.notify(Log::Line("hello".into())).await?;
            stop.stopped().await;
            Ok(())
        })
    }
}

supervisor! {
    /// A simple_one_for_one tree of guards, given the manager it installs on.
    pub struct Guards(events: Log) {
        strategy: simple_one_for_one,
        intensity: 5,
        period: 500ms,
        template: guard File {
            manager: events,
            dedicated: 32,
            backoff: { first: 5ms, max: 1s, attempts: 3 },
            in_place: { intensity: 2, period: 1 },
            restart: transient,
            shutdown: brutal_kill,
        },
    }
}

supervisor! {
    /// Every child kind and key.
    pub(crate) struct Tree {
        name: "every-form",
        strategy: rest_for_one,
        intensity: 0,
        period: 10s,
        auto_shutdown: any_significant,
        crate: crate::runtime,
        children: [
            manager events: Log {
                name: "log-events",
                bounded: 64,
                debug_events: true,
                restart: permanent,
                shutdown: 5s,
            },
            manager spare: Log { restart: transient, shutdown: 2000, significant: true },
            guard console: Console { manager: events },
            guard file: File {
                manager: events,
                args: "app.log".to_owned(),
                in_place: true,
                backoff: { attempts: 2 },
                restart: temporary,
                shutdown: infinity,
            },
            guard plain: File { manager: spare, args: String::new(), in_place: false, key: 7u32, dedicated: 16 },
            task pub_task { run: publisher(events.clone()), restart: transient, shutdown: 100ms },
            task quiet {
                run: |stop: StopToken| async move {
                    stop.stopped().await;
                    Ok::<(), BoxError>(())
                },
                shutdown: 0,
            },
            supervisor guards: Guards(events) { restart: permanent, shutdown: infinity },
        ],
    }
}

supervisor! {
    /// Given a manager and values; a manager with standing handlers, a task cloning what it
    /// captures, a task failing with its own error type, children of the `child` form.
    pub struct Given(events: Log, path: &String, tag: &'static str) {
        children: [
            manager own: Log {
                handlers: [
                    Console,
                    File { args: path.clone(), key: 1u32, dedicated: 8 },
                    File { args: tag.to_owned(), key: 2u32, in_place: { intensity: 2, period: 1 } },
                ],
            },
            guard file: File { manager: events, args: format!("{path}.{tag}") },
            task echo {
                clone: [events, own, path],
                run: |stop: StopToken| async move {
                    events.notify(Log::Line(path)).await?;
                    own.notify(Log::Line(tag.to_owned())).await?;
                    stop.stopped().await;
                    Ok(())
                },
            },
            task own_error {
                run: |stop: StopToken| async move {
                    let _: u32 = "1".parse()?;
                    stop.stopped().await;
                    Ok(())
                },
            },
            child spec: event_core::ChildSpec {
                from: event_core::ChildSpec::task("spec", |stop: StopToken| async move {
                    stop.stopped().await;
                    Ok(())
                }),
                restart: transient,
                shutdown: 1s,
            },
            supervisor guards: Guards(own),
        ],
    }
}

supervisor! {
    struct OneForAll {
        strategy: one_for_all,
        children: [manager events: Log],
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let tree = Tree::start().await.unwrap();
    let _: &EventManager<Log> = tree.events();
    let _: &event_core::HandlerRef<Console> = tree.console();
    let _: &event_core::HandlerRef<File> = tree.file();
    let _: event_core::ChildRef = tree.pub_task();
    let _: event_core::ChildRef = tree.quiet();
    let file: event_core::GuardChild<File> =
        tree.guards().start_child_keyed("x", "x.log".to_owned()).await.unwrap();
    let file = file.handler();
    let _ = tree.guards().start_child("y.log".to_owned()).await.unwrap_err();
    let installed = tree.events().which_handlers().await.unwrap();
    assert!(installed.contains(file.id()));
    tree.stop().await.unwrap();
    let events = EventManager::<Log>::start().unwrap();
    let given = Given::start(&events, &"given.log".to_owned(), "tag").await.unwrap();
    let _: &EventManager<Log> = given.own();
    let _: &event_core::ChildRef = given.spec();
    given.stop().await.unwrap();
    let other = OneForAll::start().await.unwrap();
    other.stop().await.unwrap();
}
