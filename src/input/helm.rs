//! The Helm template input kind: files whose Go template actions (`{{ … }}`) make them something
//! other than YAML as written.
//!
//! Every action (and `{{/* comment */}}`) is masked with filler of exactly its byte length:
//! on a line that holds nothing but actions (and blanks, or a trailing comment) the filler
//! is spaces, so `{{- if … }}`, `{{- end }}` and `{{- toYaml … | nindent 4 }}` lines vanish
//! from the YAML structure; inside a line it is a run of `x`, so `name: {{ $fullName }}`
//! reads as a plain scalar. Line breaks inside an action are kept, so every byte offset and
//! every `line:col` of the masked text is the original's.
//!
//! The masked text is parsed and planned like any manifest. A document is rewritten only
//! when every edit its plan needs is a single-token replacement (an apiVersion value, a
//! renamed key) that touches no masked byte, or when the document has no action inside it
//! at all. Anything else (an inserted pin, a restructured field, a change to templated
//! text) is not applied: the objects are reported as needing a human, with a
//! `HELM-TEMPLATED` finding at the line that would need the change. Because masked and
//! original text have the same byte offsets, the accepted edits apply to the original.
//!
//! An apiVersion chosen by a guard (`{{ if .Capabilities.APIVersions.Has "…" }}apiVersion: …
//! {{ else }}apiVersion: …{{ end }}`, or a `semverCompare` on `.Capabilities.KubeVersion`)
//! is left alone: when one branch is served at the target the others are the chart's
//! fallback for older clusters (an info finding); when none is, a human must add one. A
//! whole object guarded by its own API (rendered only where that API is served) is left
//! alone with a warning: on the target the chart does not render it.
//!
//! Self-verification: the output is masked again, must parse, mean what the plan says,
//! and plan no further accepted edits.

mod actions;
mod place;

use std::ops::Range;

use actions::Branch;
pub use actions::{Template, is_template};

use super::{InputKind, Unreadable};
use crate::catalogue::codes;
use crate::catalogue::registry::POD_TEMPLATE_SITES;
use crate::catalogue::{Catalogue, Decision, Level, Release, Window, decide};
use crate::plan::mtree::MNode;
use crate::plan::{DocPlan, DuplicateKey, Finding, ObjectReport, Status, plan_document};
use crate::source::line_of;
use crate::yaml::path::Seg;
use crate::yaml::{Document, Node, NodeKind, Value};

/// A Helm template, its actions masked.
pub struct Helm {
    tpl: Template,
}

impl Helm {
    /// Lex and mask `src`. When the masked template with every branch in place is not
    /// YAML, the reading with only the first (or the last) branch of each `if` that is
    /// (`Template::scan_yaml`); when none is, the full reading, whose error is reported.
    pub fn scan(src: &str) -> Result<Helm, Unreadable> {
        match Template::scan_yaml(src).and_then(|read| match read {
            Ok((tpl, _)) => Ok(tpl),
            Err(_) => Template::scan(src),
        }) {
            Ok(tpl) => Ok(Helm { tpl }),
            Err(offset) => Err(Unreadable {
                offset,
                message: "this template action is not closed with `}}`".into(),
            }),
        }
    }
}

impl InputKind for Helm {
    /// The masked text: same byte offsets, no actions.
    fn yaml_text<'t>(&'t self, _src: &'t str) -> &'t str {
        &self.tpl.masked
    }

    /// A template's branches and guards span the file: it is planned whole.
    fn chunked(&self) -> bool {
        false
    }

    fn parse_error(&self, message: String) -> String {
        format!(
            "{message} (read as a Helm template, with its {{{{ … }}}} actions blanked out); kubemig cannot check this file, migrate it by hand"
        )
    }

    fn plan(
        &self,
        src: &str,
        doc: &Document,
        cat: &Catalogue,
        window: Window,
    ) -> Result<DocPlan, DuplicateKey> {
        plan_in_template(&self.tpl, src, doc, cat, window)
    }

    fn duplicate_context(&self, src: &str, dup: &DuplicateKey) -> Option<String> {
        name_condition(&self.tpl, src, dup)
    }

