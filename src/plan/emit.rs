//! Turn the difference between the original span tree and the migrated working tree into
//! byte edits. Untouched subtrees produce nothing; changed scalars replace their token;
//! renamed keys replace the key token; new entries are inserted on their own line with the
//! sibling's indentation; deleted entries take their whole line with them; an entry that is
//! replaced by restructured ones is overwritten in place so its trailing comment survives.
//! An entry whose value moves takes its comments along (the own-line ones above it, the
//! one after its key and the one ending its value). Shapes it cannot edit honestly are
//! refused, never guessed.

use std::cell::{Cell, OnceCell, RefCell};
// Keyed by node ids: a fast hasher (no flooding risk from small integers) instead of
// SipHash, which showed in the profile.
use foldhash::{HashMap, HashSet, HashSetExt};
use std::borrow::Cow;
use std::ops::Range;

use crate::edit::Edit;
use crate::source::{line_end, line_start, newline_at, next_line_start};
use crate::yaml::{Node, NodeKind, Style};

use super::mtree::{MKind, MNode};

mod index;
use index::{Index, Parent};

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
    /// The document is JSON (a flow mapping at the root with double-quoted keys): new
    /// strings get quotes.
    pub json: bool,
    /// Compact JSON (`{"a":1,"b":2}`): no space after `:` and `,` in new flow text.
    pub compact: bool,
}

impl Layout {
    fn colon(&self) -> &'static str {
        if self.compact { ":" } else { ": " }
    }

    fn comma(&self) -> &'static str {
        if self.compact { "," } else { ", " }
    }
}

impl Layout {
    const DEFAULT_STEP: usize = 2;

    /// A flow mapping at the root whose first key is double-quoted.
    fn is_json(root: &Node) -> bool {
        matches!(&root.kind, NodeKind::Map { flow: true, entries }
        if entries.first().is_some_and(|(k, _)| {
            matches!(k.kind, NodeKind::Scalar { style: Style::Double, .. })
        }))
    }

