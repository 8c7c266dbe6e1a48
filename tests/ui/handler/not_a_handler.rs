use event_core::EventManager;

struct Plain;

async fn use_it(manager: EventManager<u32>) {
    let _ = manager.add_handler::<Plain>(()).await;
}

fn main() {
    let _ = use_it;
}
