//! Migrating an apiVersion that a chart's templates take from elsewhere: a values file
//! (`apiVersion: {{ .Values.deployment.apiVersion }}`, `apiVersion:
//! rbac.authorization.k8s.io/{{ .Values.rbac.apiVersion }}`) or a helper (`apiVersion: {{
//! template "cronjob.apiVersion" . }}`).
//!
//! Such a source (a values path, a helper) is rewritten only when every use of it in the
//! chart (templates and `.tpl` helpers, any file under `templates/`) is the whole templated
//! part of a template's top-level `apiVersion:`, and every value it can render (each values
//! file's setting, each branch of the helper) plans to the same template once the object is
//! migrated: the template is planned as if the value were written literally (the whole
//! pipeline of plain mode, self-verification included), its edits (selector, pins, …) are
//! kept, the apiVersion's action is put back, and the value itself is rewritten where it is
//! set. The result is checked again under the old value (the edits are valid there too, so a
//! user's override to the old value renders the same object, only older) and under the new
//! one (a second run changes nothing). Anything else is left to the chart scan's reports.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;

use crate::catalogue::codes;
use crate::catalogue::{Catalogue, Decision, Level, Window, decide};
use crate::engine::{Context, Outcome};
use crate::kustomize::Role;
use crate::plan::{Finding, ObjectReport, Status};
use crate::source::Source;

/// What the chart's files get when a source is migrated.
#[derive(Default)]
pub(super) struct Migrations {
    /// Templates: their whole outcome, planned with the value written in.
    pub templates: HashMap<PathBuf, Outcome>,
    /// Values files and helpers: edits of their text, each with its report.
    pub sources: HashMap<PathBuf, Vec<SourceEdit>>,
    /// Places the chart scan must not report: they are rewritten.
    pub handled: HashMap<PathBuf, Vec<Range<usize>>>,
}

pub(super) struct SourceEdit {
    pub range: Range<usize>,
    pub text: String,
    pub report: ObjectReport,
}

/// What a source is, for its reports.
struct Place {
    /// "`.Values.a.b`", "the helper `x`".
    what: String,
    kind: &'static str,
    name: Option<String>,
    /// A helper whose branches a `.Capabilities`/`semverCompare` guard chooses.
    guarded: bool,
}

/// A file of the chart, read.
pub(super) struct ChartFile {
    pub path: PathBuf,
    pub src: Source,
    /// Among the files of the run (it can be written).
    pub walked: bool,
}

/// Where a source's value is used: `apiVersion: <prefix>{{ action }}<suffix>`.
#[derive(Clone)]
struct Use {
    /// The action's bytes in the template.
    action: Range<usize>,
    /// How many top-level `apiVersion:` lines come before its line.
    ordinal: usize,
    prefix: String,
    suffix: String,
    /// The literal `kind:` of its document.
    kind: Option<String>,
}

/// A source: what it renders, and where each value is set.
struct Candidate {
    /// A value it can render (a version half when the template adds a prefix).
    value: String,
    /// Where it is set: file index and byte range of the value's text there.
    places: Vec<(usize, Range<usize>)>,
}

impl Migrations {
    /// A values path: `path` (`deployment.apiVersion`) with the uses found in `templates`.
    pub(super) fn values_path(
        &mut self,
        vpath: &str,
        templates: &[ChartFile],
        values: &[ChartFile],
        cat: &Catalogue,
        window: Window,
    ) {
        let Some(uses) = values_uses(vpath, templates) else {
            return;
        };
        let mut candidates: Vec<Candidate> = Vec::new();
        for (i, f) in values.iter().enumerate() {
            let Some((span, Some(v))) = super::lookup_span(&f.src.text, vpath) else {
                continue;
            };
            let Some(inner) = f.src.text[span.clone()].find(v.as_str()) else {
                return;
            };
            let at = span.start + inner;
            let place = (i, at..at + v.len());
            match candidates.iter_mut().find(|c| c.value == v) {
                Some(c) => c.places.push(place),
                None => candidates.push(Candidate {
                    value: v,
                    places: vec![place],
                }),
            }
        }
        // The chart's default values set it: a value set only outside the chart is not
        // the chart's to change. The default first: the template's report names it.
        let default = |c: &Candidate| {
            c.places.iter().any(|(i, _)| {
                values[*i]
                    .path
                    .file_name()
                    .is_some_and(|n| n == "values.yaml")
            })
        };
        candidates.sort_by_key(|c| !default(c));
        if !candidates.first().is_some_and(default) {
            return;
        }
        let what = format!("`.Values.{vpath}`");
        let place = Place {
            what,
            kind: "value",
            name: Some(vpath.to_string()),
            guarded: false,
        };
        self.migrate(&place, &uses, &candidates, templates, values, cat, window);
    }

