//! Notification's Redis credentials outside their rights, against the real server (the local
//! stack's, or `REDIS_URL`'s): the server refuses each attempt of
//! [`saga_tests::redis_rights::redis_refusals`] with the error its boundary gives.

use saga_messaging::testing::redis_settings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_refuses_notification_outside_its_keys_commands_and_transport() {
    let settings = redis_settings();
    assert_eq!(settings.user(), Some("notification"), "{settings}");
    let refusals = saga_tests::redis_rights::redis_refusals(&settings, "notification:test:")
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    for r in &refusals {
        eprintln!("redis refused notification: {:<48} {}", r.attempt, r.error);
    }
    let tried: Vec<&str> = refusals.iter().map(|r| r.attempt.as_str()).collect();
    for attempt in [
        "SET outside:rights-probe",
        "FLUSHALL",
        "CONFIG GET",
        "KEYS",
        "the same credentials over plaintext TCP",
        "PING without a password",
        "AUTH notification <wrong password>",
        "AUTH default <notification's password>",
    ] {
        assert!(tried.contains(&attempt), "{attempt} not tried: {tried:?}");
    }
}
