//! Kustomize overlays through the real binary: `testdata/kustomize` holds a base (an
//! extensions/v1beta1 Deployment and Ingress, a batch/v1beta1 CronJob) and two overlays whose
//! patches refer to them: `prod` (strategic-merge patch files and inline patches, JSON 6902
//! targets) must keep applying after the migration; `legacy` has what kubemig must report
//! (a patch setting a field the migration restructures, a target with no kind).
//!
//! `testdata/kustomize/expected/` holds what `check -v` and `diff` print and the files `fix`
//! rewrites (every other file must stay byte-identical). KUBEMIG_BLESS=1 rewrites them.
//!
//! The real client: `kubectl kustomize` (kustomize built into kubectl; KUBEMIG_KUBECTL names
//! another binary) builds the prod overlay before and after `fix`. That test is `#[ignore]`d
//! (`.ci/run` installs kubectl and runs it); run with `-- --include-ignored` it fails when no
//! kubectl is found.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kustomize")
}

/// A temporary copy of the base and the overlays.
fn fixture() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    for d in ["base", "overlays"] {
        common::copy_tree(&data().join(d), &work.path().join(d));
    }
    work
}

#[test]
fn targets_and_patches_move_with_the_resources() {
    let expected = data().join("expected");
    let work = fixture();
    let dirs = ["base", "overlays"];

    let check = common::kubemig(work.path(), &[&["check", "-v"][..], &dirs].concat());
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    common::golden(&expected.join("check.txt"), &check.stdout);
    let diff = common::kubemig(work.path(), &[&["diff"][..], &dirs].concat());
    common::golden(&expected.join("diff.txt"), &diff.stdout);

    let fix = common::kubemig(work.path(), &[&["fix"][..], &dirs].concat());
    assert_eq!(
        fix.status.code(),
        Some(1),
        "the legacy overlay needs a human: {fix:?}"
    );
    let all: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| {
            common::files(&work.path().join(d))
                .into_iter()
                .map(move |p| Path::new(d).join(p))
        })
        .collect();
    for rel in &all {
        let got = fs::read(work.path().join(rel)).unwrap();
        let original = fs::read(data().join(rel)).unwrap();
        let want_path = expected.join(rel);
        if common::bless() {
            if got != original {
                common::golden(&want_path, &got);
            } else {
                let _ = fs::remove_file(&want_path);
            }
            continue;
        }
        match fs::read(&want_path) {
            Ok(want) => assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{}",
                rel.display()
            ),
            Err(_) => assert!(got == original, "{} changed", rel.display()),
        }
    }

    // The patch file got its apiVersion only: no selector, labels or pinned defaults.
    let patch =
        fs::read_to_string(work.path().join("overlays/prod/deployment-replicas.yaml")).unwrap();
    assert_eq!(
        patch,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 5\n"
    );

    let again = common::kubemig(work.path(), &[&["diff"][..], &dirs].concat());
    assert!(
        again.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn what_cannot_follow_is_reported_with_its_place() {
    let work = fixture();
    let out = common::kubemig(work.path(), &["check", "overlays/legacy"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("overlays/legacy/ingress-backend.yaml:12:15: Ingress web: manual [KUSTOMIZE-PATCH]: this patch sets `serviceName: web-legacy`, which extensions/v1beta1 -> networking.k8s.io/v1 changes"), "{text}");
    assert!(text.contains("overlays/legacy/kustomization.yml:19:16: <any kind> web: manual [KUSTOMIZE-TARGET]: patches[2].target selects every kind of extensions/v1beta1"), "{text}");
    // A target without a group still follows its kind's version.
    assert!(
        text.contains(
            "overlays/legacy/kustomization.yml:8:16: CronJob <unnamed>: batch/v1beta1 -> batch/v1"
        ),
        "{text}"
    );
}

#[test]
fn a_patch_named_alone_is_still_a_patch() {
    // Its kustomization is found in the directory above it.
    let work = fixture();
    let out = common::kubemig(
        work.path(),
        &["diff", "overlays/prod/deployment-replicas.yaml"],
    );
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(
        diff.contains("-apiVersion: extensions/v1beta1\n+apiVersion: apps/v1\n"),
        "{diff}"
    );
    assert!(
        !diff.contains("selector") && !diff.contains("strategy"),
        "{diff}"
    );
    // The same object as a plain manifest is a whole Deployment and gets its defaults.
    fs::copy(
        work.path().join("overlays/prod/deployment-replicas.yaml"),
        work.path().join("standalone.yaml"),
    )
    .unwrap();
    let out = common::kubemig(work.path(), &["check", "standalone.yaml"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("WL-NO-TEMPLATE-LABELS"), "{text}");
}

#[test]
fn a_kustomization_that_spells_group_and_version_apart_is_always_read() {
    // No `group/version` string anywhere: the prefilter alone would skip this file.
    let work = tempfile::tempdir().unwrap();
    let k = work.path().join("kustomization.yaml");
    fs::write(
        &k,
        "resources:\n- ingress.yaml\npatchesJson6902:\n- target:\n    group: \"extensions\"\n    version: 'v1beta1'\n    kind: Ingress\n    name: web\n  path: host.yaml\n",
    )
    .unwrap();
    let out = common::kubemig(work.path(), &["fix", "."]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        fs::read_to_string(&k).unwrap(),
        "resources:\n- ingress.yaml\npatchesJson6902:\n- target:\n    group: \"networking.k8s.io\"\n    version: 'v1'\n    kind: Ingress\n    name: web\n  path: host.yaml\n"
    );
    // The target version follows the same window as objects: at 1.21 the CronJob stays.
    fs::write(
        &k,
        "patches:\n- target: {group: batch, version: v1beta1, kind: CronJob}\n  patch: '[]'\n",
    )
    .unwrap();
    let out = common::kubemig(work.path(), &["check", "-t", "1.21", "."]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = common::kubemig(work.path(), &["diff", "-t", "1.25", "."]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("+- target: {group: batch, version: v1, kind: CronJob}")
    );
}

/// env `KUBEMIG_KUBECTL`, else `.ci/kubectl/bin/kubectl` (made by `.ci/run`), else `PATH`.
fn kubectl() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KUBEMIG_KUBECTL") {
        return Some(PathBuf::from(p));
    }
    let ci = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/kubectl/bin/kubectl");
    if ci.is_file() {
        return Some(ci);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    })
}

fn build(kubectl: &Path, dir: &Path) -> Output {
    Command::new(kubectl)
        .args(["kustomize"])
        .arg(dir)
        .output()
        .expect("run kubectl kustomize")
}

#[test]
#[ignore = "needs kubectl (its built-in kustomize): .ci/run installs it"]
fn the_real_kustomize_builds_the_migrated_overlay() {
    let kubectl = kubectl().expect("kubectl not found: set KUBEMIG_KUBECTL or run .ci/run");
    let work = fixture();
    let overlay = work.path().join("overlays/prod");
    let before = build(&kubectl, &overlay);
    assert!(before.status.success(), "{before:?}");

    // Migrating the base alone breaks the overlay: its patches no longer find their targets.
    common::kubemig(work.path(), &["fix", "base"]);
    let broken = build(&kubectl, &overlay);
    assert!(!broken.status.success(), "{broken:?}");
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("failed to find unique target for patch"),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );

    // Migrating the overlay too makes it apply again, every patch with it.
    common::kubemig(work.path(), &["fix", "overlays/prod"]);
    let after = build(&kubectl, &overlay);
    assert!(after.status.success(), "{after:?}");
    let out = String::from_utf8(after.stdout).unwrap();
    for want in [
        "apiVersion: apps/v1\nkind: Deployment\n",
        "  replicas: 5\n",        // patchesStrategicMerge file
        "    team: storefront\n", // patches[] with an apps/v1 target
        "apiVersion: batch/v1\nkind: CronJob\n",
        "  schedule: 0 4 * * *\n", // inline strategic-merge patch
        "  suspend: true\n",       // patches[] JSON 6902 with a batch target
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\n",
        "  - host: www.example.com\n", // patchesJson6902 target
        "        pathType: ImplementationSpecific\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    assert!(!out.contains("v1beta1"), "{out}");
}
