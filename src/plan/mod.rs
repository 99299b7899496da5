//! Plan one document: find its objects, decide each one's target apiVersion, run the
//! migration rules on a working tree, and derive the byte edits.

pub mod emit;
pub mod mtree;
pub mod rules;
pub mod suppress;
pub mod trial;

use crate::catalogue::codes::{self, Code};
use crate::catalogue::model::FindingSpec;
use crate::catalogue::registry::Hop;
use crate::catalogue::{Catalogue, Decision, Level, Release, Window, chosen_removal, decide};
use crate::edit::Edit;
use crate::yaml::path::{Path, Seg};
use crate::yaml::{Document, Node, NodeKind};

use mtree::MNode;
use trial::Trial;

/// Something a human should read about an object, at a byte offset in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub level: Level,
    pub code: String,
    pub message: String,
    pub offset: usize,
}

impl Finding {
    /// A finding with a built-in code (`codes::G_WINDOW`), at the code's usual level.
    pub fn new(code: Code, message: impl Into<String>, offset: usize) -> Finding {
        Finding::at_level(code, code.level, message, offset)
    }

    /// A finding with a built-in code, at a level other than its usual one.
    pub fn at_level(
        code: Code,
        level: Level,
        message: impl Into<String>,
        offset: usize,
    ) -> Finding {
        Finding {
            level,
            code: code.id.to_string(),
            message: message.into(),
            offset,
        }
    }

