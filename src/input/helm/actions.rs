//! The Go template actions (`{{ … }}`) of a Helm template: finding them (`lex`), masking
//! them with filler of their exact byte length (`mask`), and the `if`/`else` branches they
//! open (`branches`). What masking does is explained in [`super`].

use std::ops::Range;

use crate::yaml::{Node, NodeKind, parse_stream};

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
        let actions = lex(text)?;
        let masked = mask(text, &actions);
        let branches = branches(&actions, text.len());
        Ok(Template {
            masked,
            actions,
            branches,
        })
    }

    /// Whether any action overlaps `range` (an empty range: lies strictly around it).
    pub(crate) fn masks(&self, range: &Range<usize>) -> bool {
        self.actions
            .iter()
            .any(|a| a.range.start < range.end.max(range.start + 1) && range.start < a.range.end)
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

pub(crate) fn mask(text: &str, actions: &[Action]) -> String {
    let b = text.as_bytes();
    let mut inside = vec![false; b.len()];
    for a in actions {
        inside[a.range.clone()].iter_mut().for_each(|x| *x = true);
    }
    let mut out = b.to_vec();
    let mut start = 0;
    while start < b.len() {
        let end = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i + 1);
        let line = start..end;
        if inside[line.clone()].iter().any(|x| *x) {
            // Only actions (and blanks, or a comment after them) on this line: blank them.
            let rest = line.clone().filter(|&i| !inside[i]).map(|i| b[i]);
            let mut blank = true;
            for c in rest {
                if c == b'#' {
                    break;
                }
                if !c.is_ascii_whitespace() {
                    blank = false;
                    break;
                }
            }
            let fill = if blank { b' ' } else { b'x' };
            for i in line.filter(|&i| inside[i] && b[i] != b'\n' && b[i] != b'\r') {
                out[i] = fill;
            }
        }
        start = end;
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
