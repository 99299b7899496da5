//! Schema test: what `kubemig fix` writes must validate against the target Kubernetes version's
//! OpenAPI schema, checked with the independent `kubernetes-validate` tool (PyPI, offline
//! schemas, `--strict` rejects unknown fields).
//!
//! Inputs: a temporary copy of `testdata/corpus` and every
//! golden case's input with its `args`. Every file `fix` changed is split into documents (and
//! `kind: List` documents into items); each document whose text changed is validated at the
//! run's target version (`-t` from the case's args, else the catalogue's newest version).
//!
//! Failures:
//! - a changed document that does not validate (ERROR), or has no schema at the target (WARN
//!   "Couldn't find schema": kubemig wrote an apiVersion the target does not serve);
//! - a document left on an apiVersion/kind that the catalogue (`kubemig list`) covers and the
//!   target no longer serves (validator WARN), unless kubemig reported a finding for it
//!   (e.g. "needs a human");
//! - `fix` changing the number of documents or List items in a file.
//!
//! An ERROR is excused only when the *input* document fails with the same message at the last
//! version that served its apiVersion (the `REMOVED` column of `kubemig list` minus one): the
//! defect was already there and kubemig carried it over (e.g. a minimal golden input without
//! `spec.scaleTargetRef`). Inputs last served before 1.25 need the 1.24.1 validator for that.
//!
//! Built-in documents in changed files that stay on a removed apiVersion the catalogue does not
//! cover are printed as notes only. Unchanged documents are never schema-checked: corpus
//! documents may be invalid by themselves and custom resources have no schema. A document
//! without `metadata.name` (e.g. a SubjectAccessReview) gets a placeholder name for
//! validation only, because the validator needs one to name the resource.
//!
//! Validators: env `KUBEMIG_VALIDATOR`, else `.ci/venv/bin/kubernetes-validate` (1.37.0:
//! Kubernetes 1.25..1.37), and env `KUBEMIG_VALIDATOR_OLD`, else
//! `.ci/venv-old/bin/kubernetes-validate` (1.24.1: 1.10..1.24), both set up by `.ci/run`. The
//! test is `#[ignore]`d, so a plain `cargo test` lists it as ignored; run with
//! `-- --include-ignored` (as `.ci/run` does) it fails when the first validator is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_serde::Value;

use crate::common::km;

/// Versions whose schemas kubernetes-validate 1.37.0 ships.
const SCHEMA_MIN: (u32, u32) = (1, 25);
const SCHEMA_MAX: (u32, u32) = (1, 37);
/// Oldest version kubernetes-validate 1.24.1 ships (it covers up to 1.24).
const OLD_SCHEMA_MIN: (u32, u32) = (1, 10);
/// Placeholder `metadata.name` for documents without one (validation copies only).
const PLACEHOLDER_NAME: &str = "kubemig-schema-test";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn find_validator(env: &str, venv: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        assert!(p.exists(), "{env}={} does not exist", p.display());
        return Some(p);
    }
    let p = repo_root().join(venv).join("bin/kubernetes-validate");
    p.exists().then_some(p)
}

struct Validators {
    /// kubernetes-validate 1.37.0 (1.25..1.37).
    new: PathBuf,
    /// kubernetes-validate 1.24.1 (1.10..1.24).
    old: PathBuf,
}

impl Validators {
    fn for_version(&self, v: (u32, u32)) -> Option<&Path> {
        if (SCHEMA_MIN..=SCHEMA_MAX).contains(&v) {
            Some(&self.new)
        } else if (OLD_SCHEMA_MIN..SCHEMA_MIN).contains(&v) {
            Some(&self.old)
        } else {
            None
        }
    }
}

fn parse_version(s: &str) -> Option<(u32, u32)> {
    let s = s.trim().trim_start_matches('v');
    let mut it = s.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

fn fmt_version(v: (u32, u32)) -> String {
    format!("{}.{}", v.0, v.1)
}

/// `-t X.Y`, `--target-version X.Y` or `--target-version=X.Y` in a case's args.
fn target_from_args(args: &[String]) -> Option<(u32, u32)> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-t" || a == "--target-version" {
            return it.next().and_then(|v| parse_version(v));
        }
        if let Some(v) = a.strip_prefix("--target-version=") {
            return parse_version(v);
        }
        if let Some(v) = a.strip_prefix("-t").filter(|v| !v.is_empty()) {
            return parse_version(v.trim_start_matches('='));
        }
    }
    None
}

