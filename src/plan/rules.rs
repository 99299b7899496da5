//! Interpret the catalogue's rules on a working tree.

use std::borrow::Cow;

use crate::catalogue::compile::OpValue;
use crate::catalogue::conditions::{Cond, NodeTest};
use crate::catalogue::model::{FindingSpec, Release};
use crate::catalogue::registry::{
    CompiledBinding, CompiledOp, CompiledRule, POD_TEMPLATE_SITES, RelPath, Root, Shape,
};
use crate::yaml::path::{Path, Seg};
use crate::yaml::value::resolve_plain;
use crate::yaml::{Style, Value};

use super::mtree::{MKind, MNode, Position, TreeError};

/// A rule's finding, at the node the rule matched.
#[derive(Debug, Clone)]
pub struct RuleHit {
    pub spec: FindingSpec,
    pub at: Path,
    /// The original node the rule matched (it may have moved), to place the finding.
    pub orig: Option<usize>,
}

/// The release window a rule runs in, for its `min-version-*` / `target-*` conditions
/// (unknown parts make those conditions false).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ctx<'o> {
    pub min: Option<Release>,
    pub target: Option<Release>,
    /// Command-line facts every rule sees as variables (`assume.KEY`, `flag.NAME`).
    pub options: &'o [(String, String)],
}

/// Apply `rules` to the object at `base` in `doc`, in order; each rule sees the result of
/// the ones before it. A rule with ops reports its finding only when the ops changed
/// something, so a pin appears only where a value was actually written.
pub fn apply(
    doc: &mut MNode,
    base: &Path,
    rules: &[CompiledRule],
    hits: &mut Vec<RuleHit>,
) -> Result<bool, TreeError> {
    apply_in(doc, base, rules, hits, &Ctx::default())
}

/// [`apply`] with the release window known.
pub fn apply_in(
    doc: &mut MNode,
    base: &Path,
    rules: &[CompiledRule],
    hits: &mut Vec<RuleHit>,
    ctx: &Ctx,
) -> Result<bool, TreeError> {
    apply_rules(
        doc,
        base,
        rules,
        hits,
        ctx,
        Mode::ReadFirst { distinct: false },
    )
}

/// [`apply_in`] when no rule would change anything: `true` when that is so, with the rules'
/// findings in `hits`, as `apply_in` would leave them and the document unchanged. `false`:
/// some rule would change it (or a mapping has a repeated key), and `hits` is to be thrown
/// away; `apply_in` on a copy does it all.
pub fn read_only(
    doc: &MNode,
    base: &Path,
    rules: &[CompiledRule],
    hits: &mut Vec<RuleHit>,
    ctx: &Ctx,
) -> bool {
    rules
        .iter()
        .filter(|rule| window_holds(rule, ctx))
        .all(|rule| {
            let backwards = deletes_matches(rule);
            read_only_pass(doc, base, rule, backwards, false, hits, ctx)
                .is_some_and(|(rest, _)| rest.is_empty())
        })
}

/// [`apply_in`] on an object the caller has checked has no mapping with a repeated key
/// ([`crate::plan::duplicate_key`]): the first pass looks only in mappings a rule changed.
pub fn apply_distinct(
    doc: &mut MNode,
    base: &Path,
    rules: &[CompiledRule],
    hits: &mut Vec<RuleHit>,
    ctx: &Ctx,
) -> Result<bool, TreeError> {
    apply_rules(
        doc,
        base,
        rules,
        hits,
        ctx,
        Mode::ReadFirst { distinct: true },
    )
}

/// How [`apply_rules`] finds and reads matches.
#[derive(Clone, Copy)]
enum Mode {
    /// Every match is a path from the root, looked up again for each read: what the
    /// read-only first pass must agree with.
    #[cfg_attr(not(test), allow(dead_code))]
    ByPath,
    /// The read-only first pass ([`read_only_pass`]), then by path from the first match that
    /// changes something; `distinct` when the object is known to have no repeated key.
    ReadFirst { distinct: bool },
}

fn apply_rules(
    doc: &mut MNode,
    base: &Path,
    rules: &[CompiledRule],
    hits: &mut Vec<RuleHit>,
    ctx: &Ctx,
    mode: Mode,
) -> Result<bool, TreeError> {
    let mut any_change = false;
    // The matches of the rule before, while nothing has changed since they were found: the
    // next rule reuses them when it matches alike (a CRD's schema rules walk the same nodes).
    let mut last: Option<(&CompiledRule, MatchList)> = None;
    for rule in rules {
        if !window_holds(rule, ctx) {
            continue;
        }
        // Deleting matched sequence items shifts the ones after them: go from the back.
        let backwards = deletes_matches(rule);
        let Mode::ReadFirst { distinct } = mode else {
            let mut found = matches(doc, base, rule);
            if backwards {
                found.reverse();
            }
            any_change |= by_path(doc, base, rule, found, None, hits, ctx)?;
            continue;
        };
        let list = match last.take() {
            Some((prev, list)) if prev.at == rule.at && prev.recurse == rule.recurse => list,
            _ => match doc.get(&base.0) {
                Some(object) => MatchList::of(object, base.0.len(), rule, distinct),
                None => continue,
            },
        };
        let pass = if list.ambiguous {
            // A path by key would not lead to the node found: all of it by path.
            let mut found = matches(doc, base, rule);
            if backwards {
                found.reverse();
            }
            Pass {
                changed: false,
                ran: true,
                rest: Some((found, None)),
            }
        } else {
            step_pass(doc, base, rule, &list, backwards, hits, ctx)?
        };
        any_change |= pass.changed;
        if let Some((found, resume)) = pass.rest {
            any_change |= by_path(doc, base, rule, found, resume, hits, ctx)?;
        } else if !pass.ran {
            last = Some((rule, list));
        }
    }
    Ok(any_change)
}

/// Run `rule` at the matches `found` (paths from the document root), each looked up again
/// for every read: the interpreter proper. `resume`: where [`step_pass`] stopped, at the
/// first of `found`.
fn by_path(
    doc: &mut MNode,
    base: &Path,
    rule: &CompiledRule,
    found: Vec<Path>,
    mut resume: Option<Resume>,
    hits: &mut Vec<RuleHit>,
    ctx: &Ctx,
) -> Result<bool, TreeError> {
    let mut any_change = false;
    for at in found {
        // The matched node's original id, read before the first change to it (and only
        // when a rule applies there: most schema nodes a CRD rule visits fail its test).
        let mut orig: Option<Option<usize>> = None;
        // Where the first pass stopped, the document is as it read it: its bindings and
        // conditions stand, up to the first set that holds.
        let (sets, holds_at) = match resume.take() {
            Some(r) => {
                orig = Some(r.orig);
                (r.sets, Some(r.holds_at))
            }
            None => (bindings(doc, base, &at, &rule.lets, ctx.options), None),
        };
        for (k, vars) in sets.into_iter().enumerate() {
            if holds_at.is_some_and(|h| k < h) {
                continue;
            }
            let r = Resolver {
                base,
                at: &at,
                vars: &vars,
            };
            if holds_at != Some(k) && !holds(doc, rule, &r) {
                continue;
            }
            let orig = *orig.get_or_insert_with(|| doc.get(&at.0).and_then(|n| n.orig));
            let changed = run_ops(doc, rule, &r)?;
            any_change |= changed;
            if let Some(spec) = &rule.finding
                && (rule.ops.is_empty() || changed)
            {
                let mut spec = spec.clone();
                spec.message = subst(&spec.message, &vars).into_owned();
                hits.push(RuleHit {
                    spec,
                    at: at.clone(),
                    orig,
                });
            }
        }
    }
    Ok(any_change)
}

/// What [`step_pass`] did.
struct Pass {
    /// Its ops changed the document.
    changed: bool,
    /// Some ops ran (the matches found may not be the document's any more), here or in `rest`.
    ran: bool,
    /// The matches left to [`by_path`] from the first it did not do, as paths, and where it
    /// stopped.
    rest: Option<(Vec<Path>, Option<Resume>)>,
}

