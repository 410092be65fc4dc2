//! [`AuthSettings`]: which OpenID Connect issuer a service trusts, and for which audience, read
//! from the environment with defaults that fit the local stack's Keycloak (SPEC §6, §7).

use std::path::PathBuf;

use saga_messaging::env::{ConfigError, Env};

/// The issuer of the local stack's realm `saga` (`scripts/stack`, Keycloak on 127.0.0.1:8080).
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080/realms/saga";

/// The audience every access token of the APIs names (`aud`), unless `AUTH_AUDIENCE` says
/// otherwise.
pub const DEFAULT_AUDIENCE: &str = "saga-api";

/// How far `exp` and `nbf` may be off the service's clock before a token is refused, unless
/// `AUTH_LEEWAY_SECS` says otherwise.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;

/// The identity provider a service trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// `AUTH_ISSUER`: the `iss` every token must carry, and the issuer its discovery document
    /// must name.
    pub issuer: String,
    /// `AUTH_AUDIENCE` (default [`DEFAULT_AUDIENCE`]): a value `aud` must contain.
    pub audience: String,
    /// `AUTH_DISCOVERY_URL` (default `<issuer>/.well-known/openid-configuration`): where the
    /// discovery document is fetched. Set it when the service reaches the provider by another
    /// name than the issuer's (compose: `http://keycloak:8080/…` for an issuer on
    /// `127.0.0.1:8080`); the document must still name `issuer`.
    pub discovery_url: String,
    /// `AUTH_CA_FILE`: a PEM certificate trusted for an `https` provider, besides the public
    /// roots (a private CA).
    pub ca_file: Option<PathBuf>,
    /// `AUTH_LEEWAY_SECS` (default [`DEFAULT_LEEWAY_SECS`]): the clock skew `exp` and `nbf`
    /// tolerate.
    pub leeway_secs: u64,
}

impl AuthSettings {
    /// The settings for `issuer`, with the default audience, discovery URL and leeway.
    pub fn for_issuer(issuer: &str) -> AuthSettings {
        let issuer = issuer.trim_end_matches('/').to_owned();
        AuthSettings {
            discovery_url: format!("{issuer}/.well-known/openid-configuration"),
            issuer,
            audience: DEFAULT_AUDIENCE.to_owned(),
            ca_file: None,
            leeway_secs: DEFAULT_LEEWAY_SECS,
        }
    }

    /// The local stack's realm: what a test's service trusts.
    pub fn local() -> AuthSettings {
        AuthSettings::for_issuer(DEFAULT_ISSUER)
    }

    /// Reads `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_DISCOVERY_URL`, `AUTH_CA_FILE` and
    /// `AUTH_LEEWAY_SECS`. The issuer and the discovery URL must be `http` or `https` URLs.
    pub fn read(env: &Env) -> Result<AuthSettings, ConfigError> {
        let issuer: String = env.or("AUTH_ISSUER", DEFAULT_ISSUER.to_owned())?;
        check_url("AUTH_ISSUER", &issuer)?;
        let mut settings = AuthSettings::for_issuer(&issuer);
        settings.audience = env.or("AUTH_AUDIENCE", settings.audience)?;
        let discovery_url: Option<String> = env.opt("AUTH_DISCOVERY_URL")?;
        if let Some(url) = discovery_url {
            check_url("AUTH_DISCOVERY_URL", &url)?;
            settings.discovery_url = url;
        }
        settings.ca_file = env.opt("AUTH_CA_FILE")?;
        settings.leeway_secs = env.or("AUTH_LEEWAY_SECS", settings.leeway_secs)?;
        Ok(settings)
    }
}

/// `value` of `name` is an `http` or `https` URL with a host.
fn check_url(name: &str, value: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: name.to_owned(),
        value: value.to_owned(),
        source: reason.into(),
    };
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| invalid("not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(invalid("the URL names no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_discovery_url_follows_the_issuer_without_a_double_slash() {
        let s = AuthSettings::for_issuer("https://id.example.com/realms/saga/");
        assert_eq!(s.issuer, "https://id.example.com/realms/saga");
        assert_eq!(
            s.discovery_url,
            "https://id.example.com/realms/saga/.well-known/openid-configuration"
        );
        assert_eq!(s.audience, "saga-api");
    }

    #[test]
    fn an_issuer_must_be_an_http_url_with_a_host() {
        assert!(check_url("AUTH_ISSUER", "http://127.0.0.1:8080/realms/saga").is_ok());
        assert!(check_url("AUTH_ISSUER", "https://id.example.com").is_ok());
        for bad in ["127.0.0.1:8080", "ftp://x", "https://", "http:///realms"] {
            assert!(
                matches!(
                    check_url("AUTH_ISSUER", bad),
                    Err(ConfigError::Invalid { .. })
                ),
                "{bad} was taken"
            );
        }
    }
}
