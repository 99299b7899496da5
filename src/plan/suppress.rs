//! Suppression comments: `# kubemig: ignore` anywhere in a document skips every object in
//! it; `# kubemig: ignore=ID[,ID…]` skips only the migrations with those ids (see `kubemig
//! list`; any id on an object's migration chain counts, and field migration ids work too).
//! Text after the directive (`# kubemig: ignore=ID  -- why`) is free.
//!
//! A document is the text between its `---` (or the file's start, or the end of the previous
//! document's `...`) and the next `---` or its own `...`. A comment above a document's `---`
//! belongs to it when nothing but comments separates it from the previous document's end. A
//! `#` inside a quoted or block scalar is text, not a comment.

use crate::catalogue::Catalogue;
use crate::catalogue::codes;
use crate::plan::{Finding, ObjectReport};
use crate::yaml::{Document, Node, NodeKind};

const MARK: &str = "kubemig";

/// The SIMD search for [`MARK`], built once: asked for every document, and once per file.
static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(MARK));

thread_local! {
    /// The text (address and length) that [`NoDirective::run`] is running on, when it holds
    /// no [`MARK`] at all.
    static CLEAN: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

/// Whether a file's text holds no directive at all, found with one search of the whole text.
/// Most files have none; without this, [`Suppress::scan`] would find the region of every
/// document (a walk over its lines and its neighbours') only to search it for nothing.
#[derive(Debug, Clone, Copy)]
pub struct NoDirective<'t> {
    /// The text, when it holds no [`MARK`].
    clean: Option<&'t str>,
}

impl<'t> NoDirective<'t> {
    pub fn of(text: &'t str) -> NoDirective<'t> {
        NoDirective {
            clean: FINDER.find(text.as_bytes()).is_none().then_some(text),
        }
    }

    /// Run `f`, in which a [`Suppress::scan`] of this text, or of a part of it, knows at once
    /// that there is nothing to read. The text is borrowed while `f` runs, so nothing else
    /// can be at its address then; any other text is scanned as always.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let Some(text) = self.clean else {
            return f();
        };
        struct Restore(Option<(usize, usize)>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CLEAN.with(|c| c.set(self.0));
            }
        }
        let _restore =
            Restore(CLEAN.with(|c| c.replace(Some((text.as_ptr() as usize, text.len())))));
        f()
    }
}

/// Whether `src` lies within a text that [`NoDirective::run`] found has no [`MARK`].
fn known_clean(src: &str) -> bool {
    CLEAN.with(|c| {
        c.get().is_some_and(|(at, len)| {
            let start = src.as_ptr() as usize;
            start >= at && start + src.len() <= at + len
        })
    })
}

/// The suppression directives of one document, and what they skipped.
#[derive(Debug, Default)]
pub struct Suppress {
    /// `# kubemig: ignore`: the whole document.
    all: bool,
    /// `# kubemig: ignore=…`: these migration ids, with the directive's byte offset.
    ids: Vec<(String, usize)>,
    /// How many reports were skipped.
    pub skipped: usize,
}

impl Suppress {
    /// Read the directives of `doc`, a document of `src`.
    pub fn scan(src: &str, doc: &Document) -> Suppress {
        let mut s = Suppress::default();
        if known_clean(src) {
            return s;
        }
        let (start, end) = region(src, doc.root.span.start);
        // Only this document's text: a search of the whole text per document would make a
        // large stream quadratic.
        if FINDER.find(&src.as_bytes()[start..end]).is_none() {
            return s;
        }
        let mut scalars = Vec::new();
        scalar_spans(&doc.root, &mut scalars);
        let text = &src[start..end];
        for (i, _) in text.match_indices('#') {
            let at = start + i;
            let before = src[..at].chars().next_back();
            if before.is_some_and(|c| !c.is_whitespace())
                || scalars.iter().any(|r| r.start <= at && at < r.end)
            {
                continue;
            }
            let line_end = src[at..].find('\n').map_or(src.len(), |n| at + n);
            match parse(&src[at + 1..line_end]) {
                Some(None) => s.all = true,
                Some(Some(ids)) => s.ids.extend(ids.into_iter().map(|id| (id, at))),
                None => {}
            }
        }
        s
    }

    /// Whether the object (`api`, `kind`) is skipped: the whole document is, or an id on its
    /// migration chain is named.
    pub fn skips_object(&self, cat: &Catalogue, api: &str, kind: &str) -> bool {
        if self.all {
            return true;
        }
        if self.ids.is_empty() {
            return false;
        }
        cat.chain_from(api, kind)
            .any(|hop| self.skips_id(&hop.meta.id))
    }

    /// Whether the migration `id` is named by a directive.
    pub fn skips_id(&self, id: &str) -> bool {
        self.all || self.ids.iter().any(|(i, _)| i == id)
    }

