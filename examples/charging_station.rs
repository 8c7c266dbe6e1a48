//! A charging station's state machine whose business logic is supervised transparently (the
//! OCPP write-up, "gen_event is underrated").
//!
//! The station's state machine runs on a task of its own. It sends every request of the station
//! to the business logic, a handler of the management system's event manager, and answers the
//! station. It knows the manager and the handler's name, and nothing else: no restart logic.
//!
//! A poison request crashes the business logic. The state machine's `call` for that request
//! fails, so it answers "internal error" for *that* request id. The station, tired of waiting,
//! has sent its next request right behind the poison one. What happens to it depends on how the
//! handler comes back:
//!
//! - **A guard** re-installs the handler once it hears of the crash. A request queued behind the
//!   crash finds no handler: it falls into the window between the crash and the re-install, and
//!   fails too. Here, on a one-thread runtime, the request always wins that race; on several
//!   threads it may or may not.
//! - **In place**, the manager re-initialises the handler before it takes its next message: the
//!   request right behind the poison one is answered by the new incarnation, on any runtime.
//!
//! Run it with `cargo run --example charging_station`.

use std::time::Duration;

use event_core::{handler, EventManager, Guard, HandlerRef, Install, Intensity, Supervisor};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, watch};

/// An id tag the business logic cannot handle: it crashes on it.
pub const POISON: &str = "POISON";

/// A request from the station (an OCPP `CALL` frame).
#[derive(Debug, Clone)]
pub struct Request {
    pub id: u32,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    BootNotification,
    Authorize { id_tag: String },
    Heartbeat,
}

/// The business logic's decision on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub status: &'static str,
    /// Which incarnation of the business logic decided: 1 for the first, 2 after a restart.
    pub incarnation: u32,
}

/// What the management system answers the station for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An OCPP `CALLRESULT`.
    Result { id: u32, decision: Decision },
    /// An OCPP `CALLERROR` with the code `InternalError`.
    InternalError { id: u32 },
}

/// The events of the management system's manager: what it hears of the station. The business
/// logic takes requests through calls; other handlers (a log, alarms) could share the events.
#[derive(Debug)]
pub enum StationEvent {
    Connected,
}

// ---------------------------------------------------------------------------------------------
// The business logic: a handler
// ---------------------------------------------------------------------------------------------

/// The management system's business logic (the write-up's `ocpp_handler`).
#[handler]
pub struct BusinessLogic {
    incarnation: u32,
}

#[handler(event = StationEvent)]
impl BusinessLogic {
    /// Each start counts itself in `incarnations`, shared by every incarnation.
    fn init(incarnations: watch::Sender<u32>) -> Self {
        incarnations.send_modify(|n| *n += 1);
        let incarnation = *incarnations.borrow();
        println!("  business logic: incarnation {incarnation} started");
        BusinessLogic { incarnation }
    }

    fn handle_event(&mut self, event: &StationEvent) {
        println!("  business logic: the station is {event:?}");
    }

