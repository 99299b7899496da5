//! Kustomize: keep overlays applying when the resources they patch are migrated.
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
//! Which files are patches is decided before processing, from the walked files: every
//! kustomization among them, or in a directory above one of them (kustomize loads files
//! only from below a kustomization's directory by default), is read and the files it lists
//! are marked ([`Roles`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path as FsPath, PathBuf};

use crate::catalogue::codes;
use crate::catalogue::{Catalogue, Decision, Level, Window, decide};
use crate::edit::{self, Edit};
use crate::plan::mtree::{MKind, MNode, plain_safe};
use crate::plan::{DocPlan, DuplicateKey, Finding, ObjectReport, Status, rules};
use crate::source::{line_end, line_start, next_line_start};
use crate::walk::Input;
use crate::yaml::path::{Path, Seg};
use crate::yaml::{Document, Node, NodeKind, Style, parse_stream};

/// What a file is to kustomize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Manifests (or anything not known to kustomize).
    #[default]
    Plain,
    /// A kustomization file.
    Kustomization,
    /// A patch listed by a kustomization: a partial object.
    Patch,
}

/// The file names kustomize reads a kustomization from.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub fn is_kustomization_name(path: &FsPath) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_NAMES.contains(&n))
}

/// The role of every walked file.
#[derive(Debug, Default)]
pub struct Roles {
    by_input: HashMap<PathBuf, Role>,
}

impl Roles {
    /// Find the kustomizations among `inputs` and in the directories above them, and mark
    /// the patch files they list.
    /// `not_links[i]` says that `inputs[i]` is known not to be a symlink.
    pub fn build(inputs: &[Input], not_links: &[bool]) -> Roles {
        // Canonical directories, each worked out once: a full `canonicalize` per file (a
        // readlink per path component) cost more than reading the files. Nothing is kept
        // per input but its role, when it has one (memory stays small at 100k files), and
        // the system calls run on every core.
        use rayon::prelude::*;
        let parent = |p: &FsPath| -> PathBuf {
            match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        let mut parents: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::File(p) => Some(parent(p)),
                Input::Stdin => None,
            })
            .collect();
        parents.sort_unstable();
        parents.dedup();
        let dirs = canonical_dirs(parents);
        // Where each input really is: its directory's canonical path and its name, or for
        // a symlink (named on the command line, or walked with --follow-symlinks) its target.
        let absolute = |i: usize, p: &FsPath| -> Option<PathBuf> {
            let not_link = not_links.get(i).copied().unwrap_or(false)
                || std::fs::symlink_metadata(p).is_ok_and(|m| !m.file_type().is_symlink());
            match p.file_name() {
                Some(name) if not_link => dirs.get(&parent(p))?.as_ref().map(|d| d.join(name)),
                _ => p.canonicalize().ok(),
            }
        };
        // Inputs not known to be plain files (few) may sit elsewhere than their directory.
        let unsure: Vec<PathBuf> = inputs
            .par_iter()
            .enumerate()
            .filter(|(i, _)| !not_links.get(*i).copied().unwrap_or(false))
            .filter_map(|(i, input)| match input {
                Input::File(p) => absolute(i, p),
                Input::Stdin => None,
            })
            .collect();
        // Every directory above an input, once, then the kustomizations in them.
        let mut seen: HashSet<&FsPath> = HashSet::new();
        let starts = dirs
            .values()
            .flatten()
            .map(PathBuf::as_path)
            .chain(unsure.iter().filter_map(|p| p.parent()));
        for start in starts {
            let mut dir = Some(start);
            while let Some(d) = dir {
                if !seen.insert(d) {
                    break;
                }
                dir = d.parent();
            }
        }
        let mut above: Vec<&FsPath> = seen.into_iter().collect();
        above.sort_unstable();
        let kustomizations: Vec<PathBuf> = above
            .par_iter()
            .flat_map_iter(|d| KUSTOMIZATION_NAMES.iter().map(move |n| d.join(n)))
            .filter(|f| f.is_file())
            .collect();
        let mut roles: HashMap<PathBuf, Role> = HashMap::new();
        for k in &kustomizations {
            roles.insert(k.clone(), Role::Kustomization);
        }
        // Reading and parsing the kustomizations runs on every core. A kustomization is
        // never demoted to a patch, whatever the order.
        let listed: Vec<Vec<PathBuf>> = kustomizations
            .par_iter()
            .map(|k| {
                listed_patches(k)
                    .into_iter()
                    .filter_map(|p| p.canonicalize().ok())
                    .collect()
            })
            .collect();
        for c in listed.into_iter().flatten() {
            roles.entry(c).or_insert(Role::Patch);
        }
        let by_input = inputs
            .par_iter()
            .enumerate()
            .filter_map(|(i, input)| {
                let Input::File(p) = input else { return None };
                let abs = absolute(i, p)?;
                let role = roles
                    .get(&abs)
                    .copied()
                    .or_else(|| is_kustomization_name(&abs).then_some(Role::Kustomization))?;
                Some((p.clone(), role))
            })
            .collect();
        Roles { by_input }
    }

    pub fn of(&self, input: &Input) -> Role {
        match input {
            Input::File(p) => self.by_input.get(p).copied().unwrap_or_default(),
            Input::Stdin => Role::Plain,
        }
    }
}

