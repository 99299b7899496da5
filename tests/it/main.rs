//! The integration tests, as one test binary (one link instead of one per file). Most run
//! the real kubemig binary through [`common::km`]; a few call the library directly
//! (property tests, the parser differential, the structural-edit property test).

mod common;

mod cli;
mod components;
mod corpus;
mod crash;
mod docs;
mod field_options;
mod golden;
mod helm;
mod helm_render;
mod hostile;
mod kustomize;
mod modules;
mod moves;
mod oracle;
mod output;
mod parser_diff;
mod precommit;
mod properties;
mod sarif;
mod schema;
mod scripts;
#[cfg(unix)]
mod signals;
mod workflow;
