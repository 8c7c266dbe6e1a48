//! The bridge and the remote-call server declared in a `supervisor!` tree, through a real
//! nats-server: the tree's events come from the bus, and its manager answers remote calls.

mod support;

use std::time::Duration;

use event_core::{handler, supervisor, ChildRef, EventManager, HandlerRef};
use event_nats::{publish, Bridge, Bus, Inbound, Outbound, RemoteManager, Serve};
use serde::{Deserialize, Serialize};
use support::NatsServer;
use tokio::sync::mpsc;

/// Adds up the events it handles, and passes each on to the test.
struct Total {
    sum: u64,
    to: mpsc::UnboundedSender<u64>,
}

#[derive(Serialize, Deserialize)]
struct Sum;

#[handler(event = u64)]
impl Total {
    fn init(to: mpsc::UnboundedSender<u64>) -> Self {
        Total { sum: 0, to }
    }

    fn handle_event(&mut self, n: &u64) {
        self.sum += n;
        let _ = self.to.send(*n);
    }

    #[call]
    fn sum(&mut self, _: Sum) -> u64 {
        self.sum
    }
}

supervisor! {
    /// A receiving node: its manager, with a standing `Total`, fed from the bus and served to
    /// remote handles; a restarted manager restarts what follows it.
    struct Node(bus: &Bus, seen: &mpsc::UnboundedSender<u64>) {
        strategy: rest_for_one,
        children: [
            manager totals: u64 { handlers: [Total { args: seen.clone() }] },
            child bridge: Bridge<u64> {
                from: Bridge::new(&totals, Inbound::new(bus.clone(), "node").ack_wait(Duration::from_secs(1))),
            },
            child serve: Serve<u64> { from: Serve::new(&totals, bus.clone()).call::<Total, Sum>() },
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_and_a_server_declared_in_a_tree_feed_and_serve_its_manager() {
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let client = async_nats::connect(server.url()).await.unwrap();
    let bus = Bus::new(client, "tree").unwrap();
    let source = EventManager::<u64>::builder()
        .name("source")
        .start()
        .unwrap();
    publish(&source, Outbound::new(bus.clone())).await.unwrap();

    let (tx, mut seen) = mpsc::unbounded_channel();
    let node = Node::start(&bus, &tx).await.unwrap();
    for n in 1..=5 {
        source.notify(n).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < 5 {
        let next = tokio::time::timeout(Duration::from_secs(60), seen.recv()).await;
        got.push(next.expect("the events within a minute").unwrap());
    }
    assert_eq!(got, [1, 2, 3, 4, 5], "each once, in the publisher's order");
    assert_eq!(node.serve(), &ChildRef::from("serve"));

    // The server child answers for the manager, named after its child.
    let remote = RemoteManager::<u64>::new(&bus, "totals");
    assert_eq!(remote.call(&HandlerRef::<Total>::new(), Sum).await, Ok(15));
    node.stop().await.unwrap();
    // Counted once the bridge has ended: it counts after the manager returned.
    assert_eq!(
        node.bridge().applied(),
        5,
        "the tree keeps the bridge's counts"
    );
    source.stop().await.unwrap();
}