/// The canonical path of each of `dirs` (sorted). A directory that is not a symlink is its
/// parent's canonical path and its name, so one `lstat` replaces `realpath`'s readlink per
/// path component (100k files in 15k directories: 76k readlinks and 10k getcwds before).
fn canonical_dirs(dirs: Vec<PathBuf>) -> HashMap<PathBuf, Option<PathBuf>> {
    use rayon::prelude::*;
    use std::path::Component;
    // Every directory on the way up, each `lstat`ed once, on every core; then the paths
    // are put together without another system call.
    let mut all: HashSet<&FsPath> = HashSet::new();
    for d in &dirs {
        let mut dir = Some(d.as_path());
        while let Some(x) = dir.filter(|x| !x.as_os_str().is_empty()) {
            if !all.insert(x) {
                break;
            }
            dir = x.parent();
        }
    }
    let real: HashSet<&FsPath> = all
        .into_par_iter()
        .filter(|d| std::fs::symlink_metadata(d).is_ok_and(|m| m.file_type().is_dir()))
        .collect();
    fn canon<'a>(
        d: &'a FsPath,
        real: &HashSet<&FsPath>,
        known: &mut HashMap<&'a FsPath, Option<PathBuf>>,
    ) -> Option<PathBuf> {
        if let Some(c) = known.get(d) {
            return c.clone();
        }
        let plain_name = match d.components().next_back() {
            Some(Component::Normal(name)) => Some(name),
            _ => None,
        };
        let c = match (plain_name, d.parent()) {
            (Some(name), Some(parent)) if real.contains(d) => {
                let parent = if parent.as_os_str().is_empty() {
                    FsPath::new(".")
                } else {
                    parent
                };
                canon(parent, real, known).map(|p| p.join(name))
            }
            // A symlink, `..`, `.`, a root, or not there: the system decides.
            _ => d.canonicalize().ok(),
        };
        known.insert(d, c.clone());
        c
    }
    let mut known = HashMap::new();
    dirs.iter()
        .map(|d| (d.clone(), canon(d, &real, &mut known)))
        .collect()
}

/// The patch files a kustomization lists, resolved against its directory.
fn listed_patches(kustomization: &FsPath) -> Vec<PathBuf> {
    let Some(dir) = kustomization.parent() else {
        return Vec::new();
    };
    let Ok(meta) = std::fs::metadata(kustomization) else {
        return Vec::new();
    };
    if meta.len() > 4 << 20 {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(kustomization) else {
        return Vec::new();
    };
    let Ok(docs) = parse_stream(&text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for doc in &docs {
        let root = &doc.root;
        for item in items(root.get("patchesStrategicMerge")) {
            if let Some(p) = item.as_str().filter(|p| !p.contains('\n')) {
                out.push(dir.join(p));
            }
        }
        for key in ["patches", "patchesJson6902"] {
            for item in items(root.get(key)) {
                if let Some(p) = item.get("path").and_then(Node::as_str) {
                    out.push(dir.join(p));
                }
            }
        }
    }
    out
}

fn items(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.kind) {
        Some(NodeKind::Seq { items, .. }) => items,
        _ => &[],
    }
}

/// Whether a file must be parsed whatever the prefilter says: a kustomization spells a
/// patch target's group and version apart, so no `group/version` needle finds it.
pub fn always_parse(role: Role, text: &[u8]) -> bool {
    // Built once: a searcher per file showed in the profile of a 100k-file run.
    static GROUP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"kustomize.config.k8s.io/"));
    role == Role::Kustomization || GROUP.find(text).is_some()
}

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

/// [`crate::plan::plan_document`], plus what a kustomization or a patch needs.
pub fn plan_document(
    src: &str,
    doc: &Document,
    cat: &Catalogue,
    window: Window,
    role: Role,
) -> Result<DocPlan, DuplicateKey> {
    let mut plan = crate::plan::plan_document(src, doc, cat, window)?;
    match role {
        Role::Patch => partial(src, doc, cat, window, &mut plan),
        Role::Kustomization => kustomization(src, doc, cat, window, &mut plan),
        Role::Plain if is_kustomization_doc(&doc.root) => {
            kustomization(src, doc, cat, window, &mut plan)
        }
        Role::Plain => {}
    }
    Ok(plan)
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

    #[cfg(unix)]
    #[test]
    fn directories_resolve_through_symlinks_like_realpath() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real/sub")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
        let dirs: Vec<PathBuf> = ["link/sub", "real/sub", "real/./sub/..", "gone/x"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        let mut sorted = dirs.clone();
        sorted.sort();
        let got = canonical_dirs(sorted);
        for d in &dirs {
            assert_eq!(got[d], d.canonicalize().ok(), "{}", d.display());
        }
    }

    #[test]
    fn names() {
        assert!(is_kustomization_name(FsPath::new("a/kustomization.yaml")));
        assert!(is_kustomization_name(FsPath::new("Kustomization")));
        assert!(!is_kustomization_name(FsPath::new("a/kustomize.yaml")));
    }

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
