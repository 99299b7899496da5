//! One file through the pipeline: decode → prefilter → parse → plan → splice → verify.
//! Everything a file needs for reporting is resolved here (line:col, diff text), so the
//! reporter never re-reads or re-parses anything.

use crate::catalogue::{Catalogue, Window};
use crate::edit;
use crate::input::InputKind;
use crate::kustomize::Role;
use crate::plan::ObjectReport;
use crate::plan::mtree::MNode;
use crate::prefilter::Prefilter;
use crate::source::Source;

pub struct Context<'a> {
    pub catalogue: &'a Catalogue,
    pub window: Window,
    pub prefilter: Option<&'a Prefilter>,
}

/// A problem with a whole file; the file is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl FileError {
    pub fn new(message: impl Into<String>) -> FileError {
        FileError {
            position: None,
            message: message.into(),
        }
    }
}

/// A finding or object with its place resolved.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub line: usize,
    pub col: usize,
    pub item: T,
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Objects that need or got attention, with their findings (positions resolved).
    pub objects: Vec<Located<ObjectReport>>,
    /// Positions of each object's findings, parallel to `objects[i].item.findings`.
    pub finding_positions: Vec<Vec<(usize, usize)>>,
    /// The original text and the rewrite, when something changed. Both empty when the
    /// run asked for less ([`Keep`]): the fact of a rewrite stays.
    pub rewrite: Option<(String, String)>,
    /// The diff's hunks (`report::diff::hunks`), when something changed and the run asked
    /// for them ([`Keep::Diff`]).
    pub diff: Option<crate::report::diff::Diff>,
    pub error: Option<FileError>,
    /// Whether the file was parsed (false when the prefilter skipped it).
    pub parsed: bool,
    /// Reports skipped by `# kubemig: ignore` comments.
    pub suppressed: usize,
}

impl Outcome {
    /// Record a planned object with its findings' line and column.
    pub(crate) fn push_object(&mut self, source: &Source, obj: ObjectReport) {
        let (line, col) = source.line_col(obj.offset);
        self.finding_positions.push(
            obj.findings
                .iter()
                .map(|f| source.line_col(f.offset))
                .collect(),
        );
        self.objects.push(Located {
            line,
            col,
            item: obj,
        });
    }

    /// End with a duplicate-key error, at byte offsets `base +` the key's: nothing of the
    /// file is reported or rewritten.
    pub(crate) fn duplicate_key(
        mut self,
        source: &Source,
        dup: &crate::plan::DuplicateKey,
        base: usize,
        context: Option<String>,
    ) -> Outcome {
        let (l1, _) = source.line_col(base + dup.first);
        let mut message = format!(
            "duplicate key `{}` (also on line {l1}); Kubernetes rejects duplicate keys, remove one",
            dup.key
        );
        if let Some(context) = context {
            message = format!("{message}; {context}");
        }
        self.error = Some(FileError {
            position: Some(source.line_col(base + dup.second)),
            message,
        });
        self.objects.clear();
        self.finding_positions.clear();
        self
    }
}

/// What of a rewrite a run keeps in the [`Outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The old and new texts (`fix` writes the new one).
    Texts,
    /// The diff's hunks (`diff`). A stream larger than the whole-diff limit is diffed a
    /// chunk at a time as it is rewritten, so its rewrite is never held whole.
    Diff,
    /// Only the fact of a rewrite (`check`): nothing of the new text is held.
    Nothing,
}

/// Run the pipeline on one file's bytes.
pub fn process(bytes: Vec<u8>, ctx: &Context) -> Outcome {
    process_as(bytes, ctx, Role::Plain)
}

/// [`process`] for a file whose role to kustomize is known (`kustomize::Roles`): a
/// kustomization is always parsed (its patch targets spell group and version apart), a
/// patch is a partial object.
pub fn process_as(bytes: Vec<u8>, ctx: &Context, role: Role) -> Outcome {
    process_keeping(bytes, ctx, role, Keep::Texts)
}