struct Catalogue {
    /// Newest version the catalogue knows (the default target).
    newest: (u32, u32),
    /// (apiVersion, kind) pairs kubemig knows about → the release that removed them, if any.
    entries: BTreeMap<(String, String), Option<(u32, u32)>>,
}

impl Catalogue {
    fn covers(&self, api_version: &str, kind: &str) -> bool {
        self.entries
            .contains_key(&(api_version.to_string(), kind.to_string()))
    }

    /// The last release that served `api_version`/`kind`, or `None` if it is still served.
    fn last_served(&self, api_version: &str, kind: &str) -> Option<(u32, u32)> {
        let removed = (*self
            .entries
            .get(&(api_version.to_string(), kind.to_string()))?)?;
        Some((removed.0, removed.1.checked_sub(1)?))
    }
}

fn catalogue() -> Catalogue {
    let out = km(Path::new(env!("CARGO_MANIFEST_DIR")), &["list"]).output();
    assert!(out.status.success(), "kubemig list failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let words: Vec<&str> = header.split_whitespace().collect();
    let newest = words
        .windows(2)
        .find(|w| w[0] == "AT")
        .and_then(|w| parse_version(w[1]))
        .unwrap_or_else(|| {
            println!("note: no `AT X.Y` column in `kubemig list`; assuming target 1.36");
            (1, 36)
        });
    // Columns: FROM KIND DEPRECATED REMOVED ...
    let entries = lines
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let key = (w.first()?.to_string(), w.get(1)?.to_string());
            Some((key, w.get(3).and_then(|r| parse_version(r))))
        })
        .collect();
    Catalogue { newest, entries }
}

/// Whether `apiVersion` belongs to a Kubernetes built-in group (core, dotless groups such as
/// `apps`, or `*.k8s.io`).
fn builtin_group(api_version: &str) -> bool {
    match api_version.rsplit_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
    }
}

/// One YAML document of a file: its text (including leading comments) and first line (1-based).
struct Chunk {
    first_line: usize,
    last_line: usize,
    text: String,
}

/// Splits a YAML stream at `---` document markers. Block scalars cannot hold a column-0 `---`
/// line, so this matches the YAML parser except for exotic multi-line flow scalars.
fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut cur = String::new();
    let mut first = 1;
    let mut line_no = 0;
    for line in text.split_inclusive('\n') {
        line_no += 1;
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_marker = bare == "---"
            || bare.starts_with("--- ")
            || bare.starts_with("---\t")
            || bare == "..."
            || bare.starts_with("... ");
        if is_marker {
            if let Some(rest) = bare.strip_prefix("---") {
                chunks.push(Chunk {
                    first_line: first,
                    last_line: line_no - 1,
                    text: std::mem::take(&mut cur),
                });
                first = line_no;
                // Keep content after `--- ` (e.g. `--- {a: 1}`); drop comments/tags-only.
                let rest = rest.trim();
                if !rest.is_empty() && !rest.starts_with('#') && !rest.starts_with('!') {
                    cur.push_str(rest);
                    cur.push('\n');
                }
            }
            continue;
        }
        cur.push_str(line);
    }
    chunks.push(Chunk {
        first_line: first,
        last_line: line_no,
        text: cur,
    });
    chunks
}

/// A document or List item, reduced to what the checks need.
struct Piece {
    label: String,
    api_version: Option<String>,
    kind: Option<String>,
    text: String,
    first_line: usize,
    last_line: usize,
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Top-level `key: value` lookup for documents the YAML library cannot parse.
fn scan_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        let v = rest.split(" #").next()?.trim().trim_matches(['"', '\'']);
        (!v.is_empty()).then(|| v.to_string())
    })
}

