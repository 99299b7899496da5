//! The original nodes of a document by id, and what the emitter asks about each: the key it
//! is the value of, the entry before it, the block collection it is written in. Found when
//! asked rather than indexed up front: a changed document asks about few of its nodes (one
//! whose `apiVersion` alone changes, about none), and indexing every node of each cost more
//! than deriving its edits.
//!
//! Node ids are numbered in pre-order (see [`Node::id`]), so a node is found from the root
//! with a binary search per level, and the ids of a subtree are the run from its root's id
//! to its last descendant's.

use std::cell::RefCell;
use std::ops::{Range, RangeInclusive};

use crate::yaml::{Node, NodeKind, Style};

/// Where the column of the block collection a node is written in comes from (see
/// `Emitter::parent_of`), worked out when asked.
#[derive(Debug, Clone, Copy)]
pub(super) enum Parent<'a> {
    /// This column (the document's root: 0).
    Col(usize),
    /// The column of a block mapping starting at this offset.
    At(usize),
    /// The column of the dash of this block sequence item.
    Dash(&'a Node),
}

/// An original node and what the emitter asks about it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot<'a> {
    pub node: &'a Node,
    /// For the value of a block-mapping entry: its key.
    pub key: Option<&'a Node>,
    /// For a block-mapping key but the first: the entry before it, where the comments above
    /// the key stop.
    pub prev: Option<&'a (Node, Node)>,
    /// The indentation of the block collection the node is written in (the key's column in
    /// a block mapping, the dash's in a block sequence, the enclosing block context's for
    /// nodes inside flow collections): the lines of a multi-line scalar or flow collection,
    /// and a block scalar's explicit indentation, are relative to it.
    pub parent: Parent<'a>,
}

/// The slots of the nodes asked about so far, by id.
pub(super) struct Index<'a> {
    root: &'a Node,
    count: usize,
    /// Filled a subtree at a time (see [`Index::get`]); empty until the first.
    slots: RefCell<Vec<Option<Slot<'a>>>>,
}

impl<'a> Index<'a> {
    /// The index of the document whose root is `root` and whose ids are below `count`.
    pub fn new(root: &'a Node, count: usize) -> Index<'a> {
        Index {
            root,
            count: count.max(root.id + 1),
            slots: RefCell::new(Vec::new()),
        }
    }

    /// The node `id`, with the rest of its parent's subtree indexed: a node asked about this
    /// way is mostly part of a moved subtree, whose other nodes are asked about next.
    pub fn get(&self, id: usize) -> Option<Slot<'a>> {
        if let Some(slot) = self.cached(id) {
            return Some(slot);
        }
        let (slot, up) = self.locate(id)?;
        let top = up.unwrap_or(slot);
        let mut slots = self.slots.borrow_mut();
        make_room(&mut slots, self.count, top.node);
        fill(&mut slots, top);
        Some(slot)
    }

    /// The node `id`, indexing nothing: for a node asked about once (the mapping an entry
    /// is added to, a scalar changed in place).
    pub fn find(&self, id: usize) -> Option<Slot<'a>> {
        self.cached(id)
            .or_else(|| self.locate(id).map(|(slot, _)| slot))
    }

    fn cached(&self, id: usize) -> Option<Slot<'a>> {
        self.slots.borrow().get(id).copied().flatten()
    }

    /// The node `id` and its parent collection's slot (`None` for the root), found from the
    /// root. Should ids ever not be in pre-order, the whole document is indexed instead.
    fn locate(&self, id: usize) -> Option<(Slot<'a>, Option<Slot<'a>>)> {
        if let Some(found) = descend(self.root, id) {
            return Some(found);
        }
        let mut slots = self.slots.borrow_mut();
        make_room(&mut slots, self.count, self.root);
        fill(&mut slots, root_slot(self.root));
        slots.get(id).copied().flatten().map(|slot| (slot, None))
    }
}

fn root_slot(root: &Node) -> Slot<'_> {
    Slot {
        node: root,
        key: None,
        prev: None,
        parent: Parent::Col(0),
    }
}

