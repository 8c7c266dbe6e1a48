//! The peers: the same fan-out with tokio's broadcast channel and with ractor actors, and the floor
//! of a request/reply on tokio.

use std::sync::Arc;
use std::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::oneshot;

use event_bench::handlers::Bench;

/// tokio's broadcast channel with N receiver tasks, each counting, until all saw every event.
pub(crate) async fn broadcast(receivers: u64, events: u64) -> f64 {
    let (tx, _) = tokio::sync::broadcast::channel::<Arc<Bench>>(4096);
    let mut tasks = Vec::new();
    for _ in 0..receivers {
        let mut rx = tx.subscribe();
        tasks.push(tokio::spawn(async move {
            let mut seen = 0u64;
            loop {
                match rx.recv().await {
                    Ok(ev) => {
                        if matches!(*ev, Bench::Flush) {
                            return seen;
                        }
                        seen += 1;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        panic!("a receiver lagged: the publisher must wait for room")
                    }
                    Err(_) => return seen,
                }
            }
        }));
    }
    let start = Instant::now();
    for i in 0..events {
        // A bounded broadcast drops for laggards; wait for room as a manager's bound would.
        while tx.len() >= 4000 {
            tokio::task::yield_now().await;
        }
        tx.send(Arc::new(Bench::Event(i))).unwrap();
    }
    tx.send(Arc::new(Bench::Flush)).unwrap();
    for t in tasks {
        assert_eq!(t.await.unwrap(), events);
    }
    events as f64 / start.elapsed().as_secs_f64()
}

/// A ractor actor counting the events it is sent.
struct CountingActor;

enum ActorMsg {
    Event(Arc<Bench>),
    /// Replies with the count once every event sent before it was handled.
    Flush(oneshot::Sender<u64>),
}

impl Actor for CountingActor {
    type Msg = ActorMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<ActorMsg>, _: ()) -> Result<u64, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _: ActorRef<ActorMsg>,
        msg: ActorMsg,
        seen: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ActorMsg::Event(ev) => {
                if let Bench::Event(n) = *ev {
                    std::hint::black_box(n);
                }
                *seen += 1;
            }
            ActorMsg::Flush(reply) => {
                let _ = reply.send(*seen);
            }
        }
        Ok(())
    }
}

/// ractor: N actors, each event sent to every one of them, until all have seen every event.
pub(crate) async fn ractor(actors: u64, events: u64) -> f64 {
    let mut refs = Vec::new();
    let mut joins = Vec::new();
    for _ in 0..actors {
        let (r, j) = Actor::spawn(None, CountingActor, ()).await.unwrap();
        refs.push(r);
        joins.push(j);
    }
    let start = Instant::now();
    for i in 0..events {
        let ev = Arc::new(Bench::Event(i));
        for r in &refs {
            r.send_message(ActorMsg::Event(ev.clone())).unwrap();
        }
    }
    let mut flushed = Vec::new();
    for r in &refs {
        let (tx, rx) = oneshot::channel();
        r.send_message(ActorMsg::Flush(tx)).unwrap();
        flushed.push(rx);
    }
    for rx in flushed {
        assert_eq!(rx.await.unwrap(), events, "every actor saw every event");
    }
    let eps = events as f64 / start.elapsed().as_secs_f64();
    for r in &refs {
        r.stop(None);
    }
    for j in joins {
        j.await.unwrap();
    }
    eps
}

/// The floor of a request/reply on tokio: a task owning a counter answers requests sent over
/// an mpsc channel with a oneshot reply each, the round trip every typed call is built on.
/// Latencies in ns, sorted.
pub(crate) async fn tokio_call(iters: usize) -> Vec<u64> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<oneshot::Sender<u64>>(1024);
    let server = tokio::spawn(async move {
        let mut seen = 0u64;
        while let Some(reply) = rx.recv().await {
            seen += 1;
            let _ = reply.send(seen);
        }
        seen
    });
    let round_trip = || async {
        let (reply, answer) = oneshot::channel();
        tx.send(reply).await.unwrap();
        answer.await.unwrap()
    };
    for _ in 0..1000 {
        round_trip().await;
    }
    let mut lat = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        std::hint::black_box(round_trip().await);
        lat.push(t.elapsed().as_nanos() as u64);
    }
    drop(tx);
    assert_eq!(server.await.unwrap(), (1000 + iters) as u64);
    lat.sort_unstable();
    lat
}
