//! The Kustomize input kind: keep overlays applying when the resources they patch are
//! migrated.
//!
//! - In a kustomization (a file named `kustomization.yaml`, `kustomization.yml` or
//!   `Kustomization`, or a document of kind `Kustomization`/`Component` in
//!   `kustomize.config.k8s.io`), the patch targets `patches[].target` and
//!   `patchesJson6902[].target` (`group`, `version`, `kind`) follow the version kubemig
//!   picks for objects of that kind (`catalogue::decide`, the same window), and inline
//!   patches (`patches[].patch`, `patchesStrategicMerge[]` entries that are YAML text) get
//!   their apiVersion rewritten inside the literal block.
//! - A file that a kustomization lists under `patchesStrategicMerge`, `patches[].path` or
//!   `patchesJson6902[].path` is a patch: a partial object merged onto a resource. Only its
//!   apiVersion is rewritten. Pinned defaults and derived selectors belong on the resource
//!   and are never added to a patch; a finding raised only because the patch leaves a field
//!   out (no template labels, no signerName) does not apply to it. A patch that sets a field
//!   the migration renames, moves, deletes or changes is reported (`KUSTOMIZE-PATCH`) and
//!   left alone: merged onto the migrated resource it would put the old field back.
//!
//! Which files are patches is decided in [`crate::kustomize`].

use super::InputKind;
use crate::catalogue::codes;
use crate::catalogue::{Catalogue, Decision, Level, Window, decide};
use crate::edit::{self, Edit};
use crate::kustomize::{Role, items};
use crate::plan::mtree::{MKind, MNode, plain_safe};
use crate::plan::{DocPlan, DuplicateKey, Finding, ObjectReport, Status, rules};
use crate::source::{line_end, line_start, next_line_start};
use crate::yaml::path::{Path, Seg};
use crate::yaml::{Document, Node, NodeKind, Style, parse_stream};

/// Whether a document is a kustomization by its own content.
fn is_kustomization_doc(root: &Node) -> bool {
    root.get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|a| a.starts_with("kustomize.config.k8s.io/"))
        && root
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| matches!(k, "Kustomization" | "Component"))
}

/// A kustomization or a patch, by the role a kustomization gave the file.
#[derive(Debug, Clone, Copy)]
pub struct Kustomize {
    pub role: Role,
}

impl InputKind for Kustomize {
    /// [`crate::plan::plan_document`], plus what a kustomization or a patch needs.
    fn plan(
        &self,
        src: &str,
        doc: &Document,
        cat: &Catalogue,
        window: Window,
    ) -> Result<DocPlan, DuplicateKey> {
        let mut plan = crate::plan::plan_document(src, doc, cat, window)?;
        match self.role {
            Role::Patch => partial(src, doc, cat, window, &mut plan),
            Role::Kustomization => kustomization(src, doc, cat, window, &mut plan),
            Role::Plain => plan_if_kustomization(src, doc, cat, window, &mut plan),
        }
        Ok(plan)
    }
}

/// A document that is a kustomization by its own content is planned as one in any file.
pub(crate) fn plan_if_kustomization(
    src: &str,
    doc: &Document,
    cat: &Catalogue,
    window: Window,
    plan: &mut DocPlan,
) {
    if is_kustomization_doc(&doc.root) {
        kustomization(src, doc, cat, window, plan)
    }
}

