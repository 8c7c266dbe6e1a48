//! Dropping a future midway leaves the manager consistent: each operation's future is polled
//! `k` times (the manager running in between) and dropped, for every `k` until it completes on
//! its own, so it is cancelled at each of its await points in turn. An operation sent before
//! the drop is still applied (as an abandoned OTP call still runs), one never sent changes
//! nothing, and the manager answers what comes next as it should.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use event_core::{
    AddError, Call, Context, EventManager, Handler, HandlerRef, NotifyError, Step, Terminate,
};
use tokio::sync::Semaphore;

/// Awaits `f`, failing the test if it takes more than 10 s: a hang is a bug.
async fn within<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s: the manager hangs")
}

/// Polls `f` up to `polls` times, letting the runtime run the manager between polls, then
/// drops it. Its output if it completed.
async fn cancel_after<F: Future>(f: F, polls: usize) -> Option<F::Output> {
    let mut f = pin!(f);
    for _ in 0..polls {
        let polled = std::future::poll_fn(|cx| Poll::Ready(f.as_mut().poll(cx))).await;
        if let Poll::Ready(out) = polled {
            return Some(out);
        }
        tokio::task::yield_now().await;
    }
    None
}

type Log = Arc<Mutex<Vec<String>>>;

fn lines(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

fn count(log: &Log, prefix: &str) -> usize {
    lines(log).iter().filter(|l| l.starts_with(prefix)).count()
}

/// Every callback is `async` and yields a few times, so a caller can go away while it runs.
struct Slow {
    name: &'static str,
    log: Log,
    gate: Option<Arc<Semaphore>>,
}

#[derive(Clone)]
struct SlowArgs {
    name: &'static str,
    log: Log,
    gate: Option<Arc<Semaphore>>,
}

async fn dawdle() {
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
}

impl Handler<u32> for Slow {
    type Args = SlowArgs;
    type Info = ();
    type Handover = usize;

    fn init(a: SlowArgs, _: &mut Context<u32, Self>) -> Step<'static, Self> {
        Step::from_async(async move {
            dawdle().await;
            a.log.lock().unwrap().push(format!("{} init", a.name));
            Ok(Slow {
                name: a.name,
                log: a.log,
                gate: a.gate,
            })
        })
    }

    fn handle_event<'a>(&'a mut self, n: &'a u32, _: &'a mut Context<u32, Self>) -> Step<'a> {
        Step::from_async(async move {
            if let Some(gate) = &self.gate {
                gate.acquire().await?.forget();
            }
            dawdle().await;
            self.log
                .lock()
                .unwrap()
                .push(format!("{} event {n}", self.name));
            Ok(())
        })
    }

    fn terminate(self, reason: Terminate) -> Step<'static, usize> {
        Step::from_async(async move {
            dawdle().await;
            let mut log = self.log.lock().unwrap();
            log.push(format!("{} terminate: {reason}", self.name));
            Ok(log.len())
        })
    }
}

struct Count;

impl Call<u32, Count> for Slow {
    type Reply = usize;

    fn handle_call<'a>(&'a mut self, _: Count, _: &'a mut Context<u32, Self>) -> Step<'a, usize> {
        Step::from_async(async move {
            dawdle().await;
            let mut log = self.log.lock().unwrap();
            log.push(format!("{} call", self.name));
            Ok(log.len())
        })
    }
}

fn args(name: &'static str, log: &Log) -> SlowArgs {
    SlowArgs {
        name,
        log: log.clone(),
        gate: None,
    }
}

fn slow(name: &'static str) -> HandlerRef<Slow> {
    HandlerRef::with_key(name)
}

