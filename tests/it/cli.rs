//! The command-line contract, run against the real binary: commands, exit codes, stdin mode,
//! diff round trips through `git apply` and `patch -p1`, how `fix` writes files, walking,
//! determinism and version selection.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::common::{self, km, snapshot, write};

// ---------------------------------------------------------------------------------------
// Fixtures

const HPA_V2BETA2: &str = "\
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
";

const HPA_V2: &str = "\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 70
";

const HPA_V2BETA1: &str = "\
# HPA on the old API; this comment stays
apiVersion: autoscaling/v2beta1
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      targetAverageUtilization: 60 # percent
";

const HPA_V2BETA1_FIXED: &str = "\
# HPA on the old API; this comment stays
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: api
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 60 # percent
";

/// A v2beta1 HPA that v2beta1 validation rejects: `fix` must leave it to a human.
const HPA_BLOCKED: &str = "\
apiVersion: autoscaling/v2beta1
kind: HorizontalPodAutoscaler
metadata:
  name: blocked
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: blocked
  maxReplicas: 3
  metrics:
  - type: Pods
    pods:
      metricName: rps
";

/// A ConfigMap, then a FlowSchema and a PriorityLevelConfiguration on flowcontrol v1beta1.
const FLOWCONTROL_V1BETA1: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  key: value
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta1
kind: FlowSchema
metadata:
  name: batch-jobs
spec:
  priorityLevelConfiguration:
    name: batch
  matchingPrecedence: 500
---
apiVersion: flowcontrol.apiserver.k8s.io/v1beta1
kind: PriorityLevelConfiguration
metadata:
  name: batch
spec:
  type: Limited
  limited:
    assuredConcurrencyShares: 20
    limitResponse:
      type: Reject
";

const PLC_V1BETA2: &str = "\
apiVersion: flowcontrol.apiserver.k8s.io/v1beta2
kind: PriorityLevelConfiguration
metadata:
  name: batch
spec:
  type: Limited
  limited:
    assuredConcurrencyShares: 20
    limitResponse:
      type: Reject
";

const CONFIGMAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
data:
  note: mentions nothing old
";

const HPA_JSON: &str = r#"{
  "apiVersion": "autoscaling/v2beta1",
  "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "j", "namespace": "ns"},
  "spec": {
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "j"},
    "maxReplicas": 3,
    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "targetAverageUtilization": 50}}]
  }
}
"#;

/// Invalid YAML that mentions an old apiVersion, so it is parsed with or without prefilter.
const INVALID: &str = "\
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata: {name: [
";

const WEB_LINE: &str = "HorizontalPodAutoscaler shop/web: autoscaling/v2beta2 -> autoscaling/v2";

// ---------------------------------------------------------------------------------------
// Harness

fn read(dir: &Path, rel: &str) -> String {
    fs::read_to_string(dir.join(rel)).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in snapshot(from) {
        write(to, rel.to_str().unwrap(), bytes);
    }
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

/// `PATH:LINE:COL: error: MESSAGE` with numeric LINE and COL.
fn is_positioned_error(line: &str, path: &str) -> bool {
    let Some(rest) = line.strip_prefix(&format!("{path}:")) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(l), Some(c), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    l.parse::<usize>().is_ok_and(|n| n > 0)
        && c.parse::<usize>().is_ok_and(|n| n > 0)
        && tail.starts_with(" error: ")
        && tail.len() > " error: ".len()
}

fn mtime(p: &Path) -> SystemTime {
    fs::symlink_metadata(p).unwrap().modified().unwrap()
}

fn set_old_mtime(p: &Path) -> SystemTime {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
    assert_eq!(mtime(p), t);
    t
}

#[cfg(unix)]
fn inode(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(p).unwrap().ino()
}

fn no_temp_files_left(dir: &Path) {
    let left: Vec<_> = snapshot(dir)
        .into_keys()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".kubemig-")
        })
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

/// A tree with every kind of input: migrations in several files and directories, a clean
/// file, a no-trailing-newline file, a CRLF file, JSON, `.yml`.
fn sample_tree(dir: &Path) {
    write(dir, "apps/web/hpa.yaml", HPA_V2BETA2);
    write(dir, "apps/api/hpa.yml", HPA_V2BETA1);
    write(dir, "apps/api/hpa.json", HPA_JSON);
    write(dir, "cluster/flowcontrol.yaml", FLOWCONTROL_V1BETA1);
    write(dir, "cluster/configmap.yaml", CONFIGMAP);
    write(
        dir,
        "no-newline.yaml",
        HPA_V2BETA1.strip_suffix('\n').unwrap(),
    );
    write(dir, "crlf.yaml", HPA_V2BETA1.replace('\n', "\r\n"));
}

// ---------------------------------------------------------------------------------------
// check

#[test]
fn check_lists_one_line_per_object_and_exits_1() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    write(t.path(), "flow.yaml", FLOWCONTROL_V1BETA1);
    write(t.path(), "sub/api.yml", HPA_V2BETA1);
    write(t.path(), "cm.yaml", CONFIGMAP);
    let before = snapshot(t.path());

    let r = km(t.path(), &["check"]).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        lines(&r.stdout),
        [
            "flow.yaml:8:13: FlowSchema batch-jobs: flowcontrol.apiserver.k8s.io/v1beta1 -> flowcontrol.apiserver.k8s.io/v1",
            "flow.yaml:17:13: PriorityLevelConfiguration batch: flowcontrol.apiserver.k8s.io/v1beta1 -> flowcontrol.apiserver.k8s.io/v1",
            &format!("hpa.yaml:1:13: {WEB_LINE}"),
            "sub/api.yml:2:13: HorizontalPodAutoscaler api: autoscaling/v2beta1 -> autoscaling/v2",
        ]
    );
    // check changes nothing.
    assert_eq!(snapshot(t.path()), before);

    // The same with explicit paths, `.` and `./`.
    for args in [
        &["check", "."][..],
        &["check", "./"],
        &["check", "cm.yaml", "flow.yaml", "hpa.yaml", "sub"],
    ] {
        let again = km(t.path(), args).run();
        assert_eq!(again.code, 1);
        assert_eq!(again.stdout, r.stdout, "{args:?}");
    }
}

#[test]
fn check_exits_0_when_nothing_needs_migrating() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "cm.yaml", CONFIGMAP);
    write(t.path(), "hpa.yaml", HPA_V2);
    let r = km(t.path(), &["check"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "");
    let r = km(
        t.path(),
        &["check", "--no-prefilter", "cm.yaml", "hpa.yaml"],
    )
    .run();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "");

    // A directory with nothing to scan (`.` by default) is a mistake worth failing on
    // (issue 12: no silent green); files named and excluded stay a quiet 0 (tests/output.rs).
    let empty = tempfile::tempdir().unwrap();
    let r = km(empty.path(), &["check"]).run();
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(".: warning: no file to scan here"),
        "{r:?}"
    );
}

