//! A templated `kind:` under a literal removed apiVersion (`apiVersion: apps/v1beta1` +
//! `kind: {{ .Values.kind }}`, memcached's StatefulSet-or-Deployment switch).
//!
//! The template is migrated when every kind the chart's values give (values files and
//! `ci/`, the same discipline as a values-path apiVersion in `sources`) migrates to one
//! replacement apiVersion. It is planned once per kind with the kind written in (the whole
//! plain pipeline, self-verification included), and the action is put back. Edits that every
//! workload kind of the old group/version plans alike are written as they are (the apiVersion,
//! the selector, labels); the others are written inside `{{- if eq .Values.<path> "<Kind>" }}`
//! … `{{- end }}`, one guard per kind the values give, so each renders only for its kind. The
//! result must give, for each of those kinds with the guards resolved, exactly its own plan,
//! and a second run must change nothing. Anything else stays reported as before.
//!
//! A kind set outside the chart (`--set kind=…`) renders the new apiVersion with the edits
//! every workload kind shares: a valid object, without the old defaults that only that kind
//! pinned (the info finding at the `kind:` line says which kinds were planned).

use std::collections::HashMap;
use std::ops::Range;

use super::sources::{ChartFile, Migrations};
use crate::catalogue::codes;
use crate::catalogue::{Catalogue, Decision, Level, Window, decide};
use crate::engine::{Context, Outcome};
use crate::kustomize::Role;
use crate::plan::{Finding, Status};
use crate::source::{Source, line_end, next_line_start};

/// The workload kinds a chart switches between with one `kind:` value: the edits they all
/// plan alike need no guard.
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];

/// Migrate the templates whose top-level `kind:` is exactly `{{ .Values.<vpath> }}`.
pub(super) fn templated_kinds(
    m: &mut Migrations,
    vpath: &str,
    templates: &[ChartFile],
    values: &[ChartFile],
    cat: &Catalogue,
    window: Window,
) {
    // The kinds the chart's values give, the default values first.
    let mut kinds: Vec<String> = Vec::new();
    let mut default = false;
    let mut sorted: Vec<&ChartFile> = values.iter().collect();
    sorted.sort_by_key(|f| f.path.file_name().is_none_or(|n| n != "values.yaml"));
    for f in sorted {
        let Some((_, Some(v))) = super::lookup_span(&f.src.text, vpath) else {
            continue;
        };
        default |= f.path.file_name().is_some_and(|n| n == "values.yaml");
        if !kinds.contains(&v) {
            kinds.push(v);
        }
    }
    if !default || kinds.is_empty() {
        return;
    }
    let ctx = Context {
        catalogue: cat,
        window,
        prefilter: None,
    };
    for f in templates {
        let uses = kind_uses(&f.src.text, vpath);
        if uses.is_empty() || !f.walked || m.templates.contains_key(&f.path) {
            continue;
        }
        if let Some((out, docs)) = template(f, &uses, vpath, &kinds, &ctx) {
            m.handled.entry(f.path.clone()).or_default().extend(docs);
            m.templates.insert(f.path.clone(), out);
        }
    }
}

