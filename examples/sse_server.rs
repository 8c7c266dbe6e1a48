//! A server-sent-events server whose subscribers are kept by an event handler (the lager
//! write-up's notification server, with axum in place of Cowboy).
//!
//! `GET /events` streams server-sent events. Each HTTP client registers with a `Subscribers`
//! handler through a `call` (the write-up's `gen_event:call(my_event, my_event_handler,
//! {register, self()})`); the handler watches the client's channel (OTP's `monitor`) and drops
//! the client when it disconnects (the `'DOWN'` message). `POST /events` publishes its body as
//! an event to every subscriber.
//!
//! The program serves on a free port of 127.0.0.1, connects two clients, publishes a few
//! events, disconnects one client, and stops. Run it with `cargo run --example sse_server`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::response::IntoResponse;
use axum::routing::get;
use event_core::{handler, BoxError, Context, EventManager, HandlerRef, Info, WatchRef};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// The event: a message to publish. Serializable, so that a cluster of servers can share it
/// (the `sse_cluster` example).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Message(pub String);

/// What a subscriber receives: a message and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: u64,
    pub text: String,
}

// ---------------------------------------------------------------------------------------------
// The subscribers handler
// ---------------------------------------------------------------------------------------------

/// How many messages a subscriber may have waiting before it counts as too slow and is dropped.
const BACKLOG: usize = 64;

/// Forwards every message to the subscribed clients, and forgets the clients that left.
pub struct Subscribers {
    clients: Vec<Subscriber>,
    next_client: u64,
    delivered: u64,
    /// The number of subscribers, for whoever wants to watch it (a health page, this program).
    gauge: watch::Sender<usize>,
}

struct Subscriber {
    id: u64,
    watch: WatchRef,
    tx: mpsc::Sender<Arc<Delivery>>,
}

/// A request: subscribe the client whose messages go through this channel. The reply is the
/// client's subscriber id.
pub struct Subscribe(pub mpsc::Sender<Arc<Delivery>>);

/// A request: the ids of the subscribed clients.
pub struct SubscriberIds;

#[handler(event = Message)]
impl Subscribers {
    fn init(gauge: watch::Sender<usize>) -> Self {
        Subscribers {
            clients: Vec::new(),
            next_client: 1,
            delivered: 0,
            gauge,
        }
    }

    fn handle_event(&mut self, Message(text): &Message, cx: &mut Context<Message, Self>) {
        self.delivered += 1;
        let delivery = Arc::new(Delivery {
            id: self.delivered,
            text: text.clone(),
        });
        self.clients
            .retain(|client| match client.tx.try_send(delivery.clone()) {
                Ok(()) => true,
                // Gone: its watch reports it too, and finds nothing left to remove.
                Err(mpsc::error::TrySendError::Closed(_)) => false,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    println!("  subscribers: client {} is too slow: dropped", client.id);
                    cx.unwatch(client.watch); // the watch holds a sender too: the stream ends now
                    false
                }
            });
        self.gauge.send_replace(self.clients.len());
    }

    #[call]
    fn subscribe(&mut self, Subscribe(tx): Subscribe, cx: &mut Context<Message, Self>) -> u64 {
        let id = self.next_client;
        self.next_client += 1;
        // Told through `handle_info` when the client's end of the channel is dropped.
        let watch = cx.watch(tx.clone());
        self.clients.push(Subscriber { id, watch, tx });
        self.gauge.send_replace(self.clients.len());
        println!("  subscribers: client {id} subscribed");
        id
    }

    #[call]
    fn ids(&self, _: SubscriberIds) -> Vec<u64> {
        self.clients.iter().map(|client| client.id).collect()
    }

    fn handle_info(&mut self, info: Info<()>) {
        if let Info::Down(gone) = info {
            if let Some(i) = self.clients.iter().position(|c| c.watch == gone) {
                let client = self.clients.remove(i);
                println!("  subscribers: client {} disconnected: dropped", client.id);
            }
            self.gauge.send_replace(self.clients.len());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The HTTP server
// ---------------------------------------------------------------------------------------------

/// What the HTTP handlers share: the event manager whose subscribers handler streams events,
/// and the manager a `POST` notifies (the same one here; in a cluster, one that publishes to
/// every instance).
#[derive(Clone)]
struct App {
    events: EventManager<Message>,
    subscribers: HandlerRef<Subscribers>,
    posted: EventManager<Message>,
}

/// `GET /events`: subscribe, then stream every message as a server-sent event. The subscriber
/// id comes in the `subscriber-id` header.
async fn stream_events(State(app): State<App>) -> Result<impl IntoResponse, StatusCode> {
    let (tx, rx) = mpsc::channel(BACKLOG);
    let id = app
        .events
        .call(&app.subscribers, Subscribe(tx))
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    // When the client disconnects, the server drops this stream, and with it `rx`: the
    // handler's watch fires.
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let delivery = rx.recv().await?;
        let event = Event::default()
            .id(delivery.id.to_string())
            .data(&delivery.text);
        Some((Ok::<_, Infallible>(event), rx))
    });
    Ok(([("subscriber-id", id.to_string())], Sse::new(stream)))
}

