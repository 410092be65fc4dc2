//! [`Keys`]: the issuer's signing keys, found through its discovery document and kept in
//! memory. A token whose `kid` is not among them makes the set be fetched again (the issuer may
//! have rotated its keys), at most once per [`REFETCH_INTERVAL`], so a stream of tokens with
//! made-up `kid`s cannot turn into a stream of requests to the issuer.
//!
//! Only signing keys count: a key whose `use` is `enc` (Keycloak also publishes an RSA-OAEP
//! key) or whose parameters do not parse is skipped.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::{AuthError, AuthSettings};

/// The least time between two fetches caused by unknown `kid`s.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// The least time between two attempts while no key has been fetched yet (the issuer is down).
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// How long one request to the issuer may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One verification key.
#[derive(Clone)]
pub struct Key {
    /// The key itself.
    pub decoding: DecodingKey,
    /// The algorithm the key declares (`alg`), if it does: a token must use that one.
    pub algorithm: Option<Algorithm>,
}

/// The issuer's keys, and how to fetch them again.
pub struct Keys {
    /// Where they come from; `None` for a fixed set ([`Keys::fixed`]).
    source: Option<Source>,
    /// The keys by `kid`.
    current: RwLock<HashMap<String, Key>>,
    /// When the set was last fetched (or tried): the rate limit.
    last_fetch: Mutex<Option<Instant>>,
}

/// Where the keys are fetched from.
struct Source {
    /// The trusted issuer and its discovery URL.
    settings: AuthSettings,
    /// The HTTP client, with the extra CA if there is one.
    http: reqwest::Client,
}

/// The part of the discovery document used here.
#[derive(Deserialize)]
struct Discovery {
    /// Must equal the configured issuer.
    issuer: String,
    /// Where the keys are.
    jwks_uri: String,
}

/// A JWK Set, each key kept raw until it is known to be a signing key that parses.
#[derive(Deserialize)]
struct RawSet {
    /// The keys.
    keys: Vec<serde_json::Value>,
}

impl Keys {
    /// The keys of the issuer of `settings`, fetched on first use.
    pub fn discover(settings: AuthSettings) -> Result<Keys, AuthError> {
        let mut http = reqwest::Client::builder().timeout(FETCH_TIMEOUT);
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                AuthError::KeysUnavailable(format!("reading AUTH_CA_FILE {}: {e}", path.display()))
            })?;
            let ca = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                AuthError::KeysUnavailable(format!("AUTH_CA_FILE {}: {e}", path.display()))
            })?;
            http = http.add_root_certificate(ca);
        }
        let http = http
            .build()
            .map_err(|e| AuthError::KeysUnavailable(format!("building the HTTP client: {e}")))?;
        Ok(Keys {
            source: Some(Source { settings, http }),
            current: RwLock::new(HashMap::new()),
            last_fetch: Mutex::new(None),
        })
    }

    /// A fixed key set, never fetched (tests, and deployments that pin their keys).
    pub fn fixed(jwks: &serde_json::Value) -> Keys {
        Keys {
            source: None,
            current: RwLock::new(parse_set(jwks)),
            last_fetch: Mutex::new(None),
        }
    }

    /// The key named `kid`, fetching the set again if it is not known and the rate limit
    /// allows.
    pub async fn get(&self, kid: &str) -> Result<Key, AuthError> {
        if let Some(key) = self.current.read().await.get(kid) {
            return Ok(key.clone());
        }
        let Some(source) = &self.source else {
            return Err(AuthError::UnknownKey);
        };
        let mut last_fetch = self.last_fetch.lock().await;
        // Another request may have fetched the set while this one waited for the lock.
        if let Some(key) = self.current.read().await.get(kid) {
            return Ok(key.clone());
        }
        let have_keys = !self.current.read().await.is_empty();
        let interval = if have_keys {
            REFETCH_INTERVAL
        } else {
            RETRY_INTERVAL
        };
        if last_fetch.is_some_and(|at| at.elapsed() < interval) {
            return Err(if have_keys {
                AuthError::UnknownKey
            } else {
                AuthError::KeysUnavailable("the last attempt failed; retrying shortly".into())
            });
        }
        *last_fetch = Some(Instant::now());
        let fetched = source.fetch().await?;
        tracing::info!(keys = fetched.len(), issuer = %source.settings.issuer, "fetched the issuer's signing keys");
        let key = fetched.get(kid).cloned();
        *self.current.write().await = fetched;
        key.ok_or(AuthError::UnknownKey)
    }
}

impl Source {
    /// The discovery document, then the key set it points at.
    async fn fetch(&self) -> Result<HashMap<String, Key>, AuthError> {
        let discovery: Discovery = self.get_json(&self.settings.discovery_url).await?;
        if discovery.issuer.trim_end_matches('/') != self.settings.issuer {
            return Err(AuthError::KeysUnavailable(format!(
                "the discovery document at {} names the issuer {}, not AUTH_ISSUER {}",
                self.settings.discovery_url, discovery.issuer, self.settings.issuer
            )));
        }
        let jwks: serde_json::Value = self.get_json(&discovery.jwks_uri).await?;
        let keys = parse_set(&jwks);
        if keys.is_empty() {
            return Err(AuthError::KeysUnavailable(format!(
                "{} lists no signing key",
                discovery.jwks_uri
            )));
        }
        Ok(keys)
    }

    /// GETs `url` as JSON; any failure is [`AuthError::KeysUnavailable`], logged.
    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, AuthError> {
        let result = async {
            let response = self.http.get(url).send().await?.error_for_status()?;
            response.json::<T>().await
        }
        .await;
        result.map_err(|e| {
            tracing::warn!(%url, error = %e, "the identity provider did not answer");
            AuthError::KeysUnavailable(format!("GET {url}: {e}"))
        })
    }
}

/// The signing keys of a JWK Set that have a `kid` and parse, by `kid`.
fn parse_set(jwks: &serde_json::Value) -> HashMap<String, Key> {
    let Ok(set) = serde_json::from_value::<RawSet>(jwks.clone()) else {
        return HashMap::new();
    };
    set.keys
        .into_iter()
        .filter_map(|raw| {
            let jwk: Jwk = serde_json::from_value(raw).ok()?;
            if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
                return None;
            }
            let kid = jwk.common.key_id.clone()?;
            let decoding = DecodingKey::from_jwk(&jwk).ok()?;
            let algorithm = jwk
                .common
                .key_algorithm
                .and_then(|a| serde_json::to_value(a).ok())
                .and_then(|a| serde_json::from_value::<Algorithm>(a).ok());
            Some((
                kid,
                Key {
                    decoding,
                    algorithm,
                },
            ))
        })
        .collect()
}
