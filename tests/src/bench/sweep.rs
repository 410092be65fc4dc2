//! The sweep: open-loop runs at a rising offered rate until the system stops keeping up
//! (it completes under 90% of what is offered, leaves an order unfinished, or its p99 passes
//! 5 s), then a throughput/latency table and a table of the counts per saga (Markdown) and a
//! chart (SVG).

use plotters::prelude::*;

use super::counts::PerSaga;
use super::report::Report;

/// One step of the sweep.
#[derive(Debug, Clone)]
pub struct Step {
    pub offered: f64,
    pub completed: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub not_terminal: usize,
    /// CPU milliseconds per saga of the five services together.
    pub services_cpu_ms: f64,
    /// CPU milliseconds per saga of the broker, PostgreSQL and Redis.
    pub kafka_cpu_ms: f64,
    pub postgres_cpu_ms: f64,
    pub redis_cpu_ms: f64,
    /// What a saga cost in counts (transactions, WAL, context switches, Kafka records).
    pub counts: PerSaga,
    /// Every invariant held after the step.
    pub invariants_hold: bool,
}

impl Step {
    pub fn of(report: &Report, invariants_hold: bool) -> Step {
        let l = report.latency();
        let per_saga = report.cpu_ms_per_saga();
        let get = |k: &str| per_saga.get(k).copied().unwrap_or(0.0);
        Step {
            offered: report.offered_per_second(),
            completed: report.completed_per_second(),
            p50_ms: l.as_ref().map_or(f64::NAN, |l| l.p50 * 1e3),
            p90_ms: l.as_ref().map_or(f64::NAN, |l| l.p90 * 1e3),
            p99_ms: l.as_ref().map_or(f64::NAN, |l| l.p99 * 1e3),
            max_ms: l.as_ref().map_or(f64::NAN, |l| l.max * 1e3),
            not_terminal: report.orders.len() - report.terminal().len(),
            services_cpu_ms: report.services_cpu_ms_per_saga(),
            kafka_cpu_ms: get("kafka"),
            postgres_cpu_ms: get("postgres"),
            redis_cpu_ms: get("redis"),
            counts: report
                .counts
                .per_saga(report.terminal().len(), &report.parts()),
            invariants_hold,
        }
    }

    /// The system kept up at this step.
    pub fn kept_up(&self) -> bool {
        self.invariants_hold
            && self.not_terminal == 0
            && self.completed >= 0.9 * self.offered
            && self.p99_ms <= 5000.0
    }
}

/// The steps as a Markdown table.
pub fn table(steps: &[Step]) -> String {
    let mut out = String::from(
        "| offered sagas/s | completed sagas/s | p50 ms | p90 ms | p99 ms | max ms | not terminal | CPU ms/saga: services | broker | PostgreSQL | Redis | invariants |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in steps {
        out.push_str(&format!(
            "| {:.0} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} |\n",
            s.offered,
            s.completed,
            s.p50_ms,
            s.p90_ms,
            s.p99_ms,
            s.max_ms,
            s.not_terminal,
            s.services_cpu_ms,
            s.kafka_cpu_ms,
            s.postgres_cpu_ms,
            s.redis_cpu_ms,
            if s.invariants_hold { "hold" } else { "VIOLATED" }
        ));
    }
    out
}

/// The counts per completed saga of each step as a Markdown table ("n/a" where a count was not
/// taken).
pub fn counts_table(steps: &[Step]) -> String {
    let mut out = String::from(
        "| offered sagas/s | PostgreSQL transactions | WAL records | WAL full-page images | WAL KB | WAL syncs | context switches | Kafka records | Kafka dead letters |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let cell = |v: Option<f64>, decimals: usize| {
        v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.decimals$}"))
    };
    for s in steps {
        let c = &s.counts;
        out.push_str(&format!(
            "| {:.0} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            s.offered,
            cell(c.transactions, 1),
            cell(c.wal_records, 0),
            cell(c.wal_fpi, 2),
            cell(c.wal_bytes.map(|b| b / 1024.0), 1),
            cell(c.wal_syncs, 2),
            cell(c.switches, 0),
            cell(c.kafka_records, 1),
            cell(c.dead_letters, 2),
        ));
    }
    out
}

