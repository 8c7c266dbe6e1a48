//! `supervisor!` trees at run time: what they start, in which order, what their accessors
//! reach, and that the handles survive restarts.

use event_core::{handler, supervisor, BoxError, BoxFuture, ChildRef, StopToken, SupervisorError};

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
    let dynamic = dynamic.handler();
    tree.jobs().sync_notify(Job::Started).await.unwrap();
    assert_eq!(tree.jobs().call(tree.counter(), Seen).await.unwrap(), 1);
    assert_eq!(tree.jobs().call(dynamic, Seen).await.unwrap(), 1);
    assert_eq!(tree.jobs().call(dynamic, Label).await.unwrap(), "dynamic");
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
    assert_eq!(tree.jobs().call(a.handler(), Label).await.unwrap(), "a");
    assert_eq!(tree.jobs().call(b.handler(), Label).await.unwrap(), "b");
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
        tree.jobs().call(watched.handler(), Seen).await.unwrap(),
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
    assert_eq!(tree.jobs().call(watched.handler(), Seen).await.unwrap(), 0);
    assert_eq!(inits.recv().await, Some(0), "restarted in place");
    tree.stop().await.unwrap();
}

/// What the task children below wait for, and tell: one per test.
struct Trigger {
    fire: tokio::sync::Notify,
    started: tokio::sync::Semaphore,
}

impl Trigger {
    const fn new() -> Self {
        Trigger {
            fire: tokio::sync::Notify::const_new(),
            started: tokio::sync::Semaphore::const_new(0),
        }
    }

    /// Waits for the next start of the task.
    async fn started(&self) {
        self.started.acquire().await.unwrap().forget();
    }

    /// A task child that tells each start, then fails when triggered (`fail`) or ends
    /// normally; it runs until stopped otherwise.
    fn task(
        &'static self,
        fail: bool,
    ) -> impl Fn(StopToken) -> BoxFuture<'static, Result<(), BoxError>> + Send + Sync {
        move |stop| {
            Box::pin(async move {
                self.started.add_permits(1);
                tokio::select! {
                    () = self.fire.notified() => {
                        if fail {
                            Err("triggered".into())
                        } else {
                            Ok(())
                        }
                    }
                    () = stop.stopped() => Ok(()),
                }
            })
        }
    }
}

/// `fut`, or a failure if it takes far longer than it should (instead of hanging the suite).
async fn within<F: std::future::Future>(fut: F) -> F::Output {
    tokio::time::timeout(std::time::Duration::from_secs(30), fut)
        .await
        .expect("did not happen within 30 s")
}

static ONE_FOR_ONE: Trigger = Trigger::new();
static ONE_FOR_ALL: Trigger = Trigger::new();

supervisor! {
    struct Independent {
        strategy: one_for_one,
        children: [
            manager jobs: Job,
            task bomb { run: ONE_FOR_ONE.task(true) },
        ],
    }
}

supervisor! {
    struct Together {
        strategy: one_for_all,
        children: [
            manager jobs: Job,
            task bomb { run: ONE_FOR_ALL.task(true) },
        ],
    }
}

#[tokio::test]
async fn the_declared_strategy_decides_what_restarts_with_a_failed_child() {
    let (tx, mut inits) = tokio::sync::mpsc::unbounded_channel();

    // one_for_one: the manager keeps its incarnation, and the handler added by hand.
    let tree = Independent::start().await.unwrap();
    ONE_FOR_ONE.started().await;
    tree.jobs()
        .add_handler::<Watched>(Inits(tx.clone()))
        .await
        .unwrap();
    assert_eq!(inits.recv().await, Some(0));
    ONE_FOR_ONE.fire.notify_one();
    ONE_FOR_ONE.started().await;
    assert_eq!(tree.jobs().which_handlers().await.unwrap().len(), 1);
    tree.stop().await.unwrap();

    // one_for_all: the manager restarts first, so the handler added by hand is gone, and the
    // same handle reaches the new incarnation.
    let tree = Together::start().await.unwrap();
    ONE_FOR_ALL.started().await;
    tree.jobs().add_handler::<Watched>(Inits(tx)).await.unwrap();
    assert_eq!(inits.recv().await, Some(0));
    ONE_FOR_ALL.fire.notify_one();
    ONE_FOR_ALL.started().await;
    assert!(tree.jobs().which_handlers().await.unwrap().is_empty());
    tree.jobs().sync_notify(Job::Started).await.unwrap();
    tree.stop().await.unwrap();
}

static STORM: Trigger = Trigger::new();

supervisor! {
    struct Fragile {
        strategy: one_for_one,
        intensity: 1,
        period: 60,
        children: [
            manager jobs: Job,
            task bomb { run: STORM.task(true) },
        ],
    }
}

