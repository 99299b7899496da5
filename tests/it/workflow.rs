//! Fitting the user's workflow, through the real binary: machine-readable output (`--format
//! json|github`; SARIF is in tests/sarif.rs), `--quiet`, walking (ignore files, `--exclude`,
//! `--include`, `--force-exclude`, symlinks), `.kubemig.toml` and `--show-config`,
//! suppression comments, `--rules` files (docs/rules.md's cert-manager example), completions,
//! help, the progress bar and error messages. The pre-commit hooks are in tests/precommit.rs.

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{self, Run, km};

const HPA: &str = "\
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

const PLC: &str = "\
apiVersion: flowcontrol.apiserver.k8s.io/v1beta1
kind: PriorityLevelConfiguration
metadata:
  name: batch
spec:
  type: Limited
  limited:
    assuredConcurrencyShares: 5
    limitResponse:
      type: Reject
";

const CURRENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: example/api:1
";

fn kubemig_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    env.iter()
        .fold(km(dir, args), |k, (key, v)| k.env(key, v))
        .run()
}

fn kubemig(dir: &Path, args: &[&str]) -> Run {
    km(dir, args).run()
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
}

/// `PATH:LINE:COL` of every line of text output.
fn places(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.splitn(4, ':').take(3).collect::<Vec<_>>().join(":"))
        .collect()
}

/// The paths a `check` lists, sorted and deduplicated.
fn listed(r: &Run) -> Vec<String> {
    let mut v: Vec<String> = r
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------------------
// --format json and github

#[test]
fn json_has_one_record_per_line_of_text_and_the_summary() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("a/hpa.yaml", HPA),
            ("a/ingress.yaml", INGRESS),
            ("a/psp.yaml", PSP),
            ("a/ok.yaml", CURRENT),
            (
                "a/broken.yaml",
                "apiVersion: extensions/v1beta1\nkind: [Ingress\n",
            ),
        ],
    );
    let text = kubemig(d.path(), &["check", "-v", "a"]);
    let json = kubemig(d.path(), &["check", "--format", "json", "a"]);
    assert_eq!(json.code, 2, "an error wins, as with text: {}", json.stderr);
    assert_eq!(json.code, text.code);
    assert_eq!(
        json.stderr, text.stderr,
        "errors and the summary still go to stderr"
    );
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["kubemig"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["target_version"], "1.36");
    assert_eq!(v["min_version"], "1.33");
    let records = v["findings"].as_array().unwrap();
    let keys = [
        "type",
        "path",
        "line",
        "column",
        "document",
        "kind",
        "namespace",
        "name",
        "from",
        "to",
        "migration",
        "action",
        "status",
        "level",
        "code",
        "message",
    ];
    for r in records {
        let got: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(got, keys, "every record has every key, in this order");
    }
    // The same places as `check -v`, in the same order.
    let json_places: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{}:{}:{}",
                r["path"].as_str().unwrap(),
                r["line"],
                r["column"]
            )
        })
        .collect();
    assert_eq!(json_places, places(&text.stdout));
    let hpa = &records[0];
    assert_eq!(hpa["type"], "object");
    assert_eq!(hpa["path"], "a/hpa.yaml");
    assert_eq!(
        (hpa["line"].as_u64(), hpa["column"].as_u64()),
        (Some(1), Some(13))
    );
    assert_eq!(hpa["document"], 0);
    assert_eq!(hpa["kind"], "HorizontalPodAutoscaler");
    assert_eq!(hpa["namespace"], "shop");
    assert_eq!(hpa["name"], "api");
    assert_eq!(hpa["from"], "autoscaling/v2beta1");
    assert_eq!(hpa["to"], "autoscaling/v2");
    assert_eq!(hpa["migration"], "autoscaling/hpa-v2beta1-to-v2beta2");
    assert_eq!(hpa["action"], "rewrite");
    assert_eq!(hpa["status"], "migrate");
    assert!(hpa["level"].is_null() && hpa["code"].is_null());
    let pin = records
        .iter()
        .find(|r| r["type"] == "finding" && r["path"] == "a/ingress.yaml")
        .unwrap();
    assert_eq!(pin["level"], "pin");
    assert_eq!(pin["action"], "rewrite");
    assert_eq!(pin["code"], "ING-PATHTYPE");
    let psp: Vec<&Value> = records
        .iter()
        .filter(|r| r["path"] == "a/psp.yaml")
        .collect();
    assert_eq!(psp[0]["action"], "manual");
    assert_eq!(psp[0]["status"], "blocked");
    assert!(psp[0]["to"].is_null() && psp[0]["migration"].is_null());
    assert_eq!(psp[1]["code"], "G-NO-SERVED-REPLACEMENT");
    assert_eq!(psp[1]["level"], "manual");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["path"], "a/broken.yaml");
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(
        v["summary"],
        serde_json::json!({
            "files_scanned": 5, "objects_to_migrate": 2, "files_to_change": 2,
            "needs_human": 1, "errors": 1, "suppressed": 0,
            "scripts_scanned": null, "kubectl_run_commands": null
        })
    );
    assert_eq!(
        text.stderr.lines().rev().take(2).collect::<Vec<_>>(),
        [
            "2 objects can be rewritten: run `kubemig fix`; 1 needs a human: `kubemig explain CODE` tells what to do",
            "kubemig: 5 files scanned, 2 objects to migrate, 2 files to change, 1 needs a human, 1 error",
        ]
    );
}