/// [`process_as`], keeping what `keep` says of a rewrite.
pub fn process_keeping(bytes: Vec<u8>, ctx: &Context, role: Role, keep: Keep) -> Outcome {
    process_in_chunks(bytes, ctx, role, CHUNK_BYTES, keep)
}

/// Where a rewrite goes as it is made, a chunk at a time.
enum Output<'a> {
    /// Held whole.
    Whole(String),
    /// Diffed a chunk at a time against the old text.
    Diff(crate::report::diff::Stream<'a>),
    /// Dropped.
    Dropped,
}

impl Output<'_> {
    /// `src[range]` became `new`.
    fn push(&mut self, range: std::ops::Range<usize>, new: &str) {
        match self {
            Output::Whole(s) => s.push_str(new),
            Output::Diff(d) => d.chunk(range, new),
            Output::Dropped => {}
        }
    }
}

/// [`process_as`], splitting streams larger than `chunk` bytes ([`chunks`]).
fn process_in_chunks(
    bytes: Vec<u8>,
    ctx: &Context,
    role: Role,
    chunk: usize,
    keep: Keep,
) -> Outcome {
    let mut out = Outcome::default();
    let source = match Source::decode(bytes) {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(FileError::new(e.to_string()));
            return out;
        }
    };
    if let Some(pf) = ctx.prefilter
        && !crate::kustomize::always_parse(role, source.text.as_bytes())
        && !pf.may_need_work(source.text.as_bytes())
    {
        return out;
    }
    out.parsed = true;
    let kind = match crate::input::kind_of(&source.text, role) {
        Ok(k) => k,
        Err(e) => {
            out.error = Some(FileError {
                position: Some(source.line_col(e.offset)),
                message: e.message,
            });
            return out;
        }
    };
    let src = source.text.as_str();
    // One search of the file for a `# kubemig` directive, instead of one per document.
    let no_directive = crate::plan::suppress::NoDirective::of(src);
    let yaml = kind.yaml_text(src);
    let ranges = match kind.chunked() {
        true => chunks(src, chunk),
        false => std::iter::once(0..src.len()).collect(),
    };
    let mut output = match keep {
        Keep::Nothing => Output::Dropped,
        Keep::Diff if crate::report::diff::streams(src.len()) => {
            Output::Diff(crate::report::diff::Stream::new(src))
        }
        Keep::Texts | Keep::Diff => Output::Whole(String::new()),
    };
    let mut changed = false;
    let mut failure: Option<String> = None;
    let mut doc_base = 0;
    // A large stream is handled a few documents at a time, so that memory follows the
    // largest chunk, not the whole stream (see `chunks`).
    for range in ranges {
        let base = range.start;
        let text = &src[range.clone()];
        let docs = match crate::yaml::parse_stream(&yaml[range.clone()]) {
            Ok(d) => d,
            Err(e) => {
                out.error = Some(FileError {
                    position: Some(source.line_col(base + e.offset)),
                    message: kind.parse_error(e.message),
                });
                out.objects.clear();
                out.finding_positions.clear();
                out.suppressed = 0;
                return out;
            }
        };
        let mut edits = Vec::new();
        let mut expected: Vec<Option<MNode>> = Vec::with_capacity(docs.len());
        for doc in &docs {
            match no_directive.run(|| kind.plan(text, doc, ctx.catalogue, ctx.window)) {
                Ok(plan) => {
                    for mut obj in plan.objects {
                        obj.offset += base;
                        obj.doc_index += doc_base;
                        for f in &mut obj.findings {
                            f.offset += base;
                        }
                        out.push_object(&source, obj);
                    }
                    out.suppressed += plan.suppressed;
                    edits.extend(plan.edits);
                    expected.push(plan.expected);
                }
                Err(dup) => {
                    let context = kind.duplicate_context(text, &dup);
                    return out.duplicate_key(&source, &dup, base, context);
                }
            }
        }
        doc_base += docs.len();
        if failure.is_some() {
            continue;
        }
        if edits.is_empty() {
            output.push(range, text);
            continue;
        }
        changed = true;
        match rewrite(text, &docs, &edits, &expected, ctx, &*kind) {
            Ok(new) => output.push(range, &new),
            Err(why) => failure = Some(why),
        }
    }
    if let Some(why) = failure {
        out.error = Some(FileError::new(format!(
            "internal error: {why}; the file was left unchanged. Please report this with the file."
        )));
        for o in &mut out.objects {
            o.item.status = crate::plan::Status::Blocked;
        }
    } else if changed {
        out.rewrite = Some(match (keep, output) {
            (Keep::Texts, Output::Whole(new)) => (source.text, new),
            (_, Output::Whole(new)) => {
                out.diff = Some(crate::report::diff::Diff::Written(
                    crate::report::diff::hunks(&source.text, &new),
                ));
                Default::default()
            }
            (_, Output::Diff(stream)) => {
                let hunks = stream.finish();
                out.diff = Some(crate::report::diff::Diff::Kept {
                    old: source.text,
                    hunks,
                });
                Default::default()
            }
            (_, Output::Dropped) => Default::default(),
        });
    }
    out
}

