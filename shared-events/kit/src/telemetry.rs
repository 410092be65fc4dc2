//! Logging set-up shared by the services ([`LogSettings`]): `RUST_LOG` filters (default
//! [`DEFAULT_FILTER`]), and `LOG_FORMAT=json` switches from human-readable lines to one JSON
//! object per line.

use saga_messaging::env::{ConfigError, Env};
use tracing_subscriber::{fmt, EnvFilter};

/// What is logged unless `RUST_LOG` says otherwise (or says something that does not parse).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,rdkafka=warn";

/// How a service logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `RUST_LOG` (default [`DEFAULT_FILTER`]): what is logged, in `tracing`'s filter syntax.
    pub filter: String,
    /// `LOG_FORMAT=json`: one JSON object per line; anything else, human-readable lines.
    pub json: bool,
}

impl LogSettings {
    /// Reads `RUST_LOG` and `LOG_FORMAT`.
    pub fn read(env: &Env) -> Result<LogSettings, ConfigError> {
        let format: String = env.or("LOG_FORMAT", String::new())?;
        Ok(LogSettings {
            filter: env.or("RUST_LOG", DEFAULT_FILTER.to_owned())?,
            json: format.eq_ignore_ascii_case("json"),
        })
    }
}

/// Installs the global subscriber for `service`'s logs; call once, first thing in `main`.
pub fn init(service: &str, settings: &LogSettings) {
    let filter =
        EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let result = if settings.json {
        fmt()
            .with_env_filter(filter)
            .json()
            .with_current_span(true)
            .try_init()
    } else {
        fmt().with_env_filter(filter).try_init()
    };
    if result.is_ok() {
        tracing::info!(service, "logging initialised");
    }
}
