//! `async` callbacks: init (without the context), events, info, calls and terminate, with
//! `&self` or `&mut self`, fallible or not.

use event_core::{handler, BoxError, Context, Handler, Info, Terminate};

struct Slow {
    seen: u64,
}

struct Seen;
struct Peek;

#[handler(event = String)]
impl Slow {
    async fn init(seen: u64) -> Result<Self, BoxError> {
        tokio::task::yield_now().await;
        Ok(Slow { seen })
    }

    async fn handle_event(&mut self, _: &String, cx: &mut Context<String, Self>) {
        tokio::task::yield_now().await;
        self.seen += 1;
        cx.keep();
    }

    async fn handle_info(
        &mut self,
        _: Info<()>,
        _: &mut Context<String, Self>,
    ) -> Result<(), BoxError> {
        tokio::task::yield_now().await;
        Ok(())
    }

    #[call]
    async fn seen(&mut self, _: Seen, _: &mut Context<String, Self>) -> u64 {
        tokio::task::yield_now().await;
        self.seen
    }

    #[call]
    async fn peek(&self, _: Peek) -> Result<u64, String> {
        tokio::task::yield_now().await;
        Ok(self.seen)
    }

    async fn terminate(self, _: Terminate) -> u64 {
        tokio::task::yield_now().await;
        self.seen
    }
}

/// Borrows itself immutably; no args, no reason.
struct Quiet;

#[handler(event = String)]
impl Quiet {
    async fn init() -> Self {
        tokio::task::yield_now().await;
        Quiet
    }

    async fn handle_event(&self, line: &String) -> Result<(), BoxError> {
        tokio::task::yield_now().await;
        if line.is_empty() {
            return Err("an empty line".into());
        }
        Ok(())
    }

    async fn handle_info(&self, _: Info<u8>) {
        tokio::task::yield_now().await;
    }

    async fn terminate(self) {
        tokio::task::yield_now().await;
    }
}

fn is_handler<H, A, I, O>()
where
    H: Handler<String, Args = A, Info = I, Handover = O>,
{
}

pub fn main() {
    is_handler::<Slow, u64, (), u64>();
    is_handler::<Quiet, (), u8, ()>();
}
