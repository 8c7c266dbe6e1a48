//! Remote handles, OTP's `{Name, Node}`: notify, sync_notify and call a manager in another
//! process through NATS request/reply.
//!
//! The serving side ([`Serve`]) is a supervisor child that answers on the subjects
//! `<bus>.rpc.<manager>.notify`, `.sync_notify` and `.call`; the calling side is a
//! [`RemoteManager`]. A call names its handler by the handler's type name and key, and its
//! request by the request's type name, in the body:
//! `{"handler":"…","key":…,"request":"…","body":<request>}` (`key` left out for an unkeyed
//! handler); both sides must be built from the same types. Bodies and replies are JSON: a
//! reply is `{"ok":<value>}` or `{"err":{"kind":"…","message":"…"}}`. (The names travel in the
//! body, not in NATS headers: a request with headers took 20 to 40 µs longer through the
//! broker here.)

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_nats::{Message, Request, Subscriber};
use bytes::Bytes;
use event_core::{
    BoxError, BoxFuture, Call, CallError, ChildRef, ChildSpec, EventManager, HandlerRef, IntoChild,
    Key, ManagerError, NotifyError, Start, StopToken, SupervisorError,
};
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::bus::Bus;
use crate::wire;

/// A call on the wire: which handler, which request type, and the request.
#[derive(Serialize, Deserialize)]
struct CallEnvelope<'a> {
    #[serde(borrow)]
    handler: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<WireKey>,
    #[serde(borrow)]
    request: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
}

/// Why a remote operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// No reply came in time; the operation may still have happened.
    #[error("no reply within {0:?}; the operation may still have happened")]
    Timeout(Duration),
    /// Nobody serves the manager on this bus.
    #[error("no manager {0:?} is served on this bus: is its Serve child running?")]
    NoSuchManager(String),
    /// The manager has stopped.
    #[error("the remote event manager has stopped")]
    ManagerGone,
    /// The handler is not installed in the remote manager.
    #[error("handler {0} is not installed in the remote manager")]
    NotInstalled(String),
    /// The handler crashed on the request; the message is its crash report.
    #[error("the remote handler crashed on the request: {0}")]
    Crashed(String),
    /// The remote manager does not serve this handler and request.
    #[error("the remote manager does not serve {0}; register it there with Serve::call")]
    NoSuchCall(String),
    /// The broker could not take the request.
    #[error("the broker cannot take the request: {0}")]
    Unreachable(String),
    /// A request or a reply could not be encoded or decoded (the two sides disagree on a
    /// type).
    #[error("a request or reply could not be encoded or decoded: {0}")]
    Codec(String),
}

/// The `err` of a reply.
#[derive(Serialize, Deserialize)]
struct Failure {
    kind: String,
    message: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply<T> {
    Ok(T),
    Err(Failure),
}

impl Failure {
    fn new(kind: &str, message: impl ToString) -> Self {
        Failure {
            kind: kind.to_string(),
            message: message.to_string(),
        }
    }

    fn into_error(self) -> RemoteError {
        match self.kind.as_str() {
            "manager_gone" => RemoteError::ManagerGone,
            "not_installed" => RemoteError::NotInstalled(self.message),
            "crashed" => RemoteError::Crashed(self.message),
            "no_such_call" => RemoteError::NoSuchCall(self.message),
            _ => RemoteError::Codec(self.message),
        }
    }
}

fn call_failure(error: CallError) -> Failure {
    match error {
        CallError::NotInstalled(id) => Failure::new("not_installed", id),
        CallError::Crashed(crash) => Failure::new("crashed", crash),
        other => Failure::new("manager_gone", other),
    }
}

/// The subjects a manager is served on.
fn rpc_subject(bus: &str, manager: &str, op: &str) -> String {
    format!("{bus}.rpc.{}.{op}", wire::token(manager))
}

/// A call being answered: where its reply goes, and the reply.
type CallAnswer = BoxFuture<'static, (async_nats::Subject, Bytes)>;

/// A served call: decodes the request, calls the handler, encodes the reply.
type Served<E> = Arc<
    dyn Fn(EventManager<E>, Option<Key>, Bytes) -> BoxFuture<'static, Result<Vec<u8>, Failure>>
        + Send
        + Sync,
>;

/// Serves a manager to [`RemoteManager`]s on a bus: its events, and the calls registered with
/// [`call`](Serve::call). A supervisor child ([`Serve::child`]).
pub struct Serve<E: 'static> {
    manager: EventManager<E>,
    bus: Bus,
    /// By handler and request type name; a few, searched in order.
    calls: Vec<(&'static str, &'static str, Served<E>)>,
}

