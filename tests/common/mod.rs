//! Helpers shared by the integration tests that work on copies of `testdata/` trees.
#![allow(dead_code)] // each test crate uses its own subset

use std::fs;
use std::path::{Path, PathBuf};

/// Copy the directory `from` to `to`, recursively (created as needed).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every file below `root`, as paths relative to it, sorted.
pub fn files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, under: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(under).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Run the kubemig binary in `dir`: no colour, and no `.kubemig.toml` from around the
/// temporary directory, so a test sees only its own flags.
/// Run kubemig; an internal error (self-verification refused its own output) fails the
/// test whatever the test expects.
pub fn kubemig(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubemig"))
        .current_dir(dir)
        .args(args)
        .args(["--color", "never", "--no-config"])
        .output()
        .expect("run kubemig");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("internal error"),
        "kubemig {args:?} reported an internal error:\n{stderr}"
    );
    out
}

/// Whether expected files are to be rewritten (`KUBEMIG_BLESS=1`) instead of compared.
pub fn bless() -> bool {
    std::env::var_os("KUBEMIG_BLESS").is_some()
}

/// Compare `actual` with the expected file at `path`, or write it there when blessing.
pub fn golden(path: &Path, actual: &[u8]) {
    if bless() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, actual).unwrap();
        return;
    }
    let want = fs::read(path).unwrap_or_default();
    assert!(
        want == actual,
        "{} differs:\n--- expected\n{}\n--- actual\n{}",
        path.display(),
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(actual)
    );
}