/// The non-empty documents of a file; `kind: List` documents (those with an `items` sequence
/// and a kind ending in `List`) are returned as their items.
fn pieces(label: &str, text: &str, json: bool) -> Vec<Piece> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let chunks = if json {
        vec![Chunk {
            first_line: 1,
            last_line: text.lines().count(),
            text: text.to_string(),
        }]
    } else {
        split_documents(text)
    };
    let mut out = Vec::new();
    for (index, chunk) in chunks.iter().enumerate() {
        let parsed: Option<Value> = yaml_serde::from_str(&chunk.text).ok();
        let doc_label = format!("{label}#doc{index}");
        match parsed {
            Some(Value::Null) => continue,
            Some(v) => {
                let kind = str_field(&v, "kind");
                let items = v.get("items").and_then(Value::as_sequence);
                if let (Some(k), Some(items)) = (&kind, items)
                    && k.ends_with("List")
                {
                    for (i, item) in items.iter().enumerate() {
                        out.push(Piece {
                            label: format!("{doc_label}.items[{i}]"),
                            api_version: str_field(item, "apiVersion"),
                            kind: str_field(item, "kind"),
                            text: yaml_serde::to_string(item).unwrap_or_default(),
                            first_line: chunk.first_line,
                            last_line: chunk.last_line,
                        });
                    }
                    continue;
                }
                out.push(Piece {
                    label: doc_label,
                    api_version: str_field(&v, "apiVersion"),
                    kind,
                    text: chunk.text.clone(),
                    first_line: chunk.first_line,
                    last_line: chunk.last_line,
                });
            }
            None => {
                if chunk.text.lines().all(|l| {
                    let t = l.trim();
                    t.is_empty() || t.starts_with('#')
                }) {
                    continue;
                }
                out.push(Piece {
                    label: doc_label,
                    api_version: scan_field(&chunk.text, "apiVersion"),
                    kind: scan_field(&chunk.text, "kind"),
                    text: chunk.text.clone(),
                    first_line: chunk.first_line,
                    last_line: chunk.last_line,
                });
            }
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// kubemig changed this document: it must validate.
    Changed,
    /// Left unchanged on an apiVersion the catalogue covers: must not be unserved at the target.
    LeftCatalogued,
    /// Left unchanged, built-in group, not in the catalogue: unserved only gives a note.
    LeftOther,
}

struct Job {
    label: String,
    target: (u32, u32),
    role: Role,
    kind: String,
    /// apiVersion before and after `fix`.
    before: String,
    after: String,
    /// The document before `fix`.
    input: String,
    /// The document after `fix` (what is validated).
    text: String,
}

/// The text to hand to the validator: `text` itself, or, when it has no `metadata.name`
/// (which kubernetes-validate needs to name the resource), a copy with a placeholder name.
/// With `strip_status`, also without `status` (used for inputs: `fix` drops it, G4).
fn validation_text(text: &str, strip_status: bool) -> String {
    let Ok(Value::Mapping(mut map)) = yaml_serde::from_str::<Value>(text) else {
        return text.to_string();
    };
    let stripped = strip_status && map.remove("status").is_some();
    let meta = map
        .entry(Value::from("metadata"))
        .or_insert_with(|| Value::Mapping(Default::default()));
    match meta {
        Value::Mapping(m) if m.get("name").is_none() => {
            m.insert(Value::from("name"), Value::from(PLACEHOLDER_NAME));
        }
        Value::Null => {
            let mut m = yaml_serde::Mapping::new();
            m.insert(Value::from("name"), Value::from(PLACEHOLDER_NAME));
            *meta = Value::Mapping(m);
        }
        _ if !stripped => return text.to_string(),
        _ => {}
    }
    yaml_serde::to_string(&Value::Mapping(map)).unwrap_or_else(|_| text.to_string())
}

/// One `kubemig fix` run whose output is to be checked.
struct Run {
    /// Where the files were copied; `fix` ran with this as working directory.
    dir: PathBuf,
    /// Label prefix, e.g. `corpus` or `golden/<case>`.
    label: String,
    /// Relative path → original content.
    originals: BTreeMap<PathBuf, Vec<u8>>,
    target: (u32, u32),
    /// (relative path, line) of every finding `fix` printed; a `None` line is file-level.
    findings: BTreeSet<(PathBuf, Option<usize>)>,
}

fn copy_tree(from: &Path, to: &Path, rel: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in fs::read_dir(from.join(rel)).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let rel = rel.join(&name);
        let ty = entry.file_type().unwrap();
        if ty.is_dir() {
            fs::create_dir_all(to.join(&rel)).unwrap();
            copy_tree(from, to, &rel, files);
        } else if ty.is_file() {
            let bytes = fs::read(entry.path()).unwrap();
            fs::write(to.join(&rel), &bytes).unwrap();
            files.insert(rel, bytes);
        }
    }
}

