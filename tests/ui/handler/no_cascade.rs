//! One mistake, one error: the handlers below have a mistake each and are used in `main` as
//! if they had none. The uses compile against the impls the macro stands in for the real ones.

use std::fmt;

use event_core::{handler, EventManager, HandlerRef};

struct Get;
struct Reset;

struct UnknownKey(u32);

#[handler(event = u32, name = "unknown")]
impl UnknownKey {
    fn init(start: u32) -> Self {
        UnknownKey(start)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call]
    fn get(&self, _: Get) -> u32 {
        self.0
    }

    fn terminate(self) -> u32 {
        self.0
    }
}

struct NoEvent(u32);

#[handler]
impl NoEvent {
    fn init(start: u32) -> Self {
        NoEvent(start)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call]
    fn get(&self, _: Get) -> u32 {
        self.0
    }
}

struct CallByValue(u32);

#[handler(event = u32)]
impl CallByValue {
    fn init(start: Option<u32>) -> Self {
        CallByValue(start.unwrap_or_default())
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call]
    fn get(self, _: Get) -> u32 {
        self.0
    }
}

struct InitTooMany(u32);

#[handler(event = u32)]
impl InitTooMany {
    fn init(start: u32, step: u32) -> Self {
        InitTooMany(start + step)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }
}

struct BorrowedArgs(String);

#[handler(event = u32)]
impl BorrowedArgs {
    fn init(name: &str) -> Self {
        BorrowedArgs(name.to_owned())
    }

    fn handle_event(&mut self, _: &u32) {}
}

struct TerminateBorrows(u32);

#[handler(event = u32)]
impl TerminateBorrows {
    fn init() -> Self {
        TerminateBorrows(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    fn terminate(&mut self) -> u32 {
        self.0
    }
}

struct NoReply(u32);

#[handler(event = u32)]
impl NoReply {
    fn init() -> Self {
        NoReply(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    #[call]
    fn reset(&mut self, _: Reset) {
        self.0 = 0;
    }
}

struct AsyncStatus;

#[handler(event = u32)]
impl AsyncStatus {
    fn init() -> Self {
        AsyncStatus
    }

    fn handle_event(&mut self, _: &u32) {}

    async fn format_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("status")
    }
}

struct NoHandleEvent(u32);

#[handler(event = u32)]
impl NoHandleEvent {
    fn init() -> Self {
        NoHandleEvent(0)
    }

    #[call]
    fn get(&mut self, _: Get) -> u32 {
        self.0
    }
}

struct Unbounded<T>(Option<T>);

#[handler(event = u32)]
impl<T> Unbounded<T> {
    fn init() -> Self {
        Unbounded(None)
    }

    fn handle_event(&mut self, _: &u32) {}

    #[call]
    fn get(&mut self, _: Get) -> bool {
        self.0.is_some()
    }
}

async fn uses() -> Result<(), Box<dyn std::error::Error>> {
    let manager = EventManager::<u32>::start()?;

    let unknown = manager.add_handler::<UnknownKey>(1).await?;
    let n: u32 = manager.call(&unknown, Get).await?;
    let by_value = manager
        .swap_handler(&unknown, (), HandlerRef::<CallByValue>::new(), |left| left)
        .await?;
    let _: u32 = manager.call(&by_value, Get).await? + n;

    let no_event = manager.add_handler::<NoEvent>(1).await?;
    let _: u32 = manager.call(&no_event, Get).await?;

    manager.add_handler::<InitTooMany>(1).await?;
    manager.add_handler::<BorrowedArgs>("name").await?;

    let borrows = manager.add_handler::<TerminateBorrows>(()).await?;
    let _: u32 = manager.delete_handler(&borrows, ()).await?;

    let no_reply = manager.add_handler::<NoReply>(()).await?;
    let () = manager.call(&no_reply, Reset).await?;

    manager.add_handler::<AsyncStatus>(()).await?;

    let no_handle_event = manager.add_handler::<NoHandleEvent>(()).await?;
    let _: u32 = manager.call(&no_handle_event, Get).await?;

    let unbounded = manager.add_handler::<Unbounded<String>>(()).await?;
    let _: bool = manager.call(&unbounded, Get).await?;
    Ok(())
}

fn main() {
    drop(uses());
}
