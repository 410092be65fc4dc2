//! A network namespace of a test's own, joined to the host by a veth pair on a private /30
//! (`10.203.<x>.<4k+1>` on the host's end, `<4k+2>` in the namespace), and a partition of
//! that link: the host's end set down, so that nothing crosses it in either direction.
//!
//! Both ends have permanent neighbour entries, so a partition is silent: the namespace's
//! packets are dropped at its end of the link (no carrier) without an ARP failure that would
//! answer `connect` with "no route to host" after three seconds. A client in the namespace
//! hears nothing, as in a real partition, and only its own timeouts end its waits. (This
//! kernel has no `netem`, nor any `tc` classifier, so `tc … loss 100%` is not available; the
//! host's end of the link keeps its address while down, so the host's processes still reach
//! what listens there.)
//!
//! Needs root and `ip` (iproute2, installed with apt-get if missing). The namespace and the
//! link are deleted when the value is dropped, on a panic too.

use std::process::{Command, Output, Stdio};

use uuid::Uuid;

/// Runs `program args…`; panics with its output if it fails.
fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {} failed ({}): {}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs Debian's `iproute2` (for `ip`) and `curl` (the readiness probe from inside the
/// namespace) if either is missing.
fn ensure_tools() {
    let missing: Vec<&str> = [("ip", "iproute2"), ("curl", "curl")]
        .into_iter()
        .filter(|(tool, _)| !have(tool))
        .map(|(_, package)| package)
        .collect();
    if missing.is_empty() {
        return;
    }
    eprintln!("e2e: installing {} with apt-get", missing.join(" "));
    run("apt-get", &["update", "-qq"]);
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    run("apt-get", &args);
}

/// A namespace, its link to the host, and their addresses.
pub struct Netns {
    /// The namespace's name (`ip netns exec <name>`).
    pub name: String,
    /// The host's end of the link.
    host_if: String,
    /// The namespace's end.
    ns_if: String,
    /// The host's address on the link: what listens here is reachable from the namespace.
    pub host_addr: String,
    /// The namespace's address.
    pub ns_addr: String,
}

impl Netns {
    /// Creates the namespace and its link, on a /30 of 10.203.0.0/16 that no address of the
    /// host is in.
    pub fn create() -> Netns {
        ensure_tools();
        let tag = &Uuid::new_v4().simple().to_string()[..8];
        let used =
            String::from_utf8_lossy(&run("ip", &["-o", "-4", "addr", "show"]).stdout).into_owned();
        let bytes = Uuid::new_v4().into_bytes();
        let (x, k) = (0..16)
            .map(|i| (bytes[i], bytes[(i + 1) % 16] % 64))
            .find(|(x, _)| !used.contains(&format!(" 10.203.{x}.")))
            .expect("a free /24 of 10.203.0.0/16");
        let net = Netns {
            name: format!("e2e-{tag}"),
            host_if: format!("e2h{}", &tag[..6]),
            ns_if: format!("e2n{}", &tag[..6]),
            host_addr: format!("10.203.{x}.{}", 4 * k as u32 + 1),
            ns_addr: format!("10.203.{x}.{}", 4 * k as u32 + 2),
        };
        run("ip", &["netns", "add", &net.name]);
        // From here on, Drop deletes what exists.
        run(
            "ip",
            &[
                "link",
                "add",
                &net.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &net.ns_if,
                "netns",
                &net.name,
            ],
        );
        let host_cidr = format!("{}/30", net.host_addr);
        let ns_cidr = format!("{}/30", net.ns_addr);
        run("ip", &["addr", "add", &host_cidr, "dev", &net.host_if]);
        run("ip", &["link", "set", &net.host_if, "up"]);
        run(
            "ip",
            &["-n", &net.name, "addr", "add", &ns_cidr, "dev", &net.ns_if],
        );
        run("ip", &["-n", &net.name, "link", "set", &net.ns_if, "up"]);
        run("ip", &["-n", &net.name, "link", "set", "lo", "up"]);
        net.pin_neighbours();
        eprintln!(
            "e2e: network namespace {} at {} (host end {} at {})",
            net.name, net.ns_addr, net.host_if, net.host_addr
        );
        net
    }

    /// Permanent neighbour entries on both ends (a link down flushes the host's).
    fn pin_neighbours(&self) {
        let host_mac = self.mac(None, &self.host_if);
        let ns_mac = self.mac(Some(&self.name), &self.ns_if);
        run(
            "ip",
            &[
                "neigh",
                "replace",
                &self.ns_addr,
                "lladdr",
                &ns_mac,
                "dev",
                &self.host_if,
                "nud",
                "permanent",
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &self.name,
                "neigh",
                "replace",
                &self.host_addr,
                "lladdr",
                &host_mac,
                "dev",
                &self.ns_if,
                "nud",
                "permanent",
            ],
        );
    }

    /// The MAC address of `interface`, in namespace `netns` (or the host's).
    fn mac(&self, netns: Option<&str>, interface: &str) -> String {
        let mut args = Vec::new();
        if let Some(ns) = netns {
            args.extend(["-n", ns]);
        }
        args.extend(["-o", "link", "show", interface]);
        let out = String::from_utf8_lossy(&run("ip", &args).stdout).into_owned();
        out.split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or_else(|| panic!("no MAC address in {out:?}"))
            .to_owned()
    }

    /// The partition: the host's end of the link goes down, and nothing crosses it.
    pub fn cut(&self) {
        run("ip", &["link", "set", &self.host_if, "down"]);
    }

    /// The link is up again, its neighbour entries restored.
    pub fn restore(&self) {
        run("ip", &["link", "set", &self.host_if, "up"]);
        self.pin_neighbours();
    }

    /// `GET url` from inside the namespace (`curl`, 10 s at most): the status (0 when nothing
    /// answered) and the body.
    pub fn http_get(&self, url: &str) -> (u16, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.name, "curl", "-s", "-m", "10"])
            .args(["-w", "\n%{http_code}", url])
            .stdin(Stdio::null())
            .output()
            .expect("running curl in the namespace");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        (code.trim().parse().unwrap_or(0), body.to_owned())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the veth pair, and with it the host's.
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
        let _ = Command::new("ip")
            .args(["link", "delete", &self.host_if])
            .stderr(Stdio::null())
            .status();
    }
}
