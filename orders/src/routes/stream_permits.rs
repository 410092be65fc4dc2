//! Who may open another saga feed stream (`GET /orders/stream`): at most [`MAX_STREAMS`] are
//! open on the instance, and at most [`MAX_STREAMS_PER_CLIENT`] of them for one client (one
//! peer address), so that no single client holds every stream and locks the others out.
//!
//! A permit is taken before the stream reads anything, so a refused request costs no query,
//! and it is held for as long as the stream is open: dropping the stream (the client went
//! away, or the service stops) gives it back. A stream learns that its client went away when
//! its heartbeat's writes fail, within a few seconds (`HEARTBEAT` in [`super::feed`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Streams open at once, per instance.
pub const MAX_STREAMS: usize = 64;
/// Streams open at once for one client (one peer address), per instance. Clients behind one
/// proxy share it.
pub const MAX_STREAMS_PER_CLIENT: usize = 8;

/// Why no stream was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Every stream of the instance is open.
    #[error("{MAX_STREAMS} streams are open on this instance; try again later")]
    Instance,
    /// This client has its share of streams open.
    #[error("this client has {MAX_STREAMS_PER_CLIENT} streams open, the most it may; close one or try again later")]
    Client,
}

/// The permits of one instance's streams.
pub struct StreamPermits {
    /// One permit per stream the instance may have open.
    instance: Arc<Semaphore>,
    /// How many streams each client has open; a client with none has no entry.
    clients: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
    /// The most streams one client may hold.
    per_client: usize,
}

/// One open stream's permit: dropping it frees the stream's place.
pub struct StreamPermit {
    /// The instance's permit.
    _instance: OwnedSemaphorePermit,
    /// The client it counts against.
    client: Option<IpAddr>,
    /// Where that client's count is kept.
    clients: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

impl StreamPermits {
    /// [`MAX_STREAMS`] per instance, [`MAX_STREAMS_PER_CLIENT`] per client.
    pub fn new() -> StreamPermits {
        StreamPermits::with_limits(MAX_STREAMS, MAX_STREAMS_PER_CLIENT)
    }

    /// `instance` streams at most, `per_client` of them for one client.
    fn with_limits(instance: usize, per_client: usize) -> StreamPermits {
        StreamPermits {
            instance: Arc::new(Semaphore::new(instance)),
            clients: Arc::new(Mutex::new(HashMap::new())),
            per_client,
        }
    }

    /// A permit for one more stream of `client` (its peer address; `None` when unknown, all
    /// such clients counting as one), or why not. Never waits.
    pub fn try_take(&self, client: Option<IpAddr>) -> Result<StreamPermit, Refused> {
        let mut clients = self.clients.lock().expect("stream permits lock");
        let held = clients.get(&client).copied().unwrap_or(0);
        if held >= self.per_client {
            return Err(Refused::Client);
        }
        let instance = self
            .instance
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Instance)?;
        clients.insert(client, held + 1);
        Ok(StreamPermit {
            _instance: instance,
            client,
            clients: self.clients.clone(),
        })
    }
}

impl Default for StreamPermits {
    fn default() -> Self {
        StreamPermits::new()
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut clients = self.clients.lock().expect("stream permits lock");
        if let Some(held) = clients.get_mut(&self.client) {
            *held -= 1;
            if *held == 0 {
                clients.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn client(n: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)))
    }

    #[test]
    fn one_client_gets_its_share_and_no_more() {
        let permits = StreamPermits::with_limits(5, 2);
        let a = [
            permits.try_take(client(1)).unwrap(),
            permits.try_take(client(1)).unwrap(),
        ];
        assert_eq!(permits.try_take(client(1)).err(), Some(Refused::Client));
        let b = permits.try_take(client(2)).unwrap();
        drop(a);
        assert!(permits.try_take(client(1)).is_ok());
        drop(b);
        assert!(permits.clients.lock().unwrap().is_empty());
    }

    #[test]
    fn the_instance_limit_holds_across_clients_and_frees_on_drop() {
        let permits = StreamPermits::with_limits(3, 2);
        let mut held = vec![
            permits.try_take(client(1)).unwrap(),
            permits.try_take(client(2)).unwrap(),
            permits.try_take(None).unwrap(),
        ];
        assert_eq!(permits.try_take(client(3)).err(), Some(Refused::Instance));
        // A refusal takes nothing: the client's count is unchanged.
        assert!(!permits.clients.lock().unwrap().contains_key(&client(3)));
        held.pop();
        let again = permits.try_take(client(3)).unwrap();
        assert_eq!(permits.clients.lock().unwrap()[&client(3)], 1);
        drop(again);
    }
}