/// `POST /events`: publish the body to every subscriber.
async fn publish(State(app): State<App>, text: String) -> StatusCode {
    match app.posted.notify(Message(text)).await {
        Ok(()) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A running server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    events: EventManager<Message>,
    subscribers: HandlerRef<Subscribers>,
    gauge: watch::Receiver<usize>,
    shutdown: oneshot::Sender<()>,
    serving: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Starts the event manager with its subscribers handler, and the HTTP server on `addr`
    /// (port 0 for any free port).
    pub async fn start(addr: SocketAddr) -> Result<Server, BoxError> {
        let events = EventManager::<Message>::builder()
            .name("sse_events")
            .debug_events()
            .start()?;
        Self::serve(addr, events.clone(), events).await
    }

    /// Serves `events`, to which it adds the subscribers handler, on `addr`; a `POST`
    /// notifies `posted`.
    pub async fn serve(
        addr: SocketAddr,
        events: EventManager<Message>,
        posted: EventManager<Message>,
    ) -> Result<Server, BoxError> {
        let (gauge_tx, gauge) = watch::channel(0);
        let subscribers = events.add_handler::<Subscribers>(gauge_tx).await?;
        let app = App {
            events: events.clone(),
            subscribers: subscribers.clone(),
            posted,
        };
        let router = axum::Router::new()
            .route("/events", get(stream_events).post(publish))
            .with_state(app);

        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await
        });
        Ok(Server {
            addr,
            events,
            subscribers,
            gauge,
            shutdown,
            serving,
        })
    }

    /// The ids of the subscribed clients, as the handler has them.
    pub async fn subscriber_ids(&self) -> Result<Vec<u64>, BoxError> {
        Ok(self.events.call(&self.subscribers, SubscriberIds).await?)
    }

    /// Waits until the handler has `n` subscribers.
    pub async fn wait_for_subscribers(&mut self, n: usize) -> Result<(), BoxError> {
        self.gauge.wait_for(|count| *count == n).await?;
        Ok(())
    }

    /// Stops the event manager, which ends every event stream, then the HTTP server.
    pub async fn stop(self) -> Result<(), BoxError> {
        self.events.stop().await?;
        let _ = self.shutdown.send(());
        self.serving.await??;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP client: what a browser's `EventSource` and `fetch` would do
// ---------------------------------------------------------------------------------------------

/// Opens an HTTP/1 connection to `addr`; the connection runs on a task of its own.
async fn connect<B>(
    addr: SocketAddr,
) -> Result<(hyper::client::conn::http1::SendRequest<B>, JoinHandle<()>), BoxError>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, connection))
}

/// `POST /events` with `text` as the body; returns the status.
pub async fn post_event(addr: SocketAddr, text: &str) -> Result<StatusCode, BoxError> {
    let (mut sender, _connection) = connect(addr).await?;
    let request = hyper::Request::post(format!("http://{addr}/events"))
        .header(hyper::header::HOST, addr.to_string())
        .body(http_body_util::Full::new(hyper::body::Bytes::from(
            text.to_string(),
        )))?;
    Ok(sender.send_request(request).await?.status())
}

/// A client reading the event stream of `GET /events`.
pub struct EventSource {
    /// The subscriber id the server gave it.
    pub id: u64,
    body: hyper::body::Incoming,
    buffer: String,
    connection: JoinHandle<()>,
}

