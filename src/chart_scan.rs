//! Helm charts, never silent: every group/version the target does not serve that appears
//! anywhere in a chart is reported at its `PATH:LINE:COL` unless the template pass already
//! rewrote or reported it.
//!
//! The template pass (`template.rs`) sees objects: an `apiVersion:` literal with a literal
//! `kind:`. What it cannot see is found here, by text, per chart (a directory with
//! its `Chart.yaml` among the walked files, i.e. given by its directory):
//! - helpers (`templates/**/*.tpl`, not walked as manifests) that return a removed
//!   group/version, e.g. `{{- define "app.deployment.apiVersion" -}}` with `apps/v1beta2`;
//!   under a `.Capabilities`/`semverCompare` guard whose other branch returns the
//!   replacement it is the fallback for older clusters (an info finding), else it needs a
//!   human;
//! - values files (`values*.yaml`, `ci/*.yaml`) that hold a removed group/version, or the
//!   version half of one that a template builds (`apiVersion: rbac.authorization.k8s.io/{{
//!   .Values.rbac.apiVersion }}`): both places are reported;
//! - a literal removed apiVersion in a template that produced no report (its `kind:` is
//!   templated, or the catalogue does not list the kind).
//!
//! Where every use of such a values path or helper is a template's apiVersion of an object
//! that migrates, the value is rewritten where it is set and the templates are migrated
//! under it instead (`sources`).
//!
//! Entry points: [`Charts::build`] once per run, [`Charts::inputs`] (the helpers join the
//! walked files), and [`Charts::amend`] on each file's outcome.

mod kinds;
mod sources;

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::catalogue::codes;
use crate::catalogue::{Catalogue, Decision, Level, Window, decide};
use crate::engine::{Located, Outcome};
use crate::plan::{Finding, ObjectReport, Status};
use crate::source::Source;
use crate::walk::Input;
use crate::yaml::{Node, NodeKind, parse_stream};

/// What the chart scan adds to the files of the charts in a run.
#[derive(Default)]
pub struct Charts {
    extra: HashMap<PathBuf, Vec<Extra>>,
    helpers: Vec<PathBuf>,
    /// Templates migrated under a value written in (`sources`): their outcomes, taken once.
    planned: Mutex<HashMap<PathBuf, Outcome>>,
    /// Values files and helpers rewritten with them: old and new text, and their reports.
    rewrites: HashMap<PathBuf, Rewrite>,
    /// Places rewritten, not to be reported.
    handled: HashMap<PathBuf, Vec<Range<usize>>>,
    /// The files of each chart whose values or helpers are rewritten with its templates.
    units: HashMap<PathBuf, Unit>,
    /// How many charts have units.
    unit_charts: usize,
}

/// A file of a chart whose templates take their apiVersion from a values file or a helper
/// that the chart scan rewrites: the rewrite is one change across files. A carrier (the
/// values file, the helper) must not be written unless every template planned under it was:
/// a carrier written alone renders the new apiVersion without the selector and pins its
/// templates need, and a rerun no longer sees it. A template written alone still renders
/// the old version, valid there, and a rerun finishes the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Which chart (one number per chart in a run).
    pub chart: usize,
    /// A values file or helper holding the rewritten value, not a template using it.
    pub carries: bool,
    /// How many files of the run are in the unit.
    pub files: usize,
}

struct Rewrite {
    old: String,
    new: String,
    reports: Vec<(ObjectReport, (usize, usize))>,
}