/// A partial object (a patch): rewrite its apiVersion only, or say why not.
fn partial(src: &str, doc: &Document, cat: &Catalogue, window: Window, plan: &mut DocPlan) {
    let root = &doc.root;
    // Nothing of the full-object rewrite applies to a patch.
    plan.edits.clear();
    plan.expected = None;
    for r in plan
        .objects
        .iter_mut()
        .filter(|r| r.field.is_some() && r.status == Status::Migrated)
    {
        r.status = Status::Blocked;
        r.findings.push(Finding::new(
            codes::KUSTOMIZE_PATCH,
            "this is a patch listed by a kustomization: kubemig does not run field migrations on partial objects, make this change by hand",
            r.offset,
        ));
    }
    let (Some(api_node), Some(kind)) = (
        root.get("apiVersion"),
        root.get("kind").and_then(Node::as_str),
    ) else {
        return;
    };
    let Some(api) = api_node.as_str() else {
        return;
    };
    let Decision::Migrate {
        hops,
        to,
        window_warning,
    } = decide(cat, api, kind, window)
    else {
        return;
    };
    let Some(r) = plan
        .objects
        .iter_mut()
        .find(|r| r.field.is_none() && r.offset == api_node.span.start)
    else {
        return; // suppressed
    };
    r.findings.clear();
    if let Some(w) = window_warning {
        r.findings.push(Finding::new(codes::G_WINDOW, w, r.offset));
    }
    let mut trial = MNode::from_node(root);
    let mut hits = Vec::new();
    let result = hops.iter().try_for_each(|hop| {
        rules::apply(&mut trial, &Path::default(), &hop.rules, &mut hits).map(|_| ())
    });
    let about_absent = |code: &str| {
        hops.iter().flat_map(|h| &h.rules).any(|rule| {
            rule.when
                .iter()
                .any(crate::catalogue::conditions::Cond::is_missing)
                && rule
                    .finding
                    .as_ref()
                    .is_some_and(|f| f.code == code && f.level.blocks())
        })
    };
    let blocking = hits
        .iter()
        .find(|h| h.spec.level.blocks() && !about_absent(&h.spec.code));
    let touched = changed_content(root, &trial, true);
    let from_to = format!("{api} -> {to}");
    let problem = match (result, touched, blocking) {
        (Err(e), _, _) => Some((
            codes::KUBEMIG_SHAPE,
            format!("{e}; this patch cannot be checked, change its apiVersion by hand"),
            r.offset,
        )),
        (Ok(()), Some(at), _) => Some((
            codes::KUSTOMIZE_PATCH,
            format!(
                "this patch sets `{}`, which {from_to} changes; merged onto the migrated resource it would bring the old field back: rewrite the patch in {to}'s form by hand",
                src[line_start(src, at)..line_end(src, at)].trim()
            ),
            at,
        )),
        (Ok(()), None, Some(hit)) => Some((
            codes::KUSTOMIZE_PATCH,
            format!(
                "{} [{}]; this patch sets what the migration cannot decide: fix it by hand",
                hit.spec.message, hit.spec.code
            ),
            r.offset,
        )),
        (Ok(()), None, None) => None,
    };
    if let Some((code, message, offset)) = problem {
        r.status = Status::Blocked;
        r.findings
            .push(Finding::at_level(code, Level::Manual, message, offset));
        return;
    }
    r.status = Status::Migrated;
    r.findings.push(Finding::at_level(
        codes::KUSTOMIZE_PATCH,
        Level::Info,
        format!(
            "a patch listed by a kustomization (a partial object): only its apiVersion is rewritten; defaults and selectors belong on the {kind} it patches"
        ),
        r.offset,
    ));
    let Some(e) = replace_scalar(api_node, &to) else {
        r.status = Status::Blocked;
        return;
    };
    let mut work = MNode::from_node(root);
    set_scalar(&mut work, &[Seg::Key("apiVersion".into())], &to);
    plan.edits.push(e);
    plan.expected = Some(work);
}

/// The first place where `trial` no longer holds what `orig` says (a key gone, renamed or
/// moved, a value changed); new keys are additions and do not count. The object's own
/// `apiVersion` is skipped.
fn changed_content(orig: &Node, trial: &MNode, object: bool) -> Option<usize> {
    match (&orig.kind, &trial.kind) {
        (NodeKind::Scalar { value, .. }, MKind::Scalar { value: v2, .. }) => {
            (value != v2).then_some(orig.span.start)
        }
        (NodeKind::Map { entries, .. }, MKind::Map { entries: e2, .. }) => {
            entries.iter().find_map(|(k, v)| {
                let key = k.as_str()?;
                if object && key == "apiVersion" {
                    return None;
                }
                match e2.iter().find(|(k2, _)| k2.as_str() == Some(key)) {
                    None => Some(k.span.start),
                    Some((_, v2)) => changed_content(v, v2, false),
                }
            })
        }
        (NodeKind::Seq { items, .. }, MKind::Seq { items: i2, .. }) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| match i2.get(i) {
                None => Some(item.span.start),
                Some(t) => changed_content(item, t, false),
            }),
        (NodeKind::Alias(_), MKind::Alias(_)) => None,
        _ => Some(orig.span.start),
    }
}

