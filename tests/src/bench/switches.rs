//! Context switches and threads of the system's processes, read from `/proc`, for the same
//! groups as [`super::cpu`] (each service, the broker, PostgreSQL, Redis, SecantusDB).
//!
//! A thread's switches are the `voluntary_ctxt_switches` and `nonvoluntary_ctxt_switches` of
//! `/proc/<pid>/task/<tid>/status`: the kernel counts them per thread (a process's own
//! `status` gives its main thread's only), so a group's figure is the sum over every thread of
//! every process. A process's threads are the `Threads:` of `/proc/<pid>/status`.
//!
//! Like CPU time, switches are the difference between two samples, and threads and processes
//! are treated as [`super::cpu::spent`] treats processes: one seen only in the second sample
//! started in between and counts whole; one gone by then takes its switches with it (tokio's
//! blocking-pool threads, which end after 10 s idle, may so go missing).

use std::collections::BTreeMap;
use std::path::Path;

use super::cpu;

/// What one `status` file says about its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// `voluntary_ctxt_switches`: the task gave up the CPU (it waited).
    pub voluntary: u64,
    /// `nonvoluntary_ctxt_switches`: the scheduler took the CPU from it.
    pub nonvoluntary: u64,
    /// `Threads:`, the threads of its process.
    pub threads: Option<u64>,
}

impl Status {
    /// Voluntary and nonvoluntary switches together.
    pub fn switches(&self) -> u64 {
        self.voluntary + self.nonvoluntary
    }
}

/// Reads a `/proc/<pid>/status` or `/proc/<pid>/task/<tid>/status` text: `None` unless it has
/// both switch counts.
pub fn parse_status(text: &str) -> Option<Status> {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key == name).then(|| value.trim().parse::<u64>().ok())?
        })
    };
    Some(Status {
        voluntary: field("voluntary_ctxt_switches")?,
        nonvoluntary: field("nonvoluntary_ctxt_switches")?,
        threads: field("Threads"),
    })
}

/// Switches per thread and threads per process of each group at one moment.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// group name → ((pid, tid) → switches so far).
    pub switches: BTreeMap<String, BTreeMap<(u32, u32), u64>>,
    /// group name → (pid → its threads).
    pub threads: BTreeMap<String, BTreeMap<u32, u64>>,
}

/// Samples every thread of every process of the groups of the stack under `stack_dir` (their
/// members read afresh, as [`cpu::sample`] does). A group with no process found is left out.
pub fn sample(stack_dir: &Path) -> Sample {
    let mut out = Sample::default();
    for group in cpu::groups(stack_dir) {
        if group.pids.is_empty() {
            continue;
        }
        let mut switches = BTreeMap::new();
        let mut threads = BTreeMap::new();
        for &pid in &group.pids {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
            if let Some(n) = status.ok().and_then(|s| parse_status(&s)?.threads) {
                threads.insert(pid, n);
            }
            for tid in tids(pid) {
                let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status"));
                if let Some(status) = text.ok().and_then(|s| parse_status(&s)) {
                    switches.insert((pid, tid), status.switches());
                }
            }
        }
        out.switches.insert(group.name.clone(), switches);
        out.threads.insert(group.name, threads);
    }
    out
}

/// The thread ids of a process (none if it is gone).
fn tids(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The switches each group made between two samples: per thread, the difference, or the
/// whole count of a thread seen only in `after`.
pub fn spent(before: &Sample, after: &Sample) -> BTreeMap<String, u64> {
    after
        .switches
        .iter()
        .map(|(name, threads)| {
            let earlier = before.switches.get(name);
            let total = threads
                .iter()
                .map(|(id, &now)| {
                    now.saturating_sub(earlier.and_then(|e| e.get(id)).copied().unwrap_or(0))
                })
                .sum();
            (name.clone(), total)
        })
        .collect()
}

/// The threads of each group in a sample: the sum over its processes (a service is one).
pub fn threads(sample: &Sample) -> BTreeMap<String, u64> {
    sample
        .threads
        .iter()
        .map(|(name, per_pid)| (name.clone(), per_pid.values().sum()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\ttokio-runtime-w\nState:\tS (sleeping)\nTgid:\t4242\n\
        Threads:\t17\nSigQ:\t0/63378\nvoluntary_ctxt_switches:\t1200\n\
        nonvoluntary_ctxt_switches:\t34\n";

    #[test]
    fn reads_both_switch_counts_and_the_threads() {
        let status = parse_status(STATUS).unwrap();
        assert_eq!(
            status,
            Status {
                voluntary: 1200,
                nonvoluntary: 34,
                threads: Some(17)
            }
        );
        assert_eq!(status.switches(), 1234);
    }

    #[test]
    fn a_status_without_switch_counts_is_not_read() {
        assert_eq!(parse_status("Name:\tx\nThreads:\t2\n"), None);
        assert_eq!(parse_status("garbage"), None);
        // A key that only ends like the wanted one is not it.
        assert_eq!(
            parse_status("xvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t2\n"),
            None
        );
    }

    #[test]
    fn spent_counts_new_threads_whole_and_old_ones_by_difference() {
        let mut before = Sample::default();
        before.switches.insert(
            "orders".into(),
            BTreeMap::from([((10, 10), 100), ((10, 11), 50), ((10, 12), 7)]),
        );
        let mut after = Sample::default();
        // Thread 12 ended; thread 13 started.
        after.switches.insert(
            "orders".into(),
            BTreeMap::from([((10, 10), 130), ((10, 11), 55), ((10, 13), 9)]),
        );
        // A group seen only afterwards counts whole.
        after
            .switches
            .insert("redis".into(), BTreeMap::from([((20, 20), 4)]));
        let spent = spent(&before, &after);
        assert_eq!(spent["orders"], 30 + 5 + 9);
        assert_eq!(spent["redis"], 4);
    }

    #[test]
    fn threads_are_summed_over_a_groups_processes() {
        let mut sample = Sample::default();
        sample
            .threads
            .insert("postgres".into(), BTreeMap::from([(1, 1), (2, 1), (3, 1)]));
        sample
            .threads
            .insert("billing".into(), BTreeMap::from([(9, 21)]));
        let threads = threads(&sample);
        assert_eq!((threads["postgres"], threads["billing"]), (3, 21));
    }

    #[test]
    fn this_process_has_readable_thread_statuses() {
        let pid = std::process::id();
        let own = tids(pid);
        assert!(own.contains(&pid), "{own:?}");
        let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/status")).unwrap();
        assert!(parse_status(&text).is_some(), "{text}");
        let text = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(parse_status(&text).unwrap().threads.unwrap() >= 1);
    }
}
