//! [`Verifier`]: checks a bearer token, once for all five services (SPEC §7). A token passes
//! when
//! - its header names an asymmetric algorithm of [`ACCEPTED`] (so `none` and HMAC never pass)
//!   and a `kid` the issuer publishes ([`super::keys`]), and the key's own `alg`, if it declares
//!   one, is the same;
//! - its signature verifies with that key;
//! - `iss` is the configured issuer, `aud` contains the configured audience, and `exp` and
//!   `nbf` hold within the leeway; `exp`, `iss`, `aud` and `sub` are required.
//!
//! Parsing and checking are jsonwebtoken's; what is decided here is which keys and algorithms
//! count.

use std::sync::Arc;

use jsonwebtoken::{decode, decode_header, Algorithm, Validation};
use serde::Deserialize;

use super::keys::Keys;
use super::{AuthError, AuthSettings, Caller};

/// The algorithms a token may be signed with: RSA, RSA-PSS, ECDSA and EdDSA signatures.
pub const ACCEPTED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The claims read from a verified token.
#[derive(Debug, Deserialize)]
struct Claims {
    /// The subject: for a customer, its customer id.
    sub: String,
    /// Keycloak's realm roles.
    #[serde(default)]
    realm_access: RealmAccess,
}

/// `realm_access` of a Keycloak token.
#[derive(Debug, Default, Deserialize)]
struct RealmAccess {
    /// The realm roles of the subject.
    #[serde(default)]
    roles: Vec<String>,
}

/// Checks tokens against one issuer; cheap to clone (the key cache is shared).
#[derive(Clone)]
pub struct Verifier {
    /// The settings and the keys.
    inner: Arc<Inner>,
}

/// What a [`Verifier`] shares between its clones.
struct Inner {
    /// The validation every token goes through (the algorithm is set per token).
    validation: Validation,
    /// The issuer's keys.
    keys: Keys,
}

impl Verifier {
    /// A verifier of the tokens of the issuer of `settings`; its keys are fetched on the first
    /// token, so a service starts while its identity provider is still starting.
    pub fn new(settings: &AuthSettings) -> Result<Verifier, AuthError> {
        Ok(Self::with_keys(settings, Keys::discover(settings.clone())?))
    }

    /// A verifier of tokens of the issuer of `settings`, signed by the keys of `jwks` only
    /// (a JWK Set, never fetched): for tests of the checks, and for pinned keys.
    pub fn with_fixed_keys(settings: &AuthSettings, jwks: &serde_json::Value) -> Verifier {
        Self::with_keys(settings, Keys::fixed(jwks))
    }

    /// A verifier over `keys`.
    fn with_keys(settings: &AuthSettings, keys: Keys) -> Verifier {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = settings.leeway_secs;
        Verifier {
            inner: Arc::new(Inner { validation, keys }),
        }
    }

    /// The caller `token` proves, or why it proves nothing.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Malformed("the token's header has no kid".into()))?;
        let key = self.inner.keys.get(&kid).await?;
        if key.algorithm.is_some_and(|alg| alg != header.alg) {
            return Err(AuthError::Algorithm(format!(
                "{:?} (the key {kid} is for {:?})",
                header.alg,
                key.algorithm.expect("checked above")
            )));
        }
        let mut validation = self.inner.validation.clone();
        validation.algorithms = vec![header.alg];
        let data = decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(Caller::new(
            data.claims.sub,
            &data.claims.realm_access.roles,
        ))
    }
}

