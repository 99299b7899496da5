//! kubemig: upgrade Kubernetes manifests off deprecated and removed API versions.
//!
//! Data flow, top to bottom: walk → read → prefilter → parse → plan edits → verify →
//! diff/write → report. Modules are declared in that order.

pub mod catalogue;
pub mod chart_scan;
pub mod cli;
pub mod config;
pub mod edit;
pub mod engine;
pub mod explain;
pub mod interrupt;
pub mod kustomize;
pub mod plan;
pub mod prefilter;
pub mod report;
pub mod run;
pub mod scripts;
pub mod source;
pub mod suppress;
pub mod template;
pub mod verify;
pub mod walk;
pub mod write;
pub mod yaml;
