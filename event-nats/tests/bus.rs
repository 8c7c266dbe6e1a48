//! Events across managers through a real nats-server with JetStream: each receiving handler
//! sees every event once, in its publisher's order, whatever restarts meanwhile.

mod support;

use std::time::Duration;

use event_core::{handler, EventManager, Install, Intensity, Strategy, Supervisor};
use event_nats::{publish, Bridge, BridgeStats, Bus, Inbound, Outbound};
use support::{NatsServer, Proxy};
use tokio::sync::mpsc;

/// Passes every event it handles on to the test.
struct Collector {
    to: mpsc::UnboundedSender<u64>,
}

#[handler(event = u64)]
impl Collector {
    fn init(to: mpsc::UnboundedSender<u64>) -> Self {
        Collector { to }
    }

    fn handle_event(&mut self, n: &u64) {
        let _ = self.to.send(*n);
    }
}

/// The next `n` events the collectors passed on; fails after a minute.
async fn take(rx: &mut mpsc::UnboundedReceiver<u64>, n: usize) -> Vec<u64> {
    let mut got = Vec::with_capacity(n);
    let all = tokio::time::timeout(Duration::from_secs(60), async {
        while got.len() < n {
            match rx.recv().await {
                Some(e) => got.push(e),
                None => break,
            }
        }
    });
    assert!(
        all.await.is_ok(),
        "only {} of {n} events arrived",
        got.len()
    );
    got
}

/// A receiving side: a supervised manager whose every incarnation has a collector, and a
/// bridge from `bus` to it, in a rest-for-one tree (the bridge restarts with its manager).
async fn receiver(
    bus: &Bus,
    durable: &str,
) -> (
    Supervisor,
    EventManager<u64>,
    BridgeStats,
    mpsc::UnboundedReceiver<u64>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (manager, child) = EventManager::<u64>::builder()
        .name(durable)
        .supervised("manager")
        .handler(Install::<Collector>::new(), tx)
        .build()
        .unwrap();
    // A message fetched but not yet seen by a bridge that stops is redelivered after the ack
    // wait: short here, so that a restart does not stall the test.
    let inbound = Inbound::new(bus.clone(), durable).ack_wait(Duration::from_secs(1));
    let bridge = Bridge::new(&manager, inbound);
    let stats = bridge.stats();
    // A manager stopped midway may fail its bridge's hand-over before the supervisor restarts
    // them both: two restarts at once.
    let tree = Supervisor::builder()
        .strategy(Strategy::RestForOne)
        .intensity(Intensity::new(5, Duration::from_secs(5)))
        .child(child)
        .child(bridge.child("bridge"))
        .start()
        .await
        .unwrap();
    (tree, manager, stats, rx)
}

