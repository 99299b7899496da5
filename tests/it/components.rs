//! Component configuration files (kubeconfig, kubeadm, scheduler, kubelet, audit policy):
//! `explain` knows every id of the catalogue's `config/` entries, through the real binary.
//! Their migrations themselves are golden cases (`testdata/golden/config-*`).

use std::path::Path;
use std::process::Output;

use crate::common::km;

fn kubemig(dir: &Path, args: &[&str]) -> Output {
    km(dir, args).output()
}

/// Every migration and field id of migrations/config-*.toml; an example, when the entry has
/// one, must migrate at the default target.
const IDS: &[(&str, bool)] = &[
    ("config/audit-policy-v1alpha1-to-v1beta1", false),
    ("config/audit-policy-v1beta1-to-v1", true),
    ("config/kubeconfig-exec-v1alpha1", true),
    ("config/credentialproviderconfig-v1alpha1-to-v1beta1", false),
    ("config/credentialproviderconfig-v1beta1-to-v1", true),
    ("config/kubelet-unlimited-swap", false),
    ("config/kubescheduler-v1beta1-to-v1beta2", false),
    ("config/kubescheduler-v1beta2-to-v1beta3", true),
    ("config/kubescheduler-v1beta3-to-v1", true),
    ("config/kubeadm-v1beta2-to-v1beta3", false),
    ("config/kubeadm-v1beta3-to-v1beta4", true),
    ("config/admissionconfiguration-v1alpha1-to-v1", true),
    ("config/egressselector-v1alpha1-to-v1beta1", true),
    ("config/webhook-admission-v1alpha1", true),
];

#[test]
fn explain_knows_every_component_configuration_id() {
    let t = tempfile::tempdir().unwrap();
    for (id, example) in IDS {
        let out = kubemig(t.path(), &["explain", id]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{id}: {out:?}");
        assert!(stdout.starts_with(&format!("{id}: ")), "{id}: {stdout}");
        assert!(stdout.contains("docs: https://"), "{id}: {stdout}");
        if *example {
            assert!(stdout.contains("+++ b/example.yaml"), "{id}: {stdout}");
            assert!(!stdout.contains("not rewritten"), "{id}: {stdout}");
        }
    }
}

#[test]
fn every_config_id_in_the_catalogue_is_listed_here() {
    let t = tempfile::tempdir().unwrap();
    let mut listed = String::new();
    for args in [&["list"][..], &["list", "--fields"][..]] {
        let out = kubemig(t.path(), args);
        listed.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let mut ids: Vec<&str> = listed
        .split_whitespace()
        .filter(|w| w.starts_with("config/"))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut known: Vec<&str> = IDS.iter().map(|(id, _)| *id).collect();
    known.sort_unstable();
    assert_eq!(ids, known);
}

const CERT_V1ALPHA2: &str = "\
apiVersion: cert-manager.io/v1alpha2
kind: Certificate
metadata:
  name: web
spec:
  secretName: web-tls
  keyAlgorithm: rsa
  issuerRef: {name: ca}
";

#[test]
fn packs_are_opt_in_by_flag_or_config_and_follow_their_component_version() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("cert.yaml"), CERT_V1ALPHA2).unwrap();

    // Not enabled: cert-manager's versions are unknown, nothing to do.
    let off = kubemig(t.path(), &["check", "--no-config", "cert.yaml"]);
    assert_eq!(off.status.code(), Some(0), "{off:?}");

    // --pack: migrated at the pack's newest cert-manager.
    let on = kubemig(
        t.path(),
        &[
            "check",
            "--no-config",
            "--pack",
            "cert-manager",
            "cert.yaml",
        ],
    );
    let stdout = String::from_utf8_lossy(&on.stdout);
    assert_eq!(on.status.code(), Some(1), "{on:?}");
    assert!(
        stdout.contains("cert-manager.io/v1alpha2 -> cert-manager.io/v1"),
        "{stdout}"
    );

    // An old cert-manager still serves v1alpha2: only a deprecation note.
    let old = kubemig(
        t.path(),
        &[
            "check",
            "--no-config",
            "--pack",
            "cert-manager",
            "--component",
            "cert-manager=1.5",
            "cert.yaml",
        ],
    );
    assert_eq!(old.status.code(), Some(0), "{old:?}");

    // The same from .kubemig.toml.
    std::fs::write(
        t.path().join(".kubemig.toml"),
        "packs = [\"cert-manager\"]\n[components]\ncert-manager = \"1.14\"\n",
    )
    .unwrap();
    let conf = kubemig(t.path(), &["check", "cert.yaml"]);
    assert_eq!(conf.status.code(), Some(1), "{conf:?}");
    let listed = kubemig(t.path(), &["list", "--packs"]);
    let table = String::from_utf8_lossy(&listed.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("cert-manager") && l.contains(" yes ") && l.contains(" 1.14 ")),
        "{table}"
    );

    // A component needs its pack; an unknown pack is named.
    let orphan = kubemig(
        t.path(),
        &[
            "check",
            "--no-config",
            "--component",
            "snapshot=6.0",
            "cert.yaml",
        ],
    );
    assert_eq!(orphan.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&orphan.stderr).contains("--pack snapshot"));
    let unknown = kubemig(
        t.path(),
        &["check", "--no-config", "--pack", "nope", "cert.yaml"],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("known: cert-manager"));
}