    /// A helper `name` defined in `files[file]` (a `.tpl`), returning the group/versions
    /// at `literals` (byte ranges there), `guarded` when a guard chooses between them.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn helper(
        &mut self,
        name: &str,
        file: usize,
        literals: &[Range<usize>],
        guarded: bool,
        files: &[ChartFile],
        cat: &Catalogue,
        window: Window,
    ) {
        let Some(uses) = helper_uses(name, files) else {
            return;
        };
        let mut candidates: Vec<Candidate> = Vec::new();
        for r in literals {
            let v = files[file].src.text[r.clone()].to_string();
            match candidates.iter_mut().find(|c| c.value == v) {
                Some(c) => c.places.push((file, r.clone())),
                None => candidates.push(Candidate {
                    value: v,
                    places: vec![(file, r.clone())],
                }),
            }
        }
        let place = Place {
            what: format!("the helper `{name}`"),
            kind: "helper",
            name: Some(name.to_string()),
            guarded,
        };
        self.migrate(&place, &uses, &candidates, files, files, cat, window);
    }

    /// Plan every template that uses the source with each value; when all agree, keep the
    /// templates' outcomes and the sources' edits.
    #[allow(clippy::too_many_arguments)]
    fn migrate(
        &mut self,
        place: &Place,
        uses: &BTreeMap<usize, Vec<Use>>,
        candidates: &[Candidate],
        templates: &[ChartFile],
        sources: &[ChartFile],
        cat: &Catalogue,
        window: Window,
    ) {
        if uses.is_empty() || candidates.is_empty() {
            return;
        }
        if uses
            .keys()
            .any(|t| !templates[*t].walked || self.templates.contains_key(&templates[*t].path))
            || candidates
                .iter()
                .flat_map(|c| &c.places)
                .any(|(i, _)| !sources[*i].walked)
        {
            return;
        }
        // The new value: the same for every use and every removed value.
        let mut new: Option<String> = None;
        let mut olds: Vec<&Candidate> = Vec::new();
        for c in candidates {
            let (mut gone, mut served) = (0, 0);
            for u in uses.values().flatten() {
                let gv = format!("{}{}{}", u.prefix, c.value, u.suffix);
                match gone_to(cat, &gv, u.kind.as_deref(), window) {
                    Some(Some(to)) => {
                        let Some(v) = to
                            .strip_prefix(u.prefix.as_str())
                            .and_then(|v| v.strip_suffix(u.suffix.as_str()))
                        else {
                            return;
                        };
                        if new.as_ref().is_some_and(|n| n != v) {
                            return;
                        }
                        new = Some(v.to_string());
                        gone += 1;
                    }
                    Some(None) => return,
                    None => served += 1,
                }
            }
            if gone > 0 && served > 0 {
                return;
            }
            if gone > 0 {
                olds.push(c);
            }
        }
        let Some(new) = new else { return };
        // A served value other than the new one: the chart renders more than one version
        // on purpose; left to a human.
        if candidates
            .iter()
            .any(|c| c.value != new && !olds.iter().any(|o| o.value == c.value))
        {
            return;
        }
        let ctx = Context {
            catalogue: cat,
            window,
            prefilter: None,
        };
        let mut outcomes: Vec<(usize, Outcome)> = Vec::new();
        let mut order: Vec<&usize> = uses.keys().collect();
        order.sort();
        for t in order {
            let us = &uses[t];
            let f = &templates[*t];
            let text = &f.src.text;
            let Some((output, mut out)) = planned(text, us, &olds[0].value, &ctx, true) else {
                return;
            };
            // Every value the chart can render gives the same template: the removed ones
            // plan the same edits, the new one (a branch that returns it) plans none.
            for c in candidates {
                let old = olds.iter().any(|o| o.value == c.value);
                match planned(text, us, &c.value, &ctx, old) {
                    Some((o, _)) if o == output => {}
                    _ => return,
                }
            }
            // Under the old value the edits hold (a user's override renders the same
            // object, only older); under the new one a second run changes nothing.
            let Some(again) = relocate(&output, us) else {
                return;
            };
            for o in &olds {
                match planned(&output, &again, &o.value, &ctx, true) {
                    Some((o2, _)) if o2 == output => {}
                    _ => return,
                }
            }
            match planned(&output, &again, &new, &ctx, false) {
                Some((o2, _)) if o2 == output => {}
                _ => return,
            }
            // A helper's template may need no edit of its own.
            if output != *text {
                out.rewrite = Some((text.clone(), output));
            }
            outcomes.push((*t, out));
        }
        // A helper's branches are the in-template guard's case (`through_guard`).
        let code = match place.guarded {
            true => codes::HELM_GUARDED,
            false => codes::HELM_UNRESOLVED,
        };
        // Where the value is set.
        let mut places: Vec<String> = Vec::new();
        let mut edits: Vec<(usize, Range<usize>, SourceEdit)> = Vec::new();
        for c in &olds {
            for (i, r) in &c.places {
                let s = &sources[*i];
                // The whole line: the scan reports a value at its quote, a group/version
                // within it.
                let line = crate::source::line_start(&s.src.text, r.start)
                    ..crate::source::line_end(&s.src.text, r.start);
                let (l, col) = s.src.line_col(r.start);
                places.push(format!("{}:{l}:{col}", s.path.display()));
                let gv = uses
                    .values()
                    .flatten()
                    .next()
                    .map(|u| format!("{}{}{}", u.prefix, c.value, u.suffix))
                    .unwrap_or_default();
                let to = uses
                    .values()
                    .flatten()
                    .next()
                    .map(|u| format!("{}{new}{}", u.prefix, u.suffix))
                    .unwrap_or_default();
                let users: Vec<String> = uses
                    .iter()
                    .flat_map(|(t, us)| {
                        us.iter().map(|u| {
                            let (l, _) = templates[*t].src.line_col(u.action.start);
                            format!("{}:{l}", templates[*t].path.display())
                        })
                    })
                    .collect();
                edits.push((
                    *i,
                    line,
                    SourceEdit {
                        range: r.clone(),
                        text: new.clone(),
                        report: ObjectReport {
                            doc_index: 0,
                            offset: r.start,
                            kind: place.kind.into(),
                            name: place.name.clone(),
                            namespace: None,
                            from: gv.clone(),
                            to: Some(to.clone()),
                            migration: None,
                            field: None,
                            status: Status::Noted,
                            findings: vec![Finding::at_level(
                                code,
                                Level::Info,
                                format!(
                                    "{} gives {gv}, not served at {}: rewrote `{}` to `{new}` here, for every use of it is the apiVersion of an object migrated to {to} ({})",
                                    place.what,
                                    window.target,
                                    c.value,
                                    users.join(", ")
                                ),
                                r.start,
                            )],
                        },
                    },
                ));
            }
        }
        places.sort();
        places.dedup();
        for (t, mut out) in outcomes {
            let f = &templates[t];
            for u in &uses[&t] {
                let value_at = u.action.start - u.prefix.len();
                if let Some(i) = out.objects.iter().position(|o| o.item.offset == value_at) {
                    let msg = format!(
                        "the apiVersion comes from {}: kubemig rewrote it where it is set ({}) and migrated this object under it; a value set outside the chart (--set, -f) to the old version renders this object, still valid, under that version",
                        place.what,
                        places.join(", ")
                    );
                    out.objects[i].item.findings.push(Finding::at_level(
                        code,
                        Level::Info,
                        msg,
                        value_at,
                    ));
                    if let Some(p) = out.finding_positions.get_mut(i) {
                        p.push(f.src.line_col(value_at));
                    }
                }
                let end = crate::source::line_end(&f.src.text, u.action.start);
                self.handled
                    .entry(f.path.clone())
                    .or_default()
                    .push(value_at..end);
            }
            self.templates.insert(f.path.clone(), out);
        }
        for (i, line, e) in edits {
            let p = sources[i].path.clone();
            self.handled.entry(p.clone()).or_default().push(line);
            self.sources.entry(p).or_default().push(e);
        }
    }
}

