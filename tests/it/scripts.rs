//! `--scan-scripts` through the binary, on `testdata/scripts/input/` (a small repository
//! with shell scripts, a Makefile, a Dockerfile, a Jenkinsfile and a GitHub workflow):
//!
//! - `expected.check`: what `check --scan-scripts` prints (target 1.36: the flags are removed);
//! - `expected-1.30.check`: the same at `-t 1.30` (the flags are only ignored);
//! - `expected.diff`: what `diff --scan-scripts` prints;
//! - `expected/`: the tree after `fix --scan-scripts`; a second `fix` changes nothing.
//!
//! KUBEMIG_BLESS=1 rewrites the expected files.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scripts")
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
    common::copy_tree(&data().join("input"), &repo);

    let check = common::kubemig(&repo, &["check", "--scan-scripts", "."]);
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    expect("expected.check", &check.stdout);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("6 scripts scanned, 9 kubectl run commands"),
        "{stderr}"
    );

    let old = common::kubemig(&repo, &["check", "--scan-scripts", "-t", "1.30", "."]);
    assert_eq!(old.status.code(), Some(1));
    expect("expected-1.30.check", &old.stdout);

    let diff = common::kubemig(&repo, &["diff", "--scan-scripts", "."]);
    assert_eq!(diff.status.code(), Some(1));
    expect("expected.diff", &diff.stdout);

    // Without the flag, scripts are not looked at: a tree of scripts alone holds nothing to
    // scan, which is an error (exit 2), not a silent pass.
    let plain = common::kubemig(&repo, &["check", "."]);
    assert_eq!(plain.status.code(), Some(2), "{plain:?}");
    assert!(plain.stdout.is_empty(), "{plain:?}");
    assert!(
        String::from_utf8_lossy(&plain.stderr).contains("no file to scan"),
        "{plain:?}"
    );

    let fix = common::kubemig(&repo, &["fix", "--scan-scripts", "."]);
    // One command keeps a flag with a shell expansion: fix leaves it and exits 1.
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    let mut got = Vec::new();
    files(&repo, &repo, &mut got);
    let expected_dir = data().join("expected");
    if std::env::var_os("KUBEMIG_BLESS").is_some() {
        let _ = fs::remove_dir_all(&expected_dir);
        common::copy_tree(&repo, &expected_dir);
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
    let again = common::kubemig(&repo, &["diff", "--scan-scripts", "."]);
    assert!(again.stdout.is_empty(), "{again:?}");
}

/// `PATH:LINE:COL`, level, code and message of each line of `expected.check`.
fn expected_lines() -> Vec<(String, u64, u64, String, String, String)> {
    let text = fs::read_to_string(data().join("expected.check")).unwrap();
    text.lines()
        .map(|l| {
            let (head, rest) = l.split_once(": kubectl run: ").unwrap();
            let mut h = head.rsplitn(3, ':');
            let col = h.next().unwrap().parse().unwrap();
            let line = h.next().unwrap().parse().unwrap();
            let path = h.next().unwrap().to_string();
            let (level, rest) = rest.split_once(" [").unwrap();
            let (code, message) = rest.split_once("]: ").unwrap();
            (path, line, col, level.into(), code.into(), message.into())
        })
        .collect()
}