    pub fn learn(src: &str, root: &Node) -> Layout {
        let json = Layout::is_json(root);
        let compact = json
            && matches!(&root.kind, NodeKind::Map { entries, .. }
            if entries.first().is_some_and(|(k, v)| {
                v.span.start > k.span.end && &src[k.span.end..v.span.start] == ":"
            }));
        let mut layout = Layout {
            step: Layout::DEFAULT_STEP,
            indentless: true,
            json,
            compact,
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
                if step.is_some() && seq.is_some() {
                    return;
                }
                // A key's column is counted only where a nested block collection needs it
                // (counting it for every key of the document cost more than the walk).
                match &v.kind {
                    NodeKind::Map {
                        flow: false,
                        entries: e,
                    } if step.is_none() && !e.is_empty() => {
                        let (key_col, c) = (col_of(src, k.span.start), col_of(src, v.span.start));
                        if c > key_col {
                            *step = Some(c - key_col);
                        }
                    }
                    NodeKind::Seq { flow: false, items } if seq.is_none() && !items.is_empty() => {
                        *seq = Some(col_of(src, v.span.start) <= col_of(src, k.span.start));
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
    root: &'a Node,
    /// Original nodes by id, with their keys, previous entries and parent collections,
    /// found when asked.
    index: Index<'a>,
    /// The document is JSON: new strings get quotes (the rest of the layout is learnt when
    /// something is rendered).
    json: bool,
    layout: OnceCell<Layout>,
    /// Original ids still present in the working tree; filled on the first `node` call.
    live: IdSet,
    /// Keys of deleted entries that new entries overwrite in place: their comments stay.
    in_place: Vec<usize>,
    /// Original nodes whose text is deleted or replaced where it was: a copy of one of them
    /// elsewhere is the only place its comments can go.
    gone: IdSet,
    prepared: bool,
    /// Indentation step for the block entries being rendered (set before each rendering,
    /// worked out when a nested block collection needs it).
    step: Cell<Step<'a>>,
    /// Values whose line-ending comment was carried into rendered text.
    carried: RefCell<HashSet<usize>>,
    /// Values whose comment was asked about (a deleted entry's end) before any was carried.
    not_carried: Vec<usize>,
    /// The first key of the document's root block mapping: the comments above it head the
    /// document (a licence, what the file is for) and never go with that entry.
    root_first: Option<usize>,
    /// The document has an anchor or an alias: only then can the working tree have one
    /// (rules make nodes without either), and only then are aliases checked.
    has_anchors: bool,
    /// Where every `#` of the text is, found when first asked: a comment starts with one,
    /// so a region without any holds none, and most moved entries are passed over without
    /// looking for their comments line by line.
    hashes: OnceCell<Vec<usize>>,
    pub edits: Vec<Edit>,
}

/// The indentation step of new block collections, worked out when first needed.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Is(usize),
    /// That of mappings nested in this one (see `step_in`).
    Of(&'a Node),
    /// The document's.
    Document,
}

/// The indentation of the block collection a value is written in: a column, or that of the
/// original node whose place it takes, worked out only for the odd text of several lines.
#[derive(Debug, Clone, Copy)]
enum Indent<'n> {
    Col(usize),
    Of(&'n Node),
}

impl Indent<'_> {
    fn col(self, emitter: &Emitter) -> usize {
        match self {
            Indent::Col(col) => col,
            Indent::Of(node) => emitter.parent_of(node),
        }
    }
}

/// How a value is written: on block lines, or in a flow collection, either on one line or
/// one entry per line (pretty-printed JSON) with the given line indentation and step.
#[derive(Debug, Clone, Copy)]
enum Flow {
    Inline,
    Lines { indent: usize, step: usize },
}

impl<'a> Emitter<'a> {
    pub fn new(src: &'a str, root: &'a Node, node_count: usize) -> Emitter<'a> {
        let count = node_count.max(root.id + 1);
        Emitter {
            src,
            root,
            index: Index::new(root, count),
            json: Layout::is_json(root),
            layout: OnceCell::new(),
            live: IdSet::with_capacity(count),
            in_place: Vec::new(),
            gone: IdSet::with_capacity(count),
            prepared: false,
            step: Cell::new(Step::Is(Layout::DEFAULT_STEP)),
            carried: RefCell::new(HashSet::new()),
            not_carried: Vec::new(),
            root_first: match &root.kind {
                NodeKind::Map {
                    flow: false,
                    entries,
                } => entries.first().map(|(k, _)| k.id),
                _ => None,
            },
            has_anchors: index::has_anchors(src, root),
            hashes: OnceCell::new(),
            edits: Vec::new(),
        }
    }

    /// The document's layout habits, learnt when first needed (something is rendered).
    fn layout(&self) -> &Layout {
        self.layout
            .get_or_init(|| Layout::learn(self.src, self.root))
    }

    /// The indentation step for the block entries being rendered.
    fn step(&self) -> usize {
        let step = match self.step.get() {
            Step::Is(step) => return step,
            Step::Of(o) => self.step_in(o),
            Step::Document => self.layout().step,
        };
        self.step.set(Step::Is(step));
        step
    }

    /// The original node `id`.
    fn node_of(&self, id: usize) -> Option<&'a Node> {
        self.index.get(id).map(|slot| slot.node)
    }

    /// Derive the edits that turn the document `o` into the working tree `m`.
    pub fn node(&mut self, o: &'a Node, m: &MNode) -> Result<()> {
        if self.prepared {
            return self.node_in(o, m);
        }
        self.prepared = true;
        live_child(m, &mut self.live);
        self.collect_in_place(o, m);
        self.check_aliases(m)?;
        // Whether a moved value's line-ending comment is carried along is only known once
        // that value is rendered, which can be after the place it left was edited; the
        // second pass sees every decision. It is needed only when the first asked about a
        // value that was carried after it asked (`carried` only grows): otherwise the
        // second would ask the same questions, get the same answers and make the same edits.
        self.node_in(o, m)?;
        let carried = self.carried.borrow();
        let settled = !self.not_carried.iter().any(|id| carried.contains(id));
        drop(carried);
        if !settled {
            self.edits.clear();
            self.node_in(o, m)?;
        }
        self.keep_missing_final_newline();
        self.check_end_of_file()
    }

    /// When the last lines of a file without a final line break are deleted, the line break
    /// before them goes too, so the file still ends without one. Deletions that meet there
    /// are merged first, so that no two edits claim that line break; one that ends a block
    /// scalar stays (it is part of the scalar's value).
    fn keep_missing_final_newline(&mut self) {
        let src = self.src;
        if src.ends_with('\n') {
            return;
        }
        let Some(last) = self
            .edits
            .iter()
            .position(|e| e.range.end == src.len() && e.text.is_empty() && !e.range.is_empty())
        else {
            return;
        };
        let mut start = self.edits[last].range.start;
        while let Some(i) = self
            .edits
            .iter()
            .position(|e| e.range.end == start && e.text.is_empty() && !e.range.is_empty())
        {
            start = self.edits[i].range.start;
            self.edits.remove(i);
        }
        let last = self
            .edits
            .iter()
            .position(|e| e.range.end == src.len() && e.text.is_empty() && !e.range.is_empty())
            .expect("still there");
        self.edits[last].range.start = start;
        if !src[..start].ends_with('\n') {
            return;
        }
        // Entries inserted after the last kept one land at `start`, on a line of their own
        // that ends with a line break: the last of them now ends the file, so it loses that
        // line break instead (taking the one before `start` would cut into them).
        if let Some(i) = self.edits.iter().rposition(|e| e.range == (start..start)) {
            let text = &mut self.edits[i].text;
            let cut = if text.ends_with("\r\n") {
                2
            } else {
                usize::from(text.ends_with('\n'))
            };
            text.truncate(text.len() - cut);
            return;
        }
        let nl = start - if src[..start].ends_with("\r\n") { 2 } else { 1 };
        let claimed = self
            .edits
            .iter()
            .any(|e| e.range.start < start && e.range.end > nl);
        if !claimed && !index::block_scalar_ends_at(self.root, nl) {
            self.edits[last].range.start = nl;
        }
    }

    /// Every alias left in the working tree must still have its anchor, before it: deleting
    /// an anchored node that is aliased elsewhere, or copying an alias above its anchor,
    /// would leave YAML that does not parse. And an anchor must not be defined twice (a
    /// copied node with anchors inside): YAML allows it, but some readers (libyaml-based
    /// ones among them) then resolve later aliases to the wrong node.
    fn check_aliases(&self, m: &MNode) -> Result<()> {
        if !self.has_anchors {
            return Ok(());
        }
        fn walk<'m>(m: &'m MNode, seen: &mut HashSet<usize>) -> Option<&'m MNode> {
            if let MKind::Alias(id) = m.kind {
                return (!seen.contains(&id)).then_some(m);
            }
            if m.anchor != 0 && !seen.insert(m.anchor) {
                return Some(m);
            }
            match &m.kind {
                MKind::Map { entries, .. } => entries
                    .iter()
                    .find_map(|(k, v)| walk(k, seen).or_else(|| walk(v, seen))),
                MKind::Seq { items, .. } => items.iter().find_map(|i| walk(i, seen)),
                _ => None,
            }
        }
        match walk(m, &mut HashSet::new()) {
            Some(a) => Err(self.unsupported(
                a.orig
                    .and_then(|id| self.node_of(id))
                    .map_or(0, |n| n.span.start),
                "an alias would lose its anchor (deleted, copied or moved after the alias)",
            )),
            None => Ok(()),
        }
    }

    /// Text added after a block scalar that ends the file without a line break gives it one,
    /// which its value would take in (clip and keep chomping). Strip chomping (`|-`) keeps
    /// the value as it was.
    fn check_end_of_file(&mut self) -> Result<()> {
        let end = self.src.len();
        if !self.edits.iter().any(|e| e.range.start == end) {
            return Ok(());
        }
        let Some(header) = index::block_header_ending_at(self.src, self.root, end) else {
            return Ok(());
        };
        let text = &self.src[header.clone()];
        if text.contains('-') {
            return Ok(());
        }
        if self
            .edits
            .iter()
            .any(|e| e.range.start < header.end && e.range.end > header.start)
        {
            return Err(self.unsupported(
                end,
                "add text after a block scalar that ends the file without a line break",
            ));
        }
        let stripped = format!("{}-", text.replace('+', ""));
        self.edits.push(Edit::replace(header, stripped));
        Ok(())
    }

    fn node_in(&mut self, o: &'a Node, m: &MNode) -> Result<()> {
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
                    let text = self.inline(m, Indent::Of(o)).expect("scalar is inline");
                    let (start, text) = self.with_props(o, m, text.into_owned())?;
                    self.edits.push(Edit::replace(start..o.span.end, text));
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

    /// Mirror `map`'s walk to find the deleted entries that new ones overwrite in place.
    fn collect_in_place(&mut self, o: &Node, m: &MNode) {
        if !m.dirty {
            return;
        }
        match (&o.kind, &m.kind) {
            (
                NodeKind::Map { entries, .. },
                MKind::Map {
                    entries: m_entries, ..
                },
            ) => {
                let Some(kept) = match_ids(
                    entries,
                    |(k, _)| k.id,
                    m_entries.iter().map(|(k, _)| k.orig),
                ) else {
                    return;
                };
                let mut prev: Option<(usize, usize)> = None;
                for next in kept.iter().copied().map(Some).chain([None]) {
                    let o_from = prev.map_or(0, |p| p.0 + 1);
                    let m_from = prev.map_or(0, |p| p.1 + 1);
                    let o_to = next.map_or(entries.len(), |n| n.0);
                    let m_to = next.map_or(m_entries.len(), |n| n.1);
                    if o_from < o_to && m_from < m_to {
                        self.in_place.push(entries[o_from].0.id);
                    }
                    for (k, v) in &entries[o_from..o_to] {
                        self.gone.insert_subtree(k);
                        self.gone.insert_subtree(v);
                    }
                    if let Some((oi, mi)) = next {
                        if m_entries[mi].1.orig == Some(entries[oi].1.id) {
                            self.collect_in_place(&entries[oi].1, &m_entries[mi].1);
                        } else {
                            self.gone.insert_subtree(&entries[oi].1);
                        }
                    }
                    prev = next;
                }
            }
            (NodeKind::Seq { items, .. }, MKind::Seq { items: m_items, .. }) => {
                for mi in m_items {
                    if let Some(oi) = items.iter().find(|i| Some(i.id) == mi.orig) {
                        self.collect_in_place(oi, mi);
                    }
                }
                let kept: HashSet<usize> = m_items.iter().filter_map(|i| i.orig).collect();
                for i in items.iter().filter(|i| !kept.contains(&i.id)) {
                    self.gone.insert_subtree(i);
                }
            }
            _ => {}
        }
    }

    /// Whether the text in `range` has a `#` (perhaps in a comment).
    fn has_hash(&self, range: Range<usize>) -> bool {
        let hashes = self
            .hashes
            .get_or_init(|| memchr::memchr_iter(b'#', self.src.as_bytes()).collect());
        let i = hashes.partition_point(|&p| p < range.start);
        hashes.get(i).is_some_and(|&p| p < range.end)
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

    /// The indentation step for block mappings created inside the mapping `o`.
    /// The indentation step for mappings nested in the mapping `o`: that of its first entry
    /// whose value is a block mapping indented more than its key; else that of `o` itself
    /// under its own key; else the document's.
    fn step_in(&self, o: &Node) -> usize {
        let src = self.src;
        let step = |k: &Node, v: &Node| match &v.kind {
            NodeKind::Map {
                flow: false,
                entries,
            } if !entries.is_empty() => {
                let (kc, vc) = (col_of(src, k.span.start), col_of(src, v.span.start));
                (vc > kc).then(|| vc - kc)
            }
            _ => None,
        };
        let NodeKind::Map { flow, entries } = &o.kind else {
            return self.layout().step;
        };
        let inner = match flow {
            false => entries.iter().find_map(|(k, v)| step(k, v)),
            true => None,
        };
        inner
            .or_else(|| {
                let key = self.index.find(o.id)?.key?;
                step(key, o)
            })
            .unwrap_or_else(|| self.layout().step)
    }

    fn map(
        &mut self,
        o: &'a Node,
        flow: bool,
        entries: &'a [(Node, Node)],
        m_entries: &[(MNode, MNode)],
    ) -> Result<()> {
        let kept = match_ids(
            entries,
            |(k, _)| k.id,
            m_entries.iter().map(|(k, _)| k.orig),
        )
        .ok_or_else(|| self.unsupported(o.span.start, "keys were reordered"))?;
        let mut prev: Option<(usize, usize)> = None;
        for next in kept.iter().copied().map(Some).chain([None]) {
            let o_from = prev.map_or(0, |p| p.0 + 1);
            let m_from = prev.map_or(0, |p| p.1 + 1);
            let o_to = next.map_or(entries.len(), |n| n.0);
            let m_to = next.map_or(m_entries.len(), |n| n.1);
            self.map_segment(
                o,
                flow,
                entries,
                prev.map(|p| p.0),
                o_from..o_to,
                &m_entries[m_from..m_to],
            )?;
            if let Some((oi, mi)) = next {
                let (ok, ov) = &entries[oi];
                let (mk, mv) = &m_entries[mi];
                if scalar_changed(ok, mk) {
                    // Only scalar keys are ever renamed; a collection used as a key
                    // (`? {a: 1}`) is left as it is, or refused if it changed.
                    match (&ok.kind, self.inline(mk, Indent::Of(ok))) {
                        (NodeKind::Scalar { .. }, Some(text)) => self
                            .edits
                            .push(Edit::replace(ok.span.clone(), text.into_owned())),
                        _ if !mk.dirty && mk.orig == Some(ok.id) => {}
                        _ => {
                            return Err(self
                                .unsupported(ok.span.start, "change a collection used as a key"));
                        }
                    }
                }
                if mv.orig == Some(ov.id) && !(ov.span.is_empty() && mv.dirty) {
                    self.node_in(ov, mv)?;
                } else if mv.orig != Some(ov.id) || mv.dirty {
                    self.replace_value(o, flow, ok, ov, mk, mv)?;
                }
            }
            prev = next;
        }
        Ok(())
    }

    /// Where new entries of the flow mapping `o` go when it has one entry per line: the
    /// entries' column and the indentation step from the opening bracket's line.
    fn flow_lines(&self, o: &Node, entries: &[(Node, Node)]) -> Option<(usize, usize)> {
        let src = self.src;
        let (k, _) = entries.first()?;
        let ls = line_start(src, k.span.start);
        if ls <= o.span.start || !blank(&src[ls..k.span.start]) {
            return None;
        }
        let col = col_of(src, k.span.start);
        let base = indentation(src, o.span.start);
        Some((col, col.checked_sub(base).filter(|&s| s > 0).unwrap_or(2)))
    }

    /// Deleted original entries `dels` and new entries `news` that sit between the same two
    /// kept neighbours.
    #[allow(clippy::too_many_arguments)]
    fn map_segment(
        &mut self,
        o: &'a Node,
        flow: bool,
        entries: &[(Node, Node)],
        prev_kept: Option<usize>,
        dels: Range<usize>,
        news: &[(MNode, MNode)],
    ) -> Result<()> {
        if dels.is_empty() && news.is_empty() {
            return Ok(());
        }
        let src = self.src;
        let col = col_of(src, o.span.start);
        let lines = if flow {
            self.flow_lines(o, entries)
        } else {
            None
        };
        let (sep, col, ctx) = match (flow, lines) {
            (false, _) => (line_sep("", self.nl(o.span.start), col, ""), col, None),
            (true, None) => (self.layout().comma().to_string(), col, Some(Flow::Inline)),
            (true, Some((c, step))) => (
                line_sep(",", self.nl(o.span.start), c, ""),
                c,
                Some(Flow::Lines { indent: c, step }),
            ),
        };
        self.step.set(Step::Of(o));
        let rendered: Vec<String> = news
            .iter()
            .map(|(k, v)| self.entry(k, v, col, ctx, true))
            .collect::<Result<_>>()?;
        if !dels.is_empty() && entries.len() == dels.len() && news.is_empty() {
            if let Some(at) = flow_comment(src, o.span.clone()).filter(|_| flow) {
                return Err(
                    self.unsupported(at, "delete an entry next to a comment in a flow collection")
                );
            }
            self.edits.push(Edit::replace(o.span.clone(), "{}"));
            return Ok(());
        }
        if let Some(first) = dels.clone().next() {
            let (k, v) = &entries[first];
            if rendered.is_empty() {
                return self.delete_run(flow, entries, dels);
            }
            let mut end = entry_end(src, k, v);
            if !flow {
                if self.carried.borrow().contains(&v.id) {
                    end = line_end(src, end);
                } else {
                    self.not_carried.push(v.id);
                }
            }
            self.edits.push(Edit::replace(
                k.span.start..end,
                joined("", rendered, &sep, ""),
            ));
            return self.delete_run(flow, entries, first + 1..dels.end);
        }
        if let Some(p) = prev_kept {
            let (k, v) = &entries[p];
            let end = entry_end(src, k, v);
            if flow {
                self.edits
                    .push(Edit::insert(end, joined(&sep, rendered, &sep, "")));
            } else {
                // Insert at the start of the next line rather than the end of this one: the
                // kept entry's last lines may be deleted (a nested key that went away), and a
                // line start after them is never inside that deletion.
                let le = line_end(src, end);
                let next = next_line_start(src, le);
                if next > le {
                    let nl = &src[le..next];
                    let indent = sep.trim_start_matches(['\r', '\n']);
                    self.edits
                        .push(Edit::insert(next, joined(indent, rendered, &sep, nl)));
                } else {
                    self.edits
                        .push(Edit::insert(le, joined(&sep, rendered, &sep, "")));
                }
            }
        } else if let Some((k, _)) = entries.get(dels.end) {
            self.edits
                .push(Edit::insert(k.span.start, joined("", rendered, &sep, &sep)));
        } else if flow {
            let pad = no_braces('{', rendered.first().map_or("", String::as_str));
            self.edits.push(Edit::insert(
                o.span.start + 1,
                joined(pad, rendered, &sep, ""),
            ));
        } else {
            return Err(self.unsupported(o.span.start, "insert into an empty block mapping"));
        }
        Ok(())
    }

    /// Delete the entries `run`, which sit between the same two kept neighbours.
    fn delete_run(
        &mut self,
        flow: bool,
        entries: &[(Node, Node)],
        run: Range<usize>,
    ) -> Result<()> {
        if run.is_empty() {
            return Ok(());
        }
        let src = self.src;
        if flow {
            let (first, last) = (&entries[run.start], &entries[run.end - 1]);
            let range = match (entries.get(run.end), run.start.checked_sub(1)) {
                (Some((next, _)), _) => first.0.span.start..next.span.start,
                (None, Some(p)) => {
                    let (pk, pv) = &entries[p];
                    entry_end(src, pk, pv)..entry_end(src, &last.0, &last.1)
                }
                (None, None) => first.0.span.start..entry_end(src, &last.0, &last.1),
            };
            if let Some(at) = flow_comment(src, range.clone()) {
                return Err(
                    self.unsupported(at, "delete an entry next to a comment in a flow collection")
                );
            }
            self.edits.push(Edit::replace(range, ""));
            return Ok(());
        }
        let mut ranges = Vec::new();
        for i in run.clone() {
            let (k, v) = &entries[i];
            let ls = text_line_start(src, k.span.start);
            if blank(&src[ls..k.span.start]) {
                let start = self.comments_above(k).map_or(ls, |r| r.start);
                let mut end = next_line_start(src, line_end(src, entry_end(src, k, v)));
                if !self.live.contains(v.id) {
                    // Own-line comments indented under the deleted entry go with it.
                    let indent = col_of(src, k.span.start);
                    while end < src.len() {
                        let line = &src[end..line_end(src, end)];
                        let lead = line.bytes().take_while(|&b| b == b' ').count();
                        if lead <= indent || !line[lead..].starts_with('#') {
                            break;
                        }
                        end = next_line_start(src, end);
                    }
                }
                ranges.push(start..end);
            } else if let Some((next, _)) = entries.get(run.end) {
                // `- key: v` opening a sequence item: pull the next kept key up onto the
                // dash line (this takes the rest of the run with it).
                ranges.push(k.span.start..next.span.start);
                break;
            } else {
                return Err(self.unsupported(k.span.start, "delete a key that shares its line"));
            }
        }
        self.delete_ranges(ranges);
        Ok(())
    }

    /// Delete whole-line ranges, merging adjacent ones.
    fn delete_ranges(&mut self, ranges: Vec<Range<usize>>) {
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if last.end == r.start => last.end = r.end,
                _ => merged.push(r),
            }
        }
        for r in merged {
            self.edits.push(Edit::replace(r, ""));
        }
    }

    /// The own-line comments directly above the block entry whose key is `k`, at the key's
    /// indentation, as whole lines; `None` when there are none.
    fn comments_above(&self, k: &Node) -> Option<Range<usize>> {
        let src = self.src;
        let ls = line_start(src, k.span.start);
        if !blank(&src[ls..k.span.start]) || self.root_first == Some(k.id) {
            return None;
        }
        // The comment lines go up from the line above: none there, none at all.
        if ls == 0 || !self.has_hash(line_start(src, ls - 1)..ls) {
            return None;
        }
        // Where the previous entry ends: none of this key's own-line comments is above it.
        let floor = self
            .index
            .find(k.id)
            .and_then(|slot| slot.prev)
            .map_or(0, |(pk, pv)| {
                next_line_start(src, line_end(src, entry_end(src, pk, pv)))
            });
        let indent = col_of(src, k.span.start);
        let mut start = ls;
        while start > floor {
            let prev = line_start(src, start - 1);
            if prev < floor {
                break;
            }
            let line = &src[prev..start];
            let lead = line.bytes().take_while(|&b| b == b' ').count();
            if lead != indent || !line[lead..].starts_with('#') {
                break;
            }
            start = prev;
        }
        (start < ls).then_some(start..ls)
    }

    #[allow(clippy::too_many_arguments)]
    fn replace_value(
        &mut self,
        o: &'a Node,
        flow: bool,
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
        if !block_orig && let Some(text) = self.inline(mv, Indent::Of(ov)) {
            let text = text.into_owned();
            if ov.span.is_empty() {
                if ov.props.is_some() {
                    return Err(
                        self.unsupported(ov.span.start, "an empty value with an anchor or tag")
                    );
                }
                let text = match self.props(mv)? {
                    Some(p) => format!("{p} {text}"),
                    None => text,
                };
                let colon = colon_after(src, ok.span.end);
                self.edits.push(Edit::insert(colon, format!(" {text}")));
            } else {
                let (start, text) = self.with_props(ov, mv, text)?;
                self.edits.push(Edit::replace(start..ov.span.end, text));
            }
            return Ok(());
        }
        self.step.set(Step::Of(o));
        let ctx = flow.then_some(Flow::Inline);
        let col = col_of(src, o.span.start);
        let text = self.entry(mk, mv, col, ctx, false)?;
        self.edits
            .push(Edit::replace(ok.span.start..entry_end(src, ok, ov), text));
        Ok(())
    }

    /// The range to replace for the in-place scalar `o` and the text with `m`'s anchor and
    /// tag, so that properties are kept, dropped or changed with the node.
    fn with_props(&self, o: &Node, m: &MNode, text: String) -> Result<(usize, String)> {
        let start = o
            .props
            .as_ref()
            .map_or(o.span.start, |p| p.start.min(o.span.start));
        Ok(match self.props(m)? {
            Some(p) => (start, format!("{p} {text}")),
            None => (start, text),
        })
    }

    fn seq(&mut self, o: &'a Node, flow: bool, items: &'a [Node], m_items: &[MNode]) -> Result<()> {
        let kept = match_ids(items, |i| i.id, m_items.iter().map(|i| i.orig))
            .ok_or_else(|| self.unsupported(o.span.start, "items were reordered"))?;
        let src = self.src;
        let dash_col = col_of(src, o.span.start);
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
                    self.layout().comma().to_string()
                } else {
                    line_sep("", self.nl(o.span.start), dash_col, "- ")
                };
                self.step.set(Step::Document);
                let rendered: Vec<String> = news
                    .iter()
                    .map(|i| {
                        if flow {
                            self.flow_text(i, Flow::Inline)
                        } else {
                            self.item(i, dash_col + 2)
                        }
                    })
                    .collect::<Result<_>>()?;
                if let Some(first) = dels.first()
                    && flow
                {
                    let last = dels.last().expect("not empty");
                    let range = if !rendered.is_empty() {
                        self.edits
                            .push(Edit::replace(first.span.clone(), rendered.join(&sep)));
                        first.span.end..last.span.end
                    } else if let Some(next) = items.get(o_to) {
                        with_props(first).start..with_props(next).start
                    } else if let Some(p) = o_from.checked_sub(1) {
                        items[p].span.end..last.span.end
                    } else {
                        // Every item goes.
                        o.span.start + 1..o.span.end - 1
                    };
                    if let Some(at) = flow_comment(src, range.clone()) {
                        return Err(self.unsupported(
                            at,
                            "delete an item next to a comment in a flow collection",
                        ));
                    }
                    if !range.is_empty() {
                        self.edits.push(Edit::replace(range, ""));
                    }
                } else if let Some(first) = dels.first() {
                    let mut rest = dels.iter();
                    if !rendered.is_empty() {
                        rest.next();
                        self.edits
                            .push(Edit::replace(first.span.clone(), rendered.join(&sep)));
                    }
                    let mut ranges = Vec::new();
                    for d in rest {
                        let dash = item_dash_offset(src, d);
                        let ls = text_line_start(src, dash);
                        if !blank(&src[ls..dash]) {
                            return Err(self.unsupported(
                                d.span.start,
                                "delete a sequence item that shares its line",
                            ));
                        }
                        ranges.push(ls..next_line_start(src, line_end(src, d.span.end)));
                    }
                    self.delete_ranges(ranges);
                } else if let Some(p) = prev.map(|p| &items[p.0]) {
                    let le = line_end(src, p.span.end);
                    let next = next_line_start(src, le);
                    if !flow && next > le {
                        // At the start of the next line, as a mapping inserts after its last
                        // entry: an entry added to the last item lands there too, and must
                        // come first (it was recorded first).
                        let nl = &src[le..next];
                        let indent = sep.trim_start_matches(['\r', '\n']);
                        self.edits.push(Edit::insert(
                            next,
                            format!("{indent}{}{nl}", rendered.join(&sep)),
                        ));
                    } else {
                        let at = if flow { p.span.end } else { le };
                        self.edits
                            .push(Edit::insert(at, format!("{sep}{}", rendered.join(&sep))));
                    }
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
                self.node_in(oi_node, mi_node)?;
            }
            prev = next;
        }
        Ok(())
    }

    // ---- rendering -------------------------------------------------------------------

    /// The anchor and tag of `v` as written in the source, if it has any.
    fn props(&self, v: &MNode) -> Result<Option<&'a str>> {
        if v.anchor == 0 && v.tag.is_none() {
            return Ok(None);
        }
        let node = v.orig.and_then(|id| self.node_of(id));
        match node {
            Some(n) if n.anchor == v.anchor && n.tag == v.tag => match &n.props {
                Some(p) if !self.src[p.clone()].contains(['\n', '#']) => {
                    Ok(Some(&self.src[p.clone()]))
                }
                _ => Err(self.unsupported(n.span.start, "move an anchor or tag that spans lines")),
            },
            _ => Err(self.unsupported(
                node.map_or(0, |n| n.span.start),
                "a node whose anchor or tag changed",
            )),
        }
    }

    /// The comments that travel with the moved value `v` (its entry was deleted): the
    /// own-line ones above its key, the one after `key:` when the value starts on a later
    /// line, and the one ending the value's last line.
    fn comments_of(&self, v: &MNode) -> Carried<'a> {
        let src = self.src;
        let none = Carried::default();
        let Some(id) = v.orig else { return none };
        let Some(index::Slot {
            node, key: Some(k), ..
        }) = self.index.get(id)
        else {
            return none;
        };
        // Every comment that goes along is between the line above the key and the end of
        // the value's last line: without a `#` there, there is none.
        let end = if node.span.is_empty() {
            colon_after(src, k.span.end)
        } else {
            node.span.end
        };
        let ls = line_start(src, k.span.start);
        let from = if ls == 0 { 0 } else { line_start(src, ls - 1) };
        if !self.has_hash(from..line_end(src, end)) {
            return none;
        }
        // A key still in its place keeps its comments there.
        if self.live.contains(k.id) && !self.gone.contains(k.id) {
            return none;
        }
        let above = self
            .comments_above(k)
            .filter(|_| !self.in_place.contains(&k.id))
            .map(|r| &src[r]);
        // After `key:`, or after the anchor and tag that follow it on that line.
        let colon = colon_after(src, k.span.end);
        let key_line_end = node
            .props
            .as_ref()
            .filter(|p| p.start >= colon && line_start(src, p.end) < colon)
            .map_or(colon, |p| p.end);
        let after_key = (!node.span.is_empty() && line_start(src, node.span.start) > k.span.end)
            .then(|| trailing_comment(src, key_line_end))
            .flatten();
        let before_value = (!node.span.is_empty() && line_start(src, node.span.start) > colon)
            .then(|| &src[next_line_start(src, key_line_end)..line_start(src, node.span.start)])
            .filter(|t| t.lines().any(|l| l.trim_start().starts_with('#')))
            .filter(|t| {
                t.lines()
                    .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            });
        Carried {
            id,
            above,
            after_key,
            before_value,
            after_value: trailing_comment(src, end),
        }
    }

    /// One `key: value` entry placed at column `col`. `carry` takes the comments of a moved
    /// value along (not for a value replaced in place, whose comments stay where they are).
    fn entry(
        &self,
        k: &MNode,
        v: &MNode,
        col: usize,
        flow: Option<Flow>,
        carry: bool,
    ) -> Result<String> {
        // Sized for the value's original text: a moved subtree (a CRD's schema) is rendered
        // into this buffer, which otherwise grew by doubling, a copy each time.
        let hint = v
            .orig
            .and_then(|id| self.node_of(id))
            .map_or(0, |n| n.span.len());
        let mut out = String::with_capacity(hint + 64);
        self.entry_into(&mut out, k, v, col, flow, carry)?;
        Ok(out)
    }

    /// [`Emitter::entry`], appended to `out`. A moved subtree is rendered level by level
    /// into one buffer: each level returning its own text, copied into its parent's, copied
    /// the whole subtree once per level (a CRD schema is a dozen deep). On an error `out`
    /// holds part of the entry; callers give up the whole rendering then.
    fn entry_into(
        &self,
        out: &mut String,
        k: &MNode,
        v: &MNode,
        col: usize,
        flow: Option<Flow>,
        carry: bool,
    ) -> Result<()> {
        let key = self
            .inline(k, Indent::Col(col))
            .ok_or_else(|| self.unsupported(0, "a collection as a key"))?;
        if let Some(flow) = flow {
            let colon = self.layout().colon();
            let text = self.flow_text(v, flow)?;
            out.push_str(&key);
            out.push_str(colon);
            out.push_str(&text);
            return Ok(());
        }
        let comments = if carry {
            self.comments_of(v)
        } else {
            Carried::default()
        };
        if let Some(above) = comments.above {
            let nl = self.nl(0);
            for line in above.lines() {
                out.push_str(line.trim());
                out.push_str(nl);
                push_spaces(out, col);
            }
        }
        out.push_str(&key);
        out.push(':');
        self.after_key_into(out, v, col, &comments)
    }

    /// The text that follows `key:` for a value whose key sits at column `key_col`,
    /// appended to `out`.
    fn after_key_into(
        &self,
        out: &mut String,
        v: &MNode,
        key_col: usize,
        comments: &Carried,
    ) -> Result<()> {
        let props = self.props(v)?;
        let push_props = |out: &mut String| {
            if let Some(p) = props {
                out.push(' ');
                out.push_str(p);
            }
        };
        let comment = comments.after_value.or(comments.after_key);
        if self.is_implicit_null(v) {
            // `key:` with nothing after it stays that way.
            if comments.after_value.is_some() {
                self.carried.borrow_mut().insert(comments.id);
            }
            push_props(out);
            out.push_str(comment.unwrap_or(""));
            return Ok(());
        }
        if let Some(text) = self.inline(v, Indent::Col(key_col)) {
            if comments.after_value.is_some() {
                self.carried.borrow_mut().insert(comments.id);
            }
            push_props(out);
            out.push(' ');
            out.push_str(&text);
            out.push_str(comment.unwrap_or(""));
            return Ok(());
        }
        let nl = self.nl(0);
        let col = match v.kind {
            MKind::Seq { .. } if self.layout().indentless => key_col,
            _ => key_col + self.step(),
        };
        // Rendered once: a moved subtree's original text, re-indented, can be large.
        let raw_text = self.raw(v, col);
        let raw = raw_text.is_some();
        let end = comments.after_value.filter(|_| raw);
        if end.is_some() {
            self.carried.borrow_mut().insert(comments.id);
        }
        let before_value = comments
            .before_value
            .filter(|_| raw || !self.first_key_carries_them(v, comments.id));
        push_props(out);
        out.push_str(comments.after_key.unwrap_or(""));
        for line in before_value.into_iter().flat_map(str::lines) {
            if !line.trim().is_empty() {
                out.push_str(nl);
                push_spaces(out, col);
                out.push_str(line.trim());
            }
        }
        out.push_str(nl);
        push_spaces(out, col);
        match raw_text {
            Some(text) => text.push_to(out),
            None => self.block_into(out, v, col)?,
        }
        out.push_str(end.unwrap_or(""));
        Ok(())
    }

    /// Whether the comment lines between a moved value's key and its first line go with
    /// the first key of that mapping when it is rendered entry by entry (they are the
    /// comments above that key, which travel with it): written once, not twice.
    fn first_key_carries_them(&self, v: &MNode, orig: usize) -> bool {
        let (Some(node), MKind::Map { entries, .. }) = (self.node_of(orig), &v.kind) else {
            return false;
        };
        let Some((first, _)) = node.entries().first() else {
            return false;
        };
        entries.iter().any(|(k, _)| k.orig == Some(first.id))
            && self.gone.contains(first.id)
            && !self.in_place.contains(&first.id)
            && self.comments_above(first).is_some()
    }

    /// An unchanged null that was written as nothing at all (`key:`).
    fn is_implicit_null(&self, v: &MNode) -> bool {
        v.orig
            .filter(|_| !v.dirty)
            .and_then(|id| self.node_of(id))
            .is_some_and(|n| n.span.is_empty() && n.is_null_scalar())
    }

    /// A block collection whose first line starts at column `col` (already positioned),
    /// appended to `out`.
    fn block_into(&self, out: &mut String, v: &MNode, col: usize) -> Result<()> {
        if let Some(raw) = self.raw(v, col) {
            raw.push_to(out);
            return Ok(());
        }
        let nl = self.nl(0);
        let sep = |out: &mut String| {
            out.push_str(nl);
            push_spaces(out, col);
        };
        match &v.kind {
            MKind::Map { entries, .. } if !entries.is_empty() => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        sep(out);
                    }
                    self.entry_into(out, k, v, col, None, true)?;
                }
                Ok(())
            }
            MKind::Seq { items, .. } if !items.is_empty() => {
                for (n, i) in items.iter().enumerate() {
                    if n > 0 {
                        sep(out);
                    }
                    out.push_str("- ");
                    self.item_into(out, i, col + 2)?;
                }
                Ok(())
            }
            _ => {
                out.push_str(&self.flow_body(v, Flow::Inline)?);
                Ok(())
            }
        }
    }

    /// A sequence item's content after `- `, at column `col`.
    fn item(&self, v: &MNode, col: usize) -> Result<String> {
        let mut out = String::new();
        self.item_into(&mut out, v, col)?;
        Ok(out)
    }

    /// [`Emitter::item`], appended to `out`.
    fn item_into(&self, out: &mut String, v: &MNode, col: usize) -> Result<()> {
        let props = self.props(v)?;
        // The dash is two columns to the left: the item's lines are relative to it.
        if let Some(text) = self.inline(v, Indent::Col(col.saturating_sub(2))) {
            if let Some(p) = props {
                out.push_str(p);
                out.push(' ');
            }
            out.push_str(&text);
            return Ok(());
        }
        if let Some(p) = props {
            out.push_str(p);
            out.push_str(self.nl(0));
            push_spaces(out, col);
        }
        self.block_into(out, v, col)
    }

    /// Text for a value that starts on the line it is placed on: scalars, flow
    /// collections, written in a block collection indented `parent` columns (the key's
    /// column, or the dash's). Anchors and tags are not included; callers that place a node
    /// anew add them.
    /// The text borrows the source where the node is copied as written (most keys and
    /// values of a moved subtree): no allocation per scalar.
    fn inline<'s>(&'s self, v: &'s MNode, parent: Indent) -> Option<Cow<'s, str>> {
        match &v.kind {
            MKind::Scalar { value, style } => {
                if let Some(raw) = self.raw_inline(v, parent) {
                    return Some(raw);
                }
                // Its lines cannot be shifted exactly: the value on one line, in a style
                // that means the same (`scalar` quotes what plain text cannot hold).
                Some(self.scalar(value, *style))
            }
            MKind::Alias(_) => self.raw_inline(v, parent),
            MKind::Map { flow: true, .. } | MKind::Seq { flow: true, .. } => self
                .raw_inline(v, parent)
                .or_else(|| self.flow_body(v, Flow::Inline).ok().map(Cow::Owned)),
            MKind::Map { entries, .. } if entries.is_empty() => Some(Cow::Borrowed("{}")),
            MKind::Seq { items, .. } if items.is_empty() => Some(Cow::Borrowed("[]")),
            _ => None,
        }
    }

    /// A new scalar: in the given style, but quoted in a JSON document.
    /// Plain text that stays plain is the value itself: no copy.
    fn scalar<'v>(&self, value: &'v str, style: Style) -> Cow<'v, str> {
        let quote = self.json && style == Style::Plain && crate::yaml::value::plain_is_str(value);
        if style == Style::Plain && !quote && !has_control(value, |b| matches!(b, b'\n' | b'\r')) {
            return Cow::Borrowed(value);
        }
        Cow::Owned(render_scalar(
            value,
            if quote { Style::Double } else { style },
        ))
    }

    /// A value in a flow collection, with its anchor and tag.
    fn flow_text(&self, v: &MNode, flow: Flow) -> Result<String> {
        Ok(match self.props(v)? {
            Some(p) => format!("{p} {}", self.flow_body(v, flow)?),
            None => self.flow_body(v, flow)?,
        })
    }

    fn flow_body(&self, v: &MNode, flow: Flow) -> Result<String> {
        if let Some(raw) = self.raw_flow(v, flow) {
            return Ok(raw);
        }
        let (open, close, parts) = match &v.kind {
            MKind::Map { entries, .. } => {
                let inner = match flow {
                    Flow::Lines { indent, step } => Flow::Lines {
                        indent: indent + step,
                        step,
                    },
                    Flow::Inline => Flow::Inline,
                };
                let parts: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| self.entry(k, v, 0, Some(inner), false))
                    .collect::<Result<_>>()?;
                ('{', '}', parts)
            }
            MKind::Seq { items, .. } => {
                let inner = match flow {
                    Flow::Lines { indent, step } => Flow::Lines {
                        indent: indent + step,
                        step,
                    },
                    Flow::Inline => Flow::Inline,
                };
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| self.flow_text(i, inner))
                    .collect::<Result<_>>()?;
                ('[', ']', parts)
            }
            MKind::Scalar { value, style } => {
                let style = if matches!(style, Style::Literal | Style::Folded) {
                    Style::Double
                } else {
                    *style
                };
                return Ok(self.scalar(value, style).into_owned());
            }
            MKind::Alias(_) => return Err(self.unsupported(0, "move an alias")),
        };
        Ok(match flow {
            _ if parts.is_empty() => format!("{open}{close}"),
            Flow::Inline => {
                let body = parts.join(self.layout().comma());
                format!("{open}{}{body}{close}", no_braces(open, &body))
            }
            Flow::Lines { indent, step } => {
                let nl = self.nl(0);
                let inner = format!("{nl}{}", " ".repeat(indent + step));
                format!(
                    "{open}{inner}{}{nl}{}{close}",
                    parts.join(&format!(",{inner}")),
                    " ".repeat(indent)
                )
            }
        })
    }

    /// The original text of an unchanged node for a flow context: as it is when it fits on
    /// one line; re-indented to `indent` when it spans lines and the context has lines.
    fn raw_flow(&self, v: &MNode, flow: Flow) -> Option<String> {
        let node = self.unchanged(v)?;
        let text = &self.src[node.span.clone()];
        if !text.contains('\n') {
            return Some(text.to_string());
        }
        let Flow::Lines { indent, .. } = flow else {
            return None;
        };
        reindent(text, indentation(self.src, node.span.start), indent)
    }

    /// The block indentation the original node `o` is written in (see `parents`).
    fn parent_of(&self, o: &Node) -> usize {
        match self.index.find(o.id).map(|slot| slot.parent) {
            Some(Parent::Col(c)) => c,
            Some(Parent::At(at)) => col_of(self.src, at),
            Some(Parent::Dash(item)) => col_of(self.src, item_dash_offset(self.src, item)),
            None => indentation(self.src, o.span.start),
        }
    }

    /// The original text of an unchanged block collection, re-indented to start at column
    /// `col`. Its anchor and tag are not included. `None` when its lines cannot be shifted
    /// exactly (then it is rendered entry by entry).
    fn raw(&self, v: &MNode, col: usize) -> Option<Shift<'a>> {
        let node = self.unchanged(v)?;
        if self.ends_in_kept_lines(node) {
            return None;
        }
        let text = &self.src[node.span.clone()];
        let from = col_of(self.src, node.span.start);
        reindents(text, from, col).then_some(Shift {
            text,
            from,
            to: col,
        })
    }

    /// The original text of an unchanged scalar, alias or flow collection placed after a
    /// key or dash in a block collection indented `parent` columns: every line after the
    /// first moves with that block collection, so continuation lines stay inside the node
    /// and a block scalar keeps its content indentation relative to its parent (an explicit
    /// indentation indicator such as `|2` stays right). `None` when that is not exact.
    fn raw_inline(&self, v: &MNode, parent: Indent) -> Option<Cow<'a, str>> {
        let node = self.unchanged(v)?;
        let text = &self.src[node.span.clone()];
        if !has_control(text, |b| b == b'\n') {
            return Some(Cow::Borrowed(text));
        }
        if self.ends_in_kept_lines(node) {
            return None;
        }
        reindent(text, self.parent_of(node), parent.col(self)).map(Cow::Owned)
    }

    /// Whether `node` ends with a block scalar with keep chomping (`|+`): the empty lines
    /// after its text are part of its value, and what follows the node in a new place
    /// decides how many there are.
    fn ends_in_kept_lines(&self, node: &Node) -> bool {
        index::block_header_ending_at(self.src, node, node.span.end)
            .is_some_and(|header| self.src[header].contains('+'))
    }

    /// The original node behind an unchanged working node of the same kind and text.
    fn unchanged(&self, v: &MNode) -> Option<&'a Node> {
        let id = v.orig.filter(|_| !v.dirty)?;
        let node = self.node_of(id)?;
        let same_kind = matches!(
            (&node.kind, &v.kind),
            (NodeKind::Scalar { .. }, MKind::Scalar { .. })
                | (NodeKind::Alias(_), MKind::Alias(_))
                | (NodeKind::Map { .. }, MKind::Map { .. })
                | (NodeKind::Seq { .. }, MKind::Seq { .. })
        );
        if !same_kind || node.is_flow() != v.is_flow() || node.span.is_empty() {
            return None;
        }
        Some(node)
    }
}

