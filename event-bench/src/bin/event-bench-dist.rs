//! Two managers in two processes through a local `nats-server`, beside the engine's own floor,
//! with the figure names of OTP's two-node harness (`anchors/erlang/gebd.sh`). One line per
//! figure, `name value unit`.
//!
//! `event-bench-dist [--quick]` starts a `nats-server` (JetStream, a free loopback port, a
//! store folder of its own) and a copy of itself as the serving process, then measures from
//! this one:
//!
//! - `dist_notify_throughput`: events notified to a manager here, published to a bus (the
//!   publisher's batches, each acked by JetStream, deduplicated by message id), read by a
//!   bridge there (acked after `sync_notify`), and counted by the handler there; timed until
//!   the last one was handled.
//! - `dist_call_p50/_p99`, `dist_sync_notify_p50/_p99`: a remote handle's `call` and
//!   `sync_notify` round trips to the manager there, interleaved with the floor's requests.
//! - `floor_nats_request_p50/_p99`: a bare core NATS request to a responder there that
//!   answers at once (no manager, no codec): what a round trip through the broker costs.
//! - `floor_js_throughput`: bare JetStream publishes, one message per event, acks awaited with
//!   a window of 256 in flight, read there by a pull consumer that acks each: what the
//!   stream costs per message with nothing of this project's in the way.
//! - `dist_remote_notify_throughput`: a remote handle's `notify` (core NATS request/reply, at
//!   most once, as OTP's), one at a time.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use event_core::{handler, EventManager, HandlerRef, Install, Supervisor};
use event_nats::{publish, Bridge, Bus, Inbound, Outbound, RemoteManager, Serve};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The bus the two managers share.
const BUS: &str = "bench";
/// The serving process's manager.
const THERE: &str = "there";
/// The bare stream of the floor, and its subjects.
const FLOOR_STREAM: &str = "floor";
/// The bare responder's subject, and the subject that reports the floor consumer's count.
const ECHO: &str = "floor.echo";
const FLOOR_COUNT: &str = "floor.count";
/// Set in the serving process's environment: the broker's address.
const SERVE: &str = "EVENT_BENCH_DIST_SERVE";

/// Counts the events it handles.
struct Tally {
    seen: u64,
}

/// Asks a [`Tally`] for its count.
#[derive(Serialize, Deserialize)]
struct Count;

/// Answered at once.
#[derive(Serialize, Deserialize)]
struct Ping;

#[handler(event = u64)]
impl Tally {
    fn init() -> Self {
        Tally { seen: 0 }
    }

    fn handle_event(&mut self, n: &u64) {
        std::hint::black_box(n);
        self.seen += 1;
    }

    #[call]
    fn count(&mut self, _: Count) -> u64 {
        self.seen
    }

    #[call]
    fn ping(&mut self, _: Ping) -> bool {
        true
    }
}

struct Sizes {
    events: u64,
    floor_events: u64,
    latency_iters: usize,
    remote_notifies: u64,
}

const QUICK: Sizes = Sizes {
    events: 200_000,
    floor_events: 50_000,
    latency_iters: 5_000,
    remote_notifies: 5_000,
};

