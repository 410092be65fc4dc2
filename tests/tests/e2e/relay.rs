//! A TCP relay in the test process: it listens on an address of the test's choosing and
//! copies each connection to a store of the local stack (which listens on 127.0.0.1 only).
//! A service in a network namespace reaches the shared PostgreSQL through it, over the link
//! the test can cut: the relay's side of the link goes silent with the link, as the server's
//! own socket would.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A listening relay; dropping it closes it and every connection through it.
pub struct Relay {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Relay {
    /// Listens on `ip` (a free port) and relays every connection to `target` (`host:port`).
    pub async fn start(ip: &str, target: &str) -> Relay {
        let listener = TcpListener::bind((ip, 0))
            .await
            .unwrap_or_else(|e| panic!("binding a relay on {ip}: {e}"));
        let addr = listener.local_addr().expect("the relay's address");
        let target = target.to_owned();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Relay { addr, task }
    }

    /// `host:port` of the relay.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