#[test]
fn check_reports_what_needs_a_human() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "blocked.yaml", HPA_BLOCKED);
    let r = km(t.path(), &["check", "blocked.yaml"]).run();
    assert_eq!(r.code, 1, "{r:?}");
    let out = lines(&r.stdout);
    assert!(
        out[0].starts_with(
            "blocked.yaml:1:13: HorizontalPodAutoscaler blocked: autoscaling/v2beta1 -> autoscaling/v2: "
        ),
        "{out:?}"
    );
    assert!(out[0].ends_with("needs a human"), "{out:?}");
    assert!(
        out[1..]
            .iter()
            .any(|l| l.starts_with("blocked.yaml:14:7: ")),
        "the reason is reported where it is: {out:?}"
    );
}

// ---------------------------------------------------------------------------------------
// diff and fix

#[test]
fn diff_prints_unified_diffs_and_exits_1() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "api.yaml", HPA_V2BETA1);
    write(t.path(), "cm.yaml", CONFIGMAP);
    let r = km(t.path(), &["diff"]).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.stdout,
        "\
--- a/api.yaml
+++ b/api.yaml
@@ -1,5 +1,5 @@
 # HPA on the old API; this comment stays
-apiVersion: autoscaling/v2beta1
+apiVersion: autoscaling/v2
 kind: HorizontalPodAutoscaler
 metadata:
   name: api
@@ -13,4 +13,6 @@
   - type: Resource
     resource:
       name: cpu
-      targetAverageUtilization: 60 # percent
+      target:
+        type: Utilization
+        averageUtilization: 60 # percent
"
    );
    assert!(!r.stdout.contains('\x1b'), "no colour when piped");

    // Nothing to do: no output, exit 0.
    let r = km(t.path(), &["diff", "cm.yaml"]).run();
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");
}

#[test]
fn diff_headers_use_the_path_as_walked() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "sub/dir/x.yaml", HPA_V2BETA2);
    for (arg, name) in [
        ("sub", "sub/dir/x.yaml"),
        ("sub/", "sub/dir/x.yaml"),
        ("./sub", "sub/dir/x.yaml"),
        ("sub/dir/x.yaml", "sub/dir/x.yaml"),
        ("./sub/dir/x.yaml", "sub/dir/x.yaml"),
        (".", "sub/dir/x.yaml"),
    ] {
        let r = km(t.path(), &["diff", arg]).run();
        assert_eq!(r.code, 1);
        assert!(
            r.stdout
                .starts_with(&format!("--- a/{name}\n+++ b/{name}\n@@ ")),
            "diff {arg}: {}",
            r.stdout
        );
    }
    let r = km(&t.path().join("sub"), &["diff"]).run();
    assert!(r.stdout.starts_with("--- a/dir/x.yaml\n+++ b/dir/x.yaml\n"));
}