/// `Some(Some(to))`: `gv` is gone at the target and a `kind` object migrates to `to`;
/// `Some(None)`: gone, and not migrated (no literal kind, no served replacement); `None`:
/// served.
fn gone_to(
    cat: &Catalogue,
    gv: &str,
    kind: Option<&str>,
    window: Window,
) -> Option<Option<String>> {
    if !super::is_gone(cat, gv, window) {
        return None;
    }
    match kind.map(|k| decide(cat, gv, k, window)) {
        Some(Decision::Migrate { to, .. }) => Some(Some(to)),
        _ => Some(None),
    }
}

/// Plan `text` with every use's action replaced by `value` (the whole pipeline of a
/// template, self-verification included), and put the actions back. `None` when the file
/// cannot be processed, or (`migrated`) the object at a use is not migrated as a whole.
fn planned(
    text: &str,
    uses: &[Use],
    value: &str,
    ctx: &Context,
    migrated: bool,
) -> Option<(String, Outcome)> {
    let mut subst = text.to_string();
    let mut sorted: Vec<&Use> = uses.iter().collect();
    sorted.sort_by_key(|u| std::cmp::Reverse(u.action.start));
    for u in &sorted {
        subst.replace_range(u.action.clone(), value);
    }
    let mut out = crate::engine::process_as(subst.clone().into_bytes(), ctx, Role::Plain);
    if out.error.is_some() {
        return None;
    }
    let output = match out.rewrite.take() {
        Some((_, new)) => new,
        None => subst.clone(),
    };
    // Offsets in the substituted text, back to the template's.
    let map = |off: usize| -> usize {
        let mut o = off as isize;
        for u in uses.iter().filter(|u| u.action.start < off) {
            let shift = u.action.len() as isize - value.len() as isize;
            if off >= u.action.start + value.len() {
                o += shift;
            } else {
                o = u.action.start as isize;
            }
        }
        o.max(0) as usize
    };
    let mut restored = output;
    let mut objects_ok = true;
    for u in uses.iter().filter(|_| migrated) {
        let value_at = u.action.start - u.prefix.len();
        let gv = format!("{}{value}{}", u.prefix, u.suffix);
        let Some(obj) = out
            .objects
            .iter()
            .find(|o| map(o.item.offset) == value_at && o.item.from == gv)
        else {
            objects_ok = false;
            continue;
        };
        let doc = super::document_of(&subst, obj.item.offset);
        let whole = out.objects.iter().all(|o| {
            !doc.contains(&o.item.offset)
                || matches!(o.item.status, Status::Migrated | Status::Noted)
        });
        if obj.item.status != Status::Migrated || !whole {
            objects_ok = false;
        }
    }
    if !objects_ok {
        return None;
    }
    // Put the actions back, last first: the `ordinal`-th top-level apiVersion line.
    let mut by_ordinal: Vec<&Use> = uses.iter().collect();
    by_ordinal.sort_by_key(|u| std::cmp::Reverse(u.ordinal));
    for u in by_ordinal {
        let line = api_lines(&restored).into_iter().nth(u.ordinal)?;
        let value = value_range(&restored, line);
        let v = &restored[value.clone()];
        let mid = v
            .strip_prefix(u.prefix.as_str())?
            .strip_suffix(u.suffix.as_str())?;
        let start = value.start + u.prefix.len();
        let end = start + mid.len();
        restored.replace_range(start..end, &text[u.action.clone()]);
    }
    super::map_back(text, &mut out, map)?;
    Some((restored, out))
}

