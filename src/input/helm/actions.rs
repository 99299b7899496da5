//! The Go template actions (`{{ … }}`) of a Helm template: finding them (`lex`), masking
//! them with filler of their exact byte length (`mask`), and the `if`/`else` branches they
//! open (`branches`). What masking does is explained in [`super`].

use std::ops::Range;

use crate::yaml::{Document, Node, NodeKind, parse_stream};

/// What an action does to the template's block structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Word {
    If,
    /// `range`, `with`, `define`, `block`: open a block that `end` closes.
    Open,
    Else,
    End,
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub(crate) range: Range<usize>,
    pub(crate) word: Word,
}

/// One branch of a block: the text between the action that opens it (`if`, `else`,
/// `else if`) and the next `else` or `end` of the same block.
#[derive(Debug, Clone)]
pub(crate) struct Branch {
    pub(crate) block: usize,
    pub(crate) index: usize,
    pub(crate) range: Range<usize>,
    /// The action that opens this branch.
    pub(crate) cond: Range<usize>,
    /// Whether the block is an `if` (not a `range` or `with`).
    pub(crate) is_if: bool,
}

/// A template with its actions masked.
pub struct Template {
    /// The text with every action replaced by filler of the same byte length.
    pub masked: String,
    pub(crate) actions: Vec<Action>,
    pub(crate) branches: Vec<Branch>,
    /// Branches left out of `masked` (blanked) because the template is YAML only branch by
    /// branch: read like actions, opaque.
    pub(crate) dropped: Vec<Range<usize>>,
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
pub(crate) fn lex(text: &str) -> Result<Vec<Action>, usize> {
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
    pub(crate) fn masks(&self, range: &Range<usize>) -> bool {
        self.actions
            .iter()
            .map(|a| &a.range)
            .chain(&self.dropped)
            .any(|a| a.start < range.end.max(range.start + 1) && range.start < a.end)
    }

    /// The branches (innermost last) that contain `offset`.
    pub(crate) fn around(&self, offset: usize) -> impl Iterator<Item = &Branch> {
        self.branches
            .iter()
            .filter(move |b| b.range.start <= offset && offset < b.range.end)
    }

    /// The `if` block whose branches hold each of `offsets` in a different branch.
    pub(crate) fn choice(&self, offsets: &[usize]) -> Option<&Branch> {
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
    pub(crate) fn opener(&self, block: usize) -> Option<&Branch> {
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
pub(crate) fn mask(text: &str, actions: &[Action], dropped: &[Range<usize>]) -> String {
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

pub(crate) fn branches(actions: &[Action], len: usize) -> Vec<Branch> {
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
