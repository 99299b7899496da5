//! The real-world corpus (`testdata/corpus`, see its SOURCES.md): every file goes through
//! `check`, `fix`, `check` and `fix` again in a scratch copy. Nothing may crash, every error
//! line must have the documented shape, a fixed tree must check clean (files with errors or
//! findings for a human aside), a second fix must change nothing, `diff` must be exactly what
//! `fix` writes, and `--no-prefilter` must not change any output.

use crate::common::{Run, km, snapshot};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn kubemig(dir: &Path, args: &[&str], threads: Option<&str>) -> Run {
    let mut k = km(dir, args).args(["--color", "never"]);
    if let Some(n) = threads {
        k = k.env("RAYON_NUM_THREADS", n);
    }
    let r = k.run();
    assert!(
        !r.stderr.lines().any(|l| l.starts_with("kubemig: error:")),
        "kubemig {args:?} failed as a whole:\n{}",
        r.stderr
    );
    r
}

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus");
    assert!(dir.is_dir(), "{} is missing", dir.display());
    dir
}

fn copy(files: &BTreeMap<PathBuf, Vec<u8>>, to: &Path) {
    for (rel, bytes) in files {
        let p = to.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
}

/// The number after `, ` and before ` error` in the closing summary line.
fn summary_errors(stderr: &str) -> usize {
    let line = stderr
        .lines()
        .rfind(|l| l.starts_with("kubemig: ") && l.contains(" scanned"))
        .unwrap_or_else(|| panic!("no summary line:\n{stderr}"));
    let tail = line.rsplit(", ").next().unwrap();
    tail.split_whitespace().next().unwrap().parse().unwrap()
}

/// Checks the shape of every error line (`PATH:LINE:COL: error: …` or `PATH: error: …`, PATH
/// a file in `dir`) and returns the files that had an error.
fn error_files(dir: &Path, stderr: &str) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut count = 0;
    for line in stderr.lines() {
        let Some((place, message)) = line.split_once(": error: ") else {
            continue;
        };
        count += 1;
        assert!(!message.trim().is_empty(), "empty error message: {line}");
        let parts: Vec<&str> = place.split(':').collect();
        let path = match parts[..] {
            [path] => path,
            [path, l, c] => {
                assert!(
                    l.parse::<usize>().is_ok_and(|n| n > 0)
                        && c.parse::<usize>().is_ok_and(|n| n > 0),
                    "bad position in error line: {line}"
                );
                path
            }
            _ => panic!("error line of the wrong shape: {line}"),
        };
        assert!(
            dir.join(path).is_file(),
            "error for an unknown file: {line}"
        );
        files.insert(path.to_string());
    }
    assert_eq!(
        count,
        summary_errors(stderr),
        "one error line per file with an error:\n{stderr}"
    );
    files
}

/// What `check` listed: files with migrations to do, files with objects a human must see to.
#[derive(Debug, Default)]
struct Listed {
    to_migrate: BTreeSet<String>,
    for_a_human: BTreeSet<String>,
}

/// Checks the shape of `check`'s stdout (`PATH:LINE:COL: …`, PATH a file in `dir`) and sorts
/// its lines into migrations, objects for a human and (ignored) findings.
fn listed(dir: &Path, stdout: &str) -> Listed {
    const LABELS: [&str; 6] = ["info", "note", "pin", "warning", "manual", "error"];
    let mut out = Listed::default();
    for line in stdout.lines() {
        let mut parts = line.splitn(4, ':');
        let (Some(path), Some(l), Some(c), Some(rest)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!("check line of the wrong shape: {line}");
        };
        assert!(
            l.parse::<usize>().is_ok_and(|n| n > 0)
                && c.parse::<usize>().is_ok_and(|n| n > 0)
                && rest.starts_with(' '),
            "check line of the wrong shape: {line}"
        );
        assert!(
            dir.join(path).is_file(),
            "finding for an unknown file: {line}"
        );
        if rest.ends_with(": needs a human") {
            out.for_a_human.insert(path.to_string());
        } else if LABELS.iter().any(|l| rest.contains(&format!(": {l} ["))) {
            // A finding about an object listed on its own line.
        } else {
            assert!(
                rest.contains(" -> "),
                "neither migration nor finding: {line}"
            );
            out.to_migrate.insert(path.to_string());
        }
    }
    out
}

