//! How kubemig words and formats what it prints. The streams belong to `run`, which hands
//! them to these writers; a few one-line messages (`fixed N objects`, walk warnings) are
//! still written by `run/outcome.rs` itself.

pub mod diff;
pub mod github;
pub mod json;
pub mod list;
pub mod machine;
pub mod progress;
pub mod sarif;
pub mod script;
pub mod text;
pub mod workflow_command;

use std::io::{self, Write};

use crate::cli::Format;
use machine::{Collector, RunInfo};

/// Write a collected report in its format: the one place that knows every format, so that
/// each format's module depends only on [`machine`]'s model and never the other way round.
pub fn write_machine(c: &Collector, w: &mut dyn Write, info: &RunInfo) -> io::Result<()> {
    match c.format() {
        Format::Text => Ok(()),
        Format::Json => json::write(w, c, info),
        Format::Sarif => sarif::write(w, c, info),
        Format::Github => github::write(w, c, info),
    }
}
