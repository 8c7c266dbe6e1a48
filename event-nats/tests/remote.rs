//! Remote handles through a real nats-server: events and typed calls to a manager served in
//! another place, and every way a call can fail, as an error value.

mod support;

use std::sync::Arc;
use std::time::Duration;

use event_core::{handler, EventManager, HandlerRef, Install, Supervisor};
use event_nats::{Bus, RemoteError, RemoteManager, Serve};
use serde::{Deserialize, Serialize};
use support::NatsServer;
use tokio::sync::Notify;

/// Adds up the events it handles.
struct Tally {
    sum: u64,
    gate: Arc<Notify>,
}

#[derive(Serialize, Deserialize)]
struct Sum;

#[derive(Serialize, Deserialize)]
struct Boom;

/// Answers once the test opens the gate.
#[derive(Serialize, Deserialize)]
struct Gated;

#[derive(Serialize, Deserialize)]
struct Unserved;

#[handler(event = u64)]
impl Tally {
    fn init(gate: Arc<Notify>) -> Self {
        Tally { sum: 0, gate }
    }

    fn handle_event(&mut self, n: &u64) {
        self.sum += n;
    }

    #[call]
    fn sum(&mut self, _: Sum) -> u64 {
        self.sum
    }

    #[call]
    fn boom(&mut self, _: Boom) -> u64 {
        panic!("the tally exploded")
    }

    #[call]
    async fn gated(&mut self, _: Gated) -> u64 {
        self.gate.notified().await;
        self.sum
    }

    #[call]
    fn unserved(&mut self, _: Unserved) -> u64 {
        0
    }
}

struct Served {
    _server: NatsServer,
    tree: Supervisor,
    manager: EventManager<u64>,
    remote: RemoteManager<u64>,
    gate: Arc<Notify>,
}

/// A manager named "tally" with a `Tally` keyed 7, served on a bus, and a remote handle to it.
async fn served() -> Served {
    let server = NatsServer::start().await;
    let client = async_nats::connect(server.url()).await.unwrap();
    let bus = Bus::new(client, "rpc").unwrap();
    let gate = Arc::new(Notify::new());
    let manager = EventManager::<u64>::builder()
        .name("tally")
        .start()
        .unwrap();
    manager
        .add_handler_with(Install::<Tally>::new().key(7u64), gate.clone())
        .await
        .unwrap();
    let serve = Serve::new(&manager, bus.clone())
        .call::<Tally, Sum>()
        .call::<Tally, Boom>()
        .call::<Tally, Gated>();
    let tree = Supervisor::builder()
        .child(serve.child("serve"))
        .start()
        .await
        .unwrap();
    // Started: the broker has the server's subscription.
    let remote = RemoteManager::new(&bus, "tally");
    Served {
        _server: server,
        tree,
        manager,
        remote,
        gate,
    }
}

fn tally() -> HandlerRef<Tally> {
    HandlerRef::with_key(7u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_a_typed_call_make_the_round_trip() {
    if !support::available() {
        return;
    }
    let s = served().await;
    for n in 1..=3 {
        s.remote.notify(n).await.unwrap();
    }
    s.remote.sync_notify(4).await.unwrap();
    assert_eq!(s.remote.call(&tally(), Sum).await, Ok(10));
    // The local handle sees the same state.
    assert_eq!(s.manager.call(&tally(), Sum).await.unwrap(), 10);
    s.tree.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_way_a_call_fails_is_an_error_value() {
    if !support::available() {
        return;
    }
    let s = served().await;
    let missing = HandlerRef::<Tally>::with_key(8u64);
    assert!(matches!(
        s.remote.call(&missing, Sum).await,
        Err(RemoteError::NotInstalled(id)) if id.contains('8')
    ));
    assert!(matches!(
        s.remote.call(&tally(), Unserved).await,
        Err(RemoteError::NoSuchCall(what)) if what.contains("Unserved")
    ));
    let nobody = RemoteManager::<u64>::new(&bus_of(&s).await, "nobody");
    assert_eq!(
        nobody.sync_notify(1).await,
        Err(RemoteError::NoSuchManager("nobody".into()))
    );
    let impatient = s.remote.clone().timeout(Duration::from_millis(100));
    assert_eq!(
        impatient.call(&tally(), Gated).await,
        Err(RemoteError::Timeout(Duration::from_millis(100)))
    );
    s.gate.notify_one();
    assert!(matches!(
        s.remote.call(&tally(), Boom).await,
        Err(RemoteError::Crashed(report)) if report.contains("the tally exploded")
    ));
    // The crash removed the handler; the manager goes on until it is stopped.
    assert!(matches!(
        s.remote.call(&tally(), Sum).await,
        Err(RemoteError::NotInstalled(_))
    ));
    s.manager.stop().await.unwrap();
    assert_eq!(s.remote.sync_notify(1).await, Err(RemoteError::ManagerGone));
    s.tree.stop().await.unwrap();
}

async fn bus_of(s: &Served) -> Bus {
    let client = async_nats::connect(s._server.url()).await.unwrap();
    Bus::new(client, "rpc").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waiting_on_its_handler_holds_no_other_request() {
    if !support::available() {
        return;
    }
    let s = served().await;
    s.remote.sync_notify(5).await.unwrap();
    // The handler answers this one only once the gate opens: the server must meanwhile
    // answer the requests that do not need the manager.
    let waiting = {
        let remote = s.remote.clone();
        tokio::spawn(async move { remote.call(&tally(), Gated).await })
    };
    for _ in 0..3 {
        assert!(matches!(
            s.remote.call(&tally(), Unserved).await,
            Err(RemoteError::NoSuchCall(_))
        ));
    }
    let client = async_nats::connect(s._server.url()).await.unwrap();
    let garbage = client
        .request("rpc.rpc.tally.call", "not a call".into())
        .await
        .unwrap();
    let garbage = String::from_utf8_lossy(&garbage.payload).into_owned();
    assert!(garbage.contains("codec"), "{garbage}");
    assert!(
        !waiting.is_finished(),
        "the gated call answered before its gate opened"
    );
    s.gate.notify_one();
    assert_eq!(waiting.await.unwrap(), Ok(5));
    s.tree.stop().await.unwrap();
}
