//! `scripts/stack up` is idempotent: run twice in a row, the second run starts nothing,
//! changes nothing and says so, component by component.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn stack_up() -> String {
    let out = Command::new(repo().join("scripts/stack"))
        .arg("up")
        .output()
        .expect("running scripts/stack up");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "scripts/stack up failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn broker_pid() -> Option<String> {
    std::fs::read_to_string(repo().join(".stack/kafka/kafka.pid")).ok()
}

#[test]
fn a_second_stack_up_is_a_no_op() {
    stack_up();
    let pid_before = broker_pid();
    let second = stack_up();
    let lines: Vec<&str> = second.lines().collect();
    assert_eq!(lines.len(), 3, "one line per component:\n{second}");
    for (line, component) in lines.iter().zip(["postgres", "redis", "broker"]) {
        assert!(
            line.starts_with(&format!("{component}: already running")),
            "{component} was touched on the second run: {line}"
        );
    }
    assert_eq!(broker_pid(), pid_before, "the broker was not restarted");
}
