//! Logging set-up shared by the services: `RUST_LOG` filters (default `info`), and
//! `LOG_FORMAT=json` switches from human-readable lines to one JSON object per line.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber for `service`'s logs; call once, first thing in `main`.
pub fn init(service: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,rdkafka=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let result = if json {
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
