//! `--assume`, `--allow-live-pv` and `--split-inline-volumes` at the command line (their
//! effect on manifests is covered by the `field-*-assumed`, `field-live-pv-allowed` and
//! `field-split-inline-suggested` golden cases).

use std::path::Path;

use crate::common::km;

fn kubemig(args: &[&str], stdin: &str) -> std::process::Output {
    km(Path::new(env!("CARGO_MANIFEST_DIR")), args)
        .plain()
        .stdin(stdin)
        .output()
}

const GCE_PV: &str = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pg\n  labels:\n    topology.kubernetes.io/zone: europe-west1-b\nspec:\n  accessModes: [ReadWriteOnce]\n  gcePersistentDisk: {pdName: pg-disk}\n";

#[test]
fn unknown_or_malformed_assumptions_are_refused() {
    let out = kubemig(&["check", "--assume", "gce-projct=x", "-"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown key `gce-projct`") && err.contains("gce-project"),
        "{err}"
    );
    let out = kubemig(&["check", "--assume", "gce-project", "-"], "");
    assert_eq!(out.status.code(), Some(2));
    let out = kubemig(&["check", "--assume", "vsphere-fcd-id=abc", "-"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("vsphere-fcd-id=PV=FCD-ID"));
    // Only what admissionregistration.k8s.io/v1 accepts.
    let out = kubemig(&["check", "--assume", "webhook-side-effects=Some", "-"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("None or NoneOnDryRun"));
}

#[test]
fn an_assumption_turns_a_manual_finding_into_a_rewrite() {
    let out = kubemig(&["check", "-"], GCE_PV);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("manual [GCEPD-PROJECT]"));

    let out = kubemig(&["fix", "--assume", "gce-project=acme", "-"], GCE_PV);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let fixed = String::from_utf8_lossy(&out.stdout);
    assert!(
        fixed.contains("volumeHandle: projects/acme/zones/europe-west1-b/disks/pg-disk"),
        "{fixed}"
    );
    // The last of a repeated key counts.
    let out = kubemig(
        &[
            "fix",
            "--assume",
            "gce-project=first",
            "--assume",
            "gce-project=second",
            "-",
        ],
        GCE_PV,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("projects/second/"));
}
