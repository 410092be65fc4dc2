//! The process's TLS crypto provider.
//!
//! rustls picks its provider (the cryptography behind every TLS connection) from its crate
//! features when exactly one is built in. The workspace builds two: *ring*, which the
//! project's own clients ask for, and *aws-lc-rs*, which the PostgreSQL replication client's
//! TLS layer brings along. With both, rustls will not guess, and a connection made before a
//! provider is chosen panics. So every place that opens TLS connections (the store settings,
//! the service kit, the tools) calls [`install_crypto_provider`] first.

/// Makes *ring* the process's rustls provider, unless one is installed already. Cheap and
/// idempotent: call it before building any TLS client.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may have installed one in between; either one is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_is_installed_and_a_second_call_keeps_it() {
        install_crypto_provider();
        let first = rustls::crypto::CryptoProvider::get_default().expect("installed");
        install_crypto_provider();
        let second = rustls::crypto::CryptoProvider::get_default().expect("still installed");
        assert!(std::sync::Arc::ptr_eq(first, second));
    }
}