/// Runs `kubemig fix` in `run.dir` and records its findings (`path:line:col: ...` lines).
fn run_fix(run: &mut Run, extra: &[String], paths: &[&str]) {
    let out = km(&run.dir, &["fix"])
        .args(extra)
        .args(["--color", "never"])
        .args(paths)
        .output();
    let code = out.status.code();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(path), Some(second)) = (parts.next(), parts.next()) else {
            continue;
        };
        let path = PathBuf::from(path.trim_start_matches("./"));
        if run.originals.contains_key(&path) {
            run.findings.insert((path, second.trim().parse().ok()));
        }
    }
    if code == Some(2) {
        let summary = text.lines().last().unwrap_or_default();
        println!("note: {}: `kubemig fix` exited 2 ({summary})", run.label);
    }
}

fn reported(run: &Run, rel: &Path, piece: &Piece) -> bool {
    run.findings.iter().any(|(p, line)| {
        p == rel
            && line.is_none_or(|l| {
                (piece.first_line..=piece.last_line.max(piece.first_line)).contains(&l)
            })
    })
}

/// Compares every file of a run before and after `fix`, producing validation jobs.
/// Whether the API server (and so kubernetes-validate) has a schema for this apiVersion and
/// kind. Component configuration files (audit policy, kubelet, scheduler, kubeadm, the exec
/// plugins of a kubeconfig) are read by components, not served, and add-on packs' custom
/// resources have schemas only in their CRDs: their golden cases pin them instead.
fn has_api_schema(api_version: &str, kind: &str) -> bool {
    const NOT_SERVED: &[&str] = &[
        "audit.k8s.io",
        "kubelet.config.k8s.io",
        "kubescheduler.config.k8s.io",
        "kubeadm.k8s.io",
        "client.authentication.k8s.io",
        "apiserver.config.k8s.io",
        "cert-manager.io",
        "acme.cert-manager.io",
        "snapshot.storage.k8s.io",
        "traefik.io",
        "traefik.containo.us",
        "apiserver.k8s.io",
        "gateway.networking.k8s.io",
        "keda.sh",
        "keda.k8s.io",
        "source.toolkit.fluxcd.io",
        "kustomize.toolkit.fluxcd.io",
        "helm.toolkit.fluxcd.io",
        "notification.toolkit.fluxcd.io",
        "image.toolkit.fluxcd.io",
    ];
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    !(NOT_SERVED.contains(&group) || (api_version == "v1" && kind == "Config"))
}

fn collect_jobs(
    run: &Run,
    cat: &Catalogue,
    jobs: &mut Vec<Job>,
    failures: &mut Vec<String>,
) -> usize {
    let mut changed_files = 0;
    for (rel, before_bytes) in &run.originals {
        let after_bytes = fs::read(run.dir.join(rel)).unwrap();
        let changed = &after_bytes != before_bytes;
        let ext = rel.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "yaml" | "yml" | "json") {
            if changed {
                failures.push(format!(
                    "{}/{}: fix changed a non-manifest file",
                    run.label,
                    rel.display()
                ));
            }
            continue;
        }
        let label = format!("{}/{}", run.label, rel.display());
        let before_text = String::from_utf8_lossy(before_bytes);
        let after_text = String::from_utf8_lossy(&after_bytes);
        let json = ext == "json";
        let before = pieces(&label, &before_text, json);
        if !changed {
            // Unchanged file: only look for documents kubemig should have migrated.
            for p in &before {
                let key = (
                    p.api_version.clone().unwrap_or_default(),
                    p.kind.clone().unwrap_or_default(),
                );
                if cat.covers(&key.0, &key.1)
                    && has_api_schema(&key.0, &key.1)
                    && !reported(run, rel, p)
                {
                    jobs.push(Job {
                        label: format!("{} ({})", p.label, key.1),
                        target: run.target,
                        role: Role::LeftCatalogued,
                        kind: key.1,
                        before: key.0.clone(),
                        after: key.0,
                        input: p.text.clone(),
                        text: p.text.clone(),
                    });
                }
            }
            continue;
        }
        changed_files += 1;
        let after = pieces(&label, &after_text, json);
        if before.len() != after.len() {
            failures.push(format!(
                "{label}: fix changed the number of documents/List items from {} to {}",
                before.len(),
                after.len()
            ));
            continue;
        }
        for (b, a) in before.iter().zip(&after) {
            let before_api = b.api_version.clone().unwrap_or_default();
            let after_api = a.api_version.clone().unwrap_or_default();
            let kind = a.kind.clone().unwrap_or_default();
            if !has_api_schema(&after_api, &kind) {
                continue;
            }
            let role = if b.text != a.text {
                Role::Changed
            } else if cat.covers(&after_api, &kind) {
                if reported(run, rel, b) {
                    continue;
                }
                Role::LeftCatalogued
            } else if a.api_version.is_some() && builtin_group(&after_api) {
                Role::LeftOther
            } else {
                continue;
            };
            jobs.push(Job {
                label: format!("{} ({kind})", a.label),
                target: run.target,
                role,
                kind,
                before: before_api,
                after: after_api,
                input: b.text.clone(),
                text: a.text.clone(),
            });
        }
    }
    changed_files
}

