//! Agreement with Kubernetes' own conversion code: kubectl-convert 1.20, built offline by
//! `../shared/oracle/setup.sh`. Every public-corpus document both tools can convert is
//! converted by each and the values are compared (`tests/oracle/compare.py` says how).
//!
//! The oracle is not built in CI (it needs Debian's Go toolchain and a source package), so
//! the test skips when it is absent. Point KUBEMIG_ORACLE at the directory setup.sh filled
//! (it holds `bin/kubectl-convert-ext` and `venv/bin/python`); `$HOME/oracle` and
//! `/tmp/oracle` are tried too.

use std::path::{Path, PathBuf};
use std::process::Command;

fn oracle() -> Option<PathBuf> {
    let candidates = std::env::var_os("KUBEMIG_ORACLE")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| Path::new(&h).join("oracle")))
        .chain([PathBuf::from("/tmp/oracle")]);
    candidates.into_iter().find(|d| {
        d.join("bin/kubectl-convert-ext").is_file() && d.join("venv/bin/python").is_file()
    })
}

#[test]
fn conversions_agree_with_kubectl_convert() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Some(oracle) = oracle() else {
        println!("note: kubectl-convert oracle not built (../shared/oracle/setup.sh); skipped");
        return;
    };
    if !corpus.is_dir() {
        println!("note: {} is absent; skipped", corpus.display());
        return;
    }
    let out = Command::new(oracle.join("venv/bin/python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/compare.py"))
        .arg(&oracle)
        .arg(env!("CARGO_BIN_EXE_kubemig"))
        .arg(&corpus)
        .output()
        .expect("run the comparison");
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "conversions disagree with kubectl-convert:\n{report}"
    );
    assert!(report.contains(" documents compared"), "{report}");
}
