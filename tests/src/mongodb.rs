//! MongoDB connection strings for inventory's MongoDB store: the stack's server (SecantusDB, a
//! one-node replica set named `secantus`), and the URL of one database on a server, which is
//! what `INVENTORY_STORE_URL` names.

use std::fmt;

/// The stack's MongoDB-protocol server (`scripts/stack up`) without credentials or database.
pub const STACK_SERVER_PLAIN: &str = "mongodb://127.0.0.1:27017/?replicaSet=secantus";

/// The stack's MongoDB-protocol server (`scripts/stack up`), with no database: TLS against the
/// stack's CA (it requires TLS and authentication; [`admin_client`] logs in as the operator).
pub fn stack_server() -> String {
    with_tls(STACK_SERVER_PLAIN)
}

/// `server` with TLS checked against the local stack's CA.
pub fn with_tls(server: &str) -> String {
    let ca = saga_messaging::secret::LocalStack::default().ca_file();
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}tls=true&tlsCAFile={}", ca.display())
}

/// The URL inventory is given for `database` on `server`: the user `user` (its password comes
/// from `INVENTORY_STORE_PASSWORD_FILE`), defined in that database, which is its one right.
pub fn service_url(server: &str, database: &str, user: &str) -> Result<String, UrlError> {
    let url = database_url(server, database)?;
    let rest = url
        .strip_prefix("mongodb://")
        .expect("database_url keeps the scheme");
    let url = format!("mongodb://{user}@{rest}");
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}authSource={database}"))
}

/// A client of `server` as the local stack's operator (root), checked with a `ping`.
pub async fn admin_client(server: &str) -> mongodb::Client {
    saga_messaging::testing::operator_client(server).await
}

/// Makes, as the operator, the user `inventory` in `database` with `readWrite` on it alone and
/// the local stack's inventory password: what inventory logs in as in a test's database.
pub async fn create_service_user(server: &str, database: &str) {
    use secrecy::ExposeSecret;

    let password = saga_messaging::secret::LocalStack::default()
        .password("mongodb-inventory")
        .expect("the local stack's MongoDB inventory password (scripts/stack up makes it)");
    admin_client(server)
        .await
        .database(database)
        .run_command(mongodb::bson::doc! {
            "createUser": "inventory",
            "pwd": password.expose_secret(),
            "roles": [{ "role": "readWrite", "db": database }],
        })
        .await
        .unwrap_or_else(|e| panic!("creating inventory's user in {database}: {e}"));
}

/// A connection string that [`database_url`] cannot put a database into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// It does not start with `mongodb://` (an `mongodb+srv://` URL included: it names no
    /// hosts to keep).
    Scheme(String),
    /// It names no host.
    NoHost(String),
    /// The database name is empty or holds a character MongoDB refuses in one.
    DatabaseName(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Scheme(url) => write!(f, "{url:?} is not a mongodb:// URL"),
            UrlError::NoHost(url) => write!(f, "{url:?} names no host"),
            UrlError::DatabaseName(name) => write!(f, "{name:?} is not a MongoDB database name"),
        }
    }
}

impl std::error::Error for UrlError {}

/// The URL of the database `database` on the server `server` names: `server`'s hosts and
/// options (`?replicaSet=…`) with `database` in place of its database, if it had one.
pub fn database_url(server: &str, database: &str) -> Result<String, UrlError> {
    const SCHEME: &str = "mongodb://";
    if database.is_empty()
        || database
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '.' | ' ' | '"' | '$' | '?' | '\0'))
    {
        return Err(UrlError::DatabaseName(database.to_owned()));
    }
    let rest = server
        .strip_prefix(SCHEME)
        .ok_or_else(|| UrlError::Scheme(server.to_owned()))?;
    // The hosts (with any user info) end at the first `/` or `?`.
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let hosts = &rest[..end];
    if hosts.is_empty() || hosts.ends_with('@') {
        return Err(UrlError::NoHost(server.to_owned()));
    }
    let options = rest[end..].find('?').map_or("", |i| &rest[end + i..]);
    Ok(format!("{SCHEME}{hosts}/{database}{options}"))
}

/// A fresh database name for one test run: `t_<uuid>`, so that leftovers are recognisable.
pub fn fresh_database_name() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_goes_between_the_hosts_and_the_options() {
        assert_eq!(
            database_url(STACK_SERVER_PLAIN, "t_1").unwrap(),
            "mongodb://127.0.0.1:27017/t_1?replicaSet=secantus"
        );
        assert_eq!(
            database_url("mongodb://a:1,b:2/?replicaSet=rs0&w=majority", "inventory").unwrap(),
            "mongodb://a:1,b:2/inventory?replicaSet=rs0&w=majority"
        );
    }

    #[test]
    fn a_service_url_names_its_user_and_authenticates_in_its_database() {
        assert_eq!(
            service_url("mongodb://h:1/?replicaSet=s&tls=true", "t_2", "inventory").unwrap(),
            "mongodb://inventory@h:1/t_2?replicaSet=s&tls=true&authSource=t_2"
        );
        assert_eq!(
            service_url("mongodb://h:1", "d", "u").unwrap(),
            "mongodb://u@h:1/d?authSource=d"
        );
    }

    #[test]
    fn a_database_in_the_server_url_is_replaced() {
        assert_eq!(
            database_url("mongodb://u:p@h:27017/old?replicaSet=s", "new").unwrap(),
            "mongodb://u:p@h:27017/new?replicaSet=s"
        );
        assert_eq!(
            database_url("mongodb://h:27017/old", "new").unwrap(),
            "mongodb://h:27017/new"
        );
    }

    #[test]
    fn a_url_without_path_or_options_gets_the_database() {
        assert_eq!(
            database_url("mongodb://h:27017", "d").unwrap(),
            "mongodb://h:27017/d"
        );
        assert_eq!(
            database_url("mongodb://h?directConnection=true", "d").unwrap(),
            "mongodb://h/d?directConnection=true"
        );
    }

    #[test]
    fn what_names_no_server_or_no_valid_database_is_refused() {
        assert!(matches!(
            database_url("postgres://h/x", "d"),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            database_url("mongodb:///?replicaSet=s", "d"),
            Err(UrlError::NoHost(_))
        ));
        assert!(matches!(
            database_url(STACK_SERVER_PLAIN, "a.b"),
            Err(UrlError::DatabaseName(_))
        ));
        assert!(matches!(
            database_url(STACK_SERVER_PLAIN, ""),
            Err(UrlError::DatabaseName(_))
        ));
    }

    #[test]
    fn fresh_names_are_recognisable_and_distinct() {
        let (a, b) = (fresh_database_name(), fresh_database_name());
        assert!(a.starts_with("t_") && a.len() == 34, "{a}");
        assert_ne!(a, b);
        assert!(database_url(STACK_SERVER_PLAIN, &a).is_ok());
    }
}