/// Replace a scalar's token with `new`, keeping its quoting.
fn replace_scalar(node: &Node, new: &str) -> Option<Edit> {
    let NodeKind::Scalar { style, .. } = &node.kind else {
        return None;
    };
    let text = match style {
        Style::Plain if plain_safe(new) => new.to_string(),
        Style::Plain | Style::Double => format!("\"{new}\""),
        Style::Single => format!("'{new}'"),
        Style::Literal | Style::Folded => return None,
    };
    Some(Edit::replace(node.span.clone(), text))
}

fn set_scalar(work: &mut MNode, path: &[Seg], new: &str) {
    if let Ok(Some(node)) = work.get_mut(path)
        && let MKind::Scalar { value, .. } = &mut node.kind
    {
        *value = new.to_string();
    }
}

/// The patch targets and inline patches of a kustomization.
fn kustomization(src: &str, doc: &Document, cat: &Catalogue, window: Window, plan: &mut DocPlan) {
    let root = &doc.root;
    let mut work = plan
        .expected
        .clone()
        .unwrap_or_else(|| MNode::from_node(root));
    let before = plan.edits.len();
    let reported = plan.objects.len();
    let ctx = Ctx {
        src,
        doc,
        cat,
        window,
    };
    for key in ["patches", "patchesJson6902"] {
        for (i, item) in items(root.get(key)).iter().enumerate() {
            let at = |k: &str| vec![Seg::Key(key.into()), Seg::Index(i), Seg::Key(k.into())];
            if let Some(t) = item.get("target").filter(|t| !t.entries().is_empty()) {
                ctx.target(
                    t,
                    &at("target"),
                    &format!("{key}[{i}].target"),
                    plan,
                    &mut work,
                );
            }
            if key == "patches"
                && let Some(p) = item.get("patch")
            {
                ctx.inline(p, &at("patch"), plan, &mut work);
            }
        }
    }
    for (i, item) in items(root.get("patchesStrategicMerge")).iter().enumerate() {
        let at = vec![Seg::Key("patchesStrategicMerge".into()), Seg::Index(i)];
        ctx.inline(item, &at, plan, &mut work);
    }
    plan.objects[reported..].sort_by_key(|r| r.offset);
    if plan.edits.len() > before {
        plan.expected = Some(work);
    }
}

struct Ctx<'a> {
    src: &'a str,
    doc: &'a Document,
    cat: &'a Catalogue,
    window: Window,
}

fn text(n: Option<&Node>) -> Option<&str> {
    n.and_then(Node::as_str)
}

