//! `--scan-scripts` through the binary, on `testdata/scripts/input/` (a small repository
//! with shell scripts, a Makefile, a Dockerfile, a Jenkinsfile and a GitHub workflow):
//!
//! - `expected.check`: what `check --scan-scripts` prints (target 1.36: the flags are removed);
//! - `expected-1.30.check`: the same at `-t 1.30` (the flags are only ignored);
//! - `expected.diff`: what `diff --scan-scripts` prints;
//! - `expected/`: the tree after `fix --scan-scripts`; a second `fix` changes nothing.
//!
//! KUBEMIG_BLESS=1 rewrites the expected files.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scripts")
}

fn kubemig(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubemig"))
        .current_dir(dir)
        .args(args)
        .args(["--color", "never", "--no-config"])
        .output()
        .expect("run kubemig")
}

fn copy_tree(from: &Path, to: &Path) {
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

fn files(root: &Path, under: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let mut entries: Vec<_> = fs::read_dir(under).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_type().unwrap().is_dir() {
            files(root, &e.path(), out);
        } else {
            out.push((
                e.path().strip_prefix(root).unwrap().to_path_buf(),
                fs::read(e.path()).unwrap(),
            ));
        }
    }
}

fn expect(name: &str, actual: &[u8]) {
    let path = data().join(name);
    if std::env::var_os("KUBEMIG_BLESS").is_some() {
        fs::write(&path, actual).unwrap();
        return;
    }
    let want = fs::read(&path).unwrap_or_default();
    assert!(
        want == actual,
        "{}:\n--- expected\n{}\n--- actual\n{}",
        path.display(),
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(actual)
    );
}

#[test]
fn check_diff_and_fix_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_tree(&data().join("input"), &repo);

    let check = kubemig(&repo, &["check", "--scan-scripts", "."]);
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    expect("expected.check", &check.stdout);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("6 scripts scanned, 9 kubectl run commands"),
        "{stderr}"
    );

    let old = kubemig(&repo, &["check", "--scan-scripts", "-t", "1.30", "."]);
    assert_eq!(old.status.code(), Some(1));
    expect("expected-1.30.check", &old.stdout);

    let diff = kubemig(&repo, &["diff", "--scan-scripts", "."]);
    assert_eq!(diff.status.code(), Some(1));
    expect("expected.diff", &diff.stdout);

    // Without the flag, scripts are not looked at.
    let plain = kubemig(&repo, &["check", "."]);
    assert_eq!(plain.status.code(), Some(0), "{plain:?}");

    let fix = kubemig(&repo, &["fix", "--scan-scripts", "."]);
    // One command keeps a flag with a shell expansion: fix leaves it and exits 1.
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    let mut got = Vec::new();
    files(&repo, &repo, &mut got);
    let expected_dir = data().join("expected");
    if std::env::var_os("KUBEMIG_BLESS").is_some() {
        let _ = fs::remove_dir_all(&expected_dir);
        copy_tree(&repo, &expected_dir);
    } else {
        let mut want = Vec::new();
        files(&expected_dir, &expected_dir, &mut want);
        for ((gp, gb), (wp, wb)) in got.iter().zip(&want) {
            assert_eq!(gp, wp);
            assert!(
                gb == wb,
                "{}:\n--- expected\n{}\n--- actual\n{}",
                gp.display(),
                String::from_utf8_lossy(wb),
                String::from_utf8_lossy(gb)
            );
        }
        assert_eq!(got.len(), want.len());
    }
    // What `fix` wrote is exactly what `diff` showed: nothing left to delete.
    let again = kubemig(&repo, &["diff", "--scan-scripts", "."]);
    assert!(again.stdout.is_empty(), "{again:?}");
}

#[test]
fn json_and_sarif_are_refused_with_scan_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kubemig(
        tmp.path(),
        &["check", "--scan-scripts", "--format", "json", "."],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scan-scripts"));
}

#[test]
fn github_format_annotates_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("smoke.sh"),
        "kubectl run a --image=x --wait\n",
    )
    .unwrap();
    let out = kubemig(
        tmp.path(),
        &["check", "--scan-scripts", "--format", "github", "smoke.sh"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "::error file=smoke.sh,line=1,col=25,title=kubemig KUBECTL-RUN-FLAG-REMOVED::kubectl run --wait: removed in kubectl 1.31"
        ),
        "{stdout}"
    );
}