    /// Warn, on the document's reported objects, about ids that name no migration: the
    /// directive does nothing, which is never what its author meant.
    pub fn warn_unknown(&self, cat: &Catalogue, objects: &mut [ObjectReport]) {
        for (id, at) in &self.ids {
            let known = cat.hop(id).is_some() || cat.fields.iter().any(|f| &f.meta.id == id);
            if known {
                continue;
            }
            for o in objects.iter_mut() {
                o.findings.push(Finding::new(
                    codes::KUBEMIG_IGNORE_UNKNOWN,
                    format!(
                        "`# kubemig: ignore={id}` names no migration, so it suppresses nothing; `kubemig list` shows the ids"
                    ),
                    *at,
                ));
            }
        }
    }
}

/// What follows a `#`: `None` if it is not a directive, `Some(None)` for a bare `ignore`,
/// `Some(Some(ids))` for `ignore=ID,…`.
fn parse(comment: &str) -> Option<Option<Vec<String>>> {
    let rest = comment.trim_start().strip_prefix(MARK)?;
    let rest = rest
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix("ignore")?;
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        return Some(None);
    }
    let list = rest.strip_prefix('=')?;
    // Ids are separated by commas (spaces around them allowed); the list ends at a space
    // that no comma follows, and the rest is a free-form reason.
    let mut ids = Vec::new();
    let mut rest = list.trim_start();
    loop {
        let end = rest
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        if end > 0 {
            ids.push(rest[..end].to_string());
        }
        let after = rest[end..].trim_start();
        match after.strip_prefix(',') {
            Some(more) => rest = more.trim_start(),
            None => break,
        }
    }
    // `ignore=` with nothing after it names nothing: not a directive.
    if ids.is_empty() {
        None
    } else {
        Some(Some(ids))
    }
}

/// The byte range of the document whose root node starts at `root_start`. Walks only the
/// lines of this document and its neighbours' edges: asked once per document, so a walk
/// over the whole text would make a large stream quadratic.
fn region(src: &str, root_start: usize) -> (usize, usize) {
    let root = line_around(src, root_start);
    // Start: the `---` that opens the document, the line after the previous `...`, or the
    // file's start.
    let mut start = 0;
    let mut opening = None;
    let mut l = root.clone();
    loop {
        match marker(&src[l.clone()]) {
            Some(Marker::Start) => {
                start = l.start;
                opening = Some(l.start);
                break;
            }
            Some(Marker::End) if l.start < root.start => {
                start = l.end;
                break;
            }
            _ => {}
        }
        if l.start == 0 {
            break;
        }
        l = line_around(src, l.start - 1);
    }
    // Comments above the opening `---` come along when no document owns them: back to the
    // previous `...` or the file's start, through documents that are only comments.
    if let Some(open) = opening {
        let mut j = open;
        loop {
            if j == 0 {
                start = 0;
                break;
            }
            let prev = line_around(src, j - 1);
            j = prev.start;
            match marker(&src[prev.clone()]) {
                Some(Marker::End) => {
                    start = prev.end;
                    break;
                }
                Some(Marker::Start) => {}
                None if is_content(&src[prev]) => {
                    start = open;
                    break;
                }
                None => {}
            }
        }
    }
    // End: the next `---`, or past this document's `...`, or the end of the file.
    let mut end = src.len();
    let mut k = root.end;
    while k < src.len() {
        let l = line_around(src, k);
        match marker(&src[l.clone()]) {
            Some(Marker::Start) => {
                end = l.start;
                break;
            }
            Some(Marker::End) => {
                end = l.end;
                break;
            }
            None => {}
        }
        k = l.end;
    }
    (start.min(end), end)
}