fn join(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn split(api: &str) -> (&str, &str) {
    api.rsplit_once('/').unwrap_or(("", api))
}

impl Ctx<'_> {
    fn report(&self, kind: &str, offset: usize, t: &Node) -> ObjectReport {
        let get = |k: &str| t.get(k).and_then(Node::as_str).map(str::to_string);
        ObjectReport {
            doc_index: self.doc.index,
            offset,
            kind: kind.to_string(),
            name: get("name"),
            namespace: get("namespace"),
            from: String::new(),
            to: None,
            migration: None,
            field: None,
            status: Status::Migrated,
            findings: Vec::new(),
        }
    }

    /// A patch target `{group, version, kind}`: follow the objects it selects.
    fn target(&self, t: &Node, path: &[Seg], label: &str, plan: &mut DocPlan, work: &mut MNode) {
        let get = |k: &str| t.get(k).filter(|n| n.as_str().is_some());
        let (group, version, kind) = (get("group"), get("version"), get("kind"));
        let Some(kind_node) = kind else {
            // Every kind of a group/version: cannot follow one kind's migration.
            if let (Some(g), Some(v)) = (text(group), text(version)) {
                let api = join(g, v);
                if let Some(k) = self
                    .cat
                    .versions
                    .iter()
                    .filter(|x| x.api == api)
                    .find_map(|x| {
                        x.kinds.iter().find(|k| {
                            !matches!(decide(self.cat, &api, k, self.window), Decision::Current)
                        })
                    })
                {
                    let at = version.map_or(t.span.start, |n| n.span.start);
                    let mut r = self.report("<any kind>", at, t);
                    r.from = api.clone();
                    r.status = Status::Blocked;
                    r.findings.push(Finding::new(
                        codes::KUSTOMIZE_TARGET,
                        format!(
                            "{label} selects every kind of {api}, and {api} {k} is not served at {}: add the kind to the target, then rerun",
                            self.window.target
                        ),
                        at,
                    ));
                    plan.objects.push(r);
                }
            }
            return;
        };
        let kind = text(Some(kind_node)).unwrap_or_default();
        let candidates: Vec<String> = match (text(group), text(version)) {
            (Some(g), Some(v)) => vec![join(g, v)],
            (g, v) => {
                let mut c: Vec<String> = self
                    .cat
                    .versions
                    .iter()
                    .filter(|x| x.kinds.iter().any(|k| k == kind))
                    .filter(|x| {
                        let (xg, xv) = split(&x.api);
                        g.is_none_or(|g| g == xg) && v.is_none_or(|v| v == xv)
                    })
                    .map(|x| x.api.clone())
                    .collect();
                c.sort();
                c.dedup();
                if g.is_none() && v.is_none() {
                    c.clear();
                }
                c
            }
        };
        let decisions: Vec<(String, Decision)> = candidates
            .into_iter()
            .map(|api| {
                let d = decide(self.cat, &api, kind, self.window);
                (api, d)
            })
            .collect();
        let Some((
            from,
            Decision::Migrate {
                hops,
                to,
                window_warning,
            },
        )) = decisions
            .iter()
            .find(|(_, d)| matches!(d, Decision::Migrate { .. }))
        else {
            return;
        };
        let (new_group, new_version) = split(to);
        let at = version
            .or(group)
            .map_or(kind_node.span.start, |n| n.span.start);
        let mut r = self.report(kind, at, t);
        r.from = from.clone();
        r.to = Some(to.clone());
        r.migration = hops.first().map(|h| h.meta.id.clone());
        // A target that spells only one of group and version selects several versions:
        // rewrite it only when they all move the same way.
        let agree = decisions.iter().all(|(_, d)| match d {
            Decision::Migrate { to: t2, .. } => {
                let (g2, v2) = split(t2);
                (group.is_none() || g2 == new_group) && (version.is_none() || v2 == new_version)
            }
            _ => false,
        });
        if !agree {
            r.status = Status::Blocked;
            r.findings.push(Finding::new(
                codes::KUSTOMIZE_TARGET,
                format!(
                    "{label} selects {kind} in {} versions that do not all move to {to}: spell out group and version, then rerun",
                    decisions.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ")
                ),
                at,
            ));
            plan.objects.push(r);
            return;
        }
        let mut edits = Vec::new();
        for (node, key, new) in [
            (group, "group", new_group),
            (version, "version", new_version),
        ] {
            let Some(node) = node else { continue };
            if node.as_str() == Some(new) {
                continue;
            }
            let Some(e) = replace_scalar(node, new) else {
                return;
            };
            let mut p = path.to_vec();
            p.push(Seg::Key(key.into()));
            edits.push((e, p, new));
        }
        if edits.is_empty() {
            return;
        }
        for (_, p, new) in &edits {
            set_scalar(work, p, new);
        }
        if let Some(w) = window_warning {
            r.findings
                .push(Finding::new(codes::G_WINDOW, w.clone(), at));
        }
        r.findings.push(Finding::at_level(
            codes::KUSTOMIZE_TARGET,
            Level::Info,
            format!(
                "{label} follows the {kind} it patches to {to}: run kubemig on that resource too, or the patch finds no target"
            ),
            at,
        ));
        plan.edits.extend(edits.into_iter().map(|(e, _, _)| e));
        plan.objects.push(r);
    }

    /// An inline patch (YAML text in a string): rewrite the apiVersion of the partial
    /// objects in it, inside a literal block scalar.
    fn inline(&self, node: &Node, path: &[Seg], plan: &mut DocPlan, work: &mut MNode) {
        let NodeKind::Scalar { value, style } = &node.kind else {
            return;
        };
        if !value.contains('\n') {
            return;
        }
        let Ok(docs) = parse_stream(value) else {
            return;
        };
        let mut edits = Vec::new();
        let mut reports = Vec::new();
        for d in &docs {
            let Ok(mut p) = crate::plan::plan_document(value, d, self.cat, self.window) else {
                continue;
            };
            partial(value, d, self.cat, self.window, &mut p);
            edits.extend(p.edits);
            reports.extend(p.objects);
        }
        let map = match style {
            Style::Literal => block_lines(self.src, node, value),
            _ => None,
        };
        let mapped: Option<Vec<Edit>> = map.as_ref().and_then(|m| {
            edits
                .iter()
                .map(|e| {
                    let start = m.to_src(e.range.start)?;
                    let end = start + e.range.len();
                    (self.src.get(start..end) == value.get(e.range.clone()))
                        .then(|| Edit::replace(start..end, e.text.clone()))
                })
                .collect()
        });
        for mut r in reports {
            let local = r.offset;
            r.doc_index = self.doc.index;
            let place = |o: usize| {
                map.as_ref()
                    .and_then(|m| m.to_src(o))
                    .unwrap_or(node.span.start)
            };
            r.offset = place(local);
            for f in &mut r.findings {
                f.offset = place(f.offset);
            }
            if r.status == Status::Migrated && mapped.is_none() {
                r.status = Status::Blocked;
                r.findings.push(Finding::new(
                    codes::KUSTOMIZE_PATCH,
                    format!(
                        "this inline patch is not a literal block (`|`) kubemig can edit in place: change its apiVersion to {} by hand",
                        r.to.as_deref().unwrap_or("the new version")
                    ),
                    r.offset,
                ));
            }
            plan.objects.push(r);
        }
        let Some(mapped) = mapped.filter(|m| !m.is_empty()) else {
            return;
        };
        let Ok(new_value) = edit::apply(value, &edits) else {
            return;
        };
        if let Ok(Some(n)) = work.get_mut(path) {
            n.kind = MKind::Scalar {
                value: new_value,
                style: Style::Literal,
            };
        }
        plan.edits.extend(mapped);
    }
}