#[test]
fn a_rules_file_may_declare_its_own_component() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("widgets.toml"),
        r#"
[pack]
name = "widgets"
newest = "2.3"
summary = "example.com widgets"
docs = "https://example.com/upgrade"

[[version]]
api = "example.com/v1"
kinds = ["Widget"]
introduced = "2.0"

[[version]]
api = "example.com/v1alpha1"
kinds = ["Widget"]
introduced = "0.9"
deprecated = "2.0"
removed = "2.2"

[[migration]]
id = "widgets/v1alpha1-to-v1"
from = "example.com/v1alpha1"
to = "example.com/v1"
kinds = ["Widget"]
summary = "size -> spec.size"
docs = "https://example.com/upgrade"

[[migration.rule]]
when = { has = ["size"] }
ops = [{ move = "size", to = "spec.size" }]
"#,
    )
    .unwrap();
    std::fs::write(
        t.path().join("w.yaml"),
        "apiVersion: example.com/v1alpha1\nkind: Widget\nmetadata: {name: w}\nsize: 3\n",
    )
    .unwrap();
    let at_new = kubemig(
        t.path(),
        &["check", "--no-config", "--rules", "widgets.toml", "w.yaml"],
    );
    assert_eq!(at_new.status.code(), Some(1), "{at_new:?}");
    let at_old = kubemig(
        t.path(),
        &[
            "check",
            "--no-config",
            "--rules",
            "widgets.toml",
            "--component",
            "widgets=2.1",
            "w.yaml",
        ],
    );
    assert_eq!(at_old.status.code(), Some(0), "{at_old:?}");
    let fix = kubemig(
        t.path(),
        &["fix", "--no-config", "--rules", "widgets.toml", "w.yaml"],
    );
    assert_eq!(fix.status.code(), Some(0), "{fix:?}");
    assert_eq!(
        std::fs::read_to_string(t.path().join("w.yaml")).unwrap(),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  size: 3\n"
    );
}

