//! The development realm `saga` (`scripts/keycloak/realm-saga.json`), which `scripts/stack` and
//! compose import into Keycloak, checked as a file: what SPEC §7 and the services rely on is in
//! it, and no secret is. Keycloak itself serving it is checked by `scripts/stack up` (the
//! discovery document) and by the tests that fetch tokens.

use std::path::PathBuf;

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

fn realm() -> Value {
    let path = repo().join("scripts/keycloak/realm-saga.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the realm file is JSON")
}

fn array<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array"))
}

fn named<'a>(items: &'a [Value], key: &str, name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i[key] == name)
        .unwrap_or_else(|| panic!("no {key} {name}"))
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The development accounts (SPEC §7): name, realm role, fixed id. A customer's token's `sub`
/// is its customer id in the services, so the ids must not change from one import to the next.
const USERS: [(&str, &str, &str); 3] = [
    (
        "operator",
        "operator",
        "2c598215-9663-4012-bb19-9ac193d0f3e7",
    ),
    ("alice", "customer", "7c5f1269-908e-4cef-a5af-90e6107b32af"),
    ("bob", "customer", "a1390ae0-60db-49d7-ab4c-a7adeafea4ee"),
];

#[test]
fn the_realm_has_the_roles_and_the_development_accounts_with_fixed_ids() {
    let realm = realm();
    assert_eq!(realm["realm"], "saga");
    assert_eq!(realm["enabled"], true);
    let roles: Vec<&str> = array(&realm["roles"], "realm")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(roles, ["operator", "customer"]);
    let lifespan = realm["accessTokenLifespan"]
        .as_u64()
        .expect("accessTokenLifespan");
    assert!(
        lifespan <= 300,
        "access tokens live 5 minutes at most: {lifespan}"
    );

    let users = array(&realm, "users");
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    for (name, role, id) in USERS {
        let user = named(users, "username", name);
        assert_eq!(user["id"], id, "{name}'s id is fixed");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{name}: {id} is a UUID");
        assert_eq!(user["enabled"], true, "{name}");
        assert_eq!(user["emailVerified"], true, "{name}");
        assert!(
            strs(&user["requiredActions"]).is_empty(),
            "{name} has nothing to do before logging in"
        );
        // Listing realmRoles replaces the realm's default roles: the token's
        // realm_access.roles holds exactly this one.
        assert_eq!(strs(&user["realmRoles"]), [role], "{name}'s roles");
        let credentials = array(user, "credentials");
        assert_eq!(credentials.len(), 1, "{name}: one password");
        assert_eq!(credentials[0]["type"], "password");
        assert_eq!(
            credentials[0]["value"], name,
            "{name}: the development password is the name"
        );
        assert_eq!(credentials[0]["temporary"], false, "{name}");
        assert!(readme.contains(id), "README.md names {name}'s id {id}");
    }
}

#[test]
fn saga_cli_is_public_with_password_grants_and_pkce_for_the_console_on_any_loopback_port() {
    let realm = realm();
    let cli = named(array(&realm, "clients"), "clientId", "saga-cli");
    assert_eq!(cli["publicClient"], true);
    assert_eq!(cli["directAccessGrantsEnabled"], true, "scripts/token");
    assert_eq!(cli["standardFlowEnabled"], true, "the console's login");
    assert_eq!(cli["implicitFlowEnabled"], false);
    assert_eq!(cli["serviceAccountsEnabled"], false);
    assert_eq!(cli["attributes"]["pkce.code.challenge.method"], "S256");
    // Registered without a port, a loopback redirect URI admits any port (RFC 8252 §7.3,
    // which Keycloak follows for http://127.0.0.1, http://[::1] and http://localhost): the
    // tests serve the console on a port the system picks. Only the console's path.
    let redirects = strs(&cli["redirectUris"]);
    assert!(!redirects.is_empty());
    for uri in &redirects {
        assert!(
            ["http://127.0.0.1/", "http://[::1]/", "http://localhost/"]
                .iter()
                .any(|p| uri.starts_with(p))
                && uri.ends_with("/console")
                && !uri.contains('*'),
            "{uri}: a loopback console URI without port or wildcard"
        );
    }
    assert!(redirects.contains(&"http://127.0.0.1/console"));
}

#[test]
fn saga_tools_is_confidential_with_client_credentials_as_an_operator_and_no_secret_in_the_file() {
    let realm = realm();
    let tools = named(array(&realm, "clients"), "clientId", "saga-tools");
    assert_eq!(tools["publicClient"], false);
    assert_eq!(tools["serviceAccountsEnabled"], true);
    assert_eq!(tools["standardFlowEnabled"], false);
    assert_eq!(tools["directAccessGrantsEnabled"], false);
    assert_eq!(tools["implicitFlowEnabled"], false);
    // Filled from the environment at import: .stack/secrets/keycloak-saga-tools.password
    // locally, the credentials volume in compose.
    assert_eq!(tools["secret"], "${SAGA_TOOLS_CLIENT_SECRET}");
    let account = array(&realm, "users")
        .iter()
        .find(|u| u["serviceAccountClientId"] == "saga-tools")
        .expect("saga-tools's service account");
    assert_eq!(strs(&account["realmRoles"]), ["operator"]);
    assert!(account.get("credentials").is_none());
    // Nothing that looks like a generated secret (32 hex characters) in the file.
    let text = std::fs::read_to_string(repo().join("scripts/keycloak/realm-saga.json")).unwrap();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        assert!(
            !(word.len() >= 32 && word.chars().all(|c| c.is_ascii_hexdigit())),
            "the realm file holds what looks like a secret: {word}"
        );
    }
}

/// Without an audience mapper Keycloak's access tokens have no `aud` or `account`; the
/// services accept only `saga-api` (AUTH_AUDIENCE, SPEC §7).
#[test]
fn every_client_puts_saga_api_in_the_access_tokens_audience() {
    let realm = realm();
    let clients = array(&realm, "clients");
    assert_eq!(clients.len(), 2, "saga-cli and saga-tools");
    for client in clients {
        let id = client["clientId"].as_str().unwrap_or_default();
        assert!(
            array(client, "protocolMappers").iter().any(|m| {
                m["protocolMapper"] == "oidc-audience-mapper"
                    && m["config"]["included.custom.audience"] == "saga-api"
                    && m["config"]["access.token.claim"] == "true"
            }),
            "{id}: no audience mapper adding saga-api to access tokens"
        );
    }
}
