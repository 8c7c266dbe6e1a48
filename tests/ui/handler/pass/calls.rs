//! `#[call]` methods: one per request type, the return type is the reply (a `Result` is
//! replied as is), `&self` or `&mut self`, with or without the context; a `Call` written by
//! hand beside them.

use event_core::{handler, Call, Context, Step};

struct Account {
    balance: i64,
}

struct Balance;
struct Withdraw(i64);
struct Reset;
struct Audit;

#[handler(event = i64)]
impl Account {
    fn init(balance: i64) -> Self {
        Account { balance }
    }

    fn handle_event(&mut self, deposit: &i64) {
        self.balance += deposit;
    }

    #[call]
    fn balance(&self, _: Balance) -> i64 {
        self.balance
    }

    #[call]
    fn withdraw(&mut self, Withdraw(amount): Withdraw) -> Result<i64, String> {
        if amount > self.balance {
            return Err(format!("only {} left", self.balance));
        }
        self.balance -= amount;
        Ok(self.balance)
    }

    #[call]
    fn reset(&mut self, _: Reset, _: &mut Context<i64, Self>) -> () {
        self.balance = 0;
    }
}

/// What the macro does not write: a call that fails with an error, crashing the handler.
impl Call<i64, Audit> for Account {
    type Reply = ();

    fn handle_call(&mut self, _: Audit, _: &mut Context<i64, Self>) -> Step<'_> {
        if self.balance < 0 {
            return Step::err("a negative balance");
        }
        Step::ok(())
    }
}

fn replies<H: Call<i64, R, Reply = T>, R: Send + 'static, T>() {}

pub fn main() {
    replies::<Account, Balance, i64>();
    replies::<Account, Withdraw, Result<i64, String>>();
    replies::<Account, Reset, ()>();
    replies::<Account, Audit, ()>();
    // The methods stay ordinary methods.
    let mut account = Account::init(10);
    assert_eq!(account.withdraw(Withdraw(3)), Ok(7));
    assert_eq!(account.balance(Balance), 7);
}