/// The outcome of the template `f` migrated under each kind, and the documents it covers.
fn template(
    f: &ChartFile,
    uses: &[Range<usize>],
    vpath: &str,
    kinds: &[String],
    ctx: &Context,
) -> Option<(Outcome, Vec<Range<usize>>)> {
    let (cat, window) = (ctx.catalogue, ctx.window);
    let text = &f.src.text;
    // Every use under a literal group/version that is gone, every kind migrating it to one
    // replacement.
    let mut gvs = Vec::new();
    for u in uses {
        let doc = super::document_of(text, u.start);
        let gv = literal_api(&text[doc.clone()])?;
        if !super::is_gone(cat, &gv, window) {
            return None;
        }
        gvs.push((doc, gv));
    }
    let mut to: Option<String> = None;
    for k in kinds {
        for (_, gv) in &gvs {
            match decide(cat, gv, k, window) {
                Decision::Migrate { to: t, .. } if to.as_ref().is_none_or(|x| *x == t) => {
                    to = Some(t)
                }
                _ => return None,
            }
        }
    }
    let to = to?;
    // The reference kinds: those the values give, and the other workload kinds of the same
    // group/version that move to the same place and plan here.
    let mut plans: Vec<(String, String, Outcome)> = Vec::new();
    for k in kinds {
        let (o, out) = plan_kind(text, uses, k, ctx)?;
        plans.push((k.clone(), o, out));
    }
    for k in WORKLOADS.iter().filter(|k| !kinds.iter().any(|v| v == *k)) {
        let same = gvs.iter().all(|(_, gv)| {
            matches!(decide(cat, gv, k, window), Decision::Migrate { to: t, .. } if t == to)
        });
        if same && let Some((o, out)) = plan_kind(text, uses, k, ctx) {
            plans.push((k.to_string(), o, out));
        }
    }
    // When another workload kind plans deletions of its own, the kinds the values give
    // alone decide what is shared.
    let given = kinds.len();
    let output = match merge(text, &plans, given, vpath) {
        Some(o) => o,
        None => {
            plans.truncate(given);
            merge(text, &plans, given, vpath)?
        }
    };
    // A second run reads the result as a template and changes nothing.
    let again = crate::engine::process_as(output.clone().into_bytes(), ctx, Role::Plain);
    if again.error.is_some() || again.rewrite.is_some() {
        return None;
    }
    let planned: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let shared: Vec<String> = plans.iter().map(|(k, ..)| k.clone()).collect();
    let (_, _, mut out) = plans.swap_remove(0);
    if !out
        .objects
        .iter()
        .all(|o| matches!(o.item.status, Status::Migrated | Status::Noted))
    {
        return None;
    }
    let src = Source::decode(text.as_bytes().to_vec()).ok()?;
    for u in uses {
        let doc = super::document_of(text, u.start);
        let Some(i) = out
            .objects
            .iter()
            .position(|o| doc.contains(&o.item.offset))
        else {
            continue;
        };
        let msg = format!(
            "the kind comes from `.Values.{vpath}`, which the chart's values set to {}: migrated for each, the edits that only one kind needs written under `{{{{- if eq .Values.{vpath} \"…\" }}}}`; a kind set outside the chart renders {to} with only the edits {} all need",
            planned.join(", "),
            shared.join(", "),
        );
        out.objects[i].item.findings.push(Finding::at_level(
            codes::HELM_UNRESOLVED,
            Level::Info,
            msg,
            u.start,
        ));
        if let Some(p) = out.finding_positions.get_mut(i) {
            p.push(src.line_col(u.start));
        }
    }
    out.rewrite = Some((text.clone(), output));
    Some((out, gvs.into_iter().map(|(d, _)| d).collect()))
}

/// The actions of the top-level `kind:` lines that are exactly `{{ .Values.<vpath> }}`.
pub(super) fn kind_uses(text: &str, vpath: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for line in kind_lines(text) {
        let end = line_end(text, line);
        let v = &text[line + "kind:".len()..end];
        let a = v.trim();
        let inner = a
            .strip_prefix("{{")
            .and_then(|a| a.strip_suffix("}}"))
            .map(str::trim);
        if inner.is_some_and(|i| i == format!(".Values.{vpath}")) {
            let start = line + "kind:".len() + (v.len() - v.trim_start().len());
            out.push(start..start + a.len());
        }
    }
    out
}

/// The start of each line that holds a top-level `kind:` key.
fn kind_lines(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < text.len() {
        if text[p..].starts_with("kind:") {
            out.push(p);
        }
        p = next_line_start(text, p);
    }
    out
}

/// The literal top-level apiVersion of a document.
fn literal_api(doc: &str) -> Option<String> {
    doc.lines()
        .find_map(|l| l.strip_prefix("apiVersion:"))
        .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
        .filter(|v| !v.is_empty() && !v.contains("{{"))
}