/// Run a rule over its matches found by steps ([`MatchList`]), reading each at the node
/// found (not looked up again from the document root, nor given a path): most matches fail
/// their conditions (a CRD schema rule visits every schema node), so most cost neither a
/// path nor a walk, and a rule without ops reports its findings here. A rule whose ops
/// change only the subtree of the node matched ([`writes_below`]) runs them here too, as
/// long as that leaves the steps of the matches after it as they were (none is below it, or
/// the ops only add keys at the end of its mapping). Otherwise it stops at the first match
/// whose ops would change something, and hands the rest to [`by_path`] (`Some`), `None`
/// when it did all.
fn step_pass(
    doc: &mut MNode,
    base: &Path,
    rule: &CompiledRule,
    list: &MatchList,
    backwards: bool,
    hits: &mut Vec<RuleHit>,
    ctx: &Ctx,
) -> Result<Pass, TreeError> {
    let n = list.len();
    let order = |i: usize| if backwards { n - 1 - i } else { i };
    let seed: Vars = ctx.options.to_vec();
    let local = rule.lets.is_empty() && writes_below(rule);
    let mut nested: Option<bool> = None;
    let (mut any_change, mut ran) = (false, false);
    for i in 0..n {
        let steps = list.steps(order(i));
        // What to do at this match, worked out while the document is only read.
        let run = {
            let doc: &MNode = doc;
            let Some(object) = doc.get(&base.0) else {
                break;
            };
            let Some(node) = follow(object, steps) else {
                debug_assert!(false, "a match's steps lead to no node");
                continue;
            };
            let at = std::cell::OnceCell::new();
            let at_path = || at.get_or_init(|| key_path(object, base, steps));
            let bound;
            let sets: &[Vars] = if rule.lets.is_empty() {
                std::slice::from_ref(&seed)
            } else {
                bound = bindings(doc, base, at_path(), &rule.lets, ctx.options);
                &bound
            };
            let mut run = None;
            for (k, vars) in sets.iter().enumerate() {
                let here = Here {
                    doc,
                    object,
                    base,
                    steps,
                    node,
                };
                if !here.holds(rule, vars, &at_path) {
                    continue;
                }
                if rule.ops.is_empty() {
                    if let Some(spec) = &rule.finding {
                        let mut spec = spec.clone();
                        spec.message = subst(&spec.message, vars).into_owned();
                        hits.push(RuleHit {
                            spec,
                            at: at_path().clone(),
                            orig: node.orig,
                        });
                    }
                    continue;
                }
                let reader = here.reader(vars);
                if surely_unchanged(rule, &reader) {
                    // No change, so no finding either (a rule with ops reports a change).
                    continue;
                }
                let steps_stay = local
                    && {
                        let later = (i + 1..n).map(|j| list.steps(order(j)));
                        appends_at_end(rule, &reader)
                        || !*nested.get_or_insert_with(|| list.nested())
                        // (Looked for among a bounded number: a large nested set goes by path.)
                        || (n - i <= 1024
                            && !later.clone().any(|s| s.len() > steps.len() && s.starts_with(steps)))
                    };
                if !steps_stay {
                    // From here on the document may change under the steps: the rest goes by
                    // path, from this match on, where what was just worked out need not be.
                    let mut paths = KeyPaths::new(object, base);
                    let rest = (i..n).map(|j| paths.next(list.steps(order(j)))).collect();
                    let resume = Resume {
                        sets: sets.to_vec(),
                        holds_at: k,
                        orig: node.orig,
                    };
                    return Ok(Pass {
                        changed: any_change,
                        ran: true,
                        rest: Some((rest, Some(resume))),
                    });
                }
                // `local`: one set of variables (no `let`), so this is the only one.
                run = Some((at_path().clone(), node.orig));
            }
            run
        };
        let Some((at, orig)) = run else {
            continue;
        };
        let r = Resolver {
            base,
            at: &at,
            vars: &seed,
        };
        let changed = run_ops(doc, rule, &r)?;
        ran = true;
        any_change |= changed;
        if let Some(spec) = &rule.finding
            && changed
        {
            let mut spec = spec.clone();
            spec.message = subst(&spec.message, &seed).into_owned();
            hits.push(RuleHit { spec, at, orig });
        }
    }
    Ok(Pass {
        changed: any_change,
        ran,
        rest: None,
    })
}

/// Run a rule over its matches without changing the document, for as long as nothing is to
/// change: each match is read at the node found (not looked up again from the document
/// root, nor given a path), and a rule without ops reports its findings here. Most matches
/// fail their conditions (a CRD schema rule visits every schema node), so most cost neither
/// a path nor a walk. Returns the matches left to the interpreter proper, as paths, from the
/// first one where a rule with ops holds (every match before it is done); `None` when a path
/// by key would not lead to the node found (a mapping with a repeated key), so that the
/// caller does it all by path.
fn read_only_pass(
    doc: &MNode,
    base: &Path,
    rule: &CompiledRule,
    backwards: bool,
    distinct: bool,
    hits: &mut Vec<RuleHit>,
    ctx: &Ctx,
) -> Option<(Vec<Path>, Option<Resume>)> {
    let Some(object) = doc.get(&base.0) else {
        return Some((Vec::new(), None));
    };
    let m = Matched::of(object, base.0.len(), rule, distinct);
    if m.ambiguous {
        return None;
    }
    let n = m.found.len();
    let order = |i: usize| if backwards { n - 1 - i } else { i };
    let seed: Vars = ctx.options.to_vec();
    for i in 0..n {
        let found = m.found[order(i)];
        let steps = m.steps(found);
        let at = std::cell::OnceCell::new();
        let at_path = || at.get_or_init(|| key_path(object, base, steps));
        let bound;
        let sets: &[Vars] = if rule.lets.is_empty() {
            std::slice::from_ref(&seed)
        } else {
            bound = bindings(doc, base, at_path(), &rule.lets, ctx.options);
            &bound
        };
        for (k, vars) in sets.iter().enumerate() {
            let here = Here {
                doc,
                object,
                base,
                steps,
                node: found.node,
            };
            if !here.holds(rule, vars, &at_path) {
                continue;
            }
            if !rule.ops.is_empty() {
                // From here on the document may change: the rest goes by path, from this
                // match on, where what was just worked out need not be again.
                let mut paths = KeyPaths::new(object, base);
                let rest = (i..n)
                    .map(|j| paths.next(m.steps(m.found[order(j)])))
                    .collect();
                let resume = Resume {
                    sets: sets.to_vec(),
                    holds_at: k,
                    orig: found.node.orig,
                };
                return Some((rest, Some(resume)));
            }
            if let Some(spec) = &rule.finding {
                let mut spec = spec.clone();
                spec.message = subst(&spec.message, vars).into_owned();
                hits.push(RuleHit {
                    spec,
                    at: at_path().clone(),
                    orig: found.node.orig,
                });
            }
        }
    }
    Some((Vec::new(), None))
}

/// Where the first pass of a rule stopped: at the first of the matches it hands back, the
/// variable sets it bound, the first of them whose conditions hold (the ones before it do
/// not), and the node's original id.
struct Resume {
    sets: Vec<Vars>,
    holds_at: usize,
    orig: Option<usize>,
}

/// A node a rule matched, found without building its path: its steps from the object (an
/// entry's index in a mapping, an item's in a sequence) are `Matched::steps[start..][..len]`.
#[derive(Clone, Copy)]
struct Found<'d> {
    start: usize,
    len: usize,
    node: &'d MNode,
}

/// Every node a rule applies to, as [`matches`] finds them, in the same order.
struct Matched<'d> {
    steps: Vec<usize>,
    found: Vec<Found<'d>>,
    /// A `*` step went through a mapping with a repeated key: a path by key leads to the
    /// first of the two, not to the node found.
    ambiguous: bool,
    /// The object had no repeated key: only mappings a rule changed need a look.
    distinct: bool,
}

impl<'d> Matched<'d> {
    fn of(object: &'d MNode, base_len: usize, rule: &CompiledRule, distinct: bool) -> Matched<'d> {
        let mut m = Matched {
            steps: STEPS.take(),
            found: Vec::new(),
            ambiguous: false,
            distinct,
        };
        let mut prefix = Vec::new();
        for at in &rule.at {
            // `@pod` stands for wherever this kind keeps its pod template.
            if let Some((Seg::Key(first), rest)) = at.0.split_first()
                && &**first == "@pod"
            {
                let Some(site) = kind_of(object).and_then(site_path) else {
                    continue;
                };
                m.expand(object, &site.0, rest, &mut prefix);
                continue;
            }
            m.expand(object, &at.0, &[], &mut prefix);
        }
        let mut next = 0;
        while next < m.found.len()
            && !rule.recurse.is_empty()
            && m.found.len() < 100_000
            && !m.ambiguous
        {
            let found = m.found[next];
            next += 1;
            if base_len + found.len > 4 * crate::yaml::events::MAX_DEPTH {
                continue;
            }
            prefix.clear();
            prefix.extend_from_slice(m.steps(found));
            for pattern in &rule.recurse {
                m.expand(found.node, &pattern.0, &[], &mut prefix);
            }
        }
        m
    }

    fn steps(&self, found: Found) -> &[usize] {
        &self.steps[found.start..found.start + found.len]
    }

    /// [`MNode::expand_nodes`], by steps, of `pattern` then `then` (a pod site, then the
    /// rest of an `@pod` pattern).
    fn expand(&mut self, node: &'d MNode, pattern: &[Seg], then: &[Seg], prefix: &mut Vec<usize>) {
        if self.ambiguous {
            return;
        }
        let (pattern, then) = if pattern.is_empty() {
            (then, &[][..])
        } else {
            (pattern, then)
        };
        let Some((first, rest)) = pattern.split_first() else {
            let start = self.steps.len();
            self.steps.extend_from_slice(prefix);
            self.found.push(Found {
                start,
                len: prefix.len(),
                node,
            });
            return;
        };
        let mut step = |m: &mut Self, i: usize, child: &'d MNode| {
            prefix.push(i);
            m.expand(child, rest, then, prefix);
            prefix.pop();
        };
        match (first, &node.kind) {
            (Seg::AnyKey, MKind::Map { entries, .. }) => {
                // A mapping a rule changed may have been given a repeated key (`from-json`
                // lower-casing two keys alike); the others are as the caller checked them.
                if (!self.distinct || node.dirty) && repeated_key(entries) {
                    self.ambiguous = true;
                    return;
                }
                for (i, (k, v)) in entries.iter().enumerate() {
                    if k.as_str().is_some() {
                        step(self, i, v);
                    }
                }
            }
            (Seg::AnyItem, MKind::Seq { items, .. }) => {
                for (i, item) in items.iter().enumerate() {
                    step(self, i, item);
                }
            }
            (Seg::Key(key), MKind::Map { entries, .. }) => {
                if let Some(i) = entries.iter().position(|(k, _)| k.as_str() == Some(&**key)) {
                    step(self, i, &entries[i].1);
                }
            }
            (Seg::Index(i), MKind::Seq { items, .. }) => {
                if let Some(item) = items.get(*i) {
                    step(self, *i, item);
                }
            }
            _ => {}
        }
    }
}