#[cfg(unix)]
#[test]
fn diff_colours_on_a_terminal() {
    // `script` gives the command a pseudo-terminal; without it this cannot be checked.
    let Ok(script) = Command::new("script").arg("--version").output() else {
        eprintln!("note: `script` is not installed; terminal colour not checked");
        return;
    };
    if !script.status.success() {
        eprintln!("note: `script` does not work here; terminal colour not checked");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let on_tty = |extra: &str| {
        let cmd = format!("{} diff {extra} hpa.yaml", quote(common::BIN));
        let out = Command::new("script")
            .current_dir(t.path())
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .args(["-qec", &cmd, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let auto = on_tty("");
    assert!(
        auto.contains("\x1b["),
        "auto on a terminal colours: {auto:?}"
    );
    assert!(auto.contains("autoscaling/v2"));
    let never = on_tty("--color never");
    assert!(!never.contains('\x1b'), "{never:?}");
    assert!(never.contains("autoscaling/v2"));
}

#[test]
fn diff_colour_only_when_asked_or_on_a_terminal() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    let plain = km(t.path(), &["diff"]).run();
    let never = km(t.path(), &["diff", "--color", "never"]).run();
    let auto = km(t.path(), &["diff", "--color=auto"]).run();
    let always = km(t.path(), &["diff", "--color", "always"]).run();
    assert!(!plain.stdout.contains('\x1b'));
    assert_eq!(never.stdout, plain.stdout);
    assert_eq!(auto.stdout, plain.stdout);
    assert!(always.stdout.contains("\x1b["), "{:?}", always.stdout);
    assert_eq!(always.code, 1);
    // Colour is decoration only: stripping it gives the plain diff back.
    let mut stripped = String::new();
    let mut chars = always.stdout.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            stripped.push(c);
        }
    }
    assert_eq!(stripped, plain.stdout);
}

#[test]
fn fix_rewrites_in_place_and_is_idempotent() {
    let t = tempfile::tempdir().unwrap();
    sample_tree(t.path());
    let r = km(t.path(), &["fix"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "", "fix on files prints nothing on stdout");
    assert_eq!(read(t.path(), "apps/web/hpa.yaml"), HPA_V2);
    assert_eq!(read(t.path(), "apps/api/hpa.yml"), HPA_V2BETA1_FIXED);
    assert_eq!(
        read(t.path(), "no-newline.yaml"),
        HPA_V2BETA1_FIXED.strip_suffix('\n').unwrap()
    );
    assert_eq!(
        read(t.path(), "crlf.yaml"),
        HPA_V2BETA1_FIXED.replace('\n', "\r\n")
    );
    let flow = read(t.path(), "cluster/flowcontrol.yaml");
    assert!(flow.contains("apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema"));
    assert!(
        flow.contains(
            "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: PriorityLevelConfiguration"
        )
    );
    assert!(
        flow.contains("    nominalConcurrencyShares: 20\n"),
        "{flow}"
    );
    assert!(!flow.contains("assuredConcurrencyShares"));
    assert!(flow.starts_with("apiVersion: v1\nkind: ConfigMap\n"));
    assert_eq!(read(t.path(), "cluster/configmap.yaml"), CONFIGMAP);
    no_temp_files_left(t.path());

    let fixed = snapshot(t.path());
    let again = km(t.path(), &["fix"]).run();
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(snapshot(t.path()), fixed, "a second fix changes nothing");
    for cmd in ["check", "diff"] {
        let r = km(t.path(), &[cmd]).run();
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (0, ""),
            "{cmd} after fix: {r:?}"
        );
    }
}

#[test]
fn fix_writes_exactly_what_diff_shows_via_git_apply_and_patch() {
    let t = tempfile::tempdir().unwrap();
    let orig = t.path().join("orig");
    sample_tree(&orig);
    // Same content under a second root, to diff with a relative directory argument.
    let d = km(&orig, &["diff"]).run();
    assert_eq!(d.code, 1, "{d:?}");
    assert!(!d.stdout.contains('\x1b'));
    // Every changed file appears once, in sorted order.
    let headers: Vec<&str> = d
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("--- a/"))
        .collect();
    assert_eq!(
        headers,
        [
            "apps/api/hpa.json",
            "apps/api/hpa.yml",
            "apps/web/hpa.yaml",
            "cluster/flowcontrol.yaml",
            "crlf.yaml",
            "no-newline.yaml",
        ]
    );
    let patch_file = t.path().join("changes.diff");
    fs::write(&patch_file, &d.stdout).unwrap();

    let fixed = t.path().join("fixed");
    copy_tree(&orig, &fixed);
    let f = km(&fixed, &["fix"]).run();
    assert_eq!(f.code, 0, "{f:?}");
    let want = snapshot(&fixed);
    assert_ne!(want, snapshot(&orig));

    let git = t.path().join("git");
    copy_tree(&orig, &git);
    let out = Command::new("git")
        .current_dir(&git)
        .env("GIT_CEILING_DIRECTORIES", t.path())
        .args(["apply", "--whitespace=nowarn"])
        .arg(&patch_file)
        .output()
        .expect("run git apply");
    assert!(
        out.status.success(),
        "git apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(snapshot(&git), want, "git apply gives what fix writes");

    let patched = t.path().join("patch");
    copy_tree(&orig, &patched);
    let out = Command::new("patch")
        .current_dir(&patched)
        .args(["-p1", "--batch", "--no-backup-if-mismatch", "-i"])
        .arg(&patch_file)
        .output()
        .expect("run patch");
    assert!(
        out.status.success(),
        "patch: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(snapshot(&patched), want, "patch -p1 gives what fix writes");

    // Diff of a relative subdirectory, applied from the root of the tree.
    let sub = km(&orig, &["diff", "apps"]).run();
    let sub_tree = t.path().join("sub");
    copy_tree(&orig, &sub_tree);
    let out = Command::new("git")
        .current_dir(&sub_tree)
        .env("GIT_CEILING_DIRECTORIES", t.path())
        .args(["apply", "--whitespace=nowarn", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(sub.stdout.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    for rel in ["apps/api/hpa.json", "apps/api/hpa.yml", "apps/web/hpa.yaml"] {
        assert_eq!(read(&sub_tree, rel), read(&fixed, rel), "{rel}");
    }
    assert_eq!(read(&sub_tree, "crlf.yaml"), read(&orig, "crlf.yaml"));
}

/// Apply `diff`'s output to a copy of `orig` with `git apply` and with `patch -p1`, and
/// compare both with what `fix` writes.
fn assert_round_trips(orig: &Path) {
    let t = tempfile::tempdir().unwrap();
    let d = km(orig, &["diff"]).run();
    assert_eq!(d.code, 1, "{d:?}");
    let patch_file = t.path().join("changes.diff");
    fs::write(&patch_file, &d.stdout).unwrap();
    let fixed = t.path().join("fixed");
    copy_tree(orig, &fixed);
    assert_eq!(km(&fixed, &["fix"]).run().code, 0);
    let want = snapshot(&fixed);
    let tools: [(&str, &[&str]); 2] = [
        ("git", &["apply", "--whitespace=nowarn"]),
        (
            "patch",
            &["-p1", "--batch", "--no-backup-if-mismatch", "-i"],
        ),
    ];
    for (tool, args) in tools {
        let dir = t.path().join(tool);
        copy_tree(orig, &dir);
        let out = Command::new(tool)
            .current_dir(&dir)
            .env("GIT_CEILING_DIRECTORIES", t.path())
            .args(args)
            .arg(&patch_file)
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            d.stdout
        );
        assert_eq!(snapshot(&dir), want, "{tool} gives what fix writes");
    }
}

#[cfg(unix)]
#[test]
fn diff_round_trips_with_awkward_file_names() {
    let t = tempfile::tempdir().unwrap();
    for name in [
        "with space.yaml",
        "dir with space/x.yaml",
        "q\"uote.yaml",
        "back\\slash.yaml",
        "tab\tname.yaml",
        "ünïcödé.yaml",
        "-dash.yaml",
    ] {
        write(t.path(), name, HPA_V2BETA1);
    }
    assert_round_trips(t.path());
}

#[test]
fn same_file_named_twice_is_processed_once() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "sub/a.yaml", HPA_V2BETA2);
    let abs = t.path().join("sub/a.yaml");
    let abs = abs.to_str().unwrap();
    let args = [
        "sub",
        "sub/a.yaml",
        "./sub/a.yaml",
        "sub/../sub/a.yaml",
        abs,
    ];
    let r = km(t.path(), &[&["check"][..], &args].concat()).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let r = km(t.path(), &[&["fix"][..], &args].concat()).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(read(t.path(), "sub/a.yaml"), HPA_V2);
}

#[test]
fn fix_exits_1_when_a_human_is_needed_and_leaves_that_file_alone() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "blocked.yaml", HPA_BLOCKED);
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    let r = km(t.path(), &["fix"]).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(read(t.path(), "blocked.yaml"), HPA_BLOCKED);
    assert_eq!(read(t.path(), "hpa.yaml"), HPA_V2);
    assert!(r.stderr.contains("blocked.yaml:1:13: "), "{}", r.stderr);

    let d = km(t.path(), &["diff"]).run();
    assert_eq!((d.code, d.stdout.as_str()), (1, ""), "{d:?}");
    let c = km(t.path(), &["check"]).run();
    assert_eq!(c.code, 1);
    assert!(c.stdout.starts_with("blocked.yaml:1:13: "));
}

// ---------------------------------------------------------------------------------------
// stdin

#[test]
fn check_stdin() {
    let t = tempfile::tempdir().unwrap();
    let r = km(t.path(), &["check", "-"]).stdin(HPA_V2BETA2).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stdout, format!("<stdin>:1:13: {WEB_LINE}\n"));

    let r = km(t.path(), &["check", "-"]).stdin(CONFIGMAP).run();
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");

    // stdin with files: stdin first, then the files in order.
    write(t.path(), "api.yaml", HPA_V2BETA1);
    let r = km(t.path(), &["check", "api.yaml", "-"])
        .stdin(HPA_V2BETA2)
        .run();
    assert_eq!(r.code, 1);
    assert_eq!(
        lines(&r.stdout),
        [
            format!("<stdin>:1:13: {WEB_LINE}"),
            "api.yaml:2:13: HorizontalPodAutoscaler api: autoscaling/v2beta1 -> autoscaling/v2"
                .to_string(),
        ]
    );

    let r = km(t.path(), &["check", "-"]).stdin(INVALID).run();
    assert_eq!(r.code, 2, "{r:?}");
    let errs: Vec<_> = r
        .stderr
        .lines()
        .filter(|l| is_positioned_error(l, "<stdin>"))
        .collect();
    assert_eq!(errs.len(), 1, "{}", r.stderr);
    assert!(errs[0].starts_with("<stdin>:3:"), "{errs:?}");
}

