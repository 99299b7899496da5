//! Trying an object's migration on the working tree itself, and taking it back when it is
//! not kept (a blocking finding, a shape error).
//!
//! A trial used to run on a copy of the whole working tree. For a document of one object
//! that is the object's copy; for a `List` of N objects it was N copies of N objects, and a
//! 1 MB `kubectl get -o yaml` dump took minutes. Rules write only below the object they run
//! on, unless a path climbs out of it (`^.…`) or names the object itself ([`confined`]): then
//! saving the object's subtree, and the `dirty` marks of the nodes above it, is enough to
//! put the tree back exactly as it was. Other rule sets keep the copy of the whole tree.

use crate::catalogue::registry::{CompiledOp, CompiledRule, RelPath, Root};
use crate::yaml::Node;
use crate::yaml::path::{Path, Seg};

use super::mtree::{MKind, MNode};

/// A migration being tried on `tree`, which [`Trial::keep`] or [`Trial::take_back`] ends.
pub struct Trial<'d> {
    pub tree: MNode,
    undo: Undo<'d>,
}

/// How to take a trial back. A copy of the parsed document that nothing changed is not
/// saved at all (most trials are kept): its object is copied again from the parsed one, or,
/// where a rule may write outside the object, the whole copy is made again when it is needed.
enum Undo<'d> {
    Parsed,
    ParsedObject {
        path: Path,
        object: &'d Node,
    },
    /// The whole tree as it was: some rule may write outside the object.
    Whole(MNode),
    /// The object's subtree as it was, and the `dirty` marks of its ancestors, root first.
    Object {
        path: Path,
        saved: MNode,
        marks: Vec<bool>,
    },
}

impl<'d> Trial<'d> {
    /// Start trying `rules` on the object at `path` (`object` as parsed): on the working tree
    /// when there is one, else on the pristine copy of the parsed document `root` (made if
    /// need be).
    pub fn start<'r>(
        work: &mut Option<MNode>,
        pristine: &mut Option<MNode>,
        root: &Node,
        path: &Path,
        object: Option<&'d Node>,
        rules: impl IntoIterator<Item = &'r CompiledRule>,
    ) -> Trial<'d> {
        match work.take() {
            Some(tree) => Trial::begin(tree, path, rules),
            None => {
                let tree = pristine.take().unwrap_or_else(|| MNode::from_node(root));
                Trial::on_parsed(tree, path, object, rules)
            }
        }
    }

    /// End the trial: kept, its tree is the working tree; else the tree as it was goes back
    /// to where [`Trial::start`] took it from.
    pub fn end(self, keep: bool, work: &mut Option<MNode>, pristine: &mut Option<MNode>) {
        if keep {
            *work = Some(self.keep());
        } else if matches!(self.undo, Undo::Parsed | Undo::ParsedObject { .. }) {
            *pristine = self.take_back();
        } else {
            *work = self.take_back();
        }
    }

    /// Start trying `rules` on the object at `path` in `tree`, a copy of the parsed document
    /// that nothing changed; `object` is the parsed object.
    fn on_parsed<'r>(
        tree: MNode,
        path: &Path,
        object: Option<&'d Node>,
        rules: impl IntoIterator<Item = &'r CompiledRule>,
    ) -> Trial<'d> {
        let undo = match object {
            Some(object) if rules.into_iter().all(confined) => Undo::ParsedObject {
                path: path.clone(),
                object,
            },
            _ => Undo::Parsed,
        };
        Trial { tree, undo }
    }

    /// Start trying `rules` on the object at `object` in `tree`, a working tree.
    fn begin<'r>(
        tree: MNode,
        object: &Path,
        rules: impl IntoIterator<Item = &'r CompiledRule>,
    ) -> Trial<'d> {
        let saved = if rules.into_iter().all(confined) {
            save(&tree, object)
        } else {
            None
        };
        let undo = saved.unwrap_or_else(|| Undo::Whole(tree.clone()));
        Trial { tree, undo }
    }

    /// The tree with the migration in it.
    fn keep(self) -> MNode {
        self.tree
    }

    /// The tree as it was before the trial; `None` when that was the parsed document, which
    /// is copied again only if it is needed.
    fn take_back(self) -> Option<MNode> {
        match self.undo {
            Undo::Parsed => None,
            Undo::ParsedObject { path, object } => {
                let mut tree = self.tree;
                let marks = vec![false; path.0.len()];
                restore(&mut tree, &path, MNode::from_node(object), &marks);
                Some(tree)
            }
            Undo::Whole(tree) => Some(tree),
            Undo::Object { path, saved, marks } => {
                let mut tree = self.tree;
                restore(&mut tree, &path, saved, &marks);
                Some(tree)
            }
        }
    }
}

