//! Turn the difference between the original span tree and the migrated working tree into
//! byte edits. Untouched subtrees produce nothing; changed scalars replace their token;
//! renamed keys replace the key token; new entries are inserted on their own line with the
//! sibling's indentation; deleted entries take their whole line with them; an entry that is
//! replaced by restructured ones is overwritten in place so its trailing comment survives.
//! Shapes it cannot edit honestly are refused, never guessed.

use crate::edit::Edit;
use crate::source::{column, line_end, line_start, newline_at, next_line_start};
use crate::yaml::{Node, NodeKind, Style};

use super::mtree::{MKind, MNode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot edit this YAML shape at byte {offset}: {reason}")]
pub struct Unsupported {
    pub offset: usize,
    pub reason: String,
}

type Result<T> = std::result::Result<T, Unsupported>;

/// Layout habits of one document, learnt from it so that inserted text looks native.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Indentation step of nested block mappings.
    pub step: usize,
    /// Block sequences under a key have their `-` at the key's column (kubectl style).
    pub indentless: bool,
    /// The document is JSON-like (a flow mapping at the root): new strings get quotes.
    pub json: bool,
}

impl Layout {
    pub fn learn(src: &str, root: &Node) -> Layout {
        let mut layout = Layout {
            step: 2,
            indentless: true,
            json: root.is_flow(),
        };
        let (mut step, mut seq) = (None, None);
        learn_rec(src, root, &mut step, &mut seq);
        if let Some(s) = step {
            layout.step = s;
        }
        if let Some(indentless) = seq {
            layout.indentless = indentless;
        }
        layout
    }
}

fn learn_rec(src: &str, node: &Node, step: &mut Option<usize>, seq: &mut Option<bool>) {
    if step.is_some() && seq.is_some() {
        return;
    }
    match &node.kind {
        NodeKind::Map {
            flow: false,
            entries,
        } => {
            for (k, v) in entries {
                let key_col = column(src, k.span.start);
                match &v.kind {
                    NodeKind::Map {
                        flow: false,
                        entries: e,
                    } if step.is_none() && !e.is_empty() => {
                        let c = column(src, v.span.start);
                        if c > key_col {
                            *step = Some(c - key_col);
                        }
                    }
                    NodeKind::Seq { flow: false, items } if seq.is_none() && !items.is_empty() => {
                        *seq = Some(column(src, v.span.start) <= key_col);
                    }
                    _ => {}
                }
                learn_rec(src, v, step, seq);
            }
        }
        NodeKind::Seq { items, .. } => items.iter().for_each(|i| learn_rec(src, i, step, seq)),
        _ => {}
    }
}

pub struct Emitter<'a> {
    src: &'a str,
    /// Original nodes by id, for copying moved nodes verbatim.
    nodes: Vec<&'a Node>,
    layout: Layout,
    pub edits: Vec<Edit>,
}

