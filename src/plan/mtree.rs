//! The migration's working copy of a document: an owned tree in which every node remembers
//! which original node it came from. Migrations mutate this tree; `emit` then compares it
//! with the original span tree to derive byte edits, and `verify` compares the re-parsed
//! output with it. So the tree is both the plan and the expected result.

use std::collections::HashMap;

use crate::yaml::path::{Path, Seg};
use crate::yaml::value::{plain_is_str, resolve_scalar};
use crate::yaml::{Node, NodeKind, Style, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum MKind {
    Scalar {
        value: String,
        style: Style,
    },
    Map {
        flow: bool,
        entries: Vec<(MNode, MNode)>,
    },
    Seq {
        flow: bool,
        items: Vec<MNode>,
    },
    Alias(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MNode {
    /// Id of the original node this one is (possibly changed inside), `None` if new.
    pub orig: Option<usize>,
    /// Set on every node on the path to a change, so untouched subtrees are skipped.
    pub dirty: bool,
    pub anchor: usize,
    pub tag: Option<String>,
    pub kind: MKind,
}

/// Where a new key goes in its mapping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Position {
    #[default]
    End,
    First,
    Before(String),
    After(String),
    At(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("`{0}` goes through a YAML alias; edit the anchored node by hand")]
    ThroughAlias(String),
    #[error("`{0}` already exists; cannot move or rename onto it")]
    Exists(String),
    #[error("`{0}` is not a mapping")]
    NotAMap(String),
    #[error("`{0}` carries a YAML anchor that other nodes may alias; change it by hand")]
    Anchored(String),
    #[error("alias expansion exceeds {0} nodes (an alias bomb?)")]
    TooLarge(usize),
}

/// Alias expansion stops here: no real manifest comes near it, an alias bomb does.
pub const MAX_EXPANDED_NODES: usize = 1_000_000;

impl MNode {
    pub fn from_node(node: &Node) -> MNode {
        let kind = match &node.kind {
            NodeKind::Scalar { value, style } => MKind::Scalar {
                value: value.clone(),
                style: *style,
            },
            NodeKind::Map { flow, entries } => MKind::Map {
                flow: *flow,
                entries: entries
                    .iter()
                    .map(|(k, v)| (MNode::from_node(k), MNode::from_node(v)))
                    .collect(),
            },
            NodeKind::Seq { flow, items } => MKind::Seq {
                flow: *flow,
                items: items.iter().map(MNode::from_node).collect(),
            },
            NodeKind::Alias(id) => MKind::Alias(*id),
        };
        MNode {
            orig: Some(node.id),
            dirty: false,
            anchor: node.anchor,
            tag: node.tag.clone(),
            kind,
        }
    }

    /// A new scalar, written plain when that reads back as the same string, else quoted.
    pub fn string(s: &str) -> MNode {
        let style = if plain_safe(s) {
            Style::Plain
        } else {
            Style::Double
        };
        MNode::new(MKind::Scalar {
            value: s.to_string(),
            style,
        })
    }

    /// A new plain scalar whose text is taken as written (`30`, `true`).
    pub fn plain(s: &str) -> MNode {
        MNode::new(MKind::Scalar {
            value: s.to_string(),
            style: Style::Plain,
        })
    }

    pub fn map(flow: bool) -> MNode {
        MNode::new(MKind::Map {
            flow,
            entries: Vec::new(),
        })
    }

    pub fn new(kind: MKind) -> MNode {
        MNode {
            orig: None,
            dirty: true,
            anchor: 0,
            tag: None,
            kind,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            MKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_flow(&self) -> bool {
        matches!(
            self.kind,
            MKind::Map { flow: true, .. } | MKind::Seq { flow: true, .. }
        )
    }

    fn entry_index(&self, key: &str) -> Option<usize> {
        match &self.kind {
            MKind::Map { entries, .. } => entries.iter().position(|(k, _)| k.as_str() == Some(key)),
            _ => None,
        }
    }

    pub fn get(&self, path: &[Seg]) -> Option<&MNode> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let child = match (first, &self.kind) {
            (Seg::Key(k), MKind::Map { entries, .. }) => entries
                .iter()
                .find(|(key, _)| key.as_str() == Some(k))
                .map(|(_, v)| v),
            (Seg::Index(i), MKind::Seq { items, .. }) => items.get(*i),
            _ => None,
        }?;
        child.get(rest)
    }

    /// Mutable access that marks every node on the way as dirty.
    pub fn get_mut(&mut self, path: &[Seg]) -> Result<Option<&mut MNode>, TreeError> {
        self.get_mut_at(path, 0)
    }

    fn get_mut_at(&mut self, path: &[Seg], depth: usize) -> Result<Option<&mut MNode>, TreeError> {
        if matches!(self.kind, MKind::Alias(_)) {
            return Err(TreeError::ThroughAlias(
                Path(path[..depth].to_vec()).to_string(),
            ));
        }
        self.dirty = true;
        let Some(first) = path.get(depth) else {
            return Ok(Some(self));
        };
        let child = match (first, &mut self.kind) {
            (Seg::Key(k), MKind::Map { entries, .. }) => entries
                .iter_mut()
                .find(|(key, _)| key.as_str() == Some(k))
                .map(|(_, v)| v),
            (Seg::Index(i), MKind::Seq { items, .. }) => items.get_mut(*i),
            _ => None,
        };
        match child {
            Some(c) => c.get_mut_at(path, depth + 1),
            None => Ok(None),
        }
    }

    /// How many segments of `path` lead to an existing node, walked once from here (not a
    /// walk from the root per prefix).
    fn existing_depth(&self, path: &[Seg]) -> usize {
        let mut node = self;
        for (depth, seg) in path.iter().enumerate() {
            match node.get(std::slice::from_ref(seg)) {
                Some(child) => node = child,
                None => return depth,
            }
        }
        path.len()
    }

    /// Concrete paths matching a pattern that may contain `[*]`.
    pub fn expand(&self, pattern: &[Seg], prefix: &mut Vec<Seg>, out: &mut Vec<Path>) {
        self.expand_into(pattern, prefix, out, &mut None);
    }

    /// [`MNode::expand`], also giving the node each path leads to (in `nodes`, parallel to
    /// `out`), so that a caller need not walk each path again from the root.
    pub fn expand_nodes<'a>(
        &'a self,
        pattern: &[Seg],
        prefix: &mut Vec<Seg>,
        out: &mut Vec<Path>,
        nodes: &mut Vec<&'a MNode>,
    ) {
        self.expand_into(pattern, prefix, out, &mut Some(nodes));
    }

    fn expand_into<'a>(
        &'a self,
        pattern: &[Seg],
        prefix: &mut Vec<Seg>,
        out: &mut Vec<Path>,
        nodes: &mut Option<&mut Vec<&'a MNode>>,
    ) {
        let Some((first, rest)) = pattern.split_first() else {
            out.push(Path(prefix.clone()));
            if let Some(nodes) = nodes {
                nodes.push(self);
            }
            return;
        };
        match (first, &self.kind) {
            (Seg::AnyKey, MKind::Map { entries, .. }) => {
                for (k, v) in entries {
                    if let Some(key) = k.as_str() {
                        prefix.push(Seg::Key(key.into()));
                        v.expand_into(rest, prefix, out, nodes);
                        prefix.pop();
                    }
                }
            }
            (Seg::AnyItem, MKind::Seq { items, .. }) => {
                for (i, item) in items.iter().enumerate() {
                    prefix.push(Seg::Index(i));
                    item.expand_into(rest, prefix, out, nodes);
                    prefix.pop();
                }
            }
            (seg, _) => {
                if let Some(child) = self.get(std::slice::from_ref(seg)) {
                    prefix.push(seg.clone());
                    child.expand_into(rest, prefix, out, nodes);
                    prefix.pop();
                }
            }
        }
    }

    /// Remove the node at `path`; an emptied mapping that had entries before is removed
    /// with it (a mapping the author wrote empty is left alone).
    pub fn remove(&mut self, path: &Path) -> Result<Option<MNode>, TreeError> {
        let Some((parent_path, last)) = path.split_last() else {
            return Ok(None);
        };
        // Deleting what is not there is a no-op, even behind an alias.
        if self.get(&path.0).is_none() {
            return Ok(None);
        }
        let Some(parent) = self.get_mut(&parent_path.0)? else {
            return Ok(None);
        };
        let removed = match (last, &mut parent.kind) {
            (Seg::Key(k), MKind::Map { entries, .. }) => {
                let i = entries.iter().position(|(key, _)| key.as_str() == Some(k));
                i.map(|i| entries.remove(i).1)
            }
            (Seg::Index(i), MKind::Seq { items, .. }) if *i < items.len() => Some(items.remove(*i)),
            _ => None,
        };
        if removed.is_some() {
            self.prune_emptied(&parent_path)?;
        }
        Ok(removed)
    }

    /// G8: a mapping that a migration emptied goes too (one the author wrote empty stays).
    fn prune_emptied(&mut self, path: &Path) -> Result<(), TreeError> {
        let emptied = self.get(&path.0).is_some_and(|n| {
            n.orig.is_some() && matches!(&n.kind, MKind::Map { entries, .. } if entries.is_empty())
        });
        if emptied && !path.0.is_empty() {
            self.remove(path)?;
        }
        Ok(())
    }

    /// Insert `value` at `path`, creating the mappings on the way. The top-most new entry
    /// goes into the deepest existing mapping at `pos`. Fails if `path` already exists.
    pub fn insert_at(
        &mut self,
        path: &Path,
        mut value: MNode,
        pos: &Position,
    ) -> Result<(), TreeError> {
        let segs = &path.0;
        // The deepest existing ancestor.
        let depth = self.existing_depth(segs);
        if depth == segs.len() {
            return Err(TreeError::Exists(path.to_string()));
        }
        let parent = self
            .get_mut(&segs[..depth])?
            .ok_or_else(|| TreeError::NotAMap(Path(segs[..depth].to_vec()).to_string()))?;
        let flow = parent.is_flow();
        for seg in segs[depth + 1..].iter().rev() {
            let Seg::Key(k) = seg else {
                return Err(TreeError::NotAMap(path.to_string()));
            };
            let mut m = MNode::map(flow);
            if let MKind::Map { entries, .. } = &mut m.kind {
                entries.push((MNode::string(k), value));
            }
            value = m;
        }
        if flow {
            value.make_flow();
        }
        let Seg::Key(key) = &segs[depth] else {
            return Err(TreeError::NotAMap(path.to_string()));
        };
        let MKind::Map { entries, .. } = &mut parent.kind else {
            return Err(TreeError::NotAMap(Path(segs[..depth].to_vec()).to_string()));
        };
        let find = |k: &str| entries.iter().position(|(e, _)| e.as_str() == Some(k));
        let at = match pos {
            Position::End => entries.len(),
            Position::First => 0,
            Position::Before(k) => find(k).unwrap_or(entries.len()),
            Position::After(k) => find(k).map_or(entries.len(), |i| i + 1),
            Position::At(i) => (*i).min(entries.len()),
        };
        entries.insert(at, (MNode::string(key), value));
        Ok(())
    }

    /// Set `path` to `value`: replace an existing value (keeping the author's quoting when
    /// the new text allows it), or insert it at `pos`. Returns whether anything changed.
    pub fn set(
        &mut self,
        path: &Path,
        value: MNode,
        pos: &Position,
        if_absent: bool,
    ) -> Result<bool, TreeError> {
        let Some(existing) = self.get(&path.0) else {
            self.insert_at(path, value, pos)?;
            return Ok(true);
        };
        if if_absent || existing.same_value(&value) {
            return Ok(false);
        }
        if existing.anchor != 0 {
            return Err(TreeError::Anchored(path.to_string()));
        }
        let parent_flow = path
            .split_last()
            .and_then(|(p, _)| self.get(&p.0))
            .is_some_and(MNode::is_flow);
        let v = self.get_mut(&path.0)?.expect("exists");
        let mut value = value;
        if let (MKind::Scalar { style: old, .. }, MKind::Scalar { value: text, style }) =
            (&v.kind, &mut value.kind)
            && matches!(old, Style::Single | Style::Double)
            && plain_is_str(text)
        {
            *style = *old;
        }
        if parent_flow {
            value.make_flow();
        }
        let orig = v.orig;
        *v = value;
        v.orig = orig.filter(|_| matches!(v.kind, MKind::Scalar { .. }));
        v.dirty = true;
        Ok(true)
    }

    /// Rename the key at `path` to `to`.
    pub fn rename(&mut self, path: &Path, to: &str) -> Result<bool, TreeError> {
        let Some((parent_path, Seg::Key(key))) = path.split_last() else {
            return Ok(false);
        };
        let Some(parent) = self.get_mut(&parent_path.0)? else {
            return Ok(false);
        };
        if parent.entry_index(key).is_none() {
            return Ok(false);
        }
        if parent.entry_index(to).is_some() {
            return Err(TreeError::Exists(
                parent_path.child(Seg::Key(to.into())).to_string(),
            ));
        }
        let MKind::Map { entries, .. } = &mut parent.kind else {
            return Ok(false);
        };
        let (k, _) = entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .expect("checked");
        let MKind::Scalar { value, .. } = &mut k.kind else {
            return Ok(false);
        };
        *value = to.to_string();
        k.dirty = true;
        Ok(true)
    }

    /// Move the entry at `from` to `to`. Unless `pos` says otherwise, what is created in
    /// `from`'s own mapping takes the old key's position, so restructured keys stay in place.
    pub fn move_to(&mut self, from: &Path, to: &Path, pos: &Position) -> Result<bool, TreeError> {
        let Some((from_parent, Seg::Key(from_key))) = from.split_last() else {
            return Ok(false);
        };
        let Some(parent) = self.get_mut(&from_parent.0)? else {
            return Ok(false);
        };
        let Some(index) = parent.entry_index(from_key) else {
            return Ok(false);
        };
        if self.get(&to.0).is_some() {
            return Err(TreeError::Exists(to.to_string()));
        }
        let parent = self.get_mut(&from_parent.0)?.expect("exists");
        let MKind::Map { entries, .. } = &mut parent.kind else {
            unreachable!("has an entry")
        };
        let (_, value) = entries.remove(index);
        let depth = self.existing_depth(&to.0);
        let pos = match pos {
            Position::End if to.0[..depth] == from_parent.0[..] => Position::At(index),
            p => p.clone(),
        };
        self.insert_at(to, value, &pos)?;
        // A mapping emptied by the move goes, unless the value moved back into it.
        if !to.0.starts_with(&from_parent.0) {
            self.prune_emptied(&from_parent)?;
        }
        Ok(true)
    }

    /// Append `item` to the sequence at `path`, creating the sequence if it is absent.
    pub fn append(&mut self, path: &Path, item: MNode) -> Result<bool, TreeError> {
        if self.get(&path.0).is_none() {
            self.insert_at(
                path,
                MNode::new(MKind::Seq {
                    flow: false,
                    items: Vec::new(),
                }),
                &Position::End,
            )?;
        }
        let seq = self.get_mut(&path.0)?.expect("just made sure it exists");
        let flow = seq.is_flow();
        let MKind::Seq { items, .. } = &mut seq.kind else {
            return Err(TreeError::NotAMap(path.to_string()));
        };
        let mut item = item;
        if flow {
            item.make_flow();
        }
        items.push(item);
        Ok(true)
    }

    /// Copy the node at `from` to `to` (which must not exist).
    pub fn copy_to(&mut self, from: &Path, to: &Path, pos: &Position) -> Result<bool, TreeError> {
        let Some(node) = self.get(&from.0) else {
            return Ok(false);
        };
        if matches!(node.kind, MKind::Alias(_)) {
            return Err(TreeError::ThroughAlias(from.to_string()));
        }
        let mut copy = node.clone();
        copy.anchor = 0;
        self.insert_at(to, copy, pos)?;
        Ok(true)
    }

    fn make_flow(&mut self) {
        match &mut self.kind {
            MKind::Map { flow, entries } => {
                if !*flow {
                    *flow = true;
                    self.dirty = true;
                }
                entries.iter_mut().for_each(|(_, v)| v.make_flow());
            }
            MKind::Seq { flow, items } => {
                if !*flow {
                    *flow = true;
                    self.dirty = true;
                }
                items.iter_mut().for_each(MNode::make_flow);
            }
            _ => {}
        }
    }

    fn same_value(&self, other: &MNode) -> bool {
        let empty = HashMap::new();
        matches!((self.to_value_with(&empty), other.to_value_with(&empty)), (Ok(a), Ok(b)) if a == b)
    }

    /// Whether `node` surely means what this tree means: the same shape in the same order,
    /// tags alike, scalars that resolve alike, and no alias on either side. `false` only
    /// means "not shown this way": the caller then compares values ([`MNode::to_value`],
    /// order-free, aliases expanded). Self-verification asks this first because it costs no
    /// allocation, where building both values cost a tenth of a whole run.
    pub fn surely_same(&self, node: &Node) -> bool {
        if self.tag != node.tag {
            return false;
        }
        match (&self.kind, &node.kind) {
            (
                MKind::Scalar {
                    value: a,
                    style: sa,
                },
                NodeKind::Scalar {
                    value: b,
                    style: sb,
                },
            ) => {
                // With the same tag, only "plain or not" decides how a text resolves.
                a == b && ((*sa == Style::Plain) == (*sb == Style::Plain))
            }
            (MKind::Map { entries: a, .. }, NodeKind::Map { entries: b, .. }) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka.surely_same(kb) && va.surely_same(vb))
            }
            (MKind::Seq { items: a, .. }, NodeKind::Seq { items: b, .. }) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.surely_same(y))
            }
            _ => false,
        }
    }

    /// The scalar's meaning, if this is a scalar.
    pub fn scalar_value(&self) -> Option<Value> {
        match &self.kind {
            MKind::Scalar { value, style } => {
                Some(resolve_scalar(value, *style, self.tag.as_deref()))
            }
            _ => None,
        }
    }

    /// The document's meaning, aliases expanded (bounded).
    pub fn to_value(&self) -> Result<Value, TreeError> {
        let mut anchors = HashMap::new();
        self.collect_anchors(&mut anchors);
        self.to_value_with(&anchors)
    }

    fn to_value_with(&self, anchors: &HashMap<usize, &MNode>) -> Result<Value, TreeError> {
        let mut budget = MAX_EXPANDED_NODES;
        self.value_rec(anchors, &mut budget, 0)
    }

    fn collect_anchors<'a>(&'a self, out: &mut HashMap<usize, &'a MNode>) {
        if self.anchor != 0 {
            out.insert(self.anchor, self);
        }
        match &self.kind {
            MKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                k.collect_anchors(out);
                v.collect_anchors(out)
            }),
            MKind::Seq { items, .. } => items.iter().for_each(|i| i.collect_anchors(out)),
            _ => {}
        }
    }

    fn value_rec(
        &self,
        anchors: &HashMap<usize, &MNode>,
        budget: &mut usize,
        depth: usize,
    ) -> Result<Value, TreeError> {
        if *budget == 0 || depth > 4 * crate::yaml::events::MAX_DEPTH {
            return Err(TreeError::TooLarge(MAX_EXPANDED_NODES));
        }
        *budget -= 1;
        Ok(match &self.kind {
            MKind::Scalar { .. } => self.scalar_value().expect("scalar"),
            MKind::Map { entries, .. } => {
                let mut map = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    map.push((
                        k.value_rec(anchors, budget, depth + 1)?,
                        v.value_rec(anchors, budget, depth + 1)?,
                    ));
                }
                Value::map(map)
            }
            MKind::Seq { items, .. } => Value::Seq(
                items
                    .iter()
                    .map(|i| i.value_rec(anchors, budget, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            MKind::Alias(id) => match anchors.get(id) {
                Some(target) => target.value_rec(anchors, budget, depth + 1)?,
                None => Value::Null,
            },
        })
    }
}

/// Whether a string can be written as a plain scalar anywhere (block or flow) and read back
/// as the same string. Deliberately narrow: anything unusual gets double quotes.
pub fn plain_safe(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-' | b'_' | b' '))
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && !s.ends_with(' ')
        && !s.contains("  ")
        && plain_is_str(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    fn tree(src: &str) -> MNode {
        MNode::from_node(&parse_stream(src).unwrap()[0].root)
    }

    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    #[test]
    fn surely_same_is_shape_order_and_resolution_and_never_wrong() {
        let doc = |src: &str| parse_stream(src).unwrap().remove(0).root;
        let same = |a: &str, b: &str| tree(a).surely_same(&doc(b));
        let equal = |a: &str, b: &str| tree(a).to_value().unwrap() == tree(b).to_value().unwrap();
        for (a, b, want) in [
            ("a: x\nb: [1, 2]\n", "a: x\nb:\n- 1\n- 2\n", true),
            ("a: 'x'\n", "a: \"x\"\n", true),
            ("a: |\n  x\n", "a: \"x\\n\"\n", true),
            ("a: 1\n", "a: '1'\n", false),
            ("a: !!str 1\n", "a: '1'\n", false),
            // Equal values, not shown this way: the caller compares values.
            ("a: 1\nb: 2\n", "b: 2\na: 1\n", false),
            ("a: x\n", "a: 'x'\n", false),
            ("a: &k x\nb: *k\n", "a: &k x\nb: *k\n", false),
        ] {
            assert_eq!(same(a, b), want, "{a:?} vs {b:?}");
            if want {
                assert!(equal(a, b), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn move_creates_parent_at_old_position() {
        let mut t = tree("resource:\n  name: cpu\n  targetAverageUtilization: 80\n  x: 1\n");
        t.move_to(
            &p("resource.targetAverageUtilization"),
            &p("resource.target.averageUtilization"),
            &Position::End,
        )
        .unwrap();
        t.set(
            &p("resource.target.type"),
            MNode::string("Utilization"),
            &Position::First,
            false,
        )
        .unwrap();
        let keys: Vec<_> = match &t.get(&p("resource").0).unwrap().kind {
            MKind::Map { entries, .. } => entries
                .iter()
                .map(|(k, _)| k.as_str().unwrap().to_string())
                .collect(),
            _ => vec![],
        };
        assert_eq!(keys, ["name", "target", "x"]);
        assert_eq!(
            t.get(&p("resource.target.type").0).unwrap().as_str(),
            Some("Utilization")
        );
    }

    #[test]
    fn remove_drops_emptied_parent() {
        let mut t = tree("metadata:\n  annotations:\n    a: b\n  name: x\n");
        t.remove(&p("metadata.annotations.a")).unwrap();
        assert!(t.get(&p("metadata.annotations").0).is_none());
        assert!(t.get(&p("metadata.name").0).is_some());
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..5 {
            let prev = i - 1;
            src.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        src.push_str("b: [*a4]\n");
        // The parser refuses bigger bombs; rules that copy aliased nodes can still grow one.
        let mut t = tree(&src);
        assert!(t.to_value().is_ok());
        let MKind::Map { entries, .. } = &mut t.kind else {
            panic!("not a map")
        };
        let MKind::Seq { items, .. } = &mut entries.last_mut().unwrap().1.kind else {
            panic!("not a sequence")
        };
        let alias = items[0].clone();
        items.extend(std::iter::repeat_n(alias, 9));
        assert!(matches!(t.to_value(), Err(TreeError::TooLarge(_))));
    }

    #[test]
    fn plain_safety() {
        assert!(plain_safe("Utilization"));
        assert!(plain_safe("cinder.csi.openstack.org"));
        assert!(!plain_safe("true"));
        assert!(!plain_safe("80"));
        assert!(!plain_safe("a: b"));
        assert!(!plain_safe(""));
    }

    #[test]
    fn deleting_absent_keys_behind_an_alias_is_a_no_op() {
        let mut t = tree("metadata:\n  labels: &l {a: b}\n  annotations: *l\n");
        assert_eq!(t.remove(&p("metadata.annotations.x")).unwrap(), None);
        let err = t
            .set(
                &p("metadata.annotations.x"),
                MNode::plain("1"),
                &Position::End,
                false,
            )
            .unwrap_err();
        assert_eq!(err, TreeError::ThroughAlias("metadata.annotations".into()));
    }

    #[test]
    fn changing_an_anchored_value_is_refused() {
        let mut t = tree("a: &z 0\nb: *z\n");
        assert!(matches!(
            t.set(&p("a"), MNode::plain("30"), &Position::End, false),
            Err(TreeError::Anchored(_))
        ));
    }
}
