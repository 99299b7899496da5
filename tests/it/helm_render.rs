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