/// An original text whose lines after the first move from column `from` to `to` (see
/// [`reindent`]), copied into the rendered text when it is written.
#[derive(Debug, Clone, Copy)]
struct Shift<'a> {
    text: &'a str,
    from: usize,
    to: usize,
}

impl Shift<'_> {
    fn push_to(self, out: &mut String) {
        reindent_into(out, self.text, self.from, self.to);
    }
}

/// Comments that travel with a moved value.
#[derive(Debug, Default)]
struct Carried<'a> {
    /// The original value's id.
    id: usize,
    /// Own-line comment lines above the key, as written (with their line breaks).
    above: Option<&'a str>,
    /// After `key:` when the value starts on a later line, with the spaces before it.
    after_key: Option<&'a str>,
    /// Own-line comment lines between the key's line and the value's first line.
    before_value: Option<&'a str>,
    /// At the end of the value's last line, with the spaces before it.
    after_value: Option<&'a str>,
}

/// Append `n` spaces.
fn push_spaces(out: &mut String, mut n: usize) {
    // In slices of a run of spaces: a character at a time cost a capacity check and an
    // encoding each, for every line of rendered text.
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// `before`, a line break, `col` spaces and `after`: the separator of block entries or
/// items (a `format!` with a `repeat` cost more than the rest of a small insertion).
fn line_sep(before: &str, nl: &str, col: usize, after: &str) -> String {
    let mut s = String::with_capacity(before.len() + nl.len() + col + after.len());
    s.push_str(before);
    s.push_str(nl);
    push_spaces(&mut s, col);
    s.push_str(after);
    s
}

/// `before`, the parts with `sep` between them and `after`, in a string of their length; a
/// lone part with nothing around it is that string itself (a moved subtree, a CRD's schema,
/// is not copied once more).
fn joined(before: &str, mut parts: Vec<String>, sep: &str, after: &str) -> String {
    if parts.len() == 1 && before.is_empty() && after.is_empty() {
        return parts.pop().expect("one part");
    }
    let seps = sep.len() * parts.len().saturating_sub(1);
    let len = before.len() + parts.iter().map(String::len).sum::<usize>() + seps + after.len();
    let mut s = String::with_capacity(len);
    s.push_str(before);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        s.push_str(part);
    }
    s.push_str(after);
    s
}

