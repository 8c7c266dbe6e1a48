//! A handler asks another handler of its own manager from a callback with
//! `Context::call_later`: the request is queued, and the reply comes back to the asking
//! handler's `handle_info`. Nothing waits inside a callback, so handlers asking each other,
//! or themselves, do not deadlock.

use std::time::Duration;

use event_core::{handler, CallError, Context, EventManager, HandlerRef, Info, Install};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug)]
enum Ev {
    /// Ask the handler of this key how many events it has seen.
    Ask(&'static str),
    Tick,
}

struct Count;

/// What a handler heard back: who asked, and the reply.
type Heard = (&'static str, Result<u32, CallError>);

struct Peer {
    name: &'static str,
    seen: u32,
    heard: UnboundedSender<Heard>,
}

#[handler(event = Ev)]
impl Peer {
    fn init((name, heard): (&'static str, UnboundedSender<Heard>)) -> Self {
        Peer {
            name,
            seen: 0,
            heard,
        }
    }

    fn handle_event(&mut self, event: &Ev, cx: &mut Context<Ev, Self>) {
        self.seen += 1;
        if let Ev::Ask(other) = event {
            cx.call_later(&peer(other), Count, |reply| reply);
        }
    }

    fn handle_info(&mut self, info: Info<Result<u32, CallError>>) {
        if let Info::Message(reply) = info {
            let _ = self.heard.send((self.name, reply));
        }
    }

    #[call]
    fn count(&mut self, _: Count) -> u32 {
        self.seen
    }
}

fn peer(name: &'static str) -> HandlerRef<Peer> {
    Install::<Peer>::new().key(name).handler_ref().clone()
}

async fn with_peers(names: &[&'static str]) -> (EventManager<Ev>, UnboundedReceiver<Heard>) {
    let manager = EventManager::<Ev>::start().unwrap();
    let (tx, rx) = unbounded_channel();
    for name in names {
        manager
            .add_handler_with(Install::<Peer>::new().key(*name), (*name, tx.clone()))
            .await
            .unwrap();
    }
    (manager, rx)
}

async fn next(rx: &mut UnboundedReceiver<Heard>) -> Heard {
    timeout(PATIENCE, rx.recv())
        .await
        .expect("a reply arrives")
        .expect("the handlers are alive")
}

#[tokio::test]
async fn a_handler_asks_a_sibling_from_a_callback_and_the_reply_comes_to_its_handle_info() {
    let (manager, mut heard) = with_peers(&["a", "b"]).await;
    manager.notify(Ev::Tick).await.unwrap();
    // Every handler gets the event; the one that is not asked says nothing.
    manager.notify(Ev::Ask("a")).await.unwrap();
    // "a" and "b" both ask "a", which has seen two events when the requests come.
    let mut replies = vec![next(&mut heard).await, next(&mut heard).await];
    replies.sort_by_key(|(name, _)| *name);
    assert_eq!(replies, [("a", Ok(2)), ("b", Ok(2))]);
    assert!(heard.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_asking_each_other_and_themselves_from_callbacks_do_not_deadlock() {
    let (manager, mut heard) = with_peers(&["a", "b"]).await;
    // On one event both ask "b" ("a" its sibling, "b" itself), on the next both ask "a".
    for _ in 0..50 {
        manager.notify(Ev::Ask("b")).await.unwrap();
        manager.notify(Ev::Ask("a")).await.unwrap();
    }
    let mut from = std::collections::BTreeMap::<&str, u32>::new();
    for _ in 0..200 {
        let (name, reply) = next(&mut heard).await;
        assert!(reply.is_ok(), "{name}: {reply:?}");
        *from.entry(name).or_default() += 1;
    }
    assert_eq!(from, [("a", 100), ("b", 100)].into());
    // The manager still answers.
    assert_eq!(manager.call(&peer("a"), Count).await, Ok(100));
}

#[tokio::test]
async fn asking_a_handler_that_is_not_installed_brings_back_not_installed() {
    let (manager, mut heard) = with_peers(&["a"]).await;
    manager.notify(Ev::Ask("nobody")).await.unwrap();
    let (name, reply) = next(&mut heard).await;
    assert_eq!(name, "a");
    assert_eq!(
        reply,
        Err(CallError::NotInstalled(peer("nobody").id().clone()))
    );
}