/// Whether every write of `rule` lands strictly below the object it runs on: no path climbs
/// out of the matched node (`^.…`), and none names the object itself (deleting, renaming or
/// moving it would change its parent, which the trial does not save).
pub fn confined(rule: &CompiledRule) -> bool {
    // The matched node is the object itself when a pattern is empty.
    let at_may_be_object = rule.at.iter().any(|p| p.0.is_empty());
    let inside = |p: &RelPath| match p.root {
        Root::At => !(p.path.0.is_empty() && at_may_be_object),
        Root::Object | Root::Pod => !p.path.0.is_empty(),
        // Not a node: never written.
        Root::Var(_) => true,
        Root::Up(_) => false,
    };
    rule.ops.iter().all(|op| match op {
        CompiledOp::Rename(p, _)
        | CompiledOp::Append(p, _)
        | CompiledOp::Set { path: p, .. }
        | CompiledOp::Delete(p)
        | CompiledOp::ToPairs { path: p, .. } => inside(p),
        CompiledOp::Move(a, b, ..)
        | CompiledOp::Copy(a, b, ..)
        | CompiledOp::FromJson { from: a, to: b, .. } => inside(a) && inside(b),
    })
}

fn save<'d>(tree: &MNode, object: &Path) -> Option<Undo<'d>> {
    let mut marks = Vec::with_capacity(object.0.len());
    let mut node = tree;
    for seg in &object.0 {
        marks.push(node.dirty);
        node = child(node, seg)?;
    }
    Some(Undo::Object {
        path: object.clone(),
        saved: node.clone(),
        marks,
    })
}

/// Put the object's subtree back, and its ancestors' marks. The path still leads to the
/// object: a confined rule changes nothing above it but those marks.
fn restore(tree: &mut MNode, object: &Path, saved: MNode, marks: &[bool]) {
    let mut node = tree;
    for (seg, &mark) in object.0.iter().zip(marks) {
        node.dirty = mark;
        let Some(next) = child_mut(node, seg) else {
            return;
        };
        node = next;
    }
    *node = saved;
}

/// The child `seg` names, found as [`MNode::get`] finds it.
fn child<'t>(node: &'t MNode, seg: &Seg) -> Option<&'t MNode> {
    node.get(std::slice::from_ref(seg))
}

