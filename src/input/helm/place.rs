//! Which planned edits a template can take, and where. The plan is made on the masked
//! text; an edit is applied to the template when it touches no templated region and does
//! not depend on one:
//!
//! - a replaced token (an apiVersion value, a renamed key) must not overlap an action, nor
//!   lie in an `if` read with one branch only (the other branch would keep the old text);
//! - a restructured entry must be plain down to the end of its block, in the same
//!   `if`/`range`/`with` branch as the object;
//! - new entries (the apps/v1 `selector`, pinned defaults) go in at a plain gap of their
//!   mapping: where the emitter put them when that is safe, else before one of the
//!   mapping's keys (the first first: right after `spec:`), else after its last entry. A
//!   gap is plain when it is in the object's own branch, no action is cut, the text before
//!   it does not end in `-}}` (which would trim the new lines' indentation), and the blank
//!   lines after it hold only control actions (`if`, `end`…), not a `toYaml` whose output
//!   would end up under the new entry;
//! - what a new entry copies (the selector's labels) must be reproducible: plain text,
//!   values filled by an inline action (copied as written) and helper calls under a
//!   string map (copied with their `nindent` set to the new column), but no `if`, `range`
//!   or whole-line `toYaml`, and nothing in a dropped branch.

use std::ops::Range;

use foldhash::{HashMap, HashMapExt};

use super::actions::{Template, Word};
use crate::edit::Edit;
use crate::plan::mtree::{MKind, MNode};
use crate::source::{column, line_end, line_of, line_start, next_line_start};
use crate::yaml::{Node, NodeKind};

/// Why an edit cannot be applied to the template, at the offset to report it at.
pub(super) struct Refusal {
    pub(super) at: usize,
    pub(super) why: String,
}

/// The edits of one document's plan as the template takes them.
pub(super) struct Admitted {
    pub(super) edits: Vec<Edit>,
    /// Templated `servicePort` values written as a choice between `port.number` and
    /// `port.name` made when the chart renders: (offset of the value, what the masked
    /// output reads under `name`, and under `number`). It has both keys under `port`.
    pub(super) port_choices: Vec<(usize, String, String)>,
}

/// The edits of one document's plan as the template takes them, or why it cannot.
pub(super) fn admit(
    tpl: &Template,
    src: &str,
    root: &Node,
    expected: Option<&MNode>,
    edits: &[Edit],
) -> Result<Admitted, Refusal> {
    // The branches the whole object is in (not a guard around its apiVersion line only).
    let end = root.span.end.saturating_sub(1).max(root.span.start);
    let home: Vec<(usize, usize)> = tpl
        .around(root.span.start)
        .filter(|b| end < b.range.end)
        .map(|b| (b.block, b.index))
        .collect();
    let copies = match expected {
        Some(m) => copied(tpl, src, root, m)?,
        None => Vec::new(),
    };
    let moved = moved_values(tpl, src, root, edits)?;
    let mut out = Admitted {
        edits: Vec::with_capacity(edits.len()),
        port_choices: Vec::new(),
    };
    let mut tails_written = 0;
    for e in edits {
        let e = if e.range.is_empty() {
            insertion(tpl, src, root, &home, e)?
        } else {
            replacement(tpl, src, root, &home, &moved, e)?
        };
        let e = unmask_copies(tpl, src, &copies, e, &mut tails_written)?;
        out.edits
            .push(unmask_moved(src, &moved, e, &mut out.port_choices)?);
    }
    // Each copied map's added entries are written once, after its copy: a selector without
    // them would not be what the API server defaults (all of the pod template's labels).
    if let Some(c) = copies.iter().find(|c| c.tail.is_some())
        && tails_written != copies.iter().filter(|c| c.tail.is_some()).count()
    {
        return Err(Refusal {
            at: c.lines.start,
            why: format!(
                "it copies the map at line {} with the entries its `if`/`with` blocks add, and kubemig cannot write them after the copy",
                line_of(src, c.lines.start)
            ),
        });
    }
    // A moved value must land somewhere (the rule moved it, it did not drop it), and
    // written as the template has it: never as the masked filler.
    for m in &moved {
        if let Some(e) = out.edits.iter().find(|e| e.text.contains(&m.masked)) {
            return Err(Refusal {
                at: m.span.start,
                why: format!(
                    "it moves `{}` (line {}), templated, to a place kubemig cannot write it (`{}`)",
                    m.key,
                    line_of(src, m.span.start),
                    e.text
                        .lines()
                        .find(|l| l.contains(&m.masked))
                        .unwrap_or("")
                        .trim()
                ),
            });
        }
        let landed = out.edits.iter().any(|e| e.text.contains(&m.original))
            || out.port_choices.iter().any(|(at, ..)| *at == m.span.start);
        if !landed {
            return Err(Refusal {
                at: m.span.start,
                why: format!(
                    "it removes `{}: {}` (line {}), whose value is templated",
                    m.key,
                    m.original,
                    line_of(src, m.span.start)
                ),
            });
        }
    }
    Ok(out)
}

/// The `if`/`range`/`with` branches around `offset`, as (block, branch).
fn context(tpl: &Template, offset: usize) -> Vec<(usize, usize)> {
    tpl.around(offset).map(|b| (b.block, b.index)).collect()
}

fn line_text(src: &str, offset: usize) -> &str {
    let start = line_start(src, offset);
    src[start..line_end(src, offset.max(start))].trim()
}

