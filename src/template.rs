//! Helm chart templates: files whose Go template actions (`{{ … }}`) make them something
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

use std::ops::Range;

use crate::catalogue::{Catalogue, Decision, Level, Release, Window, decide};
use crate::edit::{self, Edit};
use crate::engine::{Context, FileError, Outcome};
use crate::plan::mtree::MNode;
use crate::plan::{DocPlan, DuplicateKey, Finding, ObjectReport, Status, plan_document};
use crate::source::Source;
use crate::yaml::{Document, Node, NodeKind, Value, parse_stream};

/// What an action does to the template's block structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    If,
    /// `range`, `with`, `define`, `block`: open a block that `end` closes.
    Open,
    Else,
    End,
    Other,
}

#[derive(Debug, Clone)]
struct Action {
    range: Range<usize>,
    word: Word,
}

/// One branch of a block: the text between the action that opens it (`if`, `else`,
/// `else if`) and the next `else` or `end` of the same block.
#[derive(Debug, Clone)]
struct Branch {
    block: usize,
    index: usize,
    range: Range<usize>,
    /// The action that opens this branch.
    cond: Range<usize>,
    /// Whether the block is an `if` (not a `range` or `with`).
    is_if: bool,
}

/// A template with its actions masked.
pub struct Template {
    /// The text with every action replaced by filler of the same byte length.
    pub masked: String,
    actions: Vec<Action>,
    branches: Vec<Branch>,
    /// Branches left out of `masked` (blanked) because the template is YAML only branch by
    /// branch: read like actions, opaque.
    dropped: Vec<Range<usize>>,
}

/// Which branches of the template's `if` blocks a masked reading keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    All,
    /// The first branch of each `if` with an `else`: what renders when the conditions hold.
    First,
    /// The last branch: what renders when they do not.
    Last,
}

/// Whether `src` must be read as a template: it has a `{{ … }}` action that the YAML
/// parser does not see as part of a scalar (or it is not YAML at all). A manifest that only
/// carries `{{ … }}` inside string values (Prometheus rules, Argo parameters) stays plain.
pub fn is_template(src: &str) -> bool {
    static OPEN: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"{{"));
    let bytes = src.as_bytes();
    if OPEN.find(bytes).is_none() {
        return false;
    }
    // An unclosed `{{` in valid YAML is text; in a file that is not YAML it is reported.
    let Ok(docs) = parse_stream(src) else {
        return true;
    };
    if lex(src).is_err() {
        return false;
    }
    let mut spans = Vec::new();
    for d in &docs {
        scalar_spans(&d.root, &mut spans);
    }
    memchr::memmem::find_iter(bytes, b"{{").any(|at| {
        !spans
            .iter()
            .any(|s: &Range<usize>| s.start <= at && at < s.end)
    })
}

fn scalar_spans(node: &Node, out: &mut Vec<Range<usize>>) {
    match &node.kind {
        NodeKind::Scalar { .. } => out.push(node.span.clone()),
        NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
            scalar_spans(k, out);
            scalar_spans(v, out)
        }),
        NodeKind::Seq { items, .. } => items.iter().for_each(|i| scalar_spans(i, out)),
        NodeKind::Alias(_) => {}
    }
}

