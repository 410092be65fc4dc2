//! CPU time of the system's processes, read from `/proc/<pid>/stat` (user + system time), so
//! that a run can say how much CPU each part spent per saga. The five services, the broker and
//! the MongoDB-protocol server (SecantusDB, inventory's store when `scripts/start
//! --inventory-store=mongodb` ran it) are found by the pid files `scripts/start` and
//! `scripts/stack` write; PostgreSQL and Redis by their process names (every `postgres`
//! process: the server and its backends).
//! A process that exits during the run takes its CPU time with it, so connection pools that
//! keep their connections are assumed (all of the services' are).

use std::collections::BTreeMap;
use std::path::Path;

/// A part of the system and the processes it runs as.
#[derive(Debug, Clone)]
pub struct Group {
    /// What the report calls it: a service's name, `kafka`, `postgres`, `redis` or `mongodb`.
    pub name: String,
    /// Its processes when the sample was taken.
    pub pids: Vec<u32>,
}

/// CPU seconds per process of each group at one moment.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// group name → (pid → CPU seconds so far).
    pub groups: BTreeMap<String, BTreeMap<u32, f64>>,
}

/// Every part of the system a run samples, by name.
pub const PARTS: [&str; 9] = [
    "customer",
    "orders",
    "inventory",
    "billing",
    "notification",
    "kafka",
    "postgres",
    "redis",
    "mongodb",
];

/// The groups of the local stack under `stack_dir` (normally `<repo>/.stack`).
pub fn groups(stack_dir: &Path) -> Vec<Group> {
    let mut groups = Vec::new();
    for service in ["customer", "orders", "inventory", "billing", "notification"] {
        groups.push(Group {
            name: service.to_owned(),
            pids: pid_file(&stack_dir.join("pids").join(format!("{service}.pid"))),
        });
    }
    groups.push(Group {
        name: "kafka".to_owned(),
        pids: pid_file(&stack_dir.join("kafka/kafka.pid")),
    });
    groups.push(Group {
        name: "postgres".to_owned(),
        pids: by_name("postgres"),
    });
    groups.push(Group {
        name: "redis".to_owned(),
        pids: by_name("redis-server"),
    });
    groups.push(Group {
        name: "mongodb".to_owned(),
        pids: pid_file(&stack_dir.join("mongodb/secantusd.pid")),
    });
    groups
}

fn pid_file(path: &Path) -> Vec<u32> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
        .into_iter()
        .collect()
}

/// Every process whose `comm` is `name`.
fn by_name(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == name)
        })
        .collect()
}

/// Clock ticks per second of `/proc`'s times (`getconf CLK_TCK`; 100 where that fails).
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU seconds of one process, from the text of its `/proc/<pid>/stat`.
pub fn cpu_seconds(stat: &str, ticks: f64) -> Option<f64> {
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks)
}

/// Samples the CPU seconds of every process of `groups` (re-reading the groups' members first,
/// so that processes started since, such as new database backends, are counted).
pub fn sample(stack_dir: &Path, ticks: f64) -> Sample {
    let mut out = Sample::default();
    for group in groups(stack_dir) {
        if group.pids.is_empty() {
            // Not found (a broker this stack did not start, say): left out, not counted as 0.
            continue;
        }
        let per_pid = group
            .pids
            .iter()
            .filter_map(|&pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                Some((pid, cpu_seconds(&stat, ticks)?))
            })
            .collect();
        out.groups.insert(group.name, per_pid);
    }
    out
}

/// CPU seconds each group spent between two samples. A process seen only in `after` started
/// in between and counts whole.
pub fn spent(before: &Sample, after: &Sample) -> BTreeMap<String, f64> {
    after
        .groups
        .iter()
        .map(|(name, pids)| {
            let earlier = before.groups.get(name);
            let total = pids
                .iter()
                .map(|(pid, &now)| now - earlier.and_then(|e| e.get(pid)).copied().unwrap_or(0.0))
                .sum();
            (name.clone(), total)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_time_even_with_spaces_in_the_name() {
        let stat = "4242 (tokio runtime) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 9 0 1000 0 0";
        assert_eq!(cpu_seconds(stat, 100.0), Some(3.0));
        assert_eq!(cpu_seconds("garbage", 100.0), None);
    }

    #[test]
    fn spent_counts_new_processes_whole_and_old_ones_by_difference() {
        let mut before = Sample::default();
        before
            .groups
            .insert("postgres".into(), BTreeMap::from([(1, 10.0)]));
        let mut after = Sample::default();
        after
            .groups
            .insert("postgres".into(), BTreeMap::from([(1, 12.5), (2, 1.0)]));
        assert_eq!(spent(&before, &after)["postgres"], 3.5);
    }

    #[test]
    fn this_process_has_a_readable_stat() {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert!(cpu_seconds(&stat, ticks_per_second()).is_some());
    }
}