#[test]
fn json_exit_status_follows_the_text_rules() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("ok.yaml", CURRENT), ("hpa.yaml", HPA)]);
    let clean = kubemig(d.path(), &["check", "--format", "json", "ok.yaml"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    let v: Value = serde_json::from_str(&clean.stdout).unwrap();
    assert_eq!(v["findings"], serde_json::json!([]));
    assert_eq!(v["errors"], serde_json::json!([]));
    let dirty = kubemig(d.path(), &["check", "--format", "json", "-t", "1.26", "."]);
    assert_eq!(dirty.code, 1);
    let v: Value = serde_json::from_str(&dirty.stdout).unwrap();
    assert_eq!(v["target_version"], "1.26");
    assert_eq!(v["min_version"], "1.23");
}

#[test]
fn json_reports_deprecated_objects_with_action_none() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("ing.yaml", INGRESS)]);
    let r = kubemig(d.path(), &["check", "--format", "json", "-t", "1.21", "."]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let recs = v["findings"].as_array().unwrap();
    assert_eq!(recs[0]["status"], "deprecated");
    assert_eq!(recs[0]["action"], "none");
    assert_eq!(recs[1]["code"], "G-DEPRECATED");
    assert_eq!(r.code, 0, "deprecated but served is not a failure");
}

#[test]
fn github_annotations_name_file_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        &[
            ("deploy/a,b: c.yaml", HPA),
            ("deploy/psp.yaml", PSP),
            ("deploy/ing.yaml", INGRESS),
            (
                "deploy/bad.yaml",
                "apiVersion: extensions/v1beta1\nkind: [Ingress\n",
            ),
        ],
    );
    let r = kubemig(d.path(), &["check", "--format", "github", "deploy"]);
    assert_eq!(r.code, 2);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "::error file=deploy/a%2Cb%3A c.yaml,line=1,col=13,title=kubemig autoscaling/hpa-v2beta1-to-v2beta2::\
         HorizontalPodAutoscaler shop/api: autoscaling/v2beta1 -> autoscaling/v2; `kubemig fix` rewrites it"
    );
    assert!(lines[1].starts_with("::error file=deploy/ing.yaml,line=1,col=13,title=kubemig "));
    assert!(
        lines[2].starts_with(
            "::notice file=deploy/ing.yaml,line=10,col=9,title=kubemig ING-PATHTYPE::Ingress shop: pin [ING-PATHTYPE]: "
        ),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with(
            "::error file=deploy/psp.yaml,line=1,col=13,title=kubemig G-NO-SERVED-REPLACEMENT::\
             PodSecurityPolicy restricted: policy/v1beta1: needs a human: [G-NO-SERVED-REPLACEMENT] "
        ),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("::error file=deploy/bad.yaml,line=2,col=7,title=kubemig error::"),
        "{}",
        lines[4]
    );
    assert_eq!(lines.len(), 5, "{}", r.stdout);
}

