//! A handler's timers and watches: kept by its manager, fired in deadline order, cancelled by
//! reference or when the handler leaves, set for a delay counted from the call or for an
//! instant; watched subscribers reported once gone. Time is paused where the test waits for
//! timers, so no test depends on the machine's speed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_core::{
    Call, Context, EventManager, HandlerRef, Info, Install, Step, Terminate, TimerRef, WatchRef,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// What a [`Clock`] saw: a timer's message with the instant it arrived, or a subscriber gone.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Timer(u32, Instant),
    Down(WatchRef),
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    fn timers(&self) -> Vec<u32> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter_map(|s| match s {
                Seen::Timer(n, _) => Some(*n),
                Seen::Down(_) => None,
            })
            .collect()
    }

    fn downs(&self) -> Vec<WatchRef> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter_map(|s| match s {
                Seen::Down(w) => Some(*w),
                Seen::Timer(..) => None,
            })
            .collect()
    }

    fn fired_at(&self, n: u32) -> Option<Instant> {
        self.0.lock().unwrap().iter().find_map(|s| match s {
            Seen::Timer(m, at) if *m == n => Some(*at),
            _ => None,
        })
    }
}

/// Logs what it sees, and tells `notices` after each notice (timer or down) it handles.
struct Clock {
    log: Log,
    notices: mpsc::UnboundedSender<()>,
}

impl event_core::Handler<()> for Clock {
    type Args = (Log, mpsc::UnboundedSender<()>);
    type Info = u32;
    type Handover = ();

    fn init((log, notices): Self::Args, _: &mut Context<(), Self>) -> Step<'static, Self> {
        Step::ok(Clock { log, notices })
    }

    fn handle_event(&mut self, _: &(), _: &mut Context<(), Self>) -> Step<'_> {
        Step::ok(())
    }

    fn handle_info<'a>(&'a mut self, info: Info<u32>, _: &'a mut Context<(), Self>) -> Step<'a> {
        let seen = match info {
            Info::Message(n) => Seen::Timer(n, Instant::now()),
            Info::Down(w) => Seen::Down(w),
        };
        self.log.0.lock().unwrap().push(seen);
        let _ = self.notices.send(());
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, ()> {
        Step::ok(())
    }
}

/// Sets timers with these delays and messages; answers their references and the instant of
/// the call.
struct After(Vec<(Duration, u32)>);
/// Sets a timer for an instant.
struct At(Instant, u32);
/// Cancels a timer.
struct Cancel(TimerRef);
/// Sets `n` timers with message 0, all with the same delay.
struct Burst(u32, Duration);
/// Watches a subscriber.
struct Watch<W>(W);
/// Stops watching.
struct Unwatch(WatchRef);

impl Call<(), After> for Clock {
    type Reply = (Vec<TimerRef>, Instant);
    fn handle_call(
        &mut self,
        After(timers): After,
        cx: &mut Context<(), Self>,
    ) -> Step<'_, Self::Reply> {
        let now = Instant::now();
        let refs = timers
            .into_iter()
            .map(|(d, n)| cx.send_after(d, n))
            .collect();
        Step::ok((refs, now))
    }
}

impl Call<(), At> for Clock {
    type Reply = TimerRef;
    fn handle_call(&mut self, At(at, n): At, cx: &mut Context<(), Self>) -> Step<'_, TimerRef> {
        Step::ok(cx.send_at(at, n))
    }
}

impl Call<(), Cancel> for Clock {
    type Reply = bool;
    fn handle_call(&mut self, Cancel(t): Cancel, cx: &mut Context<(), Self>) -> Step<'_, bool> {
        Step::ok(cx.cancel_timer(t))
    }
}

impl Call<(), Burst> for Clock {
    type Reply = ();
    fn handle_call(&mut self, Burst(n, d): Burst, cx: &mut Context<(), Self>) -> Step<'_> {
        for _ in 0..n {
            cx.send_after(d, 0);
        }
        Step::ok(())
    }
}

impl<W: event_core::Watchable> Call<(), Watch<W>> for Clock {
    type Reply = WatchRef;
    fn handle_call(
        &mut self,
        Watch(w): Watch<W>,
        cx: &mut Context<(), Self>,
    ) -> Step<'_, WatchRef> {
        Step::ok(cx.watch(w))
    }
}