impl<E> Serve<E>
where
    E: DeserializeOwned + Send + Sync + 'static,
{
    /// Serves `manager` on `bus`, under the manager's name.
    pub fn new(manager: &EventManager<E>, bus: Bus) -> Self {
        Serve {
            manager: manager.clone(),
            bus,
            calls: Vec::new(),
        }
    }

    /// Answers calls of request type `R` to handlers of type `H` (any key).
    pub fn call<H, R>(mut self) -> Self
    where
        H: Call<E, R>,
        R: DeserializeOwned + Send + 'static,
        H::Reply: Serialize,
    {
        let served: Served<E> = Arc::new(|manager, key, body| {
            Box::pin(async move {
                let request: R = serde_json::from_slice(&body)
                    .map_err(|e| Failure::new("codec", format!("the request: {e}")))?;
                let handler = match key {
                    Some(key) => HandlerRef::<H>::with_key(key),
                    None => HandlerRef::<H>::new(),
                };
                let reply = manager
                    .call(&handler, request)
                    .await
                    .map_err(call_failure)?;
                serde_json::to_vec(&Reply::Ok(reply))
                    .map_err(|e| Failure::new("codec", format!("the reply: {e}")))
            })
        });
        let names = (std::any::type_name::<H>(), std::any::type_name::<R>());
        self.calls.retain(|(h, r, _)| (*h, *r) != names);
        self.calls.push((names.0, names.1, served));
        self
    }

    /// The server as a supervisor child with id `id`, permanent. Its start returns once the
    /// broker has its subscription, so a request sent after the supervisor started it is
    /// answered; it fails if the broker cannot be reached then.
    pub fn child(self, id: impl Into<Arc<str>>) -> ChildSpec {
        let serve = Arc::new(self);
        ChildSpec::new(id, move || {
            let serve = serve.clone();
            async move {
                let client = serve.bus.client();
                let subject = rpc_subject(serve.bus.name(), serve.manager.name(), "*");
                let requests = client.subscribe(subject).await?;
                client.flush().await?;
                Ok(Start::task(move |stop| serve.run(requests, stop)))
            }
        })
    }

    /// Answers requests until stopped. Events are handled inline, in the order they arrive.
    /// Calls run side by side within this task, so a slow one holds neither the events nor
    /// the other calls: a call that arrives alone is awaited right here, and joins the others
    /// in flight as soon as another request comes. (Awaited here its reply comes sooner: in a
    /// task of its own, or among the others, a call's round trip took 20 µs longer.)
    async fn run(
        self: Arc<Self>,
        mut requests: Subscriber,
        stop: StopToken,
    ) -> Result<(), BoxError> {
        let client = self.bus.client();
        let mut calls: FuturesUnordered<CallAnswer> = FuturesUnordered::new();
        let mut next: Option<Message> = None;
        loop {
            let request = match next.take() {
                Some(request) => request,
                None => tokio::select! {
                    _ = stop.stopped() => return Ok(()),
                    Some((reply_to, answer)) = calls.next(), if !calls.is_empty() => {
                        let _ = client.publish(reply_to, answer).await;
                        continue;
                    }
                    request = requests.next() => match request {
                        Some(request) => request,
                        None => return Err("the broker ended the subscription".into()),
                    },
                },
            };
            let Some(reply_to) = request.reply.clone() else {
                continue;
            };
            let op = request.subject.rsplit('.').next().unwrap_or_default();
            let answer = match op {
                "notify" | "sync_notify" => {
                    let event = self.event(op == "sync_notify", &request);
                    tokio::pin!(event);
                    // The calls in flight go on while the event is handed over.
                    loop {
                        tokio::select! {
                            answer = &mut event => break answer,
                            Some((reply_to, answer)) = calls.next(), if !calls.is_empty() => {
                                let _ = client.publish(reply_to, answer).await;
                            }
                        }
                    }
                }
                "call" => {
                    let serve = self.clone();
                    let mut call: CallAnswer = Box::pin(async move {
                        let answer: Bytes = serve.serve_call(&request).await.into();
                        (reply_to, answer)
                    });
                    if !calls.is_empty() {
                        calls.push(call);
                        continue;
                    }
                    tokio::select! {
                        (reply_to, answer) = &mut call => {
                            let _ = client.publish(reply_to, answer).await;
                        }
                        request = requests.next() => {
                            calls.push(call);
                            match request {
                                Some(request) => next = Some(request),
                                None => return Err("the broker ended the subscription".into()),
                            }
                        }
                        _ = stop.stopped() => return Ok(()),
                    }
                    continue;
                }
                _ => encode_failure(Failure::new("codec", format!("no operation {op:?}"))),
            };
            let _ = client.publish(reply_to, answer.into()).await;
        }
    }

    async fn event(&self, sync: bool, request: &Message) -> Vec<u8> {
        let event: E = match serde_json::from_slice(&request.payload) {
            Ok(event) => event,
            Err(e) => return encode_failure(Failure::new("codec", format!("the event: {e}"))),
        };
        let result = match sync {
            true => self.manager.sync_notify(event).await,
            false => self.manager.notify(event).await.map_err(|e| match e {
                NotifyError::ManagerGone(_) => ManagerError::ManagerGone,
                _ => ManagerError::WouldDeadlock,
            }),
        };
        match result {
            Ok(()) => serde_json::to_vec(&Reply::Ok(())).unwrap_or_default(),
            Err(e) => encode_failure(Failure::new("manager_gone", e)),
        }
    }

    async fn serve_call(&self, request: &Message) -> Vec<u8> {
        let call: CallEnvelope<'_> = match serde_json::from_slice(&request.payload) {
            Ok(call) => call,
            Err(e) => return encode_failure(Failure::new("codec", format!("the call: {e}"))),
        };
        let (handler, req) = (call.handler.as_ref(), call.request.as_ref());
        let key = call.key.map(Key::from);
        let served = self
            .calls
            .iter()
            .find(|(h, r, _)| *h == handler && *r == req)
            .map(|(_, _, served)| served.clone());
        let Some(served) = served else {
            return encode_failure(Failure::new("no_such_call", format!("{req} to {handler}")));
        };
        let body = Bytes::copy_from_slice(call.body.get().as_bytes());
        match served(self.manager.clone(), key, body).await {
            Ok(reply) => reply,
            Err(failure) => encode_failure(failure),
        }
    }
}