/// Apply one chunk's edits and verify the result as its kind does.
fn rewrite(
    text: &str,
    docs: &[crate::yaml::Document],
    edits: &[edit::Edit],
    expected: &[Option<MNode>],
    ctx: &Context,
    kind: &dyn InputKind,
) -> Result<String, String> {
    let output = edit::apply(text, edits).map_err(|e| e.to_string())?;
    verify_rewrite(text, &output, docs, edits, expected, ctx, kind)?;
    Ok(output)
}

/// Verify `output`, which is `text` (parsed into `docs`, planned into `edits` and the
/// `expected` working trees) with `edits` applied, as the engine does before anything is
/// shown or written: a kind read in chunks has only the parts that changed parsed again
/// (`verify_parts`). Public for `examples/phases`, which times this step.
pub fn verify_rewrite(
    text: &str,
    output: &str,
    docs: &[crate::yaml::Document],
    edits: &[edit::Edit],
    expected: &[Option<MNode>],
    ctx: &Context,
    kind: &dyn InputKind,
) -> Result<(), String> {
    let (cat, window) = (ctx.catalogue, ctx.window);
    // Verification plans the output again: one search of it for a directive, too.
    crate::plan::suppress::NoDirective::of(output).run(|| match kind.chunked() {
        true => verify_parts(text, docs, edits, expected)
            .into_iter()
            .try_for_each(|p| {
                let (src, out) = (&text[p.src.clone()], &output[p.out]);
                let docs = &docs[p.docs.clone()];
                kind.verify(out, src, p.src.start, docs, &expected[p.docs], cat, window)
            }),
        false => kind.verify(output, text, 0, docs, expected, cat, window),
    })
}

/// A part of a chunk to verify: its text in the input and in the output, and its documents.
#[derive(Debug, PartialEq, Eq)]
struct Part {
    src: std::ops::Range<usize>,
    out: std::ops::Range<usize>,
    docs: std::ops::Range<usize>,
}