    /// What every document means is compared as a whole (an unchanged document of a
    /// template has no text of its own to compare: its actions may span documents).
    fn verify(
        &self,
        output: &str,
        _src: &str,
        _base: usize,
        docs: &[Document],
        expected: &[Option<MNode>],
        cat: &Catalogue,
        window: Window,
    ) -> Result<(), String> {
        let want: Vec<Value> = docs
            .iter()
            .zip(expected)
            .map(|(doc, e)| match e {
                Some(m) => m.to_value(),
                None => MNode::from_node(&doc.root).to_value(),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        verify_template(output, &want, cat, window)
            .map_err(|why| format!("self-verification failed: {why}"))
    }
}

/// Check a rewritten template: masked again it parses, means what was planned, and would
/// not change on a second run.
fn verify_template(
    output: &str,
    expected: &[Value],
    cat: &Catalogue,
    window: Window,
) -> Result<(), String> {
    let (tpl, docs) = Template::scan_yaml(output)
        .map_err(|at| format!("a template action at byte {at} is no longer closed"))?
        .map_err(|e| format!("the rewritten template does not parse: {}", e.message))?;
    if docs.len() != expected.len() {
        return Err(format!(
            "the rewritten template has {} documents, expected {}",
            docs.len(),
            expected.len()
        ));
    }
    for (doc, want) in docs.iter().zip(expected) {
        let got = MNode::from_node(&doc.root)
            .to_value()
            .map_err(|e| e.to_string())?;
        if &got != want {
            return Err(format!(
                "document {} does not mean what the migration planned",
                doc.index + 1
            ));
        }
        let again = plan_in_template(&tpl, output, doc, cat, window).map_err(|e| e.to_string())?;
        if !again.edits.is_empty() {
            return Err(format!(
                "document {} would change again on a second run",
                doc.index + 1
            ));
        }
    }
    Ok(())
}

/// Plan one document of a template (parsed from `tpl.masked`; `src` is the original).
fn plan_in_template(
    tpl: &Template,
    src: &str,
    doc: &Document,
    cat: &Catalogue,
    window: Window,
) -> Result<DocPlan, DuplicateKey> {
    let root = &doc.root;
    let apis: Vec<&Node> = root
        .entries()
        .iter()
        .filter(|(k, _)| k.as_str() == Some("apiVersion"))
        .map(|(_, v)| v)
        .collect();
    let kind = root.get("kind").and_then(Node::as_str);
    if apis.len() > 1
        && let Some(kind) = kind
    {
        let offsets: Vec<usize> = apis.iter().map(|n| n.span.start).collect();
        if let Some(branch) = tpl.choice(&offsets) {
            let guarded = Guarded {
                tpl,
                src,
                doc,
                apis: &apis,
                kind,
                branch,
                cat,
                window,
            };
            if let Some(plan) = guarded.migrate() {
                return Ok(plan);
            }
            let mut plan = DocPlan::default();
            plan.objects.extend(guarded.left_as_is());
            return Ok(plan);
        }
    }
    if let ([api_node], Some(kind)) = (apis.as_slice(), kind)
        && let Some(api) = api_node.as_str()
        && let Some((guard, removed_from)) =
            own_guard(tpl, src, api_node.span.start, api, kind, cat)
        && !matches!(decide(cat, api, kind, window), Decision::Current)
    {
        let mut plan = DocPlan::default();
        let mut report = report(tpl, src, doc, api_node, kind, api);
        report.status = Status::Noted;
        report.findings.push(Finding::new(
            codes::HELM_GUARDED,
            format!(
                "rendered only where the cluster serves {api} ({guard}, line {}); kubemig leaves guarded objects alone, and {removed_from} the chart renders no {kind} here unless another template provides one",
                line_of(src, api_node.span.start)
            ),
            report.offset,
        ));
        plan.objects.push(report);
        return Ok(plan);
    }
    let mut plan = match plan_document(&tpl.masked, doc, cat, window) {
        Ok(p) => p,
        Err(dup) => return templated_duplicate(tpl, src, doc, dup, cat, window),
    };
    unmask_names(tpl, src, doc, &mut plan);
    unmask_kind(tpl, src, doc, &mut plan);
    if !tpl.masks(&root.span) {
        return Ok(plan);
    }
    for f in plan
        .objects
        .iter_mut()
        .flat_map(|r| &mut r.findings)
        .filter(|f| f.code == codes::KUBEMIG_SHAPE.id)
    {
        // Point at the templated value the rule had to read, when the message names it.
        let at = f
            .message
            .split('`')
            .nth(1)
            .and_then(|path| {
                path.split('.')
                    .try_fold(root, |n, key| n.get(key))
                    .filter(|n| tpl.masks(&n.span))
            })
            .map(|n| n.span.start);
        match at {
            Some(at) => {
                f.offset = at;
                f.message.push_str(&format!(
                    " (in a Helm template: it is filled by `{}`, which kubemig cannot read; migrate this object by hand)",
                    one_line(src[at..crate::source::line_end(src, at)].trim())
                ));
            }
            None => f.message.push_str(
                " (in a Helm template: the value may come from a template action, which kubemig reads as empty)",
            ),
        }
    }
    let mut reads_templated = false;
    for r in plan
        .objects
        .iter_mut()
        .filter(|r| r.status == Status::Migrated && r.field.is_none())
    {
        if let Some((at, path)) = rule_reads_templated(tpl, src, root, cat, r) {
            reads_templated = true;
            r.status = Status::Blocked;
            r.findings.push(Finding::new(
                codes::HELM_TEMPLATED,
                format!(
                    "{} -> {} cannot be written into this template: its rules rewrite what is under `{path}`, which is filled by `{}` (line {}), which kubemig cannot read; make this change by hand{}",
                    r.from,
                    r.to.as_deref().unwrap_or("the new version"),
                    one_line(src[at..crate::source::line_end(src, at)].trim()),
                    line_of(src, at),
                    r.migration.as_ref().map_or(String::new(), |id| format!(
                        " (`kubemig explain {id}` shows all of it)"
                    )),
                ),
                at,
            ));
        }
    }
    if reads_templated {
        plan.edits.clear();
        plan.expected = None;
    }
    if plan.edits.is_empty() {
        return Ok(plan);
    }
    let mut else_pins = None;
    let admitted = match depends_on_if(tpl, src, doc, &plan.edits, cat, window) {
        Err(refusal) => Err(refusal),
        Ok(pins) => {
            else_pins = pins;
            place::admit(tpl, src, root, plan.expected.as_ref(), &plan.edits)
        }
    };
    match admitted {
        Ok(place::Admitted {
            edits,
            port_choices: choices,
        }) => {
            plan.edits = edits;
            if let Some(e) = else_pins {
                else_branch_found(&mut plan, src, &e);
                plan.edits.push(e);
                plan.edits.sort_by_key(|e| e.range.start);
            }
            port_choices(&mut plan, src, choices);
        }
        Err(place::Refusal { at, why }) => {
            for r in plan
                .objects
                .iter_mut()
                .filter(|r| r.status == Status::Migrated)
            {
                r.status = Status::Blocked;
                let what = match (&r.field, &r.migration) {
                    (Some(_), Some(id)) => format!("field migration {id}"),
                    _ => format!(
                        "{} -> {}",
                        r.from,
                        r.to.as_deref().unwrap_or("the new version")
                    ),
                };
                let explain = r.migration.as_ref().map_or(String::new(), |id| {
                    format!(" (`kubemig explain {id}` shows all of it)")
                });
                r.findings.push(Finding::new(
                    codes::HELM_TEMPLATED,
                    format!(
                        "{what} cannot be written into this template: {why}; make this change by hand{explain}"
                    ),
                    at,
                ));
            }
            plan.edits.clear();
            plan.expected = None;
        }
    }
    Ok(plan)
}

/// A templated value (masked: `key: {{ toYaml … }}`, or a `toYaml` line alone under
/// `key:`) that a rewriting rule of the object's migration must look inside: its path goes on
/// past it (`spec.metrics[*].resource` through `metrics:`). Read as masked, the value is a
/// scalar the rule skips, so the apiVersion alone would change and the rendered object
/// would keep the old version's fields under the new version. Its offset and path.
fn rule_reads_templated(
    tpl: &Template,
    src: &str,
    root: &Node,
    cat: &Catalogue,
    r: &ObjectReport,
) -> Option<(usize, String)> {
    fn walk(tpl: &Template, n: &Node, segs: &[Seg], path: &mut Vec<String>) -> Option<usize> {
        let (first, rest) = segs.split_first()?;
        if matches!(n.kind, NodeKind::Scalar { .. }) && tpl.masks(&n.span) {
            return Some(n.span.start);
        }
        match (first, &n.kind) {
            (Seg::Key(k), _) => {
                let child = n.get(k)?;
                path.push(k.to_string());
                let hit = walk(tpl, child, rest, path);
                if hit.is_none() {
                    path.pop();
                }
                hit
            }
            (Seg::AnyItem, NodeKind::Seq { items, .. }) => {
                items.iter().find_map(|i| walk(tpl, i, rest, path))
            }
            (Seg::Index(i), NodeKind::Seq { items, .. }) => walk(tpl, items.get(*i)?, rest, path),
            (Seg::AnyKey, NodeKind::Map { entries, .. }) => {
                entries.iter().find_map(|(_, v)| walk(tpl, v, rest, path))
            }
            _ => None,
        }
    }
    let injected = injected_lines(tpl, src, root);
    let mut hops = Vec::new();
    for h in cat.chain_from(&r.from, &r.kind) {
        hops.push(h);
        if Some(h.meta.to.as_str()) == r.to.as_deref() {
            break;
        }
    }
    let site = POD_TEMPLATE_SITES
        .iter()
        .find(|(k, _)| *k == r.kind)
        .map(|(_, s)| s.split('.').filter(|s| !s.is_empty()).collect::<Vec<_>>());
    // Rules that only check (a finding, no ops) say what is invalid at the old version;
    // a value the chart fills must be valid there, so only a rewrite needs to see it.
    for rule in hops
        .iter()
        .flat_map(|h| &h.rules)
        .filter(|r| !r.ops.is_empty())
    {
        for at in &rule.at {
            let segs: Vec<Seg> = match at.0.split_first() {
                Some((Seg::Key(first), rest)) if &**first == "@pod" => {
                    let Some(site) = &site else { continue };
                    site.iter()
                        .map(|s| Seg::Key((*s).into()))
                        .chain(rest.iter().cloned())
                        .collect()
                }
                _ => at.0.clone(),
            };
            if let Some((at, steps)) = injected.iter().find(|(_, s)| leads_to(s, &segs)) {
                let path: Vec<String> = steps
                    .iter()
                    .map(|s| match s {
                        Step::Key(k) => k.clone(),
                        Step::Item(i) => i.to_string(),
                    })
                    .collect();
                return Some((*at, path.join(".")));
            }
            let mut path = Vec::new();
            if let Some(at) = walk(tpl, root, &segs, &mut path) {
                // At the action that fills it (the filler of a line alone starts past it).
                let at = tpl
                    .actions
                    .iter()
                    .find(|a| a.range.start <= at && at < a.range.end)
                    .map_or(at, |a| a.range.start);
                return Some((at, path.join(".")));
            }
        }
    }
    None
}

/// A step of the path to a node: a key, or an item's index (`[*]` in a rule matches any).
enum Step {
    Key(String),
    Item(usize),
}

/// Whether a rule's path goes through (or ends at) the node at `steps`: YAML that an action
/// writes into that node may be what the rule must see.
fn leads_to(steps: &[Step], segs: &[Seg]) -> bool {
    steps.len() <= segs.len()
        && steps.iter().zip(segs).all(|(step, seg)| match (step, seg) {
            (Step::Key(k), Seg::Key(s)) => k.as_str() == &**s,
            (Step::Key(_), Seg::AnyKey) | (Step::Item(_), Seg::AnyItem) => true,
            (Step::Item(i), Seg::Index(j)) => i == j,
            _ => false,
        })
}

/// Lines of the object that are a single action writing YAML (`{{ toYaml $extraPaths |
/// indent 10 }}` alone on its line, among a list's items): the masked text reads them as
/// blank, so what they write is invisible to the rules. Each with its offset and the path
/// of the node it writes into (the key's value it sits under, or the deepest collection
/// around it). Helper calls read as placeholder entries and values read as a masked
/// scalar are seen already.
fn injected_lines(tpl: &Template, src: &str, root: &Node) -> Vec<(usize, Vec<Step>)> {
    // Down to the collection whose entries (or items) are at the column the action writes
    // at: through the last entry before the line while it is left of that column.
    fn around(src: &str, n: &Node, off: usize, col: usize, path: &mut Vec<Step>) {
        let column = |at: usize| at - crate::source::line_start(src, at);
        match &n.kind {
            NodeKind::Map { entries, .. } => {
                if let Some((k, v)) = entries.iter().rev().find(|(k, _)| k.span.start <= off)
                    && column(k.span.start) < col
                {
                    path.push(Step::Key(k.as_str().unwrap_or_default().to_string()));
                    around(src, v, off, col, path);
                }
            }
            NodeKind::Seq { items, .. } => {
                if let Some((i, item)) = items
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, i)| i.span.start <= off)
                    && column(item.span.start) <= col
                {
                    path.push(Step::Item(i));
                    around(src, item, off, col, path);
                }
            }
            _ => {}
        }
    }
    let span = &root.span;
    let mut out = Vec::new();
    for (i, a) in tpl.actions.iter().enumerate() {
        if !matches!(a.word, actions::Word::Other)
            || a.range.start < span.start
            || a.range.end > span.end
        {
            continue;
        }
        let call = &src[a.range.clone()];
        let writes = ["toYaml", "include", "template", "tpl", "indent"]
            .iter()
            .any(|w| call.contains(w));
        let (start, end) = (
            crate::source::line_start(src, a.range.start),
            crate::source::line_end(src, a.range.start),
        );
        if !writes
            || call.contains(":=")
            || a.range.end > end
            || !src[start..a.range.start].trim().is_empty()
            || !src[a.range.end..end].trim().is_empty()
            || !tpl.masked[start..end].trim().is_empty()
            || tpl.placeholders.iter().any(|p| p.action == i)
        {
            continue;
        }
        // Where what it writes starts: `nindent N` at column N, `indent N` N columns right
        // of the action.
        let at = a.range.start - start;
        let col = actions::rendered_column(call, at).unwrap_or(at);
        let mut path = Vec::new();
        around(src, root, a.range.start, col, &mut path);
        out.push((a.range.start, path));
    }
    out
}

