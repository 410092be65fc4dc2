//! The scripts of the compose deployment's containers, run here: `docker/healthcheck` (the
//! services' health check) against a tiny HTTP server, and every script through `bash -n`.
//! (`docker/credentials` runs in tests/compose.rs, against the files the model names.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// Serves one request with `status_line`; returns the port and the request line it got.
fn one_shot_server(status_line: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut request_line = String::new();
        reader.read_line(&mut request_line).expect("request line");
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).expect("header");
            if header.trim().is_empty() {
                break;
            }
        }
        let mut stream = stream;
        write!(
            stream,
            "{status_line}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
        )
        .expect("respond");
        request_line.trim_end().to_owned()
    });
    (port, handle)
}

fn healthcheck(args: &[&str], http_port: Option<u16>) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("docker/healthcheck")).args(args);
    cmd.env_remove("HTTP_PORT");
    if let Some(port) = http_port {
        cmd.env("HTTP_PORT", port.to_string());
    }
    cmd.output().expect("running docker/healthcheck")
}

#[test]
fn the_health_check_script_passes_on_200_only() {
    let (port, server) = one_shot_server("HTTP/1.1 200 OK");
    let out = healthcheck(&[&port.to_string()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.join().expect("server"), "GET /health HTTP/1.1");

    // The port comes from HTTP_PORT when not given, as in the containers.
    let (port, server) = one_shot_server("HTTP/1.1 200 OK");
    let out = healthcheck(&[], Some(port));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.join().expect("server");

    let (port, server) = one_shot_server("HTTP/1.1 503 Service Unavailable");
    let out = healthcheck(&[&port.to_string(), "/ready"], None);
    assert!(!out.status.success(), "a 503 is unhealthy");
    assert_eq!(server.join().expect("server"), "GET /ready HTTP/1.1");

    let closed = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let out = healthcheck(&[&closed.to_string()], None);
    assert!(!out.status.success(), "nothing listening is unhealthy");

    let out = healthcheck(&[], None);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no port at all is a usage error"
    );
}

#[test]
fn the_demo_and_container_scripts_are_valid_bash() {
    for script in [
        "scripts/demo",
        "docker/healthcheck",
        "docker/credentials",
        "docker/kafka/start",
        "docker/keycloak/start",
        "docker/postgres/roles.sh",
    ] {
        let out = Command::new("bash")
            .arg("-n")
            .arg(repo().join(script))
            .output()
            .expect("bash -n");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
