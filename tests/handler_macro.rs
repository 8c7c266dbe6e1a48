//! Handlers written with `#[handler]` run in a manager like hand-written ones: events, typed
//! calls (plain and `async`), timers through `handle_info`, hand-over in a swap, crashes, and the
//! status view crash reports show.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_core::{
    handler, AddError, BoxError, CallError, Context, EventManager, ExitReason, Handler, Info,
    Terminate,
};

#[derive(Debug)]
enum Alarm {
    Raised(&'static str),
    Cleared(&'static str),
}

/// A handler's status view, as a crash report writes it.
struct StatusOf<'a, E, H>(&'a H, std::marker::PhantomData<E>);

impl<E: 'static, H: Handler<E>> fmt::Display for StatusOf<'_, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.format_status(f)
    }
}

fn status_of<E: 'static, H: Handler<E>>(handler: &H) -> String {
    StatusOf::<E, H>(handler, std::marker::PhantomData).to_string()
}

// ---------------------------------------------------------------------------------------------
// A plain handler: events, calls, hand-over
// ---------------------------------------------------------------------------------------------

#[handler]
struct AlarmLog {
    raised: Vec<&'static str>,
    #[redact]
    token: String,
}

struct Count;
struct Clear(&'static str);
struct Authorize(&'static str);

#[handler(event = Alarm)]
impl AlarmLog {
    fn init(token: String) -> Self {
        AlarmLog {
            raised: Vec::new(),
            token,
        }
    }

    fn handle_event(&mut self, alarm: &Alarm) {
        match alarm {
            Alarm::Raised(name) => self.raised.push(name),
            Alarm::Cleared(name) => self.raised.retain(|r| r != name),
        }
    }

    #[call]
    fn count(&self, _: Count) -> usize {
        self.raised.len()
    }

    #[call]
    fn clear(&mut self, Clear(name): Clear) -> bool {
        let before = self.raised.len();
        self.raised.retain(|r| *r != name);
        before != self.raised.len()
    }

    #[call]
    fn authorize(&mut self, Authorize(token): Authorize) -> bool {
        token == self.token
    }

    fn terminate(self, reason: Terminate) -> Vec<&'static str> {
        assert!(matches!(
            reason,
            Terminate::Deleted(_) | Terminate::Swapped { .. }
        ));
        self.raised
    }
}

#[tokio::test]
async fn macro_handler_handles_events_answers_calls_and_hands_over_its_state() {
    let manager = EventManager::<Alarm>::start().unwrap();
    let log = manager
        .add_handler::<AlarmLog>("secret".to_string())
        .await
        .unwrap();
    manager.notify(Alarm::Raised("disk")).await.unwrap();
    manager.notify(Alarm::Raised("fan")).await.unwrap();
    manager.notify(Alarm::Cleared("fan")).await.unwrap();
    manager.notify(Alarm::Raised("power")).await.unwrap();
    assert_eq!(manager.call(&log, Count).await.unwrap(), 2);
    assert!(manager.call(&log, Clear("disk")).await.unwrap());
    assert!(!manager.call(&log, Clear("disk")).await.unwrap());
    assert!(manager.call(&log, Authorize("secret")).await.unwrap());
    assert_eq!(manager.delete_handler(&log, ()).await.unwrap(), ["power"]);
}

#[test]
fn methods_stay_callable_and_the_status_view_redacts_marked_fields() {
    let mut log = AlarmLog::init("hunter2".to_string());
    log.handle_event(&Alarm::Raised("disk"));
    assert_eq!(log.count(Count), 1);
    let status = status_of::<Alarm, _>(&log);
    assert_eq!(
        status,
        r#"AlarmLog { raised: ["disk"], token: <redacted> }"#
    );
    assert!(!status.contains("hunter2"));
}

// ---------------------------------------------------------------------------------------------
// async callbacks, the context, timers through handle_info, a fallible init
// ---------------------------------------------------------------------------------------------

/// No struct attribute: the state is not shown.
struct Heartbeat {
    beats: Arc<Mutex<Vec<u32>>>,
    next: u32,
}

#[derive(Debug)]
struct Tick;
struct Beats;

#[handler(event = Alarm)]
impl Heartbeat {
    fn init(
        (beats, period): (Arc<Mutex<Vec<u32>>>, u64),
        cx: &mut Context<Alarm, Self>,
    ) -> Result<Self, &'static str> {
        if period == 0 {
            return Err("a heartbeat needs a period");
        }
        cx.send_after(Duration::from_millis(period), Tick);
        Ok(Heartbeat { beats, next: 1 })
    }

    async fn handle_event(&mut self, alarm: &Alarm, _cx: &mut Context<Alarm, Self>) {
        tokio::task::yield_now().await;
        if let Alarm::Raised(name) = alarm {
            assert!(!name.is_empty());
        }
    }

    fn handle_info(&mut self, info: Info<Tick>, cx: &mut Context<Alarm, Self>) {
        if let Info::Message(Tick) = info {
            self.beats.lock().unwrap().push(self.next);
            self.next += 1;
            if self.next <= 3 {
                cx.send_after(Duration::from_millis(10), Tick);
            }
        }
    }

    #[call]
    async fn beats(&mut self, _: Beats) -> Vec<u32> {
        tokio::task::yield_now().await;
        self.beats.lock().unwrap().clone()
    }
}