/// A server declared in a `supervisor!` tree, `child name: Serve<Event> { from: Serve::new(..) }`:
/// a permanent child, as [`Serve::child`] makes, and the tree keeps its [`ChildRef`].
impl<E> IntoChild for Serve<E>
where
    E: DeserializeOwned + Send + Sync + 'static,
{
    type Handle = ChildRef;

    fn into_child(self, id: Arc<str>) -> Result<(ChildRef, ChildSpec), SupervisorError> {
        Ok((ChildRef::Id(id.clone()), self.child(id)))
    }
}

fn encode_failure(failure: Failure) -> Vec<u8> {
    serde_json::to_vec(&Reply::<()>::Err(failure)).unwrap_or_default()
}

/// A handler key on the wire: a number or a string.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WireKey {
    Num(u64),
    Name(String),
}

impl From<WireKey> for Key {
    fn from(key: WireKey) -> Self {
        match key {
            WireKey::Num(n) => Key::Num(n),
            WireKey::Name(s) => Key::from(s),
        }
    }
}

impl From<&Key> for WireKey {
    fn from(key: &Key) -> Self {
        match key {
            Key::Num(n) => WireKey::Num(*n),
            Key::Name(s) => WireKey::Name(s.to_string()),
        }
    }
}

/// A handle to a manager in another process, served there by [`Serve`] (OTP's
/// `{Name, Node}`). Cheap to clone.
pub struct RemoteManager<E> {
    client: async_nats::Client,
    bus: String,
    manager: String,
    timeout: Duration,
    _events: PhantomData<fn(E)>,
}