/// An info finding at the `{{- else }}` written for entries needed only when an `if`
/// does not hold.
fn else_branch_found(plan: &mut DocPlan, src: &str, e: &crate::edit::Edit) {
    if let Some(r) = plan
        .objects
        .iter_mut()
        .find(|r| r.status == Status::Migrated && r.field.is_none())
    {
        let first = e.text.lines().nth(1).unwrap_or("").trim();
        r.findings.push(Finding::at_level(
            codes::HELM_TEMPLATED,
            Level::Info,
            format!(
                "`{first}` is needed only when the `if` before line {} does not hold: wrote it in an `{{{{- else }}}}` of that `if`",
                line_of(src, e.range.start)
            ),
            e.range.start,
        ));
    }
}

/// Templated servicePorts written as a choice between `port.number` and `port.name`: what
/// the masked output reads, and an info finding at each.
fn port_choices(plan: &mut DocPlan, src: &str, choices: Vec<(usize, String, String)>) {
    for (at, name, number) in choices {
        if let Some(m) = plan.expected.as_mut() {
            port_choice_read(m, &name, &number);
        }
        if let Some(r) = plan
            .objects
            .iter_mut()
            .find(|r| r.status == Status::Migrated && r.field.is_none())
        {
            r.findings.push(Finding::at_level(
                        codes::HELM_TEMPLATED,
                        Level::Info,
                        format!(
                            "servicePort is `{}` (line {}), a number or a name depending on values: wrote `port.number` and `port.name` in an `if` that picks the one the rendered value is (digits: a number), as the API server's conversion does",
                            one_line(src[at..crate::source::line_end(src, at)].trim()),
                            line_of(src, at)
                        ),
                        at,
                    ));
        }
    }
}