/// A rule's matches as [`Matched`] finds them, by steps alone: they outlast a change to the
/// document that leaves the steps as they were (each node found again by [`follow`]), and
/// the next rule that matches alike reuses them.
struct MatchList {
    steps: Vec<usize>,
    /// Each match's `(start, len)` in `steps`.
    spans: Vec<(usize, usize)>,
    ambiguous: bool,
}

impl MatchList {
    fn of(object: &MNode, base_len: usize, rule: &CompiledRule, distinct: bool) -> MatchList {
        let mut m = Matched::of(object, base_len, rule, distinct);
        MatchList {
            steps: std::mem::take(&mut m.steps),
            spans: m.found.iter().map(|f| (f.start, f.len)).collect(),
            ambiguous: m.ambiguous,
        }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn steps(&self, i: usize) -> &[usize] {
        let (start, len) = self.spans[i];
        &self.steps[start..start + len]
    }

    /// Whether some match is below another (a recursive rule's are).
    fn nested(&self) -> bool {
        // Sorted, a node's first descendant (if any) comes right after it.
        let mut order: Vec<&[usize]> = (0..self.len()).map(|i| self.steps(i)).collect();
        order.sort_unstable();
        order
            .windows(2)
            .any(|w| w[1].len() > w[0].len() && w[1].starts_with(w[0]))
    }
}

impl Drop for MatchList {
    fn drop(&mut self) {
        give_back_steps(std::mem::take(&mut self.steps));
    }
}

/// Keep a steps buffer for the next [`Matched`].
fn give_back_steps(mut steps: Vec<usize>) {
    // An unusual document's buffer (a million-node schema) is not kept for the run; an
    // empty one (taken by a [`MatchList`]) would only replace a better one.
    if steps.capacity() <= 1 << 16 && steps.capacity() > 0 {
        steps.clear();
        STEPS.set(steps);
    }
}

thread_local! {
    /// The steps buffer of the last [`Matched`], for the next one: a CRD's recursive rules
    /// record thousands of steps each, and growing a new buffer for every rule and object
    /// cost more than recording them.
    static STEPS: std::cell::Cell<Vec<usize>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Drop for Matched<'_> {
    fn drop(&mut self) {
        give_back_steps(std::mem::take(&mut self.steps));
    }
}

/// Whether two keys of a mapping are the same string.
fn repeated_key(entries: &[(MNode, MNode)]) -> bool {
    if entries.len() <= 16 {
        return entries.iter().enumerate().any(|(i, (a, _))| {
            a.as_str()
                .is_some_and(|a| entries[i + 1..].iter().any(|(b, _)| b.as_str() == Some(a)))
        });
    }
    let mut seen = foldhash::HashSet::default();
    entries
        .iter()
        .filter_map(|(k, _)| k.as_str())
        .any(|k| !seen.insert(k))
}

/// The node `steps` lead to from `node`.
fn follow<'d>(mut node: &'d MNode, steps: &[usize]) -> Option<&'d MNode> {
    for &i in steps {
        node = match &node.kind {
            MKind::Map { entries, .. } => &entries.get(i)?.1,
            MKind::Seq { items, .. } => items.get(i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The path by key of the node `steps` lead to from the object at `base` (as a new
/// [`KeyPaths`] makes it, in one allocation and one string per key).
fn key_path(object: &MNode, base: &Path, steps: &[usize]) -> Path {
    let mut segs = Vec::with_capacity(base.0.len() + steps.len());
    segs.extend(base.0.iter().cloned());
    let mut node = object;
    for &i in steps {
        let (seg, child) = match &node.kind {
            MKind::Map { entries, .. } if i < entries.len() => {
                let (k, v) = &entries[i];
                (Seg::Key(k.as_str().unwrap_or_default().into()), v)
            }
            MKind::Seq { items, .. } if i < items.len() => (Seg::Index(i), &items[i]),
            _ => break,
        };
        segs.push(seg);
        node = child;
    }
    Path(segs)
}

/// Paths by key for many matches in a row, each sharing the keys of its first steps with
/// the one before (a CRD schema's nodes share most of theirs): a shared key is a reference
/// count, not an allocation.
struct KeyPaths<'d> {
    /// The last path made, and the node at each of its steps (`nodes[0]` is the object).
    segs: Vec<Seg>,
    steps: Vec<usize>,
    nodes: Vec<&'d MNode>,
    base_len: usize,
}

impl<'d> KeyPaths<'d> {
    fn new(object: &'d MNode, base: &Path) -> KeyPaths<'d> {
        // Room for a path a dozen levels below the object (a CRD schema's), so that
        // growing the buffers does not cost more than the paths made from them.
        let mut segs = Vec::with_capacity(base.0.len() + 16);
        segs.extend(base.0.iter().cloned());
        let mut nodes = Vec::with_capacity(17);
        nodes.push(object);
        KeyPaths {
            segs,
            steps: Vec::with_capacity(16),
            nodes,
            base_len: base.0.len(),
        }
    }

    fn next(&mut self, steps: &[usize]) -> Path {
        let same = self
            .steps
            .iter()
            .zip(steps)
            .take_while(|(a, b)| a == b)
            .count();
        self.steps.truncate(same);
        self.nodes.truncate(same + 1);
        self.segs.truncate(self.base_len + same);
        for &i in &steps[same..] {
            let node = self.nodes[self.nodes.len() - 1];
            let (seg, child) = match &node.kind {
                MKind::Map { entries, .. } if i < entries.len() => {
                    let (k, v) = &entries[i];
                    (Seg::Key(k.as_str().unwrap_or_default().into()), v)
                }
                MKind::Seq { items, .. } if i < items.len() => (Seg::Index(i), &items[i]),
                _ => break,
            };
            self.segs.push(seg);
            self.steps.push(i);
            self.nodes.push(child);
        }
        Path(self.segs.clone())
    }
}

/// The object's `kind`, as `object.get("kind")` reads it.
fn kind_of(object: &MNode) -> Option<&str> {
    match &object.kind {
        MKind::Map { entries, .. } => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some("kind"))
            .and_then(|(_, v)| v.as_str()),
        _ => None,
    }
}

/// [`Resolver::get_in`] for a match of the read-only pass: from the node found, or the
/// object, by steps.
/// A match read in place: the node `steps` lead to from the object at `base`.
struct Here<'a, 'd> {
    doc: &'d MNode,
    object: &'d MNode,
    base: &'a Path,
    steps: &'a [usize],
    node: &'d MNode,
}

impl<'d> Here<'_, 'd> {
    /// Whether `rule`'s conditions hold here with `vars`; `at_path` builds the match's path
    /// when a condition reaches beyond what can be read in place.
    fn holds<'p>(&self, rule: &CompiledRule, vars: &Vars, at_path: &dyn Fn() -> &'p Path) -> bool {
        let reader = self.reader(vars);
        let reach = |p: &RelPath| {
            let r = Resolver {
                base: self.base,
                at: at_path(),
                vars,
            };
            r.reach(self.doc, &Starts::default(), p)
        };
        holds_with(rule, vars, &|p| reader.get(p), &reach)
    }

    fn reader<'a>(&'a self, vars: &'a Vars) -> NodeReader<'a, 'd> {
        NodeReader {
            doc: self.doc,
            object: self.object,
            base: self.base,
            steps: self.steps,
            node: self.node,
            vars,
        }
    }
}

struct NodeReader<'a, 'd> {
    doc: &'d MNode,
    object: &'d MNode,
    base: &'a Path,
    steps: &'a [usize],
    node: &'d MNode,
    vars: &'a Vars,
}

impl<'d> NodeReader<'_, 'd> {
    fn get(&self, p: &RelPath) -> Option<Cow<'d, MNode>> {
        let start = match &p.root {
            Root::Var(name) => {
                let name = subst(name, self.vars);
                return lookup(self.vars, &name).map(|v| Cow::Owned(MNode::string(v)));
            }
            Root::At => self.node,
            Root::Object => self.object,
            Root::Pod => self.object.get(&site_path(kind_of(self.object)?)?.0)?,
            Root::Up(n) => match self.steps.len().checked_sub(*n) {
                Some(keep) => follow(self.object, &self.steps[..keep])?,
                None => {
                    let above = n - self.steps.len();
                    self.doc
                        .get(&self.base.0[..self.base.0.len().checked_sub(above)?])?
                }
            },
        };
        let found = if p.vars {
            get_last_aware(start, &subst_path(&p.path, self.vars).0)
        } else {
            get_last_aware(start, &p.path.0)
        };
        found.map(Cow::Borrowed)
    }
}

/// Whether the rule deletes the nodes it matched.
fn deletes_matches(rule: &CompiledRule) -> bool {
    rule.ops
        .iter()
        .any(|op| matches!(op, CompiledOp::Delete(p) if p.path.0.is_empty() && p.root == Root::At))
}

