//! Who may call the HTTP APIs (SPEC §7), checked once for all five services:
//! - [`settings`]: [`AuthSettings`], the trusted issuer and audience (`AUTH_*`);
//! - [`keys`]: the issuer's signing keys, discovered, cached and fetched again on an unknown
//!   `kid` at a limited rate;
//! - [`verifier`]: [`Verifier`], the checks a bearer token passes (signature, algorithm, `iss`,
//!   `aud`, `exp`, `nbf`);
//! - [`caller`]: [`Caller`], the verified sender as a handler sees it, and the role and
//!   ownership checks handlers run;
//! - [`middleware`]: [`authenticate`], which closes every route not registered as public;
//! - [`error`]: [`AuthError`], 401 with a `WWW-Authenticate` challenge, 403, or 503.
//!
//! Tokens come from an OpenID Connect provider (the local stack's Keycloak, realm `saga`); no
//! part of this system issues them.

pub mod caller;
pub mod error;
pub mod keys;
pub mod middleware;
pub mod settings;
pub mod verifier;

pub use caller::{Caller, Operator, Role};
pub use error::AuthError;
pub use middleware::authenticate;
pub use settings::{AuthSettings, DEFAULT_AUDIENCE, DEFAULT_ISSUER};
pub use verifier::{Verifier, ACCEPTED};
