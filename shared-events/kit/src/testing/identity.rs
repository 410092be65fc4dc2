//! Access tokens from the local stack's identity provider (Keycloak, realm `saga`, SPEC §7) for
//! tests and tools: the development accounts through the public client `saga-cli` (password
//! grant), and the confidential client `saga-tools` (client credentials, role operator) with its
//! secret from the stack's `.stack/secrets/keycloak-saga-tools.password`.
//!
//! Tokens are kept per process and asked for again 30 s before they expire, so a long test or
//! benchmark never sends a stale one. `AUTH_ISSUER` names another issuer (the realm's token
//! endpoint is `<issuer>/protocol/openid-connect/token`, as Keycloak serves it).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::sync::Mutex;
use uuid::{uuid, Uuid};

use crate::auth::DEFAULT_ISSUER;
use saga_messaging::secret::LocalStack;

/// A development account of the realm `saga`, or its tools' client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Account {
    /// `operator` (role operator).
    Operator,
    /// `alice` (role customer).
    Alice,
    /// `bob` (role customer).
    Bob,
    /// The confidential client `saga-tools`'s service account (role operator).
    Tools,
}

impl Account {
    /// The user name (and development password); `None` for the client.
    pub fn username(self) -> Option<&'static str> {
        match self {
            Account::Operator => Some("operator"),
            Account::Alice => Some("alice"),
            Account::Bob => Some("bob"),
            Account::Tools => None,
        }
    }

    /// The account's fixed id in the committed realm: its tokens' `sub`, and so a customer's
    /// customer id.
    pub fn id(self) -> Uuid {
        match self {
            Account::Operator => uuid!("2c598215-9663-4012-bb19-9ac193d0f3e7"),
            Account::Alice => uuid!("7c5f1269-908e-4cef-a5af-90e6107b32af"),
            Account::Bob => uuid!("a1390ae0-60db-49d7-ab4c-a7adeafea4ee"),
            Account::Tools => uuid!("afea51e9-e58b-46c4-8191-aefe0170fbb5"),
        }
    }
}

/// The issuer tokens come from: `AUTH_ISSUER`, or the local stack's.
pub fn issuer() -> String {
    std::env::var("AUTH_ISSUER")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ISSUER.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Tokens already fetched, with when to fetch again.
static TOKENS: LazyLock<Mutex<HashMap<Account, (String, Instant)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// An access token of `account`, fetched once and again when it nears its expiry. Panics
/// with the provider's reason when it cannot be had (is the stack up? `scripts/stack up`).
pub async fn token(account: Account) -> String {
    let mut tokens = TOKENS.lock().await;
    if let Some((token, renew_at)) = tokens.get(&account) {
        if Instant::now() < *renew_at {
            return token.clone();
        }
    }
    let (token, lifetime) = fetch(account).await.unwrap_or_else(|e| {
        panic!("a token for {account:?}: {e} (is the stack up? scripts/stack up)")
    });
    let renew_at = Instant::now() + lifetime.saturating_sub(Duration::from_secs(30));
    tokens.insert(account, (token.clone(), renew_at));
    token
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct Grant {
    /// The access token.
    access_token: String,
    /// Its lifetime in seconds.
    expires_in: u64,
}

/// A new token of `account` and its lifetime, or the provider's reason for refusing.
pub async fn fetch(account: Account) -> Result<(String, Duration), String> {
    let url = format!("{}/protocol/openid-connect/token", issuer());
    let secret;
    let form: Vec<(&str, &str)> = match account.username() {
        Some(user) => vec![
            ("grant_type", "password"),
            ("client_id", "saga-cli"),
            ("username", user),
            ("password", user),
            ("scope", "openid"),
        ],
        None => {
            secret = LocalStack::default()
                .password("keycloak-saga-tools")
                .map_err(|e| e.to_string())?;
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "saga-tools"),
                ("client_secret", secret.expose_secret()),
            ]
        }
    };
    let response = reqwest::Client::new()
        .post(&url)
        .form(&form)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("POST {url}: {status}: {text}"));
    }
    let grant: Grant = serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))?;
    Ok((grant.access_token, Duration::from_secs(grant.expires_in)))
}
