//! Assertions on who may call what (SPEC §7): a request with no token, or with one that does
//! not verify, is 401 `unauthorized` with a `WWW-Authenticate: Bearer` challenge; a valid token
//! whose holder may not do it is 403 `forbidden`. Each service's tests list their operations and
//! run them through these.

use serde_json::Value;

use super::{assert_error, Account, TestClient};

/// One request: its method, its path, and its JSON body if it has one.
pub type Call<'a> = (reqwest::Method, &'a str, Option<Value>);

/// Sends `call` through `client` (with the client's token).
pub async fn send(client: &TestClient, call: &Call<'_>) -> reqwest::Response {
    let (method, path, body) = call;
    let mut request = client.request(method.clone(), path).await;
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    request.send().await.expect("the service answers")
}

/// Asserts that each of `calls` is 401 `unauthorized` with a `Bearer` challenge, sent with no
/// token and with one that is not a JWT.
pub async fn assert_closed(client: &TestClient, calls: &[Call<'_>]) {
    for who in [client.anonymous(), client.with_token("not-a-jwt")] {
        for call in calls {
            let response = send(&who, call).await;
            let context = format!("{} {} as {:?}", call.0, call.1, who.bearer);
            let challenge = response
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("a JSON error body");
            assert_error(&(status, body), 401, "unauthorized", &context);
            assert!(
                challenge
                    .as_deref()
                    .is_some_and(|c| c.starts_with("Bearer")),
                "{context}: WWW-Authenticate is {challenge:?}"
            );
        }
    }
}

/// Asserts that each of `calls`, sent as `account`, is 403 `forbidden`.
pub async fn assert_forbidden(client: &TestClient, account: Account, calls: &[Call<'_>]) {
    let who = client.as_account(account);
    for call in calls {
        let response = send(&who, call).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("a JSON error body");
        assert_error(
            &(status, body),
            403,
            "forbidden",
            format!("{} {} as {account:?}", call.0, call.1),
        );
    }
}