fn expected_exit(errors: &BTreeSet<String>, open: bool) -> i32 {
    if !errors.is_empty() {
        2
    } else if open {
        1
    } else {
        0
    }
}

#[test]
fn corpus_check_fix_check_fix() {
    let corpus = corpus();
    let original = snapshot(&corpus);
    assert!(!original.is_empty());
    let scratch = tempfile::tempdir().unwrap();
    let root = |name: &str| {
        let d = scratch.path().join(name);
        copy(&original, &d);
        d
    };
    let pre = root("prefiltered");
    let full = root("full");

    // check: the same with and without the prefilter, and with one thread.
    let check = kubemig(&pre, &["check"], None);
    let errors = error_files(&pre, &check.stderr);
    let found = listed(&pre, &check.stdout);
    let human = &found.for_a_human;
    assert_eq!(
        check.code,
        expected_exit(&errors, !found.to_migrate.is_empty() || !human.is_empty()),
        "{}",
        check.stderr
    );
    assert_eq!(kubemig(&full, &["check", "--no-prefilter"], None), check);
    assert_eq!(kubemig(&pre, &["check"], Some("1")), check);
    println!(
        "corpus: {} files, {} to migrate, {} for a human, {} with errors",
        original.len(),
        found.to_migrate.len(),
        human.len(),
        errors.len()
    );

    // diff: the same both ways; applied with git, exactly what fix writes (below).
    let diff = kubemig(&pre, &["diff"], None);
    assert_eq!(kubemig(&full, &["diff", "--no-prefilter"], None), diff);
    assert_eq!(diff.code, check.code);
    let diff_file = scratch.path().join("corpus.diff");
    fs::write(&diff_file, &diff.stdout).unwrap();

    // fix.
    let fix = kubemig(&pre, &["fix"], None);
    assert_eq!(kubemig(&full, &["fix", "--no-prefilter"], None), fix);
    assert_eq!(fix.code, expected_exit(&errors, !human.is_empty()));
    assert_eq!(fix.stdout, "");
    assert_eq!(error_files(&pre, &fix.stderr), errors);
    let fixed = snapshot(&pre);
    assert_eq!(snapshot(&full), fixed, "--no-prefilter fixes the same way");
    assert_eq!(
        fixed.keys().collect::<Vec<_>>(),
        original.keys().collect::<Vec<_>>(),
        "fix created or removed files"
    );
    for (rel, bytes) in &original {
        let name = rel.to_str().unwrap();
        if fixed[rel] != *bytes {
            assert!(
                found.to_migrate.contains(name),
                "{name} changed but check did not list a migration for it"
            );
            assert!(!errors.contains(name), "{name} had an error but changed");
        }
    }

    if !diff.stdout.is_empty() {
        let tools: [(&str, &[&str]); 2] = [
            ("git", &["apply", "--whitespace=nowarn"]),
            (
                "patch",
                &["-p1", "--batch", "--no-backup-if-mismatch", "-i"],
            ),
        ];
        for (tool, args) in tools {
            let applied = root(tool);
            let out = Command::new(tool)
                .current_dir(&applied)
                .env("GIT_CEILING_DIRECTORIES", scratch.path())
                .args(args)
                .arg(&diff_file)
                .output()
                .unwrap_or_else(|e| panic!("run {tool}: {e}"));
            assert!(
                out.status.success(),
                "{tool}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                snapshot(&applied),
                fixed,
                "{tool} with diff's output == fix"
            );
        }
    }

    // check again: clean except for what fix could not do.
    let again = kubemig(&pre, &["check"], None);
    assert_eq!(error_files(&pre, &again.stderr), errors);
    let left = listed(&pre, &again.stdout);
    let unresolved: BTreeSet<String> = human.union(&errors).cloned().collect();
    assert!(
        left.to_migrate.is_subset(&unresolved),
        "still to migrate after fix: {:?}\n{}",
        left.to_migrate.difference(&unresolved).collect::<Vec<_>>(),
        again.stdout
    );
    assert_eq!(&left.for_a_human, human);
    assert_eq!(
        again.code,
        expected_exit(&errors, !human.is_empty()),
        "{}{}",
        again.stdout,
        again.stderr
    );
    let diff2 = kubemig(&pre, &["diff"], None);
    assert_eq!(diff2.stdout, "", "diff after fix");

    // fix again: not a byte changes.
    let fix2 = kubemig(&pre, &["fix"], None);
    assert_eq!(fix2.code, again.code, "{}", fix2.stderr);
    assert_eq!(snapshot(&pre), fixed, "a second fix changed files");
}

