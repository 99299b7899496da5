//! Golden tests: every directory under `testdata/golden/` is one case, run through the real
//! binary.
//!
//! - `input.yaml` (or `input.json`): the file to migrate.
//! - `args` (optional): extra arguments, e.g. `-t 1.26`, one line.
//! - `expected.yaml`: what `fix` must write; absent means the input must stay byte-identical.
//! - `expected.diff`: what `diff` must print (absent when nothing changes).
//! - `expected.check`: what `check` must print on stdout.
//! - `expected.exit` (optional): `check`'s exit status when it is not 0/1 by the above.
//!
//! Each case also checks that `fix` writes exactly what `diff` describes, that a second
//! `fix` changes nothing and that `check` then exits 0. Set KUBEMIG_BLESS=1 to rewrite the
//! expected files from the current output (then review them with `git diff`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::km;

fn kubemig(dir: &Path, args: &[&str], extra: &[String]) -> Output {
    km(dir, &args[..1])
        .args(extra)
        .args(&args[1..])
        .args(["--color", "never"])
        .output()
}

fn check_or_bless(path: &Path, actual: &[u8], failures: &mut Vec<String>) {
    let bless = std::env::var_os("KUBEMIG_BLESS").is_some();
    let expected = fs::read(path).ok();
    if bless {
        match (expected.as_deref(), actual.is_empty()) {
            (_, true) => {
                let _ = fs::remove_file(path);
            }
            (Some(e), false) if e == actual => {}
            _ => fs::write(path, actual).unwrap(),
        }
        return;
    }
    let expected = expected.unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{}:\n--- expected\n{}\n--- actual\n{}",
            path.display(),
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        ));
    }
}

fn run_case(case: &Path, failures: &mut Vec<String>) {
    let input_name = ["input.yaml", "input.json"]
        .into_iter()
        .find(|n| case.join(n).exists())
        .expect("input file");
    let ext = Path::new(input_name).extension().unwrap().to_str().unwrap();
    let input = fs::read(case.join(input_name)).unwrap();
    let extra: Vec<String> = fs::read_to_string(case.join("args"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();

    let work = tempfile::tempdir().unwrap();
    let file = work.path().join(input_name);
    fs::write(&file, &input).unwrap();

    let check = kubemig(work.path(), &["check", input_name], &extra);
    check_or_bless(&case.join("expected.check"), &check.stdout, failures);
    let diff = kubemig(work.path(), &["diff", input_name], &extra);
    check_or_bless(&case.join("expected.diff"), &diff.stdout, failures);

    let fix = kubemig(work.path(), &["fix", input_name], &extra);
    let fixed = fs::read(&file).unwrap();
    let expected_path = case.join(format!("expected.{ext}"));
    if expected_path.exists() || std::env::var_os("KUBEMIG_BLESS").is_some() {
        let want = if fixed == input {
            Vec::new()
        } else {
            fixed.clone()
        };
        check_or_bless(&expected_path, &want, failures);
    } else if fixed != input {
        failures.push(format!(
            "{}: fix changed a file that has no expected.{ext}",
            case.display()
        ));
    }

    // An internal error (self-verification failed) is never an expected outcome.
    for (name, out) in [("check", &check), ("diff", &diff), ("fix", &fix)] {
        for stream in [&out.stdout, &out.stderr] {
            if String::from_utf8_lossy(stream).contains("internal error") {
                failures.push(format!(
                    "{}: {name} reported an internal error:\n{}",
                    case.display(),
                    String::from_utf8_lossy(stream)
                ));
            }
        }
    }

    let expected_exit = fs::read_to_string(case.join("expected.exit"))
        .ok()
        .map(|s| s.trim().parse::<i32>().unwrap());
    let changed = fixed != input;
    let code = check.status.code().unwrap();
    let want_code = expected_exit.unwrap_or(if changed || !check.stdout.is_empty() {
        1
    } else {
        0
    });
    if code != want_code {
        failures.push(format!(
            "{}: check exited {code}, expected {want_code}\n{}",
            case.display(),
            String::from_utf8_lossy(&check.stderr)
        ));
    }
    if diff.status.code()
        != Some(if changed {
            1
        } else {
            want_code.min(1).max(if code == 2 { 2 } else { 0 })
        })
        && changed
    {
        failures.push(format!(
            "{}: diff exited {:?}",
            case.display(),
            diff.status.code()
        ));
    }
    if changed && fix.status.code() == Some(2) {
        failures.push(format!(
            "{}: fix exited 2: {}",
            case.display(),
            String::from_utf8_lossy(&fix.stderr)
        ));
    }

    // `git apply` of the diff produces exactly what fix wrote.
    if changed {
        let applied = tempfile::tempdir().unwrap();
        fs::write(applied.path().join(input_name), &input).unwrap();
        let patch = applied.path().join("p.diff");
        fs::write(&patch, &diff.stdout).unwrap();
        let ok = Command::new("git")
            .current_dir(applied.path())
            .args(["apply", "--unsafe-paths", "-p1", "p.diff"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok || fs::read(applied.path().join(input_name)).unwrap() != fixed {
            failures.push(format!(
                "{}: `git apply` of the diff does not give what fix wrote",
                case.display()
            ));
        }
    }

    // Idempotent: a second fix changes nothing and check is then clean of migrations.
    let again = kubemig(work.path(), &["fix", input_name], &extra);
    if fs::read(&file).unwrap() != fixed {
        failures.push(format!(
            "{}: a second fix changed the file again",
            case.display()
        ));
    }
    if changed && again.status.code() == Some(2) {
        failures.push(format!(
            "{}: second fix failed: {}",
            case.display(),
            String::from_utf8_lossy(&again.stderr)
        ));
    }
    let recheck = kubemig(work.path(), &["check", input_name], &extra);
    let recheck_out = String::from_utf8_lossy(&recheck.stdout);
    if recheck_out.lines().any(is_pending_migration) {
        failures.push(format!(
            "{}: check after fix still reports migrations:\n{recheck_out}",
            case.display()
        ));
    }
}

/// A check line `PATH:L:C: KIND NAME: FROM -> TO` (not a finding, not a blocked object).
fn is_pending_migration(line: &str) -> bool {
    let Some((_, tail)) = line.rsplit_once(": ") else {
        return false;
    };
    let parts: Vec<&str> = tail.split(' ').collect();
    parts.len() == 3 && parts[1] == "->"
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/golden");
    // KUBEMIG_GOLDEN=substring runs only the matching cases (handy while writing one).
    let only = std::env::var("KUBEMIG_GOLDEN").unwrap_or_default();
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().contains(&only))
        .collect();
    cases.sort();
    cases
}

#[test]
fn golden_cases() {
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases found");
    let mut failures = Vec::new();
    for case in &cases {
        run_case(case, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