    /// The finding a catalogue rule reports, with the rule's own code.
    pub fn from_rule(spec: FindingSpec, offset: usize) -> Finding {
        Finding {
            level: spec.level,
            code: spec.code,
            message: spec.message,
            offset,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Rewritten to the new apiVersion.
    Migrated,
    /// Needs migrating, but a finding stops kubemig from doing it.
    Blocked,
    /// Still served at the target, but deprecated; not migrated without --include-deprecated.
    Deprecated,
    /// Nothing to rewrite, but findings worth reading (a deprecated field still served).
    Noted,
}

/// One Kubernetes object that needs (or needed) attention.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectReport {
    pub doc_index: usize,
    /// Byte offset of the object's `apiVersion` value.
    pub offset: usize,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub from: String,
    pub to: Option<String>,
    /// The first migration of the chain applied (its stable id), or the field migration's.
    pub migration: Option<String>,
    /// Set when this report is about a deprecated field inside a served API rather than
    /// about the object's apiVersion: the field migration's one-line summary.
    pub field: Option<String>,
    pub status: Status,
    pub findings: Vec<Finding>,
}

impl ObjectReport {
    /// The report on the object `obj` (its apiVersion value at `offset`), blocked until a
    /// decision says otherwise.
    fn new(doc: &Document, obj: &Node, offset: usize, kind: &str, api: &str) -> ObjectReport {
        let meta = |k: &str| {
            obj.get("metadata")
                .and_then(|m| m.get(k))
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        ObjectReport {
            doc_index: doc.index,
            offset,
            kind: kind.to_string(),
            name: meta("name"),
            namespace: meta("namespace"),
            from: api.to_string(),
            to: None,
            migration: None,
            field: None,
            status: Status::Blocked,
            findings: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct DocPlan {
    pub objects: Vec<ObjectReport>,
    pub edits: Vec<Edit>,
    /// The migrated document, when anything changed: what the output must mean.
    pub expected: Option<MNode>,
    /// Reports skipped by a `# kubemig: ignore` comment (see `suppress.rs`).
    pub suppressed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duplicate key `{key}` (first at byte {first}); Kubernetes rejects it, remove one")]
pub struct DuplicateKey {
    pub key: String,
    pub first: usize,
    pub second: usize,
}

pub fn plan_document(
    src: &str,
    doc: &Document,
    cat: &Catalogue,
    window: Window,
) -> Result<DocPlan, DuplicateKey> {
    let mut plan = DocPlan::default();
    let objects = objects(&doc.root);
    if objects.is_empty() {
        return Ok(plan);
    }
    let mut work: Option<MNode> = None;
    // The document as parsed, copied while `work` is `None` for the rules that only read
    // (field migrations), once for all objects of the document; a migration takes it.
    let mut pristine: Option<MNode> = None;
    let mut suppress = suppress::Suppress::scan(src, doc);
    // Without a `&` the document has no anchor, so no alias: what field migrations look
    // for can then be looked for in its text (`prefilter::ObjectText::of_object`).
    let anchors = std::cell::OnceCell::new();
    let anchors = || {
        *anchors.get_or_init(|| {
            let root = &doc.root;
            let start = root.props.as_ref().map_or(root.span.start, |p| p.start);
            src.get(start.min(root.span.start)..root.span.end)
                .is_none_or(|text| memchr::memchr(b'&', text.as_bytes()).is_some())
        })
    };
    for (path, obj) in objects {
        no_duplicate_identity(obj)?;
        // An alias is read as what it stands for (so Kubernetes reads it): an object is
        // never skipped because its apiVersion or kind is written `*name`.
        let Some(api_node) = obj.get("apiVersion") else {
            continue;
        };
        let Some(api) = api_node.resolve(&doc.root).as_str() else {
            continue;
        };
        let Some(kind) = obj.get("kind").and_then(|k| k.resolve(&doc.root).as_str()) else {
            // Without a kind nothing can say what the object is; with an apiVersion that a
            // removed API used, it is reported rather than passed over in silence.
            if let Some(report) = no_kind(cat, window, doc, obj, api, api_node.span.start)
                && !suppress.skips_object(cat, api, "")
            {
                plan.objects.push(report);
            }
            continue;
        };
        let decision = decide(cat, api, kind, window);
        if suppress.skips_object(cat, api, kind) {
            suppress.skipped += usize::from(!matches!(decision, Decision::Current));
            continue;
        }
        if cat.ignores_chain(api, kind) {
            continue;
        }
        let decision_kind = if matches!(decision, Decision::Current) {
            DecisionKind::Current
        } else {
            DecisionKind::Other
        };
        let mut report = ObjectReport::new(doc, obj, api_node.span.start, kind, api);
        match decision {
            Decision::Current => note_gone_api(cat, window, api, kind, &mut report),
            Decision::Deprecated { removed, to } => {
                note_deprecated(cat, window, api, kind, removed, to, &mut report)
            }
            Decision::NoReplacement { note, removed } => {
                note_no_replacement(api, kind, &note, removed, &mut report)
            }
            Decision::Migrate {
                hops,
                to,
                window_warning,
            } => {
                let step = Step {
                    src,
                    doc,
                    cat,
                    window,
                    obj,
                    path: &path,
                    api_node,
                    kind,
                };
                if !step.migrate(
                    &hops,
                    to,
                    window_warning,
                    &mut report,
                    &mut work,
                    &mut pristine,
                )? {
                    plan.objects.push(report);
                    continue;
                }
            }
        }
        let final_api = match report.status {
            Status::Migrated => report.to.clone().unwrap_or_else(|| api.to_string()),
            _ => api.to_string(),
        };
        drop_ignored_findings(cat, &mut report);
        let reported =
            !matches!(decision_kind, DecisionKind::Current) || !report.findings.is_empty();
        let fields = field_migrations(
            src,
            doc,
            cat,
            window,
            &path,
            &final_api,
            &report,
            &mut work,
            &mut pristine,
            &mut suppress,
            &anchors,
        );
        // The object's own report goes before its fields' (moved, not copied: it is done).
        if reported && !(report.status == Status::Noted && report.findings.is_empty()) {
            plan.objects.push(report);
        }
        plan.objects.extend(fields);
    }
    list_wrapper(doc, cat, window, &mut plan, &mut work, pristine);
    if let Some(work) = work {
        emit_edits(src, doc, work, &mut plan);
    }
    plan.suppressed = suppress.skipped;
    suppress.warn_unknown(cat, &mut plan.objects);
    Ok(plan)
}

/// An object may not have two `apiVersion` or two `kind` keys: which one would apply?
fn no_duplicate_identity(obj: &Node) -> Result<(), DuplicateKey> {
    for key in ["apiVersion", "kind"] {
        let mut same = obj
            .entries()
            .iter()
            .filter(|(k, _)| k.as_str() == Some(key));
        if let (Some((a, _)), Some((b, _))) = (same.next(), same.next()) {
            return Err(DuplicateKey {
                key: key.into(),
                first: a.span.start,
                second: b.span.start,
            });
        }
    }
    Ok(())
}

/// A served apiVersion: still worth a finding when its group/version is gone at the target
/// and never served this kind (a misspelt kind, or the wrong group).
fn note_gone_api(
    cat: &Catalogue,
    window: Window,
    api: &str,
    kind: &str,
    report: &mut ObjectReport,
) {
    if let Some(gone) = cat.gone_at(api).filter(|&r| r <= window.target)
        && cat.version(api, kind).is_none()
    {
        report.findings.push(Finding::new(
            codes::G_API_GONE,
            format!(
                "{api} is gone since {gone} and never served {kind}: check the kind, or move the object to a group/version that serves it"
            ),
            report.offset,
        ));
    }
}

/// A deprecated apiVersion the run keeps: a note saying when it goes and what to do.
fn note_deprecated(
    cat: &Catalogue,
    window: Window,
    api: &str,
    kind: &str,
    removed: Option<Release>,
    to: Option<String>,
    report: &mut ObjectReport,
) {
    report.status = Status::Deprecated;
    let when = removed.map_or("no removal is scheduled".to_string(), |r| {
        format!("removed in {r}")
    });
    // Say what the user can do: the flag only helps where a version to move to
    // exists.
    let included = window.include_deprecated
        || cat
            .hop_from(api, kind)
            .is_some_and(|h| cat.enables(&h.meta.id));
    let advice = match &to {
        // Included, yet kept: the window is why.
        Some(to) if included => {
            format!("kept: {to} is not served on every release from the --min-version on")
        }
        Some(to) => format!("--include-deprecated migrates it to {to}"),
        None => match cat.version(api, kind).map(|v| v.note.as_str()) {
            Some(note) if !note.is_empty() => {
                format!("kubemig has no version to move it to: {note}")
            }
            _ => "kubemig has no version to move it to; it keeps working until then".to_string(),
        },
    };
    report.to = to;
    report.findings.push(Finding::new(
        codes::G_DEPRECATED,
        format!("{api} {kind} is deprecated ({when}); {advice}"),
        report.offset,
    ));
}

/// A removed apiVersion with no served version to move to.
fn note_no_replacement(
    api: &str,
    kind: &str,
    note: &str,
    removed: Option<Release>,
    report: &mut ObjectReport,
) {
    let when = removed.map_or(String::new(), |r| format!(" (removed in {r})"));
    let mut message =
        format!("{api} {kind} is not served at the target{when} and no served version replaces it");
    if !note.is_empty() {
        message.push_str(&format!(": {note}"));
    }
    report.findings.push(Finding::new(
        codes::G_NO_SERVED_REPLACEMENT,
        message,
        report.offset,
    ));
}

/// Findings the run ignores are dropped from an object that is not migrated; when every
/// one was ignored, the object is as if nothing were said about it.
fn drop_ignored_findings(cat: &Catalogue, report: &mut ObjectReport) {
    if matches!(report.status, Status::Migrated) {
        return;
    }
    let before = report.findings.len();
    report.findings.retain(|f| !cat.ignores(&f.code));
    if report.findings.is_empty() && before > 0 {
        report.status = Status::Noted;
    }
}

/// Turn the migrated working tree into byte edits of the original text; where the layout
/// cannot take them, every migrated object of the document needs a human instead.
fn emit_edits(src: &str, doc: &Document, work: MNode, plan: &mut DocPlan) {
    let mut emitter = emit::Emitter::new(src, &doc.root, doc.node_count);
    match emitter.node(&doc.root, &work) {
        Ok(()) => {
            plan.edits = emitter.edits;
            plan.expected = Some(work);
        }
        Err(e) => {
            for r in plan
                .objects
                .iter_mut()
                .filter(|r| r.status == Status::Migrated)
            {
                r.status = Status::Blocked;
                r.findings.push(Finding::new(
                    codes::KUBEMIG_LAYOUT,
                    format!("{}; migrate this object by hand", e.reason),
                    e.offset,
                ));
            }
        }
    }
}

/// One object of a document whose apiVersion migrates.
struct Step<'a> {
    src: &'a str,
    doc: &'a Document,
    cat: &'a Catalogue,
    window: Window,
    obj: &'a Node,
    path: &'a Path,
    api_node: &'a Node,
    kind: &'a str,
}

impl Step<'_> {
    /// Apply the hops' rules (and the global rules) to a copy of the working tree; keep it
    /// when nothing blocks. `Ok(false)`: the report is final (an alias or a merge key stands
    /// in the way) and the object gets no field migrations.
    fn migrate(
        &self,
        hops: &[&Hop],
        to: String,
        window_warning: Option<String>,
        report: &mut ObjectReport,
        work: &mut Option<MNode>,
        pristine: &mut Option<MNode>,
    ) -> Result<bool, DuplicateKey> {
        let Step {
            src,
            doc,
            cat,
            window,
            obj,
            path,
            api_node,
            kind,
        } = *self;

        // One walk for both: the first repeated key, and the first merge key.
        let mut merge = None;
        if let Some(dup) = repeated_or_merge_key(obj, &mut merge) {
            return Err(dup);
        }
        if matches!(api_node.kind, NodeKind::Alias(_)) {
            report.findings.push(Finding::new(
            codes::KUBEMIG_ALIAS,
            format!(
                "`apiVersion` is the YAML alias `{}`: kubemig does not rewrite through aliases (the anchored value may be used elsewhere, or sit in a field the migration deletes); write the apiVersion out, then rerun",
                &src[api_node.span.clone()]
            ),
            report.offset,
        ));
            report.to = Some(to);
            return Ok(false);
        }
        if let Some(merge) = merge {
            report.findings.push(Finding::new(
            codes::KUBEMIG_MERGE_KEY,
            "the object uses a YAML merge key (<<); kubemig does not rewrite through merges: expand it by hand, then rerun",
            merge,
        ));
            report.to = Some(to);
            return Ok(false);
        }
        report.to = Some(to);
        report.migration = hops.first().map(|h| h.meta.id.clone());
        // Tried on the working tree itself (or the pristine copy), taken back if blocked.
        let rules = hops.iter().flat_map(|h| &h.rules).chain(&cat.global_rules);
        let mut trial = Trial::start(work, pristine, &doc.root, path, Some(obj), rules);
        let mut hits = Vec::new();
        // Hop rules read the command-line facts too (`--assume webhook-side-effects`);
        // the release-window conditions are for field migrations only.
        let facts = rules::Ctx {
            options: &cat.options,
            ..rules::Ctx::default()
        };
        let result = (|| {
            for hop in hops {
                // `duplicate_key` above: the object has no mapping with a repeated key.
                rules::apply_distinct(&mut trial.tree, path, &hop.rules, &mut hits, &facts)?;
                let api = path.child(Seg::Key("apiVersion".into()));
                trial.tree.set(
                    &api,
                    MNode::string(&hop.meta.to),
                    &mtree::Position::End,
                    false,
                )?;
            }
            rules::apply_distinct(
                &mut trial.tree,
                path,
                &cat.global_rules,
                &mut hits,
                &rules::Ctx::default(),
            )
        })();
        if let Some(w) = window_warning {
            report
                .findings
                .push(Finding::new(codes::G_WINDOW, w, report.offset));
        }
        if let Some(to) = &report.to
            && let Some(r) = chosen_removal(cat, to, kind, window.target)
        {
            report.findings.push(Finding::new(
                codes::G_CHOSEN_DEPRECATED,
                format!("{to} is deprecated too: removed in {r}, migrate again before then"),
                report.offset,
            ));
        }
        report
            .findings
            .extend(place_hits(hits, doc, path, report.offset));
        report.findings.retain(|f| !cat.ignores(&f.code));
        if let Err(e) = result {
            report.findings.push(Finding::new(
                codes::KUBEMIG_SHAPE,
                e.to_string(),
                report.offset,
            ));
        }
        let keep = !report.findings.iter().any(|f| f.level.blocks());
        if keep {
            report.status = Status::Migrated;
        }
        trial.end(keep, work, pristine);
        Ok(true)
    }
}

/// A report for an object whose apiVersion a removed API used but that has no string
/// `kind`: Kubernetes rejects it, and kubemig cannot tell which migration applies.
fn no_kind(
    cat: &Catalogue,
    window: Window,
    doc: &Document,
    obj: &Node,
    api: &str,
    offset: usize,
) -> Option<ObjectReport> {
    let removed = cat
        .versions
        .iter()
        .filter(|v| v.api == api)
        .filter_map(|v| v.removed)
        .filter(|&r| r <= window.target)
        .min()?;
    if cat.ignores(codes::G_NO_KIND.id) {
        return None;
    }
    let what = match obj.get("kind").map(|k| k.resolve(&doc.root)) {
        None => "no `kind`".to_string(),
        Some(_) => "a `kind` that is not a string".to_string(),
    };
    Some(ObjectReport {
        findings: vec![Finding::new(
            codes::G_NO_KIND,
            format!(
                "{api} (removed from {removed} on) with {what}: add the kind, then rerun kubemig"
            ),
            offset,
        )],
        ..ObjectReport::new(doc, obj, offset, "<no kind>", api)
    })
}

/// A typed list (`RoleBindingList`, `PodDisruptionBudgetList`, …) moves with its items:
/// each group/version registers the list type of every kind it serves (`addKnownTypes` in
/// k8s.io/api, e.g. rbac/v1/register.go), and kubectl decodes the list by its own
/// apiVersion before sending each item on its own (cli-runtime, resource/visitor.go,
/// FlattenListVisitor), so a wrapper left on a removed version fails although its items
/// were migrated. The wrapper moves when the item kind's decision is to migrate and no item
/// of the document is blocked.
fn list_wrapper(
    doc: &Document,
    cat: &Catalogue,
    window: Window,
    plan: &mut DocPlan,
    work: &mut Option<MNode>,
    pristine: Option<MNode>,
) {
    let root = &doc.root;
    let (Some(api_node), Some(kind)) = (
        root.get("apiVersion"),
        root.get("kind").and_then(Node::as_str),
    ) else {
        return;
    };
    let Some(item_kind) = kind.strip_suffix("List").filter(|k| !k.is_empty()) else {
        return;
    };
    let (Some(api), NodeKind::Scalar { .. }) = (api_node.as_str(), &api_node.kind) else {
        return;
    };
    if !matches!(
        root.get("items").map(|i| &i.kind),
        Some(NodeKind::Seq { .. })
    ) {
        return;
    }
    if plan.objects.iter().any(|o| o.status == Status::Blocked) || cat.ignores_chain(api, item_kind)
    {
        return;
    }
    let Decision::Migrate { to, hops, .. } = decide(cat, api, item_kind, window) else {
        return;
    };
    let mut trial = match work {
        Some(w) => w.clone(),
        None => pristine.unwrap_or_else(|| MNode::from_node(root)),
    };
    let at = Path(vec![Seg::Key("apiVersion".into())]);
    if trial
        .set(&at, MNode::string(&to), &mtree::Position::End, false)
        .is_err()
    {
        return;
    }
    *work = Some(trial);
    // A list's own metadata names nothing: the report shows the wrapper by kind alone.
    plan.objects.push(ObjectReport {
        name: None,
        namespace: None,
        to: Some(to),
        migration: hops.first().map(|h| h.meta.id.clone()),
        status: Status::Migrated,
        ..ObjectReport::new(doc, root, api_node.span.start, kind, api)
    });
}

enum DecisionKind {
    Current,
    Other,
}

/// Run the field migrations (deprecated fields inside served APIs) that apply to one object,
/// each on its own trial copy so that one needing a human does not stop the others.
#[allow(clippy::too_many_arguments)]
fn field_migrations(
    src: &str,
    doc: &Document,
    cat: &Catalogue,
    window: Window,
    path: &Path,
    api: &str,
    object: &ObjectReport,
    work: &mut Option<MNode>,
    pristine: &mut Option<MNode>,
    suppress: &mut suppress::Suppress,
    anchors: &dyn Fn() -> bool,
) -> Vec<ObjectReport> {
    let mut out = Vec::new();
    // What the object says, to skip (without copying the document) each field migration
    // none of whose `mentions` it holds; brought up to date after a change.
    let orig = node_at(&doc.root, path);
    let text = |work: &Option<MNode>| {
        let orig = orig?;
        match work {
            Some(w) => w
                .get(&path.0)
                .map(|w| crate::prefilter::ObjectText::of_object(src, orig, Some(w), anchors)),
            None => Some(crate::prefilter::ObjectText::of_object(
                src, orig, None, anchors,
            )),
        }
    };
    // Built on first use: most objects have no field migration that applies to their kind.
    let mut said: Option<Option<crate::prefilter::ObjectText>> = None;
    // The working copy changed since `said` was made.
    let mut stale = false;
    let pod_kind = crate::catalogue::registry::keeps_pod(&object.kind);
    for field in cat.fields.iter().filter(|f| {
        f.applies(api, &object.kind, pod_kind)
            && !cat.ignores(&f.meta.id)
            && (f.meta.active_at(window.target, window.include_deprecated)
                || f.meta.deprecated_only_at(window.target))
    }) {
        if std::mem::take(&mut stale) {
            said = match (
                said.take(),
                orig,
                work.as_ref().and_then(|w| w.get(&path.0)),
            ) {
                (Some(Some(mut t)), Some(orig), Some(w)) => {
                    t.update(orig, w);
                    Some(Some(t))
                }
                _ => None,
            };
        }
        if said
            .get_or_insert_with(|| text(work))
            .as_ref()
            .is_some_and(|t| !t.mentions(&field.mentions))
        {
            continue;
        }
        // Deprecated but still working at the target, and not enabled: what it would do is
        // a note (shown with -v); nothing changes and the verdict is not affected.
        let note_only = !field.meta.active_at(
            window.target,
            window.include_deprecated || cat.enables(&field.meta.id),
        );
        let mut hits = Vec::new();
        let ctx = rules::Ctx {
            min: Some(window.oldest().min(window.target)),
            target: Some(window.target),
            options: &cat.options,
        };
        // Most field migrations that get this far only read (a finding) or find nothing to
        // change: a trial copy of the document only for those that may change it.
        let now = match work {
            Some(w) => &*w,
            None => &*pristine.get_or_insert_with(|| MNode::from_node(&doc.root)),
        };
        let (result, trial) = if rules::read_only(now, path, &field.rules, &mut hits, &ctx) {
            (Ok(false), None)
        } else {
            hits.clear();
            // Tried on the working tree itself (or the pristine copy), taken back below
            // unless the migration is kept.
            let mut trial = Trial::start(work, pristine, &doc.root, path, orig, &field.rules);
            let result = rules::apply_in(&mut trial.tree, path, &field.rules, &mut hits, &ctx);
            (result, Some(trial))
        };
        let changed = matches!(result, Ok(true));
        let (report, keep) = 'judged: {
            if hits.is_empty() && !changed && result.is_ok() {
                break 'judged (None, false);
            }
            if suppress.skips_id(&field.meta.id) {
                suppress.skipped += 1;
                break 'judged (None, false);
            }
            if note_only
                && !changed
                && result.is_ok()
                && hits.iter().all(|h| h.spec.level < Level::Manual)
            {
                // Only says something and changes nothing: its own findings, which never fail
                // `check` (the object is `Noted`).
                let mut findings = place_hits(hits, doc, path, object.offset);
                findings.retain(|f| !cat.ignores(&f.code));
                if findings.is_empty() {
                    break 'judged (None, false);
                }
                break 'judged (
                    Some(ObjectReport {
                        offset: findings[0].offset,
                        from: api.to_string(),
                        to: Some(api.to_string()),
                        migration: Some(field.meta.id.clone()),
                        field: Some(field.meta.summary.clone()),
                        status: Status::Noted,
                        findings,
                        ..object.clone()
                    }),
                    false,
                );
            }
            if note_only {
                let at = place_hits(hits, doc, path, object.offset)
                    .first()
                    .map_or(object.offset, |f| f.offset);
                if cat.ignores(codes::F_DEPRECATED.id) {
                    break 'judged (None, false);
                }
                let since = field
                    .meta
                    .deprecated
                    .map_or(String::new(), |d| format!(" since {d}"));
                break 'judged (
                    Some(ObjectReport {
                        offset: at,
                        from: api.to_string(),
                        to: Some(api.to_string()),
                        migration: Some(field.meta.id.clone()),
                        field: Some(field.meta.summary.clone()),
                        status: Status::Noted,
                        findings: vec![Finding::new(
                            codes::F_DEPRECATED,
                            format!(
                                "deprecated{since} but still honoured at {}: `--enable {}` or --include-deprecated applies `{}`",
                                window.target, field.meta.id, field.meta.id
                            ),
                            at,
                        )],
                        ..object.clone()
                    }),
                    false,
                );
            }
            let mut findings = place_hits(hits, doc, path, object.offset);
            findings.retain(|f| !cat.ignores(&f.code));
            if let Err(e) = result {
                findings.push(Finding::new(
                    codes::KUBEMIG_SHAPE,
                    e.to_string(),
                    object.offset,
                ));
            }
            let blocked = findings.iter().any(|f| f.level.blocks());
            let keep = !blocked && changed && trial.is_some();
            let status = if blocked {
                Status::Blocked
            } else if keep {
                Status::Migrated
            } else {
                Status::Noted
            };
            let report = ObjectReport {
                offset: findings.first().map_or(object.offset, |f| f.offset),
                from: api.to_string(),
                to: Some(api.to_string()),
                migration: Some(field.meta.id.clone()),
                field: Some(field.meta.summary.clone()),
                status,
                findings,
                ..object.clone()
            };
            (Some(report), keep)
        };
        if let Some(trial) = trial {
            stale |= keep;
            trial.end(keep, work, pristine);
        }
        out.extend(report);
    }
    out
}

/// Turn rule hits into findings placed at the original nodes they matched. Hits of one code
/// are merged into one finding that names the first place and counts the others, so a
/// non-structural CRD schema gives one line, not one per property.
fn place_hits(
    hits: Vec<rules::RuleHit>,
    doc: &Document,
    object: &Path,
    fallback: usize,
) -> Vec<Finding> {
    let root = &doc.root;
    // Every node of the document, by id: only when a hit is to be placed at its original
    // node (most objects have no hits).
    let mut nodes = Vec::new();
    let mut out: Vec<(Finding, usize)> = Vec::new();
    for hit in hits {
        if let Some((_, n)) = out
            .iter_mut()
            .find(|(f, _)| f.code == hit.spec.code && f.message.starts_with(&hit.spec.message))
        {
            *n += 1;
            continue;
        }
        let at_object = hit.at.0.len() <= object.0.len();
        let offset = hit
            .orig
            .filter(|_| !at_object)
            .and_then(|id| {
                // Found by its number from the root down; where the document numbers its
                // nodes otherwise, by a list of every node.
                if let Some(n) = node_by_id(root, id) {
                    return Some(n);
                }
                if nodes.is_empty() {
                    nodes.reserve(doc.node_count);
                    index_nodes(root, &mut nodes);
                }
                // Ids are numbered in the order `index_nodes` visits: the node is found at
                // its id's place, unless a document numbers them otherwise.
                nodes
                    .get(id.wrapping_sub(root.id))
                    .filter(|n| n.id == id)
                    .or_else(|| nodes.iter().find(|n: &&&Node| n.id == id))
                    .copied()
            })
            .or_else(|| node_at(root, &hit.at))
            .map_or(fallback, |n| n.span.start);
        let offset = if at_object { fallback } else { offset };
        out.push((Finding::from_rule(hit.spec, offset), 1));
    }
    out.into_iter()
        .map(|(mut f, n)| {
            if n > 1 {
                f.message.push_str(&format!(
                    " and {} more place{}",
                    n - 1,
                    if n == 2 { "" } else { "s" }
                ));
            }
            f
        })
        .collect()
}

/// The node numbered `id` under `node`, from `node` down: nodes are numbered in document
/// order (pre-order), so the one sought is under (or is) the last child numbered at most
/// `id`. `None` where the numbers are not so.
fn node_by_id(node: &Node, id: usize) -> Option<&Node> {
    let mut node = node;
    while node.id != id {
        node = match &node.kind {
            NodeKind::Map { entries, .. } => {
                // Keys and values in document order: k0, v0, k1, v1, ...
                let (k, v) = entries[..entries.partition_point(|(k, _)| k.id <= id)].last()?;
                if v.id <= id { v } else { k }
            }
            NodeKind::Seq { items, .. } => items[..items.partition_point(|i| i.id <= id)].last()?,
            _ => return None,
        };
    }
    Some(node)
}

fn index_nodes<'a>(node: &'a Node, out: &mut Vec<&'a Node>) {
    out.push(node);
    match &node.kind {
        NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
            index_nodes(k, out);
            index_nodes(v, out)
        }),
        NodeKind::Seq { items, .. } => items.iter().for_each(|i| index_nodes(i, out)),
        _ => {}
    }
}