/// The first action overlapping `range` that is not a placeholder, or a dropped branch
/// there (as the `if` that drops it).
fn templated_in(
    tpl: &Template,
    src: &str,
    range: &Range<usize>,
    moved: &[Moved],
) -> Option<(usize, String)> {
    let action = tpl.actions.iter().enumerate().find(|(i, a)| {
        a.range.start < range.end
            && range.start < a.range.end
            && !tpl.placeholders.iter().any(|p| p.action == *i)
            && !moved
                .iter()
                .any(|m| m.span.start <= a.range.start && a.range.end <= m.span.end)
    });
    if let Some((_, a)) = action {
        return Some((a.range.start, src[a.range.clone()].trim().to_string()));
    }
    let d = tpl
        .dropped
        .iter()
        .find(|d| d.start < range.end && range.start < d.end)?;
    let b = tpl.branches.iter().find(|b| b.range == *d)?;
    Some((b.cond.start, src[b.cond.clone()].trim().to_string()))
}

/// An `if` read with one branch (`Template::scan_yaml`) around `offset`: its opener.
fn one_branch_if(tpl: &Template, offset: usize) -> Option<Range<usize>> {
    tpl.around(offset)
        .find(|b| {
            tpl.branches
                .iter()
                .any(|c| c.block == b.block && tpl.dropped.contains(&c.range))
        })
        .and_then(|b| tpl.opener(b.block))
        .map(|o| o.cond.clone())
}

fn replacement(
    tpl: &Template,
    src: &str,
    root: &Node,
    home: &[(usize, usize)],
    moved: &[Moved],
    e: &Edit,
) -> Result<Edit, Refusal> {
    let line = line_of(src, e.range.start);
    let refuse = |why: String| Refusal {
        at: e.range.start,
        why,
    };
    let inside_moved = |r: &Range<usize>| {
        moved
            .iter()
            .any(|m| m.span.start <= r.start && r.end <= m.span.end)
    };
    let masked = tpl
        .actions
        .iter()
        .map(|a| &a.range)
        .filter(|a| !inside_moved(a))
        .chain(&tpl.dropped)
        .any(|a| a.start < e.range.end.max(e.range.start + 1) && e.range.start < a.end);
    if masked {
        return Err(refuse(format!(
            "it changes templated text on line {line} (`{}`)",
            line_text(src, e.range.start)
        )));
    }
    if let Some(cond) = one_branch_if(tpl, e.range.start) {
        return Err(refuse(format!(
            "it changes line {line} (`{}`), in a branch of `{}` (line {}) whose other branches set the same key",
            line_text(src, e.range.start),
            src[cond.clone()].trim(),
            line_of(src, cond.start)
        )));
    }
    if !e.text.contains('\n') && is_token(root, &e.range) {
        return Ok(e.clone());
    }
    let region = restructured(tpl, src, e);
    let templated = templated_in(tpl, src, &region, moved);
    // The whole block in one branch: the object's own, or (a path of an Ingress inside
    // `{{ range }}`) the one its entry is written in, which renders it once per item.
    let own = context(tpl, region.start);
    if templated.is_some()
        || !home.iter().all(|h| own.contains(h))
        || context(tpl, region.end.saturating_sub(1).max(region.start)) != own
    {
        let templated = templated.map_or(String::new(), |(at, text)| {
            format!(
                ", whose content is templated (`{text}` on line {})",
                line_of(src, at)
            )
        });
        return Err(refuse(format!(
            "it restructures line {line} (`{}`){templated}",
            line_text(src, e.range.start)
        )));
    }
    Ok(e.clone())
}

/// The lines a restructuring edit rewrites: its entry's whole block.
fn restructured(tpl: &Template, src: &str, e: &Edit) -> Range<usize> {
    let under = without_closing_lines(
        tpl,
        src,
        line_start(src, e.range.start)..subtree_end(&tpl.masked, e.range.start),
    );
    under.start..under.end.max(e.range.end)
}

/// `lines` without the lines at its end that hold only actions that write nothing (`{{-
/// end }}` closing an outer `if`): they read as blank, so a block seems to run over them.
fn without_closing_lines(tpl: &Template, src: &str, lines: Range<usize>) -> Range<usize> {
    let mut end = lines.end;
    while end > lines.start {
        let start = line_start(src, end - 1);
        let line = start..end;
        let blank = indent_at(&tpl.masked, start).is_none();
        let writes = tpl
            .actions
            .iter()
            .any(|a| a.range.start < line.end && line.start < a.range.end && a.word == Word::Other);
        if !blank || writes {
            break;
        }
        end = start;
    }
    lines.start..end
}

/// Where the block under the line holding `offset` ends: at the next line (not blank in the
/// masked text) indented no deeper than it.
pub(super) fn subtree_end(masked: &str, offset: usize) -> usize {
    let start = line_start(masked, offset);
    let Some(own) = indent_at(masked, start) else {
        return masked.len();
    };
    let mut p = next_line_start(masked, start);
    while p < masked.len() {
        if indent_at(masked, p).is_some_and(|i| i <= own) {
            return p;
        }
        p = next_line_start(masked, p);
    }
    masked.len()
}