const FULL: Sizes = Sizes {
    events: 1_000_000,
    floor_events: 200_000,
    latency_iters: 20_000,
    remote_notifies: 20_000,
};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if let Some(url) = std::env::var_os(SERVE) {
        let url = url.into_string().expect("a broker address");
        rt.block_on(serve(url));
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    if let Err(e) = rt.block_on(measure(if quick { &QUICK } else { &FULL })) {
        eprintln!("event-bench-dist: {e}");
        std::process::exit(1);
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The serving process: the manager `there` fed by a bridge from the bus and served to remote
/// handles, the bare responder, and the bare consumer of the floor's stream. Says `ready` on
/// stdout once all are listening, and ends when its stdin closes.
async fn serve(url: String) {
    let client = async_nats::connect(&url).await.expect("the broker");
    let bus = Bus::new(client.clone(), BUS).expect("a bus name");
    let (manager, child) = EventManager::<u64>::builder()
        .name(THERE)
        .supervised(THERE)
        .handler(Install::<Tally>::new(), ())
        .build()
        .expect("a manager");
    let bridge = Bridge::new(&manager, Inbound::new(bus.clone(), THERE));
    let serve = Serve::new(&manager, bus)
        .call::<Tally, Count>()
        .call::<Tally, Ping>();
    let tree = Supervisor::builder()
        .child(child)
        .child(bridge.child("bridge"))
        .child(serve.child("serve"))
        .start()
        .await
        .expect("the tree starts");

    // The floor: a responder that answers at once.
    let mut echo = client.subscribe(ECHO).await.expect("subscribed");
    let echo_client = client.clone();
    tokio::spawn(async move {
        while let Some(m) = echo.next().await {
            if let Some(reply) = m.reply {
                let _ = echo_client.publish(reply, m.payload).await;
            }
        }
    });

    // The floor: a pull consumer of the bare stream that acks each message, and its count.
    let js = jetstream::new(client.clone());
    let stream = js
        .get_or_create_stream(jetstream::stream::Config {
            name: FLOOR_STREAM.into(),
            subjects: vec![format!("{FLOOR_STREAM}.events")],
            ..Default::default()
        })
        .await
        .expect("the floor's stream");
    let consumer = stream
        .get_or_create_consumer(
            "floor",
            jetstream::consumer::pull::Config {
                durable_name: Some("floor".into()),
                ..Default::default()
            },
        )
        .await
        .expect("the floor's consumer");
    let consumed = Arc::new(AtomicU64::new(0));
    let counted = consumed.clone();
    tokio::spawn(async move {
        let mut messages = consumer.messages().await.expect("the floor's messages");
        while let Some(Ok(m)) = messages.next().await {
            let _ = m.ack().await;
            counted.fetch_add(1, Ordering::Relaxed);
        }
    });
    let mut count = client.subscribe(FLOOR_COUNT).await.expect("subscribed");
    let count_client = client.clone();
    tokio::spawn(async move {
        while let Some(m) = count.next().await {
            if let Some(reply) = m.reply {
                let n = consumed.load(Ordering::Relaxed).to_string();
                let _ = count_client.publish(reply, n.into()).await;
            }
        }
    });
    client.flush().await.expect("flushed");

    let mut out = tokio::io::stdout();
    out.write_all(b"ready\n").await.expect("stdout");
    out.flush().await.expect("stdout");
    // Ends when the measuring process closes stdin (or dies).
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(_)) = stdin.next_line().await {}
    let _ = tree.stop().await;
}

async fn measure(s: &Sizes) -> Result<(), BoxError> {
    let broker = Broker::start().await?;
    let mut there = Command::new(std::env::current_exe()?)
        .env(SERVE, broker.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(there.stdout.take().ok_or("no stdout")?).lines();
    match tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await {
        Ok(Ok(Some(line))) if line == "ready" => {}
        other => return Err(format!("the serving process did not start: {other:?}").into()),
    }

    let client = async_nats::connect(broker.url()).await?;
    let bus = Bus::new(client.clone(), BUS)?;
    let remote = RemoteManager::<u64>::new(&bus, THERE);
    let tally = HandlerRef::<Tally>::new();

    // The floor (a bare request/reply round trip), a remote handle's call and its
    // sync_notify, interleaved one of each at a time, so that the machine's moods reach all
    // three alike.
    let mut floor = Vec::with_capacity(s.latency_iters);
    let mut calls = Vec::with_capacity(s.latency_iters);
    let mut syncs = Vec::with_capacity(s.latency_iters);
    for i in 0..s.latency_iters + 1_000 {
        let t = Instant::now();
        client.request(ECHO, "x".into()).await?;
        let floor_took = t.elapsed();
        let t = Instant::now();
        remote.sync_notify(0).await?;
        let sync_took = t.elapsed();
        let t = Instant::now();
        remote.call(&tally, Ping).await?;
        let call_took = t.elapsed();
        if i >= 1_000 {
            floor.push(floor_took.as_nanos() as u64);
            calls.push(call_took.as_nanos() as u64);
            syncs.push(sync_took.as_nanos() as u64);
        }
    }
    print_percentiles("floor_nats_request", &mut floor);
    print_percentiles("dist_call", &mut calls);
    print_percentiles("dist_sync_notify", &mut syncs);

    // A remote handle's notify, one at a time (at most once, as OTP's).
    let t = Instant::now();
    for n in 0..s.remote_notifies {
        remote.notify(n).await?;
    }
    remote.sync_notify(0).await?;
    print(
        "dist_remote_notify_throughput",
        (s.remote_notifies + 1) as f64 / t.elapsed().as_secs_f64(),
        "events/s",
    );

    // Through the bus: at least once on the wire, once in the handlers.
    let here = EventManager::<u64>::builder().name("here").start()?;
    publish(&here, Outbound::new(bus.clone())).await?;
    let before = remote.call(&tally, Count).await?;
    let t = Instant::now();
    for n in 0..s.events {
        here.notify(n).await?;
    }
    let target = before + s.events;
    wait_until(|| async { Ok(remote.call(&tally, Count).await? >= target) }).await?;
    let elapsed = t.elapsed();
    let after = remote.call(&tally, Count).await?;
    if after != target {
        return Err(format!(
            "the bus delivered {} events of {}",
            after - before,
            s.events
        )
        .into());
    }
    print(
        "dist_notify_throughput",
        s.events as f64 / elapsed.as_secs_f64(),
        "events/s",
    );
    here.stop().await?;

    // The floor: bare JetStream, one message per event, acks awaited 256 at a time.
    let js = jetstream::new(client.clone());
    let subject = format!("{FLOOR_STREAM}.events");
    let floor_count = || async {
        let reply = client.request(FLOOR_COUNT, "".into()).await?;
        Ok::<u64, BoxError>(std::str::from_utf8(&reply.payload)?.parse()?)
    };
    let before = floor_count().await?;
    let t = Instant::now();
    let mut acks = VecDeque::with_capacity(256);
    for n in 0..s.floor_events {
        if acks.len() == 256 {
            let ack: jetstream::context::PublishAckFuture = acks.pop_front().expect("in flight");
            ack.await?;
        }
        acks.push_back(js.publish(subject.clone(), n.to_string().into()).await?);
    }
    for ack in acks {
        ack.await?;
    }
    let target = before + s.floor_events;
    wait_until(|| async { Ok(floor_count().await? >= target) }).await?;
    print(
        "floor_js_throughput",
        s.floor_events as f64 / t.elapsed().as_secs_f64(),
        "events/s",
    );

    drop(lines);
    if let Some(mut stdin) = there.stdin.take() {
        let _ = stdin.shutdown().await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), there.wait()).await;
    Ok(())
}

/// Asks `done` every half millisecond until it says so, for at most a minute.
async fn wait_until<F, Fut>(done: F) -> Result<(), BoxError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool, BoxError>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await? {
        if Instant::now() > deadline {
            return Err("nothing arrived for a minute".into());
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    Ok(())
}

fn print(name: &str, value: f64, unit: &str) {
    println!("{name} {value:.1} {unit}");
}

fn print_percentiles(name: &str, samples: &mut [u64]) {
    samples.sort_unstable();
    let at =
        |p: f64| samples[((p * samples.len() as f64).round() as usize).clamp(1, samples.len()) - 1];
    println!("{name}_p50 {} ns", at(0.50));
    println!("{name}_p99 {} ns", at(0.99));
}

/// A `nats-server` with JetStream on a free loopback port and a store folder of its own,
/// stopped and its folder removed when dropped.
struct Broker {
    child: Child,
    port: u16,
    store: PathBuf,
}

impl Broker {
    async fn start() -> Result<Broker, BoxError> {
        let store = std::env::temp_dir().join(format!("event-bench-dist-{}", std::process::id()));
        std::fs::create_dir_all(&store)?;
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let mut child = Command::new("nats-server")
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(&store)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| {
                    format!("nats-server does not run ({e}): apt-get install nats-server")
                })?;
            let mut log = BufReader::new(child.stderr.take().ok_or("no stderr")?).lines();
            let ready = tokio::time::timeout(Duration::from_secs(30), async {
                while let Ok(Some(line)) = log.next_line().await {
                    if line.contains("Server is ready") {
                        return true;
                    }
                }
                false
            })
            .await
            .unwrap_or(false);
            if ready {
                tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
                return Ok(Broker { child, port, store });
            }
            let _ = child.kill().await;
        }
        Err("nats-server did not start".into())
    }

    fn url(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}
