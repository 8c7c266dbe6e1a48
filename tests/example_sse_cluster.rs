//! The `sse_cluster` example: three instances in processes of their own (copies of this test
//! binary), real HTTP clients on each, a real nats-server, and one instance killed midway.

use std::time::Duration;

#[allow(dead_code)]
#[path = "../examples/sse_cluster.rs"]
mod sse_cluster;

use sse_cluster::nats;

/// An instance, when this binary is started as one; as a plain test, does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_process() {
    if let Ok(spec) = std::env::var(sse_cluster::INSTANCE) {
        sse_cluster::instance(&spec).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_posted_to_one_instance_reaches_the_clients_of_every_instance_still_running() {
    if !nats::available() {
        return;
    }
    let broker = nats::NatsServer::start().await;
    let exe = std::env::current_exe().unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        sse_cluster::run(&broker.url(), |spec| {
            let mut command = tokio::process::Command::new(&exe);
            command
                .args(["--exact", "instance_process", "--nocapture"])
                .env(sse_cluster::INSTANCE, spec);
            command
        }),
    )
    .await
    .expect("the cluster runs within a minute")
    .unwrap();
    let texts = |ds: &[sse_cluster::sse_server::Delivery]| -> Vec<String> {
        ds.iter().map(|d| d.text.clone()).collect()
    };
    assert_eq!(texts(&outcome.first), ["charger 1 free"; 3]);
    assert!(outcome.killed_stream_ended);
    assert_eq!(texts(&outcome.second), ["charger 2 free"; 2]);
    // Every instance numbers the events it got from the bus alike.
    assert!(outcome.first.iter().all(|d| d.id == 1));
    assert!(outcome.second.iter().all(|d| d.id == 2));
}