#[derive(Default)]
struct Counts {
    corpus: usize,
    golden: usize,
    passed: usize,
    failed: usize,
    input_invalid: usize,
    left_checked: usize,
    left_unserved: usize,
}

impl Counts {
    fn validated(&mut self, job: &Job) {
        if job.label.starts_with("corpus/") {
            self.corpus += 1;
        } else {
            self.golden += 1;
        }
    }
}

#[derive(Debug)]
enum Outcome {
    Pass,
    Error(String),
    NoSchema(String),
}

/// Validates `files` (names relative to `dir`) at `version`; one result per file. The tool
/// stops at a document it cannot handle (rc 2), so it is re-run on what is left.
fn validate(
    validator: &Path,
    dir: &Path,
    version: (u32, u32),
    files: &[String],
) -> BTreeMap<String, Outcome> {
    let mut results = BTreeMap::new();
    let mut pending: Vec<String> = files.to_vec();
    while !pending.is_empty() {
        let out = Command::new(validator)
            .current_dir(dir)
            .args(["-k", &fmt_version(version), "--strict"])
            .args(&pending)
            .output()
            .expect("run kubernetes-validate");
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for line in text.lines() {
            let Some(file) = line
                .split_whitespace()
                .map(|w| w.trim_end_matches(':'))
                .find(|w| pending.iter().any(|f| f == w))
            else {
                continue;
            };
            let outcome = if line.starts_with("INFO") && line.contains(" passed ") {
                Outcome::Pass
            } else if line.starts_with("WARN") && line.contains("Couldn't find schema") {
                Outcome::NoSchema(line.to_string())
            } else if line.starts_with("WARN") {
                continue;
            } else {
                Outcome::Error(line.to_string())
            };
            // Keep the first non-pass outcome for the file.
            let slot = results.entry(file.to_string()).or_insert(Outcome::Pass);
            if matches!(slot, Outcome::Pass) {
                *slot = outcome;
            }
        }
        let before = pending.len();
        pending.retain(|f| !results.contains_key(f));
        if pending.len() == before {
            let f = pending.remove(0);
            results.insert(
                f,
                Outcome::Error(format!(
                    "no result from kubernetes-validate (rc {:?}): {}",
                    out.status.code(),
                    text.trim()
                )),
            );
        }
    }
    results
}

fn is_fuzz_case(case: &Path) -> bool {
    case.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("regress-fuzz-"))
}

fn golden_cases() -> Vec<PathBuf> {
    let root = repo_root().join("testdata/golden");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                // Fuzz finds are arbitrary YAML (complex keys, odd tags): formatting
                // regressions, not manifests a cluster would take.
                .filter(|p| p.is_dir() && !is_fuzz_case(p))
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    cases
}