/// Whether every op of the rule writes only below the node it matched (a path from it that
/// is not empty): so a change leaves every node outside that subtree where it was, and its
/// ancestors' keys as they were. A `delete` is not: a mapping it empties goes, and the
/// node matched with it. A `move` out of `a.b` may remove an emptied `a`, but not the node
/// matched, which keeps the key moved to.
fn writes_below(rule: &CompiledRule) -> bool {
    let below = |p: &RelPath| p.root == Root::At && !p.path.0.is_empty();
    rule.ops.iter().all(|op| match op {
        CompiledOp::Set { path, .. }
        | CompiledOp::Append(path, _)
        | CompiledOp::Rename(path, _)
        | CompiledOp::ToPairs { path, .. } => below(path),
        CompiledOp::Copy(_, to, _, _) | CompiledOp::FromJson { to, .. } => below(to),
        CompiledOp::Move(from, to, _, _) => below(from) && below(to),
        CompiledOp::Delete(_) => false,
    })
}

/// Whether the rule's ops, here, only add keys at the end of the matched mapping: each a
/// `set` of one key (no variable) that it does not have, at the end, each key once. Then
/// every node below it keeps its steps.
fn appends_at_end(rule: &CompiledRule, reader: &NodeReader) -> bool {
    let MKind::Map { entries, .. } = &reader.node.kind else {
        return false;
    };
    let keys = rule.ops.iter().map(|op| match op {
        CompiledOp::Set {
            path:
                RelPath {
                    root: Root::At,
                    path: Path(segs),
                    vars: false,
                },
            pos: Position::End,
            ..
        } => match segs.as_slice() {
            [Seg::Key(k)] => Some(k),
            _ => None,
        },
        _ => None,
    });
    keys.clone().enumerate().all(|(i, k)| {
        k.is_some_and(|k| {
            !entries.iter().any(|(e, _)| e.as_str() == Some(&**k))
                && !keys.clone().take(i).any(|o| o == Some(k))
        })
    })
}

/// Whether the rule's ops would surely leave the document as it is at this match (every
/// node and every mark): each deletes, copies or converts what is not there, or sets
/// `if-absent` what is, so none of them changes anything for the next. A `move` or
/// `rename` marks the way to it changed even when it finds nothing: not here.
fn surely_unchanged(rule: &CompiledRule, reader: &NodeReader) -> bool {
    let scalar = |p: &RelPath| reader.get(p).is_some_and(|n| scalar_text(&n).is_some());
    rule.ops.iter().all(|op| match op {
        CompiledOp::Delete(p) => reader.get(p).is_none(),
        CompiledOp::Set {
            path,
            if_absent: true,
            ..
        } => reader.get(path).is_some(),
        CompiledOp::Copy(from, _, _, None) => reader.get(from).is_none(),
        CompiledOp::Copy(from, _, _, Some(_)) | CompiledOp::FromJson { from, .. } => !scalar(from),
        CompiledOp::ToPairs { path, .. } => !matches!(
            reader
                .get(path)
                .map(|n| matches!(n.kind, MKind::Map { .. })),
            Some(true)
        ),
        CompiledOp::Set { .. }
        | CompiledOp::Append(..)
        | CompiledOp::Rename(..)
        | CompiledOp::Move(..) => false,
    })
}

fn window_holds(rule: &CompiledRule, ctx: &Ctx) -> bool {
    rule.when.iter().all(|c| match c {
        Cond::Window(w) => w.holds(ctx.min, ctx.target),
        Cond::Node(_) => true,
    })
}

/// Variable values for one application of a rule: `name`, `name.1`, … .
type Vars = Vec<(String, String)>;

/// Turns a rule's relative paths into document paths for one matched node.
struct Resolver<'a> {
    base: &'a Path,
    at: &'a Path,
    vars: &'a Vars,
}

impl Resolver<'_> {
    /// The document path, or `None` when it cannot exist (no pod site for this kind, a
    /// parent above the document, a variable).
    fn path(&self, doc: &MNode, p: &RelPath) -> Option<Path> {
        // Built in one allocation: a clone of the start and a join cost two.
        let (start, site): (&[Seg], &[Seg]) = match &p.root {
            Root::At => (&self.at.0, &[]),
            Root::Object => (&self.base.0, &[]),
            Root::Pod => {
                let kind = kind_of(doc.get(&self.base.0)?)?;
                (&self.base.0, &site_path(kind)?.0)
            }
            Root::Up(n) => (&self.at.0[..self.at.0.len().checked_sub(*n)?], &[]),
            Root::Var(_) => return None,
        };
        let rel = if p.vars {
            Cow::Owned(subst_path(&p.path, self.vars))
        } else {
            Cow::Borrowed(&p.path)
        };
        let mut segs = Vec::with_capacity(start.len() + site.len() + rel.0.len());
        segs.extend(start.iter().chain(site).chain(&rel.0).cloned());
        Some(last_items(doc, Path(segs)))
    }

    /// The node at `p` (a document node, or a variable's value as a string scalar), reusing the matched node and the object once found: a rule's
    /// conditions look up several paths from the same node, and each walk from the document
    /// root cost more than the rest of the test (CRD schemas: a dozen levels deep).
    fn get_in<'d>(
        &self,
        doc: &'d MNode,
        starts: &Starts<'d>,
        p: &RelPath,
    ) -> Option<Cow<'d, MNode>> {
        if let Root::Var(name) = &p.root {
            let name = subst(name, self.vars);
            return lookup(self.vars, &name).map(|v| Cow::Owned(MNode::string(v)));
        }
        let object = || *starts.object.get_or_init(|| doc.get(&self.base.0));
        let start = match &p.root {
            Root::At => (*starts.at.get_or_init(|| doc.get(&self.at.0)))?,
            Root::Object => object()?,
            Root::Pod => {
                let object = object()?;
                object.get(&site_path(kind_of(object)?)?.0)?
            }
            Root::Up(n) => doc.get(&self.at.0[..self.at.0.len().checked_sub(*n)?])?,
            Root::Var(_) => return None,
        };
        let found = if p.vars {
            get_last_aware(start, &subst_path(&p.path, self.vars).0)
        } else {
            get_last_aware(start, &p.path.0)
        };
        found.map(Cow::Borrowed)
    }
}

impl Resolver<'_> {
    /// The nodes a pattern with `[*]` reaches.
    fn reach<'d>(&self, doc: &'d MNode, starts: &Starts<'d>, p: &RelPath) -> Vec<Cow<'d, MNode>> {
        if matches!(p.root, Root::Var(_)) {
            return self.get_in(doc, starts, p).into_iter().collect();
        }
        let mut reached = Vec::new();
        let start = RelPath {
            root: p.root.clone(),
            path: Path::default(),
            vars: false,
        };
        let pattern = if p.vars {
            subst_path(&p.path, self.vars)
        } else {
            p.path.clone()
        };
        if let Some(start) = self.path(doc, &start)
            && let Some(node) = doc.get(&start.0)
        {
            node.expand(&pattern.0, &mut start.0.clone(), &mut reached);
        }
        reached
            .iter()
            .filter_map(|r| doc.get(&r.0))
            .map(Cow::Borrowed)
            .collect()
    }
}

/// The matched node and the object of a [`Resolver`], looked up on first use.
#[derive(Default)]
struct Starts<'d> {
    at: std::cell::OnceCell<Option<&'d MNode>>,
    object: std::cell::OnceCell<Option<&'d MNode>>,
}

/// [`MNode::get`] where `[-1]` is the last item of a sequence, as [`last_items`] reads it.
fn get_last_aware<'d>(node: &'d MNode, path: &[Seg]) -> Option<&'d MNode> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let child = match (first, &node.kind) {
        (Seg::Index(usize::MAX), MKind::Seq { items, .. }) => items.last(),
        (Seg::Index(_), _) | (Seg::Key(_), _) => node.get(std::slice::from_ref(first)),
        _ => None,
    }?;
    get_last_aware(child, rest)
}

/// Where `kind` keeps its pod, as a path; each parsed once.
fn site_path(kind: &str) -> Option<&'static Path> {
    static SITES: std::sync::LazyLock<Vec<(&str, Path)>> = std::sync::LazyLock::new(|| {
        POD_TEMPLATE_SITES
            .iter()
            .map(|&(k, site)| (k, Path::parse(site).expect("valid site path")))
            .collect()
    });
    SITES.iter().find(|(k, _)| *k == kind).map(|(_, p)| p)
}

fn lookup<'v>(vars: &'v Vars, name: &str) -> Option<&'v str> {
    vars.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Replace every bound `${name}` in `text`.
fn subst<'t>(text: &'t str, vars: &Vars) -> Cow<'t, str> {
    if vars.is_empty() || !text.contains("${") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after
            .find('}')
            .and_then(|end| Some((end, lookup(vars, &after[..end])?)))
        {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn subst_path(path: &Path, vars: &Vars) -> Path {
    Path(
        path.0
            .iter()
            .map(|seg| match seg {
                Seg::Key(k) => Seg::Key(subst(k, vars).into()),
                s => s.clone(),
            })
            .collect(),
    )
}

fn subst_toml<'v>(v: &'v toml::Value, vars: &Vars) -> Cow<'v, toml::Value> {
    if vars.is_empty() {
        return Cow::Borrowed(v);
    }
    Cow::Owned(match v {
        toml::Value::String(s) => toml::Value::String(subst(s, vars).into_owned()),
        toml::Value::Array(items) => toml::Value::Array(
            items
                .iter()
                .map(|i| subst_toml(i, vars).into_owned())
                .collect(),
        ),
        toml::Value::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, v)| {
                    (
                        subst(k, vars).into_owned(),
                        subst_toml(v, vars).into_owned(),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    })
}