/// The parts of `text` that verification must parse again once `edits` are applied. The
/// text is cut where [`chunks`] may cut it (so each part parses to the same documents, and
/// reads the same suppression comments, as in the whole text), except where an edit touches
/// the cut; a part that no edit touches and whose documents the plan left alone is the very
/// same text in the output, with the same documents, so it is not parsed again. At 100 %
/// hits this halves what verification parses in a Helm stream with one old object.
fn verify_parts(
    text: &str,
    docs: &[crate::yaml::Document],
    edits: &[edit::Edit],
    expected: &[Option<MNode>],
) -> Vec<Part> {
    let whole = || {
        let grown: isize = edits.iter().map(growth).sum();
        vec![Part {
            src: 0..text.len(),
            out: 0..text.len().saturating_add_signed(grown),
            docs: 0..docs.len(),
        }]
    };
    if docs.len() < 2 {
        return whole();
    }
    // `edit::apply` took them: they do not overlap, so sorted by start their ends rise too.
    let mut sorted: Vec<&edit::Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let touches = |at: usize| {
        let before = sorted.partition_point(|e| e.range.start <= at);
        before > 0 && sorted[before - 1].range.end >= at
    };
    let cuts = cuts(text, docs).into_iter();
    let mut parts = Vec::new();
    let (mut start, mut out_start, mut doc, mut edit) = (0, 0, 0, 0);
    for end in cuts
        .filter(|&at| !touches(at))
        .chain(std::iter::once(text.len()))
    {
        let first = doc;
        while doc < docs.len() && docs[doc].root.span.start < end {
            doc += 1;
        }
        // A document running over the cut: not a place to cut after all.
        if doc > first && docs[doc - 1].root.span.end > end {
            return whole();
        }
        let first_edit = edit;
        let mut grown = 0;
        while edit < sorted.len() && sorted[edit].range.end <= end {
            grown += growth(sorted[edit]);
            edit += 1;
        }
        let out_end = out_start + (end - start).saturating_add_signed(grown);
        if edit > first_edit || expected[first..doc].iter().any(Option::is_some) {
            parts.push(Part {
                src: start..end,
                out: out_start..out_end,
                docs: first..doc,
            });
        }
        (start, out_start) = (end, out_end);
    }
    parts
}

/// How many bytes an edit adds (or, negative, removes).
fn growth(e: &edit::Edit) -> isize {
    e.text.len() as isize - e.range.len() as isize
}

/// Streams larger than this are split into chunks of about this size.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Split a stream into runs of whole documents of about `target` bytes, each starting at a
/// `---` line that (1) follows a line of YAML content, so that no comment or directive above
/// it belongs to the document it opens, and (2) is followed by content before the next
/// marker, so that what `plan::suppress` reads around every document is the same in the chunk
/// as in the whole stream. A document marker at the start of a line ends any scalar
/// (YAML 1.2, `c-forbidden`), so each chunk parses to the same documents as in the stream.
pub fn chunks(src: &str, target: usize) -> Vec<std::ops::Range<usize>> {
    if src.len() <= target {
        return std::iter::once(0..src.len()).collect();
    }
    let mut out = Vec::new();
    let mut chunk_start = 0;
    let mut prev_content = false;
    let mut pos = 0;
    while pos < src.len() {
        let (line, next) = line_at(src, pos);
        let mark = marker(line);
        if mark == Some(b'-')
            && prev_content
            && pos - chunk_start >= target
            && content_follows(src, next)
        {
            out.push(chunk_start..pos);
            chunk_start = pos;
        }
        prev_content = mark.is_none() && is_content(line);
        pos = next;
    }
    out.push(chunk_start..src.len());
    out
}

/// Where [`chunks`] may cut `src` (every such place, whatever the size), found between the
/// documents parsed from it rather than by reading every line: a `---` line ends the
/// document before it, so it lies between one document's root node and the next one's.
fn cuts(src: &str, docs: &[crate::yaml::Document]) -> Vec<usize> {
    let mut out = Vec::new();
    for pair in docs.windows(2) {
        let (end, next_root) = (pair[0].root.span.end, pair[1].root.span.start);
        let mut pos = src[..end.min(src.len())].rfind('\n').map_or(0, |n| n + 1);
        // Whether the line before the first one read is content.
        let mut prev_content = pos > 0 && {
            let start = src[..pos - 1].rfind('\n').map_or(0, |n| n + 1);
            let line = line_at(src, start).0;
            marker(line).is_none() && is_content(line)
        };
        while pos < src.len() && pos <= next_root {
            let (line, next) = line_at(src, pos);
            let mark = marker(line);
            if mark == Some(b'-') && prev_content && pos > 0 && content_follows(src, next) {
                out.push(pos);
            }
            prev_content = mark.is_none() && is_content(line);
            pos = next;
        }
    }
    out.dedup();
    out
}