    #[call]
    fn decide(&mut self, request: Request) -> Decision {
        let status = match request.action {
            Action::BootNotification => "Accepted",
            Action::Heartbeat => "Ok",
            Action::Authorize { id_tag } if id_tag == POISON => {
                panic!("the business logic cannot handle id tag {id_tag}")
            }
            Action::Authorize { .. } => "Accepted",
        };
        Decision {
            status,
            incarnation: self.incarnation,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The state machine: a task, with no restart logic
// ---------------------------------------------------------------------------------------------

/// The station's state machine (the write-up's `ocpp_station`), reduced to what matters here:
/// it forwards each request to the business logic and answers the station when the decision,
/// or the failure, comes back. A request does not wait for the one before: the station may
/// send its next request before the last is answered.
pub async fn state_machine(
    csms: EventManager<StationEvent>,
    logic: HandlerRef<BusinessLogic>,
    mut from_station: mpsc::Receiver<Request>,
    to_station: mpsc::Sender<Answer>,
) {
    // The replies still to come from the business logic.
    let mut pending = FuturesUnordered::new();
    loop {
        tokio::select! {
            request = from_station.recv() => {
                let Some(request) = request else { break };
                let id = request.id;
                // Sent now: requests reach the business logic in the order the station sent
                // them, whenever their replies come back.
                let reply = csms.send_request(&logic, request);
                pending.push(async move {
                    match reply {
                        Ok(reply) => (id, reply.await),
                        Err(e) => (id, Err(e)),
                    }
                });
            }
            Some((id, decided)) = pending.next(), if !pending.is_empty() => {
                let answer = match decided {
                    Ok(decision) => Answer::Result { id, decision },
                    // That request failed: the handler crashed on it, or was not there.
                    Err(e) => {
                        println!("  state machine: request {id} failed ({e})");
                        Answer::InternalError { id }
                    }
                };
                if to_station.send(answer).await.is_err() {
                    break;
                }
            }
        }
    }
    // The station hung up: finish what is on its way, for nobody.
    while pending.next().await.is_some() {}
}

// ---------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------

/// How the business logic comes back after a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// A [`Guard`] re-installs it when it hears of the crash.
    Guard,
    /// The manager re-initialises it before it takes its next message.
    InPlace,
}

/// What the station got, one answer per request, by request id.
#[derive(Debug)]
pub struct Outcome {
    pub answers: Vec<Answer>,
}

/// The station's side: sends `requests` one right behind the other and waits for an answer to
/// each.
async fn exchange(
    to_csms: &mpsc::Sender<Request>,
    from_csms: &mut mpsc::Receiver<Answer>,
    requests: Vec<Request>,
) -> Result<Vec<Answer>, Box<dyn std::error::Error>> {
    for request in &requests {
        println!("station: request {} {:?}", request.id, request.action);
        to_csms.send(request.clone()).await?;
    }
    let mut answers = Vec::new();
    for _ in &requests {
        let answer = from_csms.recv().await.ok_or("the state machine stopped")?;
        println!("station: got {answer:?}");
        answers.push(answer);
    }
    Ok(answers)
}

/// Runs the story with the business logic restarted as `restart` says, narrating it on stdout.
pub async fn run(restart: Restart) -> Result<Outcome, Box<dyn std::error::Error>> {
    // The management system: an event manager and the business logic's guard, in a tree. The
    // only difference between the two ways is the guard's kind.
    let (csms, manager) = EventManager::<StationEvent>::builder()
        .name("csms")
        .debug_events()
        .supervised("csms")
        .build()?;
    let (incarnations, mut started) = watch::channel(0);
    let guard = match restart {
        Restart::Guard => Guard::new(&csms, Install::<BusinessLogic>::new(), incarnations),
        Restart::InPlace => Guard::in_place(
            &csms,
            Install::<BusinessLogic>::new(),
            incarnations,
            Intensity::new(3, Duration::from_secs(10)),
        ),
    };
    let sup = Supervisor::builder()
        .name("csms_sup")
        .child(manager)
        .child(guard.child("business_logic_guard"))
        .start()
        .await?;

    // The station's state machine, on its own task: it knows the manager and the handler.
    let (to_csms, from_station) = mpsc::channel(8);
    let (to_station, mut from_csms) = mpsc::channel(8);
    let station_fsm = tokio::spawn(state_machine(
        csms.clone(),
        HandlerRef::<BusinessLogic>::new(),
        from_station,
        to_station,
    ));

    csms.notify(StationEvent::Connected).await?;
    let authorize = |id, tag: &str| Request {
        id,
        action: Action::Authorize {
            id_tag: tag.to_string(),
        },
    };
    let mut answers = Vec::new();
    let boot = Request {
        id: 1,
        action: Action::BootNotification,
    };
    answers.extend(exchange(&to_csms, &mut from_csms, vec![boot]).await?);

    println!("\nthe poison request, and the next one right behind it:");
    let mut burst = exchange(
        &to_csms,
        &mut from_csms,
        vec![authorize(2, POISON), authorize(3, "04E91C2A")],
    )
    .await?;
    burst.sort_by_key(answer_id);
    answers.extend(burst);

    // Whatever way it comes back, the business logic is back by now or soon: wait for it.
    tokio::time::timeout(Duration::from_secs(5), started.wait_for(|n| *n >= 2)).await??;
    println!("\nonce the business logic is back:");
    let heartbeat = Request {
        id: 4,
        action: Action::Heartbeat,
    };
    answers.extend(exchange(&to_csms, &mut from_csms, vec![heartbeat]).await?);

    drop(to_csms);
    station_fsm.await?;
    sup.stop().await?;
    Ok(Outcome { answers })
}

fn answer_id(answer: &Answer) -> u32 {
    match answer {
        Answer::Result { id, .. } | Answer::InternalError { id } => *id,
    }
}

fn summary(outcome: &Outcome) -> String {
    let parts: Vec<String> = outcome
        .answers
        .iter()
        .map(|answer| match answer {
            Answer::Result { id, decision } => format!(
                "{id}: {} (incarnation {})",
                decision.status, decision.incarnation
            ),
            Answer::InternalError { id } => format!("{id}: InternalError"),
        })
        .collect();
    parts.join(", ")
}

// One thread: the guard's window is a race, and on one thread the request always wins it, so
// the story is the same every run.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Crash reports, and the guard's notes, go through `tracing`.
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .init();
    // The crash report says what panicked; keep the panic hook to a line, without backtrace.
    std::panic::set_hook(Box::new(|panic| eprintln!("{panic}")));

    println!("=== restarted by a guard ===");
    let guard = run(Restart::Guard).await?;
    println!("\n=== restarted in place ===");
    let in_place = run(Restart::InPlace).await?;

    println!("\nwhat the station got, by request id:");
    println!("  guard:    {}", summary(&guard));
    println!("  in place: {}", summary(&in_place));
    println!(
        "request 3, right behind the poison one, fell into the guard's window; in place, there is none"
    );
    Ok(())
}