#[tokio::test(start_paused = true)]
async fn async_callbacks_and_timers_work_through_the_macro() {
    let manager = EventManager::<Alarm>::start().unwrap();
    let beats = Arc::new(Mutex::new(Vec::new()));
    let heart = manager
        .add_handler::<Heartbeat>((beats.clone(), 10))
        .await
        .unwrap();
    manager.sync_notify(Alarm::Raised("disk")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(manager.call(&heart, Beats).await.unwrap(), [1, 2, 3]);
    assert_eq!(*beats.lock().unwrap(), [1, 2, 3]);

    let status = status_of::<Alarm, _>(&Heartbeat {
        beats: beats.clone(),
        next: 0,
    });
    assert_eq!(status, "(state not shown)");
}

#[tokio::test]
async fn an_init_returning_err_installs_nothing() {
    let manager = EventManager::<Alarm>::start().unwrap();
    let added = manager.add_handler::<Heartbeat>((Arc::default(), 0)).await;
    let Err(AddError::InitFailed(crash)) = added else {
        panic!("init should have failed");
    };
    assert!(
        crash.to_string().contains("a heartbeat needs a period"),
        "{crash}"
    );
    assert!(manager.which_handlers().await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Crashes, supervision, swaps with a hand-over
// ---------------------------------------------------------------------------------------------

/// Fails on the event it is told to; no init: built with `Default`.
#[derive(Default)]
#[handler]
struct Fragile {
    seen: u32,
}

struct Seen;

#[handler(event = Alarm)]
impl Fragile {
    async fn handle_event(&mut self, alarm: &Alarm) -> Result<(), BoxError> {
        self.seen += 1;
        match alarm {
            Alarm::Raised("boom") => Err("the fragile handler broke".into()),
            _ => Ok(()),
        }
    }

    #[call]
    fn seen(&mut self, _: Seen) -> u32 {
        self.seen
    }

    async fn terminate(self) -> u32 {
        tokio::task::yield_now().await;
        self.seen
    }
}

#[tokio::test]
async fn a_macro_handler_returning_err_crashes_and_its_supervisor_hears_it() {
    let manager = EventManager::<Alarm>::start().unwrap();
    let link = manager.add_sup_handler::<Fragile>(()).await.unwrap();
    let fragile = link.handler().clone();
    manager.notify(Alarm::Raised("disk")).await.unwrap();
    assert_eq!(manager.call(&fragile, Seen).await.unwrap(), 1);
    manager.notify(Alarm::Raised("boom")).await.unwrap();
    let ExitReason::Crashed(crash) = link.await else {
        panic!("the handler should have crashed");
    };
    assert!(
        crash.to_string().contains("the fragile handler broke"),
        "{crash}"
    );
    assert!(matches!(
        manager.call(&fragile, Seen).await,
        Err(CallError::NotInstalled(_))
    ));
}

/// Takes over what `Fragile` counted.
#[handler]
struct Successor {
    inherited: Option<u32>,
}

struct Inherited;

#[handler(event = Alarm)]
impl Successor {
    fn init(inherited: Option<u32>) -> Self {
        Successor { inherited }
    }

    fn handle_event(&mut self, _: &Alarm) {}

    #[call]
    fn inherited(&mut self, _: Inherited, _cx: &mut Context<Alarm, Self>) -> Option<u32> {
        self.inherited
    }
}

#[tokio::test]
async fn a_swap_hands_terminates_return_value_to_the_successor() {
    let manager = EventManager::<Alarm>::start().unwrap();
    let fragile = manager.add_handler::<Fragile>(()).await.unwrap();
    manager.notify(Alarm::Raised("a")).await.unwrap();
    manager.notify(Alarm::Raised("b")).await.unwrap();
    let successor = manager
        .swap_handler(
            &fragile,
            (),
            event_core::HandlerRef::<Successor>::new(),
            |handover| handover,
        )
        .await
        .unwrap();
    assert_eq!(manager.call(&successor, Inherited).await.unwrap(), Some(2));
    assert_eq!(
        status_of::<Alarm, _>(&Successor { inherited: Some(2) }),
        "Successor { inherited: Some(2) }"
    );
}

// ---------------------------------------------------------------------------------------------
// Generic handlers
// ---------------------------------------------------------------------------------------------

#[handler]
struct Latest<T> {
    latest: Option<T>,
}

#[handler(event = T)]
impl<T: Clone + fmt::Debug + Send + Sync + 'static> Latest<T> {
    fn init() -> Self {
        Latest { latest: None }
    }

    fn handle_event(&mut self, event: &T) {
        self.latest = Some(event.clone());
    }
}

#[tokio::test]
async fn a_generic_handler_works_and_shows_its_fields_when_they_are_debug() {
    let manager = EventManager::<u32>::start().unwrap();
    let latest = manager.add_handler::<Latest<u32>>(()).await.unwrap();
    manager.sync_notify(7).await.unwrap();
    manager.delete_handler(&latest, ()).await.unwrap();
    assert_eq!(
        status_of::<u32, _>(&Latest { latest: Some(7u32) }),
        "Latest { latest: Some(7) }"
    );
}
