use event_core::{handler, supervisor};

#[derive(Debug)]
pub enum Log {
    Line(String),
}

#[derive(Debug)]
pub enum Alarm {
    Set(u32),
}

pub struct Console;

#[handler(event = Log)]
impl Console {
    fn init() -> Self {
        Console
    }
    fn handle_event(&mut self, _: &Log) {}
}

pub struct File {
    pub path: String,
}

#[handler(event = Log)]
impl File {
    fn init(path: String) -> Self {
        File { path }
    }
    fn handle_event(&mut self, _: &Log) {}
}

supervisor! {
    struct Tree {
        strategy: one_for_won,
        intensity: -3,
        children: [
            manager events: Log { restart: forever },
            guard console: Console { manager: evnts },
            guard file: File { manager: events, args: "x.log".to_owned() },
        ],
    }
}

// One mistake in the tree, and its uses still type-check: no error below.
async fn use_it() -> Result<(), event_core::SupervisorError> {
    let tree = Tree::start().await?;
    tree.events().notify(Log::Line("hi".into())).await.ok();
    let _file: &event_core::HandlerRef<File> = tree.file();
    tree.stop().await
}

fn main() {
    let _ = use_it();
}
