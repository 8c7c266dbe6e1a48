//! A dedicated handler swapping itself from a callback: the swap takes effect when the manager
//! gets to it, and until then the handler keeps handling what is queued for it, so that no
//! event is lost on the way from the old handler to the new one, and a swap the manager
//! refuses leaves a handler that still works.

use std::time::Duration;

use event_core::{Call, Context, EventManager, Handler, HandlerRef, Install, Step, Terminate};

async fn within<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out after 10 s: the manager hangs")
}

#[derive(Debug)]
enum Ev {
    Note(u32),
    /// The handler with this key swaps itself for the handler with the other key.
    Swap {
        from: &'static str,
        to: &'static str,
    },
}

/// Keeps the notes it sees, and those of the handler it replaced.
struct Notes {
    key: &'static str,
    notes: Vec<u32>,
}

impl Handler<Ev> for Notes {
    type Args = (&'static str, Vec<u32>);
    type Info = ();
    type Handover = Vec<u32>;

    fn init((key, notes): Self::Args, _: &mut Context<Ev, Self>) -> Step<'static, Self> {
        Step::ok(Notes { key, notes })
    }

    fn handle_event(&mut self, ev: &Ev, cx: &mut Context<Ev, Self>) -> Step<'_> {
        match *ev {
            Ev::Note(n) => self.notes.push(n),
            Ev::Swap { from, to } if from == self.key => {
                cx.swap_self(notes(to), (), move |handed| {
                    (to, handed.unwrap_or_default())
                });
            }
            Ev::Swap { .. } => {}
        }
        Step::ok(())
    }

    fn terminate(self, _: Terminate) -> Step<'static, Vec<u32>> {
        Step::ok(self.notes)
    }
}

struct Seen;

impl Call<Ev, Seen> for Notes {
    type Reply = Vec<u32>;

    fn handle_call(&mut self, _: Seen, _: &mut Context<Ev, Self>) -> Step<'_, Vec<u32>> {
        Step::ok(self.notes.clone())
    }
}

fn notes(key: &'static str) -> HandlerRef<Notes> {
    HandlerRef::with_key(key)
}

#[tokio::test(flavor = "current_thread")]
async fn a_dedicated_handler_whose_swap_is_refused_keeps_handling_events_and_calls() {
    let manager = EventManager::<Ev>::start().unwrap();
    manager
        .add_handler_with(notes("b"), ("b", Vec::new()))
        .await
        .unwrap();
    let a = manager
        .add_handler_with(Install::from(notes("a")).dedicated(4), ("a", Vec::new()))
        .await
        .unwrap();
    // "b" is installed: the swap is refused, and "a" stays.
    within(manager.sync_notify(Ev::Swap { from: "a", to: "b" }))
        .await
        .unwrap();
    within(manager.sync_notify(Ev::Note(1))).await.unwrap();
    assert_eq!(manager.which_handlers().await.unwrap().len(), 2);
    assert_eq!(within(manager.call(&a, Seen)).await.unwrap(), [1]);
}

#[tokio::test(flavor = "current_thread")]
async fn events_queued_behind_a_dedicated_handlers_swap_reach_the_old_or_the_new_handler() {
    let manager = EventManager::<Ev>::start().unwrap();
    manager
        .add_handler_with(Install::from(notes("a")).dedicated(8), ("a", Vec::new()))
        .await
        .unwrap();
    manager.notify(Ev::Note(1)).await.unwrap();
    manager
        .notify(Ev::Swap { from: "a", to: "c" })
        .await
        .unwrap();
    // Sent before the manager has heard of the swap: queued to "a" behind the swap event.
    for n in 2..=4 {
        manager.notify(Ev::Note(n)).await.unwrap();
    }
    within(manager.sync_notify(Ev::Note(5))).await.unwrap();
    let c = notes("c");
    assert_eq!(
        manager.which_handlers().await.unwrap(),
        [c.id().clone()],
        "swapped"
    );
    // What "a" handled after the swap event came to "c" in the hand-over.
    assert_eq!(
        within(manager.call(&c, Seen)).await.unwrap(),
        [1, 2, 3, 4, 5]
    );
}