#[test]
fn json_reports_script_findings_as_kubectl_run_records() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    common::copy_tree(&data().join("input"), &repo);
    // A manifest next to the scripts: its records come first, then the scripts'.
    fs::write(
        repo.join("hpa.yaml"),
        "apiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n",
    )
    .unwrap();
    let out = common::kubemig(&repo, &["check", "--scan-scripts", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = v["findings"].as_array().unwrap();
    assert_eq!(records[0]["path"], "hpa.yaml");
    assert_eq!(records[0]["type"], "object");
    let scripts: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["kind"] == "kubectl run")
        .collect();
    let want = expected_lines();
    assert_eq!(scripts.len(), want.len());
    for (r, (path, line, col, level, code, message)) in scripts.iter().zip(&want) {
        assert_eq!(r["type"], "finding");
        assert_eq!(r["path"], path.as_str());
        assert_eq!(r["line"], *line);
        assert_eq!(r["column"], *col);
        assert_eq!(r["level"], level.as_str());
        assert_eq!(r["code"], code.as_str());
        assert_eq!(r["message"], message.as_str());
        // Every key of the schema is present; those about an object are null.
        for key in ["document", "namespace", "name", "from", "to", "migration"] {
            assert!(r[key].is_null(), "{key}: {r}");
        }
        // `fix --scan-scripts` deletes the flags unless one holds a shell expansion.
        let fixable = !message.contains("shell expansion");
        assert_eq!(r["action"], if fixable { "rewrite" } else { "manual" });
        assert_eq!(r["status"], if fixable { "migrate" } else { "blocked" });
    }
    assert_eq!(v["summary"]["files_scanned"], 1);
    assert_eq!(v["summary"]["objects_to_migrate"], 1);
    assert_eq!(v["summary"]["scripts_scanned"], 6);
    assert_eq!(v["summary"]["kubectl_run_commands"], 9);
    assert!(out.stdout.ends_with(b"}\n"));

    // Without --scan-scripts the script counts are null and there are no script records.
    let plain = common::kubemig(&repo, &["check", "--format", "json", "."]);
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v["summary"]["scripts_scanned"].is_null());
    assert!(v["summary"]["kubectl_run_commands"].is_null());
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] != "kubectl run")
    );

    // At 1.30 the flags are only ignored: warnings, and exit 1 all the same.
    let old = common::kubemig(
        &repo,
        &[
            "check",
            "--scan-scripts",
            "--format",
            "json",
            "-t",
            "1.30",
            "ci",
        ],
    );
    assert_eq!(old.status.code(), Some(1), "{old:?}");
    let v: serde_json::Value = serde_json::from_slice(&old.stdout).unwrap();
    let records = v["findings"].as_array().unwrap();
    assert_eq!(records.len(), 4);
    assert!(
        records
            .iter()
            .all(|r| r["level"] == "warning" && r["code"] == "KUBECTL-RUN-FLAG-IGNORED")
    );
    assert_eq!(v["summary"]["scripts_scanned"], 2);
}

#[test]
fn sarif_reports_script_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    common::copy_tree(&data().join("input"), &repo);
    let out = common::kubemig(
        &repo,
        &["check", "--scan-scripts", "--format", "sarif", "."],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let want = expected_lines();
    assert_eq!(results.len(), want.len());
    for (r, (path, line, col, level, code, _)) in results.iter().zip(&want) {
        let l = &r["locations"][0]["physicalLocation"];
        assert_eq!(l["artifactLocation"]["uri"], path.as_str());
        assert_eq!(l["region"]["startLine"], *line);
        assert_eq!(l["region"]["startColumn"], *col);
        assert_eq!(r["level"], level.as_str());
        assert_eq!(r["ruleId"], code.as_str());
    }
}

#[test]
fn github_format_annotates_scripts() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("smoke.sh"),
        "kubectl run a --image=x --wait\n",
    )
    .unwrap();
    let out = common::kubemig(
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

/// Script annotations go through the same escaping as every other GitHub annotation: a
/// `,` or `:` in a file name would otherwise end the `file=` property.
#[test]
fn github_annotations_of_scripts_are_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("a,b:c.sh"),
        "kubectl run a --image=x --wait\n",
    )
    .unwrap();
    let out = common::kubemig(
        tmp.path(),
        &["check", "--scan-scripts", "--format", "github", "a,b:c.sh"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "::error file=a%2Cb%3Ac.sh,line=1,col=25,title=kubemig KUBECTL-RUN-FLAG-REMOVED::"
        ),
        "{stdout}"
    );
}
