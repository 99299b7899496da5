//! Helm chart sources through the real binary: `testdata/helm/webapp` is a chart modeled on
//! the archived helm/charts `stable/` charts (Ingress with and without `semverCompare`
//! guards, CronJob, HPA, PDB, PSP behind a Capabilities guard, RBAC, a Deployment), with
//! `{{ include }}`, `{{- if }}` guards and `toYaml | nindent` blocks.
//!
//! `testdata/helm/expected/` holds what `check -v` and `diff` print and the files `fix`
//! rewrites (every other file must stay byte-identical). KUBEMIG_BLESS=1 rewrites them.

use crate::common::{self, write};

use std::fs;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/helm")
}

#[test]
fn chart_templates_are_migrated_where_literal_and_reported_where_templated() {
    let expected = data().join("expected");
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("webapp"), &work.path().join("webapp"));

    let check = common::kubemig(work.path(), &["check", "-v", "webapp"]);
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    common::golden(&expected.join("check.txt"), &check.stdout);
    let diff = common::kubemig(work.path(), &["diff", "webapp"]);
    assert_eq!(diff.status.code(), Some(1));
    common::golden(&expected.join("diff.txt"), &diff.stdout);

    // `fix` rewrites the literal apiVersions, leaves the rest to a human (exit 1).
    let fix = common::kubemig(work.path(), &["fix", "webapp"]);
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    let all: Vec<PathBuf> = common::files(&work.path().join("webapp"))
        .into_iter()
        .map(|p| Path::new("webapp").join(p))
        .collect();
    let mut changed = 0;
    for rel in &all {
        let got = fs::read(work.path().join(rel)).unwrap();
        let original = fs::read(data().join(rel)).unwrap();
        let want_path = expected.join(rel);
        if std::env::var_os("KUBEMIG_BLESS").is_some() {
            if got != original {
                common::golden(&want_path, &got);
            } else {
                let _ = fs::remove_file(&want_path);
            }
            continue;
        }
        match fs::read(&want_path) {
            Ok(want) => {
                changed += 1;
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{}",
                    rel.display()
                );
                // Only apiVersion lines change: every template action stays byte-identical.
                let (g, o) = (
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(original).unwrap(),
                );
                assert_eq!(g.lines().count(), o.lines().count());
                for (a, b) in g.lines().zip(o.lines()) {
                    assert!(
                        a == b || a.starts_with("apiVersion: "),
                        "{}: {b} -> {a}",
                        rel.display()
                    );
                }
            }
            Err(_) => assert!(got == original, "{} changed", rel.display()),
        }
    }
    if std::env::var_os("KUBEMIG_BLESS").is_none() {
        assert_eq!(changed, 4, "cronjob, hpa, pdb and rbac are rewritten");
    }

    // A second run changes nothing; what is left needs a human.
    let again = common::kubemig(work.path(), &["diff", "webapp"]);
    assert!(
        again.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    assert_eq!(
        again.status.code(),
        Some(1),
        "blocked objects keep the exit status"
    );
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("4 need a human"), "{stderr}");
}

#[test]
fn findings_name_the_template_line_and_the_reason() {
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("webapp"), &work.path().join("webapp"));
    let out = common::kubemig(work.path(), &["check", "webapp/templates"]);
    let text = String::from_utf8(out.stdout).unwrap();
    // An inserted pin inside templated content: at the line after which it would go.
    assert!(text.contains(
        "webapp/templates/ingress.yaml:33:11: Ingress {{ $fullName }}: manual [HELM-TEMPLATED]: extensions/v1beta1 -> networking.k8s.io/v1 needs more than a changed value here: it adds `pathType… (kubemig explain HELM-TEMPLATED)"
    ), "{text}");
    // The whole advice, in JSON (text cuts it to one line).
    let json = common::kubemig(
        work.path(),
        &["check", "--format", "json", "webapp/templates"],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let full: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}: {}",
                f["path"].as_str().unwrap(),
                f["line"],
                f["column"],
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    let full = full.join("\n");
    assert!(full.contains("webapp/templates/ingress.yaml:33:11: extensions/v1beta1 -> networking.k8s.io/v1 needs more than a changed value here: it adds `pathType: ImplementationSpecific` after line 33"), "{full}");
    // A field whose value is templated.
    assert!(full.contains("webapp/templates/hpa-worker.yaml:18:9: autoscaling/v2beta1 -> autoscaling/v2 needs more than a changed value here: it changes templated text on line 18"), "{full}");
    // A guard whose branches are all removed.
    assert!(full.contains("webapp/templates/ingress-admin.yaml:4:13: apiVersion is chosen by the template guard `{{- if semverCompare \">=1.14-0\" .Capabilities.KubeVersion.GitVersion -}}` (line 3) and no branch is served at 1.36"), "{full}");
    // An object rendered only where its own API is served: a warning, not a rewrite.
    assert!(
        full.contains(
            "webapp/templates/psp.yaml:2:13: rendered only where the cluster serves policy/v1beta1"
        ),
        "{full}"
    );
    // A guard with a served branch is fine: nothing without -v.
    assert!(
        !text.contains("ingress-api.yaml") && !text.contains("cronjob-report.yaml"),
        "{text}"
    );
}