/// A set of node ids. Ids are dense (numbered per document), so a flag per id: the emitter
/// fills these for every node of a changed document, and hashing each id cost more than
/// the rest of the walk.
#[derive(Debug, Default)]
struct IdSet(Vec<bool>);

impl IdSet {
    fn with_capacity(count: usize) -> IdSet {
        IdSet(vec![false; count])
    }

    fn insert(&mut self, id: usize) {
        if id >= self.0.len() {
            self.0.resize(id + 1, false);
        }
        self.0[id] = true;
    }

    fn contains(&self, id: usize) -> bool {
        self.0.get(id).copied().unwrap_or(false)
    }

    fn insert_run(&mut self, ids: std::ops::RangeInclusive<usize>) {
        if *ids.end() >= self.0.len() {
            self.0.resize(ids.end() + 1, false);
        }
        self.0[ids].fill(true);
    }

    /// The ids of `n` and every node inside it.
    fn insert_subtree(&mut self, n: &Node) {
        self.insert_run(index::subtree_ids(n));
    }
}

/// Every original id in the working tree: one by one on the way to a change, and an
/// unchanged subtree (a copy of an original one, ids and all) as the run of its ids.
fn collect_live(m: &MNode, out: &mut IdSet) {
    if let Some(id) = m.orig {
        out.insert(id);
    }
    match &m.kind {
        MKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
            live_child(k, out);
            live_child(v, out)
        }),
        MKind::Seq { items, .. } => items.iter().for_each(|i| live_child(i, out)),
        _ => {}
    }
}