#[test]
fn diff_stdin() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "api.yaml", HPA_V2BETA1);
    let from_file = km(t.path(), &["diff", "api.yaml"]).run();
    let r = km(t.path(), &["diff", "-"]).stdin(HPA_V2BETA1).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.starts_with("--- a/<stdin>\n+++ b/<stdin>\n@@ "));
    assert_eq!(r.stdout, from_file.stdout.replace("api.yaml", "<stdin>"));

    let r = km(t.path(), &["diff", "-"]).stdin(CONFIGMAP).run();
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");
}

#[test]
fn fix_stdin_is_a_filter() {
    let t = tempfile::tempdir().unwrap();
    let r = km(t.path(), &["fix", "-"]).stdin(HPA_V2BETA1).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, HPA_V2BETA1_FIXED);
    let r = km(t.path(), &["fix", "-"])
        .stdin(HPA_V2BETA1.replace('\n', "\r\n"))
        .run();
    assert_eq!(r.stdout, HPA_V2BETA1_FIXED.replace('\n', "\r\n"));

    // Nothing to migrate: the stream comes out unchanged.
    for input in [CONFIGMAP, HPA_V2, ""] {
        let r = km(t.path(), &["fix", "-"]).stdin(input).run();
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.stdout, input);
    }

    // Something a human must do: unchanged, exit 1.
    let r = km(t.path(), &["fix", "-"]).stdin(HPA_BLOCKED).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stdout, HPA_BLOCKED);

    // Invalid: reported, exit 2, the stream is not lost.
    let r = km(t.path(), &["fix", "-"]).stdin(INVALID).run();
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stdout, INVALID);
    assert!(
        r.stderr.lines().any(|l| is_positioned_error(l, "<stdin>")),
        "{}",
        r.stderr
    );
    // Byte for byte, even what a terminal would take for colour codes.
    let odd = format!("{INVALID}# \x1b[31mred\x1b[0m\n");
    let r = km(t.path(), &["fix", "-"]).stdin(odd.as_str()).run();
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stdout, odd);

    // The target version applies to stdin too.
    let r = km(t.path(), &["fix", "-t", "1.26", "-"])
        .stdin(FLOWCONTROL_V1BETA1)
        .run();
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("flowcontrol.apiserver.k8s.io/v1beta2"));
    assert!(r.stdout.contains("assuredConcurrencyShares: 20"));

    // No file in the directory was created or touched.
    assert!(snapshot(t.path()).is_empty());
}

// ---------------------------------------------------------------------------------------
// errors

#[test]
fn invalid_yaml_is_reported_with_its_position_and_other_files_are_still_processed() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a-good.yaml", HPA_V2BETA2);
    write(t.path(), "b-bad.yaml", INVALID);
    write(t.path(), "c-good.yaml", HPA_V2BETA1);

    let r = km(t.path(), &["check"]).run();
    assert_eq!(r.code, 2, "the error wins over findings: {r:?}");
    let errs: Vec<_> = r.stderr.lines().filter(|l| l.contains("error")).collect();
    assert!(
        errs.iter()
            .filter(|l| !l.starts_with("kubemig: "))
            .all(|l| is_positioned_error(l, "b-bad.yaml")),
        "{errs:?}"
    );
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("b-bad.yaml:3:") && is_positioned_error(l, "b-bad.yaml")),
        "{}",
        r.stderr
    );
    assert_eq!(
        lines(&r.stdout),
        [
            format!("a-good.yaml:1:13: {WEB_LINE}"),
            "c-good.yaml:2:13: HorizontalPodAutoscaler api: autoscaling/v2beta1 -> autoscaling/v2"
                .to_string(),
        ]
    );

    let d = km(t.path(), &["diff"]).run();
    assert_eq!(d.code, 2, "{d:?}");
    assert!(d.stdout.contains("--- a/a-good.yaml\n"));
    assert!(d.stdout.contains("--- a/c-good.yaml\n"));
    assert!(!d.stdout.contains("b-bad.yaml"));

    let f = km(t.path(), &["fix"]).run();
    assert_eq!(f.code, 2, "{f:?}");
    assert_eq!(read(t.path(), "a-good.yaml"), HPA_V2);
    assert_eq!(read(t.path(), "b-bad.yaml"), INVALID);
    assert_eq!(read(t.path(), "c-good.yaml"), HPA_V2BETA1_FIXED);

    // After fixing, only the error is left.
    let r = km(t.path(), &["check"]).run();
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
}

#[test]
fn undecodable_and_missing_files_are_errors() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "binary.yaml",
        b"apiVersion: v1\n\xff\xfe\x00garbage",
    );
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    for cmd in ["check", "diff", "fix"] {
        let r = km(t.path(), &[cmd, "binary.yaml", "missing.yaml", "hpa.yaml"]).run();
        assert_eq!(r.code, 2, "{cmd}: {r:?}");
        assert!(
            r.stderr
                .lines()
                .any(|l| l.starts_with("binary.yaml: error: ")),
            "{cmd}: {}",
            r.stderr
        );
        assert!(
            r.stderr
                .lines()
                .any(|l| l.starts_with("missing.yaml: error: ")),
            "{cmd}: {}",
            r.stderr
        );
    }
    assert_eq!(
        read(t.path(), "hpa.yaml"),
        HPA_V2,
        "the good file was fixed"
    );
    assert!(!t.path().join("missing.yaml").exists());
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_an_error_and_others_are_processed() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let locked = write(t.path(), "locked.yaml", HPA_V2BETA2);
    let locked_dir = t.path().join("locked-dir");
    write(t.path(), "locked-dir/inside.yaml", HPA_V2BETA2);
    write(t.path(), "open.yaml", HPA_V2BETA1);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o000)).unwrap();
    let restore = || {
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o755)).unwrap();
    };
    // Root reads a mode 000 file: run kubemig as `nobody`, who owns the tree, from a copy of
    // the binary (the build directory may not be open to other users).
    let as_user = fs::read(&locked).is_ok().then(|| {
        const NOBODY: u32 = 65534;
        let bin = t.path().join("bin/kubemig");
        fs::create_dir_all(bin.parent().unwrap()).unwrap();
        fs::copy(common::BIN, &bin).unwrap();
        let (bin_dir, open) = (t.path().join("bin"), t.path().join("open.yaml"));
        for p in [t.path(), &bin_dir, &bin, &locked, &locked_dir, &open] {
            std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        (bin, NOBODY)
    });
    for cmd in ["check", "diff", "fix"] {
        let r = km(t.path(), &[cmd]).run_as(as_user.clone()).run();
        assert_eq!(r.code, 2, "{cmd}: {r:?}");
        let errors: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.contains(": error: "))
            .collect();
        assert_eq!(errors.len(), 2, "{cmd}: {}", r.stderr);
        assert!(errors[0].starts_with("locked-dir: error: "), "{errors:?}");
        assert!(errors[1].starts_with("locked.yaml: error: "), "{errors:?}");
        if cmd == "check" {
            assert!(r.stdout.contains("open.yaml:2:13: "), "{}", r.stdout);
        }
    }
    assert_eq!(read(t.path(), "open.yaml"), HPA_V2BETA1_FIXED);
    restore();
    assert_eq!(read(t.path(), "locked.yaml"), HPA_V2BETA2);
    assert_eq!(read(t.path(), "locked-dir/inside.yaml"), HPA_V2BETA2);
}

