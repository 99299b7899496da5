//! Everything kubemig prints. Only this module writes to stdout or stderr.

pub mod diff;
pub mod github;
pub mod json;
pub mod list;
pub mod machine;
pub mod progress;
pub mod sarif;
pub mod text;
