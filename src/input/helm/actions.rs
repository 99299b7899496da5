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
    /// Helper calls that fill a string map (labels, annotations, a selector's matchLabels)
    /// and are read as one placeholder entry of it, so that a copy of the map carries them.
    pub(crate) placeholders: Vec<Placeholder>,
}

/// `{{- include "app.labels" . | nindent 8 }}` on its own line under `labels:`: read as an
/// entry `include__app.labels___.: x` at the column Helm renders it, so the map is not empty
/// and a migration that copies it (the apps/v1 selector from the pod template's labels)
/// copies the call, which [`Placeholder::call_at`] writes back at the new column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placeholder {
    /// Index of the action in `Template::actions`.
    pub(crate) action: usize,
    /// The key the masked text reads (unique to the call, whatever its indentation).
    pub(crate) key: String,
    /// Where the indentation number is in the action's text.
    number: Range<usize>,
    /// `nindent` (a line break, then the column) rather than `indent` (the column added to
    /// where the action is).
    nindent: bool,
}

impl Placeholder {
    /// The action's text rewritten to render at column `col`, with the indentation the line
    /// needs before it; `None` when the placeholder would not fit in it.
    pub(crate) fn call_at(&self, action_text: &str, col: usize) -> Option<String> {
        let call = format!(
            "{}{col}{}",
            &action_text[..self.number.start],
            &action_text[self.number.end..]
        );
        match self.nindent {
            true => Some(format!("{}{call}", " ".repeat(col))),
            // `indent` renders its first line where the action is: write it at column 0.
            false => (col + self.key.len() + 3 <= call.len()).then_some(call),
        }
    }
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
        Template::scan_dropping(text, keep, None)
    }

    /// The reading with only the first (or only the last) branch of the `if` `block`.
    pub(crate) fn scan_one_branch(
        text: &str,
        block: usize,
        first: bool,
    ) -> Result<Template, usize> {
        let keep = if first { Keep::First } else { Keep::Last };
        Template::scan_dropping(text, keep, Some(&[block]))
    }

    /// Like `scan_keeping`, but only the `if` blocks in `only` (when given) lose branches.
    fn scan_dropping(text: &str, keep: Keep, only: Option<&[usize]>) -> Result<Template, usize> {
        let actions = lex(text)?;
        let branches = branches(&actions, text.len());
        let dropped = dropped(&branches, keep, only);
        let (masked, placeholders) = mask(text, &actions, &dropped);
        Ok(Template {
            masked,
            actions,
            branches,
            dropped,
            placeholders,
        })
    }

    /// Lex, mask and parse `text`. When the template with every branch in place is not
    /// YAML (an `else` that continues a different parent, branches of different shape), it
    /// is read with only the first, then only the last branch of each `if`: each is what
    /// Helm renders for some values. The error is the full reading's.
    ///
    /// When it is YAML but sets a key in two branches of one `if` (`imagePullPolicy` in
    /// the `if` and in the `else`), only those `if`s are read with one branch: the rest of
    /// the object stays readable, and an edit that touches the dropped branch is blocked.
    pub fn scan_yaml(
        text: &str,
    ) -> Result<Result<(Template, Vec<Document>), crate::yaml::SyntaxError>, usize> {
        let tpl = Template::scan(text)?;
        let first = match parse_stream(&tpl.masked) {
            Ok(docs) => return Template::one_branch_where_keys_repeat(text, tpl, docs),
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

    /// The full reading `tpl` (parsed as `docs`), or, when it sets a key in two branches of
    /// one `if`, the reading with one branch of each such `if` that parses without one.
    #[allow(clippy::type_complexity)]
    fn one_branch_where_keys_repeat(
        text: &str,
        tpl: Template,
        docs: Vec<Document>,
    ) -> Result<Result<(Template, Vec<Document>), crate::yaml::SyntaxError>, usize> {
        let mut blocks: Vec<usize> = Vec::new();
        let mut reading = None;
        // Each round drops the branches behind one more repeated key.
        for _ in 0..32 {
            let (t, d) = match &reading {
                Some((t, d)) => (t, d),
                None => (&tpl, &docs),
            };
            let new: Vec<usize> = repeated_in_branches(t, d)
                .into_iter()
                .filter(|b| !blocks.contains(b))
                .collect();
            if new.is_empty() {
                break;
            }
            blocks.extend(new);
            let mut next = None;
            for keep in [Keep::First, Keep::Last] {
                let t = Template::scan_dropping(text, keep, Some(&blocks))?;
                if let Ok(d) = parse_stream(&t.masked) {
                    next = Some((t, d));
                    break;
                }
            }
            match next {
                Some(n) => reading = Some(n),
                None => return Ok(Ok((tpl, docs))),
            }
        }
        Ok(Ok(reading.unwrap_or((tpl, docs))))
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

/// The `if` blocks that set one key of a mapping in two of their branches (a root
/// `apiVersion` or `kind` chosen by a guard excepted: that is read as a guard).
fn repeated_in_branches(tpl: &Template, docs: &[Document]) -> Vec<usize> {
    fn walk(tpl: &Template, node: &Node, root: bool, out: &mut Vec<usize>) {
        match &node.kind {
            NodeKind::Map { entries, .. } => {
                let mut seen: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
                for (k, _) in entries {
                    let Some(key) = k.as_str() else { continue };
                    if root && (key == "apiVersion" || key == "kind") {
                        continue;
                    }
                    match seen.get(key) {
                        Some(&first) => {
                            if let Some(branch) = tpl.choice(&[first, k.span.start])
                                && !out.contains(&branch.block)
                            {
                                out.push(branch.block);
                            }
                        }
                        None => {
                            seen.insert(key, k.span.start);
                        }
                    }
                }
                entries.iter().for_each(|(_, v)| walk(tpl, v, false, out));
            }
            NodeKind::Seq { items, .. } => items.iter().for_each(|i| walk(tpl, i, false, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for d in docs {
        walk(tpl, &d.root, true, &mut out);
    }
    out
}

/// The branch ranges a reading that keeps `keep` (of the `if` blocks in `only`, when
/// given) leaves out.
fn dropped(branches: &[Branch], keep: Keep, only: Option<&[usize]>) -> Vec<Range<usize>> {
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
        .filter(|b| only.is_none_or(|o| o.contains(&b.block)))
        .filter(|b| match keep {
            Keep::First => b.index > 0,
            _ => Some(b.index) != last(b),
        })
        .map(|b| b.range.clone())
        .collect()
}

/// Two actions of one length (`{{ $serviceName }}`, `{{ $servicePort }}`) would mask
/// alike, and a moved or copied value is found again by its masked text: each inline
/// filler ends in a hash of its action's text (base 36; it still starts with `x`, so it
/// reads as a string). Of the text, not the action's place, so that the same action
/// masks the same in a rewritten template, and alike actions, which render alike, too.
fn tag_fillers(out: &mut [u8], text: &str, actions: &[Action], line: &Range<usize>) {
    let from = actions.partition_point(|a| a.range.start < line.start);
    for a in actions[from..]
        .iter()
        .take_while(|a| a.range.start < line.end)
        .filter(|a| a.range.end <= line.end)
    {
        let fill = inline_filler(&text[a.range.clone()]);
        out[a.range.clone()].copy_from_slice(fill.as_bytes());
    }
}

/// The column where what an action at column `at` writes starts, when it says:
/// `nindent N` at N, `indent N` N columns right of the action.
pub(crate) fn rendered_column(call: &str, at: usize) -> Option<usize> {
    let number = |w: &str| {
        let rest = &call[call.find(w)? + w.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse::<usize>()
            .ok()
    };
    number("nindent ").or_else(|| number("indent ").map(|n| at + n))
}

/// What an action inside a line masks to: `x`s of its byte length, the last (up to four)
/// a hash of its text.
pub(crate) fn inline_filler(action: &str) -> String {
    // FNV-1a: stable across runs and builds, unlike the std hasher's seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in action.bytes() {
        h = (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut fill = vec![b'x'; action.len()];
    let room = action.len().saturating_sub(1).min(4);
    for i in 0..room {
        fill[action.len() - 1 - i] = b"0123456789abcdefghijklmnopqrstuvwxyz"[(h % 36) as usize];
        h /= 36;
    }
    String::from_utf8(fill).unwrap_or_default()
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
///
/// A helper call that fills a string map is read as a placeholder entry ([`Placeholder`]).
pub(crate) fn mask(
    text: &str,
    actions: &[Action],
    dropped: &[Range<usize>],
) -> (String, Vec<Placeholder>) {
    let mut placeholders = Vec::new();
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
                // Where what the action writes starts (`indent 4` at column 0): the filler
                // too, or the block scalar would end at it.
                let first = line.clone().find(|&i| inside[i]).unwrap_or(line.start);
                let from = actions
                    .iter()
                    .find(|a| a.range.start == first)
                    .and_then(|a| rendered_column(&text[a.range.clone()], first - line.start));
                if let Some(col) = from {
                    for i in line
                        .clone()
                        .filter(|&i| inside[i] && b[i] != b'\n' && b[i] != b'\r')
                    {
                        out[i] = if i - line.start >= col { b'x' } else { b' ' };
                    }
                    continue;
                }
            }
            if *blank && let Some(col) = fills_empty_key(text, actions, line, &out, &lines, n) {
                // The value of the key above: a scalar of `x` at the column below the key,
                // so that a rule that must read or change the value meets something it
                // cannot read (and reports it) rather than an empty value.
                for i in line
                    .clone()
                    .filter(|&i| inside[i] && b[i] != b'\n' && b[i] != b'\r')
                {
                    out[i] = if i - line.start >= col { b'x' } else { b' ' };
                }
                continue;
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
            if fill == b'x' && !*blank {
                tag_fillers(&mut out, text, actions, line);
            }
            if *blank && let Some((p, at)) = placeholder(text, actions, line, &out, &lines[..n]) {
                out[at..at + p.key.len() + 3].copy_from_slice(format!("{}: x", p.key).as_bytes());
                placeholders.push(p);
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
    placeholders.retain(|p| {
        let a = &actions[p.action].range;
        !dropped.iter().any(|d| d.start < a.end && a.start < d.end)
    });
    let masked = String::from_utf8(out).expect("actions start and end on ASCII bytes");
    (masked, placeholders)
}

/// Whether line `n` (only actions) is the whole value of the key on the line above it: a
/// `toYaml` piped to `indent`/`nindent` after `key:` with nothing else under the key
/// (`metrics:` then `{{ toYaml .Values.hpa.metrics | indent 4 }}`). Read as blank, the key
/// would be empty and a rule that rewrites its value would leave the rendered value as it
/// was; the column (past the key's) the filler starts at is returned instead.
fn fills_empty_key(
    text: &str,
    actions: &[Action],
    line: &Range<usize>,
    out: &[u8],
    lines: &[(Range<usize>, bool, usize)],
    n: usize,
) -> Option<usize> {
    let mut on_line = actions
        .iter()
        .filter(|a| a.range.start < line.end && line.start < a.range.end);
    let action = on_line.next()?;
    if on_line.next().is_some()
        || action.word != Word::Other
        || action.range.start < line.start
        || action.range.end > line.end
    {
        return None;
    }
    let call = &text[action.range.clone()];
    if !call.contains("toYaml") || !(call.contains("indent ") || call.contains("nindent ")) {
        return None;
    }
    let (above, _, key_indent) = lines[..n].iter().rev().find(|(_, blank, _)| !blank)?;
    let above = String::from_utf8_lossy(&out[above.clone()]).to_string();
    let above = above.split(" #").next().unwrap_or("").trim_end();
    let key = above.trim_start().trim_start_matches("- ");
    if !above.ends_with(':') || key.contains(": ") || key.starts_with('-') {
        return None;
    }
    // The indent of the key itself (`- key:` puts it two columns right of the dash).
    let key_col = key_indent + (above.trim_start().len() - key.len());
    let next = lines[n + 1..].iter().find(|(_, blank, _)| !blank);
    if next.is_some_and(|(_, _, i)| *i > key_col) {
        return None;
    }
    let col = key_col + 2;
    (action.range.end - line.start > col + 1).then_some(col)
}

/// The keys under which a helper's output is a string map by the API's schema. A helper
/// there is read as rendering at least one entry (a selector helper that renders nothing
/// would be an empty selector: kubemig assumes it does not).
const STRING_MAPS: &[&str] = &["labels:", "matchLabels:", "annotations:"];

/// The placeholder for the one action on `line` (whose lines before are `before`, masked
/// so far in `out`), and where its key goes: an `include` piped to `nindent N` or `indent
/// N`, rendered at a column under a `labels:`, `matchLabels:` or `annotations:` key and
/// beside its other entries.
fn placeholder(
    text: &str,
    actions: &[Action],
    line: &Range<usize>,
    out: &[u8],
    before: &[(Range<usize>, bool, usize)],
) -> Option<(Placeholder, usize)> {
    let mut on_line = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.range.start < line.end && line.start < a.range.end);
    let (index, action) = on_line.next()?;
    if on_line.next().is_some() || action.range.start < line.start || action.range.end > line.end {
        return None;
    }
    let call = &text[action.range.clone()];
    let trim_left = call.starts_with("{{-");
    let inner = call
        .strip_prefix("{{")?
        .trim_start_matches('-')
        .strip_suffix("}}")?
        .trim_end_matches('-');
    let (head, pipe) = inner.rsplit_once('|')?;
    let head = head.trim();
    if !head.starts_with("include ") || head.contains('|') || head.contains('\n') {
        return None;
    }
    let mut words = pipe.split_whitespace();
    let (func, n) = (words.next()?, words.next()?);
    let n: usize = n.parse().ok().filter(|_| words.next().is_none())?;
    let at_col = action.range.start - line.start;
    let col = match func {
        "nindent" => n,
        // With `{{-` the first line would join the line before.
        "indent" if !trim_left => at_col + n,
        _ => return None,
    };
    // The map it fills: the nearest line above at a lower column, with only siblings
    // at `col` between.
    let parent = before.iter().rev().find_map(|(l, blank, indent)| {
        if *blank {
            return None;
        }
        let content = String::from_utf8_lossy(&out[l.clone()]).to_string();
        let content = content.split(" #").next().unwrap_or("").trim().to_string();
        match indent {
            i if *i < col => Some(Some(content)),
            i if *i == col => None,
            _ => Some(None),
        }
    })??;
    let parent = parent.strip_prefix("- ").unwrap_or(&parent);
    if !STRING_MAPS.contains(&parent) {
        return None;
    }
    let key: String = head
        .bytes()
        .map(|c| match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => c as char,
            _ => '_',
        })
        .collect();
    let start = line.start + col;
    if col < at_col || start + key.len() + 3 > action.range.end {
        return None;
    }
    let bar = call.rfind('|')?;
    let number_at = bar + call[bar..].find(|c: char| c.is_ascii_digit())?;
    let number = number_at..number_at + n.to_string().len();
    Some((
        Placeholder {
            action: index,
            key,
            number,
            nindent: func == "nindent",
        },
        start,
    ))
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
