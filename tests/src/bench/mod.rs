//! The saga benchmark (`saga-bench`): drives the running system over its public HTTP APIs
//! only, at a fixed offered rate (open loop) or with a fixed number of clients (closed loop),
//! over a mix of customers and SKUs in which some orders fail for lack of money or stock. It
//! reports offered and completed sagas/s, order-to-terminal latency from the orders' own
//! timestamps, the CPU each process of the system spent per saga, and the orders left
//! PENDING; then it runs the SPEC §5 invariant checker and fails if any invariant is violated.
//!
//! - [`cpu`]: CPU seconds of the system's processes, read from `/proc`;
//! - [`drive`]: the open and the closed loop;
//! - [`report`]: latency percentiles and the printed report.

pub mod cpu;
pub mod drive;
pub mod report;