impl<'a> Emitter<'a> {
    pub fn new(src: &'a str, root: &'a Node, node_count: usize) -> Emitter<'a> {
        let mut nodes = vec![root; node_count.max(root.id + 1)];
        index(root, &mut nodes);
        Emitter {
            src,
            nodes,
            layout: Layout::learn(src, root),
            edits: Vec::new(),
        }
    }

    pub fn node(&mut self, o: &Node, m: &MNode) -> Result<()> {
        if !m.dirty {
            return Ok(());
        }
        match (&o.kind, &m.kind) {
            (NodeKind::Scalar { .. }, MKind::Scalar { .. }) => {
                if scalar_changed(o, m) {
                    if o.span.is_empty() {
                        return Err(
                            self.unsupported(o.span.start, "a value with no text of its own")
                        );
                    }
                    let text = self
                        .inline(m, column(self.src, o.span.start))
                        .expect("scalar is inline");
                    self.edits.push(Edit::replace(o.span.clone(), text));
                }
                Ok(())
            }
            (
                NodeKind::Map { flow, entries },
                MKind::Map {
                    entries: m_entries, ..
                },
            ) => self.map(o, *flow, entries, m_entries),
            (NodeKind::Seq { flow, items }, MKind::Seq { items: m_items, .. }) => {
                self.seq(o, *flow, items, m_items)
            }
            (NodeKind::Alias(_), MKind::Alias(_)) => Ok(()),
            _ => Err(self.unsupported(o.span.start, "a node changed its kind in place")),
        }
    }

    fn unsupported(&self, offset: usize, reason: &str) -> Unsupported {
        Unsupported {
            offset,
            reason: reason.to_string(),
        }
    }

    fn nl(&self, at: usize) -> &'static str {
        newline_at(self.src, at)
    }

    fn map(
        &mut self,
        o: &Node,
        flow: bool,
        entries: &[(Node, Node)],
        m_entries: &[(MNode, MNode)],
    ) -> Result<()> {
        let kept = match_ids(
            entries.iter().map(|(k, _)| k.id),
            m_entries.iter().map(|(k, _)| k.orig),
        )
        .ok_or_else(|| self.unsupported(o.span.start, "keys were reordered"))?;
        let col = column(self.src, o.span.start);
        let mut prev: Option<(usize, usize)> = None;
        for next in kept.iter().copied().map(Some).chain([None]) {
            let o_from = prev.map_or(0, |p| p.0 + 1);
            let m_from = prev.map_or(0, |p| p.1 + 1);
            let o_to = next.map_or(entries.len(), |n| n.0);
            let m_to = next.map_or(m_entries.len(), |n| n.1);
            self.map_segment(
                o,
                flow,
                col,
                entries,
                prev.map(|p| p.0),
                o_from..o_to,
                &m_entries[m_from..m_to],
            )?;
            if let Some((oi, mi)) = next {
                let (ok, ov) = &entries[oi];
                let (mk, mv) = &m_entries[mi];
                if scalar_changed(ok, mk) {
                    let text = self
                        .inline(mk, column(self.src, ok.span.start))
                        .expect("key is a scalar");
                    self.edits.push(Edit::replace(ok.span.clone(), text));
                }
                if mv.orig == Some(ov.id) && !(ov.span.is_empty() && mv.dirty) {
                    self.node(ov, mv)?;
                } else if mv.orig != Some(ov.id) || mv.dirty {
                    self.replace_value(flow, col, ok, ov, mk, mv)?;
                }
            }
            prev = next;
        }
        Ok(())
    }

    /// Deleted original entries `dels` and new entries `news` that sit between the same two
    /// kept neighbours.
    #[allow(clippy::too_many_arguments)]
    fn map_segment(
        &mut self,
        o: &Node,
        flow: bool,
        col: usize,
        entries: &[(Node, Node)],
        prev_kept: Option<usize>,
        dels: std::ops::Range<usize>,
        news: &[(MNode, MNode)],
    ) -> Result<()> {
        if dels.is_empty() && news.is_empty() {
            return Ok(());
        }
        let src = self.src;
        let sep = if flow {
            ", ".to_string()
        } else {
            format!("{}{}", self.nl(o.span.start), " ".repeat(col))
        };
        let rendered: Vec<String> = news
            .iter()
            .map(|(k, v)| self.entry(k, v, col, flow))
            .collect::<Result<_>>()?;
        if !dels.is_empty() && entries.len() == dels.len() && news.is_empty() {
            self.edits.push(Edit::replace(o.span.clone(), "{}"));
            return Ok(());
        }
        if let Some(first) = dels.clone().next() {
            let (k, v) = &entries[first];
            let mut rest = dels.clone();
            if !rendered.is_empty() {
                rest.next();
                let end = entry_end(src, k, v);
                self.edits
                    .push(Edit::replace(k.span.start..end, rendered.join(&sep)));
            }
            for d in rest {
                self.delete_entry(flow, entries, d)?;
            }
            return Ok(());
        }
        let text = rendered.join(&sep);
        if let Some(p) = prev_kept {
            let (k, v) = &entries[p];
            let end = entry_end(src, k, v);
            if flow {
                self.edits.push(Edit::insert(end, format!(", {text}")));
            } else {
                self.edits
                    .push(Edit::insert(line_end(src, end), format!("{sep}{text}")));
            }
        } else if let Some((k, _)) = entries.get(dels.end) {
            self.edits
                .push(Edit::insert(k.span.start, format!("{text}{sep}")));
        } else if flow {
            self.edits.push(Edit::insert(o.span.start + 1, text));
        } else {
            return Err(self.unsupported(o.span.start, "insert into an empty block mapping"));
        }
        Ok(())
    }

    fn delete_entry(&mut self, flow: bool, entries: &[(Node, Node)], i: usize) -> Result<()> {
        let src = self.src;
        let (k, v) = &entries[i];
        let end = entry_end(src, k, v);
        if flow {
            let range = match (entries.get(i + 1), i.checked_sub(1).map(|p| &entries[p])) {
                (Some((next, _)), _) => k.span.start..next.span.start,
                (None, Some((pk, pv))) => entry_end(src, pk, pv)..end,
                (None, None) => k.span.start..end,
            };
            self.edits.push(Edit::replace(range, ""));
            return Ok(());
        }
        let ls = line_start(src, k.span.start);
        if src[ls..k.span.start].trim().is_empty() {
            self.edits.push(Edit::replace(
                ls..next_line_start(src, line_end(src, end)),
                "",
            ));
        } else if let Some((next, _)) = entries.get(i + 1) {
            // `- key: v` opening a sequence item: pull the next key up onto the dash line.
            self.edits
                .push(Edit::replace(k.span.start..next.span.start, ""));
        } else {
            return Err(self.unsupported(k.span.start, "delete a key that shares its line"));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn replace_value(
        &mut self,
        flow: bool,
        col: usize,
        ok: &Node,
        ov: &Node,
        mk: &MNode,
        mv: &MNode,
    ) -> Result<()> {
        let src = self.src;
        let block_orig = matches!(
            ov.kind,
            NodeKind::Map { flow: false, .. } | NodeKind::Seq { flow: false, .. }
        );
        if !block_orig
            && let Some(text) = self.inline(mv, column(src, ov.span.start.max(ok.span.end)))
        {
            if ov.span.is_empty() {
                let colon = colon_after(src, ok.span.end);
                self.edits.push(Edit::insert(colon, format!(" {text}")));
            } else {
                self.edits.push(Edit::replace(ov.span.clone(), text));
            }
            return Ok(());
        }
        let text = self.entry(mk, mv, col, flow)?;
        self.edits
            .push(Edit::replace(ok.span.start..entry_end(src, ok, ov), text));
        Ok(())
    }

    fn seq(&mut self, o: &Node, flow: bool, items: &[Node], m_items: &[MNode]) -> Result<()> {
        let kept = match_ids(items.iter().map(|i| i.id), m_items.iter().map(|i| i.orig))
            .ok_or_else(|| self.unsupported(o.span.start, "items were reordered"))?;
        let src = self.src;
        let dash_col = column(src, o.span.start);
        let mut prev: Option<(usize, usize)> = None;
        for next in kept.iter().copied().map(Some).chain([None]) {
            let o_from = prev.map_or(0, |p| p.0 + 1);
            let m_from = prev.map_or(0, |p| p.1 + 1);
            let o_to = next.map_or(items.len(), |n| n.0);
            let m_to = next.map_or(m_items.len(), |n| n.1);
            let dels = &items[o_from..o_to];
            let news = &m_items[m_from..m_to];
            if !dels.is_empty() || !news.is_empty() {
                let sep = if flow {
                    ", ".to_string()
                } else {
                    format!("{}{}- ", self.nl(o.span.start), " ".repeat(dash_col))
                };
                let rendered: Vec<String> = news
                    .iter()
                    .map(|i| {
                        if flow {
                            self.flow_text(i)
                        } else {
                            self.item(i, dash_col + 2)
                        }
                    })
                    .collect::<Result<_>>()?;
                if let Some(first) = dels.first() {
                    let mut rest = dels.iter();
                    if !rendered.is_empty() {
                        rest.next();
                        self.edits
                            .push(Edit::replace(first.span.clone(), rendered.join(&sep)));
                    }
                    for d in rest {
                        let dash = if flow { d.span.start } else { o_dash(src, d) };
                        let ls = line_start(src, dash);
                        if flow || !src[ls..dash].trim().is_empty() {
                            return Err(self.unsupported(
                                d.span.start,
                                "delete a sequence item that shares its line",
                            ));
                        }
                        self.edits.push(Edit::replace(
                            ls..next_line_start(src, line_end(src, d.span.end)),
                            "",
                        ));
                    }
                } else if let Some(p) = prev.map(|p| &items[p.0]) {
                    let at = if flow {
                        p.span.end
                    } else {
                        line_end(src, p.span.end)
                    };
                    let lead = if flow { ", ".to_string() } else { sep.clone() };
                    self.edits
                        .push(Edit::insert(at, format!("{lead}{}", rendered.join(&sep))));
                } else if let Some(n) = items.get(o_to) {
                    self.edits.push(Edit::insert(
                        n.span.start,
                        format!("{}{sep}", rendered.join(&sep)),
                    ));
                } else if flow {
                    self.edits
                        .push(Edit::insert(o.span.start + 1, rendered.join(&sep)));
                } else {
                    return Err(
                        self.unsupported(o.span.start, "insert into an empty block sequence")
                    );
                }
            }
            if let Some((oi, mi)) = next {
                let (oi_node, mi_node) = (&items[oi], &m_items[mi]);
                self.node(oi_node, mi_node)?;
            }
            prev = next;
        }
        Ok(())
    }

    // ---- rendering -------------------------------------------------------------------

    /// One `key: value` entry placed at column `col`.
    fn entry(&self, k: &MNode, v: &MNode, col: usize, flow: bool) -> Result<String> {
        let key = self
            .inline(k, col)
            .ok_or_else(|| self.unsupported(0, "a collection as a key"))?;
        if flow {
            return Ok(format!("{key}: {}", self.flow_text(v)?));
        }
        Ok(format!("{key}:{}", self.after_key(v, col)?))
    }

    /// The text that follows `key:` for a value whose key sits at column `key_col`.
    fn after_key(&self, v: &MNode, key_col: usize) -> Result<String> {
        if let Some(text) = self.inline(v, key_col + self.layout.step) {
            return Ok(format!(" {text}"));
        }
        let nl = self.nl(0);
        let col = match v.kind {
            MKind::Seq { .. } if self.layout.indentless => key_col,
            _ => key_col + self.layout.step,
        };
        Ok(format!("{nl}{}{}", " ".repeat(col), self.block(v, col)?))
    }

    /// A block collection whose first line starts at column `col` (already positioned).
    fn block(&self, v: &MNode, col: usize) -> Result<String> {
        if let Some(raw) = self.raw(v, col) {
            return Ok(raw);
        }
        let nl = self.nl(0);
        let sep = format!("{nl}{}", " ".repeat(col));
        match &v.kind {
            MKind::Map { entries, .. } if !entries.is_empty() => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| self.entry(k, v, col, false))
                    .collect::<Result<_>>()?;
                Ok(parts.join(&sep))
            }
            MKind::Seq { items, .. } if !items.is_empty() => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| Ok(format!("- {}", self.item(i, col + 2)?)))
                    .collect::<Result<_>>()?;
                Ok(parts.join(&sep))
            }
            _ => Ok(self.flow_text(v)?),
        }
    }

    /// A sequence item's content after `- `, at column `col`.
    fn item(&self, v: &MNode, col: usize) -> Result<String> {
        match self.inline(v, col) {
            Some(text) => Ok(text),
            None => self.block(v, col),
        }
    }

    /// Text for a value that fits on the line it starts on: scalars, flow collections.
    fn inline(&self, v: &MNode, col: usize) -> Option<String> {
        match &v.kind {
            MKind::Scalar { value, style } => {
                if let Some(raw) = self.raw(v, col) {
                    return Some(raw);
                }
                let quote = self.layout.json
                    && *style == Style::Plain
                    && matches!(
                        crate::yaml::value::resolve_plain(value),
                        crate::yaml::Value::Str(_)
                    );
                Some(render_scalar(
                    value,
                    if quote { Style::Double } else { *style },
                ))
            }
            MKind::Alias(_) => self.raw(v, col),
            MKind::Map { flow: true, .. } | MKind::Seq { flow: true, .. } => self.flow_text(v).ok(),
            MKind::Map { entries, .. } if entries.is_empty() => Some("{}".into()),
            MKind::Seq { items, .. } if items.is_empty() => Some("[]".into()),
            _ => None,
        }
    }

    fn flow_text(&self, v: &MNode) -> Result<String> {
        if let Some(raw) = self.raw(v, 0).filter(|r| !r.contains('\n')) {
            return Ok(raw);
        }
        match &v.kind {
            MKind::Map { entries, .. } => {
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| self.entry(k, v, 0, true))
                    .collect::<Result<_>>()?;
                Ok(format!("{{{}}}", parts.join(", ")))
            }
            MKind::Seq { items, .. } => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| self.flow_text(i))
                    .collect::<Result<_>>()?;
                Ok(format!("[{}]", parts.join(", ")))
            }
            MKind::Scalar { value, style } => Ok(match self.raw(v, 0) {
                Some(raw) if !raw.contains('\n') => raw,
                _ => render_scalar(
                    value,
                    if matches!(style, Style::Literal | Style::Folded) {
                        Style::Double
                    } else {
                        *style
                    },
                ),
            }),
            MKind::Alias(_) => Err(self.unsupported(0, "move an alias")),
        }
    }

    /// The original text of an unchanged node, re-indented to start at column `col`.
    fn raw(&self, v: &MNode, col: usize) -> Option<String> {
        let id = v.orig.filter(|_| !v.dirty)?;
        let node = self.nodes.get(id)?;
        let same_kind = matches!(
            (&node.kind, &v.kind),
            (NodeKind::Scalar { .. }, MKind::Scalar { .. })
                | (NodeKind::Alias(_), MKind::Alias(_))
                | (NodeKind::Map { .. }, MKind::Map { .. })
                | (NodeKind::Seq { .. }, MKind::Seq { .. })
        );
        if !same_kind
            || node.is_flow() != v.is_flow()
            || node.span.is_empty()
            || node.anchor != 0
            || node.tag.is_some()
        {
            return None;
        }
        let text = &self.src[node.span.clone()];
        Some(reindent(text, column(self.src, node.span.start), col))
    }
}

