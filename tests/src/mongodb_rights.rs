//! MongoDB's side of the least-privilege boundaries (SPEC §7): with inventory's own user
//! (`readWrite` on its one database, defined there), the server itself refuses every other
//! database, user administration, a plaintext connection, and a missing or wrong password.
//! [`mongodb_refusals`] tries each and returns what the server answered, so that a scenario can
//! assert on it and print the table of boundaries.
//!
//! | attempt | expected |
//! |---|---|
//! | insert into another database; drop another database | `Unauthorized` (13) |
//! | `createUser` (with the role `root`) in its own database | `Unauthorized` (13) |
//! | its own credentials over plaintext TCP | the connection fails |
//! | TLS with no credentials, then an insert into its own database | `Unauthorized` (13) |
//! | a wrong password | `AuthenticationFailed` (18) |

use std::time::Duration;

use anyhow::{bail, Context};
use mongodb::bson::doc;
use mongodb::error::{Error, ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, Credential};
use mongodb::Client;
use secrecy::{ExposeSecret, SecretString};

/// How long one attempt may take to find the server before it counts as no answer.
const ATTEMPT: Duration = Duration::from_secs(5);

/// `Unauthorized`: the user lacks the action on the resource.
const UNAUTHORIZED: i32 = 13;
/// `AuthenticationFailed`.
const AUTHENTICATION_FAILED: i32 = 18;

/// One boundary the server held.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// What was tried, e.g. `insert into database "t_…"`.
    pub attempt: String,
    /// The refusal, as the server (or the connection) gave it.
    pub error: String,
}

/// Where and as whom the probes run.
pub struct Target<'a> {
    /// The server, with its TLS options and no credential
    /// (`mongodb://127.0.0.1:27017/?replicaSet=secantus&tls=true&tlsCAFile=…`).
    pub server: &'a str,
    /// The same server with no TLS option (for the plaintext attempt).
    pub plaintext_server: &'a str,
    /// The user's database, where it is defined and holds `readWrite`.
    pub database: &'a str,
    /// Another database on the server, which the user has no right on.
    pub other_database: &'a str,
    /// The user's name and password.
    pub user: &'a str,
    pub password: &'a SecretString,
}

/// Tries everything in the module's table with `target`'s user and returns each refusal. It
/// first writes to the user's own database, to show that the credentials themselves work. An
/// error names the first attempt the server allowed, or whose refusal was not the expected one.
pub async fn mongodb_refusals(target: &Target<'_>) -> anyhow::Result<Vec<Refusal>> {
    let own = client(
        target.server,
        Some((target.user, target.password)),
        target.database,
    )
    .await?;
    own.database(target.database)
        .collection("rights_probe")
        .insert_one(doc! { "probe": 1 })
        .await
        .with_context(|| {
            format!(
                "{} may not write its own database {}: the probes need working credentials",
                target.user, target.database
            )
        })?;

    let mut refusals = Vec::new();
    let other = own.database(target.other_database);
    refusals.push(expect_code(
        format!("insert into database {:?}", target.other_database),
        other
            .collection("rights_probe")
            .insert_one(doc! { "probe": 1 })
            .await,
        UNAUTHORIZED,
    )?);
    refusals.push(expect_code(
        format!("drop database {:?}", target.other_database),
        other.drop().await,
        UNAUTHORIZED,
    )?);
    refusals.push(expect_code(
        format!("createUser in its own database {:?}", target.database),
        own.database(target.database)
            .run_command(doc! {
                "createUser": "rights_probe",
                "pwd": "rights-probe-password",
                "roles": [{ "role": "root", "db": "admin" }],
            })
            .await,
        UNAUTHORIZED,
    )?);

    // The same credentials without TLS: the server serves TLS only.
    let plain = client(
        target.plaintext_server,
        Some((target.user, target.password)),
        target.database,
    )
    .await?;
    match plain
        .database(target.database)
        .run_command(doc! { "ping": 1 })
        .await
    {
        Ok(_) => bail!("plaintext TCP with {}'s credentials: ALLOWED", target.user),
        Err(e) if is_server_answer(&e) => {
            bail!("plaintext TCP: the server answered ({e}) instead of refusing the connection")
        }
        Err(e) => refusals.push(Refusal {
            attempt: "its credentials over plaintext TCP".into(),
            error: first_line(&e),
        }),
    }

    let anonymous = client(target.server, None, target.database).await?;
    refusals.push(expect_code(
        format!(
            "insert into its own database {:?} with no credentials",
            target.database
        ),
        anonymous
            .database(target.database)
            .collection("rights_probe")
            .insert_one(doc! { "probe": 2 })
            .await,
        UNAUTHORIZED,
    )?);

    let wrong = SecretString::from("not-the-password".to_owned());
    let wrong = client(target.server, Some((target.user, &wrong)), target.database).await?;
    refusals.push(expect_code(
        "a wrong password".into(),
        wrong
            .database(target.database)
            .run_command(doc! { "ping": 1 })
            .await,
        AUTHENTICATION_FAILED,
    )?);
    Ok(refusals)
}