/// A publishing manager (whose install makes the bus's stream), and `payloads` written to
/// `subject` before its events, as another client would write them.
async fn source_after(
    server: &NatsServer,
    bus: &Bus,
    subject: &str,
    payloads: &[String],
) -> EventManager<u64> {
    let source = EventManager::<u64>::builder()
        .name("source")
        .start()
        .unwrap();
    publish(&source, Outbound::new(bus.clone())).await.unwrap();
    let client = async_nats::connect(server.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    for payload in payloads {
        js.publish(subject.to_string(), payload.clone().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    source
}

/// Asserts that `got` is `1..=n`, naming the events that came twice, out of order or not at
/// all rather than printing thousands.
fn assert_once_in_order(got: &[u64], n: u64) {
    if got == (1..=n).collect::<Vec<_>>() {
        return;
    }
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<u64> = got.iter().copied().filter(|e| !seen.insert(*e)).collect();
    let missing: Vec<u64> = (1..=n).filter(|e| !seen.contains(e)).collect();
    let first_out = got.windows(2).position(|w| w[1] <= w[0]);
    panic!(
        "{} events arrived; twice: {twice:?}; missing: {missing:?}; first out of order at index {first_out:?}",
        got.len()
    );
}

async fn bus(server: &NatsServer, name: &str) -> Bus {
    let client = async_nats::connect(server.url()).await.unwrap();
    Bus::new(client, name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_manager_reach_another_once_and_in_order() {
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let bus = bus(&server, "once").await;
    let source = EventManager::<u64>::builder()
        .name("source")
        .start()
        .unwrap();
    publish(&source, Outbound::new(bus.clone()).batch(64))
        .await
        .unwrap();
    let (tree, _manager, stats, mut rx) = receiver(&bus, "sink").await;

    for n in 1..=1000 {
        source.notify(n).await.unwrap();
    }
    assert_once_in_order(&take(&mut rx, 1000).await, 1000);
    // Had anything come twice, it would come before this one.
    source.notify(1001).await.unwrap();
    assert_eq!(take(&mut rx, 1).await, [1001]);
    // Counted once the bridge has ended: it counts after the manager returned.
    tree.stop().await.unwrap();
    assert_eq!((stats.applied(), stats.undecodable()), (1001, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_receiving_manager_sees_every_publishers_events_in_their_order() {
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let bus = bus(&server, "fanout").await;
    let (first, _m1, _s1, mut rx1) = receiver(&bus, "one").await;
    let (second, _m2, _s2, mut rx2) = receiver(&bus, "two").await;
    // Two publishers, told apart by range: 1.. and 100_001..
    let mut sources = Vec::new();
    for (name, base) in [("left", 0u64), ("right", 100_000)] {
        let source = EventManager::<u64>::builder().name(name).start().unwrap();
        publish(&source, Outbound::new(bus.clone()).batch(16))
            .await
            .unwrap();
        sources.push(tokio::spawn(async move {
            for n in 1..=500 {
                source.notify(base + n).await.unwrap();
            }
            source
        }));
    }
    for rx in [&mut rx1, &mut rx2] {
        let got = take(rx, 1000).await;
        let left: Vec<u64> = got.iter().copied().filter(|n| *n <= 100_000).collect();
        let right: Vec<u64> = got.iter().copied().filter(|n| *n > 100_000).collect();
        assert_eq!(left, (1..=500).collect::<Vec<_>>());
        assert_eq!(right, (100_001..=100_500).collect::<Vec<_>>());
    }
    for s in sources {
        s.await.unwrap();
    }
    first.stop().await.unwrap();
    second.stop().await.unwrap();
}

/// What is restarted midway through a stream of events.
enum Restarted {
    /// The bridge is stopped and started again by its supervisor.
    Bridge,
    /// The receiving manager is stopped; its supervisor restarts it, and its bridge with it.
    Manager,
    /// The broker is killed (SIGKILL) and started again on the same store.
    Broker,
    /// Every connection to the broker is cut, and new ones refused for a while.
    Connection,
}

/// Publishes 2,000 events from one manager to another and lets `fault` happen once 300 have
/// arrived; every event must still arrive once, in order.
async fn every_event_once_despite(fault: Restarted) {
    if !support::available() {
        return;
    }
    let mut server = NatsServer::start().await;
    // Both sides reach the broker through a proxy whose connections can be cut.
    let proxy = Proxy::start(server.url()).await;
    let client = async_nats::connect(proxy.url()).await.unwrap();
    let bus = Bus::new(client, "faults").unwrap();
    let source = EventManager::<u64>::builder()
        .name("source")
        .start()
        .unwrap();
    publish(&source, Outbound::new(bus.clone()).batch(8))
        .await
        .unwrap();
    let (tree, manager, stats, mut rx) = receiver(&bus, "sink").await;
    let publisher = {
        let source = source.clone();
        tokio::spawn(async move {
            for n in 1..=2000 {
                source.notify(n).await.unwrap();
            }
        })
    };
    let mut got = take(&mut rx, 300).await;
    match fault {
        Restarted::Bridge => {
            tree.terminate_child("bridge").await.unwrap();
            tree.restart_child("bridge").await.unwrap();
        }
        // A permanent manager that stops is restarted by its supervisor.
        Restarted::Manager => drop(manager.stop().await),
        Restarted::Broker => server.kill_and_restart().await,
        Restarted::Connection => {
            proxy.cut().await;
            proxy.restore();
        }
    }
    got.extend(take(&mut rx, 1700).await);
    publisher.await.unwrap();
    // Had anything come twice, it would come before this one.
    source.notify(2001).await.unwrap();
    got.extend(take(&mut rx, 1).await);
    assert_once_in_order(&got, 2001);
    tree.stop().await.unwrap();
    assert_eq!(stats.applied(), 2001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_stopped_and_restarted_midway_loses_nothing_and_applies_nothing_twice() {
    every_event_once_despite(Restarted::Bridge).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiving_manager_restarted_by_its_supervisor_gets_each_event_once() {
    every_event_once_despite(Restarted::Manager).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_published_while_the_broker_is_killed_and_restarted_are_handled_once() {
    every_event_once_despite(Restarted::Broker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_published_while_the_connections_are_cut_and_restored_are_handled_once() {
    every_event_once_despite(Restarted::Connection).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_does_not_decode_is_reported_and_the_stream_goes_on() {
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let bus = bus(&server, "garbage").await;
    let foreign = r#"{"origin":{"manager":"x","incarnation":"0"},"seq":1,"events":["text"]}"#;
    let payloads = ["not json at all", foreign, r#"{"seq":1}"#].map(String::from);
    let source = source_after(&server, &bus, "garbage.events.intruder", &payloads).await;
    let (tree, _manager, stats, mut rx) = receiver(&bus, "sink").await;
    for n in 1..=10 {
        source.notify(n).await.unwrap();
    }
    assert_eq!(take(&mut rx, 10).await, (1..=10).collect::<Vec<_>>());
    tree.stop().await.unwrap();
    assert_eq!(stats.undecodable(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_seen_again_is_dropped_and_a_gap_is_counted() {
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let bus = bus(&server, "sequence").await;
    // One publisher's batches, written by hand: 1-2, 1-2 again (a duplicate past the
    // broker's window), then 5 (3 and 4 never came).
    let batch = |seq: u64, events: &[u64]| {
        format!(
            r#"{{"origin":{{"manager":"hand","incarnation":"00000000000000aa"}},"seq":{seq},"events":{events:?}}}"#
        )
    };
    let payloads = [batch(1, &[1, 2]), batch(1, &[1, 2]), batch(5, &[5])];
    let _source = source_after(&server, &bus, "sequence.events.hand", &payloads).await;
    let (tree, _manager, stats, mut rx) = receiver(&bus, "sink").await;
    assert_eq!(take(&mut rx, 3).await, [1, 2, 5]);
    tree.stop().await.unwrap();
    assert_eq!((stats.redelivered(), stats.missing()), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_batch_carries_its_message_id_and_trace_context() {
    use futures_util::StreamExt;
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let bus = bus(&server, "headers").await;
    let client = async_nats::connect(server.url()).await.unwrap();
    let mut seen = client.subscribe("headers.events.>").await.unwrap();
    client.flush().await.unwrap();
    let source = EventManager::<u64>::builder()
        .name("source")
        .start()
        .unwrap();
    publish(&source, Outbound::new(bus)).await.unwrap();
    source.notify(1).await.unwrap();
    let message = tokio::time::timeout(Duration::from_secs(30), seen.next())
        .await
        .expect("the batch is published")
        .unwrap();
    assert_eq!(&*message.subject, "headers.events.source");
    let headers = message.headers.expect("headers");
    let id = headers.get("Nats-Msg-Id").unwrap().as_str();
    assert!(id.ends_with(".1") && id.len() == 18, "{id}");
    let trace = headers.get("traceparent").unwrap().as_str();
    assert!(trace.starts_with("00-") && trace.len() == 55, "{trace}");
}

/// Passes on the length of every text it handles.
struct Lengths {
    to: mpsc::UnboundedSender<u64>,
}

#[handler(event = String)]
impl Lengths {
    fn init(to: mpsc::UnboundedSender<u64>) -> Self {
        Lengths { to }
    }

    fn handle_event(&mut self, text: &String) {
        let _ = self.to.send(text.len() as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_too_large_for_one_message_is_split_and_an_event_too_large_is_reported() {
    if !support::available() {
        return;
    }
    let server = NatsServer::start().await;
    let bus = bus(&server, "large").await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sink = EventManager::<String>::builder()
        .name("sink")
        .start()
        .unwrap();
    sink.add_handler::<Lengths>(tx).await.unwrap();
    let bridge = Bridge::new(&sink, Inbound::new(bus.clone(), "sink"));
    let stats = bridge.stats();
    let tree = Supervisor::builder()
        .child(bridge.child("bridge"))
        .start()
        .await
        .unwrap();
    let source = EventManager::<String>::builder()
        .name("source")
        .start()
        .unwrap();
    // The broker takes 1 MiB a message: four of 300 kB are one batch too many, and one of
    // 1.5 MB can never go.
    publish(&source, Outbound::new(bus).batch(8)).await.unwrap();
    let sizes = [300_000, 300_000, 300_000, 300_000, 1_500_000, 10];
    for size in sizes {
        source.notify("a".repeat(size)).await.unwrap();
    }
    assert_eq!(
        take(&mut rx, 5).await,
        [300_000, 300_000, 300_000, 300_000, 10]
    );
    tree.stop().await.unwrap();
    assert_eq!(stats.missing(), 1);
}
