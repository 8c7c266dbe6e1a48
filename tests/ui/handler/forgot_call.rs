use event_core::{handler, EventManager};

struct Counter(u32);

struct Get;

#[handler(event = u32)]
impl Counter {
    fn init() -> Self {
        Counter(0)
    }

    fn handle_event(&mut self, n: &u32) {
        self.0 += n;
    }

    // `#[call]` forgotten: the request below finds no handler for `Get`.
    fn get(&mut self, _: Get) -> u32 {
        self.0
    }
}

async fn use_it(manager: EventManager<u32>) {
    let counter = manager.add_handler::<Counter>(()).await.unwrap();
    let _total = manager.call(&counter, Get).await;
}

fn main() {
    let _ = use_it;
}