/// Where each line of a literal block scalar's value starts in the source.
struct BlockLines {
    /// Per line of the value: (offset of the line in the value, offset in the source).
    lines: Vec<(usize, usize)>,
}

impl BlockLines {
    fn to_src(&self, offset: usize) -> Option<usize> {
        let i = self
            .lines
            .partition_point(|(v, _)| *v <= offset)
            .checked_sub(1)?;
        let (v, s) = self.lines[i];
        Some(s + (offset - v))
    }
}

fn block_lines(src: &str, node: &Node, value: &str) -> Option<BlockLines> {
    let header = &src[node.span.start..line_end(src, node.span.start)];
    // An explicit indentation indicator (`|2`) is rare; do not guess with it.
    if header.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let first = next_line_start(src, node.span.start);
    let mut p = first;
    let indent = loop {
        if p >= src.len() {
            return None;
        }
        let line = &src[p..line_end(src, p)];
        if !line.trim().is_empty() {
            break line.len() - line.trim_start_matches(' ').len();
        }
        p = next_line_start(src, p);
    };
    let mut lines = Vec::new();
    let mut pos = first;
    let mut v = 0;
    for l in value.split('\n') {
        lines.push((v, pos + indent));
        v += l.len() + 1;
        pos = next_line_start(src, pos);
    }
    Some(BlockLines { lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lines_map_value_offsets_to_source() {
        let src = "patch: |-\n  apiVersion: extensions/v1beta1\n  kind: Ingress\n";
        let docs = parse_stream(src).unwrap();
        let node = docs[0].root.get("patch").unwrap();
        let value = node.as_str().unwrap();
        let m = block_lines(src, node, value).unwrap();
        let o = value.find("extensions").unwrap();
        let s = m.to_src(o).unwrap();
        assert_eq!(&src[s..s + 10], "extensions");
        let o = value.find("Ingress").unwrap();
        let s = m.to_src(o).unwrap();
        assert_eq!(&src[s..s + 7], "Ingress");
    }
}