fn subst_pos(pos: &Position, vars: &Vars) -> Position {
    match pos {
        Position::Before(k) => Position::Before(subst(k, vars).into_owned()),
        Position::After(k) => Position::After(subst(k, vars).into_owned()),
        p => p.clone(),
    }
}

/// The text of a scalar node (`None` for mappings, sequences and aliases).
fn scalar_text(node: &MNode) -> Option<&str> {
    match &node.kind {
        MKind::Scalar { value, .. } => Some(value),
        _ => None,
    }
}

/// Every set of variable values a rule runs with at one node: one, unless a binding splits
/// its text; none when a binding finds nothing.
fn bindings(
    doc: &MNode,
    base: &Path,
    at: &Path,
    lets: &[CompiledBinding],
    seed: &[(String, String)],
) -> Vec<Vars> {
    let mut sets: Vec<Vars> = vec![seed.to_vec()];
    for b in lets {
        let mut next = Vec::new();
        for vars in sets {
            let r = Resolver {
                base,
                at,
                vars: &vars,
            };
            let text = b.paths.iter().find_map(|p| {
                if let Root::Var(name) = &p.root {
                    return lookup(&vars, &subst(name, &vars)).map(str::to_string);
                }
                let path = r.path(doc, p)?;
                let node = doc.get(&path.0)?;
                if b.key {
                    match path.0.last() {
                        Some(Seg::Key(k)) => Some(k.to_string()),
                        _ => None,
                    }
                } else {
                    scalar_text(node).map(str::to_string)
                }
            });
            let Some(text) = text.or_else(|| b.default.clone()) else {
                continue;
            };
            let parts: Vec<&str> = match &b.split {
                Some(sep) => text.split(sep.as_str()).collect(),
                None => vec![text.as_str()],
            };
            for part in parts {
                let lowered;
                let part = if b.lower {
                    lowered = part.to_lowercase();
                    lowered.as_str()
                } else {
                    part
                };
                let mut vars = vars.clone();
                match &b.pattern {
                    None => vars.push((b.name.clone(), part.to_string())),
                    Some(re) => {
                        let Some(caps) = re.captures(part) else {
                            continue;
                        };
                        let group = |i: usize| caps.get(i).map_or("", |m| m.as_str()).to_string();
                        let main = if caps.len() > 1 { group(1) } else { group(0) };
                        vars.push((b.name.clone(), main));
                        for i in 0..caps.len() {
                            vars.push((format!("{}.{i}", b.name), group(i)));
                        }
                    }
                }
                next.push(vars);
            }
        }
        sets = next;
    }
    sets
}

fn run_ops(doc: &mut MNode, rule: &CompiledRule, r: &Resolver) -> Result<bool, TreeError> {
    let mut changed = false;
    for op in &rule.ops {
        let path = |doc: &MNode, p: &RelPath| r.path(doc, p);
        changed |= match op {
            CompiledOp::Rename(p, to) => {
                let to = subst(to, r.vars);
                match path(doc, p) {
                    // Renaming a key to itself changes nothing.
                    Some(p) if p.0.last() != Some(&Seg::Key(to.as_ref().into())) => {
                        doc.rename(&p, &to)?
                    }
                    _ => false,
                }
            }
            CompiledOp::Move(from, to, pos, unquote) => match (path(doc, from), path(doc, to)) {
                (Some(from), Some(to)) => {
                    let moved = doc.move_to(&from, &to, &subst_pos(pos, r.vars))?;
                    if moved && *unquote {
                        unquote_int(doc, &to)?;
                    }
                    moved
                }
                _ => false,
            },
            CompiledOp::Copy(from, to, pos, split) => match (path(doc, from), path(doc, to)) {
                (Some(from), Some(to)) => {
                    let pos = subst_pos(pos, r.vars);
                    match split {
                        None => doc.copy_to(&from, &to, &pos)?,
                        Some(sep) => copy_split(doc, &from, &to, &pos, sep)?,
                    }
                }
                _ => false,
            },
            CompiledOp::Append(p, value) => match path(doc, p) {
                Some(p) => doc.append(&p, op_value(value, r.vars))?,
                None => false,
            },
            CompiledOp::Set {
                path: p,
                value,
                pos,
                if_absent,
            } => match path(doc, p) {
                Some(p) => doc.set(
                    &p,
                    op_value(value, r.vars),
                    &subst_pos(pos, r.vars),
                    *if_absent,
                )?,
                None => false,
            },
            CompiledOp::Delete(p) => match path(doc, p) {
                Some(p) => doc.remove(&p)?.is_some(),
                None => false,
            },
            CompiledOp::FromJson {
                from,
                to,
                lower_camel,
            } => match (path(doc, from), path(doc, to)) {
                (Some(from), Some(to)) => from_json(doc, &from, &to, *lower_camel)?,
                _ => false,
            },
            CompiledOp::ToPairs {
                path: p,
                name,
                value,
            } => match path(doc, p) {
                Some(p) => to_pairs(doc, &p, name, value)?,
                None => false,
            },
        };
    }
    Ok(changed)
}

/// The YAML of an op's value without variables, made once.
fn fixed_value(value: &OpValue) -> Option<&MNode> {
    value
        .fixed
        .get_or_init(|| (!value.has_vars()).then(|| from_toml(&value.toml)))
        .as_ref()
}

/// The YAML an op writes: made when the rule was compiled, unless it has variables.
fn op_value(value: &OpValue, vars: &Vars) -> MNode {
    match fixed_value(value) {
        Some(node) => node.clone(),
        None => from_toml(&subst_toml(&value.toml, vars)),
    }
}

/// `[-1]` in a catalogue path means the last item of that sequence as the document is now.
fn last_items(doc: &MNode, path: Path) -> Path {
    if !path.0.contains(&Seg::Index(usize::MAX)) {
        return path;
    }
    let mut out = Vec::with_capacity(path.0.len());
    for seg in path.0 {
        let seg = match seg {
            Seg::Index(usize::MAX) => match doc.get(&out).map(|n| &n.kind) {
                Some(MKind::Seq { items, .. }) if !items.is_empty() => Seg::Index(items.len() - 1),
                _ => Seg::Index(usize::MAX),
            },
            s => s,
        };
        out.push(seg);
    }
    Path(out)
}

/// Copy a string as the sorted list of its distinct, trimmed, non-empty parts
/// (`"az1__az2"` → `[az1, az2]`, how multi-zone labels are spelled).
fn copy_split(
    doc: &mut MNode,
    from: &Path,
    to: &Path,
    pos: &Position,
    sep: &str,
) -> Result<bool, TreeError> {
    let Some(text) = doc.get(&from.0).and_then(MNode::as_str) else {
        return Ok(false);
    };
    let mut parts: Vec<&str> = text
        .split(sep)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    parts.sort_unstable();
    parts.dedup();
    let items = parts.into_iter().map(MNode::string).collect();
    doc.insert_at(to, MNode::new(MKind::Seq { flow: false, items }), pos)?;
    Ok(true)
}

/// Every node a rule applies to: the `at` matches, then what `recurse` reaches from them.
fn matches(doc: &MNode, base: &Path, rule: &CompiledRule) -> Vec<Path> {
    let Some(object) = doc.get(&base.0) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    // The node each found path leads to: `recurse` goes on from it without walking the path
    // again from the root (the object has no duplicate keys here, so the path leads to it).
    let mut nodes = Vec::new();
    // One prefix buffer for every expansion: `expand` pushes and pops it back as it goes, and
    // each clone of a deep path (CRD schemas) is a string allocation per segment.
    let mut prefix = base.0.clone();
    for at in &rule.at {
        // `@pod` stands for wherever this kind keeps its pod template.
        if let Some((Seg::Key(first), rest)) = at.0.split_first()
            && &**first == "@pod"
        {
            let Some(site) = kind_of(object).and_then(site_path) else {
                continue;
            };
            let pattern: Vec<Seg> = site.0.iter().chain(rest).cloned().collect();
            object.expand_nodes(&pattern, &mut prefix, &mut found, &mut nodes);
            continue;
        }
        object.expand_nodes(&at.0, &mut prefix, &mut found, &mut nodes);
    }
    let mut next = 0;
    while next < found.len() && !rule.recurse.is_empty() && found.len() < 100_000 {
        let at = next;
        next += 1;
        if found[at].0.len() > 4 * crate::yaml::events::MAX_DEPTH {
            continue;
        }
        // Borrow the path as the prefix instead of cloning it: `expand` only appends to
        // `found` and hands the prefix back as it got it.
        let mut here = std::mem::take(&mut found[at].0);
        let node: &MNode = nodes[at];
        for pattern in &rule.recurse {
            node.expand_nodes(&pattern.0, &mut here, &mut found, &mut nodes);
        }
        found[at].0 = here;
    }
    found
}

