//! The tool's output: an aligned table and a per-topic count for `list`, every field of a
//! letter for `show`, a summary for `redrive`, and pretty JSON of the same records for
//! `--json`. Rendering takes `now` and the terminal width as arguments, so it is pure.
//!
//! One file per output: `table` (`list`), `show` (one letter), `report` (`redrive`) and
//! `json` (`--json`, any of them); `cell` holds what the text outputs share (an absent value,
//! an escaped field, an age).

mod cell;
#[cfg(test)]
mod fixture;
mod json;
mod report;
mod show;
mod table;

pub use json::json;
pub use report::report;
pub use show::show;
pub use table::{counts, table};