/// The part of an ERROR line that describes the problem (after `against version X.Y: `).
fn error_detail(line: &str) -> &str {
    line.split_once(" against version ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .map_or(line, |(_, detail)| detail)
}

/// Writes `texts` to `dir` as `{prefix}NNNNN.yaml` and validates them at `version`. `inputs`:
/// the texts are `fix` inputs (validated without `status`).
fn validate_texts(
    validator: &Path,
    dir: &Path,
    prefix: &str,
    version: (u32, u32),
    texts: &[(usize, String)],
    inputs: bool,
) -> BTreeMap<usize, Outcome> {
    let files: Vec<String> = texts
        .iter()
        .map(|(i, _)| format!("{prefix}{i:05}.yaml"))
        .collect();
    for ((_, text), f) in texts.iter().zip(&files) {
        fs::write(dir.join(f), validation_text(text, inputs)).unwrap();
    }
    let mut results = validate(validator, dir, version, &files);
    texts
        .iter()
        .zip(&files)
        .map(|((i, _), f)| (*i, results.remove(f).unwrap()))
        .collect()
}

#[test]
#[ignore = "needs kubernetes-validate 1.37.0 (and 1.24.1): .ci/run installs them"]
fn fixed_manifests_validate_against_target_schema() {
    let new = find_validator("KUBEMIG_VALIDATOR", ".ci/venv").expect(
        "kubernetes-validate not found: set KUBEMIG_VALIDATOR or run .ci/run to create .ci/venv",
    );
    let validators = Validators {
        new,
        old: find_validator("KUBEMIG_VALIDATOR_OLD", ".ci/venv-old").expect(
            "kubernetes-validate 1.24.1 not found: set KUBEMIG_VALIDATOR_OLD or run .ci/run to \
             create .ci/venv-old",
        ),
    };
    let cat = catalogue();
    let mut runs: Vec<Run> = Vec::new();
    let mut temps = Vec::new();

    // (a) the corpus, migrated to the default target.
    let corpus = repo_root().join("testdata/corpus");
    {
        let tmp = tempfile::tempdir().unwrap();
        let mut run = Run {
            dir: tmp.path().to_path_buf(),
            label: "corpus".into(),
            originals: BTreeMap::new(),
            target: cat.newest,
            findings: BTreeSet::new(),
        };
        copy_tree(&corpus, tmp.path(), Path::new(""), &mut run.originals);
        run_fix(&mut run, &[], &["."]);
        runs.push(run);
        temps.push(tmp);
    }

    // (a) every golden case's input, with its args.
    for case in golden_cases() {
        let Some(input) = ["input.yaml", "input.json"]
            .into_iter()
            .find(|n| case.join(n).exists())
        else {
            continue;
        };
        let extra: Vec<String> = fs::read_to_string(case.join("args"))
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let tmp = tempfile::tempdir().unwrap();
        let bytes = fs::read(case.join(input)).unwrap();
        fs::write(tmp.path().join(input), &bytes).unwrap();
        let mut run = Run {
            dir: tmp.path().to_path_buf(),
            label: format!("golden/{}", case.file_name().unwrap().to_string_lossy()),
            originals: BTreeMap::from([(PathBuf::from(input), bytes)]),
            target: target_from_args(&extra).unwrap_or(cat.newest),
            findings: BTreeSet::new(),
        };
        run_fix(&mut run, &extra, &[input]);
        runs.push(run);
        temps.push(tmp);
    }

    // (b) collect what fix changed.
    let mut failures = Vec::new();
    let mut jobs = Vec::new();
    let mut changed_files = 0;
    for run in &runs {
        changed_files += collect_jobs(run, &cat, &mut jobs, &mut failures);
    }

    // (c) validate the output, grouped by target version.
    let work = tempfile::tempdir().unwrap();
    let mut by_version: BTreeMap<(u32, u32), Vec<(usize, String)>> = BTreeMap::new();
    for (i, job) in jobs.iter().enumerate() {
        by_version
            .entry(job.target)
            .or_default()
            .push((i, job.text.clone()));
    }
    let mut notes = Vec::new();
    let mut counts: BTreeMap<(u32, u32), Counts> = BTreeMap::new();
    // Output ERRORs that may have been in the input already: job index → error line.
    let mut suspects: Vec<(usize, String)> = Vec::new();
    for (version, texts) in &by_version {
        // Targets before 1.25 are checked with the 1.24.1 validator's schemas.
        let validator = validators.for_version(*version).unwrap_or_else(|| {
            panic!(
                "{} document(s) target {}, for which no validator has schemas ({}..{})",
                texts.len(),
                fmt_version(*version),
                fmt_version(OLD_SCHEMA_MIN),
                fmt_version(SCHEMA_MAX)
            )
        });
        let results = validate_texts(validator, work.path(), "kmv", *version, texts, false);
        let c = counts.entry(*version).or_default();
        let v = fmt_version(*version);
        for (i, outcome) in results {
            let job = &jobs[i];
            match (job.role, outcome) {
                (Role::Changed, Outcome::Pass) => {
                    c.validated(job);
                    c.passed += 1;
                }
                (Role::Changed, Outcome::Error(msg)) if msg.contains(" did not validate ") => {
                    c.validated(job);
                    suspects.push((i, msg));
                }
                (Role::Changed, Outcome::Error(msg) | Outcome::NoSchema(msg)) => {
                    c.validated(job);
                    c.failed += 1;
                    failures.push(format!(
                        "{} [{} -> {}] at {v}: {msg}\n{}",
                        job.label, job.before, job.after, job.text
                    ));
                }
                (role, Outcome::NoSchema(_)) => {
                    c.left_checked += 1;
                    c.left_unserved += 1;
                    let msg = format!(
                        "{} left on {}, which {v} does not serve",
                        job.label, job.after
                    );
                    if role == Role::LeftCatalogued {
                        failures.push(format!(
                            "{msg}; the catalogue covers it and kubemig reported nothing"
                        ));
                    } else {
                        notes.push(format!("{msg} (not in the catalogue)"));
                    }
                }
                _ => c.left_checked += 1,
            }
        }
    }

    // An output ERROR is excused if the input fails the same way at its own last version.
    let mut by_own: BTreeMap<(u32, u32), Vec<(usize, String)>> = BTreeMap::new();
    for (i, _) in &suspects {
        let job = &jobs[*i];
        let own = cat
            .last_served(&job.before, &job.kind)
            .unwrap_or(job.target);
        by_own.entry(own).or_default().push((*i, job.input.clone()));
    }
    let mut input_results: BTreeMap<usize, (String, Outcome)> = BTreeMap::new();
    for (own, texts) in &by_own {
        let Some(validator) = validators.for_version(*own) else {
            continue;
        };
        for (i, outcome) in validate_texts(validator, work.path(), "kmi", *own, texts, true) {
            input_results.insert(i, (fmt_version(*own), outcome));
        }
    }
    for (i, msg) in suspects {
        let job = &jobs[i];
        let c = counts.entry(job.target).or_default();
        let v = fmt_version(job.target);
        match input_results.get(&i) {
            Some((own, Outcome::Error(input_msg)))
                if error_detail(input_msg) == error_detail(&msg) =>
            {
                c.input_invalid += 1;
                notes.push(format!(
                    "{}: the input is already invalid at {own} ({}); kubemig carried it over",
                    job.label,
                    error_detail(&msg)
                ));
            }
            other => {
                c.failed += 1;
                let input = match other {
                    Some((own, Outcome::Pass)) => format!("the input validates at {own}"),
                    Some((own, Outcome::Error(m) | Outcome::NoSchema(m))) => {
                        format!("the input at {own}: {m}")
                    }
                    None => "the input could not be checked".to_string(),
                };
                failures.push(format!(
                    "{} [{} -> {}] at {v}: {msg}\n({input})\n{}",
                    job.label, job.before, job.after, job.text
                ));
            }
        }
    }

    println!(
        "schema check: {} run(s), {changed_files} changed file(s), validator {}",
        runs.len(),
        validators.new.display()
    );
    for (v, c) in &counts {
        println!(
            "  {}: {} changed document(s) validated ({} corpus, {} golden): {} passed, {} failed, \
             {} invalid only because the input was; {} unchanged document(s) checked for an \
             unserved apiVersion, {} left on one",
            fmt_version(*v),
            c.corpus + c.golden,
            c.corpus,
            c.golden,
            c.passed,
            c.failed,
            c.input_invalid,
            c.left_checked,
            c.left_unserved
        );
    }
    for n in &notes {
        println!("note: {n}");
    }
    assert!(
        jobs.iter().any(|j| j.role == Role::Changed),
        "fix changed no document at all; the corpus/golden inputs should exercise migrations"
    );
    assert!(
        failures.is_empty(),
        "{} schema failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
