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
                // Only apiVersion lines change (and `spec.backend`'s key), an Ingress backend's two lines are rewritten
                // (its values carried over), and lines are added: every other line (and so
                // every template action) stays byte-identical, in order.
                let (g, o) = (
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(original).unwrap(),
                );
                let mut new = g.lines();
                for b in o.lines() {
                    if let Some(v) = ["serviceName: ", "servicePort: "]
                        .iter()
                        .find_map(|k| b.trim().strip_prefix(k))
                    {
                        assert!(
                            g.contains(&format!("name: {v}"))
                                || g.contains(&format!("number: {v}")),
                            "{}: `{b}` is lost",
                            rel.display()
                        );
                        continue;
                    }
                    assert!(
                        new.any(|a| a == b
                            || (a.starts_with("apiVersion: ") && b.starts_with("apiVersion: "))
                            || (a == "  defaultBackend:" && b == "  backend:")),
                        "{}: `{b}` is gone",
                        rel.display()
                    );
                }
            }
            Err(_) => assert!(got == original, "{} changed", rel.display()),
        }
    }
    if std::env::var_os("KUBEMIG_BLESS").is_none() {
        assert_eq!(
            changed, 7,
            "cronjob, deployment, hpa, both Ingresses, pdb and rbac are rewritten"
        );
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
    assert!(stderr.contains("1 needs a human"), "{stderr}");
}