impl Call<(), Unwatch> for Clock {
    type Reply = bool;
    fn handle_call(&mut self, Unwatch(w): Unwatch, cx: &mut Context<(), Self>) -> Step<'_, bool> {
        Step::ok(cx.unwatch(w))
    }
}

struct Setup {
    manager: EventManager<()>,
    clock: HandlerRef<Clock>,
    log: Log,
    notices: mpsc::UnboundedReceiver<()>,
}

async fn setup(install: Install<Clock>) -> Setup {
    let manager = EventManager::<()>::builder().start().unwrap();
    let log = Log::default();
    let (tx, notices) = mpsc::unbounded_channel();
    let clock = manager
        .add_handler_with(install, (log.clone(), tx))
        .await
        .unwrap();
    Setup {
        manager,
        clock,
        log,
        notices,
    }
}

impl Setup {
    /// Waits for `n` notices to have been handled; a minute without them is a hang.
    async fn notices(&mut self, n: usize) {
        for _ in 0..n {
            tokio::time::timeout(Duration::from_secs(60), self.notices.recv())
                .await
                .expect("a notice within a minute")
                .unwrap();
        }
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn timers_fire_in_deadline_order_not_in_the_order_set() {
    let mut s = setup(Install::new()).await;
    let timers = vec![(ms(30), 3), (ms(10), 1), (ms(20), 2), (ms(10), 4)];
    s.manager.call(&s.clock, After(timers)).await.unwrap();
    s.notices(4).await;
    let order = s.log.timers();
    // 1 and 4 share a deadline.
    assert!(order == [1, 4, 2, 3] || order == [4, 1, 2, 3], "{order:?}");
}

#[tokio::test(start_paused = true)]
async fn the_delay_counts_from_the_call() {
    let mut s = setup(Install::new()).await;
    let (_, called) = s
        .manager
        .call(&s.clock, After(vec![(ms(50), 1), (ms(120), 2)]))
        .await
        .unwrap();
    // Time passes before the manager waits again: the timers keep their deadlines.
    tokio::time::advance(ms(40)).await;
    s.notices(2).await;
    for (n, delay) in [(1, ms(50)), (2, ms(120))] {
        let fired = s.log.fired_at(n).unwrap() - called;
        assert!(
            fired >= delay && fired <= delay + ms(1),
            "timer {n} fired after {fired:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_timer_set_for_an_instant_fires_then_and_one_past_fires_at_once() {
    let mut s = setup(Install::new()).await;
    let at = Instant::now() + ms(75);
    s.manager.call(&s.clock, At(at, 1)).await.unwrap();
    s.notices(1).await;
    let fired = s.log.fired_at(1).unwrap();
    assert!(
        fired >= at && fired <= at + ms(1),
        "{:?} after the instant",
        fired - at
    );
    let past = Instant::now() - ms(10);
    let before = Instant::now();
    s.manager.call(&s.clock, At(past, 2)).await.unwrap();
    s.notices(1).await;
    assert!(s.log.fired_at(2).unwrap() - before <= ms(1));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_timer_never_fires_and_cancel_says_whether_it_was_pending() {
    let mut s = setup(Install::new()).await;
    let (refs, _) = s
        .manager
        .call(&s.clock, After(vec![(ms(10), 1), (ms(20), 2), (ms(30), 3)]))
        .await
        .unwrap();
    assert!(s.manager.call(&s.clock, Cancel(refs[1])).await.unwrap());
    assert!(
        !s.manager.call(&s.clock, Cancel(refs[1])).await.unwrap(),
        "cancelled already"
    );
    s.notices(2).await;
    assert_eq!(s.log.timers(), [1, 3]);
    assert!(
        !s.manager.call(&s.clock, Cancel(refs[0])).await.unwrap(),
        "fired and handled"
    );
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_100_000_timers_all_fire() {
    let mut s = setup(Install::new()).await;
    s.manager
        .call(&s.clock, Burst(100_000, ms(5)))
        .await
        .unwrap();
    s.notices(100_000).await;
    assert_eq!(s.log.timers().len(), 100_000);
}

#[tokio::test(start_paused = true)]
async fn a_handler_leaving_cancels_its_timers() {
    let s = setup(Install::new()).await;
    s.manager
        .call(&s.clock, After(vec![(ms(10), 1)]))
        .await
        .unwrap();
    s.manager.delete_handler(&s.clock, ()).await.unwrap();
    // The same identity again, with a timer of its own due after the first one's deadline.
    let (tx, mut notices) = mpsc::unbounded_channel();
    let log = Log::default();
    s.manager
        .add_handler_with(Install::<Clock>::new(), (log.clone(), tx))
        .await
        .unwrap();
    s.manager
        .call(&s.clock, After(vec![(ms(20), 2)]))
        .await
        .unwrap();
    notices.recv().await.unwrap();
    assert_eq!(log.timers(), [2]);
    assert!(s.log.timers().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_dedicated_handler_s_timers_fire_and_cancel_the_same() {
    let mut s = setup(Install::new().dedicated(16)).await;
    // Set from the handler's own task while the manager waits for nothing else.
    s.manager
        .call(&s.clock, After(vec![(ms(10), 9)]))
        .await
        .unwrap();
    s.notices(1).await;
    let (refs, called) = s
        .manager
        .call(&s.clock, After(vec![(ms(30), 3), (ms(10), 1), (ms(20), 2)]))
        .await
        .unwrap();
    assert!(s.manager.call(&s.clock, Cancel(refs[2])).await.unwrap());
    s.notices(2).await;
    assert_eq!(s.log.timers(), [9, 1, 3]);
    let fired = s.log.fired_at(3).unwrap() - called;
    assert!(fired >= ms(30) && fired <= ms(31), "{fired:?}");
}

#[tokio::test]
async fn a_watched_subscriber_going_away_is_reported_once() {
    let mut s = setup(Install::new()).await;
    let (tx, rx) = mpsc::channel::<u8>(1);
    let channel = s.manager.call(&s.clock, Watch(tx)).await.unwrap();
    let task = tokio::spawn(std::future::pending::<()>());
    let abort = task.abort_handle();
    let watched_task = s.manager.call(&s.clock, Watch(task)).await.unwrap();
    assert_ne!(channel, watched_task);
    drop(rx);
    s.notices(1).await;
    assert_eq!(s.log.downs(), [channel]);
    abort.abort();
    s.notices(1).await;
    assert_eq!(s.log.downs(), [channel, watched_task]);
    // Down and handled: no longer watched.
    assert!(!s.manager.call(&s.clock, Unwatch(channel)).await.unwrap());
}

#[tokio::test]
async fn an_unwatched_subscriber_is_let_go_and_not_reported() {
    let mut s = setup(Install::new()).await;
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let w = s.manager.call(&s.clock, Watch(tx)).await.unwrap();
    assert!(s.manager.call(&s.clock, Unwatch(w)).await.unwrap());
    assert!(!s.manager.call(&s.clock, Unwatch(w)).await.unwrap());
    // The watch held the last sender: the channel is closed now.
    assert!(rx.recv().await.is_none());
    let (tx2, rx2) = oneshot::channel::<u8>();
    let w2 = s.manager.call(&s.clock, Watch(tx2)).await.unwrap();
    drop(rx2);
    s.notices(1).await;
    assert_eq!(s.log.downs(), [w2]);
}

#[tokio::test]
async fn a_handler_leaving_ends_its_watches() {
    let s = setup(Install::new()).await;
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    s.manager.call(&s.clock, Watch(tx)).await.unwrap();
    s.manager.delete_handler(&s.clock, ()).await.unwrap();
    assert!(rx.recv().await.is_none(), "the watch let its sender go");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_watched_subscribers_going_away_are_all_reported() {
    let mut s = setup(Install::new()).await;
    let mut receivers = Vec::new();
    let mut refs = std::collections::HashSet::new();
    for _ in 0..10_000 {
        let (tx, rx) = mpsc::channel::<u8>(1);
        receivers.push(rx);
        assert!(refs.insert(s.manager.call(&s.clock, Watch(tx)).await.unwrap()));
    }
    drop(receivers);
    s.notices(10_000).await;
    let downs: std::collections::HashSet<WatchRef> = s.log.downs().into_iter().collect();
    assert_eq!(downs, refs);
}

#[tokio::test]
async fn a_dedicated_handler_s_watches_are_reported_the_same() {
    let mut s = setup(Install::new().dedicated(16)).await;
    let (tx, rx) = mpsc::channel::<u8>(1);
    let w = s.manager.call(&s.clock, Watch(tx)).await.unwrap();
    drop(rx);
    s.notices(1).await;
    assert_eq!(s.log.downs(), [w]);
}