/// [`collect_live`] for one node, an unchanged one without a call.
#[inline(always)]
fn live_child(m: &MNode, out: &mut IdSet) {
    if !m.dirty
        && let Some(first) = m.orig
    {
        if matches!(m.kind, MKind::Scalar { .. } | MKind::Alias(_)) {
            return out.insert(first);
        }
        if let Some(last) = last_orig(m).filter(|&last| last >= first) {
            return out.insert_run(first..=last);
        }
    }
    collect_live(m, out)
}

/// The original id of the last node of `m`'s subtree, numbered last (see
/// [`index::subtree_ids`]).
fn last_orig(m: &MNode) -> Option<usize> {
    let mut last = m;
    loop {
        last = match &last.kind {
            MKind::Map { entries, .. } => match entries.last() {
                Some((_, v)) => v,
                None => break,
            },
            MKind::Seq { items, .. } => match items.last() {
                Some(item) => item,
                None => break,
            },
            _ => break,
        };
    }
    last.orig
}

/// The comment that ends the line at `end`, with the blanks before it, if the rest of the
/// line is one.
fn trailing_comment(src: &str, end: usize) -> Option<&str> {
    let rest = &src[end..line_end(src, end)];
    let comment = rest.trim_start_matches([' ', '\t']);
    (comment.starts_with('#') && comment.len() < rest.len()).then_some(rest)
}

