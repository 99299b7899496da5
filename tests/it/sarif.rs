//! `check --format sarif`, validated by Microsoft's SARIF Multitool (the npm package
//! `@microsoft/sarif-multitool-linux`, installed by `.ci/run` in `.ci/sarif-multitool`):
//! `Sarif.Multitool validate` checks the log against the SARIF 2.1.0 schema and its rules
//! (SARIF1xxx errors, SARIF2xxx warnings). It exits 0 whatever it finds, so the test reads
//! the log it writes and fails on any result of level error or warning; notes are printed.
//! The log's content is checked here too: rules, levels, regions, URIs, notifications.
//!
//! Multitool: env `KUBEMIG_SARIF_MULTITOOL`, else
//! `.ci/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool`. The
//! validation test is `#[ignore]`d (the content checks always run); with
//! `-- --include-ignored`, as `.ci/run` runs it, a missing Multitool is a failure.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::common::km;

use serde_json::Value;

const HPA: &str = "\
# Autoscaler
apiVersion: autoscaling/v2beta1
kind: HorizontalPodAutoscaler
metadata:
  name: api
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 5
";

const INGRESS: &str = "\
apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: shop
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        backend:
          serviceName: shop
          servicePort: 80
";

const PSP: &str = "\
apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata:
  name: restricted
spec:
  privileged: false
";

fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KUBEMIG_SARIF_MULTITOOL") {
        let p = PathBuf::from(p);
        return p.exists().then_some(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    p.exists().then_some(p)
}

/// A directory with migrated, blocked and unparseable manifests, and names a URI must
/// encode.
fn fixture() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    fs::create_dir_all(p.join("deploy/my app")).unwrap();
    fs::write(p.join("deploy/hpa.yaml"), HPA).unwrap();
    fs::write(p.join("deploy/my app/ingréss #1.yaml"), INGRESS).unwrap();
    fs::write(p.join("deploy/psp.yaml"), PSP).unwrap();
    fs::write(
        p.join("deploy/broken.yaml"),
        "apiVersion: extensions/v1beta1\nkind: [Ingress\n",
    )
    .unwrap();
    d
}

fn sarif(dir: &Path, extra: &[&str]) -> (Value, String, i32) {
    sarif_at(dir, extra, "deploy")
}

fn sarif_at(dir: &Path, extra: &[&str], path: &str) -> (Value, String, i32) {
    let out = km(dir, &["check", "--format", "sarif"])
        .args(extra)
        .args([path])
        .output();
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (v, text, out.status.code().unwrap())
}

/// A copy of `testdata/scripts/input/`: scripts with `kubectl run` flags, for `--scan-scripts`.
fn scripts_fixture() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    let d = tempfile::tempdir().unwrap();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scripts/input"),
        d.path(),
    );
    d
}

