//! kubemig: upgrade Kubernetes manifests off deprecated and removed API versions.
//!
//! Data flow, top to bottom: walk → read → prefilter → parse → plan edits → verify →
//! diff/write → report. Modules are declared in that order.

pub mod cli;
pub mod walk;
pub mod source;
pub mod prefilter;
pub mod yaml;
pub mod catalogue;
pub mod plan;
pub mod edit;
pub mod verify;
pub mod engine;
pub mod write;
pub mod report;
pub mod run;