fn index<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    if node.id >= out.len() {
        out.resize(node.id + 1, node);
    }
    out[node.id] = node;
    match &node.kind {
        NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
            index(k, out);
            index(v, out)
        }),
        NodeKind::Seq { items, .. } => items.iter().for_each(|i| index(i, out)),
        _ => {}
    }
}

/// Pairs (original index, new index) of nodes that survived, in order; `None` if the
/// survivors were reordered.
fn match_ids(
    orig: impl Iterator<Item = usize>,
    new: impl Iterator<Item = Option<usize>>,
) -> Option<Vec<(usize, usize)>> {
    let orig: Vec<usize> = orig.collect();
    let mut kept = Vec::new();
    for (mi, id) in new.enumerate() {
        if let Some(oi) = id.and_then(|id| orig.iter().position(|&o| o == id)) {
            if kept.last().is_some_and(|&(last, _)| last >= oi) {
                return None;
            }
            kept.push((oi, mi));
        }
    }
    Some(kept)
}

fn scalar_changed(o: &Node, m: &MNode) -> bool {
    match (&o.kind, &m.kind) {
        (NodeKind::Scalar { value: a, style: s }, MKind::Scalar { value: b, style: t }) => {
            a != b || s != t || m.orig != Some(o.id)
        }
        _ => true,
    }
}

