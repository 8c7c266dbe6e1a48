//! The server-sent-events server of `sse_server` as a cluster (the lager write-up's
//! notification server, run as several instances behind a balancer): three instances, each a
//! process of its own on its own loopback port, sharing one event stream through NATS
//! JetStream. An event POSTed to any instance reaches the SSE clients of every instance, and an
//! instance killed midway takes only its own clients with it.
//!
//! An instance has two managers: `POST /events` notifies the first, whose `Publisher` publishes
//! every event to the bus; a `Bridge` feeds the second from the bus, and its `Subscribers`
//! handler streams every event to the instance's clients.
//!
//! The program starts a `nats-server` (Debian's package `nats-server`) on a free port, three
//! instances, and a client on each; it posts to one instance, kills another, posts again, and
//! stops. Run it with `cargo run --example sse_cluster`.

#[allow(dead_code)]
#[path = "sse_server.rs"]
pub mod sse_server;

// The tests' broker: a real nats-server on a free loopback port, with a store of its own.
#[path = "../event-nats/tests/support/mod.rs"]
pub mod nats;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use event_core::{BoxError, EventManager, Supervisor};
use event_nats::{publish, Bridge, Bus, Inbound, Outbound};
use sse_server::{post_event, Delivery, EventSource, Message, Server};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// In an instance's environment: the broker's address and the instance's name, `url,name`.
pub const INSTANCE: &str = "SSE_CLUSTER_INSTANCE";

/// Runs one instance in this process until its standard input closes: prints
/// `listening on <address>` once it serves.
pub async fn instance(spec: &str) -> Result<(), BoxError> {
    let (url, name) = spec.split_once(',').ok_or("INSTANCE is url,name")?;
    let bus = Bus::new(async_nats::connect(url).await?, "sse")?;
    let posted = EventManager::<Message>::builder().name(name).start()?;
    publish(&posted, Outbound::new(bus.clone())).await?;
    let events = EventManager::<Message>::builder()
        .name(format!("{name}-events"))
        .debug_events()
        .start()?;
    let bridge = Bridge::new(&events, Inbound::new(bus, name));
    let tree = Supervisor::builder()
        .child(bridge.child("bridge"))
        .start()
        .await?;
    let server = Server::serve(([127, 0, 0, 1], 0).into(), events, posted.clone()).await?;
    println!("listening on {}", server.addr);
    let _ = tokio::io::stdin().read(&mut [0u8; 1]).await;
    tree.stop().await?;
    posted.stop().await?;
    server.stop().await
}

/// A running instance: its process and address.
struct Instance {
    process: Child,
    addr: SocketAddr,
}

/// Starts an instance with `command` and waits for its address.
async fn start(mut command: Command) -> Result<Instance, BoxError> {
    let mut process = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(process.stdout.take().ok_or("no stdout")?).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(addr) = line.strip_prefix("listening on ") {
            let addr = addr.parse()?;
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(Instance { process, addr });
        }
    }
    Err("an instance ended before it served".into())
}

/// What each client received.
#[derive(Debug)]
pub struct Outcome {
    /// Every client, after the first POST (to instance 0).
    pub first: Vec<Delivery>,
    /// The clients of instances 0 and 1, after instance 2 was killed and instance 1 got a POST.
    pub second: Vec<Delivery>,
    /// Whether the stream of instance 2's client ended with its instance.
    pub killed_stream_ended: bool,
}

/// Runs the cluster against the broker at `url`; `command(spec)` is how an instance is started
/// with its `INSTANCE` spec.
pub async fn run(url: &str, command: impl Fn(String) -> Command) -> Result<Outcome, BoxError> {
    let mut instances = Vec::new();
    for i in 0..3 {
        instances.push(start(command(format!("{url},instance-{i}"))).await?);
        println!("instance {i} serves http://{}/events", instances[i].addr);
    }
    let mut clients = Vec::new();
    for instance in &instances {
        clients.push(EventSource::connect(instance.addr).await?);
    }

    let first = post_and_receive(&instances[0], 0, "charger 1 free", &mut clients).await?;

    println!("\ninstance 2 is killed");
    let mut killed = instances.pop().ok_or("three instances")?;
    killed.process.kill().await?;
    let mut killed_client = clients.pop().ok_or("three clients")?;
    let killed_stream_ended = !matches!(killed_client.next().await, Ok(Some(_)));
    println!("  its client's stream ended: {killed_stream_ended}");

    let second = post_and_receive(&instances[1], 1, "charger 2 free", &mut clients).await?;

    // Closing an instance's standard input stops it.
    for mut instance in instances {
        drop(instance.process.stdin.take());
        instance.process.wait().await?;
    }
    Ok(Outcome {
        first,
        second,
        killed_stream_ended,
    })
}

/// Posts `text` to instance `i`, and returns what each client received next.
async fn post_and_receive(
    instance: &Instance,
    i: usize,
    text: &str,
    clients: &mut [EventSource],
) -> Result<Vec<Delivery>, BoxError> {
    println!("\nPOST {text:?} to instance {i}");
    post_event(instance.addr, text).await?;
    let mut received = Vec::new();
    for (c, client) in clients.iter_mut().enumerate() {
        let delivery = client.next().await?.ok_or("stream ended")?;
        println!("  the client of instance {c} received {delivery:?}");
        received.push(delivery);
    }
    Ok(received)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if let Ok(spec) = std::env::var(INSTANCE) {
        return instance(&spec).await;
    }
    if !nats::available() {
        return Ok(());
    }
    let broker = nats::NatsServer::start().await;
    println!("nats-server with JetStream on {}", broker.url());
    let exe = std::env::current_exe()?;
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        run(&broker.url(), |spec| {
            let mut command = Command::new(&exe);
            command.env(INSTANCE, spec);
            command
        }),
    )
    .await??;
    println!("\nin short:");
    println!(
        "  an event posted to one instance reached the clients of all three: {}",
        outcome.first.iter().all(|d| d.text == "charger 1 free")
    );
    println!(
        "  after instance 2 was killed, an event posted to instance 1 reached the clients of instances 0 and 1: {}",
        outcome.second.iter().all(|d| d.text == "charger 2 free")
    );
    Ok(())
}