#[test]
fn findings_name_the_template_line_and_the_reason() {
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("webapp"), &work.path().join("webapp"));
    let out = common::kubemig(work.path(), &["check", "webapp/templates"]);
    let text = String::from_utf8(out.stdout).unwrap();
    // A pin inside a `range` body: written there, once per rendered path.
    assert!(text.contains(
        "webapp/templates/ingress.yaml:33:13: Ingress {{ $fullName }}: pin [ING-PATHTYPE]: networking.k8s.io/v1 requires pathType"
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

    // A field whose value is templated.
    assert!(full.contains("webapp/templates/hpa-worker.yaml:18:9: autoscaling/v2beta1 -> autoscaling/v2 cannot be written into this template: it changes templated text on line 18"), "{full}");
    // A guard between two removed versions that migrate alike: both branches rewritten.
    assert!(full.contains("webapp/templates/ingress-admin.yaml:4:13: apiVersion is chosen by the template guard `{{- if semverCompare \">=1.14-0\" .Capabilities.KubeVersion.GitVersion -}}` (line 3) between networking.k8s.io/v1beta1 and extensions/v1beta1, neither served at 1.36: wrote networking.k8s.io/v1 in both branches"), "{full}");
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
fn branches_that_set_the_same_key_elsewhere_do_not_block_a_migration() {
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
    // The branches are read one at a time; the migration changes only the apiVersion line.
    let out = common::kubemig(work.path(), &["check", "deploy.yaml"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "deploy.yaml:1:13: Deployment {{ .Release.Name }}: apps/v1beta2 -> apps/v1\n"
        ),
        "{text}"
    );
    assert!(!text.contains("needs a human"), "{text}");
    let before = fs::read_to_string(work.path().join("deploy.yaml")).unwrap();
    let fix = common::kubemig(work.path(), &["fix", "deploy.yaml"]);
    assert_eq!(fix.status.code(), Some(0), "{fix:?}");
    assert_eq!(
        fs::read_to_string(work.path().join("deploy.yaml")).unwrap(),
        before.replace("apps/v1beta2", "apps/v1")
    );

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
fn a_selector_filled_by_a_helper_is_read_as_labels() {
    // The selector's labels come from a helper: read as at least one label (not an empty
    // selector, whose meaning changes in policy/v1), so only the apiVersion changes.
    let work = tempfile::tempdir().unwrap();
    let src = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      {{- include \"sel\" . | nindent 6 }}\n";
    write(work.path(), "pdb.yaml", src);
    let out = common::kubemig(work.path(), &["fix", "pdb.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        fs::read_to_string(work.path().join("pdb.yaml")).unwrap(),
        src.replace("policy/v1beta1", "policy/v1")
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

/// `testdata/helm/shapes`: chart sources in the shapes real charts use. Each of the five
/// template shapes that Helm renders but that read as broken YAML once masked is migrated;
/// every removed group/version the template pass cannot plan (helpers, values files,
/// templated or unknown kinds) is reported at its place.
#[test]
fn every_shape_migrates_and_no_removed_api_in_a_chart_is_silent() {
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("shapes"), &work.path().join("shapes"));
    let check = common::kubemig(work.path(), &["check", "-v", "shapes"]);
    let text = String::from_utf8(check.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{text}{stderr}");
    assert!(
        !stderr.contains("error:"),
        "no false 'cannot read': {stderr}"
    );
    for (file, migration) in [
        // 1. a whole-line action as the first line of a block scalar
        (
            "cronjob-greeting.yaml:1:13: CronJob",
            "batch/v1beta1 -> batch/v1\n",
        ),
        // 2. an `else` branch that continues a different parent
        (
            "statefulset.yaml:1:13: StatefulSet",
            "apps/v1beta2 -> apps/v1\n",
        ),
        // 3. a value that is an action followed by continuation lines
        (
            "daemonset.yaml:1:13: DaemonSet",
            "apps/v1beta2 -> apps/v1\n",
        ),
        // 4. `-}}` trimming that moves the next line left
        (
            "pdb.yaml:1:13: PodDisruptionBudget",
            "policy/v1beta1 -> policy/v1\n",
        ),
        // 5. branches of different shape
        (
            "hpa.yaml:1:13: HorizontalPodAutoscaler",
            "autoscaling/v2beta2 -> autoscaling/v2\n",
        ),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} not reported:\n{text}"));
        assert!(format!("{line}\n").ends_with(migration), "{line}");
    }
    for place in [
        // A helper that returns a removed version, unguarded, used only as an apiVersion:
        // rewritten, and the template that uses it migrated.
        "shapes/templates/_helpers.tpl:31:1: helper shapes.statefulset.apiVersion: info [HELM-UNRESOLVED]: the helper `shapes.statefulset.apiVersion` gives apps/v1beta2, not served at 1.36: rewrote `apps/v1beta2` to",
        "shapes/templates/worker.yaml:1:13: StatefulSet {{ include \"shapes.fullname\" . }}-worker: apps/v1beta2 -> apps/v1\n",
        // The guarded fallback for older clusters: noted.
        "shapes/templates/_helpers.tpl:25:1: helper shapes.deployment.apiVersion: info [HELM-UNRESOLVED]: the helper returns extensions/v1beta1 under a guard",
        // A version from values, used only there: the value is rewritten, the Role migrated.
        "shapes/templates/rbac.yaml:2:13: Role {{ include \"shapes.fullname\" . }}: rbac.authorization.k8s.io/v1beta1 -> rbac.authorization.k8s.io/v1\n",
        "shapes/values.yaml:7:15: value rbac.apiVersion: info [HELM-UNRESOLVED]: `.Values.rbac.apiVersion` gives rbac.authorization.k8s.io/v1beta1",
        // A kind from values (Deployment, and StatefulSet in ci/): migrated for both, the
        // pins only one needs under a guard on the kind. An unknown kind.
        "shapes/templates/templated-kind.yaml:1:13: Deployment {{ include \"shapes.fullname\" . }}-templated: apps/v1beta1 -> apps/v1\n",
        "shapes/templates/templated-kind.yaml:2:7: Deployment {{ include \"shapes.fullname\" . }}-templated: info [HELM-UNRESOLVED]: the kind comes from `.Values.worker.kind`, which the chart's values set to Deployment, StatefulSet: migrated",
        "shapes/templates/unknown-kind.yaml:1:13: ThirdPartyResource",
    ] {
        assert!(text.contains(place), "{place}\n---\n{text}");
    }

    // `fix` changes the apiVersion line of each shape and nothing else; a second run
    // changes nothing and still exits 1 for what needs a human.
    let fix = common::kubemig(work.path(), &["fix", "shapes"]);
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    for f in [
        "cronjob-greeting.yaml",
        "statefulset.yaml",
        "daemonset.yaml",
        "pdb.yaml",
        "hpa.yaml",
    ] {
        let rel = Path::new("shapes/templates").join(f);
        let got = fs::read_to_string(work.path().join(&rel)).unwrap();
        let was = fs::read_to_string(data().join(&rel)).unwrap();
        assert_ne!(got, was, "{f}");
        for (a, b) in got.lines().zip(was.lines()) {
            assert!(a == b || a.starts_with("apiVersion: "), "{f}: {b} -> {a}");
        }
    }
    let again = common::kubemig(work.path(), &["diff", "shapes"]);
    assert!(again.stdout.is_empty(), "{again:?}");
    assert_eq!(again.status.code(), Some(1));
}

/// A chart whose only removed group/version is in a helper or a values file fails the
/// check: a CI gate does not pass it.
#[test]
fn a_removed_api_only_in_helpers_or_values_fails_the_check() {
    let work = tempfile::tempdir().unwrap();
    let chart = work.path().join("c");
    fs::create_dir_all(chart.join("templates")).unwrap();
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    );
    write(
        &chart,
        "values.yaml",
        "ingress:\n  apiVersion: extensions/v1beta1\n",
    );
    write(
        &chart.join("templates"),
        "_helpers.tpl",
        "{{- define \"c.psp.apiVersion\" -}}\npolicy/v1beta1\n{{- end -}}\n",
    );
    // The value is also read as data: it cannot be rewritten for the Ingress alone.
    write(
        &chart.join("templates"),
        "ingress.yaml",
        "apiVersion: {{ .Values.ingress.apiVersion }}\nkind: Ingress\nmetadata:\n  name: {{ .Release.Name }}\n  annotations:\n    api: {{ .Values.ingress.apiVersion | quote }}\n",
    );
    let out = common::kubemig(work.path(), &["check", "c"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "c/templates/_helpers.tpl:2:1: helper c.psp.apiVersion: manual [HELM-UNRESOLVED]"
        ),
        "{text}"
    );
    assert!(
        text.contains("c/values.yaml:2:15: value <unnamed>: manual [HELM-UNRESOLVED]"),
        "{text}"
    );
    assert!(text.contains("c/templates/ingress.yaml:1:13: Ingress <unnamed>: manual [HELM-UNRESOLVED]: the apiVersion is built from `.Values.ingress.apiVersion`"), "{text}");
    // Without Chart.yaml the files are not a chart: the values file is plain YAML.
    fs::remove_file(chart.join("Chart.yaml")).unwrap();
    let out = common::kubemig(work.path(), &["check", "c/values.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// A template that is invalid only for some values (a key set again under an `if`) stays
/// an error, which names the condition.
#[test]
fn a_duplicate_under_a_condition_is_an_error_that_names_it() {
    let work = tempfile::tempdir().unwrap();
    write(
        work.path(),
        "dup.yaml",
        "apiVersion: apps/v1beta2\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: 1\n  {{- if .Values.ha }}\n  replicas: 3\n  {{- end }}\n",
    );
    let out = common::kubemig(work.path(), &["check", "dup.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dup.yaml:8:3: error: duplicate key `replicas` (also on line 6)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the second `replicas` is set when `{{- if .Values.ha }}` (line 7) holds"),
        "{stderr}"
    );
}

/// Item 2 of the Helm issue, through the binary: workloads whose migration inserts the
/// apps/v1 selector and pinned defaults are rewritten in the template. The selector copies
/// the pod template's labels as written (inline actions, a helper call with its
/// `nindent`/`indent` set to the new column, and the `if`/`with` + `toYaml` blocks that end
/// them, re-indented: all the pod labels, as the API server defaulted it), a kind from values
/// gets the pins only one kind needs under `{{- if eq .Values.<path> "<Kind>" }}`, the pins go in right after `spec:` when the
/// end of `spec` is templated, and a key set in both branches of an `if` elsewhere does not
/// block it. The files `fix` writes are in `testdata/helm/expected/<chart>/`.
#[test]
fn workloads_get_their_selector_and_pins_in_the_template() {
    let work = tempfile::tempdir().unwrap();
    let charts = ["shapes", "kube-lego", "chronograf", "rethinkdb", "kube2iam"];
    for c in charts {
        common::copy_tree(&data().join(c), &work.path().join(c));
    }
    let mut args = vec!["fix", "-t", "1.33"];
    args.extend(charts);
    let fix = common::kubemig(work.path(), &args);
    assert!(
        !String::from_utf8_lossy(&fix.stderr).contains("error:"),
        "{fix:?}"
    );
    for rel in [
        "shapes/templates/include-labels.yaml",
        "shapes/templates/indent-labels.yaml",
        "shapes/templates/conditional-labels.yaml",
        "shapes/templates/templated-kind.yaml",
        "kube2iam/templates/daemonset.yaml",
        "kube-lego/templates/deployment.yaml",
        "chronograf/templates/deployment.yaml",
        "rethinkdb/templates/rethinkdb-proxy-deployment.yaml",
    ] {
        let got = fs::read(work.path().join(rel)).unwrap();
        assert_ne!(got, fs::read(data().join(rel)).unwrap(), "{rel} unchanged");
        common::golden(&data().join("expected").join(rel), &got);
    }
    // A second run changes nothing.
    let again = common::kubemig(
        work.path(),
        &["diff", "-t", "1.33", "shapes/templates/include-labels.yaml"],
    );
    assert_eq!(again.status.code(), Some(0), "{again:?}");
}

/// What cannot be written for every value is reported at the value: a strategy filled by
/// `toYaml` (the rolling-update pins would change it), and a pod label set as an entry under
/// an `if` (the selector cannot be written for every value).
#[test]
fn templated_values_a_rule_needs_are_reported_where_they_are() {
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("shapes"), &work.path().join("shapes"));
    let found = shapes_findings(work.path());
    assert!(found.contains("shapes/templates/toyaml-strategy.yaml:8:13: [KUBEMIG-SHAPE] `spec.strategy` is not a mapping (in a Helm template: it is filled by `{{ toYaml .Values.strategy | nindent 4 }}`"), "{found}");
    assert!(found.contains("shapes/templates/conditional-label-entry.yaml:13:9: [HELM-TEMPLATED] extensions/v1beta1 -> apps/v1 cannot be written into this template: what it writes depends on `{{- if .Values.admin }}` (line 13)"), "{found}");
    // Both stay as they are.
    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "shapes/templates"]);
    assert_eq!(fix.status.code(), Some(1));
    for f in ["toyaml-strategy.yaml", "conditional-label-entry.yaml"] {
        assert_eq!(
            fs::read(work.path().join("shapes/templates").join(f)).unwrap(),
            fs::read(data().join("shapes/templates").join(f)).unwrap()
        );
    }
}

/// Item 1 of the Helm issue's last round: Ingress paths inside `{{ range }}` (the `helm
/// create` scaffolds of Helm 2 and 3.0-3.3) get `pathType` and the v1 backend written in
/// the range body; a templated servicePort becomes an `if` that picks `port.number` or
/// `port.name` by what it renders; a `semverCompare` guard between two removed versions
/// gets the new one in both branches. A strategy that exists only under an `if` gets the
/// pins the other values need in an `{{- else }}` of that `if`. A servicePort piped to
/// `quote` is reported at its line. The files `fix` writes are in
/// `testdata/helm/expected/shapes/`.
#[test]
fn ingress_paths_in_range_bodies_and_templated_ports_are_migrated() {
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("shapes"), &work.path().join("shapes"));
    let found = shapes_findings(work.path());
    for want in [
        "shapes/templates/ingress-helm3.yaml:38:28: [HELM-TEMPLATED] servicePort is `{{ $svcPort }}` (line 38), a number or a name depending on values",
        "shapes/templates/ingress-helm3.yaml:5:13: [HELM-GUARDED] apiVersion is chosen by the template guard",
        "shapes/templates/ingress-quoted-port.yaml:13:28: [HELM-TEMPLATED] extensions/v1beta1 -> networking.k8s.io/v1 cannot be written into this template: servicePort (line 13) is `{{ .Values.service.port | quote }}`, which renders either a number (port.number) or a name (port.name)",
        "shapes/templates/rolling.yaml:13:1: [HELM-TEMPLATED] `strategy:` is needed only when the `if` before line 13 does not hold: wrote it in an `{{- else }}` of that `if`",
    ] {
        assert!(found.contains(want), "{want}\n---\n{found}");
    }
    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "shapes/templates"]);
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    for f in [
        "ingress-helm2.yaml",
        "ingress-helm3.yaml",
        "ingress-values-port.yaml",
        "rolling.yaml",
    ] {
        let rel = Path::new("shapes/templates").join(f);
        let got = fs::read(work.path().join(&rel)).unwrap();
        common::golden(&data().join("expected").join(&rel), &got);
    }
    let rel = Path::new("shapes/templates/ingress-quoted-port.yaml");
    assert_eq!(
        fs::read(work.path().join(rel)).unwrap(),
        fs::read(data().join(rel)).unwrap()
    );
    // A second run changes nothing.
    let again = common::kubemig(work.path(), &["diff", "-t", "1.33", "shapes/templates"]);
    assert!(again.stdout.is_empty(), "{again:?}");
}

/// `check -t 1.33 --format json` of `shapes/templates` under `dir`: one
/// `path:line:column: [CODE] message` line per finding.
fn shapes_findings(dir: &Path) -> String {
    let out = common::kubemig(
        dir,
        &[
            "check",
            "--format",
            "json",
            "-t",
            "1.33",
            "shapes/templates",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}: [{}] {}",
                f["path"].as_str().unwrap(),
                f["line"],
                f["column"],
                f["code"].as_str().unwrap_or(""),
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    found.join("\n")
}

/// Two insert places the third round of public charts showed. kube-state-metrics: the last
/// line of `spec` is in an `if` closed by a `{{- end }}` at column 0, so pins written
/// "at the end of spec" would render only when that `if` holds; they go in right after
/// `spec:`. traefik's dashboard Ingress: a path item without `path`, where plain mode
/// writes `pathType` as the item's first entry right after `- `; the template gets it as a
/// whole line after the item's last one.
#[test]
fn pins_stay_out_of_a_trailing_if_and_an_item_takes_a_new_first_entry() {
    let work = tempfile::tempdir().unwrap();
    let deploy = "apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: ksm
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app: ksm
    spec:
      containers:
      - name: ksm
        image: ksm
{{- if .Values.tolerations }}
      tolerations:
{{ toYaml .Values.tolerations | indent 8 }}
{{- end }}
";
    let ingress = "{{- if .Values.dashboard.enabled }}
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: dash
spec:
  rules:
  - host: {{ .Values.dashboard.domain }}
    http:
      paths:
      - backend:
          serviceName: dash
          servicePort: 80
{{- end }}
";
    // kubernetes-dashboard: the rules are chosen by an `if`/`else`, each with its paths in
    // a `range`; both branches are read and planned, and each gets its own entries.
    let chosen = "apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: dash
spec:
  rules:
  {{- if .Values.hosts }}
  {{- range $host := .Values.hosts }}
    - host: {{ $host }}
      http:
        paths:
          - path: /
            backend:
              serviceName: dash
              servicePort: 443
  {{- end -}}
  {{- else }}
    - http:
        paths:
          - path: /
            backend:
              serviceName: dash
              servicePort: 443
  {{- end }}
";
    let c = write(work.path(), "c/templates/chosen.yaml", chosen);
    let d = write(work.path(), "c/templates/deploy.yaml", deploy);
    let i = write(work.path(), "c/templates/ingress.yaml", ingress);
    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "c"]);
    assert_eq!(fix.status.code(), Some(0), "{fix:?}");
    let d = fs::read_to_string(d).unwrap();
    assert!(
        d.contains("spec:\n  strategy:\n    type: RollingUpdate\n"),
        "{d}"
    );
    assert!(
        d.ends_with("{{ toYaml .Values.tolerations | indent 8 }}\n{{- end }}\n"),
        "{d}"
    );
    let i = fs::read_to_string(i).unwrap();
    assert!(
        i.ends_with(
            "              number: 80\n        pathType: ImplementationSpecific\n{{- end }}\n"
        ),
        "{i}"
    );
    let c = fs::read_to_string(c).unwrap();
    assert_eq!(
        c.matches("pathType: ImplementationSpecific").count(),
        2,
        "{c}"
    );
    assert_eq!(c.matches("number: 443").count(), 2, "{c}");
    // A second run changes nothing.
    let again = common::kubemig(work.path(), &["diff", "-t", "1.33", "c"]);
    assert!(again.stdout.is_empty(), "{again:?}");
}

/// `testdata/helm/sources`: an apiVersion that comes from a values file (whole, or the
/// version half of `group/{{ .Values.x }}`) or from a helper is migrated where every use of
/// it is the apiVersion of an object that migrates: the value is rewritten where it is set
/// (values.yaml and the chart's `ci/` values, quoting and comments kept), the template gets
/// the object's edits. A values path also read as data is reported at both places.
#[test]
fn apiversions_from_values_and_helpers_migrate_where_every_use_allows() {
    let work = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("sources"), &work.path().join("sources"));
    let check = common::kubemig(work.path(), &["check", "-v", "-t", "1.33", "sources"]);
    let text = String::from_utf8(check.stdout).unwrap();
    assert_eq!(check.status.code(), Some(1), "{text}");
    for place in [
        "sources/templates/deployment.yaml:1:13: Deployment {{ include \"sources.name\" . }}: extensions/v1beta1 -> apps/v1\n",
        "sources/templates/deployment.yaml:1:13: Deployment {{ include \"sources.name\" . }}: info [HELM-UNRESOLVED]: the apiVersion comes from `.Values.deployment.apiVersion`",
        "sources/templates/rbac.yaml:10:13: RoleBinding {{ include \"sources.name\" . }}: rbac.authorization.k8s.io/v1beta1 -> rbac.authorization.k8s.io/v1\n",
        "sources/templates/cronjob.yaml:1:13: CronJob {{ include \"sources.name\" . }}-cleanup: batch/v1beta1 -> batch/v1\n",
        "sources/templates/pdb.yaml:1:13: PodDisruptionBudget {{ include \"sources.name\" . }}: policy/v1beta1 -> policy/v1\n",
        "sources/values.yaml:3:16: value deployment.apiVersion: info [HELM-UNRESOLVED]",
        "sources/values.yaml:7:15: value rbac.apiVersion: info [HELM-UNRESOLVED]",
        "sources/ci/old-values.yaml:2:16: value deployment.apiVersion: info [HELM-UNRESOLVED]",
        "sources/ci/old-values.yaml:5:15: value cron.apiVersion: info [HELM-UNRESOLVED]",
        "sources/templates/_helpers.tpl:15:1: helper sources.pdb.apiVersion: info [HELM-GUARDED]",
        // Read as data too: both places need a human.
        "sources/templates/monitor.yaml:1:13: DaemonSet <unnamed>: manual [HELM-UNRESOLVED]: the apiVersion is built from `.Values.monitor.apiVersion`",
        "sources/values.yaml:13:15: value <unnamed>: manual [HELM-UNRESOLVED]: `monitor.apiVersion` is the version of the apiVersion in sources/templates/monitor.yaml:1",
    ] {
        assert!(text.contains(place), "{place}\n---\n{text}");
    }
    // Nothing else about the migrated sources needs a human.
    let manual: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("manual [") || l.ends_with("needs a human"))
        .collect();
    assert_eq!(manual.len(), 4, "{manual:#?}");
    assert!(
        manual
            .iter()
            .all(|l| l.contains("monitor") || l.starts_with("sources/values.yaml:13:15:")),
        "{manual:#?}"
    );

    // JSON names each place.
    let json = common::kubemig(
        work.path(),
        &["check", "-t", "1.33", "--format", "json", "sources"],
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let places: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}",
                f["path"].as_str().unwrap(),
                f["line"],
                f["column"]
            )
        })
        .collect();
    for p in [
        "sources/templates/monitor.yaml:1:13",
        "sources/values.yaml:13:15",
    ] {
        assert!(places.iter().any(|x| x == p), "{p}: {places:?}");
    }

    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "sources"]);
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    let read = |f: &str| fs::read_to_string(work.path().join("sources").join(f)).unwrap();
    let orig = |f: &str| fs::read_to_string(data().join("sources").join(f)).unwrap();
    // Values rewritten in place: quoting and comments kept, every other byte the same.
    assert_eq!(
        read("values.yaml"),
        orig("values.yaml")
            .replace(
                "\"extensions/v1beta1\"  # the chart's default",
                "\"apps/v1\"  # the chart's default"
            )
            .replace("apiVersion: v1beta1", "apiVersion: v1")
            .replace("batch/v1beta1", "batch/v1")
    );
    assert_eq!(
        read("ci/old-values.yaml"),
        orig("ci/old-values.yaml")
            .replace("'extensions/v1beta1'", "'apps/v1'")
            .replace("batch/v2alpha1", "batch/v1")
    );
    // The helper's removed branch becomes the replacement its other branch returns.
    assert_eq!(
        read("templates/_helpers.tpl"),
        orig("templates/_helpers.tpl").replace("policy/v1beta1\n", "policy/v1\n")
    );
    // The template keeps its action and gets the Deployment's selector and pins.
    let dep = read("templates/deployment.yaml");
    assert!(
        dep.starts_with("apiVersion: {{ .Values.deployment.apiVersion }}\n"),
        "{dep}"
    );
    assert!(dep.contains("  selector:\n    matchLabels:\n      {{- include \"sources.selectorLabels\" . | nindent 6 }}\n"), "{dep}");
    assert!(
        dep.contains("  revisionHistoryLimit: 2147483647\n"),
        "{dep}"
    );
    // Untouched: the monitor (and its value) and the templates that needed no edit.
    for f in [
        "templates/monitor.yaml",
        "templates/rbac.yaml",
        "templates/pdb.yaml",
    ] {
        assert_eq!(read(f), orig(f), "{f}");
    }
    assert!(read("values.yaml").contains("monitor:\n  apiVersion: extensions/v1beta1\n"));

    // A second run changes nothing; the monitor still needs a human.
    let again = common::kubemig(work.path(), &["diff", "-t", "1.33", "sources"]);
    assert!(again.stdout.is_empty(), "{again:?}");
    assert_eq!(again.status.code(), Some(1));
}