/// Find `id` under `root` by its number: at each level, the last child whose id is not
/// above it.
fn descend(root: &Node, id: usize) -> Option<(Slot<'_>, Option<Slot<'_>>)> {
    let mut slot = root_slot(root);
    let mut up = None;
    loop {
        let node = slot.node;
        if node.id == id {
            return Some((slot, up));
        }
        if id < node.id {
            return None;
        }
        let flow = node.is_flow();
        let inner = if flow {
            slot.parent
        } else {
            Parent::At(node.span.start)
        };
        let next = match &node.kind {
            NodeKind::Map { entries, .. } => {
                let i = entries
                    .partition_point(|(k, _)| k.id <= id)
                    .checked_sub(1)?;
                let (k, v) = &entries[i];
                if id >= v.id {
                    Slot {
                        node: v,
                        key: (!flow).then_some(k),
                        prev: None,
                        parent: inner,
                    }
                } else {
                    Slot {
                        node: k,
                        key: None,
                        prev: (!flow && i > 0).then(|| &entries[i - 1]),
                        parent: inner,
                    }
                }
            }
            NodeKind::Seq { items, .. } => {
                let i = items.partition_point(|n| n.id <= id).checked_sub(1)?;
                let item = &items[i];
                Slot {
                    node: item,
                    key: None,
                    prev: None,
                    parent: if flow {
                        slot.parent
                    } else {
                        Parent::Dash(item)
                    },
                }
            }
            _ => return None,
        };
        up = Some(slot);
        slot = next;
    }
}

/// Index `slot`'s node and every node under it (whose ids `slots` has room for).
fn fill<'a>(slots: &mut [Option<Slot<'a>>], slot: Slot<'a>) {
    let node = slot.node;
    slots[node.id] = Some(slot);
    // Written out rather than with `children`: this runs for every node of a moved
    // subtree (a CRD's schema), and the iterator cost several times as much.
    match &node.kind {
        NodeKind::Map { flow, entries } => {
            let inner = if *flow {
                slot.parent
            } else {
                Parent::At(node.span.start)
            };
            let mut prev = None;
            for entry in entries {
                let (k, v) = entry;
                put(
                    slots,
                    Slot {
                        node: k,
                        key: None,
                        prev: if *flow { None } else { prev },
                        parent: inner,
                    },
                );
                put(
                    slots,
                    Slot {
                        node: v,
                        key: (!flow).then_some(k),
                        prev: None,
                        parent: inner,
                    },
                );
                prev = Some(entry);
            }
        }
        NodeKind::Seq { flow, items } => {
            for item in items {
                let parent = if *flow {
                    slot.parent
                } else {
                    Parent::Dash(item)
                };
                put(
                    slots,
                    Slot {
                        node: item,
                        key: None,
                        prev: None,
                        parent,
                    },
                );
            }
        }
        _ => {}
    }
}

/// [`fill`] for a child: a scalar (most nodes) without a call.
#[inline(always)]
fn put<'a>(slots: &mut [Option<Slot<'a>>], slot: Slot<'a>) {
    match slot.node.kind {
        NodeKind::Map { .. } | NodeKind::Seq { .. } => fill(slots, slot),
        _ => slots[slot.node.id] = Some(slot),
    }
}

/// Room in `slots` for every id of `node`'s subtree.
fn make_room<'a>(slots: &mut Vec<Option<Slot<'a>>>, count: usize, node: &Node) {
    let needed = count.max(subtree_ids(node).end() + 1);
    if slots.len() < needed {
        slots.resize(needed, None);
    }
}

/// The ids of `node`'s subtree: from its own to its last descendant's (numbered last).
pub(super) fn subtree_ids(node: &Node) -> RangeInclusive<usize> {
    node.subtree_ids()
}

/// The `|`/`>` header of the literal or folded block scalar in `node` whose last line ends
/// at `end`, if there is one. Only the last node on each level can end where its
/// collection does, so this looks no further.
pub(super) fn block_header_ending_at(src: &str, node: &Node, end: usize) -> Option<Range<usize>> {
    let mut node = node;
    loop {
        if node.span.end != end {
            return None;
        }
        node = match &node.kind {
            NodeKind::Scalar {
                style: Style::Literal | Style::Folded,
                ..
            } => return Some(block_header(src, node)),
            NodeKind::Map {
                flow: false,
                entries,
            } => {
                let (k, v) = entries.last()?;
                if v.span.end == end && !v.span.is_empty() {
                    v
                } else {
                    k
                }
            }
            NodeKind::Seq { flow: false, items } => items.last()?,
            _ => return None,
        };
    }
}