#[test]
fn format_is_only_for_check() {
    let d = tempfile::tempdir().unwrap();
    let r = kubemig(d.path(), &["fix", "--format", "json", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--format is for `kubemig check`"),
        "{}",
        r.stderr
    );
    let help = kubemig(d.path(), &["diff", "--help"]);
    assert!(!help.stdout.contains("--format"));
}

// ---------------------------------------------------------------------------------------
// --quiet, help, completions, progress, errors

#[test]
fn quiet_prints_objects_and_what_needs_a_human_only() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &[("ing.yaml", INGRESS), ("psp.yaml", PSP)]);
    let normal = kubemig(d.path(), &["check", "."]);
    assert!(normal.stdout.contains("pin [ING-PATHTYPE]"));
    let quiet = kubemig(d.path(), &["check", "-q", "."]);
    assert_eq!(quiet.code, normal.code);
    assert_eq!(quiet.stderr, "", "no summary");
    assert_eq!(
        quiet.stdout,
        normal
            .stdout
            .lines()
            .filter(|l| !l.contains(": pin ["))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    let both = kubemig(d.path(), &["check", "-q", "-v", "."]);
    assert_eq!(both.code, 2);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
    // fix -q: nothing but what needs a human.
    let fix = kubemig(d.path(), &["fix", "-q", "."]);
    assert_eq!(fix.code, 1);
    assert!(
        fix.stderr.lines().all(|l| l.contains("psp.yaml")),
        "{}",
        fix.stderr
    );
}

#[test]
fn help_has_examples() {
    let d = tempfile::tempdir().unwrap();
    let top = kubemig(d.path(), &["--help"]);
    assert!(top.stdout.contains("Examples:\n  kubemig check deploy/"));
    assert!(top.stdout.contains("completions"));
    let check = kubemig(d.path(), &["check", "--help"]);
    for want in [
        "Examples:",
        "--format <FORMAT>",
        "--exclude <GLOB>",
        "--include <GLOB>",
        "--follow-symlinks",
        "--rules <FILE>",
        "--show-config",
        "--quiet",
        "# kubemig: ignore",
    ] {
        assert!(
            check.stdout.contains(want),
            "{want} missing:\n{}",
            check.stdout
        );
    }
}

#[test]
fn completions_load_in_bash() {
    let d = tempfile::tempdir().unwrap();
    let r = kubemig(d.path(), &["completions", "bash"]);
    assert_eq!(r.code, 0);
    fs::write(d.path().join("kubemig.bash"), &r.stdout).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg("source ./kubemig.bash && complete -p kubemig")
        .current_dir(d.path())
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = String::from_utf8_lossy(&out.stdout);
    assert!(spec.contains("kubemig"), "{spec}");
    // The script completes subcommands and flags.
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            "source ./kubemig.bash; COMP_WORDS=(kubemig check --fo); COMP_CWORD=2; \
             COMP_LINE='kubemig check --fo'; COMP_POINT=${#COMP_LINE}; _kubemig kubemig --fo check; \
             printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .current_dir(d.path())
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(
        words.lines().any(|w| w.trim() == "--format")
            && words.lines().any(|w| w.trim() == "--follow-symlinks"),
        "{words}"
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let r = kubemig(d.path(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}");
        assert!(r.stdout.contains("kubemig"), "{shell}");
    }
    assert_eq!(kubemig(d.path(), &["completions", "tcsh"]).code, 2);
}

#[test]
fn progress_shows_only_on_a_terminal() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..40 {
        write(d.path(), &[(&format!("m/{i}.yaml"), HPA)]);
    }
    // Not a terminal: stderr holds the summary and nothing else, even for a long run.
    let piped = kubemig_env(
        d.path(),
        &["check", "m"],
        &[("KUBEMIG_PROGRESS_DELAY_MS", "0")],
    );
    assert_eq!(
        piped.stderr,
        "kubemig: 40 files scanned, 40 objects to migrate, 40 files to change, 0 need a human, 0 errors\n40 objects can be rewritten: run `kubemig fix`\n"
    );
    // A terminal (util-linux `script` gives it one) and a run longer than the delay.
    // `script` is util-linux's, on every Linux this suite runs on.
    let cmdline = format!("{} check m >/dev/null", common::BIN);
    let out = Command::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .current_dir(d.path())
        .env("KUBEMIG_PROGRESS_DELAY_MS", "0")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("/40 files"), "no progress bar: {screen:?}");
    assert!(screen.contains("kubemig: 40 files scanned"), "{screen:?}");
    // Short runs (the default delay is a second) show none even on a terminal.
    let out = Command::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .current_dir(d.path())
        .env_remove("KUBEMIG_PROGRESS_DELAY_MS")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(!screen.contains("/40 files"), "{screen:?}");
}