/// The line of `src` that holds byte `at`, with its line break; the end of the text
/// belongs to the last line.
fn line_around(src: &str, at: usize) -> std::ops::Range<usize> {
    let b = src.as_bytes();
    if b.is_empty() {
        return 0..0;
    }
    let at = at.min(b.len() - 1);
    let start = memchr::memrchr(b'\n', &b[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i + 1);
    start..end
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Start,
    End,
}

fn marker(line: &str) -> Option<Marker> {
    let kind = if line.starts_with("---") {
        Marker::Start
    } else if line.starts_with("...") {
        Marker::End
    } else {
        return None;
    };
    match line[3..].chars().next() {
        None | Some(' ' | '\t' | '\r' | '\n') => Some(kind),
        _ => None,
    }
}

/// A line that holds YAML content (not blank, not only a comment, not a `%` directive).
fn is_content(line: &str) -> bool {
    let t = line.trim_start_matches('\u{feff}').trim();
    !(t.is_empty() || t.starts_with('#') || t.starts_with('%'))
}

fn scalar_spans(node: &Node, out: &mut Vec<std::ops::Range<usize>>) {
    match &node.kind {
        NodeKind::Scalar { .. } => out.push(node.span.clone()),
        NodeKind::Map { entries, .. } => {
            for (k, v) in entries {
                scalar_spans(k, out);
                scalar_spans(v, out);
            }
        }
        NodeKind::Seq { items, .. } => items.iter().for_each(|i| scalar_spans(i, out)),
        NodeKind::Alias(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line-table walk `region` replaced, kept to hold the two equal.
    fn region_by_all_lines(src: &str, root_start: usize) -> (usize, usize) {
        let lines = line_starts(src);
        let line = |i: usize| {
            let e = lines.get(i + 1).copied().unwrap_or(src.len());
            &src[lines[i]..e]
        };
        let root_line = lines
            .partition_point(|&s| s <= root_start)
            .saturating_sub(1);
        // Start: the `---` that opens the document, the line after the previous `...`, or the
        // file's start.
        let mut start = 0;
        let mut opening = None;
        for i in (0..=root_line).rev() {
            match marker(line(i)) {
                Some(Marker::Start) => {
                    start = lines[i];
                    opening = Some(i);
                    break;
                }
                Some(Marker::End) if i < root_line => {
                    start = lines[i + 1];
                    break;
                }
                _ => {}
            }
        }
        // Comments above the opening `---` come along when no document owns them: back to the
        // previous `...` or the file's start, through documents that are only comments.
        if let Some(open) = opening {
            let mut j = open;
            loop {
                if j == 0 {
                    start = 0;
                    break;
                }
                j -= 1;
                match marker(line(j)) {
                    Some(Marker::End) => {
                        start = lines[j + 1];
                        break;
                    }
                    Some(Marker::Start) => {}
                    None if is_content(line(j)) => {
                        start = lines[open];
                        break;
                    }
                    None => {}
                }
            }
        }
        // End: the next `---`, or past this document's `...`, or the end of the file.
        let mut end = src.len();
        for k in root_line + 1..lines.len() {
            match marker(line(k)) {
                Some(Marker::Start) => {
                    end = lines[k];
                    break;
                }
                Some(Marker::End) => {
                    end = lines.get(k + 1).copied().unwrap_or(src.len());
                    break;
                }
                None => {}
            }
        }
        (start.min(end), end)
    }

    fn line_starts(src: &str) -> Vec<usize> {
        std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i < src.len() || i == 0)
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn region_walks_only_nearby_lines_and_finds_what_a_whole_walk_finds(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["---
", "--- x
", "...
", "# c
", "a: 1
", "
", "  b
", "---", "...", "#
", "---
"]),
                0..24,
            ),
            at in 0usize..200,
        ) {
            let src: String = parts.concat();
            let at = at.min(src.len());
            proptest::prop_assert_eq!(region(&src, at), region_by_all_lines(&src, at));
        }
    }

    #[test]
    fn parses_directives() {
        assert_eq!(parse(" kubemig: ignore"), Some(None));
        assert_eq!(parse("kubemig:ignore -- legacy cluster"), Some(None));
        assert_eq!(
            parse(" kubemig: ignore=a/b-c, d  why"),
            Some(Some(vec!["a/b-c".into(), "d".into()]))
        );
        assert_eq!(parse(" kubemig: ignore=x"), Some(Some(vec!["x".into()])));
        assert_eq!(parse(" kubemig: ignored"), None);
        assert_eq!(parse(" kubemig: ignore="), None);
        assert_eq!(parse(" see kubemig: ignore"), None);
    }

    fn docs(src: &str) -> Vec<Suppress> {
        crate::yaml::parse_stream(src)
            .unwrap()
            .iter()
            .map(|d| Suppress::scan(src, d))
            .collect()
    }

    #[test]
    fn a_directive_belongs_to_its_document() {
        let src = "# kubemig: ignore\na: 1\n---\nb: 2\n# kubemig: ignore=x\n---\nc: 3\n";
        let d = docs(src);
        assert!(d[0].all && d[0].ids.is_empty());
        assert!(!d[1].all && d[1].ids.len() == 1);
        assert!(!d[2].all && d[2].ids.is_empty());
    }

    #[test]
    fn comments_above_a_first_marker_belong_to_the_document() {
        let d = docs("# kubemig: ignore\n---\na: 1\n---\nb: 2\n");
        assert!(d[0].all);
        assert!(!d[1].all);
        let d = docs("a: 1\n...\n# kubemig: ignore\n---\nb: 2\n");
        assert!(!d[0].all);
        assert!(d[1].all);
    }

    #[test]
    fn text_in_scalars_is_not_a_directive() {
        let d =
            docs("a: \"x # kubemig: ignore\"\nb: |\n  # kubemig: ignore\nc: x#kubemig:ignore\n");
        assert!(!d[0].all);
    }
}