/// A values file that sets the path to a version no migration agrees on (an apps/v1beta1
/// Deployment pins other defaults than an extensions/v1beta1 one), or a template not among
/// the files of the run: nothing is rewritten, both places are reported.
#[test]
fn a_values_apiversion_is_left_reported_when_a_value_or_a_file_disagrees() {
    let work = tempfile::tempdir().unwrap();
    let chart = work.path().join("sources");
    common::copy_tree(&data().join("sources"), &chart);
    write(
        &chart.join("ci"),
        "old-values.yaml",
        "deployment:\n  apiVersion: apps/v1beta1\n",
    );
    let check = common::kubemig(work.path(), &["check", "-t", "1.33", "sources"]);
    let text = String::from_utf8(check.stdout).unwrap();
    assert!(
        text.contains("sources/templates/deployment.yaml:1:13: Deployment <unnamed>: manual [HELM-UNRESOLVED]: the apiVersion is built from `.Values.deployment.apiVersion`"),
        "{text}"
    );
    assert!(
        text.contains("sources/ci/old-values.yaml:2:15: value <unnamed>: manual [HELM-UNRESOLVED]"),
        "{text}"
    );
    assert!(
        text.contains("sources/values.yaml:3:15: value <unnamed>: manual [HELM-UNRESOLVED]"),
        "{text}"
    );
    // The others still migrate.
    assert!(
        text.contains("sources/templates/rbac.yaml:1:13: Role"),
        "{text}"
    );
    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "sources"]);
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    let dep = fs::read_to_string(chart.join("templates/deployment.yaml")).unwrap();
    assert_eq!(
        dep,
        fs::read_to_string(data().join("sources/templates/deployment.yaml")).unwrap()
    );
    assert!(
        fs::read_to_string(chart.join("values.yaml"))
            .unwrap()
            .contains("\"extensions/v1beta1\"")
    );
}