#[test]
fn bad_arguments_exit_2() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    let before = snapshot(t.path());
    for args in [
        &[][..],
        &["frobnicate"],
        &["check", "--bogus"],
        &["fix", "--bogus"],
        &["check", "-t", "abc"],
        &["check", "-t", "1"],
        &["check", "--target-version"],
        &["check", "--min-version", "one.two"],
        &["diff", "--color", "sometimes"],
        &["list", "hpa.yaml"],
        &["list", "-t", "x.y"],
        &["fix", "-t", "1.26", "--min-version", "1.27"],
        &["check", "--min-version", "99.0"],
        &["list", "-t", "1.26", "--min-version", "1.30"],
    ] {
        let r = km(t.path(), args).run();
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stdout, "", "{args:?}");
        assert!(!r.stderr.is_empty(), "{args:?}");
    }
    assert_eq!(snapshot(t.path()), before, "nothing was written");
}

#[test]
fn min_version_newer_than_target_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    for cmd in ["check", "diff", "fix"] {
        let r = km(t.path(), &[cmd, "-t", "1.26", "--min-version", "1.27"]).run();
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("--min-version"), "{}", r.stderr);
    }
    assert_eq!(read(t.path(), "hpa.yaml"), HPA_V2BETA2);
    // Equal is fine.
    let r = km(t.path(), &["check", "-t", "1.26", "--min-version", "1.26"]).run();
    assert_eq!(r.code, 1, "{r:?}");
}

#[test]
fn help_and_version_exit_0() {
    let t = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["--version"], &["check", "--help"]] {
        let r = km(t.path(), args).run();
        assert_eq!(r.code, 0, "{args:?}");
        assert!(!r.stdout.is_empty());
    }
}

/// Runs kubemig with stdout and stderr pipes whose reading ends are closed at once, like
/// `kubemig fix 2>&1 | head -1`.
fn run_with_closed_output(dir: &Path, args: &[&str]) -> i32 {
    let mut child = km(dir, args).command().spawn().unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {status:?}"))
}

#[test]
fn closed_output_does_not_stop_fix_or_hide_the_status() {
    let t = tempfile::tempdir().unwrap();
    // Files that print something (needing a human) between files to fix.
    for i in 0..60 {
        let text = if i % 2 == 0 { HPA_BLOCKED } else { HPA_V2BETA2 };
        write(t.path(), &format!("f{i:02}.yaml"), text);
    }
    assert_eq!(run_with_closed_output(t.path(), &["check"]), 1);
    assert_eq!(run_with_closed_output(t.path(), &["diff"]), 1);
    assert_eq!(run_with_closed_output(t.path(), &["fix"]), 1);
    for i in (1..60).step_by(2) {
        assert_eq!(
            read(t.path(), &format!("f{i:02}.yaml")),
            HPA_V2,
            "f{i:02}.yaml"
        );
    }
}

// ---------------------------------------------------------------------------------------
// how fix writes

#[test]
fn fix_never_touches_files_that_need_no_change() {
    let t = tempfile::tempdir().unwrap();
    let cm = write(t.path(), "cm.yaml", CONFIGMAP);
    let current = write(t.path(), "current.yaml", HPA_V2);
    let json = write(
        t.path(),
        "plain.json",
        "{\"apiVersion\": \"v1\", \"kind\": \"List\"}\n",
    );
    // Mentions an old apiVersion, so it is parsed, but nothing in it is an old object.
    let mention = write(
        t.path(),
        "mention.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\ndata:\n  old: autoscaling/v2beta2\n",
    );
    let hpa = write(t.path(), "hpa.yaml", HPA_V2BETA2);
    let untouched = [&cm, &current, &json, &mention];
    let times: Vec<_> = untouched.iter().map(|p| set_old_mtime(p)).collect();
    #[cfg(unix)]
    let inodes: Vec<_> = untouched.iter().map(|p| inode(p)).collect();
    let hpa_time = set_old_mtime(&hpa);

    for args in [&["fix"][..], &["fix", "--no-prefilter"]] {
        let r = km(t.path(), args).run();
        assert_eq!(r.code, 0, "{r:?}");
        for (p, t) in untouched.iter().zip(&times) {
            assert_eq!(mtime(p), *t, "{} was touched", p.display());
        }
        #[cfg(unix)]
        for (p, i) in untouched.iter().zip(&inodes) {
            assert_eq!(inode(p), *i, "{} was replaced", p.display());
        }
    }
    assert_ne!(mtime(&hpa), hpa_time, "the migrated file was written");
    assert_eq!(fs::read_to_string(&hpa).unwrap(), HPA_V2);
    assert_eq!(fs::read_to_string(&cm).unwrap(), CONFIGMAP);
}

#[cfg(unix)]
#[test]
fn fix_replaces_atomically_and_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let a = write(t.path(), "a.yaml", HPA_V2BETA2);
    let b = write(t.path(), "b.yml", HPA_V2BETA1);
    let c = write(t.path(), "c.yaml", FLOWCONTROL_V1BETA1);
    fs::set_permissions(&a, fs::Permissions::from_mode(0o640)).unwrap();
    fs::set_permissions(&b, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&c, fs::Permissions::from_mode(0o604)).unwrap();
    let before = [inode(&a), inode(&b), inode(&c)];

    let r = km(t.path(), &["fix"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&a), 0o640);
    assert_eq!(mode(&b), 0o755);
    assert_eq!(mode(&c), 0o604);
    assert_eq!(fs::read_to_string(&a).unwrap(), HPA_V2);
    assert_eq!(fs::read_to_string(&b).unwrap(), HPA_V2BETA1_FIXED);
    assert!(
        fs::read_to_string(&c)
            .unwrap()
            .contains("nominalConcurrencyShares")
    );
    // Replaced by rename, not rewritten in place.
    let after = [inode(&a), inode(&b), inode(&c)];
    for (x, y) in before.iter().zip(&after) {
        assert_ne!(x, y);
    }
    no_temp_files_left(t.path());
}

