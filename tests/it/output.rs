//! What a person reads: counts of objects, files kubemig refused to write, paths that match
//! nothing, one-line findings in line order, the closing hint, `--statistics`, the list of
//! files `fix` changed, and versions past the catalogue.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::Output;

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = common::kubemig(dir, args);
    (
        status.code(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// An Ingress with a removed apiVersion and a deprecated class annotation: one object, two
/// migrations (`--include-deprecated` applies the annotation's).
const INGRESS: &str = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n    kubernetes.io/ingress.class: nginx\nspec:\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n      - path: /\n        backend:\n          serviceName: web\n          servicePort: 80\n";

/// A Deployment with findings on several lines (pins of the apps/v1 move).
const DEPLOYMENT: &str = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n      - name: c\n        image: nginx\n";

#[test]
fn the_summary_counts_objects_and_names_migrations_apart() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("ing.yaml"), INGRESS).unwrap();
    let (code, stdout, stderr) = run(d.path(), &["check", "--include-deprecated", "ing.yaml"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("Ingress web: ") && !l.contains('['))
            .count(),
        2,
        "{stdout}"
    );
    assert!(
        stderr.contains("1 object to migrate (2 migrations), 1 file to change"),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("1 object can be rewritten: run `kubemig fix`\n"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn a_file_kubemig_refuses_to_write_is_an_error_not_a_human_task() {
    use std::os::unix::fs::PermissionsExt;
    // kubemig refuses by mode, so this holds for root too.
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("ing.yaml");
    fs::write(&f, INGRESS).unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o444)).unwrap();
    let (code, _, stderr) = run(d.path(), &["fix", "ing.yaml"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ing.yaml: error: is read-only"), "{stderr}");
    assert!(
        stderr.contains("0 objects migrated, 0 files changed, 0 need a human, 1 error"),
        "{stderr}"
    );
    assert!(!stderr.contains("fixed"), "{stderr}");
    assert_eq!(fs::read_to_string(&f).unwrap(), INGRESS);
}

#[test]
fn paths_that_match_nothing_are_named_and_an_empty_run_fails() {
    let d = tempfile::tempdir().unwrap();
    for dir in ["empty", "notes", "ok"] {
        fs::create_dir(d.path().join(dir)).unwrap();
    }
    fs::write(
        d.path().join("notes/a.txt"),
        "apiVersion: extensions/v1beta1\n",
    )
    .unwrap();
    fs::write(d.path().join("ok/a.yaml"), INGRESS).unwrap();
    for args in [
        &["check", "empty"][..],
        &["check", "notes"],
        &["check", "--include", "*.ymal", "ok"],
    ] {
        let (code, _, stderr) = run(d.path(), args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        let named = args.last().unwrap();
        assert!(
            stderr.contains(&format!("{named}: warning: no file to scan here")),
            "{stderr}"
        );
        assert!(
            stderr.contains("error: no file to scan in the directories named"),
            "{stderr}"
        );
    }
    assert!(
        run(d.path(), &["check", "--include", "*.ymal", "ok"])
            .2
            .contains("looked for --include *.ymal")
    );
    // Another path found something: a warning for the empty one, the verdict of the others.
    let (code, _, stderr) = run(d.path(), &["check", "ok", "empty"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("empty: warning: no file to scan here"),
        "{stderr}"
    );
    // A file named and excluded by configuration (pre-commit passes every changed file):
    // quiet, exit 0.
    let (code, _, stderr) = run(
        d.path(),
        &["check", "--force-exclude", "--exclude", "ok/", "ok/a.yaml"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn findings_are_one_line_each_in_line_order() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("d.yaml"), DEPLOYMENT).unwrap();
    let (_, stdout, _) = run(d.path(), &["check", "-v", "d.yaml"]);
    let lines: Vec<(usize, usize)> = stdout
        .lines()
        .filter(|l| l.contains(": pin [") || l.contains(": warning [") || l.contains(": info ["))
        .map(|l| {
            let mut p = l.split(':').skip(1);
            (
                p.next().unwrap().parse().unwrap(),
                p.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert!(lines.len() >= 3, "{stdout}");
    assert!(lines.is_sorted(), "findings out of line order:\n{stdout}");
    for l in stdout.lines() {
        // The message after the code: one short line, the rest in `kubemig explain`.
        let msg = l.split("]: ").nth(1).unwrap_or("");
        assert!(msg.chars().count() <= 150, "too long: {l}");
    }
}

#[test]
fn statistics_count_objects_per_migration() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("a.yaml"), INGRESS).unwrap();
    fs::write(
        d.path().join("b.yaml"),
        INGRESS.replace("name: web", "name: two"),
    )
    .unwrap();
    fs::write(d.path().join("c.yaml"), DEPLOYMENT).unwrap();
    let (code, stdout, _) = run(
        d.path(),
        &["check", "--statistics", "--include-deprecated", "."],
    );
    assert_eq!(code, Some(1));
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for want in [
        ["2", "networking/ingress-extensions-v1beta1-to-v1beta1"],
        ["2", "networking/ingress-class-annotation-to-field"],
        ["1", "apps/deployment-extensions-v1beta1-to-v1"],
    ] {
        assert!(rows.iter().any(|r| r[..2] == want), "{want:?}: {stdout}");
    }
    // Most frequent first.
    assert_eq!(rows.last().unwrap()[0], "1", "{stdout}");
    assert!(
        !stdout.contains("Ingress web"),
        "the table replaces the lines: {stdout}"
    );
    let (code, _, stderr) = run(
        d.path(),
        &["check", "--statistics", "--format", "json", "."],
    );
    assert_eq!(code, Some(2), "{stderr}");
}

#[test]
fn fix_lists_the_files_it_changed_unless_quiet() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("a.yaml"), INGRESS).unwrap();
    fs::write(
        d.path().join("b.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .unwrap();
    fs::write(
        d.path().join("c.yaml"),
        format!(
            "{DEPLOYMENT}---\n{}",
            DEPLOYMENT.replace("name: api", "name: two")
        ),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(d.path(), work.path());
    let (code, _, stderr) = run(work.path(), &["fix", "."]);
    assert_eq!(code, Some(0), "{stderr}");
    let fixed: Vec<&str> = stderr.lines().filter(|l| l.contains(": fixed ")).collect();
    assert_eq!(
        fixed,
        ["a.yaml: fixed 1 object", "c.yaml: fixed 2 objects"],
        "{stderr}"
    );
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(d.path(), work.path());
    let (code, _, stderr) = run(work.path(), &["fix", "-q", "."]);
    assert_eq!(code, Some(0));
    assert_eq!(stderr, "", "-q");
}

#[test]
fn versions_past_the_catalogue_are_the_newest_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("a.yaml"), INGRESS).unwrap();
    let (code, stdout, stderr) = run(d.path(), &["check", "-t", "1.99", "a.yaml"]);
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("kubemig: warning: --target-version 1.99 is past the newest release the catalogue knows (1."), "{stderr}");
    let (_, newest, _) = run(d.path(), &["check", "a.yaml"]);
    assert_eq!(stdout, newest);
    for spelled in ["v1.29", "1.29.3", "v1.29.0-eks.1"] {
        let (code, stdout, stderr) = run(d.path(), &["check", "-t", spelled, "a.yaml"]);
        assert_eq!(code, Some(1), "{spelled}: {stderr}");
        assert_eq!(
            stdout,
            run(d.path(), &["check", "-t", "1.29", "a.yaml"]).1,
            "{spelled}"
        );
    }
    let (code, _, stderr) = run(
        d.path(),
        &["check", "--min-version", "one.twenty", "a.yaml"],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("`one.twenty` is not a Kubernetes version"),
        "{stderr}"
    );
}

#[test]
fn stdin_filename_reads_stdin_as_that_file() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("deploy/vendor")).unwrap();
    // The file's own configuration: a target at which the Ingress must move.
    fs::write(
        d.path().join("deploy/.kubemig.toml"),
        "target-version = \"1.22\"\n",
    )
    .unwrap();
    fs::write(d.path().join("deploy/.kubemigignore"), "vendor/\n").unwrap();
    let pipe = |args: &[&str]| {
        let r = common::km(d.path(), args)
            .args(["--color", "never"])
            .stdin(INGRESS)
            .run();
        (Some(r.code), r.stdout, r.stderr)
    };
    let (code, stdout, _) = pipe(&["check", "--stdin-filename", "deploy/ing.yaml"]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.starts_with(
            "deploy/ing.yaml:1:13: Ingress web: extensions/v1beta1 -> networking.k8s.io/v1"
        ),
        "{stdout}"
    );
    let (_, _, stderr) = pipe(&[
        "check",
        "--stdin-filename",
        "deploy/ing.yaml",
        "--show-config",
    ]);
    let (_, shown, _) = pipe(&[
        "check",
        "--stdin-filename",
        "deploy/ing.yaml",
        "--show-config",
    ]);
    assert!(shown.contains("1.22"), "{shown}{stderr}");
    // Ignored as that file would be (with --force-exclude, as for named files): `fix` passes
    // the stream through, `check` is quiet.
    let (code, stdout, stderr) = pipe(&[
        "fix",
        "--force-exclude",
        "--stdin-filename",
        "deploy/vendor/ing.yaml",
        "-",
    ]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (Some(0), INGRESS, "")
    );
    let (code, stdout, _) = pipe(&["fix", "--stdin-filename", "deploy/vendor/ing.yaml"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("networking.k8s.io/v1"), "{stdout}");
    let (code, _, stderr) = pipe(&["check", "--stdin-filename", "x.yaml", "deploy"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--stdin-filename reads stdin"), "{stderr}");
}