/// Where the first comment in `range` of flow text starts: a `#` at the start of a line or
/// after a blank, outside quoted scalars. (Plain scalars cannot hold ` #`.)
fn flow_comment(src: &str, range: Range<usize>) -> Option<usize> {
    let text = &src[range.clone()];
    let mut quote: Option<u8> = None;
    let mut prev: u8 = b'\n';
    let mut prev_token: u8 = b'{';
    let mut bytes = text.bytes().enumerate().peekable();
    while let Some((i, b)) = bytes.next() {
        match quote {
            Some(b'"') if b == b'\\' => {
                bytes.next();
            }
            Some(b'\'') if b == b'\'' && bytes.peek().is_some_and(|&(_, n)| n == b'\'') => {
                bytes.next();
            }
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'#' if matches!(prev, b' ' | b'\t' | b'\n' | b'\r') => {
                    return Some(range.start + i);
                }
                b'\'' | b'"' if matches!(prev_token, b'{' | b'[' | b',' | b':' | b'?') => {
                    quote = Some(b)
                }
                _ => {}
            },
        }
        prev = b;
        if quote.is_none() && !b.is_ascii_whitespace() {
            prev_token = b;
        }
    }
    None
}

/// [`crate::source::column`], counted back from `offset` a byte at a time: a node's column
/// is mostly its indentation, a few bytes, where the `memrchr` call cost more than the
/// count.
fn col_of(src: &str, offset: usize) -> usize {
    let bytes = &src.as_bytes()[..offset];
    let mut col = 0;
    for &b in bytes.iter().rev() {
        if b == b'\n' {
            return col;
        }
        col += usize::from((b as i8) >= -0x40);
    }
    // The first line: a byte-order mark there is not a column.
    if src.starts_with('\u{feff}') {
        col.saturating_sub(1)
    } else {
        col
    }
}

/// Whether `text` has a byte that `is`, which is a control character (a line break, a
/// tab): eight bytes at a time, for the short keys and scalars that are rendered one by one
/// (a `memchr` call's setup cost more than the search).
fn has_control(text: &str, is: impl Fn(u8) -> bool) -> bool {
    let mut words = text.as_bytes().chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        // Whether a byte is below 0x20: exact about whether there is one, and then the
        // eight are looked at one by one.
        let low = x.wrapping_sub(0x2020_2020_2020_2020) & !x & 0x8080_8080_8080_8080;
        if low != 0 && word.iter().any(|&b| is(b)) {
            return true;
        }
    }
    words.remainder().iter().any(|&b| is(b))
}

/// Where the line containing `offset` starts, after the byte-order mark on the first line:
/// deleting a whole line never takes the BOM with it.
fn text_line_start(src: &str, offset: usize) -> usize {
    match line_start(src, offset) {
        0 if src.starts_with('\u{feff}') => '\u{feff}'.len_utf8(),
        ls => ls,
    }
}

/// Whether the text before something on its line is only indentation (and, on the first
/// line, the byte-order mark, which editors do not show).
fn blank(prefix: &str) -> bool {
    prefix.trim_start_matches('\u{feff}').trim().is_empty()
}

/// Number of spaces that indent the line containing `offset`.
fn indentation(src: &str, offset: usize) -> usize {
    let ls = line_start(src, offset);
    let start = if ls == 0 && src.starts_with('\u{feff}') {
        3
    } else {
        ls
    };
    src[start..].bytes().take_while(|&b| b == b' ').count()
}

