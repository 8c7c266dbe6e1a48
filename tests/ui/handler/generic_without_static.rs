use event_core::handler;

/// `Send` and `Sync`, but not `'static` (reported apart from the other bounds: rustc checks
/// lifetimes once the types are right).
struct Latest<T> {
    latest: Option<T>,
}

struct Get;

#[handler(event = T)]
impl<T: Clone + Send + Sync> Latest<T> {
    fn init() -> Self {
        Latest { latest: None }
    }

    fn handle_event(&mut self, event: &T) {
        self.latest = Some(event.clone());
    }

    #[call]
    fn get(&self, _: Get) -> Option<T> {
        self.latest.clone()
    }
}

fn main() {}
