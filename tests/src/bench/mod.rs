//! The saga benchmark (`saga-bench`): drives the running system over its public HTTP APIs
//! only, at a fixed offered rate (open loop) or with a fixed number of clients (closed loop),
//! over a mix of customers and SKUs in which some orders fail for lack of money or stock. It
//! reports offered and completed sagas/s, order-to-terminal latency from the orders' own
//! timestamps, the CPU each process of the system spent per saga, what a saga costs in counts
//! (PostgreSQL transactions and WAL, context switches and threads, Kafka records), and the
//! orders left PENDING; then it runs the SPEC §5 invariant checker and fails if any invariant
//! is violated.
//!
//! - [`args`], [`command`]: `saga-bench`'s command line and its commands;
//! - [`system`]: where the running system is (hosts, repository, stack directory, deadline);
//! - [`run`]: one run, from a fresh mix of customers and SKUs to the invariant check;
//! - [`drive`]: the open and the closed loop;
//! - [`cpu`]: CPU seconds of the system's processes, read from `/proc`;
//! - [`switches`]: context switches and threads of the same processes, from `/proc`;
//! - [`pgstats`]: PostgreSQL's transactions and WAL, from its statistics views;
//! - [`produced`]: Kafka records produced in the run's topic namespace, from the watermarks;
//! - [`counts`]: those counts over a run, raw and per saga, as printed;
//! - [`ceiling`]: the broker's and PostgreSQL's own rates, measured in the same run;
//! - [`report`]: latency percentiles and the printed report;
//! - [`print`]: what is printed after each run;
//! - [`sweep`]: rising offered rates until the system stops keeping up, as a table and chart;
//! - [`publish`]: the sweep written into `docs/`.

pub mod args;
pub mod ceiling;
pub mod command;
pub mod counts;
pub mod cpu;
pub mod drive;
pub mod pgstats;
pub mod print;
pub mod produced;
pub mod publish;
pub mod report;
pub mod run;
pub mod sweep;
pub mod switches;
pub mod system;