/// The line that starts at `start`, with its line break, and where the next one starts.
fn line_at(src: &str, start: usize) -> (&str, usize) {
    let bytes = src.as_bytes();
    let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
    (&src[start..end], end)
}

/// Whether a line of content comes at or after `at` before the next document marker.
fn content_follows(src: &str, mut at: usize) -> bool {
    while at < src.len() {
        let (line, next) = line_at(src, at);
        if marker(line).is_some() {
            return false;
        }
        if is_content(line) {
            return true;
        }
        at = next;
    }
    false
}

/// `Some(b'-')` for a `---` line, `Some(b'.')` for a `...` line (as `plan::suppress` reads them).
fn marker(line: &str) -> Option<u8> {
    let kind = if line.starts_with("---") {
        b'-'
    } else if line.starts_with("...") {
        b'.'
    } else {
        return None;
    };
    match line.as_bytes().get(3) {
        None | Some(b' ' | b'\t' | b'\r' | b'\n') => Some(kind),
        _ => None,
    }
}

/// A line that holds YAML content (not blank, not only a comment, not a `%` directive).
fn is_content(line: &str) -> bool {
    let t = line.trim_start_matches('\u{feff}').trim();
    !(t.is_empty() || t.starts_with('#') || t.starts_with('%'))
}