/// Round trip, counted: in every file `fix` changed, every changed line lies inside a
/// document that `check` reported. Prints how many lines were kept and changed.
#[test]
fn corpus_changes_stay_inside_migrated_documents() {
    let src = corpus();
    let files = snapshot(&src);
    let tmp = tempfile::tempdir().unwrap();
    copy(&files, tmp.path());
    let check = kubemig(tmp.path(), &["check", "."], None);
    // path -> line numbers of reported objects
    let mut reported: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for line in check.stdout.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(path), Some(l)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Ok(n) = l.parse::<usize>() {
            reported.entry(path.to_string()).or_default().insert(n);
        }
    }
    kubemig(tmp.path(), &["fix", "."], None);
    let (mut kept, mut changed, mut files_changed) = (0usize, 0usize, 0usize);
    for (rel, before) in &files {
        let after = fs::read(tmp.path().join(rel)).unwrap();
        if &after == before {
            continue;
        }
        files_changed += 1;
        let (before, after) = (
            String::from_utf8_lossy(before),
            String::from_utf8_lossy(&after),
        );
        let name = rel.display().to_string();
        let lines = reported
            .get(&name)
            .unwrap_or_else(|| panic!("{name} changed but check reported nothing"));
        // Document boundaries of the original: a change must fall in a document that holds a
        // reported line.
        let starts: Vec<usize> = std::iter::once(1)
            .chain(
                before
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| l.starts_with("---"))
                    .map(|(i, _)| i + 1),
            )
            .collect();
        let doc_of = |line: usize| starts.iter().rposition(|&s| s <= line).unwrap();
        let reported_docs: BTreeSet<usize> = lines.iter().map(|&l| doc_of(l)).collect();
        let diff = similar::TextDiff::from_lines(before.as_ref(), after.as_ref());
        for op in diff.ops() {
            match op.tag() {
                similar::DiffTag::Equal => kept += op.old_range().len(),
                _ => {
                    changed += op.old_range().len().max(op.new_range().len());
                    for l in op.old_range() {
                        assert!(
                            reported_docs.contains(&doc_of(l + 1)),
                            "{name}:{}: changed outside any reported document",
                            l + 1
                        );
                    }
                }
            }
        }
    }
    println!(
        "corpus round trip: {files_changed} files changed, {kept} lines kept byte-identical, {changed} lines changed"
    );
    assert!(files_changed > 0);
}