/// The checks, on tokens signed here with keys generated per test (the verifier's keys are a
/// fixed set, so no provider is involved); the real issuer's tokens are checked against the
/// stack's Keycloak in `tests/auth.rs`.
#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::{json, Value};

    use super::*;

    const ISSUER: &str = "http://127.0.0.1:8080/realms/saga";
    const SUB: &str = "7c5f1269-908e-4cef-a5af-90e6107b32af";

    /// A P-256 key pair: its PKCS#8 document and its public JWK under `kid`.
    struct TestKey {
        pkcs8: Vec<u8>,
        jwk: Value,
    }

    impl TestKey {
        fn generate(kid: &str) -> TestKey {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("generating a key")
                .as_ref()
                .to_vec();
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
                .expect("reading it back");
            // An uncompressed point: 0x04, then x and y, 32 bytes each.
            let point = pair.public_key().as_ref();
            let jwk = json!({
                "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            });
            TestKey { pkcs8, jwk }
        }

        fn sign(&self, kid: &str, claims: &Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(kid.into());
            encode(&header, claims, &EncodingKey::from_ec_der(&self.pkcs8)).expect("signing")
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    /// Claims that pass, with `changes` applied (a `null` removes a claim).
    fn claims(changes: Value) -> Value {
        let mut claims = json!({
            "iss": ISSUER, "aud": ["saga-api", "account"], "sub": SUB,
            "exp": now() + 300, "iat": now(), "nbf": now() - 1,
            "realm_access": { "roles": ["customer", "default-roles-saga"] },
        });
        for (k, v) in changes.as_object().expect("an object") {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    fn verifier(key: &TestKey) -> Verifier {
        let settings = AuthSettings::for_issuer(ISSUER);
        Verifier::with_fixed_keys(&settings, &json!({ "keys": [key.jwk.clone()] }))
    }

    async fn refused(verifier: &Verifier, token: &str) -> AuthError {
        match verifier.verify(token).await {
            Ok(caller) => panic!("the token was accepted as {caller:?}"),
            Err(e) => e,
        }
    }

    #[tokio::test]
    async fn a_good_token_gives_its_subject_and_roles() {
        let key = TestKey::generate("k1");
        let caller = verifier(&key)
            .verify(&key.sign("k1", &claims(json!({}))))
            .await
            .expect("accepted");
        assert_eq!(caller.subject(), SUB);
        assert_eq!(
            caller.customer_id().map(|id| id.to_string()).as_deref(),
            Some(SUB)
        );
        assert!(!caller.is_operator());
    }

    #[tokio::test]
    async fn an_audience_given_as_a_single_string_counts() {
        let key = TestKey::generate("k1");
        let token = key.sign("k1", &claims(json!({ "aud": "saga-api" })));
        assert!(verifier(&key).verify(&token).await.is_ok());
    }

    #[tokio::test]
    async fn an_expired_token_is_refused_beyond_the_leeway() {
        let key = TestKey::generate("k1");
        let v = verifier(&key);
        let expired = key.sign("k1", &claims(json!({ "exp": now() - 120 })));
        assert!(
            matches!(refused(&v, &expired).await, AuthError::Invalid(m) if m.contains("xpired"))
        );
        // Within the 30 s leeway a clock a little behind the issuer's still accepts it.
        let just = key.sign("k1", &claims(json!({ "exp": now() - 5 })));
        assert!(v.verify(&just).await.is_ok());
    }

    #[tokio::test]
    async fn a_token_not_yet_valid_is_refused() {
        let key = TestKey::generate("k1");
        let early = key.sign("k1", &claims(json!({ "nbf": now() + 600 })));
        assert!(matches!(
            refused(&verifier(&key), &early).await,
            AuthError::Invalid(_)
        ));
    }

    #[tokio::test]
    async fn another_issuer_is_refused() {
        let key = TestKey::generate("k1");
        let token = key.sign(
            "k1",
            &claims(json!({ "iss": "http://127.0.0.1:8080/realms/master" })),
        );
        assert!(
            matches!(refused(&verifier(&key), &token).await, AuthError::Invalid(m) if m.contains("ssuer"))
        );
    }

    #[tokio::test]
    async fn another_audience_or_none_is_refused() {
        let key = TestKey::generate("k1");
        let v = verifier(&key);
        let other = key.sign("k1", &claims(json!({ "aud": ["account"] })));
        assert!(
            matches!(refused(&v, &other).await, AuthError::Invalid(m) if m.contains("udience"))
        );
        let none = key.sign("k1", &claims(json!({ "aud": null })));
        assert!(matches!(refused(&v, &none).await, AuthError::Invalid(_)));
    }

    #[tokio::test]
    async fn a_token_without_exp_or_sub_is_refused() {
        let key = TestKey::generate("k1");
        let v = verifier(&key);
        for claim in ["exp", "sub"] {
            let token = key.sign("k1", &claims(json!({ claim: null })));
            assert!(
                matches!(refused(&v, &token).await, AuthError::Invalid(_)),
                "{claim}"
            );
        }
    }

    #[tokio::test]
    async fn a_tampered_payload_or_signature_is_refused() {
        let key = TestKey::generate("k1");
        let v = verifier(&key);
        let token = key.sign("k1", &claims(json!({})));
        let parts: Vec<&str> = token.split('.').collect();
        // The payload of an operator, under the customer's signature.
        let forged_claims = claims(json!({ "realm_access": { "roles": ["operator"] } }));
        let forged = URL_SAFE_NO_PAD.encode(forged_claims.to_string());
        let swapped = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert!(matches!(refused(&v, &swapped).await, AuthError::Invalid(_)));
        // One bit of the signature flipped.
        let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        signature[10] ^= 0x01;
        let flipped = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode(signature)
        );
        assert!(matches!(refused(&v, &flipped).await, AuthError::Invalid(_)));
    }

    #[tokio::test]
    async fn alg_none_and_hmac_are_refused() {
        let key = TestKey::generate("k1");
        let v = verifier(&key);
        let payload = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        let unsigned = format!("{none_header}.{payload}.");
        assert!(matches!(
            refused(&v, &unsigned).await,
            AuthError::Malformed(_) | AuthError::Algorithm(_)
        ));
        // HS256 keyed with the public key's own text: the classic confusion.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let hmac = encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_secret(key.jwk.to_string().as_bytes()).unwrap(),
        )
        .unwrap();
        assert!(matches!(refused(&v, &hmac).await, AuthError::Algorithm(_)));
    }

    #[tokio::test]
    async fn a_key_the_issuer_does_not_publish_is_refused() {
        let published = TestKey::generate("k1");
        let v = verifier(&published);
        let stranger = TestKey::generate("k2");
        // Under a kid the issuer does not list…
        let unknown = stranger.sign("k2", &claims(json!({})));
        assert!(matches!(refused(&v, &unknown).await, AuthError::UnknownKey));
        // …and under the published key's kid.
        let impostor = stranger.sign("k1", &claims(json!({})));
        assert!(matches!(
            refused(&v, &impostor).await,
            AuthError::Invalid(_)
        ));
        // No kid at all.
        let mut header = Header::new(Algorithm::ES256);
        header.kid = None;
        let anonymous = encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_ec_der(&published.pkcs8),
        )
        .unwrap();
        assert!(matches!(
            refused(&v, &anonymous).await,
            AuthError::Malformed(_)
        ));
    }

    #[tokio::test]
    async fn garbage_is_malformed() {
        let key = TestKey::generate("k1");
        for token in ["", "abc", "a.b.c", "Bearer x.y.z"] {
            assert!(
                matches!(
                    refused(&verifier(&key), token).await,
                    AuthError::Malformed(_)
                ),
                "{token:?}"
            );
        }
    }

    #[tokio::test]
    async fn encryption_keys_in_the_set_are_skipped() {
        let key = TestKey::generate("k1");
        let mut enc = key.jwk.clone();
        enc["kid"] = json!("e1");
        enc["use"] = json!("enc");
        let settings = AuthSettings::for_issuer(ISSUER);
        let v = Verifier::with_fixed_keys(&settings, &json!({ "keys": [enc] }));
        let token = key.sign("e1", &claims(json!({})));
        assert!(matches!(refused(&v, &token).await, AuthError::UnknownKey));
    }
}