/// Plan `text` with every use written as `kind` (the whole pipeline of a template), every
/// object of the uses' documents migrated; the actions put back.
fn plan_kind(
    text: &str,
    uses: &[Range<usize>],
    kind: &str,
    ctx: &Context,
) -> Option<(String, Outcome)> {
    let mut subst = text.to_string();
    for u in uses.iter().rev() {
        subst.replace_range(u.clone(), kind);
    }
    let mut out = crate::engine::process_as(subst.clone().into_bytes(), ctx, Role::Plain);
    if out.error.is_some() {
        return None;
    }
    let (_, output) = out.rewrite.take()?;
    let map = |off: usize| -> usize {
        let mut o = off;
        for u in uses.iter().filter(|u| u.start < off) {
            o = match off >= u.start + kind.len() {
                true => o + u.len() - kind.len(),
                false => u.start,
            };
        }
        o
    };
    for u in uses {
        let doc = super::document_of(text, u.start);
        let mine: Vec<_> = out
            .objects
            .iter()
            .filter(|o| doc.contains(&map(o.item.offset)))
            .collect();
        if !mine.iter().any(|o| o.item.status == Status::Migrated)
            || !mine
                .iter()
                .all(|o| matches!(o.item.status, Status::Migrated | Status::Noted))
        {
            return None;
        }
    }
    // Put the actions back on the same top-level `kind:` lines.
    let before = kind_lines(text);
    let after = kind_lines(&output);
    if before.len() != after.len() {
        return None;
    }
    let mut restored = output.clone();
    for u in uses.iter().rev() {
        let n = before.iter().rposition(|l| *l <= u.start)?;
        let line = after[n];
        let v = &output[line + "kind:".len()..line_end(&output, line)];
        let lead = v.len() - v.trim_start().len();
        if v.trim() != kind {
            return None;
        }
        let start = line + "kind:".len() + lead;
        restored.replace_range(start..start + kind.len(), &text[u.clone()]);
    }
    super::map_back(text, &mut out, map)?;
    Some((restored, out))
}

/// One template from the plans of each kind (`plans[..given]` the kinds the values give,
/// the rest the other workload kinds): lines every plan inserts alike as they are, the rest
/// of a given kind's under a guard on its kind. `None` when the plans delete different
/// lines, or the result with the guards resolved is not each given kind's own plan.
fn merge(
    text: &str,
    plans: &[(String, String, Outcome)],
    given: usize,
    vpath: &str,
) -> Option<String> {
    if plans.iter().all(|(_, o, _)| *o == plans[0].1) {
        return Some(plans[0].1.clone());
    }
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let old: Vec<&str> = text.split_inclusive('\n').collect();
    let diffs: Vec<Diff> = plans
        .iter()
        .map(|(_, o, _)| diff(&old, &o.split_inclusive('\n').collect::<Vec<_>>()))
        .collect();
    if diffs.iter().any(|d| d.deleted != diffs[0].deleted) {
        return None;
    }
    let mut merged = String::with_capacity(text.len() + 256);
    let mut resolved: Vec<String> = vec![String::with_capacity(text.len() + 256); given];
    for i in 0..=old.len() {
        let ins: Vec<&[String]> = diffs
            .iter()
            .map(|d| d.inserted.get(&i).map_or(&[][..], Vec::as_slice))
            .collect();
        // Lines every plan inserts alike, first and last; a given kind's others guarded.
        let common = (0..ins.iter().map(|l| l.len()).min().unwrap_or(0))
            .take_while(|n| ins.iter().all(|l| l[*n] == ins[0][*n]))
            .count();
        let tail = (0..ins.iter().map(|l| l.len() - common).min().unwrap_or(0))
            .take_while(|n| {
                ins.iter()
                    .all(|l| l[l.len() - 1 - n] == ins[0][ins[0].len() - 1 - n])
            })
            .count();
        let push_all = |s: &str, merged: &mut String, resolved: &mut Vec<String>| {
            merged.push_str(s);
            resolved.iter_mut().for_each(|r| r.push_str(s));
        };
        for l in &ins[0][..common] {
            push_all(l, &mut merged, &mut resolved);
        }
        for (k, lines) in ins.iter().enumerate().take(given) {
            let own = &lines[common..lines.len() - tail];
            if own.is_empty() {
                continue;
            }
            let indent: String = own[0].chars().take_while(|c| *c == ' ').collect();
            merged.push_str(&format!(
                "{indent}{{{{- if eq .Values.{vpath} {:?} }}}}{nl}",
                plans[k].0
            ));
            for l in own {
                if !l.ends_with('\n') {
                    return None;
                }
                merged.push_str(l);
                resolved[k].push_str(l);
            }
            merged.push_str(&format!("{indent}{{{{- end }}}}{nl}"));
        }
        for l in &ins[0][ins[0].len() - tail..] {
            push_all(l, &mut merged, &mut resolved);
        }
        if i < old.len() && !diffs[0].deleted.contains(&i) {
            push_all(old[i], &mut merged, &mut resolved);
        }
    }
    plans[..given]
        .iter()
        .zip(&resolved)
        .all(|((_, o, _), r)| o == r)
        .then_some(merged)
}