/// The start of each line that holds a top-level `apiVersion:` key.
fn api_lines(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < text.len() {
        let end = crate::source::line_end(text, p);
        if text[p..end].starts_with("apiVersion:") {
            out.push(p);
        }
        p = crate::source::next_line_start(text, p).max(end + 1);
    }
    out
}

/// The value of the `apiVersion:` line at `line`, trimmed.
fn value_range(text: &str, line: usize) -> Range<usize> {
    let end = crate::source::line_end(text, line);
    let start = line + "apiVersion:".len();
    let v = &text[start..end];
    let lead = v.len() - v.trim_start().len();
    start + lead..start + v.trim_end().len()
}

/// The uses of an apiVersion in `text` whose value holds exactly one action, `is_source`.
fn api_uses(text: &str, is_source: impl Fn(&str) -> bool) -> Vec<Use> {
    let mut out = Vec::new();
    for (ordinal, line) in api_lines(text).into_iter().enumerate() {
        let value = value_range(text, line);
        let v = &text[value.clone()];
        let (Some(open), Some(close)) = (v.find("{{"), v.rfind("}}")) else {
            continue;
        };
        let close = close + 2;
        if v[open + 2..]
            .find("{{")
            .is_some_and(|o| open + 2 + o < close)
            || close < open
        {
            continue;
        }
        if !is_source(&v[open..close]) {
            continue;
        }
        let (prefix, suffix) = (&v[..open], &v[close..]);
        if prefix.contains(['"', '\'', ' ', '#']) || suffix.contains(['"', '\'', ' ', '#']) {
            continue;
        }
        out.push(Use {
            action: value.start + open..value.start + close,
            ordinal,
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            kind: super::literal_kind(&text[super::document_of(text, line)]),
        });
    }
    out
}