/// Completed rate and p50/p99 latency against the offered rate, as an SVG document.
pub fn chart(steps: &[Step], title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (left, right) = root.split_horizontally(450);
        let max_rate = steps.iter().map(|s| s.offered).fold(10.0, f64::max) * 1.1;
        let mut rates = ChartBuilder::on(&left)
            .caption(format!("{title}: throughput"), ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..max_rate, 0.0..max_rate)
            .map_err(|e| e.to_string())?;
        rates
            .configure_mesh()
            .x_desc("offered sagas/s")
            .y_desc("completed sagas/s")
            .draw()
            .map_err(|e| e.to_string())?;
        rates
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (max_rate, max_rate)],
                &BLACK.mix(0.3),
            ))
            .map_err(|e| e.to_string())?;
        let completed: Vec<(f64, f64)> = steps.iter().map(|s| (s.offered, s.completed)).collect();
        rates
            .draw_series(LineSeries::new(completed.clone(), &BLUE))
            .map_err(|e| e.to_string())?;
        rates
            .draw_series(completed.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))
            .map_err(|e| e.to_string())?;

        let max_ms = steps
            .iter()
            .map(|s| s.p99_ms)
            .filter(|v| v.is_finite())
            .fold(10.0, f64::max)
            * 1.1;
        let mut latency = ChartBuilder::on(&right)
            .caption(
                format!("{title}: order-to-terminal latency"),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_rate, 0.0..max_ms)
            .map_err(|e| e.to_string())?;
        latency
            .configure_mesh()
            .x_desc("offered sagas/s")
            .y_desc("ms")
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, color, pick) in [
            ("p50", GREEN, (|s: &Step| s.p50_ms) as fn(&Step) -> f64),
            ("p99", RED, |s: &Step| s.p99_ms),
        ] {
            let points: Vec<(f64, f64)> = steps.iter().map(|s| (s.offered, pick(s))).collect();
            latency
                .draw_series(LineSeries::new(points, &color))
                .map_err(|e| e.to_string())?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        }
        latency
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Replaces what stands between `<!-- sweep:begin -->` and `<!-- sweep:end -->` in `doc` (or
/// appends the block), so a sweep updates its table without touching the prose around it.
pub fn splice(doc: &str, block: &str) -> String {
    const BEGIN: &str = "<!-- sweep:begin -->";
    const END: &str = "<!-- sweep:end -->";
    let fresh = format!("{BEGIN}\n{block}{END}");
    match (doc.find(BEGIN), doc.find(END)) {
        (Some(b), Some(e)) if e > b => format!("{}{fresh}{}", &doc[..b], &doc[e + END.len()..]),
        _ => format!("{}\n{fresh}\n", doc.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(offered: f64, completed: f64, p99_ms: f64) -> Step {
        Step {
            offered,
            completed,
            p50_ms: p99_ms / 3.0,
            p90_ms: p99_ms / 2.0,
            p99_ms,
            max_ms: p99_ms * 1.5,
            not_terminal: 0,
            services_cpu_ms: 3.0,
            kafka_cpu_ms: 1.0,
            postgres_cpu_ms: 2.0,
            redis_cpu_ms: 0.1,
            counts: PerSaga {
                transactions: Some(12.0),
                wal_records: Some(166.0),
                wal_fpi: Some(0.5),
                wal_bytes: Some(26.0 * 1024.0),
                wal_syncs: Some(9.7),
                switches: Some(570.0),
                kafka_records: Some(10.0),
                dead_letters: Some(0.0),
            },
            invariants_hold: true,
        }
    }

    #[test]
    fn a_step_keeps_up_only_while_it_completes_what_is_offered_in_time() {
        assert!(step(100.0, 98.0, 200.0).kept_up());
        assert!(!step(100.0, 80.0, 200.0).kept_up(), "fell behind");
        assert!(!step(100.0, 99.0, 6000.0).kept_up(), "p99 over 5 s");
        let mut broken = step(100.0, 99.0, 100.0);
        broken.invariants_hold = false;
        assert!(!broken.kept_up());
    }

    #[test]
    fn the_table_has_a_row_per_step_and_the_chart_is_svg() {
        let steps = [step(50.0, 50.0, 80.0), step(100.0, 99.0, 150.0)];
        let table = table(&steps);
        assert_eq!(table.lines().count(), 4);
        assert!(table.contains("| 100 | 99.0 |"), "{table}");
        let svg = chart(&steps, "test").unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("p99"),
            "{}",
            &svg[..200.min(svg.len())]
        );
    }

    #[test]
    fn the_counts_table_has_a_row_per_step_and_says_what_was_not_counted() {
        let mut second = step(100.0, 99.0, 150.0);
        second.counts.wal_records = None;
        second.counts.transactions = None;
        let table = counts_table(&[step(50.0, 50.0, 80.0), second]);
        assert_eq!(table.lines().count(), 4);
        assert!(
            table.contains("| 50 | 12.0 | 166 | 0.50 | 26.0 | 9.70 | 570 | 10.0 | 0.00 |"),
            "{table}"
        );
        assert!(table.contains("| 100 | n/a | n/a | 0.50 |"), "{table}");
    }

    #[test]
    fn splice_replaces_the_marked_block_and_keeps_the_rest() {
        let doc = "# Perf\nintro\n<!-- sweep:begin -->\nold\n<!-- sweep:end -->\nafter\n";
        let out = splice(doc, "new\n");
        assert_eq!(
            out,
            "# Perf\nintro\n<!-- sweep:begin -->\nnew\n<!-- sweep:end -->\nafter\n"
        );
        assert!(
            splice("# Perf\n", "t\n").ends_with("<!-- sweep:begin -->\nt\n<!-- sweep:end -->\n")
        );
    }
}