/// The lines of one plan against the original: which original lines it deletes, and the
/// lines it inserts before each original line (`old.len()`: at the end).
struct Diff {
    deleted: Vec<usize>,
    inserted: HashMap<usize, Vec<String>>,
}

/// A longest-common-subsequence line diff (templates are a few hundred lines).
fn diff(old: &[&str], new: &[&str]) -> Diff {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = match old[i] == new[j] {
                true => lcs[i + 1][j + 1] + 1,
                false => lcs[i + 1][j].max(lcs[i][j + 1]),
            };
        }
    }
    let mut d = Diff {
        deleted: Vec::new(),
        inserted: HashMap::new(),
    };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            d.inserted.entry(i).or_default().push(new[j].to_string());
            j += 1;
        } else {
            d.deleted.push(i);
            i += 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_action_is_found_only_whole_on_a_top_level_line() {
        let text = "apiVersion: apps/v1beta1\nkind: {{ .Values.kind }}\nspec:\n  kind: {{ .Values.kind }}\n---\nkind: {{ .Values.kind | default \"x\" }}\n";
        let uses = kind_uses(text, "kind");
        assert_eq!(uses.len(), 1);
        assert_eq!(&text[uses[0].clone()], "{{ .Values.kind }}");
    }

    #[test]
    fn a_line_diff_names_insertions_and_deletions() {
        let old = ["a\n", "b\n", "c\n"];
        let new = ["x\n", "b\n", "y\n", "c\n", "z\n"];
        let d = diff(&old, &new);
        assert_eq!(d.deleted, [0]);
        assert_eq!(d.inserted[&0], ["x\n"]);
        assert_eq!(d.inserted[&2], ["y\n"]);
        assert_eq!(d.inserted[&3], ["z\n"]);
    }

    #[test]
    fn pins_one_kind_plans_alone_go_under_its_guard() {
        let text = "kind: {{ .Values.kind }}\nspec:\n  replicas: 1\n";
        let plan = |k: &str, extra: &str| {
            (
                k.to_string(),
                format!("kind: {{{{ .Values.kind }}}}\nspec:\n  replicas: 1\n  sel: a\n{extra}"),
                Outcome::default(),
            )
        };
        let plans = [
            plan("StatefulSet", "  updateStrategy: OnDelete\n"),
            plan("Deployment", "  revisionHistoryLimit: 2\n"),
        ];
        // Only StatefulSet given: Deployment's pin is left out, the shared line kept.
        let merged = merge(text, &plans, 1, "kind").unwrap();
        assert_eq!(
            merged,
            "kind: {{ .Values.kind }}\nspec:\n  replicas: 1\n  sel: a\n  {{- if eq .Values.kind \"StatefulSet\" }}\n  updateStrategy: OnDelete\n  {{- end }}\n"
        );
        let both = merge(text, &plans, 2, "kind").unwrap();
        assert!(both.contains("  {{- if eq .Values.kind \"Deployment\" }}\n  revisionHistoryLimit: 2\n  {{- end }}\n"), "{both}");
    }
}