/// A templated servicePort written as an `if` between `port.number` and `port.name`: the
/// masked reading of the output has both keys (`number` first), each with its action's
/// filler, where the plan has `name` alone.
fn port_choice_read(m: &mut MNode, name: &str, number: &str) {
    use crate::plan::mtree::MKind;
    let MKind::Map { entries, .. } = &mut m.kind else {
        if let MKind::Seq { items, .. } = &mut m.kind {
            items
                .iter_mut()
                .for_each(|i| port_choice_read(i, name, number));
        }
        return;
    };
    for (k, v) in entries.iter_mut() {
        let is_port = matches!(&k.kind, MKind::Scalar { value, .. } if value == "port");
        if is_port
            && let MKind::Map { entries: port, .. } = &mut v.kind
            && let [(k, v)] = port.as_slice()
            && matches!(&k.kind, MKind::Scalar { value, .. } if value == "name")
            && matches!(&v.kind, MKind::Scalar { value, .. } if value == name)
        {
            port.insert(0, (MNode::plain("number"), MNode::plain(number)));
            continue;
        }
        port_choice_read(v, name, number);
    }
}

/// An `if` without `else` inside the object (`{{- if .Values.rolling }}` around
/// `strategy:`) that the plan depends on: read without it, as Helm renders the object
/// when its condition does not hold, the object needs other edits (the pinned
/// `strategy` where the `if` wrote one). Those cannot be written for the values that
/// take the `if`, so the object is reported at the `if`.
fn depends_on_if(
    tpl: &Template,
    src: &str,
    doc: &Document,
    edits: &[crate::edit::Edit],
    cat: &Catalogue,
    window: Window,
) -> Result<Option<crate::edit::Edit>, place::Refusal> {
    let span = &doc.root.span;
    // An `if` that holds the object's last entries ends after its last line: at a
    // `{{- end }}` that follows (k8s-spot-termination-handler's `updateStrategy` at the end
    // of `spec`, with an `if` of its own inside). Blank space and the `end`s after the
    // object are still the object's.
    let mut end = span.end.min(src.len());
    loop {
        let rest = &src[end..];
        end += rest.len() - rest.trim_start().len();
        match tpl
            .actions
            .iter()
            .find(|a| a.range.start == end && a.word == actions::Word::End)
        {
            Some(a) => end = a.range.end,
            None => break,
        }
    }
    let ifs: Vec<&Branch> = tpl
        .branches
        .iter()
        .filter(|b| {
            b.is_if
                && span.start <= b.cond.start
                && b.cond.start < span.end
                && b.range.end <= end
                && tpl.branches.iter().filter(|c| c.block == b.block).count() == 1
        })
        .collect();
    if ifs.is_empty() {
        return Ok(None);
    }
    // The plan of the object read without the branches of `blank`.
    let without = |blank: &[&Branch]| {
        let mut alt = tpl.masked.clone().into_bytes();
        for b in blank {
            for i in b.range.clone() {
                if alt[i] != b'\n' && alt[i] != b'\r' {
                    alt[i] = b' ';
                }
            }
        }
        String::from_utf8(alt).ok().and_then(|alt| {
            let docs = crate::yaml::parse_stream(&alt).ok()?;
            let d = docs.into_iter().find(|d| d.index == doc.index)?;
            plan_document(&alt, &d, cat, window).ok()
        })
    };
    let Some(other) = without(&ifs) else {
        return Ok(None);
    };
    // An edit in a branch of one of the `if`s; an entry the plan appends to a mapping whose
    // last lines are such a branch lands right after its last text, but belongs to the
    // mapping (it is placed at a plain gap of it).
    let inside = |e: &crate::edit::Edit| {
        ifs.iter().any(|b| {
            let last = b.range.start + tpl.masked[b.range.clone()].trim_end().len();
            b.range.start <= e.range.start
                && e.range.end <= b.range.end
                && !(e.range.is_empty() && e.range.start >= last)
        })
    };
    // Where a new entry goes does not change what the object means: compare texts, entry
    // by entry (one insertion may write several keys).
    let keys = |edits: &[crate::edit::Edit]| {
        let mut k: Vec<(Range<usize>, String, bool)> = edits
            .iter()
            .filter(|e| !inside(e))
            .flat_map(|e| match e.range.is_empty() {
                true => entries(&e.text)
                    .into_iter()
                    .map(|t| (0..0, t, true))
                    .collect::<Vec<_>>(),
                false => vec![(e.range.clone(), e.text.clone(), false)],
            })
            .collect();
        k.sort_by(|x, y| (x.0.start, x.1.trim()).cmp(&(y.0.start, y.1.trim())));
        k
    };
    let same = |x: &(Range<usize>, String, bool), y: &(Range<usize>, String, bool)| {
        x.0 == y.0 && x.1.trim() == y.1.trim()
    };
    let within = |x: &[(Range<usize>, String, bool)], y: &[(Range<usize>, String, bool)]| {
        x.iter().all(|e| y.iter().any(|f| same(e, f)))
    };
    let a = keys(edits);
    let b = keys(&other.edits);
    if within(&a, &b) && within(&b, &a) {
        return Ok(None);
    }
    // New entries only, with their indentation.
    let extra: Option<Vec<&str>> = b
        .iter()
        .filter(|e| !a.iter().any(|f| same(e, f)))
        .map(|(_, t, new)| new.then_some(t.as_str()))
        .collect();
    if within(&a, &b)
        && let Some(extra) = extra
    {
        // The one `if` whose absence needs the extra entries: the others (an optional
        // annotation, a container's env entry) change nothing the plan writes.
        let alike = |blank: &[&Branch], with: &[(Range<usize>, String, bool)]| {
            without(blank).is_some_and(|p| {
                let k = keys(&p.edits);
                within(&k, with) && within(with, &k)
            })
        };
        let culprits: Vec<&Branch> = match ifs.as_slice() {
            [_] => ifs.clone(),
            _ => ifs.iter().filter(|i| !alike(&[**i], &a)).copied().collect(),
        };
        let alone = match culprits.as_slice() {
            [c] => ifs.len() == 1 || alike(&[*c], &b),
            _ => false,
        };
        if alone && let Some(e) = else_branch(tpl, src, &culprits, &extra) {
            return Ok(Some(e));
        }
    }
    let extra = b
        .iter()
        .find(|e| !a.iter().any(|f| same(e, f)))
        .or_else(|| a.iter().find(|e| !b.iter().any(|f| same(e, f))))
        .map(|(_, t, _)| t.trim().lines().next().unwrap_or("").to_string())
        .unwrap_or_default();
    let cond = ifs
        .iter()
        .find(|b| {
            other
                .edits
                .iter()
                .chain(edits)
                .any(|e| e.range.start >= b.range.start && e.range.start <= b.range.end)
        })
        .unwrap_or(&ifs[0]);
    Err(place::Refusal {
        at: cond.cond.start,
        why: format!(
            "what it writes depends on `{}` (line {}): when that does not hold, the object needs `{extra}` as well, which kubemig cannot write for the values that take the `if`",
            src[cond.cond.clone()].trim(),
            line_of(src, cond.cond.start)
        ),
    })
}