async fn names(manager: &EventManager<u32>) -> Vec<String> {
    within(manager.which_handlers())
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The most polls any operation here needs to complete.
const MAX_POLLS: usize = 100;

#[tokio::test(flavor = "current_thread")]
async fn a_call_dropped_at_any_await_point_still_runs_once_sent_and_the_next_is_answered() {
    let log = Log::default();
    let manager = EventManager::<u32>::start().unwrap();
    let a = manager
        .add_handler_with(slow("a"), args("a", &log))
        .await
        .unwrap();
    for polls in 0..MAX_POLLS {
        let done = cancel_after(manager.call(&a, Count), polls).await.is_some();
        within(manager.call(&a, Count)).await.unwrap();
        // Each round: the dropped call if it was sent (from the first poll on), and the next.
        assert_eq!(count(&log, "a call"), 2 * polls + 1, "{:?}", lines(&log));
        if done {
            assert!(polls > 1, "the call completed without waiting");
            return;
        }
    }
    panic!("the call never completed");
}

#[tokio::test(flavor = "current_thread")]
async fn a_sync_notify_dropped_at_any_await_point_still_delivers_its_event_once_sent() {
    let log = Log::default();
    let manager = EventManager::<u32>::start().unwrap();
    manager
        .add_handler_with(slow("a"), args("a", &log))
        .await
        .unwrap();
    for polls in 0..MAX_POLLS {
        let n = polls as u32;
        let done = cancel_after(manager.sync_notify(n), polls).await.is_some();
        within(manager.sync_notify(1000 + n)).await.unwrap();
        let mut tail = Vec::new();
        if polls > 0 {
            tail.push(format!("a event {n}"));
        }
        tail.push(format!("a event {}", 1000 + n));
        let all = lines(&log);
        assert_eq!(all[all.len() - tail.len()..], tail[..]);
        assert_eq!(count(&log, "a event"), 2 * polls + 1, "{:?}", lines(&log));
        if done {
            assert!(polls > 1, "the sync_notify completed without waiting");
            return;
        }
    }
    panic!("the sync_notify never completed");
}

/// A bounded manager of capacity 1 whose gated handler holds event 0 while event 1 fills the
/// mailbox.
async fn full_bounded(log: &Log) -> (EventManager<u32>, Arc<Semaphore>) {
    let gate = Arc::new(Semaphore::new(0));
    let manager = EventManager::<u32>::builder().bounded(1).start().unwrap();
    let gated = SlowArgs {
        gate: Some(gate.clone()),
        ..args("g", log)
    };
    manager.add_handler_with(slow("g"), gated).await.unwrap();
    manager.notify(0).await.unwrap();
    within(manager.notify(1)).await.unwrap(); // waits until event 0 is taken out
    assert!(matches!(manager.try_notify(2), Err(NotifyError::Full(2))));
    (manager, gate)
}

#[tokio::test(flavor = "current_thread")]
async fn sends_dropped_while_waiting_for_room_take_no_room_and_send_nothing() {
    let log = Log::default();
    let (manager, gate) = full_bounded(&log).await;
    for polls in 0..5 {
        let n = 10 + polls as u32;
        assert!(cancel_after(manager.sync_notify(n), polls).await.is_none());
        assert!(cancel_after(manager.notify(n + 100), polls).await.is_none());
        // Still exactly full: no room was taken by the dropped senders, none given.
        assert!(matches!(manager.try_notify(3), Err(NotifyError::Full(3))));
    }
    gate.add_permits(100);
    within(manager.sync_notify(7)).await.unwrap();
    assert_eq!(
        lines(&log),
        ["g init", "g event 0", "g event 1", "g event 7"]
    );
    // The bound is intact: one event queues, the next is refused.
    gate.forget_permits(100);
    within(manager.notify(8)).await.unwrap();
    within(manager.notify(9)).await.unwrap();
    assert!(matches!(manager.try_notify(10), Err(NotifyError::Full(10))));
}

#[tokio::test(flavor = "current_thread")]
async fn a_reserve_dropped_while_waiting_keeps_the_event_and_a_dropped_permit_gives_its_room_back()
{
    let log = Log::default();
    let (manager, gate) = full_bounded(&log).await;
    let event = 20;
    for polls in 0..5 {
        // Dropped while it waits for room: no room taken, and the event was never handed over.
        assert!(cancel_after(manager.reserve(), polls).await.is_none());
        assert!(matches!(manager.try_notify(3), Err(NotifyError::Full(3))));
    }
    gate.add_permits(100);
    // Room is made as the gated handler takes event 1; the event kept is sent through the
    // permit.
    within(manager.reserve())
        .await
        .unwrap()
        .notify(event)
        .unwrap();
    // A permit dropped unused gives its room back: the next event gets it.
    drop(within(manager.reserve()).await.unwrap());
    within(manager.sync_notify(21)).await.unwrap();
    assert_eq!(
        lines(&log),
        [
            "g init",
            "g event 0",
            "g event 1",
            "g event 20",
            "g event 21"
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_add_handler_dropped_at_any_await_point_installs_the_handler_once_sent() {
    let log = Log::default();
    let manager = EventManager::<u32>::start().unwrap();
    for polls in 0..MAX_POLLS {
        let key = HandlerRef::<Slow>::with_key(polls as u64);
        let adding = manager.add_handler_with(key.clone(), args("k", &log));
        let done = cancel_after(adding, polls).await.is_some();
        let installed = names(&manager).await;
        assert_eq!(
            installed.len(),
            polls,
            "one per round that sent its add: {installed:?}"
        );
        assert_eq!(installed.contains(&key.id().to_string()), polls > 0);
        assert_eq!(count(&log, "k init"), polls);
        if polls > 0 {
            let again = within(manager.add_handler_with(key, args("k", &log))).await;
            assert!(matches!(again, Err(AddError::AlreadyInstalled(_))));
        }
        if done {
            assert!(polls > 1, "the add completed without waiting");
            return;
        }
    }
    panic!("the add never completed");
}

#[tokio::test(flavor = "current_thread")]
async fn an_add_sup_handler_dropped_at_any_await_point_leaves_no_handler_behind() {
    let log = Log::default();
    let manager = EventManager::<u32>::start().unwrap();
    for polls in 0..MAX_POLLS {
        let key = HandlerRef::<Slow>::with_key(polls as u64);
        let adding = manager.add_sup_handler_with(key, args("k", &log));
        // Completed or not, the link is dropped: its supervisor is gone.
        let done = cancel_after(adding, polls).await.is_some();
        // The dropped link is reported behind the install; a second round trip sees it.
        names(&manager).await;
        assert_eq!(names(&manager).await, Vec::<String>::new());
        assert_eq!(count(&log, "k init"), polls);
        assert_eq!(
            count(&log, "k terminate: its supervisor is gone"),
            polls,
            "{:?}",
            lines(&log)
        );
        if done {
            assert!(polls > 1, "the add completed without waiting");
            return;
        }
    }
    panic!("the add never completed");
}

#[tokio::test(flavor = "current_thread")]
async fn a_delete_or_swap_dropped_at_any_await_point_is_applied_once_sent() {
    let log = Log::default();
    let manager = EventManager::<u32>::start().unwrap();
    let (mut deleted, mut swapped) = (None, None);
    for polls in 0..MAX_POLLS {
        let (old, new) = (slow("old"), slow("new"));
        manager
            .add_handler_with(old.clone(), args("old", &log))
            .await
            .unwrap();
        let done = cancel_after(manager.delete_handler(&old, ()), polls)
            .await
            .is_some();
        assert_eq!(names(&manager).await.is_empty(), polls > 0);
        if polls == 0 {
            manager.delete_handler(&old, ()).await.unwrap();
        }
        if done && deleted.is_none() {
            deleted = Some(polls);
        }

        manager
            .add_handler_with(old.clone(), args("old", &log))
            .await
            .unwrap();
        let new_args = args("new", &log);
        let swapping = manager.swap_handler(&old, (), new.clone(), move |_| new_args);
        let done = cancel_after(swapping, polls).await.is_some();
        let expected: Vec<String> = match polls {
            0 => vec![old.id().to_string()],
            _ => vec![new.id().to_string()],
        };
        assert_eq!(names(&manager).await, expected);
        match polls {
            0 => manager.delete_handler(&old, ()).await.map(drop).unwrap(),
            _ => manager.delete_handler(&new, ()).await.map(drop).unwrap(),
        }
        assert!(names(&manager).await.is_empty());
        if done && swapped.is_none() {
            swapped = Some(polls);
        }
        if deleted.is_some() && swapped.is_some() {
            return;
        }
    }
    panic!("the delete or the swap never completed");
}

#[tokio::test(flavor = "current_thread")]
async fn a_stop_dropped_after_it_was_sent_still_stops_the_manager_after_its_events() {
    for polls in 0..MAX_POLLS {
        let log = Log::default();
        let manager = EventManager::<u32>::start().unwrap();
        manager
            .add_handler_with(slow("a"), args("a", &log))
            .await
            .unwrap();
        manager.notify(1).await.unwrap();
        let done = cancel_after(manager.stop(), polls).await.is_some();
        if polls == 0 {
            assert!(!manager.is_stopped());
            within(manager.sync_notify(2)).await.unwrap();
            continue;
        }
        within(manager.stopped()).await;
        assert_eq!(
            lines(&log),
            [
                "a init",
                "a event 1",
                "a terminate: the manager is stopping"
            ]
        );
        assert!(matches!(
            manager.notify(3).await,
            Err(NotifyError::ManagerGone(3))
        ));
        if done {
            assert!(polls > 1, "the stop completed without waiting");
            return;
        }
    }
    panic!("the stop never completed");
}