supervisor! {
    struct Top {
        intensity: 0,
        children: [
            supervisor fragile: Fragile,
        ],
    }
}

#[tokio::test]
async fn a_crash_storm_past_the_declared_intensity_escalates_to_the_top() {
    let top = Top::start().await.unwrap();
    let jobs = top.fragile().jobs().clone();
    STORM.started().await;
    // One restart within the period is allowed ...
    STORM.fire.notify_one();
    STORM.started().await;
    assert!(!top.supervisor().is_stopped());
    // ... the second is one too many: `Fragile` gives up, and `Top`, allowed none, too.
    STORM.fire.notify_one();
    within(top.supervisor().stopped()).await;
    assert!(jobs.is_stopped(), "the manager was stopped with its tree");
}

static DONE: Trigger = Trigger::new();

supervisor! {
    struct Job1 {
        auto_shutdown: any_significant,
        children: [
            manager jobs: Job,
            task work { run: DONE.task(false), restart: transient, significant: true },
        ],
    }
}

#[tokio::test]
async fn a_significant_child_ending_shuts_the_tree_down() {
    let tree = Job1::start().await.unwrap();
    DONE.started().await;
    DONE.fire.notify_one();
    within(tree.supervisor().stopped()).await;
    assert!(tree.jobs().is_stopped());
}

/// A handler whose `init` refuses its args.
struct Picky;

#[handler(event = Job)]
impl Picky {
    fn init(ok: bool) -> Result<Self, &'static str> {
        if ok {
            Ok(Picky)
        } else {
            Err("not today")
        }
    }
    fn handle_event(&mut self, _: &Job) {}
}

supervisor! {
    struct Refused {
        children: [
            manager jobs: Job,
            guard picky: Picky { manager: jobs, args: false },
        ],
    }
}

#[tokio::test]
async fn a_child_that_fails_to_start_fails_the_start_and_says_which() {
    match Refused::start().await {
        Err(SupervisorError::FailedToStartChild { id, reason }) => {
            assert_eq!(id, ChildRef::from("picky"));
            assert!(reason.to_string().contains("not today"), "{reason}");
        }
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("started"),
    }
}

supervisor! {
    /// A manager with standing handlers: every incarnation installs them, in order.
    struct Standing(inits: &Inits) {
        children: [
            manager jobs: Job {
                handlers: [
                    JobCounter { args: "first".to_owned() },
                    JobCounter { key: 2u32, args: "second".to_owned(), dedicated: 8 },
                    Watched { args: inits.clone(), in_place: true },
                ],
            },
        ],
    }
}

#[tokio::test]
async fn standing_handlers_are_installed_by_every_incarnation_in_order() {
    let (tx, mut inits) = tokio::sync::mpsc::unbounded_channel();
    let tree = Standing::start(&Inits(tx)).await.unwrap();
    assert_eq!(inits.recv().await, Some(0), "the first incarnation");
    let first = event_core::HandlerRef::<JobCounter>::new();
    let second = event_core::HandlerRef::<JobCounter>::with_key(2u32);
    let watched = event_core::HandlerRef::<Watched>::new();
    let order = [
        watched.id().clone(),
        second.id().clone(),
        first.id().clone(),
    ];
    assert_eq!(
        tree.jobs().which_handlers().await.unwrap(),
        order,
        "newest first: installed in the declared order"
    );
    tree.jobs().sync_notify(Job::Started).await.unwrap();
    assert_eq!(tree.jobs().call(&first, Seen).await.unwrap(), 1);

    // A permanent manager's stop is a restart: the next incarnation starts with them again,
    // fresh, before the event sent meanwhile.
    tree.jobs().stop().await.unwrap();
    tree.jobs().notify(Job::Started).await.unwrap();
    assert_eq!(inits.recv().await, Some(0), "the next incarnation");
    assert_eq!(tree.jobs().which_handlers().await.unwrap(), order);
    assert_eq!(tree.jobs().call(&first, Seen).await.unwrap(), 1);
    assert_eq!(tree.jobs().call(&second, Label).await.unwrap(), "second");
    assert_eq!(tree.jobs().call(&watched, Seen).await.unwrap(), 1);
    tree.stop().await.unwrap();
}

supervisor! {
    /// Given a manager and two values, used by a guard's `args`, a task's `run`, and a nested
    /// tree.
    struct Given(jobs: Job, label: &str, inits: &Inits) {
        children: [
            guard counter: JobCounter { manager: jobs, args: label.to_owned() },
            task tell {
                clone: [inits, jobs],
                run: |stop: StopToken| async move {
                    let _ = inits.0.send(1);
                    jobs.notify(Job::Started).await?;
                    stop.stopped().await;
                    Ok(())
                },
            },
            supervisor inner: GivenInner(jobs, inits),
        ],
    }
}