/// The entries the object needs only when one `if` does not hold (`b`, the plan without
/// it, inserts them; `a`, the plan with it, does not, and is otherwise the same), written
/// as that `if`'s `{{- else }}` branch: the `if` sets the same keys at the same column
/// (kube2iam's `updateStrategy` under a `semverCompare`, a `strategy` under
/// `{{- if .Values.rolling }}`), and both its actions trim, so the new branch renders
/// the entries on their own lines and the `if` branch renders as before.
fn else_branch(
    tpl: &Template,
    src: &str,
    ifs: &[&Branch],
    extra: &[&str],
) -> Option<crate::edit::Edit> {
    use crate::source::{line_end, line_start, next_line_start};
    if extra.is_empty() {
        return None;
    }
    let [branch] = ifs else { return None };
    let end = branch.range.end;
    let trims = |at: usize| src[at..].starts_with("{{-");
    if !trims(branch.cond.start) || !trims(end) || !src[line_start(src, end)..end].trim().is_empty()
    {
        return None;
    }
    // The keys the `if` sets, at the column of its least indented lines.
    let mut keys: Vec<(usize, &str)> = Vec::new();
    let mut p = next_line_start(src, branch.range.start);
    while p < end {
        let line = &tpl.masked[p..line_end(&tpl.masked, p)];
        let text = line.trim_start_matches(' ');
        if !text.trim().is_empty() {
            let col = line.len() - text.len();
            let key = text.split(':').next().unwrap_or("").trim();
            keys.push((col, key));
        }
        p = next_line_start(src, p);
    }
    let col = keys.iter().map(|(c, _)| *c).min()?;
    let set: Vec<&str> = keys
        .iter()
        .filter(|(c, _)| *c == col)
        .map(|(_, k)| *k)
        .collect();
    let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
    let mut text = format!("{}{{{{- else }}}}{nl}", &src[line_start(src, end)..end]);
    for e in extra {
        let t = e.trim_start_matches(['\r', '\n']);
        let first = t.lines().next()?;
        let indent = first.len() - first.trim_start_matches(' ').len();
        let key = first.trim().split(':').next().unwrap_or("");
        if indent != col || !set.contains(&key) || t.contains("{{") {
            return None;
        }
        text.push_str(t.trim_end_matches(['\r', '\n']));
        text.push_str(nl);
    }
    Some(crate::edit::Edit::insert(line_start(src, end), text))
}

/// The entries an insertion writes, each with its indentation: a line at the column of its
/// first line starts the next (the emitter writes the new keys of one mapping as one
/// insertion); blank lines and a trailing indentation are dropped.
fn entries(text: &str) -> Vec<String> {
    let t = text.trim_start_matches(['\r', '\n']);
    let col = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let Some(first) = t.lines().find(|l| !l.trim().is_empty()) else {
        return Vec::new();
    };
    let c = col(first);
    let mut out: Vec<String> = Vec::new();
    for l in t.lines().filter(|l| !l.trim().is_empty()) {
        let l = l.trim_end_matches('\r');
        match out.last_mut() {
            Some(last) if col(l) != c || l.trim_start().starts_with('-') => {
                last.push('\n');
                last.push_str(l);
            }
            _ => out.push(l.to_string()),
        }
    }
    out
}

/// The report for the root object of a document whose apiVersion node is `api_node`.
fn report(
    tpl: &Template,
    src: &str,
    doc: &Document,
    api_node: &Node,
    kind: &str,
    api: &str,
) -> ObjectReport {
    let meta = |k: &str| {
        let n = doc.root.get("metadata").and_then(|m| m.get(k))?;
        let value = n.as_str()?;
        Some(match tpl.masks(&n.span) {
            true => one_line(src.get(n.span.clone()).unwrap_or(value)),
            false => value.to_string(),
        })
    };
    ObjectReport {
        doc_index: doc.index,
        offset: api_node.span.start,
        kind: kind.to_string(),
        name: meta("name"),
        namespace: meta("namespace"),
        from: api.to_string(),
        to: None,
        migration: None,
        field: None,
        status: Status::Noted,
        findings: Vec::new(),
    }
}

/// A name or namespace that is templated reads as filler in the masked text: show the
/// template text instead.
fn unmask_names(tpl: &Template, src: &str, doc: &Document, plan: &mut DocPlan) {
    let meta = doc.root.get("metadata");
    for (key, masked) in [("name", true), ("namespace", false)] {
        let Some(node) = meta.and_then(|m| m.get(key)) else {
            continue;
        };
        if !tpl.masks(&node.span) {
            continue;
        }
        let (Some(value), Some(original)) = (node.as_str(), src.get(node.span.clone())) else {
            continue;
        };
        for r in &mut plan.objects {
            let field = if masked {
                &mut r.name
            } else {
                &mut r.namespace
            };
            if field.as_deref() == Some(value) {
                *field = Some(one_line(original));
            }
        }
    }
}