#[test]
fn explain_knows_every_pack_id_enabled_or_not() {
    let t = tempfile::tempdir().unwrap();
    for id in [
        "cert-manager/v1alpha2-to-v1",
        "cert-manager/v1alpha3-to-v1",
        "cert-manager/v1beta1-to-v1",
        "cert-manager/acme-v1alpha2-to-v1",
        "cert-manager/acme-v1alpha3-to-v1",
        "cert-manager/acme-v1beta1-to-v1",
        "snapshot/v1beta1-to-v1",
        "traefik/containo-us-to-traefik-io",
        "gateway-api/v1alpha2-to-v1beta1",
        "gateway-api/v1beta1-to-v1",
        "gateway-api/grpcroute-v1alpha2-to-v1",
        "keda/k8s-io-to-keda-sh",
        "flux/source-v1beta1-to-v1beta2",
        "flux/source-v1beta2-to-v1",
        "flux/kustomize-v1beta1-to-v1beta2",
        "flux/kustomize-v1beta2-to-v1",
        "flux/helm-v2beta1-to-v2beta2",
        "flux/helm-v2beta2-to-v2",
        "flux/notification-v1beta1-to-v1beta2",
        "flux/notification-v1beta2-to-v1beta3",
        "flux/receiver-v1beta2-to-v1",
        "flux/image-v1beta1-to-v1beta2",
        "flux/image-v1beta2-to-v1",
    ] {
        let out = kubemig(t.path(), &["explain", "--no-config", id]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{id}: {out:?}");
        assert!(stdout.starts_with(&format!("{id}: ")), "{id}: {stdout}");
        // ACME objects are the controller's: those hops are manual on purpose.
        if !id.contains("/acme-") {
            assert!(!stdout.contains("not rewritten"), "{id}: {stdout}");
        }
    }
    // The Flux pack's finding codes, each from the rule that reports it.
    for (code, level, id) in [
        (
            "FLUX-GIT-IMPLEMENTATION",
            "info",
            "flux/source-v1beta2-to-v1",
        ),
        ("FLUX-ACCESS-FROM", "info", "flux/source-v1beta2-to-v1"),
        ("FLUX-VALUES-FILE", "manual", "flux/helm-v2beta2-to-v2"),
        ("FLUX-VALIDATION", "info", "flux/kustomize-v1beta2-to-v1"),
        ("FLUX-PATCHES", "manual", "flux/kustomize-v1beta2-to-v1"),
        (
            "FLUX-IMAGE-PROVIDER",
            "warning",
            "flux/image-v1beta1-to-v1beta2",
        ),
    ] {
        let out = kubemig(t.path(), &["explain", "--no-config", code]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{code}: {out:?}");
        assert!(
            stdout.starts_with(&format!("{code}: {level}\n")),
            "{stdout}"
        );
        assert!(stdout.contains(&format!("from {id}:")), "{code}: {stdout}");
    }
    let listed = kubemig(t.path(), &["list", "--no-config", "--packs"]);
    let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(
        names,
        [
            "cert-manager",
            "flux",
            "gateway-api",
            "keda",
            "snapshot",
            "traefik"
        ]
    );
}

#[test]
fn show_config_names_the_packs_and_each_component_version_with_its_origin() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join(".kubemig.toml"),
        "packs = [\"snapshot\"]\n[components]\nsnapshot = \"5.0\"\n",
    )
    .unwrap();
    let out = kubemig(
        t.path(),
        &[
            "check",
            "--show-config",
            "--pack",
            "cert-manager",
            "--pack",
            "traefik",
            "--component",
            "cert-manager=v1.5.3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |start: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` in {stdout}"))
            .to_string()
    };
    assert!(
        line("packs = [\"snapshot\", \"cert-manager\", \"traefik\"]")
            .ends_with("# .kubemig.toml and --pack")
    );
    assert!(line("snapshot = \"5.0\"").ends_with("# .kubemig.toml"));
    assert!(line("cert-manager = \"1.5\"").ends_with("# --component"));
    assert!(line("traefik = ").ends_with("# default: the newest the pack knows"));
    // Still a .kubemig.toml: the table reads back.
    let again: toml::Table = toml::from_str(&stdout).unwrap();
    assert_eq!(again["components"]["snapshot"].as_str(), Some("5.0"));
    assert_eq!(again["packs"].as_array().map(Vec::len), Some(3));
}

#[test]
fn component_releases_belong_to_packs_and_kubernetes_versions_stay_strict() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("rules.toml"),
        "[[version]]\napi = \"example.com/v1\"\nkinds = [\"Widget\"]\nintroduced = { component = \"1.2\" }\n",
    )
    .unwrap();
    let out = kubemig(
        t.path(),
        &["check", "--no-config", "--rules", "rules.toml", "."],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belong in a pack"),
        "{out:?}"
    );
    // An add-on version's internal encoding is not a Kubernetes version.
    let out = kubemig(t.path(), &["check", "--no-config", "-t", "1.16777216", "."]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 4 digits"));
}