/// `"80"` → `80`, for a value that moved into a field that must be an integer.
fn unquote_int(doc: &mut MNode, path: &Path) -> Result<(), TreeError> {
    if let Some(node) = doc.get_mut(&path.0)?
        && let MKind::Scalar { value, style } = &mut node.kind
        && matches!(resolve_plain(value), Value::Int(_))
    {
        *style = Style::Plain;
    }
    Ok(())
}

fn holds(doc: &MNode, rule: &CompiledRule, r: &Resolver) -> bool {
    let starts = Starts::default();
    holds_with(rule, r.vars, &|p| r.get_in(doc, &starts, p), &|p| {
        r.reach(doc, &starts, p)
    })
}

/// Whether a rule's node conditions hold, with `get` finding the node at a rule path and
/// `reach` the nodes a pattern with `[*]` reaches.
fn holds_with<'d>(
    rule: &CompiledRule,
    vars: &Vars,
    get: &dyn Fn(&RelPath) -> Option<Cow<'d, MNode>>,
    reach: &dyn Fn(&RelPath) -> Vec<Cow<'d, MNode>>,
) -> bool {
    let any_eq =
        |n: &MNode, vs: &[toml::Value]| vs.iter().any(|v| value_eq(n, &subst_toml(v, vars)));
    let text_matches =
        |n: &MNode, re: &regex::Regex| scalar_text(n).is_some_and(|t| re.is_match(t));
    let test = |t: &NodeTest| match t {
        NodeTest::Has(p) => get(p).is_some(),
        NodeTest::Missing(p) => get(p).is_none(),
        NodeTest::HasAny(ps) => ps.iter().any(|p| get(p).is_some()),
        NodeTest::Equals(p, v) => get(p).is_some_and(|n| value_eq(&n, &subst_toml(v, vars))),
        NodeTest::NotEquals(p, v) => get(p).is_none_or(|n| !value_eq(&n, &subst_toml(v, vars))),
        NodeTest::OneOf(p, vs) => get(p).is_some_and(|n| any_eq(&n, vs)),
        NodeTest::NotOneOf(p, vs) => get(p).is_none_or(|n| !any_eq(&n, vs)),
        NodeTest::Matches(p, re) => get(p).is_some_and(|n| text_matches(&n, re)),
        NodeTest::NotMatches(p, re) => get(p).is_none_or(|n| !text_matches(&n, re)),
        NodeTest::Differs(a, b) => match (get(a), get(b)) {
            (Some(x), Some(y)) => x.to_value().ok() != y.to_value().ok(),
            _ => false,
        },
        NodeTest::StartsWith(p, prefix) => {
            matches!(get(p).and_then(|n| n.scalar_value()), Some(Value::Str(s)) if s.starts_with(subst(prefix, vars).as_ref()))
        }
        NodeTest::LessThan(p, n) => {
            matches!(get(p).and_then(|n| n.scalar_value()), Some(Value::Int(i)) if i.parse::<i64>().is_ok_and(|i| i < *n))
        }
        NodeTest::NoneOf(p, vs) => !reach(p).iter().any(|n| any_eq(n, vs)),
        NodeTest::AnyOf(p, vs) => reach(p).iter().any(|n| any_eq(n, vs)),
        NodeTest::Duplicates(p) => {
            let mut values: Vec<Value> = reach(p).iter().filter_map(|n| n.scalar_value()).collect();
            let n = values.len();
            values.sort();
            values.dedup();
            values.len() < n
        }
        NodeTest::Shape(p, shape) => {
            let node = get(p);
            let scalar = node.as_ref().and_then(|n| n.scalar_value());
            match shape {
                Shape::Int => matches!(scalar, Some(Value::Int(_))),
                Shape::String => matches!(scalar, Some(Value::Str(_))),
                Shape::Digits => {
                    matches!(&scalar, Some(Value::Str(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                }
                Shape::Empty => node.is_some_and(|n| is_empty(&n)),
                Shape::NotEmpty => node.is_some_and(|n| !is_empty(&n)),
            }
        }
    };
    rule.when.iter().all(|c| match c {
        Cond::Node(t) => test(t),
        Cond::Window(_) => true,
    })
}

/// An empty mapping or sequence, a null, or a mapping whose values are all empty: what a
/// label selector that selects nothing looks like.
fn is_empty(node: &MNode) -> bool {
    match &node.kind {
        MKind::Map { entries, .. } => entries.iter().all(|(_, v)| is_empty(v)),
        MKind::Seq { items, .. } => items.is_empty(),
        MKind::Scalar { .. } => node.scalar_value() == Some(Value::Null),
        MKind::Alias(_) => false,
    }
}

/// Compare a YAML node with a catalogue value by meaning: `0`, `"0"`… a quoted number is a
/// string in YAML, but Kubernetes' int fields reject strings anyway, so compare the text.
fn value_eq(node: &MNode, v: &toml::Value) -> bool {
    // A string equals only a scalar of the same text: most comparisons fail here, without
    // building the node's value.
    if let (toml::Value::String(b), MKind::Scalar { value, .. }) = (v, &node.kind)
        && value != b
    {
        return false;
    }
    if matches!(v, toml::Value::Array(_) | toml::Value::Table(_)) {
        return node
            .to_value()
            .is_ok_and(|n| from_toml(v).to_value().is_ok_and(|t| t == n));
    }
    let Some(actual) = node.scalar_value() else {
        return false;
    };
    match (actual, v) {
        (Value::Int(a), toml::Value::Integer(b)) => {
            a.replace('_', "").trim_start_matches('+').parse::<i64>() == Ok(*b)
        }
        (Value::Str(a), toml::Value::String(b)) => &a == b,
        (Value::Bool(a), toml::Value::Boolean(b)) => a == *b,
        (Value::Str(a), toml::Value::Integer(b)) => a.parse::<i64>() == Ok(*b),
        _ => false,
    }
}

/// Replace the mapping at `path` by the list of its entries as `{name: KEY, value: VALUE}`
/// mappings, in order. Anything but a mapping of scalars (an alias, a nested value) is left
/// alone: the rule that calls this reports that case.
fn to_pairs(doc: &mut MNode, path: &Path, name: &str, value: &str) -> Result<bool, TreeError> {
    let Some(MKind::Map { flow, entries }) = doc.get(&path.0).map(|n| &n.kind) else {
        return Ok(false);
    };
    let flow = *flow;
    let mut items = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let (Some(k), Some(v)) = (scalar_text(k), scalar_text(v)) else {
            return Ok(false);
        };
        items.push(MNode::new(MKind::Map {
            flow,
            entries: vec![
                (MNode::string(name), MNode::string(k)),
                (MNode::string(value), MNode::string(v)),
            ],
        }));
    }
    let seq = MNode::new(MKind::Seq { flow, items });
    doc.set(path, seq, &Position::End, false)
}

/// Decode a JSON annotation into YAML at `to`. Malformed JSON changes nothing (the rule
/// that calls this should report that case separately).
fn from_json(
    doc: &mut MNode,
    from: &Path,
    to: &Path,
    lower_camel: bool,
) -> Result<bool, TreeError> {
    let Some(text) = doc.get(&from.0).and_then(MNode::as_str) else {
        return Ok(false);
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(false);
    };
    if doc.get(&to.0).is_some() {
        return Ok(false);
    }
    doc.insert_at(to, json_to_yaml(&json, lower_camel), &Position::End)?;
    Ok(true)
}

fn json_to_yaml(v: &serde_json::Value, lower_camel: bool) -> MNode {
    match v {
        serde_json::Value::Null => MNode::plain("null"),
        serde_json::Value::Bool(b) => MNode::plain(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => MNode::plain(&n.to_string()),
        serde_json::Value::String(s) => MNode::string(s),
        serde_json::Value::Array(items) => MNode::new(MKind::Seq {
            flow: false,
            items: items.iter().map(|i| json_to_yaml(i, lower_camel)).collect(),
        }),
        serde_json::Value::Object(map) => MNode::new(MKind::Map {
            flow: false,
            entries: map
                .iter()
                .map(|(k, v)| {
                    let key = if lower_camel {
                        lower_first(k)
                    } else {
                        k.clone()
                    };
                    (MNode::string(&key), json_to_yaml(v, lower_camel))
                })
                .collect(),
        }),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_lowercase().chain(chars).collect())
}

/// A catalogue value as new YAML.
pub fn from_toml(v: &toml::Value) -> MNode {
    match v {
        toml::Value::String(s) => MNode::string(s),
        toml::Value::Integer(i) => MNode::plain(&i.to_string()),
        toml::Value::Float(f) => MNode::plain(&f.to_string()),
        toml::Value::Boolean(b) => MNode::plain(if *b { "true" } else { "false" }),
        toml::Value::Datetime(d) => MNode::string(&d.to_string()),
        toml::Value::Array(items) => MNode::new(MKind::Seq {
            flow: false,
            items: items.iter().map(from_toml).collect(),
        }),
        toml::Value::Table(t) => MNode::new(MKind::Map {
            flow: false,
            entries: t
                .iter()
                .map(|(k, v)| (MNode::string(k), from_toml(v)))
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use crate::yaml::parse_stream;

    /// Apply the rules of one field migration (its `[[field.rule]]` tables) to `yaml`.
    fn run(rules: &str, yaml: &str, ctx: Ctx) -> (MNode, Vec<String>) {
        let cat = crate::catalogue::registry::one_field(rules);
        let mut doc = MNode::from_node(&parse_stream(yaml).unwrap()[0].root);
        let mut hits = Vec::new();
        apply_in(
            &mut doc,
            &Path::default(),
            &cat.fields[0].rules,
            &mut hits,
            &ctx,
        )
        .unwrap();
        (doc, hits.into_iter().map(|h| h.spec.message).collect())
    }

    fn same(doc: &MNode, yaml: &str) {
        let want = MNode::from_node(&parse_stream(yaml).unwrap()[0].root);
        assert_eq!(doc.to_value().unwrap(), want.to_value().unwrap());
    }

    fn compile_error(rules: &str) -> String {
        let field = format!(
            "[[field]]\nid = \"t\"\napplies-to = [\"pods\"]\nmentions = [\"x\"]\nsummary = \"s\"\ndocs = \"d\"\n{rules}"
        );
        let err = Catalogue::from_files([
            ("catalogue.toml", "newest = \"1.36\"\n"),
            ("t.toml", field.as_str()),
        ])
        .unwrap_err();
        format!("{err:#}")
    }

    #[test]
    fn a_key_suffix_names_the_container_to_write_to() {
        let rules = r#"
[[field.rule]]
at = ["@pod.spec.containers[*]", "@pod.spec.initContainers[*]"]
let = { c = "name", p = { path = '@pod.metadata.annotations["x/${c}"]', match = '^localhost/(.+)$' } }
ops = [
  { set = "securityContext.profile", value = { type = "Localhost", path = "${p}" } },
  { delete = '@pod.metadata.annotations["x/${c}"]' },
]
finding = { level = "info", code = "T", message = "container ${c}: ${p.0}" }
"#;
        let yaml = "kind: Deployment\nspec:\n  template:\n    metadata:\n      annotations:\n        x/b: localhost/b.json\n        x/i: runtime/default\n    spec:\n      containers:\n      - name: a\n      - name: b\n      initContainers:\n      - name: i\n";
        let (doc, msgs) = run(rules, yaml, Ctx::default());
        same(
            &doc,
            "kind: Deployment\nspec:\n  template:\n    metadata:\n      annotations:\n        x/i: runtime/default\n    spec:\n      containers:\n      - name: a\n      - name: b\n        securityContext: {profile: {type: Localhost, path: b.json}}\n      initContainers:\n      - name: i\n",
        );
        assert_eq!(msgs, ["container b: localhost/b.json"]);
    }

    #[test]
    fn matched_keys_bind_and_split_parts_run_in_order() {
        let rules = r#"
[[field.rule]]
at = "params.*"
let = { k = { key = true, match = '(?i)^zones$' }, z = { split = "," } }
ops = [
  { append = "$.zones", value = "${z}" },
  { delete = "" },
]
"#;
        let (doc, _) = run(rules, "params:\n  a: 1\n  Zones: b,a,,c\n", Ctx::default());
        same(&doc, "params:\n  a: 1\nzones: [b, a, '', c]\n");
    }

    #[test]
    fn lower_default_and_first_existing_path() {
        let rules = r#"
[[field.rule]]
let = { k = { path = ["missing", "name"], lower = true }, d = { path = "nope", default = "0" } }
ops = [{ set = "out", value = "${k}-${d}" }]
"#;
        let (doc, _) = run(rules, "name: AbC\n", Ctx::default());
        same(&doc, "name: AbC\nout: abc-0\n");
        // A binding that finds nothing skips the node.
        let rules =
            "[[field.rule]]\nlet = { v = \"nope\" }\nops = [{ set = \"out\", value = 1 }]\n";
        let (doc, _) = run(rules, "a: 1\n", Ctx::default());
        same(&doc, "a: 1\n");
    }

    #[test]
    fn conditions_on_variables_parents_regexes_and_windows() {
        let rules = r#"
[[field.rule]]
at = "list[*].values[*]"
let = { k = { path = "^^.key" } }
when = { equals = { "^^.key" = "z" }, matches = { "" = '^[0-9]+$' }, not-matches = { "${k}" = '^y$' } }
ops = [{ set = "", value = "" }]

[[field.rule]]
when = { has-any = ["nope", "list"], any-of = { "list[*].key" = ["z"] }, min-version-at-least = "1.30" }
ops = [{ set = "new", value = true }]

[[field.rule]]
when = { min-version-below = "1.30" }
ops = [{ set = "old", value = true }]
"#;
        let yaml = "list:\n- key: z\n  values: ['1', a, 2]\n- key: y\n  values: ['3']\n";
        let ctx = Ctx {
            min: Release::parse("1.30").ok(),
            target: Release::parse("1.33").ok(),
            ..Ctx::default()
        };
        let (doc, _) = run(rules, yaml, ctx);
        same(
            &doc,
            "list:\n- key: z\n  values: ['', a, '']\n- key: y\n  values: ['3']\nnew: true\n",
        );
        // Without a known window, window conditions do not hold.
        let (doc, _) = run(rules, yaml, Ctx::default());
        assert!(doc.get(&[Seg::Key("new".into())]).is_none());
        assert!(doc.get(&[Seg::Key("old".into())]).is_none());
    }

    #[test]
    fn command_line_options_are_variables_without_a_let() {
        let rules = r#"
[[field.rule]]
let = { n = "name", id = "${assume.fcd.${n}}" }
when = { has = ["${flag.go}"] }
ops = [{ set = "handle", value = "${id}" }]

[[field.rule]]
when = { missing = ["${flag.go}"] }
ops = [{ set = "skipped", value = true }]
"#;
        let options = [
            ("assume.fcd.db".to_string(), "disk-1".to_string()),
            ("flag.go".to_string(), "true".to_string()),
        ];
        let ctx = Ctx {
            options: &options,
            ..Ctx::default()
        };
        let (doc, _) = run(rules, "name: db\n", ctx);
        same(&doc, "name: db\nhandle: disk-1\n");
        let (doc, _) = run(rules, "name: other\n", Ctx::default());
        same(&doc, "name: other\nskipped: true\n");
    }

    #[test]
    fn renaming_a_key_to_itself_changes_nothing() {
        let rules = "[[field.rule]]\nat = \"p.*\"\nlet = { k = { key = true, match = '(?i)^name$' } }\nops = [{ rename = \"\", to = \"name\" }]\nfinding = { level = \"info\", code = \"T\", message = \"m\" }\n";
        let (doc, msgs) = run(rules, "p: {name: 1, other: 2}\n", Ctx::default());
        same(&doc, "p: {name: 1, other: 2}\n");
        assert!(msgs.is_empty());
    }

    #[test]
    fn unbound_variables_and_bad_regexes_are_refused() {
        let err = compile_error("[[field.rule]]\nops = [{ set = \"a\", value = \"${nope}\" }]\n");
        assert!(err.contains("`${nope}` is not bound"), "{err}");
        let err = compile_error(
            "[[field.rule]]\nwhen = { matches = { a = '(' } }\nops = [{ delete = \"a\" }]\n",
        );
        assert!(err.contains("regular expression"), "{err}");
        let err = compile_error(
            "[[field.rule]]\nlet = { \"a.b\" = \"x\" }\nops = [{ delete = \"a\" }]\n",
        );
        assert!(err.contains("variable name"), "{err}");
    }

    /// The read-only first pass must do exactly what the interpreter does by path: the same
    /// tree, the same findings at the same places, the same errors. Every rule of the
    /// catalogue on every document of testdata, and the shapes the first pass hands back
    /// (a repeated key under `*`, a parent above the object, conditions on variables).
    #[test]
    fn the_read_only_pass_changes_nothing_the_interpreter_does() {
        let cat = Catalogue::embedded().unwrap();
        let options = [("flag.go".to_string(), "true".to_string())];
        let ctxs = [
            Ctx::default(),
            Ctx {
                min: Release::parse("1.16").ok(),
                target: Release::parse("1.33").ok(),
                options: &options,
            },
        ];
        let mut sets: Vec<&[CompiledRule]> = vec![&cat.global_rules];
        sets.extend(cat.hops.iter().map(|h| h.rules.as_slice()));
        sets.extend(cat.fields.iter().map(|f| f.rules.as_slice()));
        let mut texts = vec![
            "kind: CustomResourceDefinition\nspec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        properties:\n          a: {properties: {b: {}}}\n          a: {items: {}}\n          c: {type: string}\n".to_string(),
            "kind: CustomResourceDefinition\nspec:\n  preserveUnknownFields: true\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        properties:\n          a: {properties: {b: {}}}\n          d: {items: {additionalProperties: {}}}\n".to_string(),
        ];
        texts.extend(
            crate::testdata_files()
                .into_iter()
                .filter(|(path, bytes)| {
                    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                        && bytes.len() < 200_000
                })
                .filter_map(|(_, bytes)| String::from_utf8(bytes).ok()),
        );
        let (mut runs, mut read_only_runs) = (0, 0);
        for text in &texts {
            let Ok(docs) = parse_stream(text) else {
                continue;
            };
            for doc in docs {
                let tree = MNode::from_node(&doc.root);
                let mut bases = vec![Path::default()];
                if let Some(MKind::Seq { items, .. }) =
                    tree.get(&[Seg::Key("items".into())]).map(|n| &n.kind)
                {
                    bases.extend(
                        (0..items.len())
                            .map(|i| Path(vec![Seg::Key("items".into()), Seg::Index(i)])),
                    );
                }
                for base in &bases {
                    for rules in &sets {
                        for ctx in &ctxs {
                            let run = |fast| {
                                let mut t = tree.clone();
                                let mut hits = Vec::new();
                                let r = apply_rules(&mut t, base, rules, &mut hits, ctx, fast);
                                (t, format!("{r:?} {hits:?}"))
                            };
                            let by_path = run(Mode::ByPath);
                            let first = run(Mode::ReadFirst { distinct: false });
                            assert!(first == by_path, "{text}\n{:?}\n{:?}", first.1, by_path.1);
                            let mut read = Vec::new();
                            if read_only(&tree, base, rules, &mut read, ctx) {
                                let r: Result<bool, TreeError> = Ok(false);
                                assert_eq!(by_path.0, tree, "{text}");
                                assert_eq!(format!("{r:?} {read:?}"), by_path.1, "{text}");
                                read_only_runs += 1;
                            }
                            if crate::plan::duplicate_key(&doc.root).is_none() {
                                let distinct = run(Mode::ReadFirst { distinct: true });
                                assert!(distinct == by_path, "{text}");
                            }
                            runs += 1;
                        }
                    }
                }
            }
        }
        assert!(runs > 100_000, "{runs}");
        // Most rule sets change nothing in most documents; some do.
        assert!(
            read_only_runs > runs / 2 && read_only_runs < runs,
            "{read_only_runs} of {runs}"
        );
    }

    /// The step pass runs ops that write below the node matched without paths for the
    /// matches after it, as long as their steps stay: rules made to go either way (nested
    /// matches, keys added at the end or elsewhere, values replaced above later matches,
    /// ops that change nothing) must do what the interpreter does by path.
    #[test]
    fn the_step_pass_does_what_the_interpreter_does() {
        let rules = [
            // Nested, a key added at the end: the steps below stay.
            "at = \"s\"\nrecurse = [\"properties.*\", \"items\"]\nwhen = { missing = [\"type\"] }\nops = [{ set = \"type\", value = \"object\" }]",
            // Nested, a key added first: the steps below shift.
            "at = \"s\"\nrecurse = [\"properties.*\", \"items\"]\nwhen = { missing = [\"type\"] }\nops = [{ set = \"type\", value = \"object\", first = true }]",
            // Nested, a key added after another.
            "at = \"s\"\nrecurse = [\"properties.*\", \"items\"]\nops = [{ set = \"seen\", value = true, after = \"properties\" }]",
            // Nested, the value above later matches replaced.
            "at = \"s\"\nrecurse = [\"properties.*\"]\nwhen = { has = [\"properties.b\"] }\nops = [{ set = \"properties\", value = { z = 1 } }]",
            // Nested renames and moves of keys later matches go through.
            "at = \"s\"\nrecurse = [\"properties.*\", \"items\"]\nops = [{ rename = \"properties\", to = \"props\" }]",
            "at = \"s\"\nrecurse = [\"properties.*\", \"items\"]\nops = [{ move = \"items\", to = \"moved.items\" }]",
            "at = \"s\"\nrecurse = [\"properties.*\"]\nops = [{ set = \"properties.new.type\", value = \"x\" }]",
            // Side by side: an entry after a key, a move, a copy, a value replaced.
            "at = \"list[*]\"\nops = [{ set = \"k\", value = \"${flag.go}\", after = \"name\" }]",
            "at = \"list[*]\"\nwhen = { has = [\"x\"] }\nops = [{ move = \"x\", to = \"y.x\", unquote = true }, { set = \"y.t\", value = 1, first = true }]",
            "at = [\"list[*]\", \"a\"]\nops = [{ copy = \"$.a\", to = \"c\" }]",
            "at = [\"list[*]\", \"list[*]\"]\nops = [{ set = \"name\", value = \"same\" }]",
            "at = [\"a\", \"a\"]\nops = [{ set = \"k\", value = \"w\" }, { set = \"n\", value = [1] }]",
            // Ops that change nothing here: no finding, no mark.
            "at = \"list[*]\"\nops = [{ delete = \"nope\" }, { copy = \"nope\", to = \"b\" }, { set = \"name\", value = \"z\", if-absent = true }, { to-pairs = \"name\", name = \"n\", value = \"v\" }, { from-json = \"nope\", to = \"j\" }]",
            "at = \"a\"\nops = [{ delete = \"x\" }, { copy = \"nope\", to = \"b\" }]",
            "at = \"list[*]\"\nops = [{ delete = \"\" }]",
            // A delete that empties the node matched removes it: the items after it shift.
            "at = \"list[*]\"\nops = [{ delete = \"name\" }]",
            "at = \"s.properties.*\"\nops = [{ delete = \"properties\" }]",
            // Parents, the object and variables read after changes.
            "at = \"s.properties.*\"\nwhen = { missing = [\"^.^.seen\"] }\nops = [{ set = \"^.^.seen\", value = 1 }]",
            "at = \"list[*]\"\nlet = { n = \"name\" }\nwhen = { missing = [\"$.flag\"] }\nops = [{ set = \"tag\", value = \"${n}\" }, { set = \"$.flag\", value = \"${n}\", if-absent = true }]",
        ];
        let finding = "finding = { level = \"info\", code = \"T\", message = \"m\" }";
        let docs = [
            "s:\n  properties:\n    a: {properties: {b: {}, c: {type: string}}}\n    d: {items: {properties: {e: {}}}}\n    x: 1\n  items: {type: string}\nlist:\n- name: n1\n  x: '1'\n- name: n2\na: {x: 1, k: v}\n",
            "s:\n  type: object\n  properties:\n    b: {properties: {b: {properties: {b: {}}}}}\nlist: [{x: 1}, {name: n}]\na: []\n",
            "s:\n  properties:\n    a: {properties: {b: {}}}\n    b: {type: string, properties: {c: {}}}\nlist:\n- name: a\n- {name: b, x: 1}\n- name: c\n",
        ];
        let options = [("flag.go".to_string(), "true".to_string())];
        let ctx = Ctx {
            options: &options,
            ..Ctx::default()
        };
        for rule in rules {
            for with_finding in [false, true] {
                let text = if with_finding {
                    format!("[[field.rule]]\n{rule}\n{finding}\n")
                } else {
                    format!("[[field.rule]]\n{rule}\n")
                };
                let cat = crate::catalogue::registry::one_field(&text);
                // The rule once, and twice: the second reuses the first's matches when it
                // changed nothing.
                let once = cat.fields[0].rules.clone();
                let twice = [once.clone(), once.clone()].concat();
                for (rules, yaml) in [&once, &twice]
                    .into_iter()
                    .flat_map(|r| docs.iter().map(move |d| (r, *d)))
                {
                    let tree = MNode::from_node(&parse_stream(yaml).unwrap()[0].root);
                    let run = |mode| {
                        let mut t = tree.clone();
                        let mut hits = Vec::new();
                        let r = apply_rules(&mut t, &Path::default(), rules, &mut hits, &ctx, mode);
                        (t, format!("{r:?} {hits:?}"))
                    };
                    let by_path = run(Mode::ByPath);
                    for distinct in [false, true] {
                        let steps = run(Mode::ReadFirst { distinct });
                        assert!(
                            steps == by_path,
                            "{rule}\n{yaml}\n{:?}\n{:?}",
                            steps.1,
                            by_path.1
                        );
                    }
                    let mut read = Vec::new();
                    if read_only(&tree, &Path::default(), rules, &mut read, &ctx) {
                        assert_eq!(by_path.0, tree, "{rule}\n{yaml}");
                        assert_eq!(format!("Ok(false) {read:?}"), by_path.1, "{rule}\n{yaml}");
                    }
                }
            }
        }
    }

    /// An op's value made once is what the interpreter made of it for each match: every
    /// value of the catalogue, with variables bound (a value with `${…}` is made each time).
    #[test]
    fn op_values_made_once_are_made_alike() {
        let cat = Catalogue::embedded().unwrap();
        let vars: Vars = vec![("x".into(), "y".into()), ("flag.go".into(), "true".into())];
        let mut rules: Vec<&CompiledRule> = cat.global_rules.iter().collect();
        rules.extend(cat.hops.iter().flat_map(|h| &h.rules));
        rules.extend(cat.fields.iter().flat_map(|f| &f.rules));
        let (mut fixed, mut with_vars) = (0, 0);
        for op in rules.iter().flat_map(|r| &r.ops) {
            let (CompiledOp::Set { value, .. } | CompiledOp::Append(_, value)) = op else {
                continue;
            };
            let each = from_toml(&subst_toml(&value.toml, &vars));
            match fixed_value(value) {
                Some(node) => {
                    assert_eq!(*node, each);
                    assert!(!format!("{:?}", value.toml).contains("${"));
                    fixed += 1;
                }
                None => {
                    assert!(format!("{:?}", value.toml).contains("${"));
                    with_vars += 1;
                }
            }
            assert_eq!(op_value(value, &vars), each);
        }
        assert!(fixed > 50 && with_vars > 0, "{fixed} {with_vars}");
    }

    #[test]
    fn toml_values_become_yaml_with_safe_quoting() {
        assert_eq!(
            from_toml(&toml::Value::Integer(30)).scalar_value(),
            Some(Value::Int("30".into()))
        );
        assert_eq!(
            from_toml(&toml::Value::String("true".into())).scalar_value(),
            Some(Value::Str("true".into()))
        );
    }
}