/// Find the actions of `text`; `Err(offset)` when one is not closed.
fn lex(text: &str) -> Result<Vec<Action>, usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = memchr::memmem::find(&b[i..], b"{{") {
        let start = i + p;
        let mut j = start + 2;
        if b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let (end, word) = if b[j..].starts_with(b"/*") {
            let close = memchr::memmem::find(&b[j + 2..], b"*/").ok_or(start)? + j + 4;
            let mut k = close;
            while k < b.len() && (b[k].is_ascii_whitespace() || b[k] == b'-') {
                k += 1;
            }
            if !b[k..].starts_with(b"}}") {
                return Err(start);
            }
            (k + 2, Word::Other)
        } else {
            let ident: String = text[j..]
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            let word = match ident.as_str() {
                "if" => Word::If,
                "range" | "with" | "define" | "block" => Word::Open,
                "else" => Word::Else,
                "end" => Word::End,
                _ => Word::Other,
            };
            let mut k = j;
            let end = loop {
                match b.get(k) {
                    None => return Err(start),
                    Some(&q @ (b'"' | b'\'')) => {
                        k += 1;
                        while k < b.len() && b[k] != q && b[k] != b'\n' {
                            k += if b[k] == b'\\' { 2 } else { 1 };
                        }
                        k += 1;
                    }
                    Some(b'`') => {
                        k += 1 + memchr::memchr(b'`', &b[(k + 1).min(b.len())..]).ok_or(start)?;
                        k += 1;
                    }
                    Some(b'}') if b.get(k + 1) == Some(&b'}') => break k + 2,
                    Some(_) => k += 1,
                }
            };
            (end, word)
        };
        out.push(Action {
            range: start..end,
            word,
        });
        i = end;
    }
    Ok(out)
}

impl Template {
    /// Lex and mask `text`; `Err(offset)` when an action is not closed.
    pub fn scan(text: &str) -> Result<Template, usize> {
        Template::scan_keeping(text, Keep::All)
    }

    fn scan_keeping(text: &str, keep: Keep) -> Result<Template, usize> {
        let actions = lex(text)?;
        let branches = branches(&actions, text.len());
        let dropped = dropped(&branches, keep);
        let masked = mask(text, &actions, &dropped);
        Ok(Template {
            masked,
            actions,
            branches,
            dropped,
        })
    }

    /// Lex, mask and parse `text`. When the template with every branch in place is not
    /// YAML (an `else` that continues a different parent, branches of different shape), it
    /// is read with only the first, then only the last branch of each `if`: each is what
    /// Helm renders for some values. The error is the full reading's.
    pub fn scan_yaml(
        text: &str,
    ) -> Result<Result<(Template, Vec<Document>), crate::yaml::SyntaxError>, usize> {
        let tpl = Template::scan(text)?;
        let first = match parse_stream(&tpl.masked) {
            Ok(docs) => return Ok(Ok((tpl, docs))),
            Err(e) => e,
        };
        if tpl.branches.iter().any(|b| b.is_if && b.index > 0) {
            for keep in [Keep::First, Keep::Last] {
                let t = Template::scan_keeping(text, keep)?;
                if let Ok(docs) = parse_stream(&t.masked) {
                    return Ok(Ok((t, docs)));
                }
            }
        }
        Ok(Err(first))
    }

    /// Whether any action overlaps `range` (an empty range: lies strictly around it).
    fn masks(&self, range: &Range<usize>) -> bool {
        self.actions
            .iter()
            .map(|a| &a.range)
            .chain(&self.dropped)
            .any(|a| a.start < range.end.max(range.start + 1) && range.start < a.end)
    }

    /// The branches (innermost last) that contain `offset`.
    fn around(&self, offset: usize) -> impl Iterator<Item = &Branch> {
        self.branches
            .iter()
            .filter(move |b| b.range.start <= offset && offset < b.range.end)
    }

    /// The `if` block whose branches hold each of `offsets` in a different branch.
    fn choice(&self, offsets: &[usize]) -> Option<&Branch> {
        let first = offsets.first()?;
        self.around(*first).filter(|b| b.is_if).find(|b| {
            let mut seen = vec![b.index];
            offsets[1..].iter().all(|o| {
                self.around(*o)
                    .find(|c| c.block == b.block)
                    .is_some_and(|c| {
                        let fresh = !seen.contains(&c.index);
                        seen.push(c.index);
                        fresh
                    })
            })
        })
    }

    /// The opening `if` action of a block.
    fn opener(&self, block: usize) -> Option<&Branch> {
        self.branches
            .iter()
            .find(|b| b.block == block && b.index == 0)
    }
}