impl<E> Clone for RemoteManager<E> {
    fn clone(&self) -> Self {
        RemoteManager {
            client: self.client.clone(),
            bus: self.bus.clone(),
            manager: self.manager.clone(),
            timeout: self.timeout,
            _events: PhantomData,
        }
    }
}

impl<E: Serialize> RemoteManager<E> {
    /// The manager named `manager`, served on `bus`; operations wait 5 seconds for a reply.
    pub fn new(bus: &Bus, manager: impl Into<String>) -> Self {
        RemoteManager {
            client: bus.client(),
            bus: bus.name().to_string(),
            manager: manager.into(),
            timeout: Duration::from_secs(5),
            _events: PhantomData,
        }
    }

    /// How long an operation waits for its reply.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends an event; returns once the remote manager has queued it.
    pub async fn notify(&self, event: E) -> Result<(), RemoteError> {
        self.event("notify", event).await
    }

    /// Sends an event; returns once every remote handler has handled it.
    pub async fn sync_notify(&self, event: E) -> Result<(), RemoteError> {
        self.event("sync_notify", event).await
    }

    async fn event(&self, op: &str, event: E) -> Result<(), RemoteError> {
        let body = serde_json::to_vec(&event).map_err(|e| RemoteError::Codec(e.to_string()))?;
        self.request::<()>(op, body).await
    }

    /// Calls a remote handler with a typed request and gets its typed reply.
    pub async fn call<H, R>(
        &self,
        handler: &HandlerRef<H>,
        request: R,
    ) -> Result<H::Reply, RemoteError>
    where
        H: Call<E, R>,
        E: 'static,
        R: Serialize + Send + 'static,
        H::Reply: DeserializeOwned,
    {
        let body = serde_json::value::to_raw_value(&request)
            .map_err(|e| RemoteError::Codec(e.to_string()))?;
        let call = CallEnvelope {
            handler: std::any::type_name::<H>().into(),
            key: handler.id().key().map(WireKey::from),
            request: std::any::type_name::<R>().into(),
            body: &body,
        };
        let body = serde_json::to_vec(&call).map_err(|e| RemoteError::Codec(e.to_string()))?;
        self.request("call", body).await
    }

    async fn request<T: DeserializeOwned>(
        &self,
        op: &str,
        body: Vec<u8>,
    ) -> Result<T, RemoteError> {
        use async_nats::RequestErrorKind as Kind;
        let request = Request::new()
            .payload(body.into())
            .timeout(Some(self.timeout));
        let subject = rpc_subject(&self.bus, &self.manager, op);
        let reply = self
            .client
            .send_request(subject, request)
            .await
            .map_err(|e| match e.kind() {
                Kind::TimedOut => RemoteError::Timeout(self.timeout),
                Kind::NoResponders => RemoteError::NoSuchManager(self.manager.clone()),
                _ => RemoteError::Unreachable(e.to_string()),
            })?;
        match serde_json::from_slice::<Reply<T>>(&reply.payload) {
            Ok(Reply::Ok(value)) => Ok(value),
            Ok(Reply::Err(failure)) => Err(failure.into_error()),
            Err(e) => Err(RemoteError::Codec(format!("the reply: {e}"))),
        }
    }
}