/// Where an entry's text ends: its value, or the `:` of an empty value.
fn entry_end(src: &str, k: &Node, v: &Node) -> usize {
    if v.span.is_empty() || v.span.end <= k.span.end {
        colon_after(src, k.span.end)
    } else {
        v.span.end
    }
}

fn colon_after(src: &str, key_end: usize) -> usize {
    src[key_end..]
        .find(':')
        .map_or(key_end, |i| key_end + i + 1)
}

fn o_dash(src: &str, item: &Node) -> usize {
    let bytes = src.as_bytes();
    let mut i = item.span.start;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'-' => return i,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => break,
        }
    }
    item.span.start
}

/// Shift every line after the first by `to - from` columns. Lines indented less than the
/// shift (comments at column 0, blank lines) keep what they have.
pub fn reindent(text: &str, from: usize, to: usize) -> String {
    if from == to || !text.contains('\n') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i == 0 || line.trim().is_empty() {
            out.push_str(line);
        } else if to > from {
            out.push_str(&" ".repeat(to - from));
            out.push_str(line);
        } else {
            let lead = line
                .bytes()
                .take_while(|&b| b == b' ')
                .count()
                .min(from - to);
            out.push_str(&line[lead..]);
        }
    }
    out
}

/// A scalar in the given style. Block styles are never produced for new text.
pub fn render_scalar(value: &str, style: Style) -> String {
    match style {
        Style::Plain => value.to_string(),
        Style::Single if !value.contains(['\n', '\r', '\t']) => {
            format!("'{}'", value.replace('\'', "''"))
        }
        _ => {
            let mut out = String::with_capacity(value.len() + 2);
            out.push('"');
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reindent_shifts_following_lines() {
        assert_eq!(
            reindent("a: 1\n  b: 2\n# c\n  d: 3", 2, 4),
            "a: 1\n    b: 2\n  # c\n    d: 3"
        );
        assert_eq!(reindent("a: 1\n    b: 2\n# c", 4, 2), "a: 1\n  b: 2\n# c");
    }

    #[test]
    fn scalars_render_with_escapes() {
        assert_eq!(render_scalar("a\"b", Style::Double), r#""a\"b""#);
        assert_eq!(render_scalar("it's", Style::Single), "'it''s'");
    }
}