/// A client of `server`, logging in as `user` (defined in `database`) if given. Nothing is
/// sent until the first operation.
async fn client(
    server: &str,
    user: Option<(&str, &SecretString)>,
    database: &str,
) -> anyhow::Result<Client> {
    saga_messaging::tls::install_crypto_provider();
    let mut options = ClientOptions::parse(server)
        .await
        .with_context(|| format!("{server:?} is not a MongoDB URL"))?;
    options.server_selection_timeout = Some(ATTEMPT);
    options.connect_timeout = Some(ATTEMPT);
    options.credential = user.map(|(name, password)| {
        Credential::builder()
            .username(name.to_owned())
            .password(password.expose_secret().to_owned())
            .source(database.to_owned())
            .build()
    });
    Client::with_options(options).context("a MongoDB client")
}

/// `result` is the server's refusal with `code`, or an error naming what happened instead.
fn expect_code<T>(attempt: String, result: Result<T, Error>, code: i32) -> anyhow::Result<Refusal> {
    match result {
        Ok(_) => bail!("{attempt}: ALLOWED, expected a refusal ({code})"),
        Err(e) if code_of(&e) == Some(code) => Ok(Refusal {
            attempt,
            error: first_line(&e),
        }),
        Err(e) => bail!("{attempt}: failed, but not with {code}: {e}"),
    }
}

/// The server's error code in `e`: a command's or a write's. A failed authentication is the
/// driver's own kind, whose message carries the server's (`SCRAM failure: authentication
/// failed`; the server's code 18 is in a source the driver keeps private), so it counts as 18
/// when that message says so.
fn code_of(e: &Error) -> Option<i32> {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        ErrorKind::Authentication { message, .. }
            if message.to_lowercase().contains("authentication failed") =>
        {
            Some(AUTHENTICATION_FAILED)
        }
        _ => None,
    }
}

/// Whether `e` is an answer of the server (a command or write error), not a failed connection.
fn is_server_answer(e: &Error) -> bool {
    matches!(e.kind.as_ref(), ErrorKind::Command(_) | ErrorKind::Write(_))
}

/// The driver's message of `e`, without its `Kind: ` prefix and its labels and sources.
fn first_line(e: &Error) -> String {
    let text = e.to_string();
    let text = text.strip_prefix("Kind: ").unwrap_or(&text);
    let text = text.split(", labels:").next().unwrap_or_default();
    text.chars().take(160).collect()
}

/// [`mongodb_refusals`] for inventory's user on `plaintext_server` (no TLS option; the stack's
/// server is [`crate::mongodb::STACK_SERVER_PLAIN`]): as the operator, a fresh database with
/// the user `inventory` (`readWrite` on it alone, the stack's password) and another fresh
/// database holding one document; both are dropped afterwards, whatever the outcome.
pub async fn inventory_refusals(plaintext_server: &str) -> anyhow::Result<Vec<Refusal>> {
    let server = crate::mongodb::with_tls(plaintext_server);
    let (database, other_database) = (
        crate::mongodb::fresh_database_name(),
        crate::mongodb::fresh_database_name(),
    );
    crate::mongodb::create_service_user(&server, &database).await;
    let admin = crate::mongodb::admin_client(&server).await;
    admin
        .database(&other_database)
        .collection("kept")
        .insert_one(doc! { "owner": "another service" })
        .await
        .context("the operator writes the other database")?;
    let password = saga_messaging::secret::LocalStack::default()
        .password("mongodb-inventory")
        .context("the local stack's MongoDB inventory password")?;
    let result = mongodb_refusals(&Target {
        server: &server,
        plaintext_server,
        database: &database,
        other_database: &other_database,
        user: "inventory",
        password: &password,
    })
    .await;
    let kept = admin
        .database(&other_database)
        .collection::<mongodb::bson::Document>("kept")
        .count_documents(doc! {})
        .await;
    for db in [&database, &other_database] {
        let _ = admin
            .database(db)
            .run_command(doc! { "dropAllUsersFromDatabase": 1 })
            .await;
        let _ = admin.database(db).drop().await;
    }
    let refusals = result?;
    match kept {
        Ok(1) => Ok(refusals),
        other => bail!("the other database's document after the probes: {other:?}"),
    }
}
