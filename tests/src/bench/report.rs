//! The numbers of one run and how they are printed: rates, order-to-terminal latency
//! percentiles from the orders' own timestamps (the orders service's clock), CPU per saga, and
//! what the run counted ([`super::counts`]).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use super::counts::Counts;
use crate::client::Order;
use crate::workload::percentile;

/// What one run measured.
pub struct Report {
    /// `open` or `closed`, with its setting, for the heading.
    pub mode: String,
    /// Orders offered (placed or failed to place).
    pub offered: usize,
    /// Over how long they were offered.
    pub offered_for: Duration,
    /// The orders read back at the end.
    pub orders: Vec<Order>,
    /// Orders that could not be placed.
    pub failures: usize,
    /// CPU seconds each part of the system spent during the run.
    pub cpu: BTreeMap<String, f64>,
    /// The store inventory ran on (`postgres` or `mongodb`), as its `/ready` named it.
    pub inventory_store: Option<String>,
    /// PostgreSQL's transactions and WAL, context switches and threads, Kafka records.
    pub counts: Counts,
}

/// Latency figures in seconds.
#[derive(Debug, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// The services, as opposed to the stores and the broker, in the CPU total.
const SERVICES: [&str; 5] = ["customer", "orders", "inventory", "billing", "notification"];

impl Report {
    /// Orders that reached CONFIRMED or CANCELLED.
    pub fn terminal(&self) -> Vec<&Order> {
        self.orders.iter().filter(|o| o.is_terminal()).collect()
    }

    /// Completed sagas per second: terminal orders over the span from the first order's
    /// creation to the last one's end.
    pub fn completed_per_second(&self) -> f64 {
        let done = self.terminal();
        let first = done.iter().map(|o| o.created_at).min();
        let last = done.iter().filter_map(|o| o.terminal_at()).max();
        match (first, last) {
            (Some(a), Some(b)) if b > a => {
                done.len() as f64 / ((b - a).num_milliseconds() as f64 / 1000.0)
            }
            _ => 0.0,
        }
    }

    pub fn latency(&self) -> Option<Latency> {
        latency(&self.terminal())
    }

    /// Offered orders per second.
    pub fn offered_per_second(&self) -> f64 {
        self.offered as f64 / self.offered_for.as_secs_f64().max(1e-9)
    }

    /// CPU milliseconds per completed saga, per part of the system.
    pub fn cpu_ms_per_saga(&self) -> BTreeMap<String, f64> {
        let done = self.terminal().len().max(1) as f64;
        self.cpu
            .iter()
            .map(|(k, secs)| (k.clone(), secs * 1e3 / done))
            .collect()
    }

    /// CPU milliseconds per completed saga of the five services together.
    pub fn services_cpu_ms_per_saga(&self) -> f64 {
        let per_saga = self.cpu_ms_per_saga();
        SERVICES.iter().filter_map(|s| per_saga.get(*s)).sum()
    }

    /// The parts of the system the report shows: all of [`crate::bench::cpu::PARTS`] but the
    /// MongoDB-protocol server unless inventory is on it (`scripts/stack` runs it either way).
    pub fn parts(&self) -> Vec<&'static str> {
        crate::bench::cpu::PARTS
            .into_iter()
            .filter(|&name| name != "mongodb" || self.inventory_store.as_deref() == Some("mongodb"))
            .collect()
    }

    /// The report, as printed.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let done = self.terminal();
        let _ = writeln!(
            out,
            "saga-bench: {} (inventory on {})",
            self.mode,
            self.inventory_store
                .as_deref()
                .unwrap_or("an unknown store")
        );
        let _ = writeln!(
            out,
            "  offered    {:>8.1} sagas/s  ({} orders in {:.1}s, {} not placed)",
            self.offered_per_second(),
            self.offered,
            self.offered_for.as_secs_f64(),
            self.failures
        );
        let _ = writeln!(
            out,
            "  completed  {:>8.1} sagas/s  ({} terminal, {} not terminal)",
            self.completed_per_second(),
            done.len(),
            self.orders.len() - done.len()
        );
        if let Some(l) = self.latency() {
            let _ = writeln!(
                out,
                "  order-to-terminal latency: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                l.p50 * 1e3,
                l.p90 * 1e3,
                l.p99 * 1e3,
                l.max * 1e3
            );
        }
        if !done.is_empty() {
            let _ = writeln!(out, "  CPU per saga (ms):");
            let per_saga = self.cpu_ms_per_saga();
            for name in self.parts() {
                match per_saga.get(name) {
                    Some(ms) => {
                        let _ = writeln!(out, "    {name:<13} {ms:>7.2}");
                    }
                    None => {
                        let _ = writeln!(out, "    {name:<13}     n/a (no process found)");
                    }
                }
            }
            let _ = writeln!(
                out,
                "    {:<13} {:>7.2}",
                "five services",
                self.services_cpu_ms_per_saga()
            );
        }
        out.push_str(&self.counts.render(done.len(), &self.parts()));
        out
    }
}

/// p50/p90/p99/max of order-to-terminal time over terminal orders.
pub fn latency(orders: &[&Order]) -> Option<Latency> {
    let mut secs: Vec<f64> = orders
        .iter()
        .filter_map(|o| Some((o.terminal_at()? - o.created_at).num_microseconds()? as f64 / 1e6))
        .collect();
    if secs.is_empty() {
        return None;
    }
    secs.sort_by(f64::total_cmp);
    Some(Latency {
        p50: percentile(&secs, 50.0),
        p90: percentile(&secs, 90.0),
        p99: percentile(&secs, 99.0),
        max: *secs.last().unwrap(),
    })
}

impl Report {
    /// The figures as one JSON object, for scripts (the sweep collects these).
    pub fn json(&self) -> serde_json::Value {
        let latency = self.latency();
        serde_json::json!({
            "mode": self.mode,
            "inventory_store": self.inventory_store,
            "offered_per_second": self.offered_per_second(),
            "completed_per_second": self.completed_per_second(),
            "orders": self.orders.len(),
            "not_terminal": self.orders.len() - self.terminal().len(),
            "not_placed": self.failures,
            "latency_ms": latency.map(|l| serde_json::json!({
                "p50": l.p50 * 1e3, "p90": l.p90 * 1e3, "p99": l.p99 * 1e3, "max": l.max * 1e3,
            })),
            "cpu_ms_per_saga": self.cpu_ms_per_saga(),
            "counts": self.counts.json(self.terminal().len(), &self.parts()),
        })
    }
}
