//! Redis's side of the least-privilege boundaries (SPEC §7, issue 22 item 7): with
//! notification's own credentials, the server itself refuses every key outside its prefix,
//! every command outside its rights (scripts included), a plaintext connection, and a missing
//! or wrong password. [`redis_refusals`] tries each and returns what the server answered, so
//! that a scenario can assert on it and print the table of boundaries.

use std::time::Duration;

use anyhow::{bail, Context};
use redis::aio::MultiplexedConnection;
use saga_messaging::redis_store::RedisSettings;
use secrecy::ExposeSecret;

/// How long one attempt may take before it counts as no answer.
const ATTEMPT: Duration = Duration::from_secs(5);

/// One boundary the server held.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// What was tried, e.g. `FLUSHALL`.
    pub attempt: String,
    /// The refusal, as the server (or the connection) gave it.
    pub error: String,
}

/// Tries everything below with `settings` (notification's: its user, password and TLS) and
/// returns each refusal. `own_prefix` is a key prefix the user may write (it writes
/// `<own_prefix>rights-probe`, which expires within a minute), to show first that the
/// connection itself works. An error names the first attempt the server allowed, or whose
/// refusal was not the expected one (`NOPERM`, `NOAUTH`, `WRONGPASS`, a failed connection).
/// With notification's default settings: `redis_refusals(&RedisSettings::from_env("notification")?,
/// "notification:")`.
///
/// | attempt | expected |
/// |---|---|
/// | `SET`, `HGETALL`, `EXISTS` on keys outside `own_prefix` (the unprefixed keys of old) | `NOPERM` (key) |
/// | `FLUSHALL`, `FLUSHDB`, `CONFIG GET`, `KEYS`, `SCAN`, `DEL` of its own key, `EVAL`, `ACL LIST`, `CLIENT LIST` | `NOPERM` (command) |
/// | its own script (`SCRIPT LOAD`, `EVALSHA`) writing a key outside the prefix | refused inside the script |
/// | the same credentials over plaintext TCP | the connection fails |
/// | no password | `NOAUTH` |
/// | a wrong password; notification's password for `default` | `WRONGPASS` |
pub async fn redis_refusals(
    settings: &RedisSettings,
    own_prefix: &str,
) -> anyhow::Result<Vec<Refusal>> {
    let user = settings.user().unwrap_or("default").to_owned();
    let mut conn = open(settings)
        .await
        .with_context(|| format!("connecting to {settings} as {user}"))?;
    let own = format!("{own_prefix}rights-probe");
    let set: Result<(), String> = run(
        &mut conn,
        redis::cmd("SET").arg(&own).arg("1").arg("PX").arg(60_000),
    )
    .await;
    if let Err(e) = set {
        bail!("{user} may not SET {own} ({e}): the probes need a working connection");
    }

    let mut refusals = Vec::new();
    let mut expect =
        |attempt: &str, outcome: Result<redis::Value, String>, wanted: &[&str]| match outcome {
            Ok(value) => {
                let answer: String = format!("{value:?}").chars().take(200).collect();
                bail!("{attempt}: allowed (answered {answer})")
            }
            Err(error) if wanted.is_empty() || wanted.iter().any(|w| error.contains(w)) => {
                refusals.push(Refusal {
                    attempt: attempt.to_owned(),
                    error,
                });
                Ok(())
            }
            Err(error) => bail!("{attempt}: refused, but not with {wanted:?}: {error}"),
        };

    // Keys outside the prefix, as every kind of command the user has.
    let outside = "outside:rights-probe";
    for (attempt, cmd) in [
        (
            format!("SET {outside}"),
            redis::cmd("SET").arg(outside).arg("1").clone(),
        ),
        (
            "HGETALL customer:<id> (no prefix)".to_owned(),
            redis::cmd("HGETALL")
                .arg("customer:00000000-0000-0000-0000-000000000000")
                .clone(),
        ),
        (
            format!("EXISTS inbox:{user}:<id> (no prefix)"),
            redis::cmd("EXISTS")
                .arg(format!("inbox:{user}:00000000-0000-0000-0000-000000000000"))
                .clone(),
        ),
    ] {
        expect(&attempt, run(&mut conn, &cmd).await, &["NOPERM"])?;
    }

    // Commands outside its rights, on keys it may touch where they take one.
    for (attempt, cmd) in [
        ("FLUSHALL", redis::cmd("FLUSHALL")),
        ("FLUSHDB", redis::cmd("FLUSHDB")),
        (
            "CONFIG GET",
            redis::cmd("CONFIG").arg("GET").arg("*").clone(),
        ),
        (
            "KEYS",
            redis::cmd("KEYS").arg(format!("{own_prefix}*")).clone(),
        ),
        ("SCAN", redis::cmd("SCAN").arg(0).clone()),
        ("DEL of its own key", redis::cmd("DEL").arg(&own).clone()),
        ("EVAL", redis::cmd("EVAL").arg("return 1").arg(0).clone()),
        ("ACL LIST", redis::cmd("ACL").arg("LIST").clone()),
        ("CLIENT LIST", redis::cmd("CLIENT").arg("LIST").clone()),
    ] {
        expect(attempt, run(&mut conn, &cmd).await, &["NOPERM"])?;
    }

    // A script of its own cannot reach further than the user: its calls are checked too.
    let sha: String = run(
        &mut conn,
        redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg("return redis.call('SET', KEYS[1], '1')"),
    )
    .await
    .map_err(|e| anyhow::anyhow!("SCRIPT LOAD (a right notification has): {e}"))?;
    expect(
        &format!("EVALSHA of its own script writing {outside}"),
        run(
            &mut conn,
            redis::cmd("EVALSHA").arg(&sha).arg(1).arg(outside),
        )
        .await,
        &["NOPERM", "can't access", "no permissions"],
    )?;

    // The same credentials without TLS.
    let plaintext = match tokio::time::timeout(ATTEMPT, open(&settings.plaintext())).await {
        Ok(Ok(mut plain)) => run(&mut plain, &redis::cmd("PING")).await,
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err(format!("no answer within {ATTEMPT:?}")),
    };
    // Any failure will do: the server answers nothing but a TLS handshake.
    expect("the same credentials over plaintext TCP", plaintext, &[])?;

    // No password, then wrong ones, sent by hand so that the server's own answer shows.
    let mut anonymous = open(&settings.as_user(&user, None))
        .await
        .context("connecting without a password (AUTH is sent by hand)")?;
    expect(
        "PING without a password",
        run(&mut anonymous, &redis::cmd("PING")).await,
        &["NOAUTH"],
    )?;
    expect(
        &format!("AUTH {user} <wrong password>"),
        run(
            &mut anonymous,
            redis::cmd("AUTH").arg(&user).arg("not-the-password"),
        )
        .await,
        &["WRONGPASS"],
    )?;
    if user != "default" {
        let password = settings
            .password()
            .context("notification's settings hold no password")?;
        expect(
            &format!("AUTH default <{user}'s password>"),
            run(
                &mut anonymous,
                redis::cmd("AUTH")
                    .arg("default")
                    .arg(password.expose_secret()),
            )
            .await,
            &["WRONGPASS"],
        )?;
    }
    Ok(refusals)
}

async fn open(settings: &RedisSettings) -> anyhow::Result<MultiplexedConnection> {
    let client = settings.client()?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(ATTEMPT)
        .set_response_timeout(ATTEMPT);
    Ok(client
        .get_multiplexed_async_connection_with_config(&config)
        .await?)
}

/// The command's answer, or its error as text (the server's code first).
async fn run<T: redis::FromRedisValue>(
    conn: &mut MultiplexedConnection,
    cmd: &redis::Cmd,
) -> Result<T, String> {
    cmd.query_async(conn).await.map_err(|e| e.to_string())
}
