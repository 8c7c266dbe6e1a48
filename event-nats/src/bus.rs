//! A bus: one JetStream stream that managers publish their events to and read them from.

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::wire;

/// The bus's name is not one a stream and a subject can carry.
#[derive(Debug, thiserror::Error)]
#[error("a bus name is ASCII letters, digits, `-` and `_`, not empty; {0:?} is not")]
pub struct BadBusName(pub String);

/// A bus: a JetStream stream named after it, holding the subjects `<name>.events.>` (see the
/// [wire format](crate#the-wire-format)). Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    name: String,
    duplicate_window: Duration,
}

impl Bus {
    /// The bus `name`, reached through `client`.
    pub fn new(client: async_nats::Client, name: impl Into<String>) -> Result<Self, BadBusName> {
        let name = name.into();
        if !wire::valid_bus(&name) {
            return Err(BadBusName(name));
        }
        Ok(Bus {
            js: jetstream::new(client.clone()),
            client,
            name,
            duplicate_window: Duration::from_secs(120),
        })
    }

    /// How long JetStream remembers a batch's id, to drop it if it is published again (a
    /// retry after a lost acknowledgement). Two minutes by default, JetStream's own default;
    /// used when the stream is made.
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// The bus's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn client(&self) -> async_nats::Client {
        self.client.clone()
    }

    pub(crate) fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Makes the bus's stream if it does not exist, on disk, so events survive a broker
    /// restart.
    pub(crate) async fn ensure_stream(&self) -> Result<stream::Stream, async_nats::Error> {
        let config = stream::Config {
            name: wire::stream_name(&self.name),
            subjects: vec![wire::bus_subjects(&self.name)],
            storage: stream::StorageType::File,
            duplicate_window: self.duplicate_window,
            ..Default::default()
        };
        Ok(self.js.get_or_create_stream(config).await?)
    }
}

impl fmt::Debug for Bus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bus")
            .field("name", &self.name)
            .field("duplicate_window", &self.duplicate_window)
            .finish_non_exhaustive()
    }
}