#[test]
fn branches_that_set_the_same_key_are_a_finding_not_an_error() {
    let work = tempfile::tempdir().unwrap();
    write(
        work.path(),
        "deploy.yaml",
        "apiVersion: apps/v1beta2
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
{{- if .Values.hpa }}
  replicas: 1
{{- else }}
  replicas: {{ .Values.replicas }}
{{- end }}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: web
",
    );
    let out = common::kubemig(work.path(), &["check", "deploy.yaml"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("deploy.yaml:9:3: Deployment {{ .Release.Name }}: manual [HELM-TEMPLATED]: `replicas` is set in two branches of a template `if` (lines 7 and 9)"), "{text}");

    // The same duplicate without a template branch is still an error.
    write(
        work.path(),
        "dup.yaml",
        "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: 1\n  replicas: 2\n",
    );
    let out = common::kubemig(work.path(), &["check", "dup.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("dup.yaml:7:3: error: duplicate key `replicas`")
    );
}

#[test]
fn a_template_without_actions_inside_the_object_is_migrated_in_full() {
    // The guard wraps the document; the object itself is literal, so pins are written.
    let work = tempfile::tempdir().unwrap();
    let src = "{{- if .Values.ingress.enabled }}
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web
spec:
  rules:
    - http:
        paths:
          - path: /
            backend:
              serviceName: web
              servicePort: 80
{{- end }}
";
    let p = write(work.path(), "ingress.yaml", src);
    let out = common::kubemig(work.path(), &["fix", "ingress.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let fixed = fs::read_to_string(p).unwrap();
    assert!(
        fixed.starts_with("{{- if .Values.ingress.enabled }}\napiVersion: networking.k8s.io/v1\n")
    );
    assert!(fixed.contains("pathType: ImplementationSpecific"));
    assert!(
        fixed.ends_with("                  number: 80\n{{- end }}\n"),
        "{fixed}"
    );
}

#[test]
fn braces_inside_strings_are_plain_yaml_and_broken_templates_are_errors() {
    let work = tempfile::tempdir().unwrap();
    // Prometheus-style text in a quoted value: plain YAML, migrated in full.
    write(
        work.path(),
        "plain.yaml",
        "apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: web
  annotations:
    summary: \"{{ $labels.instance }} is down\"
spec:
  backend:
    serviceName: web
    servicePort: 80
",
    );
    let out = common::kubemig(work.path(), &["fix", "plain.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let fixed = fs::read_to_string(work.path().join("plain.yaml")).unwrap();
    assert!(
        fixed.contains("defaultBackend:") && fixed.contains("\"{{ $labels.instance }} is down\"")
    );

    write(
        work.path(),
        "open.yaml",
        "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: {{ .Release.Name\n",
    );
    let out = common::kubemig(work.path(), &["check", "open.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("open.yaml:4:9: error: this template action is not closed"),
        "{err}"
    );

    // Not YAML even with the actions blanked out: an error with its place, never a skip.
    write(
        work.path(),
        "bad.yaml",
        "apiVersion: batch/v1beta1\nkind: CronJob\nspec: {{ .x }}\n  schedule: [\n",
    );
    let out = common::kubemig(work.path(), &["check", "bad.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:") && err.contains("read as a Helm template"),
        "{err}"
    );
}

#[test]
fn a_rule_that_reads_templated_content_is_refused() {
    // The selector's labels come from a helper: kubemig cannot tell an empty selector (whose
    // meaning changes in policy/v1) from a templated one, so a human decides.
    let work = tempfile::tempdir().unwrap();
    let src = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      {{- include \"sel\" . | nindent 6 }}\n";
    write(work.path(), "pdb.yaml", src);
    let out = common::kubemig(work.path(), &["fix", "pdb.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pdb.yaml:7:3: PodDisruptionBudget {{ .Release.Name }}: manual [HELM-TEMPLATED]: policy/v1beta1 -> policy/v1 needs more than a changed value here: it restructures line 7 (`selector:`), whose… (kubemig explain HELM-TEMPLATED)"), "{err}");
    // The whole advice is in JSON.
    let json = common::kubemig(work.path(), &["check", "--format", "json", "pdb.yaml"]);
    assert!(String::from_utf8_lossy(&json.stdout).contains(
        "whose content is templated (`{{- include \\\"sel\\\" . | nindent 6 }}` on line 9)"
    ));
    assert_eq!(
        fs::read_to_string(work.path().join("pdb.yaml")).unwrap(),
        src
    );
}

#[test]
fn stdin_templates_are_recognised_by_content() {
    let src = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: {{ .Release.Name }}\n";
    let out = common::km(Path::new(env!("CARGO_MANIFEST_DIR")), &["fix", "-"])
        .stdin(src)
        .output();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        src.replace("policy/v1beta1", "policy/v1")
    );
}
