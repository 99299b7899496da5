//! kubemig: upgrade Kubernetes manifests off deprecated and removed API versions.
//!
//! Data flow, top to bottom: walk → read → prefilter → parse → plan edits → verify →
//! diff/write → report. Modules are declared in that order, after the ones that drive a run
//! and before the ones other commands add. Which module may use which: docs/design.md.

// What drives a run.
/// Command-line arguments.
pub mod cli;
/// `.kubemig.toml` and its layering with the command line.
pub mod config;
/// Ctrl-C: finish the file being written, then stop.
pub mod interrupt;
/// One run of check, diff or fix.
pub mod run;
/// Files processed in parallel, reported in order.
pub mod pool;
// Walk.
/// The files to process.
pub mod walk;
/// The role kustomize gives each walked file.
pub mod kustomize;
/// Helm charts among the walked files: helpers and values files scanned as text.
pub mod chart_scan;
// Read, prefilter, and the one pipeline every file goes through.
/// Decoding a file's bytes; line and column of a byte offset.
pub mod source;
/// Whether a file can need any work, before parsing it.
pub mod prefilter;
/// One file through the pipeline.
pub mod engine;
/// What differs per input kind (plain, kustomize, Helm template); shell scripts beside them.
pub mod input;
// Parse, plan edits from the catalogue, verify.
/// The YAML parser with byte spans.
pub mod yaml;
/// The migration catalogue.
pub mod catalogue;
/// Planning the edits of one document.
pub mod plan;
/// Splicing edits into the text.
pub mod edit;
/// Self-verification of a rewrite.
pub mod verify;
// Write and report.
/// Atomic writes.
pub mod write;
/// Everything kubemig prints.
pub mod report;
// Other commands.
/// `kubemig explain`.
pub mod explain;

/// Every file under `testdata/` with its path, for unit tests that check a fast way against
/// a plain one over real manifests.
#[cfg(test)]
pub(crate) fn testdata_files() -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

/// The text of every UTF-8 file under `testdata/` ([`testdata_files`]).
#[cfg(test)]
pub(crate) fn testdata_texts() -> Vec<String> {
    testdata_files()
        .into_iter()
        .filter_map(|(_, bytes)| String::from_utf8(bytes).ok())
        .collect()
}