fn child_mut<'t>(node: &'t mut MNode, seg: &Seg) -> Option<&'t mut MNode> {
    match (seg, &mut node.kind) {
        (Seg::Key(k), MKind::Map { entries, .. }) => entries
            .iter_mut()
            .find(|(key, _)| key.as_str() == Some(&**k))
            .map(|(_, v)| v),
        (Seg::Index(i), MKind::Seq { items, .. }) => items.get_mut(*i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use crate::plan::rules::{self, Ctx};
    use crate::yaml::parse_stream;

    /// Every hop's and field migration's rules that apply to an object of testdata, tried on
    /// the parsed document and on its working tree (already changed by the objects before
    /// it) and taken back: the tree is as it was, `dirty` marks included.
    #[test]
    fn a_trial_taken_back_leaves_the_tree_as_it_was() {
        let cat = Catalogue::embedded().unwrap();
        let (mut tried, mut by_object, mut changed) = (0, 0, 0);
        for (path, bytes) in crate::testdata_files() {
            let is_yaml = path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            let Ok(docs) = parse_stream(text)
                .map_err(|_| ())
                .and_then(|d| if is_yaml { Ok(d) } else { Err(()) })
            else {
                continue;
            };
            for doc in &docs {
                let mut tree = MNode::from_node(&doc.root);
                for (at, obj) in crate::plan::objects(&doc.root) {
                    let (Some(api), Some(kind)) = (
                        obj.get("apiVersion").and_then(|n| n.as_str()),
                        obj.get("kind").and_then(|n| n.as_str()),
                    ) else {
                        continue;
                    };
                    let hops = cat
                        .hops
                        .iter()
                        .filter(|h| h.meta.from == api && h.meta.kinds.iter().any(|k| k == kind));
                    let fields = cat.fields.iter().filter(|f| f.applies_to(api, kind));
                    let sets: Vec<&[CompiledRule]> = hops
                        .map(|h| &h.rules[..])
                        .chain(fields.map(|f| &f.rules[..]))
                        .chain([&cat.global_rules[..]])
                        .collect();
                    for set in sets {
                        // On the parsed document: its object made again from the parsed one.
                        let parsed = MNode::from_node(&doc.root);
                        let mut trial = Trial::on_parsed(parsed.clone(), &at, Some(obj), set);
                        let mut hits = Vec::new();
                        let ctx = Ctx::default();
                        let _ = rules::apply_in(&mut trial.tree, &at, set, &mut hits, &ctx);
                        if let Some(back) = trial.take_back() {
                            assert!(back == parsed, "{}: {at}", path.display());
                        }
                        // On a working tree: its object saved.
                        let before = tree.clone();
                        let mut trial = Trial::begin(tree, &at, set);
                        by_object += usize::from(matches!(trial.undo, Undo::Object { .. }));
                        let _ = rules::apply_in(&mut trial.tree, &at, set, &mut hits, &ctx);
                        changed += usize::from(trial.tree != before);
                        tree = trial.take_back().unwrap();
                        assert!(tree == before, "{}: {at}", path.display());
                        tried += 1;
                        // The next object sees a tree this one changed.
                        let mut trial = Trial::begin(tree, &at, set);
                        let _ = rules::apply_in(&mut trial.tree, &at, set, &mut hits, &ctx);
                        tree = trial.keep();
                    }
                }
            }
        }
        assert!(
            changed > 200,
            "{changed} of {tried} trials changed the tree"
        );
        assert!(
            by_object * 10 > tried * 9,
            "{by_object} of {tried} saved the object only"
        );
    }

    fn rule(ops: &str, at: &str) -> CompiledRule {
        let rules = format!("[[field.rule]]\nat = [\"{at}\"]\nops = [{ops}]\n");
        let cat = crate::catalogue::registry::one_field(&rules);
        cat.fields[0].rules[0].clone()
    }

    #[test]
    fn rules_that_may_write_outside_the_object_save_the_whole_tree() {
        assert!(confined(&rule(r#"{ set = "x", value = "1" }"#, "spec")));
        assert!(confined(&rule(r#"{ delete = "$.spec.x" }"#, "spec")));
        assert!(confined(&rule(r#"{ delete = "" }"#, "spec")));
        // Climbing out of the matched node may leave the object.
        assert!(!confined(&rule(r#"{ set = "^.x", value = "1" }"#, "spec")));
        // The object itself: deleting or renaming it changes its parent.
        assert!(!confined(&rule(r#"{ delete = "$" }"#, "spec")));
        assert!(!confined(&rule(r#"{ delete = "" }"#, "")));
        assert!(!confined(&rule(r#"{ move = "$.a", to = "$" }"#, "spec")));
    }
}