impl EventSource {
    /// Sends `GET /events` and waits for the response head: once it is here, the server has
    /// subscribed this client.
    pub async fn connect(addr: SocketAddr) -> Result<EventSource, BoxError> {
        let (mut sender, connection) = connect(addr).await?;
        let request = hyper::Request::get(format!("http://{addr}/events"))
            .header(hyper::header::HOST, addr.to_string())
            .header(hyper::header::ACCEPT, "text/event-stream")
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())?;
        let response = sender.send_request(request).await?;
        if response.status() != StatusCode::OK {
            return Err(format!("GET /events: {}", response.status()).into());
        }
        let id = response
            .headers()
            .get("subscriber-id")
            .ok_or("no subscriber-id header")?
            .to_str()?
            .parse()?;
        Ok(EventSource {
            id,
            body: response.into_body(),
            buffer: String::new(),
            connection,
        })
    }

    /// The next event; `None` once the server has ended the stream.
    pub async fn next(&mut self) -> Result<Option<Delivery>, BoxError> {
        use http_body_util::BodyExt;
        loop {
            // An event ends with a blank line.
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(delivery) = parse_event(&block)? {
                    return Ok(Some(delivery));
                }
                continue; // a comment, or a field this client does not use
            }
            let Some(frame) = self.body.frame().await else {
                return Ok(None);
            };
            if let Ok(data) = frame?.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data)?);
            }
        }
    }

    /// Closes the connection, as a browser tab that is closed.
    pub fn disconnect(self) {
        self.connection.abort();
    }
}

/// The `id` and `data` fields of one event block.
fn parse_event(block: &str) -> Result<Option<Delivery>, BoxError> {
    let (mut id, mut data) = (None, None);
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.parse()?),
            "data" => data = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(id.zip(data).map(|(id, text)| Delivery { id, text }))
}

// ---------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------

/// What happened.
#[derive(Debug)]
pub struct Outcome {
    /// The subscriber ids of the two clients.
    pub first_id: u64,
    pub second_id: u64,
    /// The handler's subscribers once both clients had connected.
    pub subscribed: Vec<u64>,
    /// What each client received of the first messages.
    pub first_received: Vec<Delivery>,
    pub second_received: Vec<Delivery>,
    /// The handler's subscribers once the second client had disconnected.
    pub after_disconnect: Vec<u64>,
    /// What the first client received after that.
    pub first_received_later: Vec<Delivery>,
    /// Whether the first client's stream ended when the server stopped.
    pub stream_ended_on_stop: bool,
}

/// The messages published while both clients listen.
pub const MESSAGES: [&str; 3] = ["charger 1 free", "charger 2 busy", "charger 1 busy"];

/// Runs the story, narrating it on stdout.
pub async fn run() -> Result<Outcome, BoxError> {
    let mut server = Server::start(([127, 0, 0, 1], 0).into()).await?;
    let addr = server.addr;
    println!("serving http://{addr}/events");

    let mut first = EventSource::connect(addr).await?;
    let mut second = EventSource::connect(addr).await?;
    let subscribed = server.subscriber_ids().await?;
    println!("two clients connected: subscribers {subscribed:?}");

    println!("\npublishing {} messages with POST /events", MESSAGES.len());
    for text in MESSAGES {
        let status = post_event(addr, text).await?;
        println!("  POST {text:?}: {status}");
    }
    let (mut first_received, mut second_received) = (Vec::new(), Vec::new());
    for _ in MESSAGES {
        first_received.push(first.next().await?.ok_or("stream ended")?);
        second_received.push(second.next().await?.ok_or("stream ended")?);
    }
    println!("client {} received {first_received:?}", first.id);
    println!("client {} received {second_received:?}", second.id);

    println!("\nclient {} disconnects", second.id);
    let (first_id, second_id) = (first.id, second.id);
    second.disconnect();
    server.wait_for_subscribers(1).await?;
    let after_disconnect = server.subscriber_ids().await?;
    println!("subscribers now: {after_disconnect:?}");

    post_event(addr, "charger 2 free").await?;
    let first_received_later = vec![first.next().await?.ok_or("stream ended")?];
    println!("client {} received {first_received_later:?}", first.id);

    println!("\nstopping the server");
    server.stop().await?;
    let stream_ended_on_stop = first.next().await?.is_none();
    println!("client {}'s stream ended: {stream_ended_on_stop}", first.id);

    Ok(Outcome {
        first_id,
        second_id,
        subscribed,
        first_received,
        second_received,
        after_disconnect,
        first_received_later,
        stream_ended_on_stop,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    let outcome = tokio::time::timeout(Duration::from_secs(10), run()).await??;
    println!("\nin short:");
    println!(
        "  both clients received the same {} messages in order: {}",
        outcome.first_received.len(),
        outcome.first_received == outcome.second_received
    );
    println!(
        "  subscribers {:?}, then {:?} once client {} disconnected",
        outcome.subscribed, outcome.after_disconnect, outcome.second_id
    );
    println!(
        "  client {} kept receiving: {:?}",
        outcome.first_id, outcome.first_received_later
    );
    Ok(())
}
