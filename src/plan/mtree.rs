//! The migration's working copy of a document: an owned tree in which every node remembers
//! which original node it came from. Migrations mutate this tree; `emit` then compares it
//! with the original span tree to derive byte edits, and `verify` compares the re-parsed
//! output with it. So the tree is both the plan and the expected result.

use std::collections::HashMap;

use crate::yaml::path::{Path, Seg};
use crate::yaml::value::{resolve_plain, resolve_scalar};
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("`{0}` goes through a YAML alias; edit the anchored node by hand")]
    ThroughAlias(String),
    #[error("`{0}` already exists; cannot move or rename onto it")]
    Exists(String),
    #[error("`{0}` is not a mapping")]
    NotAMap(String),
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
        if matches!(self.kind, MKind::Alias(_)) {
            return Err(TreeError::ThroughAlias(Path(path.to_vec()).to_string()));
        }
        self.dirty = true;
        let Some((first, rest)) = path.split_first() else {
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
            Some(c) => c.get_mut(rest),
            None => Ok(None),
        }
    }

    /// Concrete paths matching a pattern that may contain `[*]`.
    pub fn expand(&self, pattern: &[Seg], prefix: &mut Vec<Seg>, out: &mut Vec<Path>) {
        let Some((first, rest)) = pattern.split_first() else {
            out.push(Path(prefix.clone()));
            return;
        };
        match (first, &self.kind) {
            (Seg::AnyItem, MKind::Seq { items, .. }) => {
                for (i, item) in items.iter().enumerate() {
                    prefix.push(Seg::Index(i));
                    item.expand(rest, prefix, out);
                    prefix.pop();
                }
            }
            (seg, _) => {
                if let Some(child) = self.get(std::slice::from_ref(seg)) {
                    prefix.push(seg.clone());
                    child.expand(rest, prefix, out);
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
        let emptied = matches!(&parent.kind, MKind::Map { entries, .. } if entries.is_empty())
            && parent.orig.is_some();
        if removed.is_some() && emptied && !parent_path.0.is_empty() {
            self.remove(&parent_path)?;
        }
        Ok(removed)
    }

    /// Make sure a mapping exists at `path`, creating missing ones. A mapping created inside
    /// `hint.0` goes at index `hint.1` there (where the keys it replaces were), else last.
    fn ensure_map(
        &mut self,
        path: &[Seg],
        hint: Option<(&[Seg], usize)>,
    ) -> Result<&mut MNode, TreeError> {
        let mut node = self;
        for (depth, seg) in path.iter().enumerate() {
            let here = &path[..depth];
            node.dirty = true;
            let flow = node.is_flow();
            let Seg::Key(k) = seg else {
                return node
                    .get_mut(std::slice::from_ref(seg))?
                    .ok_or_else(|| TreeError::NotAMap(Path(path.to_vec()).to_string()))
                    .and_then(|n| n.ensure_map(&path[depth + 1..], None));
            };
            let MKind::Map { entries, .. } = &mut node.kind else {
                return Err(TreeError::NotAMap(Path(here.to_vec()).to_string()));
            };
            let i = match entries.iter().position(|(key, _)| key.as_str() == Some(k)) {
                Some(i) => i,
                None => {
                    let at = match hint {
                        Some((p, i)) if p == here => i.min(entries.len()),
                        _ => entries.len(),
                    };
                    entries.insert(at, (MNode::string(k), MNode::map(flow)));
                    at
                }
            };
            node = &mut entries[i].1;
            if matches!(node.kind, MKind::Alias(_)) {
                return Err(TreeError::ThroughAlias(Path(path.to_vec()).to_string()));
            }
        }
        node.dirty = true;
        if !matches!(node.kind, MKind::Map { .. }) {
            return Err(TreeError::NotAMap(Path(path.to_vec()).to_string()));
        }
        Ok(node)
    }

    /// Set `path` to `value`, creating parent mappings; `first` puts a new key first.
    pub fn set(
        &mut self,
        path: &Path,
        value: MNode,
        first: bool,
        if_absent: bool,
    ) -> Result<bool, TreeError> {
        let Some((parent_path, Seg::Key(key))) = path.split_last() else {
            return Err(TreeError::NotAMap(path.to_string()));
        };
        let parent = self.ensure_map(&parent_path.0, None)?;
        let MKind::Map { entries, flow } = &mut parent.kind else {
            unreachable!("ensure_map")
        };
        let mut value = value;
        if *flow {
            value.make_flow();
        }
        match entries.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
            Some(_) if if_absent => Ok(false),
            Some((_, v)) => {
                if v.same_value(&value) {
                    return Ok(false);
                }
                // Keep the author's quoting when the new text allows it.
                if let (MKind::Scalar { style: old, .. }, MKind::Scalar { value: text, style }) =
                    (&v.kind, &mut value.kind)
                    && matches!(old, Style::Single | Style::Double)
                    && resolve_plain(text) == Value::Str(text.clone())
                {
                    *style = *old;
                }
                let orig = v.orig;
                *v = value;
                v.orig = orig.filter(|_| matches!(v.kind, MKind::Scalar { .. }));
                v.dirty = true;
                Ok(true)
            }
            None => {
                let entry = (MNode::string(key), value);
                if first {
                    entries.insert(0, entry);
                } else {
                    entries.push(entry);
                }
                Ok(true)
            }
        }
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

    /// Move the entry at `from` to `to`. New mappings on the way to `to` that are created in
    /// `from`'s mapping take the old key's position.
    pub fn move_to(&mut self, from: &Path, to: &Path) -> Result<bool, TreeError> {
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
        let Some((to_parent, Seg::Key(to_key))) = to.split_last() else {
            return Err(TreeError::NotAMap(to.to_string()));
        };
        let parent = self.get_mut(&from_parent.0)?.expect("exists");
        let MKind::Map { entries, .. } = &mut parent.kind else {
            unreachable!()
        };
        let (_, mut value) = entries.remove(index);
        let dest = self.ensure_map(&to_parent.0, Some((&from_parent.0, index)))?;
        let flow = dest.is_flow();
        if flow && !value.is_flow() && !matches!(value.kind, MKind::Scalar { .. }) {
            value.make_flow();
        }
        let MKind::Map { entries, .. } = &mut dest.kind else {
            unreachable!()
        };
        let at = if to_parent == from_parent {
            index.min(entries.len())
        } else {
            entries.len()
        };
        entries.insert(at, (MNode::string(to_key), value));
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
                let mut map = std::collections::BTreeMap::new();
                for (k, v) in entries {
                    map.insert(
                        k.value_rec(anchors, budget, depth + 1)?,
                        v.value_rec(anchors, budget, depth + 1)?,
                    );
                }
                Value::Map(map)
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
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-' | b'_'))
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && resolve_plain(s) == Value::Str(s.to_string())
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
    fn move_creates_parent_at_old_position() {
        let mut t = tree("resource:\n  name: cpu\n  targetAverageUtilization: 80\n  x: 1\n");
        t.move_to(
            &p("resource.targetAverageUtilization"),
            &p("resource.target.averageUtilization"),
        )
        .unwrap();
        t.set(
            &p("resource.target.type"),
            MNode::string("Utilization"),
            true,
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
        for i in 1..9 {
            let prev = i - 1;
            src.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        assert!(matches!(tree(&src).to_value(), Err(TreeError::TooLarge(_))));
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
}