/// Inputs made to trip a prefilter: old APIs spelled through escapes, found only by kind,
/// hidden in lists, anchors, tags and flow style; files that are not text at all; and the
/// golden cases' inputs. Each is `(path, bytes)`.
fn hostile_fixtures() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: &[u8]| files.push((name.to_string(), bytes.to_vec()));
    let ingress = "kind: Ingress\nmetadata:\n  name: web\nspec:\n  backend:\n    serviceName: web\n    servicePort: 80\n";
    add(
        "escapes/json-slash.json",
        br#"{"apiVersion": "extensions\/v1beta1", "kind": "Ingress", "metadata": {"name": "web"}, "spec": {"backend": {"serviceName": "web", "servicePort": 80}}}"#,
    );
    add(
        "escapes/json-unicode.json",
        br#"{"apiVersion": "\u0065xtensions/v1beta1", "kind": "Ingress", "metadata": {"name": "web"}, "spec": {"backend": {"serviceName": "web", "servicePort": 80}}}"#,
    );
    add(
        "escapes/yaml-hex.yaml",
        format!("apiVersion: \"\\x65xtensions/v1beta1\"\n{ingress}").as_bytes(),
    );
    add(
        "escapes/yaml-long-unicode.yaml",
        format!("apiVersion: \"extensions/v1\\U00000062eta1\"\n{ingress}").as_bytes(),
    );
    add(
        "escapes/yaml-joined-lines.yaml",
        format!("apiVersion: \"extensions/v1\\\n  beta1\"\n{ingress}").as_bytes(),
    );
    add(
        "escapes/yaml-joined-lines-crlf.yaml",
        format!("apiVersion: \"extensions/v1\\\n  beta1\"\n{ingress}")
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    add(
        "escapes/escaped-key.yaml",
        format!("\"\\x61piVersion\": extensions/v1beta1\n{ingress}").as_bytes(),
    );
    add(
        "escapes/core-kind-escaped.yaml",
        b"apiVersion: v1\nkind: \"Endpoint\\x73\"\nmetadata:\n  name: db\nsubsets: []\n",
    );
    add(
        "escapes/block-scalar-backslashes.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sh\ndata:\n  run.sh: |\n    curl -s \\\n      http://x/\\u00e9 \\x41\n",
    );
    add(
        "core/endpoints.yaml",
        b"apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: db\nsubsets:\n- addresses:\n  - ip: 10.0.0.1\n",
    );
    add(
        "core/componentstatus.json",
        br#"{"apiVersion":"v1","kind":"ComponentStatus","metadata":{"name":"etcd-0"}}"#,
    );
    add(
        "shapes/list.yaml",
        b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: policy/v1beta1\n  kind: PodDisruptionBudget\n  metadata: {name: a}\n  spec: {minAvailable: 1, selector: {matchLabels: {app: a}}}\n",
    );
    add(
        "shapes/anchors.yaml",
        b"apiVersion: v1\nkind: List\nitems:\n- apiVersion: &old batch/v1beta1\n  kind: CronJob\n  metadata: {name: a}\n  spec: {schedule: '* * * * *', jobTemplate: {spec: {template: {spec: {containers: []}}}}}\n- apiVersion: *old\n  kind: CronJob\n  metadata: {name: b}\n  spec: {schedule: '* * * * *', jobTemplate: {spec: {template: {spec: {containers: []}}}}}\n",
    );
    add(
        "shapes/tagged.yaml",
        b"apiVersion: !!str autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  maxReplicas: 3\n",
    );
    add(
        "shapes/flow.yaml",
        b"{apiVersion: scheduling.k8s.io/v1beta1, kind: PriorityClass, metadata: {name: high}, value: 1000}\n",
    );
    add(
        "shapes/bom-crlf.yaml",
        "\u{feff}# old\r\napiVersion: policy/v1beta1\r\nkind: PodDisruptionBudget\r\nmetadata:\r\n  name: a\r\nspec:\r\n  minAvailable: 1\r\n  selector:\r\n    matchLabels:\r\n      app: a\r\n"
            .as_bytes(),
    );
    add(
        "shapes/kustomization.yaml",
        b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\npatches:\n- path: p.yaml\n  target:\n    group: extensions\n    version: v1beta1\n    kind: Ingress\n",
    );
    add("shapes/empty.yaml", b"");
    add("shapes/comments-only.yaml", b"# nothing here\n---\n...\n");
    add(
        "broken/invalid-yaml-old-api.yaml",
        b"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: [\n",
    );
    add(
        "broken/duplicate-key-old-api.yaml",
        b"apiVersion: batch/v1beta1\nkind: CronJob\nkind: CronJob\nmetadata: {name: a}\n",
    );
    add("broken/nul.yaml", b"apiVersion: v1\nkind: Service\x00\n");
    add(
        "broken/nul-old-api.yaml",
        b"apiVersion: extensions/v1beta1\x00\n",
    );
    add(
        "broken/latin1.yaml",
        b"# caf\xe9\napiVersion: v1\nkind: Service\n",
    );
    add("broken/utf16le.yaml", b"\xff\xfea\x00p\x00i\x00\n\x00");
    add("broken/utf16be.json", b"\xfe\xff\x00{\x00}");
    add(
        "broken/binary.json",
        &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0],
    );
    add(
        "shapes/overlay.yaml",
        b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ingress.yaml]\npatches:\n- path: p.yaml\n  target:\n    group: extensions\n    version: v1beta1\n    kind: Ingress\n",
    );
    // Field migrations: their words are matched whole, so near misses are skipped and every
    // spelling of the key itself is parsed.
    let pod = |spec: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{spec}  containers:\n  - name: c\n    image: i\n"
        )
    };
    add(
        "fields/sa.yaml",
        pod("  serviceAccount: builder\n").as_bytes(),
    );
    add(
        "fields/sa-quoted.yaml",
        pod("  'serviceAccount': builder\n").as_bytes(),
    );
    add(
        "fields/sa-escaped.yaml",
        pod("  \"service\\x41ccount\": builder\n").as_bytes(),
    );
    add(
        "fields/sa-flow.yaml",
        b"{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {serviceAccount: b, containers: [{name: c, image: i}]}}\n",
    );
    add(
        "fields/sa.json",
        br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"serviceAccount":"b","containers":[{"name":"c","image":"i"}]}}"#,
    );
    add(
        "fields/sa-name-only.yaml",
        pod("  serviceAccountName: builder\n  automountServiceAccountToken: false\n").as_bytes(),
    );
    add(
        "fields/lifecycle-tcpsocket.yaml",
        pod("")
            .replace(
                "image: i\n",
                "image: i\n    lifecycle:\n      preStop:\n        tcpSocket: {port: 80}\n",
            )
            .as_bytes(),
    );
    add(
        "fields/probe-tcpsocket.yaml",
        pod("")
            .replace(
                "image: i\n",
                "image: i\n    readinessProbe:\n      tcpSocket: {port: 80}\n",
            )
            .as_bytes(),
    );
    add(
        "fields/ipfamily.yaml",
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ipFamily: IPv6\n  ports: [{port: 80}]\n",
    );
    add(
        "fields/ipfamilypolicy.yaml",
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n",
    );
    let cat = kubemig::catalogue::Catalogue::embedded().unwrap();
    for f in &cat.fields {
        if let Some(example) = &f.meta.example {
            add(
                &format!("fields/example-{}.yaml", f.meta.id.replace('/', "-")),
                example.as_bytes(),
            );
        }
    }
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    for tree in ["examples", "helm", "kustomize"] {
        for (rel, bytes) in snapshot(&testdata.join(tree)) {
            let name = Path::new("testdata").join(tree).join(rel);
            files.push((name.to_str().unwrap().to_string(), bytes));
        }
    }
    let golden = testdata.join("golden");
    for case in fs::read_dir(&golden).unwrap() {
        let case = case.unwrap().path();
        for input in ["input.yaml", "input.json"] {
            if let Ok(bytes) = fs::read(case.join(input)) {
                let name = case.file_name().unwrap().to_str().unwrap();
                let ext = input.rsplit('.').next().unwrap();
                files.push((format!("golden/{name}.{ext}"), bytes));
            }
        }
    }
    files
}