/// The uses found again in a rewritten template (same ordinals, same actions).
fn relocate(text: &str, uses: &[Use]) -> Option<Vec<Use>> {
    let lines = api_lines(text);
    uses.iter()
        .map(|u| {
            let line = *lines.get(u.ordinal)?;
            let value = value_range(text, line);
            let start = value.start + u.prefix.len();
            Some(Use {
                action: start..start + u.action.len(),
                ..u.clone()
            })
        })
        .collect()
}

/// `{{ .Values.a.b }}` exactly (no trimming), or the value checked by `required` (`{{
/// required "msg" .Values.a.b }}`, `{{ .Values.a.b | required "msg" }}`): once set, it
/// renders the value itself.
fn is_values_action(action: &str, vpath: &str) -> bool {
    let Some(inner) = action
        .strip_prefix("{{")
        .and_then(|a| a.strip_suffix("}}"))
        .map(str::trim)
    else {
        return false;
    };
    let is_path = |i: &str| i.strip_prefix("$").unwrap_or(i) == format!(".Values.{vpath}");
    if is_path(inner) {
        return true;
    }
    if let Some(rest) = inner.strip_prefix("required ")
        && let Some((_, path)) = quoted_message(rest.trim_start())
    {
        return is_path(path.trim());
    }
    inner.split_once('|').is_some_and(|(path, call)| {
        is_path(path.trim())
            && call
                .trim()
                .strip_prefix("required ")
                .and_then(|m| quoted_message(m.trim_start()))
                .is_some_and(|(_, rest)| rest.trim().is_empty())
    })
}

/// A double-quoted string literal at the start of `text` with no escapes or actions in
/// it, and the text after it.
fn quoted_message(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('"')?;
    let end = body.find('"')?;
    let msg = &body[..end];
    (!msg.contains(['\\', '{', '}'])).then(|| (msg, &body[end + 1..]))
}

