//! `async` callbacks: init (without the context), events, info, calls and terminate.

use event_core::{handler, BoxError, Context, Info, Terminate};

struct Slow {
    seen: u64,
}

struct Seen;

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

    async fn handle_info(&mut self, _: Info<()>, _: &mut Context<String, Self>) -> Result<(), BoxError> {
        Ok(())
    }

    #[call]
    async fn seen(&mut self, _: Seen, _: &mut Context<String, Self>) -> u64 {
        self.seen
    }

    async fn terminate(self, _: Terminate) -> u64 {
        self.seen
    }
}

fn main() {}
