//! `supervisor!` trees at run time: what they start, in which order, what their accessors
//! reach, and that the handles survive restarts.

use event_core::{handler, supervisor, ChildRef};

#[derive(Debug)]
enum Job {
    Started,
    Poison,
}

/// Counts the jobs it sees; panics on poison.
#[derive(Default)]
struct JobCounter {
    seen: u32,
    label: String,
}

struct Seen;
struct Label;

#[handler(event = Job)]
impl JobCounter {
    fn init(label: String) -> Self {
        JobCounter { seen: 0, label }
    }

    fn handle_event(&mut self, job: &Job) {
        match job {
            Job::Started => self.seen += 1,
            Job::Poison => panic!("poisoned job"),
        }
    }

    #[call]
    fn seen(&mut self, _: Seen) -> u32 {
        self.seen
    }

    #[call]
    fn label(&mut self, _: Label) -> String {
        self.label.clone()
    }
}

supervisor! {
    /// One guard per handler, started on demand.
    struct JobGuards(jobs: Job) {
        strategy: simple_one_for_one,
        template: guard JobCounter { manager: jobs },
    }
}

supervisor! {
    /// The lager-style tree: the manager, a standing guard, the guard supervisor.
    struct Lager {
        strategy: one_for_one,
        intensity: 10,
        period: 60s,
        children: [
            manager jobs: Job,
            guard counter: JobCounter { manager: jobs, args: "standing".to_owned() },
            supervisor guards: JobGuards(jobs),
        ],
    }
}

#[tokio::test]
async fn the_lager_tree_starts_in_order_and_reaches_its_children() {
    let tree = Lager::start().await.unwrap();
    let children = tree.supervisor().which_children().await.unwrap();
    let ids: Vec<_> = children.iter().map(|c| c.id.clone()).collect();
    assert_eq!(
        ids,
        [
            ChildRef::from("guards"),
            ChildRef::from("counter"),
            ChildRef::from("jobs")
        ],
        "which_children lists the last started first, as OTP"
    );

    let dynamic = tree
        .guards()
        .start_child_keyed(1u32, "dynamic".to_owned())
        .await
        .unwrap();
    tree.jobs().sync_notify(Job::Started).await.unwrap();
    assert_eq!(tree.jobs().call(tree.counter(), Seen).await.unwrap(), 1);
    assert_eq!(tree.jobs().call(&dynamic, Seen).await.unwrap(), 1);
    assert_eq!(tree.jobs().call(&dynamic, Label).await.unwrap(), "dynamic");
    assert_eq!(
        tree.jobs().call(tree.counter(), Label).await.unwrap(),
        "standing"
    );
    tree.stop().await.unwrap();
    assert!(tree.jobs().is_stopped());
}

#[tokio::test]
async fn a_template_starts_several_handlers_of_one_type_by_key_and_refuses_a_duplicate() {
    let tree = Lager::start().await.unwrap();
    let a = tree
        .guards()
        .start_child_keyed("a", "a".into())
        .await
        .unwrap();
    let b = tree
        .guards()
        .start_child_keyed("b", "b".into())
        .await
        .unwrap();
    assert_eq!(tree.jobs().call(&a, Label).await.unwrap(), "a");
    assert_eq!(tree.jobs().call(&b, Label).await.unwrap(), "b");
    // `counter` is the one `JobCounter` without a key: a second is refused, clearly.
    let err = tree.guards().start_child("again".into()).await.unwrap_err();
    assert!(
        err.to_string().contains("already installed"),
        "a clear error: {err}"
    );
    tree.stop().await.unwrap();
}

/// Tells each `init` of a handler, so that a test awaits a re-install instead of polling.
#[derive(Clone)]
struct Inits(tokio::sync::mpsc::UnboundedSender<u32>);

/// Counts events; panics on poison; tells its inits.
struct Watched {
    seen: u32,
}

#[handler(event = Job)]
impl Watched {
    fn init(inits: Inits) -> Self {
        let _ = inits.0.send(0);
        Watched { seen: 0 }
    }

    fn handle_event(&mut self, job: &Job) {
        match job {
            Job::Started => self.seen += 1,
            Job::Poison => panic!("poisoned job"),
        }
    }

    #[call]
    fn seen(&mut self, _: Seen) -> u32 {
        self.seen
    }
}

supervisor! {
    struct Watching(jobs: Job) {
        strategy: simple_one_for_one,
        template: guard Watched { manager: jobs },
    }
}

supervisor! {
    struct WatchingInPlace(jobs: Job) {
        strategy: simple_one_for_one,
        template: guard Watched { manager: jobs, in_place: { intensity: 5, period: 10 } },
    }
}

supervisor! {
    struct Watchers {
        children: [
            manager jobs: Job,
            supervisor guards: Watching(jobs),
            supervisor in_place: WatchingInPlace(jobs),
        ],
    }
}

#[tokio::test]
async fn a_guard_reinstalls_its_handler_after_a_crash_under_the_same_reference() {
    let tree = Watchers::start().await.unwrap();
    let (tx, mut inits) = tokio::sync::mpsc::unbounded_channel();
    let watched = tree.guards().start_child(Inits(tx)).await.unwrap();
    assert_eq!(inits.recv().await, Some(0), "installed");

    tree.jobs().notify(Job::Started).await.unwrap();
    tree.jobs().sync_notify(Job::Poison).await.unwrap();
    assert_eq!(inits.recv().await, Some(0), "re-installed by its guard");
    assert_eq!(
        tree.jobs().call(&watched, Seen).await.unwrap(),
        0,
        "a fresh handler answers through the same reference"
    );
    tree.stop().await.unwrap();
}

#[tokio::test]
async fn an_in_place_guard_answers_the_request_queued_behind_the_crash() {
    let tree = Watchers::start().await.unwrap();
    let (tx, mut inits) = tokio::sync::mpsc::unbounded_channel();
    let watched = tree.in_place().start_child(Inits(tx)).await.unwrap();
    assert_eq!(inits.recv().await, Some(0));

    tree.jobs().notify(Job::Started).await.unwrap();
    tree.jobs().notify(Job::Poison).await.unwrap();
    // No wait: the manager re-initialised the handler before taking this request.
    assert_eq!(tree.jobs().call(&watched, Seen).await.unwrap(), 0);
    assert_eq!(inits.recv().await, Some(0), "restarted in place");
    tree.stop().await.unwrap();
}