#[test]
fn sarif_scan_scripts_results_have_rules_and_regions() {
    let d = scripts_fixture();
    let (v, _, code) = sarif_at(d.path(), &["--scan-scripts", "--no-config"], ".");
    assert_eq!(code, 1);
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["KUBECTL-RUN-FLAG-IGNORED", "KUBECTL-RUN-FLAG-REMOVED"]
    );
    for r in rules {
        assert_eq!(
            r["helpUri"],
            "https://kubernetes.io/docs/reference/generated/kubectl/kubectl-commands#run"
        );
        assert!(r["help"]["text"].as_str().unwrap().contains("kubectl 1.31"));
        assert!(
            r["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .ends_with('.')
        );
    }
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "warning");
    assert_eq!(rules[1]["defaultConfiguration"]["level"], "error");
    let results = run["results"].as_array().unwrap();
    // The nine commands of testdata/scripts/expected.check, in the same order.
    assert_eq!(results.len(), 9);
    let at = |r: &Value| {
        let l = &r["locations"][0]["physicalLocation"];
        (
            l["artifactLocation"]["uri"].as_str().unwrap().to_string(),
            l["region"]["startLine"].as_u64().unwrap(),
            l["region"]["startColumn"].as_u64().unwrap(),
        )
    };
    assert_eq!(at(&results[0]), (".github/workflows/e2e.yml".into(), 8, 68));
    assert_eq!(at(&results[5]), ("ci/cleanup.bash".into(), 4, 3));
    let ignored = &results[6];
    assert_eq!(at(ignored), ("ci/cleanup.bash".into(), 7, 38));
    assert_eq!(ignored["ruleId"], "KUBECTL-RUN-FLAG-IGNORED");
    assert_eq!(ignored["ruleIndex"], 0);
    assert_eq!(ignored["level"], "warning");
    let expansion = &results[8];
    assert_eq!(at(expansion), ("ci/smoke.sh".into(), 5, 40));
    assert_eq!(expansion["ruleId"], "KUBECTL-RUN-FLAG-REMOVED");
    assert_eq!(expansion["ruleIndex"], 1);
    assert_eq!(expansion["level"], "error");
    assert_eq!(expansion["properties"]["fixable"], false);
    assert_eq!(results[0]["properties"]["fixable"], true);
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("`kubemig fix --scan-scripts` deletes the flags.")
    );
    for r in results {
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
    }
    // Before 1.31 the flags are only ignored: every result is a warning.
    let (v, _, _) = sarif_at(
        d.path(),
        &[
            "--scan-scripts",
            "--no-config",
            "-t",
            "1.30",
            "--min-version",
            "1.27",
        ],
        ".",
    );
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 1);
    assert!(
        run["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["level"] == "warning" && r["ruleId"] == "KUBECTL-RUN-FLAG-IGNORED")
    );
}