/// Template text shown as a name: its first line (a value chosen by `{{ if … -}}` spans
/// several).
fn one_line(text: &str) -> String {
    match text.split_once('\n') {
        Some((first, _)) => format!("{}…", first.trim_end()),
        None => text.to_string(),
    }
}

/// A templated `kind:` reads as filler: show the template text in reports and findings.
fn unmask_kind(tpl: &Template, src: &str, doc: &Document, plan: &mut DocPlan) {
    let Some(node) = doc.root.get("kind") else {
        return;
    };
    let (Some(value), Some(original)) = (node.as_str(), src.get(node.span.clone())) else {
        return;
    };
    if !tpl.masks(&node.span) || value.is_empty() {
        return;
    }
    let original = one_line(original);
    for r in plan.objects.iter_mut().filter(|r| r.kind == value) {
        r.kind = original.clone();
        for f in &mut r.findings {
            f.message = f.message.replace(value, &original);
        }
    }
}

/// An object whose apiVersion is chosen by an `if`/`else` guard (`tpl.choice`): the
/// literals `apis` on the branches of `branch`'s block, under which the object is `kind`.
struct Guarded<'a> {
    tpl: &'a Template,
    src: &'a str,
    doc: &'a Document,
    apis: &'a [&'a Node],
    kind: &'a str,
    branch: &'a Branch,
    cat: &'a Catalogue,
    window: Window,
}

impl Guarded<'_> {
    /// An apiVersion chosen by an `if`/`else` guard between two versions the target does not
    /// serve, which both migrate to the same one with the same edits of the object (the
    /// `helm create` Ingress of Helm 3.0-3.3: `networking.k8s.io/v1beta1` from 1.14 on, else
    /// `extensions/v1beta1`): the object below the guard is migrated, and each branch's
    /// literal becomes the new version, since the object each would render is the new one.
    /// `None` when that does not hold (the guard is then reported).
    fn migrate(&self) -> Option<DocPlan> {
        let Guarded {
            tpl,
            src,
            doc,
            apis,
            kind,
            branch,
            cat,
            window,
        } = *self;
        let branches = tpl
            .branches
            .iter()
            .filter(|b| b.block == branch.block)
            .count();
        if apis.len() != 2 || branches != 2 || apis.iter().any(|n| tpl.masks(&n.span)) {
            return None;
        }
        let mut to = None;
        for n in apis {
            match decide(cat, n.as_str()?, kind, window) {
                Decision::Migrate { to: t, .. } if to.as_ref().is_none_or(|x| *x == t) => {
                    to = Some(t)
                }
                _ => return None,
            }
        }
        let to = to?;
        // Plan the object with each branch; the edits below the guard must be the same.
        let mut plans = Vec::new();
        for first in [true, false] {
            let t = Template::scan_one_branch(src, branch.block, first).ok()?;
            let docs = crate::yaml::parse_stream(&t.masked).ok()?;
            let d = docs.into_iter().find(|d| d.index == doc.index)?;
            let api = d.root.get("apiVersion")?.span.clone();
            let mut plan = plan_document(&t.masked, &d, cat, window).ok()?;
            plan.edits.retain(|e| e.range != api);
            plans.push((t, d, plan));
        }
        if plans[0].2.edits != plans[1].2.edits
            || plans.iter().any(|(t, d, p)| {
                p.objects.is_empty()
                    || p.objects.iter().any(|r| {
                        r.status != Status::Migrated
                            || rule_reads_templated(t, src, &d.root, cat, r).is_some()
                    })
            })
        {
            return None;
        }
        let (t, d, mut plan) = plans.swap_remove(0);
        unmask_names(&t, src, &d, &mut plan);
        let admitted = place::admit(&t, src, &d.root, plan.expected.as_ref(), &plan.edits).ok()?;
        plan.edits = admitted.edits;
        port_choices(&mut plan, src, admitted.port_choices);
        for n in apis {
            plan.edits.push(crate::edit::Edit {
                range: n.span.clone(),
                text: to.clone(),
            });
        }
        plan.edits.sort_by_key(|e| e.range.start);
        // The masked output reads both literals.
        if let Some(crate::plan::mtree::MKind::Map { entries, .. }) =
            plan.expected.as_mut().map(|m| &mut m.kind)
        {
            let at = entries
            .iter()
            .position(|(k, _)| matches!(&k.kind, crate::plan::mtree::MKind::Scalar { value, .. } if value == "apiVersion"))?;
            entries.insert(at + 1, (MNode::plain("apiVersion"), MNode::plain(&to)));
        }
        let opener = tpl.opener(branch.block).unwrap_or(branch);
        let guard = src[opener.cond.clone()].trim();
        let olds: Vec<&str> = apis.iter().filter_map(|n| n.as_str()).collect();
        if let Some(r) = plan.objects.first_mut() {
            r.findings.push(Finding::at_level(
            codes::HELM_GUARDED,
            Level::Info,
            format!(
                "apiVersion is chosen by the template guard `{guard}` (line {}) between {}, neither served at {}: wrote {to} in both branches, for the object below them is migrated to it",
                line_of(src, opener.cond.start),
                olds.join(" and "),
                window.target
            ),
            apis[0].span.start,
        ));
        }
        Some(plan)
    }

    /// An apiVersion chosen by an `if`/`else` guard: leave it; say whether the target is
    /// covered.
    fn left_as_is(&self) -> Option<ObjectReport> {
        let Guarded {
            tpl,
            src,
            doc,
            apis,
            kind,
            branch,
            cat,
            window,
        } = *self;
        let values: Vec<(&str, &Node)> = apis
            .iter()
            .filter_map(|n| n.as_str().map(|s| (s, *n)))
            .collect();
        let decisions: Vec<Decision> = values
            .iter()
            .map(|(api, _)| decide(cat, api, kind, window))
            .collect();
        if decisions.iter().all(|d| matches!(d, Decision::Current)) {
            return None;
        }
        let opener = tpl.opener(branch.block).unwrap_or(branch);
        let guard = src[opener.cond.clone()].trim();
        let guard_line = line_of(src, opener.cond.start);
        let others = |skip: usize| {
            values
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, (a, _))| *a)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(i) = decisions
            .iter()
            .position(|d| matches!(d, Decision::Current))
        {
            let (api, node) = values[i];
            let mut r = report(tpl, src, doc, node, kind, api);
            let capabilities = guard.contains(".Capabilities");
            let (level, tail) = if capabilities {
                (
                    Level::Info,
                    "the fallback for older clusters, left as the chart has it".to_string(),
                )
            } else {
                (
                    Level::Warn,
                    format!(
                        "chosen by values, not by the cluster's capabilities: a release that picks them fails on {}",
                        window.target
                    ),
                )
            };
            r.findings.push(Finding::at_level(
            codes::HELM_GUARDED,
            level,
            format!(
                "apiVersion is chosen by the template guard `{guard}` (line {guard_line}): {api} is served at {}; {} {} {tail}",
                window.target,
                others(i),
                if values.len() > 2 { "are" } else { "is" },
            ),
            r.offset,
        ));
            return Some(r);
        }
        let (api, node) = values[0];
        let mut r = report(tpl, src, doc, node, kind, api);
        r.status = Status::Blocked;
        let add = match &decisions[0] {
            Decision::Migrate { to, hops, .. } => {
                r.to = Some(to.clone());
                r.migration = hops.first().map(|h| h.meta.id.clone());
                format!(
                    "add a branch for {to} (for example `{{{{- if .Capabilities.APIVersions.Has \"{to}/{kind}\" }}}}`) with the fields {to} needs, by hand"
                )
            }
            _ => format!("no served version replaces {api} {kind}: replace the object by hand"),
        };
        r.findings.push(Finding::at_level(
        codes::HELM_GUARDED,
        Level::Manual,
        format!(
            "apiVersion is chosen by the template guard `{guard}` (line {guard_line}) and no branch is served at {} ({api}, {}): {add}",
            window.target,
            others(0),
        ),
        r.offset,
    ));
        Some(r)
    }
}

