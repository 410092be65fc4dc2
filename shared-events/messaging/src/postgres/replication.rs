//! Where the outbox relay's replication stream connects: the database of a service's pool,
//! as its role, with its password and TLS settings.
//!
//! A logical replication connection is a connection of its own (the wire protocol's
//! replication mode), made by `pgwire-replication` rather than sqlx. It logs in as the pool
//! does: same host, port, role, password and database, and the same TLS posture
//! (`sslmode`, `sslrootcert`). The role needs the `REPLICATION` attribute.

use std::path::PathBuf;

use pgwire_replication::{ReplicationConfig, SslMode, TlsConfig};
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, PgPool};

use super::slot::{outbox_slot, PUBLICATION};

/// How a relay reaches its outbox's replication slot. `Debug` never shows the password.
#[derive(Clone)]
pub struct ReplicationSource {
    host: String,
    port: u16,
    user: String,
    password: SecretString,
    database: String,
    tls: TlsConfig,
}

impl std::fmt::Debug for ReplicationSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicationSource")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("tls", &self.tls.mode)
            .finish_non_exhaustive()
    }
}

/// Why a pool's settings give no replication connection.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The pool names no database, and a replication slot belongs to one.
    #[error("the PostgreSQL settings name no database")]
    NoDatabase,
    /// The replication client speaks only the TLS modes `disable`, `require`, `verify-ca` and
    /// `verify-full`; `allow` and `prefer` would fall back to plaintext on their own.
    #[error("sslmode={0} is not supported by the outbox relay's replication connection; use require, verify-ca or verify-full")]
    SslMode(&'static str),
}

impl ReplicationSource {
    /// The replication connection matching `pool`'s connections.
    pub fn of_pool(pool: &PgPool) -> Result<ReplicationSource, SourceError> {
        ReplicationSource::of_options(&pool.connect_options())
    }

    /// The replication connection matching connections made with `options`.
    pub fn of_options(options: &PgConnectOptions) -> Result<ReplicationSource, SourceError> {
        let database = options
            .get_database()
            .ok_or(SourceError::NoDatabase)?
            .to_owned();
        // sqlx shows the password and the CA file only through its URL form.
        let url = options.to_url_lossy();
        let password = url
            .password()
            .map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .unwrap_or_default();
        let ca = url
            .query_pairs()
            .find(|(k, _)| k == "sslrootcert")
            .map(|(_, v)| PathBuf::from(v.strip_prefix("file: ").unwrap_or(&v).to_owned()));
        let host = match options.get_socket() {
            Some(dir) => dir.display().to_string(),
            None => options.get_host().to_owned(),
        };
        let mut tls = match options.get_ssl_mode() {
            PgSslMode::Disable => TlsConfig::disabled(),
            PgSslMode::Require => TlsConfig::require(),
            PgSslMode::VerifyCa => TlsConfig::verify_ca(ca),
            PgSslMode::VerifyFull => TlsConfig::verify_full(ca),
            PgSslMode::Allow => return Err(SourceError::SslMode("allow")),
            PgSslMode::Prefer => return Err(SourceError::SslMode("prefer")),
        };
        if tls.mode == SslMode::VerifyFull && host.parse::<std::net::IpAddr>().is_ok() {
            // An address is checked against the certificate's IP names, as libpq does; the
            // client wants that said explicitly.
            tls = tls.with_sni_hostname(host.clone());
        }
        Ok(ReplicationSource {
            host,
            port: options.get_port(),
            user: options.get_username().to_owned(),
            password: password.into(),
            database,
            tls,
        })
    }

    /// The database whose outbox this is.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The stream's settings: the database's outbox slot through [`PUBLICATION`].
    pub(crate) fn config(&self) -> ReplicationConfig {
        ReplicationConfig::new(
            self.host.clone(),
            self.user.clone(),
            self.password.expose_secret().to_owned(),
            self.database.clone(),
            outbox_slot(&self.database),
            PUBLICATION,
        )
        .with_port(self.port)
        .with_tls(self.tls.clone())
        .with_application_name("saga-outbox-relay")
        // What the relay confirmed reaches the server within this, so the slot lets go of
        // published WAL promptly (and a test waiting for it is not kept waiting).
        .with_status_interval(std::time::Duration::from_millis(100))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_logs_in_as_the_pool_does_and_never_shows_the_password() {
        let options: PgConnectOptions =
            "postgres://orders:p%40ss@127.0.0.1:5433/orders?sslmode=verify-full&sslrootcert=/x/ca.crt"
                .parse()
                .unwrap();
        let source = ReplicationSource::of_options(&options).unwrap();
        assert_eq!(source.host, "127.0.0.1");
        assert_eq!(source.port, 5433);
        assert_eq!(source.user, "orders");
        assert_eq!(source.password.expose_secret(), "p@ss");
        assert_eq!(source.database(), "orders");
        assert_eq!(source.tls.mode, SslMode::VerifyFull);
        assert_eq!(source.tls.ca_pem_path, Some(PathBuf::from("/x/ca.crt")));
        assert_eq!(source.tls.sni_hostname.as_deref(), Some("127.0.0.1"));
        assert!(!format!("{source:?}").contains("p@ss"));
        let config = source.config();
        assert_eq!(config.slot, "outbox_orders");
    }

    #[test]
    fn a_mode_that_may_fall_back_to_plaintext_is_refused() {
        let options: PgConnectOptions = "postgres://u@h/d?sslmode=prefer".parse().unwrap();
        assert!(matches!(
            ReplicationSource::of_options(&options),
            Err(SourceError::SslMode("prefer"))
        ));
    }
}