/// The branch ranges a reading that keeps `keep` leaves out.
fn dropped(branches: &[Branch], keep: Keep) -> Vec<Range<usize>> {
    if keep == Keep::All {
        return Vec::new();
    }
    let last = |b: &Branch| {
        branches
            .iter()
            .filter(|c| c.block == b.block)
            .map(|c| c.index)
            .max()
    };
    branches
        .iter()
        .filter(|b| b.is_if && last(b).is_some_and(|l| l > 0))
        .filter(|b| match keep {
            Keep::First => b.index > 0,
            _ => Some(b.index) != last(b),
        })
        .map(|b| b.range.clone())
        .collect()
}

/// Mask `text`: actions by filler of their length (spaces on a line of nothing else, `x`
/// inside a line), `dropped` branches by spaces. Three shapes get other filler, so that
/// the masked text is the YAML Helm renders:
/// - a line of actions leading a block scalar (`- >` then `{{- if … }}`): `x`, since a
///   leading line of spaces deeper than the content is not YAML;
/// - a value made only of actions, with deeper lines below it (`labels: {{ include … |
///   nindent 4 }}` and more labels, `name: {{ if … -}}` with the value on the next line):
///   spaces, so that the lines below are the value;
/// - a line of actions ending in `-}}`, which trims the next line's indentation: that line
///   is read where Helm puts it (a line break replaces a blank of its indentation).
fn mask(text: &str, actions: &[Action], dropped: &[Range<usize>]) -> String {
    let b = text.as_bytes();
    let mut inside = vec![false; b.len()];
    for a in actions {
        inside[a.range.clone()].iter_mut().for_each(|x| *x = true);
    }
    let mut out = b.to_vec();
    // The lines: (range, all actions or blank, indent of their non-action text).
    let mut lines: Vec<(Range<usize>, bool, usize)> = Vec::new();
    let mut start = 0;
    while start < b.len() {
        let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i + 1);
        let line = start..end;
        let mut blank = true;
        for i in line.clone().filter(|&i| !inside[i]) {
            if b[i] == b'#' {
                break;
            }
            if !b[i].is_ascii_whitespace() {
                blank = false;
                break;
            }
        }
        let indent = b[line.clone()].iter().take_while(|c| **c == b' ').count();
        lines.push((line, blank, indent));
        start = end;
    }
    // The indent of the next line with text other than actions, after line `n`.
    let next_indent = |n: usize| {
        lines[n + 1..]
            .iter()
            .find(|(_, blank, _)| !blank)
            .map(|(_, _, i)| *i)
    };
    let mut leading_block = false;
    for (n, (line, blank, indent)) in lines.iter().enumerate() {
        let has_action = inside[line.clone()].iter().any(|x| *x);
        if !*blank {
            leading_block = false;
        }
        if has_action {
            let mut fill = if *blank { b' ' } else { b'x' };
            if *blank && leading_block {
                fill = b'x';
            }
            if !*blank {
                // The value is only actions (`key: {{ … }}`) and deeper lines follow.
                let first = line.clone().find(|&i| inside[i]).unwrap_or(line.end);
                let before = text[line.start..first].trim_end();
                let after_only_actions = line
                    .clone()
                    .skip(first - line.start)
                    .all(|i| inside[i] || b[i].is_ascii_whitespace());
                if before.ends_with(':')
                    && after_only_actions
                    && next_indent(n).is_some_and(|i| i > *indent)
                {
                    fill = b' ';
                }
            }
            for i in line
                .clone()
                .filter(|&i| inside[i] && b[i] != b'\n' && b[i] != b'\r')
            {
                out[i] = fill;
            }
            // `{{ … -}}` alone on its line: the next line renders at the action's column.
            let last = line.clone().rev().find(|&i| inside[i]);
            if *blank
                && let Some(last) = last
                && text[..=last].ends_with("-}}")
                && let Some((next, false, next_in)) = lines.get(n + 1)
                && let Some(col) = line.clone().find(|&i| inside[i]).map(|i| i - line.start)
                && *next_in > col
            {
                out[next.start + next_in - col - 1] = b'\n';
            }
        }
        if !*blank {
            let content = String::from_utf8_lossy(&out[line.clone()]).to_string();
            let content = content.split(" #").next().unwrap_or("").trim_end();
            let indicator =
                content.trim_end_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-');
            leading_block = (indicator.ends_with(": |")
                || indicator.ends_with(": >")
                || indicator.ends_with("- |")
                || indicator.ends_with("- >")
                || indicator == "|"
                || indicator == ">")
                && !inside[line.clone()].iter().any(|x| *x);
        }
    }
    for r in dropped {
        for i in r.clone() {
            if b[i] != b'\n' && b[i] != b'\r' {
                out[i] = b' ';
            }
        }
    }
    String::from_utf8(out).expect("actions start and end on ASCII bytes")
}