#[test]
fn sarif_log_has_rules_results_and_notifications() {
    let d = fixture();
    let (v, _, code) = sarif(d.path(), &[]);
    assert_eq!(
        code, 2,
        "the unparseable file makes it exit 2, as with text output"
    );
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kubemig");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "one rule per id, sorted");
    for r in rules {
        assert!(
            r["helpUri"].as_str().unwrap().starts_with("https://"),
            "{r}"
        );
        assert!(!r["help"]["text"].as_str().unwrap().is_empty(), "{r}");
        assert!(
            r["name"]
                .as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{results:#?}");
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
    let find = |uri: &str| {
        results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri)
            .unwrap_or_else(|| panic!("no result for {uri}: {results:#?}"))
    };
    // The HPA: the migration id as rule, at the apiVersion value (line 2, column 13).
    let hpa = find("deploy/hpa.yaml");
    assert_eq!(hpa["ruleId"], "autoscaling/hpa-v2beta1-to-v2beta2");
    assert_eq!(hpa["level"], "error");
    let loc = &hpa["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 13);
    assert!(
        hpa["message"]["text"]
            .as_str()
            .unwrap()
            .contains("rewrites it to autoscaling/v2.")
    );
    // The Ingress, under a name with a space, a non-ASCII letter and a `#`; its pins are
    // related locations.
    let ing = find("deploy/my%20app/ingr%C3%A9ss%20%231.yaml");
    assert!(
        ing["relatedLocations"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    );
    // The PSP needs a human and has no migration.
    let psp = find("deploy/psp.yaml");
    assert_eq!(psp["ruleId"], "G-NO-SERVED-REPLACEMENT");
    assert_eq!(psp["level"], "error");
    // The broken file is a notification, not a result.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/broken.yaml"
    );
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
}

#[test]
#[ignore = "needs SARIF Multitool 5.7.0: .ci/run installs it"]
fn sarif_multitool_validates_the_log() {
    let tool = multitool().expect(
        "SARIF Multitool not found: set KUBEMIG_SARIF_MULTITOOL or run .ci/run to create \
         .ci/sarif-multitool",
    );
    let version = Command::new(&tool).arg("--version").output().unwrap();
    eprintln!(
        "using {}",
        String::from_utf8_lossy(&[version.stdout, version.stderr].concat())
            .lines()
            .next()
            .unwrap_or("?")
    );
    let d = fixture();
    // Every shape of log: with results and a notification, deprecated notes, and none.
    let cases: [(&str, &[&str]); 3] = [
        ("all", &[]),
        ("deprecated", &["-t", "1.21", "--min-version", "1.16"]),
        ("clean", &["--exclude", "*.yaml"]),
    ];
    let scripts = scripts_fixture();
    let script_cases: [(&str, &[&str]); 2] = [
        ("scripts", &["--scan-scripts"]),
        (
            "scripts-1.30",
            &["--scan-scripts", "-t", "1.30", "--min-version", "1.27"],
        ),
    ];
    let logs = cases
        .into_iter()
        .map(|(name, args)| (name, sarif(d.path(), args).1))
        .chain(
            script_cases
                .into_iter()
                .map(|(name, args)| (name, sarif_at(scripts.path(), args, ".").1)),
        );
    for (name, text) in logs {
        let log = d.path().join(format!("{name}.sarif"));
        let out = d.path().join(format!("{name}.validation.sarif"));
        fs::write(&log, &text).unwrap();
        let start = Instant::now();
        let run = Command::new(&tool)
            .args(["validate"])
            .arg(&log)
            .arg("-o")
            .arg(&out)
            .args(["--level", "Error;Warning;Note", "--log", "ForceOverwrite"])
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
            .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
            .output()
            .unwrap();
        eprintln!(
            "{name}: Sarif.Multitool validate took {:.1} s",
            start.elapsed().as_secs_f64()
        );
        let report: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap_or_else(|e| {
            panic!(
                "no validation output ({e}): {}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            )
        }))
        .unwrap();
        let vrun = &report["runs"][0];
        let vrules = vrun["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut bad = Vec::new();
        for r in vrun["results"].as_array().into_iter().flatten() {
            // A result without a level takes its rule's default, and SARIF's default is
            // warning.
            let level = r["level"].as_str().map(str::to_string).unwrap_or_else(|| {
                vrules
                    .iter()
                    .find(|x| x["id"] == r["ruleId"])
                    .and_then(|x| x["defaultConfiguration"]["level"].as_str())
                    .unwrap_or("warning")
                    .to_string()
            });
            let line = format!("{level} {} {}", r["ruleId"], r["message"]);
            if level == "error" || level == "warning" {
                bad.push(line);
            } else {
                eprintln!("{name}: note: {line}");
            }
        }
        // Schema violations and tool failures are notifications, not results.
        for inv in vrun["invocations"].as_array().into_iter().flatten() {
            for n in inv["toolExecutionNotifications"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(
                    inv["toolConfigurationNotifications"]
                        .as_array()
                        .into_iter()
                        .flatten(),
                )
            {
                if n["level"] == "error" || n["level"] == "warning" || n["level"].is_null() {
                    bad.push(format!("notification {n}"));
                }
            }
        }
        assert!(
            bad.is_empty(),
            "{name}: the Multitool found:\n{}\n{text}",
            bad.join("\n")
        );
    }
}

/// Every rule of the log has help of its own, from the migration or from the code registry:
/// none falls back to the generic text (Helm and Kustomize codes once did).
#[test]
fn sarif_every_rule_has_its_own_help() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let (v, _, _) = sarif_at(&testdata, &["-t", "1.25"], ".");
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for code in ["HELM-GUARDED", "KUSTOMIZE-TARGET"] {
        assert!(ids.contains(&code), "{code} not in {ids:?}");
    }
    for r in rules {
        let help = r["help"]["text"].as_str().unwrap();
        assert!(!help.starts_with("kubemig reported"), "{}: {help}", r["id"]);
        assert!(
            !r["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Finding "),
            "{r}"
        );
    }
}