/// Pairs (original index, new index) of nodes that survived, in order; `None` if the
/// survivors were reordered.
/// The original nodes are `orig`, each with its id given by `id_of` (searched where they
/// are: no list of ids per changed collection).
fn match_ids<T>(
    orig: &[T],
    id_of: impl Fn(&T) -> usize,
    new: impl Iterator<Item = Option<usize>>,
) -> Option<Vec<(usize, usize)>> {
    // Ids are numbered in document order, so the original ones are sorted and found by a
    // binary search: no hash table for every changed mapping. Hashed (linear whatever the
    // size) should a parser ever number them otherwise.
    let hashed: Option<HashMap<usize, usize>> =
        (!orig.windows(2).all(|w| id_of(&w[0]) < id_of(&w[1]))).then(|| {
            orig.iter()
                .enumerate()
                .map(|(i, o)| (id_of(o), i))
                .collect()
        });
    let position = |id: usize| match &hashed {
        Some(h) => h.get(&id).copied(),
        None => orig.binary_search_by_key(&id, &id_of).ok(),
    };
    let mut kept = Vec::new();
    for (mi, id) in new.enumerate() {
        if let Some(oi) = id.and_then(position) {
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

/// The space to put between an opening `{` and text that starts with another (a mapping
/// used as the first key): `{{` would make the file read as a Helm template.
fn no_braces(open: char, text: &str) -> &'static str {
    if open == '{' && text.starts_with('{') {
        " "
    } else {
        ""
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
    // Mostly right after the key: no search.
    if src.as_bytes().get(key_end) == Some(&b':') {
        return key_end + 1;
    }
    src[key_end..]
        .find(':')
        .map_or(key_end, |i| key_end + i + 1)
}

/// A node's text with the anchor and tag written before it.
fn with_props(n: &Node) -> Range<usize> {
    n.props
        .as_ref()
        .map_or(n.span.start, |p| p.start.min(n.span.start))..n.span.end
}

/// Byte offset of the `-` that opens a block sequence item.
fn item_dash_offset(src: &str, item: &Node) -> usize {
    crate::yaml::tree::dash_before(src, with_props(item).start)
}

/// Shift every line after the first by `to - from` columns, the lines of a node whose
/// block context moves from indentation `from` to `to`. Empty lines stay empty; lines of
/// spaces move too (inside a block scalar those beyond its indentation are content). A
/// comment line indented less than a shift to the left goes to column 0. `None` when any
/// other line is indented less than that shift: it could not keep its place relative to the
/// others, and the node's meaning with it.
pub fn reindent(text: &str, from: usize, to: usize) -> Option<String> {
    if from == to || memchr::memchr(b'\n', text.as_bytes()).is_none() {
        return Some(text.to_string());
    }
    if !reindents(text, from, to) {
        return None;
    }
    let mut out = String::new();
    reindent_into(&mut out, text, from, to);
    Some(out)
}

/// Whether [`reindent`] can shift `text` from `from` to `to` columns.
fn reindents(text: &str, from: usize, to: usize) -> bool {
    if to >= from {
        return true;
    }
    let shift = from - to;
    lines_after_first(text).all(|line| {
        let body = without_line_break(line);
        let lead = body.bytes().take_while(|&b| b == b' ').count();
        let rest = &body[lead..];
        lead >= shift || rest.is_empty() || rest.starts_with('#')
    })
}

/// The lines of `text` after the first, each with its line break (`split_inclusive`, with
/// the `memchr` crate's search: the standard library's cost several times as much on the
/// short lines of a manifest).
fn lines_after_first(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut starts = memchr::memchr_iter(b'\n', bytes)
        .map(|nl| nl + 1)
        .filter(move |&start| start < bytes.len())
        .peekable();
    std::iter::from_fn(move || {
        let start = starts.next()?;
        let end = starts.peek().copied().unwrap_or(text.len());
        Some(&text[start..end])
    })
}

/// [`reindent`] appended to `out`, for a text that [`reindents`]: one buffer, no string per
/// line (a moved subtree is copied this way a line at a time).
fn reindent_into(out: &mut String, text: &str, from: usize, to: usize) {
    if from == to {
        out.push_str(text);
        return;
    }
    let first = memchr::memchr(b'\n', text.as_bytes()).map_or(text.len(), |nl| nl + 1);
    // The text and a shift for each line of 16 bytes or more: the buffer grows once.
    out.reserve(text.len() + to.saturating_sub(from) * (text.len() / 16 + 1));
    out.push_str(&text[..first]);
    for line in lines_after_first(text) {
        let body = without_line_break(line);
        if body.is_empty() {
            out.push_str(line);
        } else if to > from {
            push_spaces(out, to - from);
            out.push_str(line);
        } else {
            let lead = body.bytes().take_while(|&b| b == b' ').count();
            out.push_str(&line[lead.min(from - to)..]);
        }
    }
}

/// A line without the line break characters that end it (`trim_end_matches` of `\n` and
/// `\r`, a byte at a time).
fn without_line_break(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut n = bytes.len();
    while n > 0 && matches!(bytes[n - 1], b'\n' | b'\r') {
        n -= 1;
    }
    &line[..n]
}

/// A scalar in the given style. Block styles are never produced for new text.
pub fn render_scalar(value: &str, style: Style) -> String {
    match style {
        // A line break in a plain value (an empty line folded into it) cannot be written on
        // one line without quotes.
        Style::Plain if !value.contains(['\n', '\r']) => value.to_string(),
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

    /// Found by a binary search (ids in order) or by hashing (any order), the survivors are
    /// those of a search by position, and reordered ones are refused alike.
    #[test]
    fn matched_ids_are_those_of_a_plain_search() {
        let plain = |orig: &[usize], new: &[Option<usize>]| {
            let mut kept: Vec<(usize, usize)> = Vec::new();
            for (mi, id) in new.iter().enumerate() {
                if let Some(oi) = id.and_then(|id| orig.iter().rposition(|&o| o == id)) {
                    if kept.last().is_some_and(|&(last, _)| last >= oi) {
                        return None;
                    }
                    kept.push((oi, mi));
                }
            }
            Some(kept)
        };
        let origs: [&[usize]; 5] = [
            &[],
            &[3],
            &[1, 4, 9, 12],
            &[9, 4, 1, 12],
            &[2, 3, 5, 7, 11, 13],
        ];
        let news: [&[Option<usize>]; 7] = [
            &[],
            &[None],
            &[Some(4), None, Some(12)],
            &[Some(12), Some(4)],
            &[Some(1), Some(4), Some(9), Some(12), Some(100)],
            &[Some(5), Some(6), Some(13), None, Some(2)],
            &[Some(9), Some(1), Some(12)],
        ];
        for orig in origs {
            for new in news {
                assert_eq!(
                    match_ids(orig, |&id| id, new.iter().copied()),
                    plain(orig, new),
                    "{orig:?} {new:?}"
                );
            }
        }
    }

    #[test]
    fn reindent_shifts_following_lines() {
        assert_eq!(
            reindent("a: 1\n  b: 2\n# c\n  d: 3", 2, 4).unwrap(),
            "a: 1\n    b: 2\n  # c\n    d: 3"
        );
        assert_eq!(
            reindent("a: 1\n    b: 2\n# c", 4, 2).unwrap(),
            "a: 1\n  b: 2\n# c"
        );
        // Lines of spaces move (block scalar content); empty lines stay empty.
        assert_eq!(
            reindent("|\n  a\n    \n\n  b", 0, 2).unwrap(),
            "|\n    a\n      \n\n    b"
        );
        assert_eq!(
            reindent("|\n    a\n      \n    b", 2, 0).unwrap(),
            "|\n  a\n    \n  b"
        );
        // A text line that cannot move left as far as the others: not exact.
        assert_eq!(reindent("x\n    a\n  b", 4, 0), None);
    }

    /// Eight bytes at a time or one by one, the same answer: every byte value at every place
    /// of texts of up to 19 bytes.
    #[test]
    fn has_control_is_a_search_byte_by_byte() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0..=127u8 {
                    let mut bytes = vec![b'x'; len];
                    bytes[at] = b;
                    let text = std::str::from_utf8(&bytes).unwrap();
                    let is = |c: u8| matches!(c, b'\n' | b'\r');
                    assert_eq!(has_control(text, is), text.bytes().any(is), "{text:?}");
                }
            }
        }
        assert!(!has_control("naïve — ünïcode text", |c| c == b'\n'));
    }

    /// Counted back a byte at a time, the column is the one `source::column` gives, at every
    /// offset of every testdata file (and after a byte-order mark).
    #[test]
    fn col_of_is_column() {
        let mut texts: Vec<String> = crate::testdata_texts();
        texts.push("\u{feff}a: 1\n  b: é\n".to_string());
        for text in &texts {
            for at in (0..=text.len()).filter(|&at| text.is_char_boundary(at)) {
                assert_eq!(col_of(text, at), crate::source::column(text, at), "{at}");
            }
        }
    }

    #[test]
    fn scalars_render_with_escapes() {
        assert_eq!(render_scalar("a\"b", Style::Double), r#""a\"b""#);
        assert_eq!(render_scalar("it's", Style::Single), "'it''s'");
    }

    /// Parse `src`, let `change` edit the working tree, and splice the emitted edits.
    fn emit(src: &str, change: impl FnOnce(&mut MNode)) -> String {
        let docs = crate::yaml::parse_stream(src).unwrap();
        let mut work = MNode::from_node(&docs[0].root);
        change(&mut work);
        let mut emitter = Emitter::new(src, &docs[0].root, docs[0].node_count);
        emitter.node(&docs[0].root, &work).unwrap();
        crate::edit::apply(src, &emitter.edits).unwrap()
    }

    /// The entries of the mapping at `path` (keys), marking the way dirty.
    fn entries<'m>(node: &'m mut MNode, path: &[&str]) -> &'m mut Vec<(MNode, MNode)> {
        node.dirty = true;
        let MKind::Map { entries, .. } = &mut node.kind else {
            panic!("not a map")
        };
        match path.split_first() {
            None => entries,
            Some((first, rest)) => {
                let (_, v) = entries
                    .iter_mut()
                    .find(|(k, _)| k.as_str() == Some(first))
                    .unwrap();
                super::tests::entries(v, rest)
            }
        }
    }

    fn take(entries: &mut Vec<(MNode, MNode)>, key: &str) -> MNode {
        let i = entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))
            .unwrap();
        entries.remove(i).1
    }

    fn new_map(flow: bool, items: Vec<(&str, MNode)>) -> MNode {
        MNode::new(MKind::Map {
            flow,
            entries: items
                .into_iter()
                .map(|(k, v)| (MNode::string(k), v))
                .collect(),
        })
    }

    /// `r: {a, b, c}` → `r: {nest: {p: a, q: b}, c}`: a and b move into a new mapping.
    fn nest_a_b(work: &mut MNode, flow: bool) {
        let e = entries(work, &["r"]);
        let a = take(e, "a");
        let b = take(e, "b");
        e.insert(
            0,
            (
                MNode::string("nest"),
                new_map(flow, vec![("p", a), ("q", b)]),
            ),
        );
    }

    #[test]
    fn deleting_consecutive_flow_entries_does_not_overlap() {
        let src = "r: {a: 1, b: 2, c: 3}\n";
        let out = emit(src, |w| {
            let e = entries(w, &["r"]);
            take(e, "b");
            take(e, "c");
        });
        assert_eq!(out, "r: {a: 1}\n");
        let out = emit(src, |w| {
            let e = entries(w, &["r"]);
            take(e, "a");
            take(e, "b");
        });
        assert_eq!(out, "r: {c: 3}\n");
        let out = emit("r: {a: 1, b: 2, c: 3, d: 4}\n", |w| nest_a_b(w, true));
        assert_eq!(out, "r: {nest: {p: 1, q: 2}, c: 3, d: 4}\n");
        let out = emit("r: {c: 3, a: 1, b: 2}\n", |w| {
            let e = entries(w, &["r"]);
            let a = take(e, "a");
            let b = take(e, "b");
            e.push((
                MNode::string("nest"),
                new_map(true, vec![("p", a), ("q", b)]),
            ));
        });
        assert_eq!(out, "r: {c: 3, nest: {p: 1, q: 2}}\n");
    }

    #[test]
    fn deleting_the_last_line_keeps_a_missing_final_newline() {
        let out = emit("a: 1\nb: 2\nc: 3", |w| {
            let e = entries(w, &[]);
            take(e, "b");
            take(e, "c");
        });
        assert_eq!(out, "a: 1");
        let out = emit("a: 1\r\nb: 2", |w| {
            take(entries(w, &[]), "b");
        });
        assert_eq!(out, "a: 1");
    }

    #[test]
    fn moved_values_take_their_comments_along() {
        let src = "r:\n  # about a\n  a: 1 # one\n  # about b\n  b:  # the b map\n    k: v # kv\n  c: 3 # three\n";
        let out = emit(src, |w| nest_a_b(w, false));
        assert_eq!(
            out,
            "r:\n  # about a\n  nest:\n    p: 1 # one\n    # about b\n    q:  # the b map\n      k: v # kv\n  c: 3 # three\n"
        );
    }

    #[test]
    fn deleting_an_entry_takes_the_comments_above_it() {
        let src = "m:\n  a: 1\n  # why b\n  b:\n    x: 2 # x\n    # more about x\n  c: |\n    # text, not a comment\n  d: 4\n";
        let out = emit(src, |w| {
            let e = entries(w, &["m"]);
            take(e, "b");
            take(e, "d");
        });
        assert_eq!(out, "m:\n  a: 1\n  c: |\n    # text, not a comment\n");
    }

    #[test]
    fn moved_implicit_null_stays_empty() {
        let src = "r:\n  a:  # nothing\n  b: 2\n";
        let out = emit(src, |w| nest_a_b(w, false));
        assert_eq!(out, "r:\n  nest:\n    p:  # nothing\n    q: 2\n");
    }

    #[test]
    fn moved_nodes_keep_anchor_and_tag() {
        let src = "r:\n  a: &x 80\n  b: !!str 10\n  c: *x\n";
        let out = emit(src, |w| nest_a_b(w, false));
        assert_eq!(out, "r:\n  nest:\n    p: &x 80\n    q: !!str 10\n  c: *x\n");
        let src = "r:\n  a: &m\n    k: v\n  b: [1]\n";
        let out = emit(src, |w| nest_a_b(w, false));
        assert_eq!(out, "r:\n  nest:\n    p: &m\n      k: v\n    q: [1]\n");
    }

    #[test]
    fn new_mappings_use_the_enclosing_mappings_step() {
        let src = "top:\n  s:\n      r:\n          a: 1\n          b: 2\n";
        let out = emit(src, |w| {
            let e = entries(w, &["top", "s", "r"]);
            let a = take(e, "a");
            let b = take(e, "b");
            e.push((
                MNode::string("nest"),
                new_map(false, vec![("p", a), ("q", b)]),
            ));
        });
        assert_eq!(
            out,
            "top:\n  s:\n      r:\n          nest:\n              p: 1\n              q: 2\n"
        );
    }

    #[test]
    fn json_gets_quoted_strings_and_one_entry_per_line() {
        let src = "{\n  \"r\": {\n    \"a\": 1,\n    \"b\": \"2\",\n    \"c\": 3\n  }\n}\n";
        let out = emit(src, |w| {
            let e = entries(w, &["r"]);
            let a = take(e, "a");
            let b = take(e, "b");
            let kind = MNode::string("Kind");
            e.insert(
                0,
                (
                    MNode::string("nest"),
                    new_map(true, vec![("t", kind), ("p", a), ("q", b)]),
                ),
            );
        });
        assert_eq!(
            out,
            "{\n  \"r\": {\n    \"nest\": {\n      \"t\": \"Kind\",\n      \"p\": 1,\n      \"q\": \"2\"\n    },\n    \"c\": 3\n  }\n}\n"
        );
        let out = emit("{\"r\":{\"a\":1,\"b\":2}}", |w| {
            let e = entries(w, &["r"]);
            let a = take(e, "a");
            e.insert(0, (MNode::string("nest"), new_map(true, vec![("p", a)])));
        });
        assert_eq!(out, "{\"r\":{\"nest\":{\"p\":1},\"b\":2}}");
        // A YAML flow document is not JSON: plain stays plain.
        let out = emit("{r: {a: 1, b: 2}}\n", |w| {
            entries(w, &["r"]).push((MNode::string("t"), MNode::string("Kind")));
        });
        assert_eq!(out, "{r: {a: 1, b: 2, t: Kind}}\n");
    }

    fn try_emit(src: &str, change: impl FnOnce(&mut MNode)) -> Result<String> {
        let docs = crate::yaml::parse_stream(src).unwrap();
        let mut work = MNode::from_node(&docs[0].root);
        change(&mut work);
        let mut emitter = Emitter::new(src, &docs[0].root, docs[0].node_count);
        emitter.node(&docs[0].root, &work)?;
        Ok(crate::edit::apply(src, &emitter.edits).unwrap())
    }

    /// The items of the sequence under the mapping path `path`, marking the way dirty.
    fn items<'m>(node: &'m mut MNode, path: &[&str]) -> &'m mut Vec<MNode> {
        let (last, init) = path.split_last().unwrap();
        let e = entries(node, init);
        let (_, v) = e
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(last))
            .unwrap();
        v.dirty = true;
        let MKind::Seq { items, .. } = &mut v.kind else {
            panic!("not a sequence")
        };
        items
    }

    #[test]
    fn deleting_the_first_entry_keeps_the_document_header_and_the_bom() {
        let src = "\u{feff}# header\nstatus:\n  a: 1\n# about kind\nkind: X\n";
        let out = emit(src, |w| {
            take(entries(w, &[]), "status");
        });
        assert_eq!(out, "\u{feff}# header\n# about kind\nkind: X\n");
        let src = "\u{feff}status: {a: 1}\nkind: X\n";
        let out = emit(src, |w| {
            take(entries(w, &[]), "status");
        });
        assert_eq!(out, "\u{feff}kind: X\n");
    }

    #[test]
    fn flow_deletions_next_to_comments_are_refused() {
        let src = "r: {\n  a: 1, # why a\n  b: 2,\n  c: 3\n}\n";
        let err = try_emit(src, |w| {
            take(entries(w, &["r"]), "a");
        })
        .unwrap_err();
        assert!(err.reason.contains("comment"), "{err}");
        // A `#` inside quotes is not a comment.
        let out = emit("r: {a: 'x #1', b: \"y #2\", c: it's}\n", |w| {
            let e = entries(w, &["r"]);
            take(e, "a");
            take(e, "b");
        });
        assert_eq!(out, "r: {c: it's}\n");
        assert_eq!(flow_comment("{a: 'it''s #x', b: 1}", 0..21), None);
        assert_eq!(flow_comment("{a: 1, # c\n}", 0..12), Some(7));
    }

    #[test]
    fn flow_sequence_items_are_deleted() {
        for (drop, want) in [
            (&[1][..], "r: [a, c]\n"),
            (&[2], "r: [a, b]\n"),
            (&[0], "r: [b, c]\n"),
            (&[0, 1], "r: [c]\n"),
            (&[0, 1, 2], "r: []\n"),
        ] {
            let out = emit("r: [a, b, c]\n", |w| {
                let it = items(w, &["r"]);
                for i in drop.iter().rev() {
                    it.remove(*i);
                }
            });
            assert_eq!(out, want, "{drop:?}");
        }
        let out = emit("r: [a, &x b, *x]\n", |w| {
            items(w, &["r"]).remove(0);
        });
        assert_eq!(out, "r: [&x b, *x]\n");
    }

    #[test]
    fn an_item_whose_dash_has_a_comment_after_it_is_deleted_whole() {
        let src = "s:\n- x: 1\n- # why\n  y: 2\n- z: 3\n";
        let out = emit(src, |w| {
            items(w, &["s"]).remove(1);
        });
        assert_eq!(out, "s:\n- x: 1\n- z: 3\n");
    }

    #[test]
    fn comments_between_a_key_and_its_value_move_with_it() {
        let src =
            "r:\n  a: 1\n  b: &m # after the anchor\n    # before the value\n    k: v\n  c: 3\n";
        let out = emit(src, |w| nest_a_b(w, false));
        assert_eq!(
            out,
            "r:\n  nest:\n    p: 1\n    q: &m # after the anchor\n      # before the value\n      k: v\n  c: 3\n"
        );
    }

    #[test]
    fn a_line_end_comment_moves_once_whatever_the_render_order() {
        // `s` is replaced in place by a new entry before its value is rendered elsewhere.
        let src = "r:\n  s:\n    k: v # about k\n  t: 1\n  m: 2\n";
        let out = emit(src, |w| {
            let e = entries(w, &["r"]);
            let s = take(e, "s");
            let t = take(e, "t");
            e.insert(0, (MNode::string("n"), new_map(false, vec![("t", t)])));
            e.push((MNode::string("x"), new_map(false, vec![("s", s)])));
        });
        assert_eq!(out.matches("# about k").count(), 1, "{out}");
    }

    #[test]
    fn aliases_never_lose_their_anchor() {
        let err = try_emit("a: &x 1\nb: *x\nc: 2\n", |w| {
            take(entries(w, &[]), "a");
        })
        .unwrap_err();
        assert!(err.reason.contains("alias"), "{err}");
        // A copy with an anchor inside would define it twice.
        let err = try_emit("a:\n  k: &x 1\nb: *x\n", |w| {
            let e = entries(w, &[]);
            let copy = e[0].1.clone();
            e.push((MNode::string("c"), copy));
        })
        .unwrap_err();
        assert!(err.reason.contains("alias"), "{err}");
    }

    #[test]
    fn deletions_at_the_end_of_a_file_without_a_final_line_break() {
        // Two deletions meet at the line break that goes: no overlap.
        let out = emit("m:\n  x: 1\n  y: 2\nz: 3", |w| {
            take(entries(w, &["m"]), "y");
            take(entries(w, &[]), "z");
        });
        assert_eq!(out, "m:\n  x: 1");
        // The line break that ends a block scalar is part of its value: it stays.
        let out = emit("a: |\n  x\nb: 1", |w| {
            take(entries(w, &[]), "b");
        });
        assert_eq!(out, "a: |\n  x\n");
    }

    #[test]
    fn a_mapping_key_first_in_a_new_flow_mapping_does_not_open_with_two_braces() {
        // Fuzz regression (fuzz/regressions/complex-key-moved-into-flow): a flow mapping
        // whose first key is a mapping, re-rendered on one line, began `{{` and the next
        // run read the file as a Helm template.
        let src = "r: {a: { {x: 1}\n  : ~}, b: 2}\n";
        let out = emit(src, |w| {
            let e = entries(w, &["r"]);
            let a = take(e, "a");
            e.insert(0, (MNode::plain("n"), new_map(true, vec![("p", a)])));
        });
        assert_eq!(out, "r: {n: {p: { {x: 1}: ~}}, b: 2}\n");
        // Into an empty flow mapping.
        let out = emit("r: {a: { {x: 1}\n  : ~}}\ns: {}\n", |w| {
            let a = take(entries(w, &["r"]), "a");
            let MKind::Map { entries: e, .. } = &a.kind else {
                panic!("not a map")
            };
            let moved = e[0].clone();
            entries(w, &["s"]).push(moved);
        });
        assert!(!out.contains("{{"), "{out}");
    }

    #[test]
    fn an_entry_inserted_where_the_deleted_end_of_a_file_was() {
        // Property-test regression: the new entry goes at the start of the deleted last
        // line; it now ends the file and loses its line break, nothing overlaps.
        for (src, want) in [
            ("m:\n  x: 1\nz: 3", "m:\n  x: 1\n  y: 2"),
            ("m:\r\n  x: 1\r\nz:\r\n  q: 3", "m:\r\n  x: 1\r\n  y: 2"),
            ("m:\n  x: |\n    t\nz: 3", "m:\n  x: |\n    t\n  y: 2"),
        ] {
            let out = emit(src, |w| {
                entries(w, &["m"]).push((MNode::plain("y"), MNode::plain("2")));
                take(entries(w, &[]), "z");
            });
            assert_eq!(out, want);
        }
        // An item appended to a sequence before the deleted end.
        let out = emit("s:\n- a\nz: 3", |w| {
            items(w, &["s"]).push(MNode::plain("b"));
            take(entries(w, &[]), "z");
        });
        assert_eq!(out, "s:\n- a\n- b");
    }

    #[test]
    fn text_after_a_block_scalar_that_ends_the_file_gets_strip_chomping() {
        for (src, want) in [
            ("a: |\n  x", "a: |-\n  x\nb: 1"),
            ("a: |+ # c\n  x", "a: |- # c\n  x\nb: 1"),
            ("a: >2\n   x", "a: >2-\n   x\nb: 1"),
            ("a: |-\n  x", "a: |-\n  x\nb: 1"),
        ] {
            let out = emit(src, |w| {
                entries(w, &[]).push((MNode::string("b"), MNode::plain("1")));
            });
            assert_eq!(out, want, "{src:?}");
            let value = |t: &str| {
                crate::yaml::parse_stream(t).unwrap()[0].root.entries()[0]
                    .1
                    .as_str()
                    .unwrap()
                    .to_string()
            };
            assert_eq!(value(&out), value(src), "{src:?}");
        }
    }

    #[test]
    fn collections_used_as_keys_are_left_alone() {
        let out = emit("? [a, b]\n: 1\nc: 2\n", |w| {
            let e = entries(w, &[]);
            e[1].1 = MNode::plain("3");
        });
        assert_eq!(out, "? [a, b]\n: 1\nc: 3\n");
    }
}