#[test]
fn errors_say_what_to_do() {
    let d = tempfile::tempdir().unwrap();
    let r = kubemig(d.path(), &["check", "no-such-dir"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("no-such-dir: error: no such file or directory; check the path"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Walking

#[test]
fn ignore_files_and_globs_choose_what_is_walked() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    fs::create_dir_all(p.join(".git")).unwrap();
    write(
        p,
        &[
            (".gitignore", "generated/\n"),
            (".ignore", "scratch.yaml\n"),
            (".kubemigignore", "vendor/*\n!vendor/ours.yaml\n"),
            ("app/hpa.yaml", HPA),
            ("app/hpa.yml", HPA),
            (
                "app/hpa.json",
                "{\"apiVersion\": \"autoscaling/v2beta1\", \"kind\": \"HorizontalPodAutoscaler\", \"metadata\": {\"name\": \"j\"}, \"spec\": {\"maxReplicas\": 2}}\n",
            ),
            ("app/hpa.yaml.tmpl", HPA),
            ("generated/hpa.yaml", HPA),
            ("scratch.yaml", HPA),
            ("vendor/theirs.yaml", HPA),
            ("vendor/ours.yaml", HPA),
            ("legacy/hpa.yaml", HPA),
            (".hidden/hpa.yaml", HPA),
        ],
    );
    let all = kubemig(p, &["check", "."]);
    assert_eq!(
        listed(&all),
        [
            "app/hpa.json",
            "app/hpa.yaml",
            "app/hpa.yml",
            "legacy/hpa.yaml",
            "vendor/ours.yaml"
        ]
    );
    let excluded = kubemig(
        p,
        &["check", "--exclude", "legacy/", "--exclude", "*.yml", "."],
    );
    assert_eq!(
        listed(&excluded),
        ["app/hpa.json", "app/hpa.yaml", "vendor/ours.yaml"]
    );
    // --include replaces the default names; an anchored glob is relative to the directory
    // kubemig runs in.
    let tmpl = kubemig(p, &["check", "--include", "*.tmpl", "."]);
    assert_eq!(listed(&tmpl), ["app/hpa.yaml.tmpl"]);
    let anchored = kubemig(
        p,
        &[
            "check",
            "--include",
            "/app/*.yaml",
            "--include",
            "legacy/*",
            ".",
        ],
    );
    assert_eq!(listed(&anchored), ["app/hpa.yaml", "legacy/hpa.yaml"]);
    // From a subdirectory, a glob given there is relative to it.
    let sub = kubemig(&p.join("app"), &["check", "--exclude", "/hpa.yaml", "."]);
    assert_eq!(listed(&sub), ["hpa.json", "hpa.yml"]);
    // A file named explicitly is processed whatever excludes it, unless --force-exclude.
    let named = kubemig(
        p,
        &[
            "check",
            "--exclude",
            "legacy/",
            "legacy/hpa.yaml",
            "vendor/theirs.yaml",
            "generated/hpa.yaml",
        ],
    );
    assert_eq!(
        listed(&named),
        [
            "generated/hpa.yaml",
            "legacy/hpa.yaml",
            "vendor/theirs.yaml"
        ]
    );
    let forced = kubemig(
        p,
        &[
            "check",
            "--force-exclude",
            "--exclude",
            "legacy/",
            "legacy/hpa.yaml",
            "vendor/theirs.yaml",
            "vendor/ours.yaml",
            "app/hpa.yaml",
        ],
    );
    assert_eq!(listed(&forced), ["app/hpa.yaml", "vendor/ours.yaml"]);
    // A bad glob is an error that names it.
    let bad = kubemig(p, &["check", "--exclude", "{a,b", "."]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("--exclude: `{a,b` is not a valid glob"),
        "{}",
        bad.stderr
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_only_when_asked_and_never_out_of_the_root() {
    use std::os::unix::fs::symlink;
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, &[("root/real/hpa.yaml", HPA), ("outside/hpa.yaml", HPA)]);
    symlink("real", p.join("root/inside-link")).unwrap();
    symlink("../../outside", p.join("root/real/out-link")).unwrap();
    symlink("../outside/hpa.yaml", p.join("root/file-link.yaml")).unwrap();
    symlink("..", p.join("root/real/loop")).unwrap();
    let plain = kubemig(p, &["check", "root"]);
    assert_eq!(listed(&plain), ["root/real/hpa.yaml"]);
    let follow = kubemig(p, &["check", "--follow-symlinks", "root"]);
    assert_eq!(follow.code, 1, "{}", follow.stderr);
    // The link to a directory inside is followed, but the file it reaches is the same file
    // as root/real/hpa.yaml and is processed once; links out of the root are not followed;
    // the loop is skipped quietly.
    assert_eq!(listed(&follow), ["root/inside-link/hpa.yaml"]);
    assert!(!follow.stderr.contains("error:"), "{}", follow.stderr);
}

// ---------------------------------------------------------------------------------------
// .kubemig.toml

fn repo(p: &Path) {
    fs::create_dir_all(p.join(".git")).unwrap();
}

#[test]
fn config_is_found_upward_to_the_repository_root_and_flags_win() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // A config above the repository is never read.
    write(p, &[(".kubemig.toml", "target-version = \"1.16\"\n")]);
    let r = p.join("repo");
    repo(&r);
    write(
        &r,
        &[
            (
                ".kubemig.toml",
                "# ours\ntarget-version = \"1.21\"\nexclude = [\"legacy/\"]\nrules = [\"rules/cm.toml\"]\n",
            ),
            (
                "rules/cm.toml",
                include_str!("../../testdata/rules/cert-manager.toml"),
            ),
            ("deploy/hpa.yaml", HPA),
            ("deploy/ing.yaml", INGRESS),
            (
                "deploy/cert.yaml",
                include_str!("../../testdata/rules/cert-manager-example.yaml"),
            ),
            ("legacy/ing.yaml", INGRESS),
        ],
    );
    let sub = r.join("deploy");
    // At 1.21 the HPA is served, the Ingress deprecated; the rules file (relative to the
    // config's directory) makes the certificate objects migrate; legacy/ is excluded even
    // from a subdirectory.
    let at = kubemig(&sub, &["check", "."]);
    assert!(!at.stdout.contains("hpa.yaml"), "{}", at.stdout);
    assert!(
        at.stdout
            .contains("ing.yaml:1:13: Ingress shop: note [G-DEPRECATED]"),
        "{}",
        at.stdout
    );
    assert!(at.stdout.contains("cert.yaml:2:13: Certificate shop/shop-tls: cert-manager.io/v1alpha2 -> cert-manager.io/v1"), "{}", at.stdout);
    let from_root = kubemig(&r, &["check", "."]);
    assert!(
        !from_root.stdout.contains("legacy/"),
        "{}",
        from_root.stdout
    );
    // The flag wins over the file.
    let flag = kubemig(&sub, &["check", "-t", "1.36", "."]);
    assert!(
        flag.stdout
            .contains("hpa.yaml:1:13: HorizontalPodAutoscaler shop/api"),
        "{}",
        flag.stdout
    );
    // --no-config and --config FILE.
    let none = kubemig(&sub, &["check", "--no-config", "."]);
    assert!(none.stdout.contains("hpa.yaml"));
    assert!(!none.stdout.contains("cert.yaml"));
    write(p, &[("other.toml", "target-version = \"1.25\"\n")]);
    let other = kubemig(&sub, &["check", "--config", "../../other.toml", "hpa.yaml"]);
    assert!(
        other.stdout.contains("-> autoscaling/v2"),
        "{}",
        other.stdout
    );
}

#[test]
fn outside_a_repository_only_the_current_directory_is_looked_at() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        &[
            (".kubemig.toml", "target-version = \"1.21\"\n"),
            ("sub/hpa.yaml", HPA),
        ],
    );
    let here = kubemig(p, &["check", "sub"]);
    assert_eq!(here.code, 0, "1.21 serves the HPA: {}", here.stdout);
    let below = kubemig(&p.join("sub"), &["check", "."]);
    assert_eq!(
        below.code, 1,
        "the parent's config is not read: {}",
        below.stdout
    );
}

#[test]
fn the_configuration_is_found_where_the_manifests_are() {
    let d = tempfile::tempdir().unwrap();
    let (repo_dir, elsewhere) = (d.path().join("repo"), d.path().join("elsewhere"));
    repo(&repo_dir);
    write(
        &repo_dir,
        &[
            (".kubemig.toml", "target-version = \"1.21\"\n"),
            ("deploy/hpa.yaml", HPA),
        ],
    );
    write(
        &elsewhere,
        &[(".kubemig.toml", "target-version = \"1.36\"\n")],
    );
    let deploy = repo_dir.join("deploy");
    let deploy = deploy.to_str().unwrap();
    // The first path's configuration wins over the current directory's, for a directory and
    // for a file.
    for path in [deploy.to_string(), format!("{deploy}/hpa.yaml")] {
        let r = kubemig(&elsewhere, &["check", &path]);
        assert_eq!(r.code, 0, "1.21 serves the HPA: {}{}", r.stdout, r.stderr);
    }
    let shown = kubemig(&elsewhere, &["check", "--show-config", deploy]);
    assert!(
        shown.stdout.starts_with(&format!(
            "# configuration file: {}/.kubemig.toml\n",
            repo_dir.display()
        )),
        "{}",
        shown.stdout
    );
    // Without one above the path, the current directory's applies.
    write(d.path(), &[("loose/hpa.yaml", HPA)]);
    let loose = d.path().join("loose");
    let r = kubemig(&elsewhere, &["check", loose.to_str().unwrap()]);
    assert_eq!(r.code, 1, "1.36 does not serve it: {}", r.stdout);
}

#[test]
fn show_config_prints_the_effective_settings_and_their_origin() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    repo(p);
    write(
        p,
        &[(
            ".kubemig.toml",
            "target-version = \"1.29\"\ninclude-deprecated = true\nexclude = [\"vendor/\"]\nmax-file-size = \"1M\"\nassume = [\"gce-project=shop\"]\nallow-live-pv = true\n",
        )],
    );
    let r = kubemig(
        p,
        &[
            "check",
            "--show-config",
            "--exclude",
            "*.tmp.yaml",
            "--min-version",
            "1.27",
            "--assume",
            "gce-zone=europe-west1-b",
            "--scan-scripts",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let real = fs::canonicalize(p).unwrap();
    let expected = format!(
        "# configuration file: {root}/.kubemig.toml
target-version = \"1.29\"                                   # .kubemig.toml
min-version = \"1.27\"                                      # --min-version
include-deprecated = true                                 # .kubemig.toml
exclude = [\"vendor/\", \"*.tmp.yaml\"]                       # .kubemig.toml and --exclude; relative to {root}
include = []                                              # default: *.yaml, *.yml, *.json
rules = []                                                # default
follow-symlinks = false                                   # default
force-exclude = false                                     # default
max-file-size = \"1M\"                                      # .kubemig.toml
assume = [\"gce-project=shop\", \"gce-zone=europe-west1-b\"]  # .kubemig.toml and --assume
allow-live-pv = true                                      # .kubemig.toml
split-inline-volumes = false                              # default
scan-scripts = true                                       # --scan-scripts
ignore = []                                               # default
enable = []                                               # default
packs = []                                                # default
",
        root = real.display()
    );
    assert_eq!(r.stdout, expected);
    // The output is a valid .kubemig.toml itself.
    let again: toml::Table = toml::from_str(&r.stdout).unwrap();
    assert_eq!(again["target-version"].as_str(), Some("1.29"));
}

#[test]
fn config_errors_name_the_file_and_the_fix() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    repo(p);
    write(
        p,
        &[(
            ".kubemig.toml",
            "target-version = \"1.29\"\ntarget = \"1.30\"\n",
        )],
    );
    let r = kubemig(p, &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(".kubemig.toml:2: unknown field `target`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("the keys are target-version, min-version"),
        "{}",
        r.stderr
    );
    write(p, &[(".kubemig.toml", "target-version = 1.30\n")]);
    let r = kubemig(p, &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("must be a string, like target-version = \"1.29\""),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Suppression

#[test]
fn ignore_comments_skip_documents_or_migrations() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let stream = format!(
        "# kubemig: ignore  -- still deployed to the 1.24 cluster\n{HPA}---\n{INGRESS}---\n# kubemig: ignore=flowcontrol/v1beta3-to-v1\n{PLC}---\n{PSP}"
    );
    write(p, &[("s.yaml", &stream)]);
    let r = kubemig(p, &["check", "s.yaml"]);
    assert_eq!(r.code, 1);
    assert!(
        !r.stdout.contains("HorizontalPodAutoscaler"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Ingress shop"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("PriorityLevelConfiguration"),
        "a later hop's id counts: {}",
        r.stdout
    );
    assert!(r.stdout.contains("PodSecurityPolicy"));
    assert_eq!(
        r.stderr,
        "kubemig: 1 file scanned, 1 object to migrate, 1 file to change, 1 needs a human, 0 errors, 2 suppressed\n1 object can be rewritten: run `kubemig fix`; 1 needs a human: `kubemig explain CODE` tells what to do\n"
    );
    let json = kubemig(p, &["check", "--format", "json", "s.yaml"]);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 2);
    // fix leaves the suppressed documents as they are.
    let fixed = kubemig(p, &["fix", "s.yaml"]);
    assert_eq!(fixed.code, 1, "the PSP needs a human");
    let after = fs::read_to_string(p.join("s.yaml")).unwrap();
    assert!(after.contains("apiVersion: autoscaling/v2beta1"));
    assert!(after.contains("apiVersion: flowcontrol.apiserver.k8s.io/v1beta1"));
    assert!(after.contains("apiVersion: networking.k8s.io/v1"));
}

#[test]
fn ignore_ids_must_name_a_migration_on_the_chain() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        &[
            (
                "other.yaml",
                &format!(
                    "# kubemig: ignore=networking/ingress-extensions-v1beta1-to-v1beta1\n{HPA}"
                ),
            ),
            (
                "typo.yaml",
                &format!("# kubemig: ignore=autoscaling/hpa-v2beta1-to-v2\n{HPA}"),
            ),
            (
                "scalar.yaml",
                &format!("{HPA}data: |\n  # kubemig: ignore\n"),
            ),
            (
                "first.yaml",
                &format!("{HPA}# kubemig: ignore=autoscaling/hpa-v2beta1-to-v2beta2\n"),
            ),
        ],
    );
    let r = kubemig(p, &["check", "."]);
    assert!(
        r.stdout
            .contains("other.yaml:2:13: HorizontalPodAutoscaler"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("scalar.yaml:1:13: HorizontalPodAutoscaler"),
        "text in a block scalar is not a comment: {}",
        r.stdout
    );
    assert!(!r.stdout.contains("first.yaml"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "typo.yaml:1:1: HorizontalPodAutoscaler shop/api: warning [KUBEMIG-IGNORE-UNKNOWN]: `# kubemig: ignore=autoscaling/hpa-v2beta1-to-v2` names no migration"
        ),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------
// --rules

const CM_RULES: &str = include_str!("../../testdata/rules/cert-manager.toml");
const CM_INPUT: &str = include_str!("../../testdata/rules/cert-manager-example.yaml");
const CM_OUTPUT: &str = include_str!("../../testdata/rules/cert-manager-example.fixed.yaml");

#[test]
fn rules_files_migrate_custom_resources() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, &[("cm.toml", CM_RULES), ("deploy/cert.yaml", CM_INPUT)]);
    // Unknown to the catalogue without the rules (and the prefilter skips the file).
    let plain = kubemig(p, &["check", "deploy"]);
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    let check = kubemig(p, &["check", "--rules", "cm.toml", "deploy"]);
    assert_eq!(check.code, 1);
    assert_eq!(
        check.stdout,
        "deploy/cert.yaml:2:13: Certificate shop/shop-tls: cert-manager.io/v1alpha2 -> cert-manager.io/v1
deploy/cert.yaml:20:13: ClusterIssuer letsencrypt: cert-manager.io/v1alpha2 -> cert-manager.io/v1
deploy/cert.yaml:34:13: CertificateRequest shop/shop-tls-1: cert-manager.io/v1alpha2 -> cert-manager.io/v1
"
    );
    let fix = kubemig(p, &["fix", "--rules", "cm.toml", "deploy"]);
    assert_eq!(fix.code, 0, "{}", fix.stderr);
    assert_eq!(
        fs::read_to_string(p.join("deploy/cert.yaml")).unwrap(),
        CM_OUTPUT
    );
    let again = kubemig(p, &["check", "--rules", "cm.toml", "deploy"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    // docs/rules.md shows this very file (its diff is checked with every console example).
    let readme = include_str!("../../docs/rules.md");
    assert!(
        readme.contains(CM_RULES),
        "docs/rules.md's rules file differs from testdata/rules/cert-manager.toml"
    );
    let diff = kubemig(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "diff",
            "--rules",
            "testdata/rules/cert-manager.toml",
            "testdata/rules/cert-manager-example.yaml",
        ],
    );
    assert_eq!(diff.code, 1);
    assert!(
        readme.contains(&diff.stdout),
        "docs/rules.md's diff differs from:\n{}",
        diff.stdout
    );
}

#[test]
fn list_and_explain_describe_the_rules_a_run_would_use() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(p, &[("cm.toml", CM_RULES)]);
    let row = "cert-manager.io/v1alpha2";
    let plain = kubemig(p, &["list", "--no-config"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(!plain.stdout.contains(row), "{}", plain.stdout);
    let listed = kubemig(p, &["list", "--rules", "cm.toml"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let cert: Vec<&str> = listed
        .stdout
        .lines()
        .filter(|l| l.starts_with(row))
        .collect();
    assert_eq!(cert.len(), 4, "{}", listed.stdout);
    assert!(
        cert.iter()
            .all(|l| l.ends_with("cert-manager/v1alpha2-to-v1")),
        "{cert:?}"
    );
    let explained = kubemig(
        p,
        &[
            "explain",
            "--rules",
            "cm.toml",
            "cert-manager/v1alpha2-to-v1",
        ],
    );
    assert_eq!(explained.code, 0, "{}", explained.stderr);
    assert!(
        explained
            .stdout
            .starts_with("cert-manager/v1alpha2-to-v1: Certificate"),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains("+apiVersion: cert-manager.io/v1"),
        "{}",
        explained.stdout
    );
    // Without the rules the built-in cert-manager pack explains the id (see docs/packs.md);
    // an id nothing defines is unknown, and the error says where ids come from.
    let builtin = kubemig(
        p,
        &["explain", "--no-config", "cert-manager/v1alpha2-to-v1"],
    );
    assert_eq!(builtin.code, 0, "{}", builtin.stderr);
    let unknown = kubemig(p, &["explain", "--no-config", "widgets/v1alpha1-to-v1"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("kubemig list"),
        "{}",
        unknown.stderr
    );
    // .kubemig.toml supplies both the rules and the target version.
    write(
        p,
        &[(
            ".kubemig.toml",
            "target-version = \"1.21\"\nrules = [\"cm.toml\"]\n",
        )],
    );
    let configured = kubemig(p, &["list"]);
    assert!(configured.stdout.contains(row), "{}", configured.stdout);
    assert!(
        configured.stdout.contains("AT 1.21"),
        "{}",
        configured.stdout
    );
    let explained = kubemig(p, &["explain", "cert-manager.io/v1alpha2", "Certificate"]);
    assert_eq!(explained.code, 0, "{}", explained.stderr);
}

#[test]
fn rules_file_errors_name_the_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    write(
        p,
        &[
            ("deploy/hpa.yaml", HPA),
            ("syntax.toml", "[[migration]\n"),
            (
                "unknown.toml",
                "[[version]]\napi = \"x.io/v1\"\nkinds = [\"X\"]\nintroduced = \"1.0\"\ncolour = 1\n",
            ),
            ("newest.toml", "newest = \"1.40\"\n"),
            (
                "twice.toml",
                "[[version]]\napi = \"autoscaling/v2beta1\"\nkinds = [\"HorizontalPodAutoscaler\"]\nintroduced = \"1.8\"\n",
            ),
            (
                "noversion.toml",
                "[[migration]]\nid = \"x/a-to-b\"\nfrom = \"x.io/v1alpha1\"\nto = \"x.io/v1\"\nkinds = [\"X\"]\nsummary = \"s\"\ndocs = \"https://example.com\"\n",
            ),
            ("empty.toml", "# nothing\n"),
        ],
    );
    let expect = |file: &str, want: &str| {
        let r = kubemig(p, &["check", "--rules", file, "deploy"]);
        assert_eq!(r.code, 2, "{file}: {}", r.stderr);
        assert!(
            r.stderr.contains(want),
            "{file}: want {want:?} in {}",
            r.stderr
        );
        assert!(r.stderr.contains(file), "{file}: {}", r.stderr);
    };
    expect("syntax.toml", "rules file syntax.toml:1: ");
    expect(
        "unknown.toml",
        "rules file unknown.toml:5: unknown field `colour`",
    );
    expect(
        "newest.toml",
        "`newest` is the built-in catalogue's setting",
    );
    expect(
        "twice.toml",
        "autoscaling/v2beta1 HorizontalPodAutoscaler is listed twice",
    );
    expect("noversion.toml", "x.io/v1alpha1 X has no [[version]] entry");
    expect("empty.toml", "no [[version]], [[migration]] or [[field]]");
    expect("missing.toml", "cannot read the rules file missing.toml");
}