/// A chart whose values file or helper carries a template's apiVersion is written as one
/// change: when a template planned under the new value cannot be written, the values files
/// and helpers of the chart are left as they were (the template alone still renders the old
/// version, valid there), and a rerun once it can be written finishes the job.
#[cfg(unix)]
#[test]
fn a_value_is_not_rewritten_when_a_template_that_reads_it_cannot_be() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    let chart = work.path().join("sources");
    common::copy_tree(&data().join("sources"), &chart);
    let orig = |f: &str| fs::read_to_string(data().join("sources").join(f)).unwrap();
    let read = |f: &str| fs::read_to_string(chart.join(f)).unwrap();
    let template = chart.join("templates/deployment.yaml");
    fs::set_permissions(&template, fs::Permissions::from_mode(0o444)).unwrap();

    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "sources"]);
    let err = String::from_utf8_lossy(&fix.stderr);
    assert_eq!(fix.status.code(), Some(2), "{fix:?}");
    assert!(
        err.contains("sources/templates/deployment.yaml: error: is read-only"),
        "{err}"
    );
    for carrier in [
        "values.yaml",
        "ci/old-values.yaml",
        "templates/_helpers.tpl",
    ] {
        assert_eq!(read(carrier), orig(carrier), "{carrier}");
        assert!(
            err.contains(&format!(
                "sources/{carrier}: error: left unchanged: sources/templates/deployment.yaml of the same chart takes its apiVersion from here"
            )),
            "{carrier}: {err}"
        );
    }
    // A template written without its value renders what it did before.
    assert!(
        read("templates/cronjob.yaml").starts_with("apiVersion: {{ .Values.cron.apiVersion }}")
    );

    fs::set_permissions(&template, fs::Permissions::from_mode(0o644)).unwrap();
    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "sources"]);
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");
    let once = tempfile::tempdir().unwrap();
    common::copy_tree(&data().join("sources"), &once.path().join("sources"));
    common::kubemig(once.path(), &["fix", "-t", "1.33", "sources"]);
    for f in [
        "values.yaml",
        "ci/old-values.yaml",
        "templates/_helpers.tpl",
        "templates/deployment.yaml",
        "templates/cronjob.yaml",
    ] {
        let direct = fs::read_to_string(once.path().join("sources").join(f)).unwrap();
        assert_eq!(read(f), direct, "{f}");
    }
}