/// One report to add to a file's outcome.
struct Extra {
    report: ObjectReport,
    /// The document of a template the occurrence is in: a report of the template pass on
    /// the same group/version in it covers the occurrence.
    doc: Option<Range<usize>>,
    line_col: (usize, usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Template,
    Helper,
}

impl Charts {
    /// Scan every chart that holds a walked file.
    pub fn build(inputs: &[Input], cat: &Catalogue, window: Window) -> Charts {
        // A chart given by its directory: the walk found its Chart.yaml.
        let roots: BTreeSet<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::File(p) if p.file_name().is_some_and(|n| n == "Chart.yaml") => {
                    p.parent().map(Path::to_path_buf)
                }
                _ => None,
            })
            .collect();
        let mut charts = Charts::default();
        if roots.is_empty() {
            return charts;
        }
        let gone = gone_versions(cat, window);
        for root in roots {
            charts.scan_chart(&root, &gone, inputs, cat, window);
        }
        charts
    }

    /// The walked files, with the chart helpers (`.tpl`) of the charts among them.
    pub fn inputs(&self, walked: &[Input]) -> Vec<Input> {
        let mut all = walked.to_vec();
        for h in &self.helpers {
            let input = Input::File(h.clone());
            if all.contains(&input) {
                continue;
            }
            // Beside the walked files of its directory, so reports keep the walk's order.
            let same_dir = |i: &Input| matches!(i, Input::File(p) if p.parent() == h.parent());
            let at = all
                .iter()
                .position(|i| same_dir(i) && matches!(i, Input::File(p) if p > h))
                .or_else(|| all.iter().rposition(same_dir).map(|i| i + 1))
                .unwrap_or(all.len());
            all.insert(at, input);
        }
        all
    }

    /// Count the files of each unit among `inputs` (what [`Charts::inputs`] returned): a
    /// unit is whole when that many have come in.
    pub fn count_units(&mut self, inputs: &[Input]) {
        let mut files: HashMap<usize, usize> = HashMap::new();
        for i in inputs {
            if let Some(u) = self.unit(i) {
                *files.entry(u.chart).or_default() += 1;
            }
        }
        for u in self.units.values_mut() {
            u.files = files.get(&u.chart).copied().unwrap_or(0);
        }
    }

    /// The outcome of a template migrated under a value its apiVersion takes from a values
    /// file or a helper (planned once, by [`Charts::build`]).
    pub fn planned(&self, input: &Input) -> Option<Outcome> {
        let Input::File(p) = input else { return None };
        let mut planned = self.planned.lock().ok()?;
        // Asked for every file: an empty map is not asked to hash the path.
        if planned.is_empty() {
            return None;
        }
        planned.remove(p)
    }

    /// The chart unit `input` is part of, if its chart rewrites a values file or a helper.
    pub fn unit(&self, input: &Input) -> Option<Unit> {
        match input {
            Input::File(p) => self.units.get(p).copied(),
            Input::Stdin => None,
        }
    }

    /// Whether `input` is a chart helper: not a manifest, only scanned here.
    pub fn is_helper(&self, input: &Input) -> bool {
        matches!(input, Input::File(p) if self.helpers.contains(p))
    }

    /// Add to `out` (the outcome of `input`) what the chart scan found in it and the
    /// template pass did not report.
    pub fn amend(&self, input: &Input, out: &mut Outcome) {
        let Input::File(p) = input else { return };
        if let Some(rw) = self.rewrites.get(p) {
            // A values file or helper holds no object of its own to rewrite: its text is
            // the one the chart scan read.
            if out.rewrite.is_none() && out.error.is_none() {
                out.rewrite = Some((rw.old.clone(), rw.new.clone()));
            }
            for (report, at) in &rw.reports {
                out.finding_positions.push(vec![*at; report.findings.len()]);
                out.objects.push(Located {
                    line: at.0,
                    col: at.1,
                    item: report.clone(),
                });
            }
            out.parsed = true;
        }
        let Some(extra) = self.extra.get(p) else {
            return;
        };
        for e in extra {
            let gv = &e.report.from;
            let covered = e.doc.as_ref().is_some_and(|doc| {
                out.objects.iter().any(|o| {
                    doc.contains(&o.item.offset)
                        && (o.item.from == *gv
                            || o.item
                                .findings
                                .iter()
                                .any(|f| f.message.contains(gv.as_str())))
                })
            });
            if covered {
                continue;
            }
            out.finding_positions
                .push(vec![e.line_col; e.report.findings.len()]);
            out.objects.push(Located {
                line: e.line_col.0,
                col: e.line_col.1,
                item: e.report.clone(),
            });
        }
        out.parsed = true;
    }

    fn scan_chart(
        &mut self,
        root: &Path,
        gone: &[String],
        inputs: &[Input],
        cat: &Catalogue,
        window: Window,
    ) {
        let mut files = Vec::new();
        collect(&root.join("templates"), &mut files);
        let mut values: Vec<PathBuf> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("values") && is_yaml(n))
            })
            .collect();
        let mut ci = Vec::new();
        collect(&root.join("ci"), &mut ci);
        values.extend(ci.into_iter().filter(|p| p.to_str().is_some_and(is_yaml)));
        values.sort();
        let read = |p: &Path| std::fs::read(p).ok().and_then(|b| Source::decode(b).ok());
        let values: Vec<(PathBuf, Source)> = values
            .into_iter()
            .filter_map(|p| read(&p).map(|s| (p, s)))
            .collect();
        self.migrate_sources(&files, &values, gone, inputs, cat, window);
        for (p, s) in &values {
            for (at, gv) in occurrences(&s.text, gone) {
                let msg = format!(
                    "the values file sets {gv}, which {} does not serve: a template that uses it as an apiVersion renders an object the cluster rejects; set it to {} (and check every template that reads it)",
                    window.target,
                    replacements(cat, gv, None, window)
                );
                self.push(p, s, at, gv, None, "value", msg, Status::Blocked, None);
            }
        }
        // Helpers first: the templates that include one name it.
        files.sort_by_key(|p| !p.to_str().is_some_and(|n| n.ends_with(".tpl")));
        let mut helper_gone: HashMap<String, (String, String)> = HashMap::new();
        for p in files {
            let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let role = if name.ends_with(".tpl") {
                Role::Helper
            } else if is_yaml(name) {
                Role::Template
            } else {
                continue;
            };
            let Some(s) = read(&p) else { continue };
            if role == Role::Helper {
                self.helpers.push(p.clone());
            }
            for (at, gv) in occurrences(&s.text, gone) {
                if role == Role::Helper {
                    let (status, level, msg) = helper_verdict(&s.text, at, gv, cat, window);
                    if status == Status::Blocked
                        && let Some(define) = define_at(&s.text, at)
                    {
                        let (l, c) = s.line_col(at);
                        helper_gone
                            .entry(define)
                            .or_insert((gv.to_string(), format!("{}:{l}:{c}", p.display())));
                    }
                    let pushed =
                        self.push(&p, &s, at, gv, None, "helper", msg, status, Some(level));
                    // Named for the report line (`helper app.deployment.apiVersion`).
                    if pushed && let Some(r) = self.extra.get_mut(&p).and_then(|e| e.last_mut()) {
                        r.report.name = define_at(&s.text, at);
                    }
                } else {
                    let doc = document_of(&s.text, at);
                    let kind = literal_kind(&s.text[doc.clone()]);
                    let msg = format!(
                        "{gv} is not served at {}, and kubemig could not plan this object (its kind is {}): migrate it to {} by hand",
                        window.target,
                        kind.as_deref()
                            .map_or("templated".to_string(), |k| format!("`{k}`")),
                        replacements(cat, gv, kind.as_deref(), window)
                    );
                    let k = kind.unwrap_or_else(|| "object".into());
                    self.push(&p, &s, at, gv, Some(doc), &k, msg, Status::Blocked, None);
                }
            }
            if role == Role::Template {
                self.versions_from_values(&p, &s, &values, cat, window);
                self.versions_from_helpers(&p, &s, &helper_gone, cat, window);
            }
        }
    }

    /// `apiVersion: group/{{ .Values.x.y }}` (or the whole value from values): resolve the
    /// value in the chart's values files and report both places when the result is gone.
    fn versions_from_values(
        &mut self,
        path: &Path,
        src: &Source,
        values: &[(PathBuf, Source)],
        cat: &Catalogue,
        window: Window,
    ) {
        let text = &src.text;
        let mut start = 0;
        while start < text.len() {
            let end = crate::source::line_end(text, start);
            let line = &text[start..end];
            let indent = line.len() - line.trim_start().len();
            if let Some(value) = line.trim_start().strip_prefix("apiVersion:")
                && let Some(open) = value.find("{{")
                && let Some(close) = value[open..].find("}}").map(|c| open + c + 2)
                && let Some(vpath) = values_path(&value[open..close])
            {
                let prefix = value[..open].trim_start();
                let suffix = value[close..].trim_end();
                let at =
                    start + indent + "apiVersion:".len() + (value.len() - value.trim_start().len());
                for (vp, vs) in values {
                    let Some(node) = lookup_span(&vs.text, &vpath) else {
                        continue;
                    };
                    let node = (node.0.start, node.1);
                    let Some(v) = node.1.as_deref() else { continue };
                    let gv = format!("{prefix}{v}{suffix}");
                    if !is_gone(cat, &gv, window) {
                        continue;
                    }
                    let doc = document_of(text, at);
                    let kind = literal_kind(&text[doc.clone()]);
                    let to = replacements(cat, &gv, kind.as_deref(), window);
                    let (vl, vc) = vs.line_col(node.0);
                    let (tl, _) = src.line_col(at);
                    let here = format!(
                        "the apiVersion is built from `.Values.{vpath}`, which {}:{vl}:{vc} sets to `{v}`: the chart renders {gv}, not served at {}; set the value to the version of {to} (or write the apiVersion literally)",
                        vp.display(),
                        window.target
                    );
                    let k = kind.clone().unwrap_or_else(|| "object".into());
                    self.push(path, src, at, &gv, None, &k, here, Status::Blocked, None);
                    let there = format!(
                        "`{vpath}` is the version of the apiVersion in {}:{tl}, which renders {gv}, not served at {}: set it to the version of {to}",
                        path.display(),
                        window.target
                    );
                    self.push(
                        vp,
                        vs,
                        node.0,
                        &gv,
                        None,
                        "value",
                        there,
                        Status::Blocked,
                        None,
                    );
                }
            }
            start = crate::source::next_line_start(text, start).max(end + 1);
        }
    }

    /// `apiVersion: {{ include "x.apiVersion" . }}` where the helper returns a removed
    /// group/version unguarded: report the template line too.
    fn versions_from_helpers(
        &mut self,
        path: &Path,
        src: &Source,
        helpers: &HashMap<String, (String, String)>,
        cat: &Catalogue,
        window: Window,
    ) {
        let text = &src.text;
        for (at, _) in text.match_indices("apiVersion:") {
            let line = &text[at..crate::source::line_end(text, at)];
            let Some(name) = ["include", "template"]
                .iter()
                .find_map(|w| quoted_after(line, w))
            else {
                continue;
            };
            let Some((gv, place)) = helpers.get(name) else {
                continue;
            };
            let value = at + "apiVersion:".len();
            let value = value + text[value..].len() - text[value..].trim_start().len();
            let doc = document_of(text, value);
            let kind = literal_kind(&text[doc]);
            let msg = format!(
                "the apiVersion comes from the helper `{name}`, which returns {gv} ({place}), not served at {}: make the helper return {}",
                window.target,
                replacements(cat, gv, kind.as_deref(), window)
            );
            let k = kind.unwrap_or_else(|| "object".into());
            self.push(path, src, value, gv, None, &k, msg, Status::Blocked, None);
        }
    }

    /// Values paths and helpers that give a template's apiVersion: migrated where every use
    /// allows it (`sources`); what is rewritten is then not reported.
    fn migrate_sources(
        &mut self,
        files: &[PathBuf],
        values: &[(PathBuf, Source)],
        gone: &[String],
        inputs: &[Input],
        cat: &Catalogue,
        window: Window,
    ) {
        let walked = |p: &Path| inputs.iter().any(|i| matches!(i, Input::File(f) if f == p));
        let chart_file = |p: &Path, src: Source| sources::ChartFile {
            walked: walked(p) || p.to_str().is_some_and(|n| n.ends_with(".tpl")),
            path: p.to_path_buf(),
            src,
        };
        let templates: Vec<sources::ChartFile> = files
            .iter()
            .filter_map(|p| {
                let s = Source::decode(std::fs::read(p).ok()?).ok()?;
                Some(chart_file(p, s))
            })
            .collect();
        let values: Vec<sources::ChartFile> = values
            .iter()
            .filter_map(|(p, s)| {
                let s = Source::decode(s.text.clone().into_bytes()).ok()?;
                Some(chart_file(p, s))
            })
            .collect();
        let mut m = sources::Migrations::default();
        let mut vpaths = BTreeSet::new();
        for f in &templates {
            for line in f.src.text.lines() {
                if let Some(v) = line.strip_prefix("apiVersion:")
                    && let Some(p) = values_path(v)
                {
                    vpaths.insert(p);
                }
            }
        }
        for p in &vpaths {
            m.values_path(p, &templates, &values, cat, window);
        }
        // `kind: {{ .Values.x }}` under a literal removed apiVersion.
        let mut kpaths = BTreeSet::new();
        for f in &templates {
            for line in f.src.text.lines() {
                if let Some(v) = line.strip_prefix("kind:")
                    && let Some(p) = values_path(v)
                {
                    kpaths.insert(p);
                }
            }
        }
        for p in &kpaths {
            kinds::templated_kinds(&mut m, p, &templates, &values, cat, window);
        }
        for (i, f) in templates.iter().enumerate() {
            if !f.path.to_str().is_some_and(|n| n.ends_with(".tpl")) {
                continue;
            }
            let text = &f.src.text;
            for (d, _) in text.match_indices("define") {
                let line = &text[d..crate::source::line_end(text, d)];
                let Some(name) = quoted_after(line, "define").map(str::to_string) else {
                    continue;
                };
                let end = text[d + 1..]
                    .find("define")
                    .map_or(text.len(), |e| d + 1 + e);
                let body = &text[d..end];
                let found = occurrences(body, gone);
                if found.is_empty() {
                    continue;
                }
                let mut literals: Vec<Range<usize>> =
                    found.iter().map(|(a, g)| d + a..d + a + g.len()).collect();
                for (_, g) in &found {
                    for to in replacements(cat, g, None, window).split(" or ") {
                        for (a, _) in body.match_indices(to) {
                            let after = body.as_bytes().get(a + to.len());
                            let r = d + a..d + a + to.len();
                            if !after.is_some_and(|c| c.is_ascii_alphanumeric())
                                && !literals.contains(&r)
                                && !in_comment(body, a)
                                && !in_guard(body, a)
                            {
                                literals.push(r);
                            }
                        }
                    }
                }
                let guarded = body.contains(".Capabilities") || body.contains("semverCompare");
                m.helper(&name, i, &literals, guarded, &templates, cat, window);
            }
        }
        for (p, edits) in &m.sources {
            let Some(f) = templates.iter().chain(&values).find(|f| &f.path == p) else {
                continue;
            };
            let Some(new) = sources::apply(&f.src.text, edits) else {
                continue;
            };
            let reports = edits
                .iter()
                .map(|e| (e.report.clone(), f.src.line_col(e.range.start)))
                .collect();
            self.rewrites.insert(
                p.clone(),
                Rewrite {
                    old: f.src.text.clone(),
                    new,
                    reports,
                },
            );
        }
        for (p, h) in m.handled {
            self.handled.entry(p).or_default().extend(h);
        }
        let carriers: Vec<&PathBuf> = m
            .sources
            .keys()
            .filter(|p| self.rewrites.contains_key(*p))
            .collect();
        if !carriers.is_empty() {
            let chart = self.unit_charts;
            self.unit_charts += 1;
            for p in m.templates.keys() {
                self.units.insert(
                    p.clone(),
                    Unit {
                        chart,
                        carries: false,
                        files: 0,
                    },
                );
            }
            for p in carriers {
                self.units.insert(
                    p.clone(),
                    Unit {
                        chart,
                        carries: true,
                        files: 0,
                    },
                );
            }
        }
        if let Ok(mut planned) = self.planned.lock() {
            planned.extend(m.templates);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        path: &Path,
        src: &Source,
        at: usize,
        gv: &str,
        doc: Option<Range<usize>>,
        kind: &str,
        message: String,
        status: Status,
        level: Option<Level>,
    ) -> bool {
        let report = ObjectReport {
            doc_index: 0,
            offset: at,
            kind: kind.to_string(),
            name: None,
            namespace: None,
            from: gv.to_string(),
            to: None,
            migration: None,
            field: None,
            status,
            findings: vec![Finding::at_level(
                codes::HELM_UNRESOLVED,
                level.unwrap_or(codes::HELM_UNRESOLVED.level),
                message,
                at,
            )],
        };
        // The same place found twice (a values file's group/version that a template also
        // reads): the later, more specific report wins.
        if self
            .handled
            .get(path)
            .is_some_and(|h| h.iter().any(|r| r.contains(&at)))
        {
            return false;
        }
        let extra = self.extra.entry(path.to_path_buf()).or_default();
        extra.retain(|e| e.report.offset != at);
        extra.push(Extra {
            report,
            doc,
            line_col: src.line_col(at),
        });
        true
    }
}

