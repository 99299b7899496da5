//! Helm chart sources against Helm itself: the chart in `testdata/helm/webapp` is rendered
//! with Helm's Go SDK (helm-python-sdk from PyPI, via `tests/helm/render.py`) before and
//! after `kubemig fix`. The fixed chart must still render, and every rendered document must
//! be what `kubemig fix` makes of the original chart's rendering — or, for templates kubemig
//! reported instead of rewriting (guards, templated structure), the original document.
//!
//! Needs a Python with helm-python-sdk: env `KUBEMIG_HELM_PYTHON`, else `.ci/helm/bin/python`
//! (`.ci/run` makes it). The test is `#[ignore]`d, so a plain `cargo test` lists it as ignored;
//! with `-- --include-ignored` a missing SDK is a failure.

use crate::common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> PathBuf {
    let p = std::env::var_os("KUBEMIG_HELM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/helm/bin/python"));
    assert!(
        p.exists(),
        "no Python with helm-python-sdk at {}: set KUBEMIG_HELM_PYTHON or run .ci/run",
        p.display()
    );
    p
}

fn render(python: &Path, chart: &Path, out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm/render.py");
    let r = Command::new(python)
        .arg(script)
        .arg(chart)
        .arg(out)
        .output()
        .expect("run the Helm renderer");
    assert!(
        r.status.success(),
        "helm could not render {}:\n{}",
        chart.display(),
        String::from_utf8_lossy(&r.stderr)
    );
}