/// Shapes the fourth round of public charts showed (`testdata/helm/SOURCES.md`).
/// k8s-spot-termination-handler: an extensions/v1beta1 DaemonSet whose `spec` starts with
/// `template:` (plain mode writes the selector before it, after its indentation: the
/// template takes it as whole lines) and ends in an `if` that sets `updateStrategy`, with an
/// `if` of its own inside: without it, the object needs the old default `OnDelete`, which
/// goes in an `{{- else }}` of it. A Deployment whose `strategy` is in such a trailing `if`
/// gets its old default strategy there too (it used to get its other pins only, and
/// rendered without the `if` it rolled out with apps/v1's 25%). katafygio: an apiVersion
/// built from `{{ required "…" .Values.rbac.apiVersion }}` migrates through the value.
#[test]
fn trailing_ifs_get_else_pins_and_required_values_migrate() {
    let work = tempfile::tempdir().unwrap();
    let ds = "apiVersion: extensions/v1beta1
kind: DaemonSet
metadata:
  name: spot
spec:
  template:
    metadata:
      labels:
        app: spot
    spec:
      containers:
        - name: spot
          image: spot
  {{- if .Values.updateStrategy }}
  updateStrategy:
    type: {{ .Values.updateStrategy }}
    {{ if eq .Values.updateStrategy \"RollingUpdate\" }}
    rollingUpdate:
      maxUnavailable: 1
    {{- end }}
  {{- end }}
";
    let deploy = "apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
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
  {{- if .Values.recreate }}
  strategy:
    type: Recreate
  {{- end }}
";
    let rbac = "apiVersion: rbac.authorization.k8s.io/{{ required \"A valid .Values.rbac.apiVersion entry required!\" .Values.rbac.apiVersion }}
kind: ClusterRole
metadata:
  name: reader
rules: []
";
    write(
        work.path(),
        "c/Chart.yaml",
        "apiVersion: v1\nname: c\nversion: 0.1.0\n",
    );
    let values = write(
        work.path(),
        "c/values.yaml",
        "rbac:\n  apiVersion: v1beta1 # the chart's default\n",
    );
    let ds = write(work.path(), "c/templates/daemonset.yaml", ds);
    let d = write(work.path(), "c/templates/deployment.yaml", deploy);
    let r = write(work.path(), "c/templates/rbac.yaml", rbac);
    let fix = common::kubemig(work.path(), &["fix", "-t", "1.33", "c"]);
    assert_eq!(fix.status.code(), Some(0), "{fix:?}");
    let ds = fs::read_to_string(ds).unwrap();
    assert!(
        ds.contains("spec:\n  selector:\n    matchLabels:\n      app: spot\n  template:\n"),
        "{ds}"
    );
    assert!(
        ds.ends_with(
            "    {{- end }}\n  {{- else }}\n  updateStrategy:\n    type: OnDelete\n  {{- end }}\n"
        ),
        "{ds}"
    );
    let d = fs::read_to_string(d).unwrap();
    assert!(
        d.ends_with(
            "    type: Recreate\n  {{- else }}\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 1\n      maxSurge: 1\n  {{- end }}\n"
        ),
        "{d}"
    );
    assert_eq!(d.matches("revisionHistoryLimit").count(), 1, "{d}");
    assert_eq!(fs::read_to_string(r).unwrap(), rbac);
    assert_eq!(
        fs::read_to_string(values).unwrap(),
        "rbac:\n  apiVersion: v1 # the chart's default\n"
    );
    // A second run changes nothing.
    let again = common::kubemig(work.path(), &["diff", "-t", "1.33", "c"]);
    assert!(again.stdout.is_empty(), "{again:?}");
}