/// The prefilter changes no output: with and without it, every command prints the same,
/// exits the same and writes the same files, over the hostile fixtures, the golden inputs and
/// the public corpus. The one thing it may hide, as the README says, is an
/// error that only parsing finds (a YAML syntax error, a duplicate key) in a file that
/// mentions no old API; that case is checked separately below.
#[test]
fn prefilter_changes_no_output_on_hostile_inputs() {
    let mut files: BTreeMap<PathBuf, Vec<u8>> = hostile_fixtures()
        .into_iter()
        .map(|(n, b)| (PathBuf::from(n), b))
        .collect();
    for (rel, bytes) in snapshot(&corpus()) {
        files.insert(Path::new("corpus").join(rel), bytes);
    }
    let scratch = tempfile::tempdir().unwrap();
    let on = scratch.path().join("on");
    let off = scratch.path().join("off");
    copy(&files, &on);
    copy(&files, &off);
    for args in [
        &["check"][..],
        &["check", "-v", "--include-deprecated"],
        &["check", "--format", "json"],
        &["check", "-t", "1.22"],
        &["diff"],
        &["diff", "--include-deprecated"],
    ] {
        let with = kubemig(&on, args, None);
        let mut no = args.to_vec();
        no.push("--no-prefilter");
        assert_eq!(with, kubemig(&off, &no, None), "kubemig {args:?}");
    }
    // The fixtures are found for what they are, with the prefilter on.
    let check = kubemig(&on, &["check", "-v", "--include-deprecated"], None);
    for expect in [
        "escapes/json-slash.json:1:",
        "escapes/json-unicode.json:1:",
        "escapes/yaml-hex.yaml:1:",
        "escapes/yaml-long-unicode.yaml:1:",
        "escapes/yaml-joined-lines.yaml:1:",
        "escapes/escaped-key.yaml:1:",
        "core/endpoints.yaml:1:",
        "core/componentstatus.json:1:",
        "shapes/list.yaml:4:",
        "shapes/anchors.yaml:4:",
        "shapes/overlay.yaml:8:",
        "escapes/core-kind-escaped.yaml:1:",
        "shapes/tagged.yaml:1:",
        "shapes/flow.yaml:1:",
        "fields/sa.yaml:",
        "fields/sa-quoted.yaml:",
        "fields/sa-escaped.yaml:",
        "fields/sa-flow.yaml:",
        "fields/sa.json:",
        "fields/lifecycle-tcpsocket.yaml:",
        "fields/ipfamily.yaml:",
    ] {
        assert!(
            check.stdout.contains(expect),
            "{expect} not found:\n{}",
            check.stdout
        );
    }
    for bad in [
        "broken/invalid-yaml-old-api.yaml",
        "broken/duplicate-key-old-api.yaml",
        "broken/nul.yaml",
        "broken/nul-old-api.yaml",
        "broken/latin1.yaml",
        "broken/utf16le.yaml",
        "broken/utf16be.json",
        "broken/binary.json",
    ] {
        assert!(
            check
                .stderr
                .lines()
                .any(|l| l.starts_with(bad) && l.contains(" error: ")),
            "{bad}: no error\n{}",
            check.stderr
        );
    }
    let fix = kubemig(&on, &["fix"], None);
    assert_eq!(kubemig(&off, &["fix", "--no-prefilter"], None), fix);
    assert_eq!(snapshot(&on), snapshot(&off), "the same files are written");
}