#[cfg(unix)]
#[test]
fn fix_does_not_write_through_a_named_symlink() {
    let t = tempfile::tempdir().unwrap();
    let target = write(t.path(), "real/hpa.yaml", HPA_V2BETA2);
    let link = t.path().join("link.yaml");
    std::os::unix::fs::symlink("real/hpa.yaml", &link).unwrap();
    write(t.path(), "other.yaml", HPA_V2BETA1);

    let r = km(t.path(), &["fix", "link.yaml", "other.yaml"]).run();
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("link.yaml: error: ") && l.contains("symlink")),
        "{}",
        r.stderr
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), HPA_V2BETA2);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(read(t.path(), "other.yaml"), HPA_V2BETA1_FIXED);
    no_temp_files_left(t.path());
}

#[cfg(unix)]
#[test]
fn walked_directories_do_not_follow_symlinks() {
    let t = tempfile::tempdir().unwrap();
    let outside = write(t.path(), "outside/hpa.yaml", HPA_V2BETA2);
    let root = t.path().join("root");
    write(&root, "cm.yaml", CONFIGMAP);
    std::os::unix::fs::symlink("../outside/hpa.yaml", root.join("file-link.yaml")).unwrap();
    std::os::unix::fs::symlink("../outside", root.join("dir-link")).unwrap();
    std::os::unix::fs::symlink("nowhere.yaml", root.join("dangling.yaml")).unwrap();

    for cmd in ["check", "diff", "fix"] {
        let r = km(&root, &[cmd]).run();
        assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{cmd}: {r:?}");
    }
    assert_eq!(fs::read_to_string(&outside).unwrap(), HPA_V2BETA2);
    assert!(
        fs::symlink_metadata(root.join("file-link.yaml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

// ---------------------------------------------------------------------------------------
// walking

#[test]
fn walk_picks_manifest_extensions_and_skips_hidden_directories() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    write(d, "a.yaml", HPA_V2BETA2);
    write(d, "b.yml", HPA_V2BETA2);
    write(d, "c.json", HPA_JSON);
    write(d, "deep/er/d.yaml", HPA_V2BETA2);
    for ignored in [
        "e.txt",
        "f.yaml.bak",
        "g.yamlx",
        "yaml",
        "h.toml",
        ".git/config.yaml",
        ".git/objects/x.yml",
        ".hidden/i.yaml",
        "sub/.cache/j.json",
    ] {
        write(d, ignored, HPA_V2BETA2);
    }
    let before = snapshot(d);
    let r = km(d, &["check"]).run();
    assert_eq!(r.code, 1, "{r:?}");
    let files: Vec<&str> = r
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(files, ["a.yaml", "b.yml", "c.json", "deep/er/d.yaml"]);
    assert!(r.stdout.contains(
        "c.json:2:17: HorizontalPodAutoscaler ns/j: autoscaling/v2beta1 -> autoscaling/v2"
    ));

    let f = km(d, &["fix"]).run();
    assert_eq!(f.code, 0, "{f:?}");
    let after = snapshot(d);
    for (rel, bytes) in &before {
        let name = rel.to_str().unwrap();
        let changed = after[rel] != *bytes;
        let expect = ["a.yaml", "b.yml", "c.json", "deep/er/d.yaml"].contains(&name);
        assert_eq!(changed, expect, "{name}");
    }

    // A file named explicitly is processed whatever its extension.
    let r = km(d, &["check", "e.txt"]).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.starts_with("e.txt:1:13: "));
}

#[test]
fn output_is_deterministic_across_thread_counts() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for i in 0..24 {
        let (text, ext) = match i % 6 {
            0 => (HPA_V2BETA2, "yaml"),
            1 => (HPA_V2BETA1, "yml"),
            2 => (FLOWCONTROL_V1BETA1, "yaml"),
            3 => (CONFIGMAP, "yaml"),
            4 => (HPA_JSON, "json"),
            _ => (HPA_BLOCKED, "yaml"),
        };
        write(
            d,
            &format!("dir{}/sub{}/file{i:02}.{ext}", i % 3, i % 2),
            text,
        );
    }
    write(d, "dir1/broken.yaml", INVALID);

    let mut seen = Vec::new();
    for threads in ["1", "2", "8"] {
        let mut outs = Vec::new();
        for cmd in ["check", "diff"] {
            let r = km(d, &[cmd]).env("RAYON_NUM_THREADS", threads).run();
            assert_eq!(r.code, 2);
            outs.push(r);
        }
        let copy = tempfile::tempdir().unwrap();
        copy_tree(d, copy.path());
        let r = km(copy.path(), &["fix"])
            .env("RAYON_NUM_THREADS", threads)
            .run();
        outs.push(r);
        seen.push((threads, outs, snapshot(copy.path())));
    }
    for (threads, outs, tree) in &seen[1..] {
        assert_eq!(
            outs, &seen[0].1,
            "RAYON_NUM_THREADS={threads} differs from 1"
        );
        assert_eq!(
            tree, &seen[0].2,
            "RAYON_NUM_THREADS={threads} fixes differently"
        );
    }

    // --threads / -j sets the same thing from the command line; 0 is refused.
    for flag in [["--threads", "1"], ["-j", "3"]] {
        let r = km(d, &["check", flag[0], flag[1]]).run();
        assert_eq!(r, seen[0].1[0], "{flag:?}");
    }
    let r = km(d, &["check", "-j", "0"]).run();
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--threads"), "{}", r.stderr);

    // Files come out in sorted path order.
    let check = &seen[0].1[0].stdout;
    let mut order: Vec<&str> = check
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    order.dedup();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    assert_eq!(order, sorted);
    assert_eq!(order.len(), 20, "{check}");
}

// ---------------------------------------------------------------------------------------
// versions

/// `list` output as rows of whitespace-separated cells, keyed by (FROM, KIND).
fn list_rows(out: &str) -> BTreeMap<(String, String), Vec<String>> {
    out.lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            ((cells[0].clone(), cells[1].clone()), cells)
        })
        .collect()
}

fn newest(dir: &Path) -> String {
    let r = km(dir, &["list"]).run();
    let header = r.stdout.lines().next().unwrap();
    let at = header.split("AT ").nth(1).unwrap();
    at.split_whitespace().next().unwrap().to_string()
}

