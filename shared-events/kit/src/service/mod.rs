//! The start-up every service shares, so that each service crate keeps only its domain, its
//! store, its routes and its handlers:
//! - [`ServiceSettings`]: the settings every service reads the same way (SPEC §6), which each
//!   service's own `Settings` embeds, and (feature `postgres`) [`PgServiceSettings`]: those
//!   and its database's, a PostgreSQL service's;
//! - [`Startup`]: one start-up sequence in one order — the store, its topics, the HTTP server
//!   bound, then the long-running tasks — ending in an [`Application`], which runs until its
//!   shutdown token is cancelled or a task fails;
//! - [`main`]: a service's whole `main` (its runtime, then [`run`]), and [`load`]: everything
//!   it reads from its environment;
//! - the errors of each: [`StartupError`], [`RunError`], [`ServiceError`].

mod application;
mod error;
mod run;
mod settings;
mod startup;

pub use application::Application;
pub use error::{RunError, ServiceError, StartupError};
pub use run::{load, main, run};
#[cfg(feature = "postgres")]
pub use settings::PgServiceSettings;
pub use settings::{ServiceSettings, DEFAULT_HTTP_HOST, DEFAULT_HTTP_WORKERS};
pub use startup::Startup;