/// The documents of a rendered file as values (empty documents dropped, as Helm does).
fn docs(path: &Path) -> Vec<yaml_serde::Value> {
    let text = fs::read_to_string(path).unwrap();
    yaml_serde::Deserializer::from_str(&text)
        .map(|d| {
            <yaml_serde::Value as serde::Deserialize>::deserialize(d)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

#[test]
#[ignore = "needs helm-python-sdk 0.2.2 (Helm's Go SDK): .ci/run installs it"]
fn a_fixed_chart_renders_what_fixing_its_rendering_gives() {
    let py = python();
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/helm/webapp");
    common::copy_tree(&chart, &t.join("fixed/webapp"));

    // What kubemig leaves for a human (or to a guard) in the chart source, by template.
    let check = common::kubemig(&t.join("fixed"), &["check", "-v", "."]);
    assert_eq!(check.status.code(), Some(1));
    let check = String::from_utf8(check.stdout).unwrap();
    let left: BTreeSet<PathBuf> = check
        .lines()
        .filter(|l| l.contains("[HELM-") || l.ends_with("needs a human"))
        .map(|l| PathBuf::from(l.split(':').next().unwrap()))
        .collect();
    assert!(left.len() >= 4, "{check}");

    let fix = common::kubemig(&t.join("fixed"), &["fix", "."]);
    assert_ne!(fix.status.code(), Some(2), "{fix:?}");
    render(&py, &chart, &t.join("rendered"));
    render(&py, &t.join("fixed/webapp"), &t.join("rendered-fixed"));

    // The plain-YAML rendering, fixed: what the chart should render after kubemig.
    common::copy_tree(&t.join("rendered"), &t.join("expected"));
    let fix = common::kubemig(&t.join("expected"), &["fix", "."]);
    assert_ne!(fix.status.code(), Some(2), "{fix:?}");

    let rendered = common::files(&t.join("rendered"));
    let mut migrated = 0;
    for f in &rendered {
        let original = docs(&t.join("rendered").join(f));
        let expected = docs(&t.join("expected").join(f));
        let got = docs(&t.join("rendered-fixed").join(f));
        assert_eq!(got.len(), original.len(), "{}", f.display());
        if left.contains(f) {
            for (i, g) in got.iter().enumerate() {
                assert!(
                    *g == original[i] || *g == expected[i],
                    "{} document {i}: neither left alone nor migrated:\n{g:?}",
                    f.display()
                );
            }
        } else {
            assert_eq!(got, expected, "{}", f.display());
            migrated += usize::from(got != original);
        }
    }
    // cronjob, hpa, pdb and rbac are rewritten in the chart source.
    assert!(
        migrated >= 4,
        "only {migrated} templates rendered differently"
    );
    assert!(rendered.len() >= 10, "{rendered:?}");
}

/// The rendered documents of every file under `dir`, by path.
fn rendered(dir: &Path) -> Vec<(PathBuf, Vec<yaml_serde::Value>)> {
    common::files(dir)
        .into_iter()
        .map(|f| {
            let d = docs(&dir.join(&f));
            (f, d)
        })
        .collect()
}

/// Group/versions no release from 1.33 on serves (the ones the shapes chart uses).
const REMOVED: &[&str] = &[
    "extensions/v1beta1",
    "apps/v1beta1",
    "apps/v1beta2",
    "batch/v1beta1",
    "policy/v1beta1",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "rbac.authorization.k8s.io/v1beta1",
    "networking.k8s.io/v1beta1",
];

fn api_of(v: &yaml_serde::Value) -> Option<&str> {
    v.get("apiVersion").and_then(yaml_serde::Value::as_str)
}

/// `testdata/helm/shapes`, rendered with its default values and with its CI values
/// (`ci/admin-values.yaml`, which takes the other branch of every `if`), before and after
/// `kubemig fix`: no chart breaks, every rendered object on a removed API is migrated or
/// reported in the chart source (its template, or the helper or values file it takes its
/// apiVersion from), and each of the five template shapes migrates.
#[test]
#[ignore = "needs helm-python-sdk 0.2.2 (Helm's Go SDK): .ci/run installs it"]
fn shapes_chart_renders_after_fix_and_no_removed_api_is_unreported() {
    let py = python();
    let t = tempfile::tempdir().unwrap();
    let t = t.path();
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/helm/shapes");
    common::copy_tree(&chart, &t.join("fixed/shapes"));
    let check = common::kubemig(&t.join("fixed"), &["check", "-v", "shapes"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        !String::from_utf8_lossy(&check.stderr).contains("error:"),
        "{check:?}"
    );
    let check = String::from_utf8(check.stdout).unwrap();
    let fix = common::kubemig(&t.join("fixed"), &["fix", "shapes"]);
    assert_eq!(fix.status.code(), Some(1), "{fix:?}");

    let values = chart.join("ci/admin-values.yaml");
    let (mut migrated, mut reported, mut unreported) = (0, 0, Vec::new());
    let mut shapes_migrated = BTreeSet::new();
    for (label, values) in [("default", None), ("ci", Some(&values))] {
        let run = |chart: &Path, out: &Path| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm/render.py");
            let mut cmd = Command::new(&py);
            cmd.arg(script).arg(chart).arg(out);
            if let Some(v) = values {
                cmd.arg(v);
            }
            let r = cmd.output().expect("run the Helm renderer");
            assert!(
                r.status.success(),
                "helm could not render {} ({label} values):\n{}",
                chart.display(),
                String::from_utf8_lossy(&r.stderr)
            );
        };
        let before = t.join(format!("{label}/rendered"));
        let after = t.join(format!("{label}/rendered-fixed"));
        run(&chart, &before);
        run(&t.join("fixed/shapes"), &after);
        // What plain mode makes of the rendered output: what the fixed chart should render.
        let expected = t.join(format!("{label}/expected"));
        common::copy_tree(&before, &expected);
        let _ = common::kubemig(&expected, &["fix", "."]);
        let (before, after, expected) = (rendered(&before), rendered(&after), rendered(&expected));
        assert_eq!(
            before.len(),
            after.len(),
            "{label}: a template stopped rendering"
        );
        for (((f, was), (_, got)), (_, want)) in before.iter().zip(&after).zip(&expected) {
            assert_eq!(was.len(), got.len(), "{label} {}", f.display());
            let template = f.strip_prefix("shapes").unwrap().display().to_string();
            let source = fs::read_to_string(chart.join(&template)).unwrap();
            for (i, (was, got)) in was.iter().zip(got).enumerate() {
                assert!(
                    got == was || *got == want[i],
                    "{label} {} document {i}: neither left alone nor migrated:\n{got:?}",
                    f.display()
                );
                if !api_of(was).is_some_and(|a| REMOVED.contains(&a)) {
                    continue;
                }
                if got != was {
                    migrated += 1;
                    shapes_migrated.insert(template.clone());
                    continue;
                }
                // Reported: at the template, or at the helper or values file the
                // template's apiVersion line reads.
                let api_line = source
                    .lines()
                    .find(|l| l.starts_with("apiVersion:"))
                    .unwrap_or("");
                let at_template = check.lines().any(|l| {
                    l.starts_with(&format!("shapes/{template}:")) && l.contains("manual [")
                });
                let at_source = (api_line.contains("include")
                    && check.contains("shapes/templates/_helpers.tpl:"))
                    || (api_line.contains(".Values") && check.contains("shapes/values.yaml:"));
                if at_template || at_source {
                    reported += 1;
                } else {
                    unreported.push(format!("{label} {template} #{i}"));
                }
            }
        }
    }
    eprintln!(
        "rendered removed-API objects: {migrated} migrated, {reported} reported, {} unreported",
        unreported.len()
    );
    assert!(unreported.is_empty(), "{unreported:?}\n{check}");
    for shape in [
        "templates/cronjob-greeting.yaml",
        "templates/statefulset.yaml",
        "templates/daemonset.yaml",
        "templates/pdb.yaml",
        "templates/hpa.yaml",
    ] {
        assert!(
            shapes_migrated.contains(shape),
            "{shape}: {shapes_migrated:?}"
        );
    }
}