#[test]
fn list_prints_the_catalogue() {
    let t = tempfile::tempdir().unwrap();
    let r = km(t.path(), &["list"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    let header: Vec<&str> = r
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let newest = newest(t.path());
    assert_eq!(
        header,
        [
            "FROM",
            "KIND",
            "DEPRECATED",
            "REMOVED",
            "REPLACEMENT",
            "SINCE",
            "CLASS",
            "AT",
            &newest,
            "MIGRATION"
        ]
    );
    // Columns are aligned: every row starts its KIND cell at the same column.
    let kind_col = r.stdout.lines().next().unwrap().find("KIND").unwrap();
    for l in r.stdout.lines().skip(1) {
        assert_eq!(&l[kind_col - 2..kind_col], "  ", "{l}");
        assert_ne!(&l[kind_col..kind_col + 1], " ", "{l}");
    }

    let fc = "flowcontrol.apiserver.k8s.io";
    let rows = list_rows(&r.stdout);
    let row = |api: &str, kind: &str| rows[&(api.to_string(), kind.to_string())].clone();
    let hpa = row("autoscaling/v2beta2", "HorizontalPodAutoscaler");
    assert_eq!(
        &hpa[2..],
        [
            "1.23",
            "1.26",
            "autoscaling/v2",
            "1.23",
            "auto+manual",
            "autoscaling/v2",
            "autoscaling/hpa-v2beta2-to-v2"
        ]
    );
    let plc = row(&format!("{fc}/v1beta1"), "PriorityLevelConfiguration");
    assert_eq!(&plc[2..4], ["1.23", "1.26"]);
    assert_eq!(plc[6], "auto+pins");
    assert_eq!(plc[7], format!("{fc}/v1"));
    assert_eq!(
        row(&format!("{fc}/v1beta1"), "FlowSchema")[7],
        format!("{fc}/v1")
    );
    assert_eq!(
        row("autoscaling/v2beta1", "HorizontalPodAutoscaler")[7],
        "autoscaling/v2"
    );
    assert_eq!(
        row("policy/v1beta1", "PodSecurityPolicy")[7],
        "needs-a-human"
    );

    // The default target is the newest release the catalogue knows.
    let explicit = km(t.path(), &["list", "-t", &newest]).run();
    assert_eq!(explicit.stdout, r.stdout);
    let long = km(t.path(), &["list", "--target-version", &newest]).run();
    assert_eq!(long.stdout, r.stdout);
}

#[test]
fn list_with_target_version() {
    let t = tempfile::tempdir().unwrap();
    let r = km(t.path(), &["list", "-t", "1.26"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    let header: Vec<&str> = r
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(header[7..9], ["AT", "1.26"]);
    let fc = "flowcontrol.apiserver.k8s.io";
    let rows = list_rows(&r.stdout);
    let row = |api: &str, kind: &str| rows[&(api.to_string(), kind.to_string())].clone();
    assert_eq!(
        row(&format!("{fc}/v1beta1"), "PriorityLevelConfiguration")[7],
        format!("{fc}/v1beta2")
    );
    assert_eq!(
        row(&format!("{fc}/v1beta1"), "FlowSchema")[7],
        format!("{fc}/v1beta2")
    );
    assert_eq!(
        row("autoscaling/v2beta2", "HorizontalPodAutoscaler")[7],
        "autoscaling/v2"
    );
    // v1beta2 is served but deprecated at 1.26.
    let v1beta2 = row(&format!("{fc}/v1beta2"), "PriorityLevelConfiguration");
    assert_eq!(v1beta2[7], "deprecated", "{v1beta2:?}");
    // Only what matters at 1.26 is listed: v1beta3 is deprecated from 1.29.
    assert!(!rows.contains_key(&(format!("{fc}/v1beta3"), "FlowSchema".to_string())));
    assert_ne!(r.stdout, km(t.path(), &["list"]).run().stdout);
}

#[test]
fn target_1_26_versus_the_default_target() {
    let t = tempfile::tempdir().unwrap();
    let fc = "flowcontrol.apiserver.k8s.io";

    let old = tempfile::tempdir().unwrap();
    write(old.path(), "flow.yaml", FLOWCONTROL_V1BETA1);
    write(old.path(), "hpa.yaml", HPA_V2BETA2);
    let r = km(old.path(), &["check", "-t", "1.26"]).run();
    assert_eq!(r.code, 1);
    assert_eq!(
        lines(&r.stdout),
        [
            format!("flow.yaml:8:13: FlowSchema batch-jobs: {fc}/v1beta1 -> {fc}/v1beta2"),
            // v1beta3 would break 1.23 to 1.25; v1beta2, deprecated at 1.26, is named with
            // the release that removes it.
            format!(
                "flow.yaml:8:13: FlowSchema batch-jobs: warning [G-CHOSEN-DEPRECATED]: {fc}/v1beta2 is deprecated too: removed in 1.29, migrate again before then"
            ),
            format!(
                "flow.yaml:17:13: PriorityLevelConfiguration batch: {fc}/v1beta1 -> {fc}/v1beta2"
            ),
            format!(
                "flow.yaml:17:13: PriorityLevelConfiguration batch: warning [G-CHOSEN-DEPRECATED]: {fc}/v1beta2 is deprecated too: removed in 1.29, migrate again before then"
            ),
            format!("hpa.yaml:1:13: {WEB_LINE}"),
        ]
    );
    let r = km(old.path(), &["fix", "--target-version", "1.26"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        read(old.path(), "flow.yaml"),
        FLOWCONTROL_V1BETA1.replace(&format!("{fc}/v1beta1"), &format!("{fc}/v1beta2"))
    );
    assert_eq!(read(old.path(), "hpa.yaml"), HPA_V2);
    // Done for 1.26; the default target still wants more.
    assert_eq!(km(old.path(), &["check", "-t", "1.26"]).run().code, 0);
    assert_eq!(km(old.path(), &["check"]).run().code, 1);

    write(t.path(), "flow.yaml", FLOWCONTROL_V1BETA1);
    let r = km(t.path(), &["fix"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    let flow = read(t.path(), "flow.yaml");
    assert_eq!(
        flow.matches(&format!("apiVersion: {fc}/v1\n")).count(),
        2,
        "{flow}"
    );
    assert!(flow.contains("nominalConcurrencyShares: 20"));
    assert!(!flow.contains("assuredConcurrencyShares"));

    // The default target equals naming the newest release explicitly.
    write(t.path(), "again.yaml", FLOWCONTROL_V1BETA1);
    let newest = newest(t.path());
    let a = km(t.path(), &["diff"]).run();
    let b = km(t.path(), &["diff", "-t", &newest]).run();
    assert_eq!((a.code, &a.stdout), (b.code, &b.stdout));
}

#[test]
fn min_version_defaults_to_target_minus_3() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    write(t.path(), "flow.yaml", FLOWCONTROL_V1BETA1);
    let default = km(t.path(), &["check", "-t", "1.26"]).run();
    let explicit = km(t.path(), &["check", "-t", "1.26", "--min-version", "1.23"]).run();
    assert_eq!(default, explicit);
    assert!(
        !default.stdout.contains("--min-version"),
        "{}",
        default.stdout
    );
    // autoscaling/v2 is served from 1.23: a window that starts earlier gets a warning.
    let r = km(
        t.path(),
        &["check", "-t", "1.26", "--min-version", "1.22", "hpa.yaml"],
    )
    .run();
    assert_eq!(r.code, 1, "{r:?}");
    let out = lines(&r.stdout);
    assert_eq!(out[0], format!("hpa.yaml:1:13: {WEB_LINE}"));
    assert!(
        out[1..].iter().any(|l| l.starts_with("hpa.yaml:")
            && l.contains("1.22")
            && l.contains("--min-version")),
        "{out:?}"
    );
}

#[test]
fn verbose_shows_informational_findings() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "hpa.yaml",
        format!("{HPA_V2BETA2}status:\n  currentReplicas: 2\n  desiredReplicas: 2\n"),
    );
    let quiet = km(t.path(), &["check"]).run();
    let verbose = km(t.path(), &["check", "--verbose"]).run();
    let short = km(t.path(), &["check", "-v"]).run();
    assert_eq!((quiet.code, verbose.code), (1, 1));
    assert_eq!(verbose, short);
    assert_eq!(quiet.stdout, format!("hpa.yaml:1:13: {WEB_LINE}\n"));
    assert!(verbose.stdout.starts_with(&quiet.stdout));
    assert!(
        verbose
            .stdout
            .lines()
            .skip(1)
            .all(|l| l.starts_with("hpa.yaml:")),
        "{}",
        verbose.stdout
    );
    assert!(verbose.stdout.lines().count() > 1, "{}", verbose.stdout);
}

#[test]
fn served_versions_are_left_alone() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.yaml", HPA_V2BETA2);
    // autoscaling/v2beta2 is served, not yet deprecated, at 1.22.
    for extra in [&[][..], &["--include-deprecated"]] {
        let mut args = vec!["check", "-t", "1.22"];
        args.extend_from_slice(extra);
        let r = km(t.path(), &args).run();
        assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{args:?}: {r:?}");
    }
}

#[test]
fn include_deprecated_migrates_served_but_deprecated_versions() {
    let t = tempfile::tempdir().unwrap();
    let fc = "flowcontrol.apiserver.k8s.io";
    write(t.path(), "plc.yaml", PLC_V1BETA2);
    write(t.path(), "hpa.yaml", HPA_V2BETA2);

    // At 1.25 autoscaling/v2beta2 and flowcontrol v1beta2 are served, the former deprecated.
    let r = km(t.path(), &["check", "-t", "1.25"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains(" -> "), "{}", r.stdout);
    let r = km(t.path(), &["fix", "-t", "1.25"]).run();
    assert_eq!(r.code, 0);
    assert_eq!(read(t.path(), "hpa.yaml"), HPA_V2BETA2);
    assert_eq!(read(t.path(), "plc.yaml"), PLC_V1BETA2);

    let r = km(
        t.path(),
        &[
            "check",
            "-t",
            "1.25",
            "--min-version",
            "1.23",
            "--include-deprecated",
        ],
    )
    .run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stdout, format!("hpa.yaml:1:13: {WEB_LINE}\n"));

    // At 1.26 flowcontrol v1beta2 is deprecated too.
    let r = km(t.path(), &["check", "-t", "1.26"]).run();
    assert_eq!(r.code, 1);
    assert!(
        !r.stdout
            .contains("plc.yaml:1:13: PriorityLevelConfiguration batch: flowcontrol")
    );
    // --include-deprecated only moves a served object to a version the whole window serves:
    // flowcontrol v1beta3 arrived in 1.26, so with the default --min-version (1.23) it stays.
    let r = km(t.path(), &["fix", "-t", "1.26", "--include-deprecated"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(read(t.path(), "plc.yaml"), PLC_V1BETA2);
    assert_eq!(read(t.path(), "hpa.yaml"), HPA_V2);
    let window = [
        "-t",
        "1.26",
        "--min-version",
        "1.26",
        "--include-deprecated",
    ];
    let r = km(t.path(), &[&["check"][..], &window].concat()).run();
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("plc.yaml:1:13: PriorityLevelConfiguration batch: {fc}/v1beta2 -> {fc}/v1beta3\n")
    );
    let r = km(t.path(), &[&["fix"][..], &window].concat()).run();
    assert_eq!(r.code, 0, "{r:?}");
    let plc = read(t.path(), "plc.yaml");
    assert!(
        plc.starts_with(&format!("apiVersion: {fc}/v1beta3\n")),
        "{plc}"
    );
    assert!(plc.contains("nominalConcurrencyShares: 20"));
    let r = km(t.path(), &[&["check"][..], &window].concat()).run();
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");
}

// ---------------------------------------------------------------------------------------
// JSON

#[test]
fn fixed_json_is_still_json() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "hpa.json", HPA_JSON);
    let r = km(t.path(), &["fix", "hpa.json"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    let text = read(t.path(), "hpa.json");
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["apiVersion"], "autoscaling/v2");
    assert_eq!(
        v["spec"]["metrics"][0]["resource"]["target"]["type"],
        "Utilization"
    );
}

#[test]
fn explain_by_id_and_by_api_kind() {
    let t = tempfile::tempdir().unwrap();
    let r = km(t.path(), &["explain", "autoscaling/hpa-v2beta2-to-v2"]).run();
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.starts_with("autoscaling/hpa-v2beta2-to-v2: HorizontalPodAutoscaler autoscaling/v2beta2 -> autoscaling/v2\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("-apiVersion: autoscaling/v2beta2\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("+apiVersion: autoscaling/v2\n"),
        "{}",
        r.stdout
    );

    let chain = km(
        t.path(),
        &[
            "explain",
            "flowcontrol.apiserver.k8s.io/v1beta1",
            "PriorityLevelConfiguration",
        ],
    )
    .run();
    assert_eq!(chain.code, 0, "{chain:?}");
    for id in [
        "flowcontrol/v1beta1-to-v1beta2",
        "flowcontrol/v1beta2-to-v1beta3",
        "flowcontrol/v1beta3-to-v1",
    ] {
        assert!(
            chain.stdout.contains(&format!("{id}: ")),
            "{id}: {}",
            chain.stdout
        );
    }

    let missing = km(t.path(), &["explain", "hpa"]).run();
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("did you mean"),
        "{}",
        missing.stderr
    );
    // A served version is an answer, not an error.
    let current = km(t.path(), &["explain", "apps/v1", "Deployment"]).run();
    assert_eq!(current.code, 0, "{}", current.stderr);
    assert!(
        current.stdout.contains("served") && current.stdout.contains("nothing to migrate"),
        "{}",
        current.stdout
    );
}