/// The indentation of the line starting at `p` in the masked text, `None` when blank.
fn indent_at(masked: &str, p: usize) -> Option<usize> {
    let line = &masked[p..line_end(masked, p)];
    (!line.trim().is_empty()).then(|| line.len() - line.trim_start_matches(' ').len())
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

/// New lines, placed at a plain gap of their mapping.
fn insertion(
    tpl: &Template,
    src: &str,
    root: &Node,
    home: &[(usize, usize)],
    e: &Edit,
) -> Result<Edit, Refusal> {
    let p = e.range.start;
    let anchor = match p > 0 && src.as_bytes()[p - 1] == b'\n' {
        true => line_end(src, p - 1),
        false => p,
    };
    let first_line = e.text.lines().map(str::trim).find(|l| !l.is_empty());
    let refuse = |why: &str| Refusal {
        at: first_char_of_line(src, anchor),
        why: format!(
            "it adds `{}` after line {}{why}",
            first_line.unwrap_or_default(),
            line_of(src, anchor)
        ),
    };
    // As whole lines inserted at a line start.
    let nl = if src.contains("\r\n") { "\r\n" } else { "\n" };
    let (at, text) = if (p == 0 || src.as_bytes()[p - 1] == b'\n') && e.text.ends_with('\n') {
        (p, e.text.clone())
    } else if let Some(rest) = e.text.strip_prefix(nl)
        && src[p..].starts_with(nl)
    {
        (p + nl.len(), format!("{rest}{nl}"))
    } else if let Some(lines) = first_entry_of_item(src, p, &e.text, nl) {
        // A new first entry of a list item (`- pathType: …` before `backend:`, an Ingress
        // path without `path`): the same entry as whole lines after the item's last line.
        (content_end(&tpl.masked, p), lines)
    } else if let Some(lines) = before_key(src, p, &e.text, nl) {
        // New entries before a key, written at its column (`selector:` … then the
        // indentation of `template:`): the same as whole lines before the key's line.
        (line_start(src, p), lines)
    } else {
        return Err(refuse(""));
    };
    let Some(col) = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
    else {
        return Ok(Edit::insert(at, text));
    };
    let item = text.trim_start().starts_with('-');
    // New entries go in the branch their mapping is written in: the object's own, or a
    // `range`/`with` body inside it that renders the mapping once per item (an Ingress
    // path), never a branch deeper than the mapping (an entry meant for the object inside
    // a `range` would be rendered once per item).
    let (gaps, own): (Vec<usize>, Vec<(usize, usize)>) =
        match (item, mapping_at(root, src, &tpl.masked, at, col)) {
            (false, Some(map)) => (
                std::iter::once(at)
                    // Before a key that starts its line: the first key of a list item
                    // follows its `- `, and lines before it would end the item above.
                    .chain(
                        map.keys
                            .iter()
                            .filter(|k| first_char_of_line(src, **k) == **k)
                            .map(|k| line_start(src, *k)),
                    )
                    .chain([content_end(&tpl.masked, map.owner), map.end])
                    .collect(),
                context(tpl, map.owner),
            ),
            // An item's place in its list is its meaning: it stays where it is.
            _ => (vec![at], home.to_vec()),
        };
    // Beyond the object's branches: `range` bodies, and `if`/`with` branches that hold the
    // whole mapping (it renders only there, so the entry is needed exactly there) of a
    // block this reading kept whole. When another branch of the block was left out of the
    // reading, it was not planned, and an entry written in one branch only would leave
    // the other as it was.
    let ranged = |(block, _): &(usize, usize)| {
        tpl.opener(*block).is_some_and(|o| {
            src[o.cond.clone()]
                .trim_start_matches(['{', '-', ' '])
                .starts_with("range")
        })
    };
    let read_whole = |(block, _): &(usize, usize)| {
        !tpl.branches
            .iter()
            .any(|c| c.block == *block && tpl.dropped.contains(&c.range))
    };
    if !home.iter().all(|h| own.contains(h))
        || own
            .iter()
            .any(|b| !home.contains(b) && !ranged(b) && !read_whole(b))
    {
        return Err(refuse(", outside the object's own branch"));
    }
    match gaps
        .into_iter()
        .find(|g| plain_gap(tpl, src, &own, *g, col))
    {
        Some(g) => Ok(Edit::insert(g, text)),
        None => {
            let templated = following_output(tpl, src, at).map_or(String::new(), |(o, t)| {
                format!(
                    ", where templated text follows (`{t}` on line {})",
                    line_of(src, o)
                )
            });
            Err(refuse(&format!(
                "{templated}, and no plain place in its mapping takes it"
            )))
        }
    }
}

/// `text`, entries inserted at `p`, a key that its line's indentation alone precedes, and
/// followed by that indentation: as whole lines before that line.
fn before_key(src: &str, p: usize, text: &str, nl: &str) -> Option<String> {
    let before = &src[line_start(src, p)..p];
    let body = text.strip_suffix(before)?;
    (!before.is_empty()
        && before.bytes().all(|b| b == b' ')
        && body.ends_with(nl)
        && !body.trim().is_empty())
    .then(|| format!("{before}{body}"))
}

/// `text`, an entry inserted at `p` right after a list item's `- ` and followed by the
/// indentation of the item's keys, as whole lines at that indentation.
fn first_entry_of_item(src: &str, p: usize, text: &str, nl: &str) -> Option<String> {
    let start = line_start(src, p);
    let before = &src[start..p];
    let col = p - start;
    let indent = " ".repeat(col);
    let body = text.strip_suffix(&indent)?;
    (before.trim_start_matches(' ') == "- " && body.ends_with(nl) && !body.trim().is_empty()).then(
        || {
            body.split_inclusive(nl)
                .enumerate()
                .map(|(i, l)| match i {
                    0 => format!("{indent}{l}"),
                    _ => l.to_string(),
                })
                .collect()
        },
    )
}

/// The start of the line after the last line with text of the block that starts on the
/// line of `offset` (the lines of actions alone after it, `{{- end }}`, not counted).
fn content_end(masked: &str, offset: usize) -> usize {
    let start = line_start(masked, offset);
    let Some(own) = indent_at(masked, start) else {
        return next_line_start(masked, start);
    };
    let mut end = next_line_start(masked, start);
    let mut p = end;
    while p < masked.len() {
        match indent_at(masked, p) {
            Some(i) if i <= own => break,
            Some(_) => end = next_line_start(masked, p),
            None => {}
        }
        p = next_line_start(masked, p);
    }
    end
}

fn first_char_of_line(src: &str, offset: usize) -> usize {
    let start = line_start(src, offset);
    start + src[start..].len() - src[start..].trim_start_matches([' ', '\t']).len()
}

/// A block mapping: where its keys start and where its block ends.
struct Mapping {
    keys: Vec<usize>,
    end: usize,
    /// Where the mapping is written: its key in the parent mapping, or its list item.
    owner: usize,
}

/// The innermost block mapping whose keys are at column `col` and whose block holds `at`.
fn mapping_at(root: &Node, src: &str, masked: &str, at: usize, col: usize) -> Option<Mapping> {
    #[allow(clippy::too_many_arguments)]
    fn walk(
        n: &Node,
        owner: usize,
        src: &str,
        masked: &str,
        at: usize,
        col: usize,
        best: &mut Option<Mapping>,
    ) {
        match &n.kind {
            NodeKind::Map {
                flow: false,
                entries,
            } if !entries.is_empty() => {
                let first = entries[0].0.span.start;
                let last = entries[entries.len() - 1].0.span.start;
                if column(src, first) == col
                    && line_start(src, first) <= at
                    && at <= subtree_end(masked, last)
                {
                    *best = Some(Mapping {
                        keys: entries.iter().map(|(k, _)| k.span.start).collect(),
                        end: subtree_end(masked, last),
                        owner,
                    });
                }
                entries
                    .iter()
                    .for_each(|(k, v)| walk(v, k.span.start, src, masked, at, col, best));
            }
            NodeKind::Map { entries, .. } => entries
                .iter()
                .for_each(|(k, v)| walk(v, k.span.start, src, masked, at, col, best)),
            NodeKind::Seq { items, .. } => items
                .iter()
                .for_each(|i| walk(i, i.span.start, src, masked, at, col, best)),
            _ => {}
        }
    }
    let mut best = None;
    walk(root, root.span.start, src, masked, at, col, &mut best);
    best
}

/// Whether new lines at column `col` can go in at line start `g`: see the module doc.
fn plain_gap(tpl: &Template, src: &str, home: &[(usize, usize)], g: usize, col: usize) -> bool {
    if g > src.len() || (g > 0 && src.as_bytes()[g - 1] != b'\n') {
        return false;
    }
    let cut = |r: &Range<usize>| r.start < g && g < r.end;
    if tpl.actions.iter().any(|a| cut(&a.range)) || tpl.dropped.iter().any(cut) {
        return false;
    }
    // Lines inserted at `g` go before an action that starts there: a `{{- end }}` at column
    // 0 right at `g` closes a branch the new lines would be in (kube-state-metrics: the end
    // of `spec` is the last line of an `if .Values.tolerations`).
    let inside: Vec<(usize, usize)> = tpl
        .branches
        .iter()
        .filter(|b| b.range.start <= g && g <= b.range.end)
        .map(|b| (b.block, b.index))
        .collect();
    if inside != home {
        return false;
    }
    if src[..g].trim_end().ends_with("-}}") {
        return false;
    }
    if following_output(tpl, src, g).is_some() {
        return false;
    }
    // The next line with text continues the mapping or closes it.
    let mut p = g;
    while p < src.len() {
        if let Some(i) = indent_at(&tpl.masked, p) {
            let rest = tpl.masked[p + i..].trim_start();
            return i < col || (i == col && !rest.starts_with("- ") && !rest.starts_with('-'));
        }
        p = next_line_start(src, p);
    }
    true
}

/// An action that writes text (not `if`, `else`, `end`, `range`, `with`, nor a comment) on
/// the lines from `g` that read as blank: its output would follow lines inserted at `g`.
fn following_output(tpl: &Template, src: &str, g: usize) -> Option<(usize, String)> {
    let mut p = g;
    while p < src.len() && indent_at(&tpl.masked, p).is_none() {
        let end = next_line_start(src, p);
        if let Some(a) = tpl.actions.iter().find(|a| {
            a.range.start < end
                && p <= a.range.start
                && a.word == Word::Other
                && !src[a.range.clone()]
                    .trim_start_matches("{{")
                    .trim_start_matches('-')
                    .trim_start()
                    .starts_with("/*")
        }) {
            return Some((a.range.start, src[a.range.clone()].trim().to_string()));
        }
        p = end;
    }
    None
}

/// A copied original node: the lines it spans, whose actions are copied as written.
struct Copy {
    lines: Range<usize>,
    /// A string map whose entries end in blocks that add more of them (`{{- if
    /// .Values.podLabels }}` + `{{ toYaml .Values.podLabels | indent 8 }}` + `{{- end }}`):
    /// the masked text of its last entry's line, and the blocks, copied after that line.
    tail: Option<Tail>,
}

/// The label blocks that end a copied map, written again after its copy.
struct Tail {
    /// The masked text (trimmed) of the map's last entry line.
    last: String,
    /// The column of the map's entries.
    col: usize,
    /// Each line of the blocks: its column, its text (trimmed), and where the indentation
    /// number of a line that writes entries is in that text.
    lines: Vec<(usize, String, Option<Range<usize>>)>,
}

/// The original nodes the migrated document copies into new entries, checked to be
/// reproducible (see the module doc).
fn copied(tpl: &Template, src: &str, root: &Node, m: &MNode) -> Result<Vec<Copy>, Refusal> {
    let mut by_id: HashMap<usize, (&Node, Option<&Node>)> = HashMap::new();
    fn index<'n>(
        n: &'n Node,
        key: Option<&'n Node>,
        out: &mut HashMap<usize, (&'n Node, Option<&'n Node>)>,
    ) {
        out.insert(n.id, (n, key));
        match &n.kind {
            NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                index(k, None, out);
                index(v, Some(k), out)
            }),
            NodeKind::Seq { items, .. } => items.iter().for_each(|i| index(i, None, out)),
            _ => {}
        }
    }
    index(root, None, &mut by_id);
    let mut origs = Vec::new();
    fn new_entries(m: &MNode, inside_new: bool, out: &mut Vec<usize>) {
        if inside_new && let Some(id) = m.orig {
            out.push(id);
            return;
        }
        match &m.kind {
            MKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                let new = inside_new || k.orig.is_none();
                new_entries(v, new, out)
            }),
            MKind::Seq { items, .. } => items
                .iter()
                .for_each(|i| new_entries(i, inside_new || i.orig.is_none(), out)),
            _ => {}
        }
    }
    new_entries(m, false, &mut origs);
    let mut out = Vec::new();
    for id in origs {
        let Some(&(node, key)) = by_id.get(&id) else {
            continue;
        };
        let (from, mut lines) = match key {
            Some(k) => (
                k.span.start,
                without_closing_lines(
                    tpl,
                    src,
                    line_start(src, k.span.start)..subtree_end(&tpl.masked, k.span.start),
                ),
            ),
            None => (node.span.start, node.span.clone()),
        };
        let name = key.and_then(Node::as_str).unwrap_or("a value");
        let refuse = |why: String| Refusal {
            at: from,
            why: format!("it copies `{name}` (line {}), {why}", line_of(src, from)),
        };
        // Whole-line actions other than placeholders, control actions and dropped
        // branches make the copy depend on values; blocks that add entries at the end of a
        // map are copied after it.
        let mut value = match key {
            Some(_) => node.span.start.max(next_line_start(src, from))..lines.end,
            None => lines.clone(),
        };
        let tail = match (key, &node.kind) {
            (Some(k), NodeKind::Map { .. }) => {
                entry_blocks(tpl, src, node, subtree_end(&tpl.masked, k.span.start))
            }
            _ => None,
        };
        if let Some((start, _)) = &tail {
            value.end = value.end.min(*start);
            lines.end = lines.end.min(*start);
        }
        let action = tpl
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.range.start < lines.end && lines.start < a.range.end)
            .find(|(i, a)| {
                let placeholder = tpl.placeholders.iter().any(|p| p.action == *i);
                let whole_line = src[line_start(src, a.range.start)..a.range.start]
                    .trim()
                    .is_empty()
                    && src[a.range.end..line_end(src, a.range.end)]
                        .trim()
                        .is_empty();
                !placeholder && (a.word != Word::Other || whole_line)
            })
            .map(|(_, a)| (a.range.start, src[a.range.clone()].trim().to_string()));
        let dropped = tpl
            .dropped
            .iter()
            .find(|d| d.start < value.end && value.start < d.end)
            .and_then(|d| tpl.branches.iter().find(|b| b.range == *d))
            .map(|b| (b.cond.start, src[b.cond.clone()].trim().to_string()));
        if let Some((at, text)) = action.or(dropped) {
            return Err(refuse(format!(
                "whose content is templated (`{text}` on line {}): kubemig cannot write it for every value",
                line_of(src, at)
            )));
        }
        let inline = tpl
            .actions
            .iter()
            .any(|a| a.range.start < value.end && value.start < a.range.end);
        if inline && matches!(node.kind, NodeKind::Scalar { .. }) && key.is_some() {
            // A templated scalar copied into a new entry: its line is not copied whole.
            return Err(refuse(format!(
                "whose value is templated (`{}`)",
                line_text(src, node.span.start)
            )));
        }
        out.push(Copy {
            lines: value,
            tail: tail.map(|(_, t)| t),
        });
    }
    Ok(out)
}