impl Outcome {
    /// Roughly what holding this outcome costs: the texts it keeps.
    pub fn weight(&self) -> usize {
        256 + self
            .rewrite
            .as_ref()
            .map_or(0, |(old, new)| old.len() + new.len())
            + self.diff.as_ref().map_or(0, |d| d.weight())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;

    /// A stream of many documents: old and current APIs, comments and suppressions between
    /// documents, `...` ends, empty documents, a List, CRLF lines and a BOM.
    fn stream(docs: usize) -> String {
        let mut s = String::from("\u{feff}# header comment\n");
        for i in 0..docs {
            match i % 9 {
                0 => s.push_str(&format!("---\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: p{i}\nspec:\n  minAvailable: 1\n")),
                1 => s.push_str(&format!("# kubemig: ignore\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {{name: c{i}}}\nspec: {{schedule: '* * * * *', jobTemplate: {{spec: {{template: {{spec: {{containers: []}}}}}}}}}}\n")),
                2 => s.push_str("---\n# only a comment\n"),
                3 => s.push_str(&format!("--- \r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: m{i}\r\ndata:\r\n  k: |\r\n    text\r\n")),
                4 => s.push_str(&format!("---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: autoscaling/v2beta2\n  kind: HorizontalPodAutoscaler\n  metadata: {{name: h{i}}}\n  spec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: d}}, maxReplicas: 3}}\n...\n")),
                5 => s.push_str(&format!("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: s{i}\nspec:\n  serviceAccount: b\n  containers: [{{name: c, image: i}}]\n# trailing comment\n")),
                6 => s.push_str("---\n"),
                7 => s.push_str(&format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i} # kubemig: ignore=pod/serviceaccount-to-serviceaccountname\nspec:\n  template:\n    spec:\n      serviceAccount: x\n      containers: []\n")),
                _ => s.push_str(&format!("---\n{{\"apiVersion\": \"extensions/v1beta1\", \"kind\": \"Ingress\", \"metadata\": {{\"name\": \"i{i}\"}}, \"spec\": {{\"backend\": {{\"serviceName\": \"w\", \"servicePort\": 80}}}}}}\n")),
            }
        }
        s
    }

    fn same(a: &Outcome, b: &Outcome) {
        assert_eq!(a.error, b.error);
        assert_eq!(a.rewrite, b.rewrite);
        assert_eq!(a.suppressed, b.suppressed);
        assert_eq!(a.finding_positions, b.finding_positions);
        let objects = |o: &Outcome| {
            o.objects
                .iter()
                .map(|l| (l.line, l.col, l.item.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(objects(a), objects(b));
    }

    /// A context at the catalogue's newest release, without a prefilter.
    fn newest(cat: &Catalogue, include_deprecated: bool) -> Context<'_> {
        Context {
            catalogue: cat,
            window: Window {
                target: cat.newest,
                min: None,
                include_deprecated,
            },
            prefilter: None,
        }
    }

    #[test]
    fn a_stream_in_chunks_is_processed_as_a_whole() {
        let cat = Catalogue::embedded().unwrap();
        let ctx = newest(&cat, true);
        let text = stream(120);
        let whole = process_in_chunks(
            text.clone().into_bytes(),
            &ctx,
            Role::Plain,
            usize::MAX,
            Keep::Texts,
        );
        assert!(whole.rewrite.is_some() && whole.suppressed > 0 && whole.objects.len() > 50);
        for size in [1, 300, 1000] {
            assert!(chunks(&text, size).len() > 10);
            let parts = process_in_chunks(
                text.clone().into_bytes(),
                &ctx,
                Role::Plain,
                size,
                Keep::Texts,
            );
            same(&whole, &parts);
        }
        // An error in a late document, found in its chunk, is the whole file's error.
        for bad in [
            "---\napiVersion: v1\nkind: Service\nmetadata: {name: a}: b\n",
            "---\napiVersion: batch/v1beta1\nkind: CronJob\nkind: CronJob\n",
        ] {
            let text = format!(
                "{}{bad}{}",
                stream(60),
                stream(10).trim_start_matches('\u{feff}')
            );
            let whole = process_in_chunks(
                text.clone().into_bytes(),
                &ctx,
                Role::Plain,
                usize::MAX,
                Keep::Texts,
            );
            assert!(whole.error.is_some() && whole.objects.is_empty());
            same(
                &whole,
                &process_in_chunks(text.into_bytes(), &ctx, Role::Plain, 500, Keep::Texts),
            );
        }
    }

    /// A stream over the whole-diff limit is diffed a chunk at a time as it is rewritten:
    /// the same hunks as the diff of the whole texts, the same report, and no texts kept.
    #[test]
    fn a_large_stream_is_diffed_as_it_is_rewritten() {
        let cat = Catalogue::embedded().unwrap();
        let ctx = newest(&cat, true);
        let mut text = stream(120);
        let body = stream(120).trim_start_matches('\u{feff}').to_string();
        while !crate::report::diff::streams(text.len()) {
            text.push_str(&body);
        }
        let texts = process_keeping(text.clone().into_bytes(), &ctx, Role::Plain, Keep::Texts);
        let (old, new) = texts.rewrite.clone().unwrap();
        let diff = process_keeping(text.clone().into_bytes(), &ctx, Role::Plain, Keep::Diff);
        assert_eq!(
            diff.diff.as_ref().map(|d| d.to_bytes()),
            Some(crate::report::diff::hunks(&old, &new))
        );
        assert!(matches!(
            diff.diff,
            Some(crate::report::diff::Diff::Kept { .. })
        ));
        assert_eq!(diff.rewrite, Some(Default::default()));
        let check = process_keeping(text.into_bytes(), &ctx, Role::Plain, Keep::Nothing);
        assert_eq!(check.rewrite, Some(Default::default()));
        assert_eq!(check.diff, None);
        for o in [&diff, &check] {
            assert_eq!(o.objects.len(), texts.objects.len());
            assert_eq!(o.finding_positions, texts.finding_positions);
        }
    }

    /// Plan every document of `text` as a plain manifest: its documents, edits and
    /// expected trees.
    fn planned(
        text: &str,
        ctx: &Context,
    ) -> (
        Vec<crate::yaml::Document>,
        Vec<edit::Edit>,
        Vec<Option<MNode>>,
    ) {
        let docs = crate::yaml::parse_stream(text).unwrap();
        let (mut edits, mut expected) = (Vec::new(), Vec::new());
        for doc in &docs {
            let plan = crate::input::plain::Plain
                .plan(text, doc, ctx.catalogue, ctx.window)
                .unwrap();
            edits.extend(plan.edits);
            expected.push(plan.expected);
        }
        (docs, edits, expected)
    }

    #[test]
    fn verification_parses_again_only_the_parts_that_changed() {
        let cat = Catalogue::embedded().unwrap();
        let ctx = newest(&cat, false);
        let svc = |n: usize| format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: s{n}\n");
        let old = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: p\nspec:\n  minAvailable: 1\n";
        let text = format!(
            "{}---\n# Source: x\n{old}---\n{}---\n{}",
            svc(0),
            svc(1),
            svc(2)
        );
        let (docs, edits, expected) = planned(&text, &ctx);
        assert!(!edits.is_empty());
        let output = edit::apply(&text, &edits).unwrap();
        let parts = verify_parts(&text, &docs, &edits, &expected);
        // Only the second document, cut at its `---` and the next one.
        let start = text.find("---").unwrap();
        let end = start + 4 + text[start + 4..].find("---").unwrap();
        let out_end = end + output.len() - text.len();
        assert_eq!(
            parts,
            vec![Part {
                src: start..end,
                out: start..out_end,
                docs: 1..2
            }]
        );
        assert_eq!(&output[out_end..], &text[end..]);
        assert!(
            rewrite(
                &text,
                &docs,
                &edits,
                &expected,
                &ctx,
                &crate::input::plain::Plain
            )
            .is_ok()
        );
        // An edit that touches a cut joins the parts on either side.
        let mut touching = edits.clone();
        touching.push(edit::Edit::insert(end, "# x\n"));
        let parts = verify_parts(&text, &docs, &touching, &expected);
        assert_eq!(parts.len(), 1);
        let next = text[end + 4..].find("---").unwrap() + end + 4;
        assert_eq!(
            (parts[0].src.clone(), parts[0].docs.clone()),
            (start..next, 1..3)
        );
        // A wrong edit is found in any part: in the changed document, or in one the plan
        // left alone (whose part is then parsed again too).
        for (at, what) in [
            (text.find("name: p").unwrap() + 6, "q"),
            (text.find("name: s2").unwrap() + 6, "t"),
        ] {
            let mut wrong = edits.clone();
            wrong.push(edit::Edit::replace(at..at + 1, what));
            let err = rewrite(
                &text,
                &docs,
                &wrong,
                &expected,
                &ctx,
                &crate::input::plain::Plain,
            )
            .unwrap_err();
            assert!(err.contains("does not mean"), "{err}");
        }
    }

    #[test]
    fn cuts_between_documents_are_where_chunks_may_start() {
        let texts = [
            stream(120),
            "a: 1\n---\nb: 2\n# c\n---\nc: 3\n---\n---\nd: 4\n...\n%YAML 1.2\n---\ne: 5\n".to_string(),
            "--- a\n--- b\n---\nk: v\n---\n# x\nc: |\n  t\n---\nd: [1,\n  2]\n---\n--- e\n---\nf: 1 # c\n---\n\n# y\ng: 1\n...\n---\nh\n".to_string(),
        ];
        for text in texts {
            let docs = crate::yaml::parse_stream(&text).unwrap();
            let starts: Vec<usize> = chunks(&text, 1).iter().skip(1).map(|r| r.start).collect();
            assert!(!starts.is_empty());
            assert_eq!(cuts(&text, &docs), starts, "{text:?}");
        }
    }

    #[test]
    fn chunks_start_at_a_marker_after_content_and_before_content() {
        let text = "a: 1\n---\nb: 2\n# c\n---\nc: 3\n---\n---\nd: 4\n%YAML 1.2\n---\ne: 5\n";
        let starts: Vec<usize> = chunks(text, 1).iter().map(|r| r.start).collect();
        // After `a: 1` (content, then content); not after `# c`, not before an empty
        // document, not after a directive.
        assert_eq!(starts, vec![0, 5]);
        assert_eq!(chunks(text, usize::MAX), vec![0..text.len()]);
        let joined: String = chunks(text, 1).into_iter().map(|r| &text[r]).collect();
        assert_eq!(joined, text);
    }
}