/// The objects of a document: the root mapping, or the items of a `*List`.
fn objects(root: &Node) -> Vec<(Path, &Node)> {
    let is_list = root
        .get("kind")
        .and_then(Node::as_str)
        .is_some_and(|k| k.ends_with("List"));
    if let (
        true,
        Some(Node {
            kind: NodeKind::Seq { items, .. },
            ..
        }),
    ) = (is_list, root.get("items"))
    {
        return items
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i.kind, NodeKind::Map { .. }))
            .map(|(n, i)| (Path(vec![Seg::Key("items".into()), Seg::Index(n)]), i))
            .collect();
    }
    if matches!(root.kind, NodeKind::Map { .. }) {
        vec![(Path::default(), root)]
    } else {
        Vec::new()
    }
}

fn node_at<'a>(root: &'a Node, path: &Path) -> Option<&'a Node> {
    let mut node = root;
    for seg in &path.0 {
        node = match (seg, &node.kind) {
            (Seg::Key(k), _) => node.get(k)?,
            (Seg::Index(i), NodeKind::Seq { items, .. }) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Whether `key` is a `<<` merge key (plain: a quoted `"<<"` is an ordinary key).
fn is_merge_key(key: &Node) -> bool {
    matches!(
        &key.kind,
        NodeKind::Scalar {
            value,
            style: crate::yaml::Style::Plain,
        } if value == "<<"
    )
}

/// The first key that appears twice in one mapping anywhere under `node`.
pub fn duplicate_key(node: &Node) -> Option<DuplicateKey> {
    repeated_or_merge_key(node, &mut None)
}

/// [`duplicate_key`], noting in `merge` (where it is `None`) where the first `<<` merge key
/// under `node` is, in the same walk: mappings in document order, each one's own keys
/// before what its values hold. The merge key is found only where no key repeats.
fn repeated_or_merge_key(node: &Node, merge: &mut Option<usize>) -> Option<DuplicateKey> {
    match &node.kind {
        NodeKind::Map { entries, .. } => {
            if let Some(dup) = repeated_key(entries) {
                return Some(dup);
            }
            entries.iter().find_map(|(k, v)| {
                if merge.is_none() && is_merge_key(k) {
                    *merge = Some(k.span.start);
                }
                repeated_or_merge_key(v, merge)
            })
        }
        NodeKind::Seq { items, .. } => items.iter().find_map(|i| repeated_or_merge_key(i, merge)),
        _ => None,
    }
}

/// The earliest key of one mapping that has a twin, with its first twin.
fn repeated_key(entries: &[(Node, Node)]) -> Option<DuplicateKey> {
    let first_dup = if entries.len() <= 16 {
        // Small mappings (nearly all): comparing pairs beats hashing, and needs no
        // list of the keys.
        entries.iter().enumerate().find_map(|(i, (a, _))| {
            let ka = a.as_str()?;
            entries[i + 1..]
                .iter()
                .find(|(b, _)| b.as_str() == Some(ka))
                .map(|(b, _)| (a, b))
        })
    } else {
        let keys: Vec<(&Node, &str)> = entries
            .iter()
            .filter_map(|(k, _)| Some((k, k.as_str()?)))
            .collect();
        // Hashed: linear in the number of keys (a ConfigMap may have tens of
        // thousands).
        let mut seen: foldhash::HashMap<&str, &Node> = foldhash::HashMap::default();
        let mut first_dup: Option<(&Node, &Node)> = None;
        for &(k, key) in &keys {
            match seen.get(key) {
                Some(&a) if first_dup.is_none_or(|(f, _)| a.span.start < f.span.start) => {
                    first_dup = Some((a, k));
                }
                Some(_) => {}
                None => {
                    seen.insert(key, k);
                }
            }
        }
        first_dup
    };
    first_dup.map(|(a, b)| DuplicateKey {
        key: a.as_str().unwrap_or_default().to_string(),
        first: a.span.start,
        second: b.span.start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;

    /// Where the first `<<` merge key under `node` is: the walk of its own that
    /// `repeated_or_merge_key` replaced.
    fn merge_key(node: &Node) -> Option<usize> {
        match &node.kind {
            NodeKind::Map { entries, .. } => entries.iter().find_map(|(k, v)| {
                if k.as_str() == Some("<<")
                    && matches!(
                        k.kind,
                        NodeKind::Scalar {
                            style: crate::yaml::Style::Plain,
                            ..
                        }
                    )
                {
                    Some(k.span.start)
                } else {
                    merge_key(v)
                }
            }),
            NodeKind::Seq { items, .. } => items.iter().find_map(merge_key),
            _ => None,
        }
    }

    /// The one walk finds what the two walks it replaced found: on every document of
    /// testdata, and on some with merge keys and repeated keys in either order.
    #[test]
    fn one_walk_finds_the_repeated_and_the_merge_key() {
        let mut texts: Vec<String> = crate::testdata_texts();
        texts.extend(
            [
                "a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n",
                "a:\n  <<: {b: 1}\n  <<: {c: 1}\n",
                "a:\n- <<: {b: 1}\n- c: 1\n  c: 2\n",
                "a: {c: 1, c: 2}\nb: {<<: {d: 1}}\n",
                "a: {'<<': 1}\nb: [{<<: {d: 1}}]\n",
            ]
            .map(String::from),
        );
        let (mut merges, mut dups) = (0, 0);
        for text in &texts {
            let Ok(docs) = parse_stream(text) else {
                continue;
            };
            for doc in &docs {
                let mut merge = None;
                let dup = repeated_or_merge_key(&doc.root, &mut merge);
                if dup.is_none() {
                    assert_eq!(merge, merge_key(&doc.root), "{text}");
                    merges += usize::from(merge.is_some());
                }
                dups += usize::from(dup.is_some());
            }
        }
        assert!(
            merges >= 3 && dups >= 2,
            "{merges} merge keys, {dups} repeated keys"
        );
    }

    /// `place_hits` finds a node at its id's place in `index_nodes`, and the emitter's
    /// `match_ids` searches sorted ids: both fall back to a search when a document numbers
    /// its nodes otherwise, and this holds that every document in testdata takes the fast
    /// way (ids in visiting order, keys and items in increasing order).
    #[test]
    fn node_ids_follow_document_order_in_testdata() {
        fn sorted_children(n: &Node) -> bool {
            match &n.kind {
                NodeKind::Map { entries, .. } => {
                    entries.windows(2).all(|w| w[0].0.id < w[1].0.id)
                        && entries
                            .iter()
                            .all(|(k, v)| sorted_children(k) && sorted_children(v))
                }
                NodeKind::Seq { items, .. } => {
                    items.windows(2).all(|w| w[0].id < w[1].id) && items.iter().all(sorted_children)
                }
                _ => true,
            }
        }
        let mut documents = 0;
        for (path, bytes) in crate::testdata_files() {
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            let Ok(docs) = parse_stream(&text) else {
                continue;
            };
            for doc in &docs {
                let mut nodes = Vec::new();
                index_nodes(&doc.root, &mut nodes);
                for (i, n) in nodes.iter().enumerate() {
                    assert_eq!(n.id, doc.root.id + i, "{}", path.display());
                    assert!(
                        node_by_id(&doc.root, n.id).is_some_and(|f| std::ptr::eq(f, *n)),
                        "{}",
                        path.display()
                    );
                }
                assert!(node_by_id(&doc.root, doc.root.id + nodes.len()).is_none());
                assert!(sorted_children(&doc.root), "{}", path.display());
                documents += 1;
            }
        }
        assert!(documents > 100, "only {documents} documents");
    }
}
