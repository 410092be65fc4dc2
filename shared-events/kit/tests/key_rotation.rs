//! The issuer rotates its signing key (SPEC §7): the stack's Keycloak is given a new RSA key of
//! a higher priority through its admin API, so that new tokens name a `kid` the verifier has
//! not fetched. The verifier, holding the old set, refuses such a token while it fetched the set
//! less than `REFETCH_INTERVAL` ago, then fetches the set again and accepts it; a token of the
//! old key, still published, passes throughout. The key is removed at the end, so Keycloak signs
//! with the realm's own key again.
//!
//! A test binary of its own: tokens of this process are signed with the new key while it lives,
//! and no other test shares the process.

use std::time::Duration;

use reqwest::StatusCode;
use saga_kit::auth::keys::REFETCH_INTERVAL;
use saga_kit::auth::{AuthError, AuthSettings, Verifier};
use saga_kit::testing::identity::{fetch, issuer, Account};
use saga_messaging::secret::LocalStack;
use saga_messaging::testing::wait_for;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

/// The `kid` in a token's header.
fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWT header")
        .kid
        .expect("a kid")
}

/// The realm's admin API, as the master realm's bootstrap admin.
struct Admin {
    http: reqwest::Client,
    /// `http://host:port/admin/realms/saga`.
    realm_url: String,
    token: String,
}

impl Admin {
    async fn login() -> Admin {
        let issuer = issuer();
        let (base, realm) = issuer
            .rsplit_once("/realms/")
            .expect("an issuer of Keycloak's");
        let password = LocalStack::default()
            .password("keycloak-admin")
            .expect("the stack's Keycloak admin password");
        let http = reqwest::Client::new();
        let grant: Value = http
            .post(format!(
                "{base}/realms/master/protocol/openid-connect/token"
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", "admin"),
                ("password", password.expose_secret()),
            ])
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("the admin's token")
            .json()
            .await
            .expect("a token response");
        Admin {
            http,
            realm_url: format!("{base}/admin/realms/{realm}"),
            token: grant["access_token"].as_str().expect("access_token").into(),
        }
    }

    /// Adds a generated RS256 key of priority 1000 (the realm's own has 100); its component id.
    async fn add_key(&self) -> String {
        let realm: Value = self
            .http
            .get(&self.realm_url)
            .bearer_auth(&self.token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("the realm")
            .json()
            .await
            .expect("the realm's JSON");
        let response = self
            .http
            .post(format!("{}/components", self.realm_url))
            .bearer_auth(&self.token)
            .json(&json!({
                "name": format!("rotation-test-{}", uuid::Uuid::new_v4()),
                "providerId": "rsa-generated",
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm["id"],
                "config": { "priority": ["1000"], "algorithm": ["RS256"], "keySize": ["2048"] },
            }))
            .send()
            .await
            .expect("adding a key provider");
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "adding a key provider"
        );
        let location = response.headers()["location"]
            .to_str()
            .expect("a Location header")
            .to_owned();
        location
            .rsplit('/')
            .next()
            .expect("the component's id")
            .into()
    }

    async fn remove_key(&self, id: &str) {
        let response = self
            .http
            .delete(format!("{}/components/{id}", self.realm_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("removing the key provider");
        assert!(
            response.status().is_success(),
            "removing the key provider: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn a_token_of_a_rotated_key_passes_once_the_set_is_fetched_again() {
    let verifier = Verifier::new(&AuthSettings::local()).unwrap();
    let (old_token, _) = fetch(Account::Operator).await.expect("a token");
    verifier
        .verify(&old_token)
        .await
        .expect("a token of the realm's key");

    let admin = Admin::login().await;
    let component = admin.add_key().await;
    let outcome = tokio::spawn(async move {
        let (new_token, _) = fetch(Account::Operator).await.expect("a token");
        assert_ne!(
            kid(&new_token),
            kid(&old_token),
            "Keycloak signs with the new key"
        );
        // Just after the first fetch: the rate limit holds, and the unknown kid is refused.
        match verifier.verify(&new_token).await {
            Err(AuthError::UnknownKey) => {}
            other => panic!("a new kid within {REFETCH_INTERVAL:?} of the last fetch: {other:?}"),
        }
        let caller = wait_for(
            "the verifier to fetch the rotated set and accept the new key's token",
            REFETCH_INTERVAL + Duration::from_secs(20),
            || {
                let (verifier, token) = (&verifier, &new_token);
                async move { verifier.verify(token).await.ok() }
            },
        )
        .await;
        assert_eq!(caller.subject(), Account::Operator.id().to_string());
        verifier
            .verify(&old_token)
            .await
            .expect("the old key is still published, and its token still passes");
    })
    .await;
    admin.remove_key(&component).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}
