//! Component configuration files (kubeconfig, kubeadm, scheduler, kubelet, audit policy):
//! `explain` knows every id of the catalogue's `config/` entries, through the real binary.
//! Their migrations themselves are golden cases (`testdata/golden/config-*`).

use std::path::Path;
use std::process::{Command, Output};

fn kubemig(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubemig"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run kubemig")
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