fn branches(actions: &[Action], len: usize) -> Vec<Branch> {
    struct Open {
        block: usize,
        is_if: bool,
        index: usize,
        start: usize,
        cond: Range<usize>,
    }
    let mut out = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let close = |o: &Open, end: usize| Branch {
        block: o.block,
        index: o.index,
        range: o.start..end,
        cond: o.cond.clone(),
        is_if: o.is_if,
    };
    for (n, a) in actions.iter().enumerate() {
        match a.word {
            Word::If | Word::Open => stack.push(Open {
                block: n,
                is_if: a.word == Word::If,
                index: 0,
                start: a.range.end,
                cond: a.range.clone(),
            }),
            Word::Else => {
                if let Some(top) = stack.last_mut() {
                    out.push(close(top, a.range.start));
                    top.index += 1;
                    top.start = a.range.end;
                    top.cond = a.range.clone();
                }
            }
            Word::End => {
                if let Some(top) = stack.pop() {
                    out.push(close(&top, a.range.start));
                }
            }
            Word::Other => {}
        }
    }
    while let Some(top) = stack.pop() {
        out.push(close(&top, len));
    }
    out
}

/// 1-based line of a byte offset.
fn line_of(src: &str, offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &src.as_bytes()[..offset.min(src.len())]).count() + 1
}

/// The line holding `offset`, trimmed.
fn line_text(src: &str, offset: usize) -> &str {
    let start = crate::source::line_start(src, offset);
    src[start..crate::source::line_end(src, offset.max(start))].trim()
}

/// Run the pipeline on a template: mask, parse, plan with the template's limits, apply the
/// accepted edits to the original text, verify.
pub fn process(source: Source, ctx: &Context) -> Outcome {
    let mut out = Outcome {
        parsed: true,
        ..Outcome::default()
    };
    let src = source.text.as_str();
    let (tpl, docs) = match Template::scan_yaml(src) {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            out.error = Some(FileError {
                position: Some(source.line_col(e.offset)),
                message: format!(
                    "{} (read as a Helm template, with its {{{{ … }}}} actions blanked out); kubemig cannot check this file, migrate it by hand",
                    e.message
                ),
            });
            return out;
        }
        Err(at) => {
            out.error = Some(FileError {
                position: Some(source.line_col(at)),
                message: "this template action is not closed with `}}`".into(),
            });
            return out;
        }
    };
    let mut edits = Vec::new();
    let mut expected = Vec::with_capacity(docs.len());
    for doc in &docs {
        match plan_doc(&tpl, src, doc, ctx.catalogue, ctx.window) {
            Ok(plan) => {
                for obj in plan.objects {
                    out.push_object(&source, obj);
                }
                out.suppressed += plan.suppressed;
                edits.extend(plan.edits);
                expected.push(match plan.expected {
                    Some(m) => m.to_value(),
                    None => MNode::from_node(&doc.root).to_value(),
                });
            }
            Err(dup) => {
                return name_condition(out.duplicate_key(&source, &dup, 0), &tpl, src, &dup);
            }
        }
    }
    if edits.is_empty() {
        return out;
    }
    let result = edit::apply(src, &edits)
        .map_err(|e| e.to_string())
        .and_then(|output| {
            let want: Vec<Value> = expected
                .into_iter()
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            verify(&output, &want, ctx.catalogue, ctx.window)
                .map_err(|why| format!("self-verification failed: {why}"))?;
            Ok(output)
        });
    match result {
        Ok(output) => out.rewrite = Some((source.text, output)),
        Err(why) => {
            out.error = Some(FileError::new(format!(
                "internal error: {why}; the file was left unchanged. Please report this with the file."
            )));
            for o in &mut out.objects {
                o.item.status = Status::Blocked;
            }
        }
    }
    out
}

