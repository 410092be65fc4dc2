//! Where the local stack keeps its own secrets.
//!
//! A secret (a password) is read from `NAME`, or from the file that `NAME_FILE` names, as
//! container secrets are mounted ([`Env::secret`]). Its value is a [`SecretString`]: `Debug`
//! prints it redacted, so a settings struct that holds one can be logged.
//!
//! `scripts/stack up` makes one password per principal under `<repo>/.stack/secrets/` (mode
//! 0600) and one CA at `<repo>/.stack/tls/ca.crt`. [`LocalStack`] names those files, so that a
//! service started on a developer's machine with no variable set finds its own credentials
//! (SPEC §6); anywhere else the variables say where they are.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::env::{ConfigError, Env};

/// Where `scripts/stack` keeps the local stack's CA and passwords: `<repo>/.stack`, the
/// repository this crate was built from.
#[derive(Debug, Clone)]
pub struct LocalStack {
    dir: PathBuf,
}

impl Default for LocalStack {
    fn default() -> Self {
        LocalStack {
            // This crate is `<repo>/shared-events/messaging`.
            dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.stack"),
        }
    }
}

impl LocalStack {
    /// The local stack kept in `dir` (a `.stack` directory).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        LocalStack { dir: dir.into() }
    }

    /// The CA that signed the broker's, PostgreSQL's and Redis's certificates.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("tls/ca.crt")
    }

    /// The file of the password `name` (`kafka-orders`, `postgres-billing`, `redis-notification`).
    pub fn password_file(&self, name: &str) -> PathBuf {
        self.dir.join("secrets").join(format!("{name}.password"))
    }

    /// The certificate of the stack's server `name` (`broker`, `postgres`, `redis`), signed by
    /// [`ca_file`](Self::ca_file).
    pub fn server_cert_file(&self, name: &str) -> PathBuf {
        self.dir.join("tls").join(format!("{name}.crt"))
    }

    /// The private key of the stack's server `name`.
    pub fn server_key_file(&self, name: &str) -> PathBuf {
        self.dir.join("tls").join(format!("{name}.key"))
    }

    /// Redis's ACL users (`default` and `notification`, passwords as SHA-256), the file that
    /// `scripts/stack up` writes and every Redis of the stack (and of a test) loads.
    pub fn redis_acl_file(&self) -> PathBuf {
        self.dir.join("redis/users.acl")
    }

    /// The password `name`, read now.
    pub fn password(&self, name: &str) -> Result<SecretString, ConfigError> {
        let path = self.password_file(name);
        Env::process().secret_file(&format!("(local stack) {name}"), &path)
    }

    /// The password `name` for a client of a server on `host`: only when `host` is loopback
    /// (the local stack's servers) and the stack has that password; `None` otherwise, so a
    /// remote server is never sent a local password.
    pub fn password_for_host(
        &self,
        host: &str,
        name: &str,
    ) -> Result<Option<SecretString>, ConfigError> {
        if !is_loopback(host) || !self.password_file(name).is_file() {
            return Ok(None);
        }
        self.password(name).map(Some)
    }
}

/// Whether `host` (a name or an address, IPv6 with or without brackets) is this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_stack_is_the_repositorys_own() {
        let repo = LocalStack::default().dir.join("..");
        let manifest = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"), "{}", repo.display());
        assert!(repo.join("scripts/stack").is_file(), "{}", repo.display());
    }

    #[test]
    fn a_secret_is_redacted_in_debug_output() {
        let secret = SecretString::from("hunter2".to_owned());
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
