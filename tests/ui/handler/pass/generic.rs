//! Generic handlers with the bounds they need, in a `where` clause or inline, over types and
//! constants; the status view shows the fields when the type parameters are `Debug`.

use std::fmt::Debug;

use event_core::{handler, Call, Handler};

#[handler]
struct Buffer<T> {
    items: Vec<T>,
    #[redact]
    secret: u8,
}

struct Take;

#[handler(event = T)]
impl<T> Buffer<T>
where
    T: Clone + Debug + Send + Sync + 'static,
{
    fn init(secret: u8) -> Self {
        Buffer {
            items: Vec::new(),
            secret,
        }
    }

    fn handle_event(&mut self, item: &T) {
        self.items.push(item.clone());
    }

    #[call]
    fn take(&mut self, _: Take) -> Vec<T> {
        std::mem::take(&mut self.items)
    }

    fn terminate(self) -> u8 {
        self.secret
    }
}

/// A ring of `N` events, any `Copy` event type.
#[handler]
struct Ring<E, const N: usize> {
    slots: [Option<E>; N],
    next: usize,
}

/// A request generic over the handler's parameter.
struct Slot<E>(usize, std::marker::PhantomData<E>);

#[handler(event = E)]
impl<E: Copy + Send + Sync + 'static, const N: usize> Ring<E, N> {
    fn init() -> Self {
        Ring {
            slots: [None; N],
            next: 0,
        }
    }

    fn handle_event(&mut self, event: &E) {
        self.slots[self.next % N] = Some(*event);
        self.next += 1;
    }

    #[call]
    fn slot(&self, Slot(i, _): Slot<E>) -> Option<E> {
        self.slots.get(i).copied().flatten()
    }
}

fn is_handler<E: 'static, H: Handler<E, Args = A, Handover = O>, A, O>() {}
fn answers<E: 'static, H: Call<E, R, Reply = T>, R: Send + 'static, T>() {}

pub fn main() {
    is_handler::<String, Buffer<String>, u8, u8>();
    answers::<String, Buffer<String>, Take, Vec<String>>();
    is_handler::<u8, Ring<u8, 4>, (), ()>();
    answers::<u8, Ring<u8, 4>, Slot<u8>, Option<u8>>();
}