/// Check a rewritten template: masked again it parses, means what was planned, and would
/// not change on a second run.
fn verify(output: &str, expected: &[Value], cat: &Catalogue, window: Window) -> Result<(), String> {
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
        let again = plan_doc(&tpl, output, doc, cat, window).map_err(|e| e.to_string())?;
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
fn plan_doc(
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
            let mut plan = DocPlan::default();
            plan.objects.extend(chosen_by_guard(
                tpl, src, doc, &apis, kind, branch, cat, window,
            ));
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
        report.findings.push(Finding {
            level: Level::Warn,
            code: "HELM-GUARDED".into(),
            message: format!(
                "rendered only where the cluster serves {api} ({guard}, line {}); kubemig leaves guarded objects alone, and {removed_from} the chart renders no {kind} here unless another template provides one",
                line_of(src, api_node.span.start)
            ),
            offset: report.offset,
        });
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
        .filter(|f| f.code == "KUBEMIG-SHAPE")
    {
        f.message.push_str(
            " (in a Helm template: the value may come from a template action, which kubemig reads as empty)",
        );
    }
    if plan.edits.is_empty() {
        return Ok(plan);
    }
    if let Some((edit, why)) = plan
        .edits
        .iter()
        .find_map(|e| unacceptable(tpl, src, root, e).map(|why| (e, why)))
    {
        let at = match edit.range.is_empty() {
            true => first_char_of_line(src, insertion_anchor(src, edit.range.start)),
            false => edit.range.start,
        };
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
            r.findings.push(Finding {
                level: Level::Manual,
                code: "HELM-TEMPLATED".into(),
                message: format!(
                    "{what} needs more than a changed value here: {why}; in a Helm template kubemig only replaces literal values, so make this change by hand{explain}"
                ),
                offset: at,
            });
        }
        plan.edits.clear();
        plan.expected = None;
    }
    Ok(plan)
}

/// Why an edit cannot be applied to a template, if it cannot.
/// An insertion at the start of a line goes after the line before it: name that line.
fn insertion_anchor(src: &str, offset: usize) -> usize {
    if offset > 0 && src.as_bytes()[offset - 1] == b'\n' {
        crate::source::line_end(src, offset - 1)
    } else {
        offset
    }
}

fn unacceptable(tpl: &Template, src: &str, root: &Node, e: &Edit) -> Option<String> {
    let line = match e.range.is_empty() {
        true => line_of(src, insertion_anchor(src, e.range.start)),
        false => line_of(src, e.range.start),
    };
    if e.range.is_empty() {
        let added = e.text.lines().map(str::trim).find(|l| !l.is_empty());
        return Some(format!(
            "it adds `{}` after line {line}",
            added.unwrap_or_default()
        ));
    }
    if tpl.masks(&e.range) {
        return Some(format!(
            "it changes templated text on line {line} (`{}`)",
            line_text(src, e.range.start)
        ));
    }
    if e.text.contains('\n') || !is_token(root, &e.range) {
        let templated = match tpl.actions.iter().find(|a| {
            let under = e.range.start..subtree_end(&tpl.masked, e.range.start);
            a.range.start < under.end && under.start < a.range.end
        }) {
            Some(a) => format!(
                ", whose content is templated (`{}` on line {})",
                src[a.range.clone()].trim(),
                line_of(src, a.range.start)
            ),
            None => String::new(),
        };
        return Some(format!(
            "it restructures line {line} (`{}`){templated}",
            line_text(src, e.range.start)
        ));
    }
    None
}

/// Where the block under the line holding `offset` ends: at the next line (not blank in the
/// masked text) indented no deeper than it.
fn subtree_end(masked: &str, offset: usize) -> usize {
    let indent = |p: usize| {
        let line = &masked[p..crate::source::line_end(masked, p)];
        (!line.trim().is_empty()).then(|| line.len() - line.trim_start_matches(' ').len())
    };
    let start = crate::source::line_start(masked, offset);
    let Some(own) = indent(start) else {
        return masked.len();
    };
    let mut p = crate::source::next_line_start(masked, start);
    while p < masked.len() {
        if indent(p).is_some_and(|i| i <= own) {
            return p;
        }
        p = crate::source::next_line_start(masked, p);
    }
    masked.len()
}

