//! The verifier against the local stack's identity provider (Keycloak, realm `saga`): its
//! tokens pass with the subject and roles of the committed realm, and a provider that is
//! unreachable or names another issuer makes verification unavailable rather than a refusal.

use saga_kit::auth::{AuthError, AuthSettings, Verifier};
use saga_kit::testing::identity::{token, Account};

#[tokio::test]
async fn the_realms_tokens_pass_with_their_subject_and_roles() {
    let verifier = Verifier::new(&AuthSettings::local()).unwrap();
    for (account, operator, customer) in [
        (Account::Operator, true, false),
        (Account::Alice, false, true),
        (Account::Bob, false, true),
        (Account::Tools, true, false),
    ] {
        let caller = verifier
            .verify(&token(account).await)
            .await
            .unwrap_or_else(|e| panic!("{account:?}'s token: {e}"));
        assert_eq!(caller.subject(), account.id().to_string(), "{account:?}");
        assert_eq!(caller.is_operator(), operator, "{account:?}");
        assert_eq!(
            caller.customer_id(),
            customer.then(|| account.id()),
            "{account:?}"
        );
    }
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_not_trusted() {
    let mut settings = AuthSettings::for_issuer("http://127.0.0.1:8080/realms/elsewhere");
    settings.discovery_url = AuthSettings::local().discovery_url;
    let verifier = Verifier::new(&settings).unwrap();
    match verifier.verify(&token(Account::Alice).await).await {
        Err(AuthError::KeysUnavailable(reason)) => {
            assert!(reason.contains("names the issuer"), "{reason}")
        }
        other => panic!("expected the keys to be unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_provider_makes_verification_unavailable() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = AuthSettings::for_issuer(&format!("http://127.0.0.1:{port}/realms/saga"));
    let verifier = Verifier::new(&settings).unwrap();
    let error = verifier
        .verify(&token(Account::Alice).await)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::KeysUnavailable(_)), "{error:?}");
    assert_eq!(error.api_error().status.as_u16(), 503);
}