/// The documented exception: a YAML error in a file that mentions no old API is found only
/// when every file is parsed.
#[test]
fn prefilter_may_hide_only_yaml_errors_in_files_without_old_apis() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: [\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("duplicate.yaml"),
        "apiVersion: v1\nkind: Service\nkind: Service\nmetadata: {name: a}\n",
    )
    .unwrap();
    let with = kubemig(dir.path(), &["check"], None);
    assert_eq!(with.code, 0, "{}", with.stderr);
    let without = kubemig(dir.path(), &["check", "--no-prefilter"], None);
    assert_eq!(without.code, 2);
    assert!(
        without.stderr.contains("broken.yaml:"),
        "{}",
        without.stderr
    );
    assert!(
        without.stderr.contains("duplicate.yaml:"),
        "{}",
        without.stderr
    );
}

/// What the catalogue's data says stops working at `target`, read from `migrations/*.toml`
/// directly (not through the engine): removed (apiVersion, kind) pairs, group/versions whose
/// every kind is removed, and the words of field migrations removed by then.
struct Removed {
    kinds: BTreeSet<(String, String)>,
    apis: BTreeSet<String>,
    words: Vec<String>,
}

fn removed_at(target: u32) -> Removed {
    let minor = |v: Option<&toml::Value>| {
        v.and_then(toml::Value::as_str)
            .and_then(|s| s.strip_prefix("1."))
            .and_then(|m| m.parse::<u32>().ok())
    };
    let mut kinds = BTreeSet::new();
    let mut all_removed: BTreeMap<String, bool> = BTreeMap::new();
    let mut words = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let file: toml::Table = toml::from_str(&fs::read_to_string(&p).unwrap()).unwrap();
        let list = |key: &str| {
            file.get(key)
                .and_then(toml::Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for v in list("version") {
            let api = v["api"].as_str().unwrap().to_string();
            let gone = minor(v.get("removed")).is_some_and(|r| r <= target);
            *all_removed.entry(api.clone()).or_insert(true) &= gone;
            if gone {
                for k in v["kinds"].as_array().unwrap() {
                    kinds.insert((api.clone(), k.as_str().unwrap().to_string()));
                }
            }
        }
        for f in list("field") {
            if minor(f.get("removed")).is_some_and(|r| r <= target) {
                for w in f["mentions"].as_array().unwrap() {
                    words.push(w.as_str().unwrap().to_string());
                }
            }
        }
    }
    let apis = all_removed
        .into_iter()
        .filter(|(_, gone)| *gone)
        .map(|(a, _)| a)
        .collect();
    Removed { kinds, apis, words }
}

/// Whether a document (its text) is already valid at the target as far as the catalogue's
/// data can tell: a plain object (no list, no template) on an apiVersion and kind that are
/// still served, mentioning no word of a removed field. Unsure cases count as not valid.
fn valid_at(doc: &str, removed: &Removed) -> bool {
    let top = |key: &str| {
        doc.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
    };
    let (Some(api), Some(kind)) = (top("apiVersion:"), top("kind:")) else {
        return false;
    };
    !(doc.contains("{{")
        || kind.ends_with("List")
        || removed.apis.contains(&api)
        || removed.kinds.contains(&(api, kind))
        || removed.words.iter().any(|w| doc.contains(w.as_str())))
}

/// The rule of the verdict: a default `fix` changes only what stops working at the target.
/// Every YAML document of the corpus that is already valid at the target (by the catalogue's
/// data, read apart from the engine) comes out of `fix` byte for byte, at the default target
/// and at 1.22.
#[test]
fn corpus_documents_valid_at_the_target_are_not_changed() {
    let src = corpus();
    let files = snapshot(&src);
    let newest: u32 = {
        let text = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/catalogue.toml"),
        )
        .unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap();
        t["newest"].as_str().unwrap()[2..].parse().unwrap()
    };
    for target in [newest, 22] {
        let removed = removed_at(target);
        let tmp = tempfile::tempdir().unwrap();
        copy(&files, tmp.path());
        let t = format!("1.{target}");
        kubemig(tmp.path(), &["fix", "-q", "-t", &t, "."], None);
        let (mut valid, mut touched) = (0usize, Vec::new());
        for (rel, before) in &files {
            let is_yaml = rel.extension().is_some_and(|x| x == "yaml" || x == "yml");
            let Ok(before) = std::str::from_utf8(before) else {
                continue;
            };
            if !is_yaml {
                continue;
            }
            let after = fs::read_to_string(tmp.path().join(rel)).unwrap_or_default();
            let split = |s: &str| -> Vec<String> {
                let mut docs = vec![String::new()];
                for l in s.split_inclusive('\n') {
                    if l.starts_with("---") {
                        docs.push(String::new());
                    }
                    docs.last_mut().unwrap().push_str(l);
                }
                docs
            };
            let (old, new) = (split(before), split(&after));
            for (i, doc) in old.iter().enumerate() {
                if !valid_at(doc, &removed) {
                    continue;
                }
                valid += 1;
                if old.len() != new.len() || new[i] != *doc {
                    touched.push(format!("{}#{i}", rel.display()));
                }
            }
        }
        println!(
            "target {t}: {valid} documents valid at the target, {} changed",
            touched.len()
        );
        assert!(valid > 100, "too few documents to say anything: {valid}");
        assert!(
            touched.is_empty(),
            "a default fix -t {t} changed documents that already work there: {touched:#?}"
        );
    }
}