/// Whether the object at `offset` is rendered only where its own `api` is served: inside
/// `{{ if .Capabilities.APIVersions.Has "api…" }}`, or inside a `semverCompare` guard on
/// `.Capabilities.KubeVersion` whose versions all lie before the release that removed it.
/// Returns the guard's text and "on 1.N" (where it stops rendering).
fn own_guard(
    tpl: &Template,
    src: &str,
    offset: usize,
    api: &str,
    kind: &str,
    cat: &Catalogue,
) -> Option<(String, String)> {
    let removed = cat.version(api, kind).and_then(|v| v.removed);
    for b in tpl.around(offset).filter(|b| b.is_if) {
        let cond = src[b.cond.clone()].trim();
        if b.index == 0
            && !cond.contains("not ")
            && let Some(arg) = quoted_after(cond, "APIVersions.Has")
            && (arg == api || arg.starts_with(&format!("{api}/")))
        {
            return Some((
                format!("`{cond}`"),
                removed.map_or("where it is not served".into(), |r| format!("from {r} on")),
            ));
        }
        // Versions the branch renders on are below `bound`.
        let mut bound: Option<Release> = None;
        if b.index == 0 {
            bound = semver_bound(cond, '<');
        } else {
            for prev in tpl
                .branches
                .iter()
                .filter(|p| p.block == b.block && p.index < b.index)
            {
                if let Some(r) = semver_bound(src[prev.cond.clone()].trim(), '>') {
                    bound = Some(bound.map_or(r, |x| x.min(r)));
                }
            }
        }
        if let (Some(bound), Some(removed)) = (bound, removed)
            && bound <= removed
        {
            return Some((
                format!("`{cond}`, rendered below {bound}"),
                format!("from {bound} on"),
            ));
        }
    }
    None
}

/// The first double-quoted string after `word` in `text`.
fn quoted_after<'t>(text: &'t str, word: &str) -> Option<&'t str> {
    let rest = &text[text.find(word)? + word.len()..];
    let rest = &rest[rest.find('"')? + 1..];
    Some(&rest[..rest.find('"')?])
}

/// `semverCompare "<1.25-0" .Capabilities.KubeVersion…` gives 1.25 for `op` `<`;
/// `semverCompare ">=1.19-0" …` gives 1.19 for `op` `>`.
fn semver_bound(cond: &str, op: char) -> Option<Release> {
    if !cond.contains("KubeVersion") {
        return None;
    }
    let c = quoted_after(cond, "semverCompare")?.trim();
    let v = match op {
        '<' => c.strip_prefix('<').filter(|v| !v.starts_with('='))?,
        _ => c.strip_prefix(">=")?,
    };
    let v = v.trim().trim_start_matches('v');
    let v = v.split(['-', '+']).next()?;
    let mut parts = v.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    (major == "1").then(|| minor.parse().ok().map(Release))?
}

/// A duplicate key that no template choice explains: which condition sets the second one,
/// since the template is valid for the values that do not meet it.
fn name_condition(tpl: &Template, src: &str, dup: &DuplicateKey) -> Option<String> {
    let b = tpl
        .around(dup.second)
        .filter(|b| b.is_if && !(b.range.start <= dup.first && dup.first < b.range.end))
        .last()?;
    let cond = src[b.cond.clone()].trim();
    let opener = tpl.opener(b.block).unwrap_or(b);
    let when = match b.index {
        0 => format!("when `{cond}` (line {}) holds", line_of(src, b.cond.start)),
        _ => format!(
            "in the `{cond}` branch (line {}) of `{}` (line {})",
            line_of(src, b.cond.start),
            src[opener.cond.clone()].trim(),
            line_of(src, opener.cond.start)
        ),
    };
    Some(format!(
        "in this template the second `{}` is set {when}, so it breaks for the values that take that branch",
        dup.key
    ))
}

