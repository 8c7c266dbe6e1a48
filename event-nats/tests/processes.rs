//! Managers in separate processes on one nats-server: this test binary starts copies of itself
//! as peers. Each peer publishes its events to the bus and feeds its own manager from it, and
//! checks that its handlers saw every event of every peer once, in each peer's order.

mod support;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use event_core::{handler, EventManager, Install, Supervisor};
use event_nats::{publish, Bridge, Bus, Inbound, Outbound};
use support::NatsServer;
use tokio::sync::mpsc;

/// Set in a peer's environment: the broker's address, the peer's number, and how many peers.
const PEER: &str = "EVENT_NATS_TEST_PEER";
/// How many events each peer publishes, before its last one (numbered `EVENTS + 1`).
const EVENTS: u64 = 500;

/// An event: which peer published it, and its number there.
type Event = (u32, u64);

struct Collector {
    to: mpsc::UnboundedSender<Event>,
}

#[handler(event = Event)]
impl Collector {
    fn init(to: mpsc::UnboundedSender<Event>) -> Self {
        Collector { to }
    }

    fn handle_event(&mut self, e: &Event) {
        let _ = self.to.send(*e);
    }
}

/// A peer's work, run in a process of its own: publish, and check what arrives.
async fn peer(url: &str, me: u32, peers: u32) {
    let client = async_nats::connect(url).await.unwrap();
    let bus = Bus::new(client, "peers").unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (manager, child) = EventManager::<Event>::builder()
        .name(format!("in-{me}"))
        .supervised("in")
        .handler(Install::<Collector>::new(), tx)
        .build()
        .unwrap();
    let bridge = Bridge::new(&manager, Inbound::new(bus.clone(), format!("peer-{me}")));
    let tree = Supervisor::builder()
        .child(child)
        .child(bridge.child("bridge"))
        .start()
        .await
        .unwrap();
    let out = EventManager::<Event>::builder()
        .name(format!("out-{me}"))
        .start()
        .unwrap();
    publish(&out, Outbound::new(bus).batch(32)).await.unwrap();
    for n in 1..=EVENTS + 1 {
        out.notify((me, n)).await.unwrap();
    }
    // Every peer's last event closes its sequence: had anything of it come twice or out of
    // order, it would have come before.
    let mut next: HashMap<u32, u64> = (0..peers).map(|p| (p, 1)).collect();
    while next.values().any(|n| *n <= EVENTS + 1) {
        let (from, n) = rx.recv().await.expect("the collector is there");
        let expected = next.get_mut(&from).expect("a known peer");
        assert_eq!(
            n, *expected,
            "peer {me}: event {n} of peer {from} came in place of {expected}"
        );
        *expected += 1;
    }
    tree.stop().await.unwrap();
    out.stop().await.unwrap();
}

/// Run as a peer when the environment says so; as a plain test, does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_process() {
    let Ok(spec) = std::env::var(PEER) else {
        return;
    };
    let mut parts = spec.split(',');
    let (url, me, peers) = (
        parts.next().unwrap().to_string(),
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap().parse().unwrap(),
    );
    peer(&url, me, peers).await;
}

async fn run_peers(peers: u32) {
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for me in 0..peers {
        let child = tokio::process::Command::new(&exe)
            .args([
                "--exact",
                "peer_process",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(PEER, format!("{},{me},{peers}", server.url()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        children.push(child);
    }
    for (me, child) in children.into_iter().enumerate() {
        let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("peer {me} did not finish within two minutes"))
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "peer {me} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_see_each_others_events_once_and_in_order() {
    run_peers(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_see_each_others_events_once_and_in_order() {
    run_peers(3).await;
}
