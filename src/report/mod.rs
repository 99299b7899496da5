//! Everything kubemig prints. Only this module writes to stdout or stderr.

pub mod diff;
pub mod list;
pub mod text;
