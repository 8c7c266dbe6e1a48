//! The `sse_server` example (seed 003): an axum server on an ephemeral port of 127.0.0.1, real
//! HTTP clients on their own connections. Each client subscribes through a `call` to the
//! subscribers handler, which watches it and drops it when it disconnects.

use std::time::Duration;

#[allow(dead_code)]
#[path = "../examples/sse_server.rs"]
mod sse_server;

use sse_server::{Delivery, EventSource, Server, MESSAGES};

fn deliveries(texts: &[&str], first_id: u64) -> Vec<Delivery> {
    (first_id..)
        .zip(texts)
        .map(|(id, text)| Delivery {
            id,
            text: text.to_string(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_get_the_same_events_in_order_and_a_disconnected_one_is_dropped() {
    let outcome = tokio::time::timeout(Duration::from_secs(10), sse_server::run())
        .await
        .expect("the example ends by itself")
        .unwrap();

    assert_ne!(outcome.first_id, outcome.second_id);
    assert_eq!(outcome.subscribed, [outcome.first_id, outcome.second_id]);
    // The same events, in the order they were published, to both.
    assert_eq!(outcome.first_received, deliveries(&MESSAGES, 1));
    assert_eq!(outcome.second_received, deliveries(&MESSAGES, 1));
    // The second disconnected: the handler dropped it, and the first still gets events.
    assert_eq!(outcome.after_disconnect, [outcome.first_id]);
    assert_eq!(
        outcome.first_received_later,
        deliveries(&["charger 2 free"], 4)
    );
    assert!(outcome.stream_ended_on_stop);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_before_any_event_is_dropped_and_a_late_one_gets_only_later_events(
) {
    let test = async {
        let mut server = Server::start(([127, 0, 0, 1], 0).into()).await.unwrap();
        let addr = server.addr;
        let early = EventSource::connect(addr).await.unwrap();
        let mut staying = EventSource::connect(addr).await.unwrap();
        assert_eq!(
            server.subscriber_ids().await.unwrap(),
            [early.id, staying.id]
        );

        // Nothing was ever written to it: the server notices the closed connection itself.
        early.disconnect();
        server.wait_for_subscribers(1).await.unwrap();
        assert_eq!(server.subscriber_ids().await.unwrap(), [staying.id]);

        sse_server::post_event(addr, "first").await.unwrap();
        assert_eq!(
            staying.next().await.unwrap(),
            deliveries(&["first"], 1).pop()
        );
        let mut late = EventSource::connect(addr).await.unwrap();
        sse_server::post_event(addr, "second").await.unwrap();
        let second = deliveries(&["second"], 2).pop();
        assert_eq!(late.next().await.unwrap(), second);
        assert_eq!(staying.next().await.unwrap(), second);

        server.stop().await.unwrap();
        assert_eq!(
            late.next().await.unwrap(),
            None,
            "the stream ends with the server"
        );
    };
    tokio::time::timeout(Duration::from_secs(10), test)
        .await
        .expect("no step hangs");
}