/// A duplicate key in a template: when its two places are in different branches of one
/// `if`, the template chooses between them; otherwise it is a real duplicate.
fn templated_duplicate(
    tpl: &Template,
    src: &str,
    doc: &Document,
    dup: DuplicateKey,
    cat: &Catalogue,
    window: Window,
) -> Result<DocPlan, DuplicateKey> {
    if tpl.choice(&[dup.first, dup.second]).is_none() {
        return Err(dup);
    }
    let mut plan = DocPlan::default();
    let root = &doc.root;
    let (Some(api_node), Some(kind)) = (
        root.get("apiVersion"),
        root.get("kind").and_then(Node::as_str),
    ) else {
        return Ok(plan);
    };
    let Some(api) = api_node.as_str() else {
        return Ok(plan);
    };
    let decision = decide(cat, api, kind, window);
    let mut r = report(tpl, src, doc, api_node, kind, api);
    match decision {
        Decision::Current | Decision::Deprecated { .. } => return Ok(plan),
        Decision::Migrate { to, hops, .. } => {
            r.to = Some(to);
            r.migration = hops.first().map(|h| h.meta.id.clone());
        }
        Decision::NoReplacement { .. } => {}
    }
    r.status = Status::Blocked;
    r.findings.push(Finding::new(
        codes::HELM_TEMPLATED,
        format!(
            "`{}` is set in two branches of a template `if` (lines {} and {}); kubemig does not plan a migration through template branches: migrate {api} -> {} by hand",
            dup.key,
            line_of(src, dup.first),
            line_of(src, dup.second),
            r.to.as_deref().unwrap_or("a served version"),
        ),
        dup.second,
    ));
    plan.objects.push(r);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::actions::lex;
    use super::*;
    use crate::yaml::parse_stream;

    #[test]
    fn a_to_yaml_line_alone_under_a_key_is_its_value() {
        // Under `metrics:` with nothing else: a scalar below the key, not an empty value.
        let src = "spec:\n  metrics:\n{{ toYaml .Values.m | indent 4 }}\n  max: 3\n";
        let t = Template::scan(src).unwrap();
        assert_eq!(t.masked.len(), src.len());
        assert!(
            t.masked.contains("\n  metrics:\n    xxxx"),
            "{:?}",
            t.masked
        );
        let docs = parse_stream(&t.masked).unwrap();
        let m = docs[0].root.get("spec").and_then(|s| s.get("metrics"));
        assert!(m.is_some_and(|m| t.masks(&m.span)), "{:?}", t.masked);
        // Beside other entries of the key (more labels), it stays blank.
        let src = "labels:\n  a: b\n{{ toYaml .Values.l | indent 2 }}\n";
        let t = Template::scan(src).unwrap();
        assert!(
            t.masked.starts_with("labels:\n  a: b\n       "),
            "{:?}",
            t.masked
        );
    }

    #[test]
    fn a_block_scalar_filled_by_an_indented_action_reads_as_its_content() {
        // docker-registry's configmap: the action at column 0 writes at column 4.
        let src = "data:\n  config.yml: |-\n{{ toYaml .Values.configData | indent 4 }}\n";
        let t = Template::scan(src).unwrap();
        assert!(t.masked.contains("\n    xxxx"), "{:?}", t.masked);
        assert!(parse_stream(&t.masked).is_ok());
    }

    #[test]
    fn alike_actions_mask_alike_and_others_apart() {
        let src = "a: {{ $serviceName }}\nb: {{ $servicePort }}\nc: {{ $serviceName }}\n";
        let t = Template::scan(src).unwrap();
        let vals: Vec<&str> = t.masked.lines().map(|l| &l[3..]).collect();
        assert_ne!(vals[0], vals[1]);
        assert_eq!(vals[0], vals[2]);
        assert!(vals.iter().all(|v| v.len() == 18 && v.starts_with('x')));
    }

    #[test]
    fn masks_keep_length_and_structure() {
        let src = "{{- if .Values.on }}\napiVersion: v1\nmetadata:\n  name: {{ include \"x\" . }}-web\n  labels:\n    {{- include \"l\" . | nindent 4 }}\n{{- end }} # done\n";
        let t = Template::scan(src).unwrap();
        assert_eq!(t.masked.len(), src.len());
        assert!(
            t.masked
                .starts_with("                    \napiVersion: v1\n")
        );
        assert!(t.masked.contains(&format!(
            "  name: {}-web\n",
            actions::inline_filler("{{ include \"x\" . }}")
        )));
        assert!(t.masked.ends_with("           # done\n"));
        assert!(parse_stream(&t.masked).is_ok());
    }

    #[test]
    fn helper_labels_read_as_one_entry_and_move_with_their_indent() {
        let src = "spec:\n  template:\n    metadata:\n      labels:\n        {{- include \"a.sel\" . | nindent 8 }}\n        tier: x\n  other:\n{{ include \"a.sel\" . | indent 4 }}\n";
        let t = Template::scan(src).unwrap();
        assert_eq!(t.masked.len(), src.len());
        // Under `labels:` a placeholder entry; under `other:` (not a string map) blank.
        assert!(
            t.masked.contains("        include__a.sel__.: x"),
            "{}",
            t.masked
        );
        assert_eq!(t.placeholders.len(), 1);
        let docs = parse_stream(&t.masked).unwrap();
        let labels = docs[0].root.get("spec").and_then(|s| s.get("template"));
        let labels = labels
            .and_then(|t| t.get("metadata"))
            .and_then(|m| m.get("labels"));
        assert_eq!(labels.map(|l| l.entries().len()), Some(2));
        let p = &t.placeholders[0];
        let call = &src[t.actions[p.action].range.clone()];
        assert_eq!(
            p.call_at(call, 6).as_deref(),
            Some("      {{- include \"a.sel\" . | nindent 6 }}")
        );
    }

    #[test]
    fn lexes_strings_comments_and_multiline_actions() {
        let src = "a: {{ \"}}\" }}\n{{/* a\n}} */}}\nb: {{ `x}}` }}\nc: {{ include \"y\" (dict\n  \"k\" 1) }}\n";
        let actions = lex(src).unwrap();
        assert_eq!(actions.len(), 4);
        assert_eq!(&src[actions[0].range.clone()], "{{ \"}}\" }}");
        let t = Template::scan(src).unwrap();
        assert!(parse_stream(&t.masked).is_ok(), "{}", t.masked);
        assert!(lex("a: {{ .x }\n").is_err());
    }

    #[test]
    fn plain_yaml_with_braces_in_strings_is_not_a_template() {
        assert!(!is_template("summary: \"{{ $labels.instance }} down\"\n"));
        assert!(!is_template("a: 1\n"));
        assert!(is_template("name: {{ .Release.Name }}\n"));
        assert!(is_template("{{- if .Values.x }}\na: 1\n{{- end }}\n"));
    }

    #[test]
    fn branches_and_bounds() {
        let src = "{{- if semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion -}}\napiVersion: networking.k8s.io/v1\n{{- else if semverCompare \">=1.14-0\" .Capabilities.KubeVersion.GitVersion -}}\napiVersion: networking.k8s.io/v1beta1\n{{- else -}}\napiVersion: extensions/v1beta1\n{{- end }}\n";
        let t = Template::scan(src).unwrap();
        let offs: Vec<usize> = src.match_indices("apiVersion").map(|(i, _)| i).collect();
        assert!(t.choice(&offs).is_some());
        assert_eq!(
            semver_bound(
                "{{ if semverCompare \"<1.25-0\" .Capabilities.KubeVersion.Version }}",
                '<'
            ),
            Some(Release(25))
        );
        assert_eq!(
            semver_bound(
                "{{- if semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion -}}",
                '>'
            ),
            Some(Release(19))
        );
    }
}