/// Every use of `.Values.<vpath>` in the chart's files, by template: `None` when one is not
/// the whole templated part of an apiVersion (or the values above it are read whole).
fn values_uses(vpath: &str, files: &[ChartFile]) -> Option<BTreeMap<usize, Vec<Use>>> {
    let mut uses: BTreeMap<usize, Vec<Use>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        let text = &f.src.text;
        let found = api_uses(text, |a| is_values_action(a, vpath));
        for (at, _) in text.match_indices(".Values") {
            let rest = &text[at + ".Values".len()..];
            let path: String = rest
                .strip_prefix('.')
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            let path = path.trim_end_matches('.');
            let reads_it = path == vpath
                || path.is_empty()
                || vpath.starts_with(&format!("{path}."))
                || rest.starts_with(['[', ' ', '|', ')', '}']) && path.is_empty();
            if !reads_it {
                continue;
            }
            if path != vpath || !found.iter().any(|u| u.action.contains(&at)) {
                return None;
            }
        }
        if !found.is_empty() {
            if !f.path.to_str().is_some_and(super::is_yaml) {
                return None;
            }
            uses.insert(i, found);
        }
    }
    Some(uses)
}

/// Every use of the helper `name` (`include`/`template` of it): `None` when one is not the
/// whole templated part of an apiVersion in a template.
fn helper_uses(name: &str, files: &[ChartFile]) -> Option<BTreeMap<usize, Vec<Use>>> {
    let quoted = format!("\"{name}\"");
    let is_call = |a: &str| {
        let inner = a
            .strip_prefix("{{")
            .and_then(|a| a.strip_suffix("}}"))
            .map(str::trim)
            .unwrap_or("");
        ["include", "template"].iter().any(|w| {
            inner
                .strip_prefix(w)
                .and_then(|r| r.trim_start().strip_prefix(quoted.as_str()))
                .is_some_and(|r| matches!(r.trim(), "." | "$"))
        })
    };
    let mut uses: BTreeMap<usize, Vec<Use>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        let text = &f.src.text;
        let found = api_uses(text, is_call);
        for (at, _) in text.match_indices(quoted.as_str()) {
            if text[..at].trim_end().ends_with("define") {
                continue;
            }
            if !found.iter().any(|u| u.action.contains(&at)) {
                return None;
            }
        }
        if !found.is_empty() {
            if !f.path.to_str().is_some_and(super::is_yaml) {
                return None;
            }
            uses.insert(i, found);
        }
    }
    Some(uses)
}