supervisor! {
    struct GivenInner(jobs: Job, inits: &Inits) {
        children: [
            guard watched: Watched { manager: jobs, args: inits.clone() },
        ],
    }
}

#[tokio::test]
async fn a_tree_is_given_values_for_its_args_and_its_tasks() {
    let jobs = event_core::EventManager::<Job>::start().unwrap();
    let (tx, mut inits) = tokio::sync::mpsc::unbounded_channel();
    let tree = Given::start(&jobs, "given", &Inits(tx)).await.unwrap();
    let mut told = vec![inits.recv().await.unwrap(), inits.recv().await.unwrap()];
    told.sort_unstable();
    assert_eq!(told, [0, 1], "the nested guard's init and the task");
    assert_eq!(jobs.call(tree.counter(), Label).await.unwrap(), "given");
    jobs.sync_notify(Job::Started).await.unwrap();
    assert!(jobs.call(tree.counter(), Seen).await.unwrap() >= 1);

    // The task again, after it is restarted: it clones its values afresh at each start.
    tree.supervisor()
        .terminate_child(tree.tell())
        .await
        .unwrap();
    tree.supervisor().restart_child(tree.tell()).await.unwrap();
    assert_eq!(inits.recv().await, Some(1));
    tree.stop().await.unwrap();
}

/// The error of a task below: not a `BoxError`, converted into one by `?`.
#[derive(Debug)]
struct Overheated;

impl std::fmt::Display for Overheated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("overheated")
    }
}

impl std::error::Error for Overheated {}

static OWN_ERROR: Trigger = Trigger::new();

supervisor! {
    struct OwnError {
        intensity: 0,
        children: [
            task hot {
                run: |stop: StopToken| async move {
                    OWN_ERROR.started.add_permits(1);
                    tokio::select! {
                        () = OWN_ERROR.fire.notified() => Err(Overheated)?,
                        () = stop.stopped() => {}
                    }
                    Ok(())
                },
            },
        ],
    }
}

#[tokio::test]
async fn a_task_fails_with_its_own_error_through_question_mark() {
    let tree = OwnError::start().await.unwrap();
    OWN_ERROR.started().await;
    OWN_ERROR.fire.notify_one();
    // Allowed no restart: the task's failure ends the tree.
    within(tree.supervisor().stopped()).await;
}

/// A child type of the tests' own: a task that counts its starts.
struct Counted {
    starts: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl event_core::IntoChild for Counted {
    type Handle = std::sync::Arc<std::sync::atomic::AtomicU32>;

    fn into_child(
        self,
        id: std::sync::Arc<str>,
    ) -> Result<(Self::Handle, event_core::ChildSpec), SupervisorError> {
        let starts = self.starts.clone();
        let spec = event_core::ChildSpec::task(id, move |stop: StopToken| {
            starts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                stop.stopped().await;
                Ok(())
            }
        });
        Ok((self.starts, spec))
    }
}

supervisor! {
    struct OwnChildren {
        children: [
            manager jobs: Job,
            child counted: Counted { from: Counted { starts: Default::default() } },
            // A later child uses an earlier one's handle.
            task bump {
                clone: [counted],
                run: |stop: StopToken| {
                    // At the start itself, before the tree's start returns.
                    counted.fetch_add(100, std::sync::atomic::Ordering::SeqCst);
                    async move {
                        stop.stopped().await;
                        Ok::<(), BoxError>(())
                    }
                },
            },
            child spec: event_core::ChildSpec {
                from: event_core::ChildSpec::task("renamed", |stop: StopToken| async move {
                    stop.stopped().await;
                    Ok(())
                }),
                restart: transient,
            },
        ],
    }
}

#[tokio::test]
async fn a_child_of_any_type_that_knows_how_to_start_is_declared_and_reached() {
    let tree = OwnChildren::start().await.unwrap();
    let starts: &std::sync::Arc<std::sync::atomic::AtomicU32> = tree.counted();
    assert_eq!(
        starts.load(std::sync::atomic::Ordering::SeqCst),
        101,
        "started once, and bumped by the task given its handle"
    );
    assert_eq!(tree.spec(), &ChildRef::from("spec"), "named by the tree");
    tree.supervisor()
        .terminate_child(&ChildRef::from("counted"))
        .await
        .unwrap();
    tree.supervisor()
        .restart_child(&ChildRef::from("counted"))
        .await
        .unwrap();
    assert_eq!(starts.load(std::sync::atomic::Ordering::SeqCst), 102);
    let info = tree.supervisor().which_children().await.unwrap();
    let spec = info
        .iter()
        .find(|c| c.id == ChildRef::from("spec"))
        .unwrap();
    assert_eq!(spec.restart, event_core::Restart::Transient);
    tree.stop().await.unwrap();
}