/// Whether a literal or folded block scalar of the tree ends at `end`: a walk of the whole
/// tree, for the rare question about a text's last line break.
pub(super) fn block_scalar_ends_at(node: &Node, end: usize) -> bool {
    match &node.kind {
        NodeKind::Scalar {
            style: Style::Literal | Style::Folded,
            ..
        } => node.span.end == end,
        NodeKind::Map { entries, .. } => entries
            .iter()
            .any(|(k, v)| block_scalar_ends_at(k, end) || block_scalar_ends_at(v, end)),
        NodeKind::Seq { items, .. } => items.iter().any(|i| block_scalar_ends_at(i, end)),
        _ => false,
    }
}

/// A block scalar's header: `|` or `>` with its indicators.
fn block_header(src: &str, node: &Node) -> Range<usize> {
    let header = src[node.span.start..]
        .bytes()
        .take_while(|b| matches!(b, b'|' | b'>' | b'+' | b'-' | b'0'..=b'9'))
        .count();
    node.span.start..node.span.start + header
}

/// Whether the document has an anchor or an alias. Each is written with `&` or `*` where a
/// node starts: at the start of the text, after a blank or line break, after `[`, `{`, `,`
/// or `:` in flow text, or after a byte-order mark (whose last byte is 0xBF), and not inside
/// a scalar's text. A text without such a `&` or `*` has none (`R&D`, `(.*)`, `~*` in a
/// script, `"0 3 * * *"` do not count), and only with one is the tree walked.
pub(super) fn has_anchors(src: &str, root: &Node) -> bool {
    let bytes = src.as_bytes();
    // From the line the document's root starts on (its anchor may be there): the
    // documents before it in the stream are not this one's.
    let start = root
        .props
        .as_ref()
        .map_or(root.span.start, |p| p.start.min(root.span.start));
    let from = crate::source::line_start(src, start.min(src.len()));
    let token = memchr::memchr2_iter(b'&', b'*', &bytes[from..]).any(|at| {
        let at = from + at;
        at == 0
            || matches!(
                bytes[at - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':' | 0xBF
            ) && !in_scalar_text(root, at)
    });
    if !token {
        return false;
    }
    fn walk(node: &Node) -> bool {
        node.anchor != 0
            || match &node.kind {
                NodeKind::Alias(_) => true,
                NodeKind::Map { entries, .. } => entries.iter().any(|(k, v)| walk(k) || walk(v)),
                NodeKind::Seq { items, .. } => items.iter().any(walk),
                NodeKind::Scalar { .. } => false,
            }
    }
    walk(root)
}

/// Whether `at` is inside the text of a scalar of the tree (after its first byte): found
/// by position, the last child starting at or before `at` on each level. Whatever node that
/// finds, `at` inside its text is not where an anchor or alias starts.
fn in_scalar_text(root: &Node, at: usize) -> bool {
    let mut node = root;
    loop {
        node = match &node.kind {
            NodeKind::Scalar { .. } => return node.span.start < at && at < node.span.end,
            NodeKind::Map { entries, .. } => {
                let Some(i) = entries
                    .partition_point(|(k, _)| k.span.start <= at)
                    .checked_sub(1)
                else {
                    return false;
                };
                let (k, v) = &entries[i];
                if !v.span.is_empty() && v.span.start <= at {
                    v
                } else {
                    k
                }
            }
            NodeKind::Seq { items, .. } => {
                let Some(i) = items
                    .partition_point(|item| item.span.start <= at)
                    .checked_sub(1)
                else {
                    return false;
                };
                &items[i]
            }
            NodeKind::Alias(_) => return false,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slots of the children of `up`'s node, in order, each with the child.
    fn children<'a>(up: Slot<'a>) -> impl Iterator<Item = Slot<'a>> {
        let node = up.node;
        let (entries, items): (&'a [(Node, Node)], &'a [Node]) = match &node.kind {
            NodeKind::Map { entries, .. } => (entries, &[]),
            NodeKind::Seq { items, .. } => (&[], items),
            _ => (&[], &[]),
        };
        let flow = node.is_flow();
        let inner = if flow {
            up.parent
        } else {
            Parent::At(node.span.start)
        };
        let of_entries = entries.iter().enumerate().flat_map(move |(i, e)| {
            let (k, v) = e;
            [
                Slot {
                    node: k,
                    key: None,
                    prev: (!flow && i > 0).then(|| &entries[i - 1]),
                    parent: inner,
                },
                Slot {
                    node: v,
                    key: (!flow).then_some(k),
                    prev: None,
                    parent: inner,
                },
            ]
        });
        let of_items = items.iter().map(move |item| Slot {
            node: item,
            key: None,
            prev: None,
            parent: if flow { up.parent } else { Parent::Dash(item) },
        });
        of_entries.chain(of_items)
    }

    /// Every node of the tree with its slot, the way the emitter indexed them all up front.
    fn eager<'a>(slot: Slot<'a>, out: &mut Vec<Slot<'a>>) {
        out.push(slot);
        for child in children(slot) {
            eager(child, out);
        }
    }

    fn same(a: &Slot, b: &Slot) -> bool {
        let parent = match (a.parent, b.parent) {
            (Parent::Col(x), Parent::Col(y)) | (Parent::At(x), Parent::At(y)) => x == y,
            (Parent::Dash(x), Parent::Dash(y)) => std::ptr::eq(x, y),
            _ => false,
        };
        std::ptr::eq(a.node, b.node)
            && a.key.map(|k| k as *const Node) == b.key.map(|k| k as *const Node)
            && a.prev.map(|p| p as *const _) == b.prev.map(|p| p as *const _)
            && parent
    }

    fn documents() -> Vec<(String, Vec<crate::yaml::Document>)> {
        crate::testdata_texts()
            .into_iter()
            .filter_map(|src| {
                let docs = crate::yaml::parse_stream(&src).ok()?;
                Some((src, docs))
            })
            .collect()
    }

    /// Found from the root, by `get` (which indexes subtrees as it goes, asked in a
    /// scrambled order) or by `find`, every node has the slot the eager index gave it;
    /// every subtree's ids are the run `subtree_ids` gives; the last-line questions agree
    /// with a walk of every node.
    #[test]
    fn lazy_slots_are_those_of_an_eager_index_over_testdata() {
        let mut checked = 0;
        for (src, docs) in documents() {
            for doc in &docs {
                let mut all = Vec::new();
                eager(root_slot(&doc.root), &mut all);
                let index = Index::new(&doc.root, doc.node_count);
                let fresh = Index::new(&doc.root, doc.node_count);
                let n = all.len();
                for i in 0..n {
                    let want = &all[(i * 7919) % n];
                    let id = want.node.id;
                    assert!(same(&index.get(id).unwrap(), want), "{id}");
                    assert!(same(&fresh.find(id).unwrap(), want), "{id}");
                }
                let mut every: Vec<usize> = all.iter().map(|s| s.node.id).collect();
                every.sort_unstable();
                for slot in &all {
                    let ids = subtree_ids(slot.node);
                    // No node outside the subtree has an id in its run.
                    let in_run = every.partition_point(|&id| id <= *ids.end())
                        - every.partition_point(|&id| id < *ids.start());
                    let mut under = Vec::new();
                    eager(*slot, &mut under);
                    let mut got: Vec<usize> = under.iter().map(|s| s.node.id).collect();
                    got.sort_unstable();
                    assert!(got.iter().all(|id| ids.contains(id)), "{ids:?} {got:?}");
                    assert_eq!(got.first(), Some(ids.start()));
                    assert_eq!(got.last(), Some(ids.end()));
                    assert_eq!(in_run, got.len());
                    // The block scalar ending where the node does, by a walk of its subtree.
                    let walked = under.iter().find_map(|s| match s.node.kind {
                        NodeKind::Scalar {
                            style: Style::Literal | Style::Folded,
                            ..
                        } if s.node.span.end == slot.node.span.end => {
                            Some(block_header(&src, s.node))
                        }
                        _ => None,
                    });
                    assert_eq!(
                        block_header_ending_at(&src, slot.node, slot.node.span.end),
                        walked
                    );
                    assert_eq!(
                        block_scalar_ends_at(&doc.root, slot.node.span.end),
                        all.iter().any(|s| matches!(
                            s.node.kind,
                            NodeKind::Scalar {
                                style: Style::Literal | Style::Folded,
                                ..
                            }
                        ) && s.node.span.end == slot.node.span.end)
                    );
                }
                let anchored = all
                    .iter()
                    .any(|s| s.node.anchor != 0 || matches!(s.node.kind, NodeKind::Alias(_)));
                assert_eq!(has_anchors(&src, &doc.root), anchored);
                checked += n;
            }
        }
        assert!(checked > 10_000, "{checked}");
    }
}