/// The reports of `out`, planned on a text with values written in, moved back to `text`
/// (the template): offsets through `map`, lines and columns counted in `text`.
fn map_back(text: &str, out: &mut Outcome, map: impl Fn(usize) -> usize) -> Option<()> {
    let src = Source::decode(text.as_bytes().to_vec()).ok()?;
    let mut positions = Vec::with_capacity(out.objects.len());
    for o in &mut out.objects {
        let item = &mut o.item;
        item.offset = map(item.offset);
        for f in &mut item.findings {
            f.offset = map(f.offset);
        }
        positions.push(
            item.findings
                .iter()
                .map(|f| src.line_col(f.offset))
                .collect(),
        );
        (o.line, o.col) = src.line_col(item.offset);
    }
    out.finding_positions = positions;
    Some(())
}

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The group/versions that serve nothing at the target, longest first.
fn gone_versions(cat: &Catalogue, window: Window) -> Vec<String> {
    let mut v: Vec<String> = cat
        .old_api_strings()
        .into_iter()
        .filter(|gv| is_gone(cat, gv, window))
        .map(str::to_string)
        .collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

fn is_gone(cat: &Catalogue, gv: &str, window: Window) -> bool {
    cat.gone_at(gv).is_some_and(|r| r <= window.target)
}

/// What replaces `gv` (for `kind`, or for each kind the catalogue lists in it).
fn replacements(cat: &Catalogue, gv: &str, kind: Option<&str>, window: Window) -> String {
    let kinds: Vec<&str> = match kind {
        Some(k) if cat.version(gv, k).is_some() => vec![k],
        _ => cat.kinds_in(gv),
    };
    let mut to: Vec<String> = kinds
        .iter()
        .filter_map(|k| match decide(cat, gv, k, window) {
            Decision::Migrate { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    to.sort();
    to.dedup();
    match to.len() {
        0 => "a served group/version (none replaces it)".into(),
        _ => to.join(" or "),
    }
}

/// Byte offsets of the group/versions of `gone` in `text`, skipping comments and
/// `.Capabilities` guards (which name an API without using it).
fn occurrences<'g>(text: &str, gone: &'g [String]) -> Vec<(usize, &'g str)> {
    let b = text.as_bytes();
    let mut out: Vec<(usize, &str)> = Vec::new();
    for gv in gone {
        for at in memchr::memmem::find_iter(b, gv.as_bytes()) {
            let end = at + gv.len();
            let before = at.checked_sub(1).map(|i| b[i]);
            let after = b.get(end).copied();
            let word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_');
            if before.is_some_and(word) || after.is_some_and(|c| c.is_ascii_alphanumeric()) {
                continue;
            }
            // A longer group/version already matched here (`extensions/v1beta1` within
            // nothing else, but `networking.k8s.io/v1beta1` vs `k8s.io/v1beta1`).
            if out.iter().any(|(o, g)| *o <= at && end <= o + g.len()) {
                continue;
            }
            if in_comment(text, at) || in_guard(text, at) {
                continue;
            }
            out.push((at, gv.as_str()));
        }
    }
    out.sort_unstable();
    out
}

/// A YAML `#` comment or a template `{{/* … */}}` comment holds `at`.
fn in_comment(text: &str, at: usize) -> bool {
    let start = crate::source::line_start(text, at);
    let line = &text[start..at];
    let hash = line.trim_start().starts_with('#') || line.contains(" #");
    let open = text[..at]
        .rfind("{{/*")
        .or_else(|| text[..at].rfind("{{- /*"));
    let block = open.is_some_and(|o| !text[o..at].contains("*/"));
    (hash && !line.contains("{{")) || block
}

/// `at` is inside an action that tests the cluster's capabilities.
fn in_guard(text: &str, at: usize) -> bool {
    let Some(open) = text[..at].rfind("{{") else {
        return false;
    };
    if text[open..at].contains("}}") {
        return false;
    }
    let close = text[at..].find("}}").map_or(text.len(), |c| at + c);
    text[open..close].contains(".Capabilities")
}

/// Whether a helper's occurrence is the fallback branch of a guard whose other branch
/// returns a served replacement.
fn helper_verdict(
    text: &str,
    at: usize,
    gv: &str,
    cat: &Catalogue,
    window: Window,
) -> (Status, Level, String) {
    let start = text[..at].rfind("define").unwrap_or(0);
    let end = text[at..].find("define").map_or(text.len(), |e| at + e);
    let body = &text[start..end];
    let guarded = body.contains(".Capabilities") || body.contains("semverCompare");
    let to = replacements(cat, gv, None, window);
    let served: Vec<&str> = to.split(" or ").filter(|t| returns(body, t)).collect();
    if guarded && !served.is_empty() {
        return (
            Status::Noted,
            Level::Info,
            format!(
                "the helper returns {gv} under a guard whose other branch returns {}: the fallback for older clusters, left as the chart has it",
                served.join(", ")
            ),
        );
    }
    (
        Status::Blocked,
        Level::Manual,
        format!(
            "the helper returns {gv}, which {} does not serve, and no guarded branch of it returns {to}: every template that includes it renders an object the cluster rejects; change the helper by hand",
            window.target
        ),
    )
}

/// Whether `body` names the group/version `gv` as a whole token: `batch/v1` is not in a
/// helper that returns only `batch/v1beta1` and `batch/v2alpha1`.
fn returns(body: &str, gv: &str) -> bool {
    memchr::memmem::find_iter(body.as_bytes(), gv.as_bytes()).any(|at| {
        !body.as_bytes()[at + gv.len()..]
            .first()
            .is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

/// The name of the `define` block that holds `at`.
fn define_at(text: &str, at: usize) -> Option<String> {
    let d = text[..at].rfind("define")?;
    quoted_after(&text[d..at], "define").map(str::to_string)
}

/// The first double-quoted string after `word` in `text`.
fn quoted_after<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let rest = &text[text.find(word)? + word.len()..];
    let rest = &rest[rest.find('"')? + 1..];
    Some(&rest[..rest.find('"')?])
}

/// The YAML document of `text` (between `---` lines) that holds `at`.
fn document_of(text: &str, at: usize) -> Range<usize> {
    let mut start = 0;
    let mut p = 0;
    while p < text.len() {
        let end = crate::source::line_end(text, p);
        if text[p..end].trim_end().starts_with("---") {
            if p > at {
                return start..p;
            }
            start = crate::source::next_line_start(text, p).max(end);
        }
        p = crate::source::next_line_start(text, p).max(end + 1);
    }
    start..text.len()
}

/// The literal `kind:` at the top level of a template document, if it is one.
fn literal_kind(doc: &str) -> Option<String> {
    doc.lines().find_map(|l| {
        let v = l.strip_prefix("kind:")?.trim();
        (!v.is_empty() && !v.contains("{{")).then(|| v.trim_matches(['"', '\'']).to_string())
    })
}

/// `{{ .Values.a.b }}` (possibly `| default …` or `quote`d): `a.b`.
fn values_path(action: &str) -> Option<String> {
    let rest = &action[action.find(".Values.")? + ".Values.".len()..];
    let path: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let path = path.trim_end_matches('.').to_string();
    (!path.is_empty()).then_some(path)
}

/// The span and string value of `path` (`a.b`) in a values file.
fn lookup_span(text: &str, path: &str) -> Option<(Range<usize>, Option<String>)> {
    let docs = parse_stream(text).ok()?;
    let mut node: &Node = &docs.first()?.root;
    for key in path.split('.') {
        node = node.get(key)?;
    }
    match &node.kind {
        NodeKind::Scalar { .. } => Some((node.span.clone(), node.as_str().map(str::to_string))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occurrences_skip_comments_guards_and_longer_names() {
        let gone = vec![
            "networking.k8s.io/v1beta1".to_string(),
            "extensions/v1beta1".to_string(),
        ];
        let text = "# apiVersion: extensions/v1beta1\n{{- if .Capabilities.APIVersions.Has \"extensions/v1beta1/Ingress\" }}\napiVersion: extensions/v1beta1\n{{/* extensions/v1beta1 */}}\nx: networking.k8s.io/v1beta1\ny: myextensions/v1beta1\n";
        let found: Vec<&str> = occurrences(text, &gone).iter().map(|(_, g)| *g).collect();
        assert_eq!(
            found,
            vec!["extensions/v1beta1", "networking.k8s.io/v1beta1"]
        );
    }

    #[test]
    fn a_helper_guard_is_a_fallback_only_when_another_branch_returns_the_replacement() {
        let cat = Catalogue::embedded().unwrap();
        let window = Window {
            target: crate::catalogue::Release::parse("1.33").unwrap(),
            min: None,
            include_deprecated: false,
        };
        // Neither branch is served at 1.33: `batch/v1` inside `batch/v1beta1` is no
        // replacement.
        let text = "{{- define \"cronjob.apiVersion\" -}}\n{{- if semverCompare \"< 1.8-0\" .Capabilities.KubeVersion.GitVersion -}}\n{{- print \"batch/v2alpha1\" }}\n{{- else -}}\n{{- print \"batch/v1beta1\" }}\n{{- end -}}\n{{- end -}}\n";
        let at = text.find("batch/v1beta1").unwrap();
        let (status, _, _) = helper_verdict(text, at, "batch/v1beta1", &cat, window);
        assert_eq!(status, Status::Blocked);
        let text = text.replace("batch/v2alpha1", "batch/v1");
        let at = text.find("batch/v1beta1").unwrap();
        let (status, _, _) = helper_verdict(&text, at, "batch/v1beta1", &cat, window);
        assert_eq!(status, Status::Noted);
        assert_eq!(define_at(&text, at).as_deref(), Some("cronjob.apiVersion"));
    }

    #[test]
    fn values_paths_and_documents() {
        assert_eq!(
            values_path("{{ .Values.rbac.apiVersion | default \"v1\" }}").as_deref(),
            Some("rbac.apiVersion")
        );
        assert_eq!(values_path("{{ .Release.Name }}"), None);
        let text = "a: 1\n---\nb: 2\n---\nc: 3\n";
        assert_eq!(&text[document_of(text, 10)], "b: 2\n");
        assert_eq!(
            lookup_span("rbac:\n  apiVersion: v1beta1\n", "rbac.apiVersion"),
            Some((20..27, Some("v1beta1".into())))
        );
    }
}