/// The blocks at the end of the string map `map` (whose block ends at `end`) that each
/// add entries to it, at its column, when a value is set: an `if` or `with` line, one line
/// that writes the entries (`{{ toYaml .Values.podLabels | indent 8 }}`, `{{- toYaml . |
/// nindent 8 }}`), an `end` line. Returned with where they start; `None` when the map does
/// not end in such blocks (then its copy is checked line by line, as any other).
fn entry_blocks(tpl: &Template, src: &str, map: &Node, end: usize) -> Option<(usize, Tail)> {
    let col = column(&tpl.masked, map.span.start);
    let last_line = line_start(
        &tpl.masked,
        map.span.end.saturating_sub(1).max(map.span.start),
    );
    let start = next_line_start(src, last_line);
    // The one action that makes up the line at `p`, if it does.
    let only_action = |p: usize| {
        let (ls, le) = (p, line_end(src, p));
        let text = src[ls..le].trim();
        let i = tpl
            .actions
            .iter()
            .position(|a| a.range.start >= ls && a.range.end <= le)?;
        let a = &tpl.actions[i];
        (src[a.range.clone()] == *text).then_some(i)
    };
    let mut lines = Vec::new();
    let mut pending = Vec::new();
    let mut p = start;
    // 0: before an opener, 1: after it, 2: after the line that writes entries.
    let mut state = 0;
    let mut block_end = start;
    while p < end {
        let text = src[p..line_end(src, p)].trim();
        let next = next_line_start(src, p);
        if text.is_empty() {
            p = next;
            continue;
        }
        let i = only_action(p)?;
        let a = &tpl.actions[i];
        let action = &src[a.range.clone()];
        let oc = column(src, a.range.start);
        match (state, a.word) {
            (0, Word::If | Word::Open) => {
                let opener = action.trim_start_matches(['{', '-', ' ']);
                if !(opener.starts_with("if ") || opener.starts_with("with ")) {
                    break;
                }
                state = 1;
                pending.push((oc, action.to_string(), None));
            }
            (1, Word::Other) => {
                if super::actions::rendered_column(action, oc) != Some(col) {
                    return None;
                }
                state = 2;
                pending.push((oc, action.to_string(), Some(indent_number(action)?)));
            }
            (2, Word::End) => {
                state = 0;
                pending.push((oc, action.to_string(), None));
                lines.append(&mut pending);
                block_end = next;
            }
            // What follows the map (`{{- with .Values.podAnnotations }}` + `annotations:`).
            (0, _) | (1, Word::If | Word::Open) => break,
            _ => return None,
        }
        p = next;
    }
    // An opener left open here is the next key's (its lines are beyond `end`); after the
    // blocks nothing up to `end` writes.
    let writes_after = tpl
        .actions
        .iter()
        .any(|a| a.range.start >= block_end && a.range.start < end && a.word == Word::Other);
    if lines.is_empty() || state == 2 || writes_after {
        return None;
    }
    Some((
        start,
        Tail {
            last: tpl.masked[last_line..line_end(&tpl.masked, last_line)]
                .trim()
                .to_string(),
            col,
            lines,
        },
    ))
}