/// Whether `range` is exactly the token of one scalar (a key or a value).
fn is_token(node: &Node, range: &Range<usize>) -> bool {
    match &node.kind {
        NodeKind::Scalar { .. } => node.span == *range,
        NodeKind::Map { entries, .. } => entries
            .iter()
            .any(|(k, v)| is_token(k, range) || is_token(v, range)),
        NodeKind::Seq { items, .. } => items.iter().any(|i| is_token(i, range)),
        NodeKind::Alias(_) => false,
    }
}

fn first_char_of_line(src: &str, offset: usize) -> usize {
    // An insertion lands at the end of the line before the new one: point at that line.
    let start = crate::source::line_start(src, offset);
    start + src[start..].len() - src[start..].trim_start_matches([' ', '\t']).len()
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

/// An apiVersion chosen by an `if`/`else` guard: leave it; say whether the target is
/// covered.
#[allow(clippy::too_many_arguments)]
fn chosen_by_guard(
    tpl: &Template,
    src: &str,
    doc: &Document,
    apis: &[&Node],
    kind: &str,
    branch: &Branch,
    cat: &Catalogue,
    window: Window,
) -> Option<ObjectReport> {
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
        r.findings.push(Finding {
            level,
            code: "HELM-GUARDED".into(),
            message: format!(
                "apiVersion is chosen by the template guard `{guard}` (line {guard_line}): {api} is served at {}; {} {} {tail}",
                window.target,
                others(i),
                if values.len() > 2 { "are" } else { "is" },
            ),
            offset: r.offset,
        });
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
    r.findings.push(Finding {
        level: Level::Manual,
        code: "HELM-GUARDED".into(),
        message: format!(
            "apiVersion is chosen by the template guard `{guard}` (line {guard_line}) and no branch is served at {} ({api}, {}): {add}",
            window.target,
            others(0),
        ),
        offset: r.offset,
    });
    Some(r)
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

/// A duplicate key that no template choice explains: say which condition sets the second
/// one, since the template is valid for the values that do not meet it.
fn name_condition(mut out: Outcome, tpl: &Template, src: &str, dup: &DuplicateKey) -> Outcome {
    let Some(b) = tpl
        .around(dup.second)
        .filter(|b| b.is_if && !(b.range.start <= dup.first && dup.first < b.range.end))
        .last()
    else {
        return out;
    };
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
    if let Some(e) = &mut out.error {
        e.message = format!(
            "{}; in this template the second `{}` is set {when}, so it breaks for the values that take that branch",
            e.message, dup.key
        );
    }
    out
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
    r.findings.push(Finding {
        level: Level::Manual,
        code: "HELM-TEMPLATED".into(),
        message: format!(
            "`{}` is set in two branches of a template `if` (lines {} and {}); kubemig does not plan a migration through template branches: migrate {api} -> {} by hand",
            dup.key,
            line_of(src, dup.first),
            line_of(src, dup.second),
            r.to.as_deref().unwrap_or("a served version"),
        ),
        offset: dup.second,
    });
    plan.objects.push(r);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_length_and_structure() {
        let src = "{{- if .Values.on }}\napiVersion: v1\nmetadata:\n  name: {{ include \"x\" . }}-web\n  labels:\n    {{- include \"l\" . | nindent 4 }}\n{{- end }} # done\n";
        let t = Template::scan(src).unwrap();
        assert_eq!(t.masked.len(), src.len());
        assert!(
            t.masked
                .starts_with("                    \napiVersion: v1\n")
        );
        assert!(
            t.masked
                .contains(&format!("  name: {}-web\n", "x".repeat(19)))
        );
        assert!(t.masked.ends_with("           # done\n"));
        assert!(parse_stream(&t.masked).is_ok());
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