/// The new text of a file with its edits (`None` when two overlap or one is out of the text).
pub(super) fn apply(text: &str, edits: &[SourceEdit]) -> Option<String> {
    let edits: Vec<crate::edit::Edit> = edits
        .iter()
        .map(|e| crate::edit::Edit {
            range: e.range.clone(),
            text: e.text.clone(),
        })
        .collect();
    crate::edit::apply(text, &edits).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> ChartFile {
        ChartFile {
            path: PathBuf::from(path),
            src: Source::decode(text.as_bytes().to_vec()).unwrap(),
            walked: true,
        }
    }

    #[test]
    fn an_apiversion_use_is_the_whole_templated_part_of_the_value() {
        let text = "a: 1\n---\napiVersion: rbac.authorization.k8s.io/{{ .Values.rbac.apiVersion }}\nkind: Role\n";
        let uses = api_uses(text, |a| is_values_action(a, "rbac.apiVersion"));
        assert_eq!(uses.len(), 1);
        let u = &uses[0];
        assert_eq!(&text[u.action.clone()], "{{ .Values.rbac.apiVersion }}");
        assert_eq!(
            (u.ordinal, u.prefix.as_str(), u.suffix.as_str()),
            (0, "rbac.authorization.k8s.io/", "")
        );
        assert_eq!(u.kind.as_deref(), Some("Role"));
        // `required` renders the value as set (katafygio); a pipeline that may render
        // another value, or a quoted value, is not the value as set.
        for v in [
            "{{ required \"A valid .Values.rbac.apiVersion entry required!\" .Values.rbac.apiVersion }}",
            "{{ .Values.rbac.apiVersion | required \"set rbac.apiVersion\" }}",
        ] {
            let text = format!("apiVersion: rbac.authorization.k8s.io/{v}\nkind: Role\n");
            let uses = api_uses(&text, |a| is_values_action(a, "rbac.apiVersion"));
            assert_eq!(uses.len(), 1, "{v}");
            assert_eq!(&text[uses[0].action.clone()], v);
        }
        for v in [
            "{{ .Values.rbac.apiVersion | default \"v1\" }}",
            "\"{{ .Values.rbac.apiVersion }}\"",
            "{{ required \"x\" .Values.rbac.apiVersion | lower }}",
            "{{ required .Values.msg .Values.rbac.apiVersion }}",
        ] {
            let text = format!("apiVersion: {v}\nkind: Role\n");
            assert!(
                api_uses(&text, |a| is_values_action(a, "rbac.apiVersion")).is_empty(),
                "{v}"
            );
        }
    }

    #[test]
    fn every_use_of_a_values_path_must_be_an_apiversion() {
        let dep = "apiVersion: {{ .Values.deployment.apiVersion }}\nkind: Deployment\n";
        let uses = values_uses("deployment.apiVersion", &[file("t/d.yaml", dep)]).unwrap();
        assert_eq!(uses[&0].len(), 1);
        // Read as data, read whole through a parent, used by a helper: not rewritten.
        for other in [
            "data:\n  v: {{ .Values.deployment.apiVersion }}\n",
            "{{- with .Values.deployment }}\nx: {{ .apiVersion }}\n{{- end }}\n",
            "x: {{ toYaml .Values | nindent 2 }}\n",
        ] {
            let files = [file("t/d.yaml", dep), file("t/o.yaml", other)];
            assert!(
                values_uses("deployment.apiVersion", &files).is_none(),
                "{other}"
            );
        }
        let helper = file(
            "t/_h.tpl",
            "{{- define \"x\" -}}{{ .Values.deployment.apiVersion }}{{- end -}}\n",
        );
        assert!(values_uses("deployment.apiVersion", &[file("t/d.yaml", dep), helper]).is_none());
        // Another path that starts alike is another value.
        let files = [
            file("t/d.yaml", dep),
            file("t/o.yaml", "r: {{ .Values.deployment.apiVersionOld }}\n"),
        ];
        assert!(values_uses("deployment.apiVersion", &files).is_some());
    }

    #[test]
    fn every_use_of_a_helper_must_be_an_apiversion() {
        let tpl = file(
            "t/_h.tpl",
            "{{- define \"c.api\" -}}\nbatch/v1beta1\n{{- end -}}\n",
        );
        let cj = file(
            "t/cj.yaml",
            "apiVersion: {{ template \"c.api\" . }}\nkind: CronJob\n",
        );
        let uses = helper_uses("c.api", &[tpl, cj]).unwrap();
        assert_eq!(uses.keys().collect::<Vec<_>>(), vec![&1]);
        let tpl = file(
            "t/_h.tpl",
            "{{- define \"c.api\" -}}\nbatch/v1beta1\n{{- end -}}\n",
        );
        let cj = file(
            "t/cj.yaml",
            "apiVersion: {{ template \"c.api\" . }}\nkind: CronJob\n",
        );
        let data = file(
            "t/cm.yaml",
            "data:\n  api: {{ include \"c.api\" . | quote }}\n",
        );
        assert!(helper_uses("c.api", &[tpl, cj, data]).is_none());
    }

    #[test]
    fn source_edits_apply_last_first_and_refuse_overlaps() {
        let edit = |r: Range<usize>, t: &str| SourceEdit {
            range: r,
            text: t.into(),
            report: ObjectReport {
                doc_index: 0,
                offset: 0,
                kind: String::new(),
                name: None,
                namespace: None,
                from: String::new(),
                to: None,
                migration: None,
                field: None,
                status: Status::Noted,
                findings: vec![],
            },
        };
        let text = "a: \"extensions/v1beta1\" # keep\nb: v1beta1\n";
        let out = apply(text, &[edit(4..22, "apps/v1"), edit(34..41, "v1")]).unwrap();
        assert_eq!(out, "a: \"apps/v1\" # keep\nb: v1\n");
        assert!(apply(text, &[edit(4..22, "x"), edit(10..12, "y")]).is_none());
    }
}