/// Where the number of `indent N` / `nindent N` is in an action's text (the only one).
fn indent_number(action: &str) -> Option<Range<usize>> {
    let mut found = None;
    for w in ["nindent ", "indent "] {
        for (at, _) in action.match_indices(w) {
            if w == "indent " && at > 0 && action.as_bytes()[at - 1] == b'n' {
                continue;
            }
            let from = at + w.len();
            let from = from + action[from..].len() - action[from..].trim_start().len();
            let digits = action[from..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits == 0 || found.is_some() {
                return None;
            }
            found = Some(from..from + digits);
        }
    }
    found
}

/// The edit with each copied line that reads masked text written as the original: inline
/// actions as they are, a placeholder's helper call with its indentation set to the column
/// it is copied to.
fn unmask_copies(
    tpl: &Template,
    src: &str,
    copies: &[Copy],
    e: Edit,
    written: &mut usize,
) -> Result<Edit, Refusal> {
    if copies.is_empty() || !e.range.is_empty() && !e.text.contains('\n') {
        return Ok(e);
    }
    // Masked line (trimmed) -> the original line (trimmed) and its placeholder, if any.
    let mut lines: HashMap<&str, (&str, Option<usize>)> = HashMap::new();
    for c in copies {
        let mut p = line_start(src, c.lines.start);
        while p < c.lines.end {
            let end = line_end(src, p);
            let (m, o) = (tpl.masked[p..end].trim(), src[p..end].trim());
            if m != o {
                let placeholder = tpl.placeholders.iter().position(|ph| {
                    tpl.actions[ph.action].range.start >= p
                        && tpl.actions[ph.action].range.end <= end
                });
                if lines
                    .insert(m, (o, placeholder))
                    .is_some_and(|(was, _)| was != o)
                {
                    return Err(Refusal {
                        at: p,
                        why: format!(
                            "it copies line {} (`{o}`), which reads like another templated line of it",
                            line_of(src, p)
                        ),
                    });
                }
            }
            p = next_line_start(src, p);
        }
    }
    let tails: Vec<&Tail> = copies.iter().filter_map(|c| c.tail.as_ref()).collect();
    if lines.is_empty() && tails.is_empty() {
        return Ok(e);
    }
    let mut text = String::with_capacity(e.text.len() + 64);
    let all: Vec<&str> = e.text.split_inclusive('\n').collect();
    for (n, l) in all.iter().enumerate() {
        let body = l.trim_end_matches(['\n', '\r']);
        let ending = &l[body.len()..];
        let col = body.len() - body.trim_start_matches(' ').len();
        if let Some(t) = tails.iter().find(|t| t.last == body.trim()) {
            // The copy's last entry: its map ends here (the next line is shallower).
            let ends = all.get(n + 1).is_none_or(|next| {
                let next = next.trim_end_matches(['\n', '\r']);
                next.len() - next.trim_start_matches(' ').len() < col
            });
            let refuse = |why: &str| Refusal {
                at: e.range.start,
                why: format!("it copies the blocks that end `{}` {why}", t.last),
            };
            if !ends || ending.is_empty() {
                return Err(refuse("to a place where they would not end the copy"));
            }
            let copied = match lines.get(body.trim()) {
                Some((orig, None)) => format!("{}{orig}{ending}", " ".repeat(col)),
                Some((orig, Some(i))) => {
                    let call = tpl.placeholders[*i]
                        .call_at(orig, col)
                        .ok_or_else(|| refuse("after a call it cannot move"))?;
                    format!("{call}{ending}")
                }
                None => l.to_string(),
            };
            text.push_str(&copied);
            for (oc, action, number) in &t.lines {
                let at = (oc + col).saturating_sub(t.col);
                let line = match number {
                    // `indent N` writes where the action is plus N: the action stays, N moves.
                    Some(r) => {
                        let n: usize = action[r.clone()].parse().unwrap_or(0);
                        let n = (n + col)
                            .checked_sub(t.col)
                            .ok_or_else(|| refuse("to a column left of where they write"))?;
                        let at = if action.contains("nindent") { at } else { *oc };
                        format!(
                            "{}{}{n}{}",
                            " ".repeat(at),
                            &action[..r.start],
                            &action[r.end..]
                        )
                    }
                    None => format!("{}{action}", " ".repeat(at)),
                };
                text.push_str(&line);
                text.push_str(ending);
            }
            *written += 1;
            continue;
        }
        match lines.get(body.trim()) {
            Some((orig, None)) => text.push_str(&format!("{}{orig}{ending}", " ".repeat(col))),
            Some((orig, Some(i))) => {
                let ph = &tpl.placeholders[*i];
                let call = ph.call_at(orig, col).ok_or_else(|| Refusal {
                    at: e.range.start,
                    why: format!(
                        "it copies `{orig}` to column {col}, where kubemig cannot read it back"
                    ),
                })?;
                text.push_str(&format!("{call}{ending}"));
            }
            None => text.push_str(l),
        }
    }
    Ok(Edit {
        range: e.range,
        text,
    })
}

/// Templated values a restructuring may move, by their key. The Ingress rules test
/// `serviceName` only for presence, so it moves as written. They choose by the type of
/// `servicePort` (`port.number` for an integer, `port.name` for a name), which an action
/// decides only when the chart renders: it is written as that choice
/// ([`port_choice`]). A value any other rule reads stays refused.
const MOVABLE: &[&str] = &["serviceName", "servicePort"];

/// A templated scalar that a restructuring moves to a new key.
struct Moved {
    key: &'static str,
    span: Range<usize>,
    masked: String,
    original: String,
}

/// The templated `MOVABLE` values inside the blocks that `edits` restructure.
fn moved_values(
    tpl: &Template,
    src: &str,
    root: &Node,
    edits: &[Edit],
) -> Result<Vec<Moved>, Refusal> {
    let regions: Vec<Range<usize>> = edits
        .iter()
        .filter(|e| !e.range.is_empty() && (e.text.contains('\n') || !is_token(root, &e.range)))
        .map(|e| restructured(tpl, src, e))
        .collect();
    fn walk(n: &Node, out: &mut Vec<(&'static str, Range<usize>)>) {
        match &n.kind {
            NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                if let (Some(key), NodeKind::Scalar { .. }) = (k.as_str(), &v.kind)
                    && let Some(m) = MOVABLE.iter().find(|m| **m == key)
                {
                    out.push((m, v.span.clone()));
                }
                walk(v, out)
            }),
            NodeKind::Seq { items, .. } => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(root, &mut found);
    let mut out: Vec<Moved> = Vec::new();
    for (key, span) in found {
        if !tpl.masks(&span)
            || !regions
                .iter()
                .any(|r| r.start <= span.start && span.end <= r.end)
        {
            continue;
        }
        let (masked, original) = (
            tpl.masked[span.clone()].to_string(),
            src[span.clone()].to_string(),
        );
        // The masked text is how the emitter's copy is found again: it must name one value.
        if masked.contains('\n')
            || out
                .iter()
                .any(|m| m.masked == masked && m.original != original)
        {
            return Err(Refusal {
                at: span.start,
                why: format!(
                    "it moves `{key}` (line {}), whose value `{original}` reads like another templated value",
                    line_of(src, span.start)
                ),
            });
        }
        out.push(Moved {
            key,
            span,
            masked,
            original,
        });
    }
    Ok(out)
}

/// The edit with each moved templated value written as the original: `serviceName`'s as
/// it is, `servicePort`'s (`name: …` under `port:`) as a choice made when it renders.
fn unmask_moved(
    src: &str,
    moved: &[Moved],
    e: Edit,
    choices: &mut Vec<(usize, String, String)>,
) -> Result<Edit, Refusal> {
    if moved.is_empty() || !e.text.contains('\n') {
        return Ok(e);
    }
    let mut text = String::with_capacity(e.text.len() + 128);
    let mut after_port = false;
    for l in e.text.split_inclusive('\n') {
        let body = l.trim_end_matches(['\n', '\r']);
        let ending = &l[body.len()..];
        let col = body.len() - body.trim_start_matches(' ').len();
        let trimmed = body.trim();
        let port_line = std::mem::replace(&mut after_port, trimmed == "port:");
        let Some((key, value)) = trimmed.split_once(": ") else {
            text.push_str(l);
            continue;
        };
        let find = |k: &str| moved.iter().find(|m| m.masked == value && m.key == k);
        match (find("servicePort"), find("serviceName")) {
            (Some(m), _) if port_line && key == "name" => {
                let action = port_choice(src, m)?;
                let pad = " ".repeat(col);
                let nl = match e.text.contains("\r\n") {
                    true => "\r\n",
                    false => "\n",
                };
                text.push_str(&format!(
                    "{pad}{{{{- if regexMatch \"^[0-9]+$\" (toString {}) }}}}{nl}{pad}number: {{{{ {action} }}}}{nl}{pad}{{{{- else }}}}{nl}{pad}name: {}{nl}{pad}{{{{- end }}}}{ending}",
                    match action.contains('|') {
                        true => format!("({action})"),
                        false => action.clone(),
                    },
                    m.original
                ));
                // What the masked reading of the output has: the number's action bare,
                // the name's as the original (quotes are not part of the value).
                let name = m.masked.trim_matches(['"', '\'']).to_string();
                choices.push((
                    m.span.start,
                    name,
                    super::actions::inline_filler(&format!("{{{{ {action} }}}}")),
                ));
            }
            (_, Some(m)) if key == "name" => {
                text.push_str(&format!("{}{key}: {}{ending}", " ".repeat(col), m.original));
            }
            _ => text.push_str(l),
        }
    }
    Ok(Edit {
        range: e.range,
        text,
    })
}

/// The pipeline of a templated `servicePort` whose rendered text decides between
/// `port.number` and `port.name`: one action (quoted or not) that renders a value as it
/// is, a variable or a field with `default`, `int` or `toString`. Anything else (`quote`,
/// `printf`, text around it…) renders text kubemig cannot tell apart from the value.
fn port_choice(src: &str, m: &Moved) -> Result<String, Refusal> {
    let refuse = || Refusal {
        at: m.span.start,
        why: format!(
            "servicePort (line {}) is `{}`, which renders either a number (port.number) or a name (port.name); kubemig writes that choice into the template only for a variable or a field (`{{{{ $svcPort }}}}`, `{{{{ .Values.service.port }}}}`, with `default`), so choose the form by hand",
            line_of(src, m.span.start),
            m.original
        ),
    };
    let o = m.original.as_str();
    let inner = match o.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) if o.len() >= 2 && o.as_bytes()[o.len() - 1] == *q => {
            &o[1..o.len() - 1]
        }
        _ => o,
    };
    let action = inner
        .strip_prefix("{{ ")
        .and_then(|a| a.strip_suffix(" }}"))
        .filter(|a| !a.contains("{{") && !a.contains("}}"))
        .map(str::trim)
        .ok_or_else(refuse)?;
    let reference =
        |w: &str| (w.starts_with('$') || w.starts_with('.')) && !w.contains(['(', ')', '"']);
    let literal = |w: &str| {
        w.parse::<i64>().is_ok()
            || (w.len() >= 2
                && w.starts_with('"')
                && w.ends_with('"')
                && !w[1..w.len() - 1].contains(['"', '\\']))
    };
    let ok = action.split('|').enumerate().all(|(i, cmd)| {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match (i, words.as_slice()) {
            (0, [w]) => reference(w),
            (0, ["default", d, w]) => (literal(d) || reference(d)) && reference(w),
            (_, ["default", d]) => literal(d) || reference(d),
            (_, ["int" | "toString"]) => true,
            _ => false,
        }
    });
    if !ok {
        return Err(refuse());
    }
    Ok(action.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    fn labels_of(src: &str) -> (Template, Node) {
        let t = Template::scan(src).unwrap();
        let docs = parse_stream(&t.masked).unwrap();
        let labels = docs[0]
            .root
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .unwrap()
            .clone();
        (t, labels)
    }

    #[test]
    fn label_blocks_at_the_end_of_a_map_are_its_tail() {
        // kube2iam: `if` + `toYaml | indent` at column 0 + `end`, then the next key.
        let src = "metadata:\n  labels:\n    app: {{ .Release.Name }}\n  {{- if .Values.podLabels }}\n{{ toYaml .Values.podLabels | indent 4 }}\n  {{- end }}\n{{- with .Values.ann }}\n  annotations:\n{{ toYaml . | indent 4 }}\n{{- end }}\nspec: {}\n";
        let (t, labels) = labels_of(src);
        let end = subtree_end(&t.masked, src.find("labels").unwrap());
        let (start, tail) = entry_blocks(&t, src, &labels, end).unwrap();
        assert_eq!(start, src.find("  {{- if").unwrap());
        assert_eq!(tail.col, 4);
        assert!(tail.last.starts_with("app: x"), "{}", tail.last);
        let texts: Vec<&str> = tail.lines.iter().map(|(_, t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "{{- if .Values.podLabels }}",
                "{{ toYaml .Values.podLabels | indent 4 }}",
                "{{- end }}"
            ]
        );
        // The opener of `annotations` that follows is not part of it.
        assert_eq!(tail.lines.iter().filter(|l| l.2.is_some()).count(), 1);
    }

    #[test]
    fn label_blocks_that_write_elsewhere_or_hold_entries_are_not_a_tail() {
        // `indent 2` renders at column 2, not the labels' 4.
        let src = "metadata:\n  labels:\n    app: a\n  {{- if .Values.l }}\n{{ toYaml .Values.l | indent 2 }}\n  {{- end }}\nspec: {}\n";
        let (t, labels) = labels_of(src);
        let end = subtree_end(&t.masked, src.find("labels").unwrap());
        assert!(entry_blocks(&t, src, &labels, end).is_none());
        // A plain entry under the `if`: read as an entry of the map, not a tail.
        let src = "metadata:\n  labels:\n    app: a\n    {{- if .Values.l }}\n    tier: x\n    {{- end }}\nspec: {}\n";
        let (t, labels) = labels_of(src);
        let end = subtree_end(&t.masked, src.find("labels").unwrap());
        assert!(entry_blocks(&t, src, &labels, end).is_none());
        // An `else` is not a block that only adds.
        let src = "metadata:\n  labels:\n    app: a\n    {{- if .Values.l }}\n    {{- toYaml .Values.l | nindent 4 }}\n    {{- else }}\n    {{- toYaml .Values.m | nindent 4 }}\n    {{- end }}\nspec: {}\n";
        let (t, labels) = labels_of(src);
        let end = subtree_end(&t.masked, src.find("labels").unwrap());
        assert!(entry_blocks(&t, src, &labels, end).is_none());
    }

    #[test]
    fn the_indentation_number_of_an_action() {
        let a = "{{ toYaml . | indent 8 }}";
        assert_eq!(&a[indent_number(a).unwrap()], "8");
        let a = "{{- toYaml .Values.l | nindent 12 }}";
        assert_eq!(&a[indent_number(a).unwrap()], "12");
        assert!(indent_number("{{ toYaml . }}").is_none());
        assert!(indent_number("{{ toYaml . | indent 2 | indent 4 }}").is_none());
    }
}
