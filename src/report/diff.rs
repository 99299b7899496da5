//! Unified diffs that `git apply` and `patch -p1` accept.
//!
//! A migration changes a few lines here and there. A large file's texts are diffed one YAML
//! document at a time (when both have the same document markers), so that memory follows
//! the largest changed document, not the file (a diff of the whole texts holds a line
//! table of each and Myers's arrays: several times the file). The hunks are grouped across
//! documents as one diff of the whole texts groups them (3 lines of context, hunks closer
//! than 6 lines merged). Where a change could be placed on either of two equal lines, the
//! whole diff and the document's diff may place it differently (both are minimal and apply
//! alike); files up to [`WHOLE_DIFF_BYTES`] are diffed whole, as they always were.

use std::io::{self, Write};
use std::ops::Range;

use anstyle::{AnsiColor, Style};
use similar::{DiffTag, TextDiff};

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// Texts up to this size (old and new together) are diffed whole; larger ones a document at
/// a time.
const WHOLE_DIFF_BYTES: usize = 8 << 20;

/// Write the diff of `old` → `new` for `name` (`a/NAME`, `b/NAME` headers).
pub fn write(w: &mut dyn Write, name: &str, old: &str, new: &str) -> io::Result<()> {
    header(w, name)?;
    w.write_all(&hunks(old, new))
}

/// The `---`/`+++` lines that name the file a diff's hunks are for.
pub fn header(w: &mut dyn Write, name: &str) -> io::Result<()> {
    let header = Style::new().bold();
    writeln!(w, "{header}--- {}{header:#}", header_name("a/", name))?;
    writeln!(w, "{header}+++ {}{header:#}", header_name("b/", name))
}

/// The hunks of the diff of `old` → `new` (what follows [`header`]): whole, or a document
/// at a time for large texts.
pub fn hunks(old: &str, new: &str) -> Vec<u8> {
    let by_document = old.len() + new.len() > WHOLE_DIFF_BYTES;
    hunks_in(old, new, by_document)
}

/// [`hunks`], a document at a time or whole.
fn hunks_in(old: &str, new: &str, by_document: bool) -> Vec<u8> {
    let mut stream = Stream::new(old);
    match by_document {
        true => stream.chunk(0..old.len(), new),
        false => stream.pair(0..old.len(), new),
    }
    let mut w = Vec::new();
    // Writing to a `Vec` cannot fail.
    let _ = stream.finish().write(old, &mut w);
    w
}

/// A diff's hunks, kept until they are reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    /// Written out (a file's text up to the whole-diff limit: its hunks are small).
    Written(Vec<u8>),
    /// The old text and the hunks as pieces of it plus their new lines, written when
    /// reported: a large stream's hunks hold its context and removed lines, so written out
    /// they are about half of the stream again; kept, only what is new is held besides it.
    Kept { old: String, hunks: Recorded },
}

impl Diff {
    /// Write the hunks (what follows [`header`]).
    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Diff::Written(bytes) => w.write_all(bytes),
            Diff::Kept { old, hunks } => hunks.write(old, w),
        }
    }

    /// The bytes held.
    pub fn weight(&self) -> usize {
        match self {
            Diff::Written(bytes) => bytes.len(),
            Diff::Kept { old, hunks } => old.len() + hunks.weight(),
        }
    }

    /// The hunks written out.
    #[cfg(test)]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Vec::new();
        // Writing to a `Vec` cannot fail.
        let _ = self.write(&mut w);
        w
    }
}

/// Hunks as pieces of an old text (not held here) and the new lines of their changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The new lines of every change, one after the other, in segments that are filled and
    /// never grown: a stream's new lines are tens of MB, and a `String` doubled to hold them
    /// would copy them and leave the allocator its old halves, up to twice over.
    new: Vec<String>,
    hunks: Vec<Hunk>,
}

/// The first and the largest segment of [`Recorded::new`].
const SEGMENT_MIN: usize = 4 << 10;
const SEGMENT_MAX: usize = 1 << 20;

/// One run of a hunk: lines of the old text (equal, removed) and of [`Recorded::new`]
/// (inserted).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    tag: DiffTag,
    old: Range<usize>,
    /// The segment of [`Recorded::new`] and the range in it.
    new: (usize, Range<usize>),
}

/// A hunk: its header's line ranges and its pieces (a vector each: one for all would be
/// doubled as it grew, as [`Recorded::new`] would).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hunk {
    old: HunkRange,
    new: HunkRange,
    pieces: Vec<Piece>,
}

impl Recorded {
    /// Write every hunk, `old` being the text the pieces are of: rendered a few hunks at a
    /// time, so that a stream's diff is never held written out whole.
    pub fn write(&self, old: &str, w: &mut dyn Write) -> io::Result<()> {
        const SPILL: usize = 64 << 10;
        let mut buf = Vec::with_capacity(SPILL);
        for h in &self.hunks {
            self.write_one(old, h, &mut buf);
            if buf.len() >= SPILL {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)
    }

    fn write_one(&self, old: &str, h: &Hunk, w: &mut Vec<u8>) {
        let hunk_style = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
        let del = Style::new().fg_color(Some(AnsiColor::Red.into()));
        let ins = Style::new().fg_color(Some(AnsiColor::Green.into()));
        // Writing to a `Vec` cannot fail.
        let _ = writeln!(w, "{hunk_style}@@ -{} +{} @@{hunk_style:#}", h.old, h.new);
        for p in &h.pieces {
            let old = &old[p.old.clone()];
            let new = &self.new[p.new.0][p.new.1.clone()];
            match p.tag {
                DiffTag::Equal => lines(w, ' ', Style::new(), old),
                DiffTag::Delete => lines(w, '-', del, old),
                DiffTag::Insert => lines(w, '+', ins, new),
                DiffTag::Replace => {
                    lines(w, '-', del, old);
                    lines(w, '+', ins, new);
                }
            }
        }
    }

    /// Append `text` to the new lines: its segment and range there.
    fn push_new(&mut self, text: &str) -> (usize, Range<usize>) {
        let full = self
            .new
            .last()
            .is_none_or(|b| b.len() + text.len() > b.capacity());
        if full {
            let size = self.new.last().map_or(SEGMENT_MIN, |b| b.capacity() * 2);
            self.new
                .push(String::with_capacity(size.min(SEGMENT_MAX).max(text.len())));
        }
        let last = self.new.len() - 1;
        let b = &mut self.new[last];
        let at = b.len();
        b.push_str(text);
        (last, at..b.len())
    }

    fn weight(&self) -> usize {
        self.new.iter().map(String::capacity).sum::<usize>()
            + self
                .hunks
                .iter()
                .map(|h| {
                    std::mem::size_of::<Hunk>() + h.pieces.len() * std::mem::size_of::<Piece>()
                })
                .sum::<usize>()
    }
}

/// Whether a text of `len` bytes is surely diffed a document at a time by [`hunks`]
/// whatever its rewrite, and so may be diffed a chunk at a time with [`Stream`] as the
/// rewrite is made.
pub fn streams(len: usize) -> bool {
    len > WHOLE_DIFF_BYTES
}

/// A diff made as the new text is made, a piece at a time, with the whole old text at
/// hand: each piece of the new text is diffed against its piece of the old one a document
/// at a time, and can be dropped once given. Only the hunks are kept.
pub struct Stream<'a> {
    old: &'a str,
    hunks: Hunks<'a>,
    at_old: usize,
    at_new: usize,
}

impl<'a> Stream<'a> {
    pub fn new(old: &'a str) -> Stream<'a> {
        Stream {
            old,
            hunks: Hunks::new(old),
            at_old: 0,
            at_new: 0,
        }
    }

    /// The next piece: `old[range]` (the pieces given so far end where it starts) became
    /// `new`; their documents are paired by their `---` markers.
    pub fn chunk(&mut self, range: Range<usize>, new: &str) {
        for (o, n) in documents(&self.old[range.clone()], new) {
            let o = range.start + o.start..range.start + o.end;
            self.pair(o, &new[n]);
        }
    }

    /// `old[o]` became `b`, diffed as a whole.
    fn pair(&mut self, o: Range<usize>, b: &str) {
        let a = &self.old[o.clone()];
        if a == b {
            let len = count_lines(a);
            self.hunks
                .op(Op::equal(self.at_old, self.at_new, len, o), "");
            self.at_old += len;
            self.at_new += len;
            return;
        }
        let diff = TextDiff::from_lines(a, b);
        for op in diff.ops() {
            let (tag, or, nr) = op.as_tag_tuple();
            let new = span(|i| diff.new_slice(i), b, 0, nr.clone());
            let op = Op {
                tag,
                old_at: self.at_old + or.start,
                old_len: or.len(),
                new_at: self.at_new + nr.start,
                new_len: nr.len(),
                old: span(|i| diff.old_slice(i), a, o.start, or),
                new: (0, 0..0),
            };
            self.hunks.op(op, &b[new]);
        }
        self.at_old += diff.old_len();
        self.at_new += diff.new_len();
    }

    /// The hunks, as pieces of the old text.
    pub fn finish(self) -> Recorded {
        self.hunks.finish()
    }
}

/// Lines `r` of `text` (whose line `i` is `line(i)`) as a byte range, `offset` added.
fn span<'t>(
    line: impl Fn(usize) -> Option<&'t str>,
    text: &str,
    offset: usize,
    r: Range<usize>,
) -> Range<usize> {
    let at = |s: &str| s.as_ptr() as usize - text.as_ptr() as usize;
    match (line(r.start), r.end.checked_sub(1).and_then(&line)) {
        (Some(first), Some(last)) if !r.is_empty() => {
            offset + at(first)..offset + at(last) + last.len()
        }
        _ => offset..offset,
    }
}

/// The documents of `old` and `new`, paired: byte ranges that each start at a `---` line
/// (the first at the start of the text). When the texts do not have the same number of
/// markers (a migration added or removed a document), the whole texts as one pair.
fn documents(old: &str, new: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let (a, b) = (markers(old), markers(new));
    if a.len() != b.len() {
        return vec![(0..old.len(), 0..new.len())];
    }
    let ranges = |starts: Vec<usize>, len: usize| -> Vec<Range<usize>> {
        let ends = starts.iter().skip(1).copied().chain([len]);
        starts
            .iter()
            .copied()
            .zip(ends)
            .map(|(s, e)| s..e)
            .collect()
    };
    ranges(a, old.len())
        .into_iter()
        .zip(ranges(b, new.len()))
        .collect()
}

/// 0 and the offset of every `---` document marker line after it.
fn markers(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut out = vec![0];
    for nl in memchr::memmem::find_iter(bytes, b"\n---") {
        let at = nl + 1;
        if matches!(bytes.get(at + 3), None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            out.push(at);
        }
    }
    out
}

/// What a diff op says, with its lines as byte ranges of the old and new texts (an equal
/// run's text is taken from the old one).
#[derive(Clone)]
struct Op {
    tag: DiffTag,
    old_at: usize,
    old_len: usize,
    new_at: usize,
    new_len: usize,
    old: Range<usize>,
    /// Where in [`Recorded::new`] its new lines are.
    new: (usize, Range<usize>),
}

impl Op {
    fn equal(old_at: usize, new_at: usize, len: usize, bytes: Range<usize>) -> Op {
        Op {
            tag: DiffTag::Equal,
            old_at,
            old_len: len,
            new_at,
            new_len: len,
            old: bytes,
            new: (0, 0..0),
        }
    }
}

/// Groups ops into hunks as they come, as `similar::group_diff_ops` groups the ops of a
/// whole diff: the first equal run cut to its last lines of context, the last one to its
/// first, and a hunk ended at an equal run longer than twice the context.
struct Hunks<'a> {
    /// The hunks so far.
    done: Recorded,
    old: &'a str,
    /// Equal runs not yet placed, merged (whether one is the last is known at the end).
    equal: Option<Op>,
    /// Whether an op has been placed (the first equal run is cut differently).
    started: bool,
    group: Vec<Op>,
}

impl<'a> Hunks<'a> {
    fn new(old: &'a str) -> Hunks<'a> {
        Hunks {
            done: Recorded::default(),
            old,
            equal: None,
            started: false,
            group: Vec::new(),
        }
    }

    /// Take the next op; `new`: its new lines (an equal op's are its old ones).
    fn op(&mut self, mut op: Op, new: &str) {
        if op.tag == DiffTag::Equal {
            if op.old_len == 0 {
                return;
            }
            match &mut self.equal {
                Some(e) => {
                    e.old_len += op.old_len;
                    e.new_len += op.new_len;
                    e.old.end = op.old.end;
                }
                None => self.equal = Some(op),
            }
            return;
        }
        if let Some(e) = self.equal.take() {
            self.place_equal(e, false);
        }
        self.started = true;
        // The new text is given a piece at a time, and a hunk may span pieces: its new
        // lines are kept.
        op.new = self.done.push_new(new);
        self.group.push(op);
    }

    fn place_equal(&mut self, mut e: Op, last: bool) {
        let n = CONTEXT;
        if !self.started {
            self.started = true;
            let skip = e.old_len.saturating_sub(n);
            e = self.cut(&e, skip, e.old_len - skip);
        }
        if last {
            let keep = e.old_len.min(n);
            e = self.cut(&e, 0, keep);
        }
        if e.old_len > n * 2 {
            let head = self.cut(&e, 0, n);
            self.group.push(head);
            self.flush();
            let tail = self.cut(&e, e.old_len - n, n);
            self.group.push(tail);
        } else {
            self.group.push(e);
        }
    }

    /// `len` lines of the equal run `e` from its line `skip`.
    fn cut(&self, e: &Op, skip: usize, len: usize) -> Op {
        let text = &self.old[e.old.clone()];
        let start = skip_lines(text, skip);
        let end = start + skip_lines(&text[start..], len);
        Op::equal(
            e.old_at + skip,
            e.new_at + skip,
            len,
            e.old.start + start..e.old.start + end,
        )
    }

    fn finish(mut self) -> Recorded {
        if let Some(e) = self.equal.take() {
            self.place_equal(e, true);
        }
        self.flush();
        self.done
    }

    /// Record the group as a hunk, unless it holds no change.
    fn flush(&mut self) {
        let group = std::mem::take(&mut self.group);
        if group.iter().all(|op| op.tag == DiffTag::Equal) {
            return;
        }
        let (first, last) = (&group[0], &group[group.len() - 1]);
        self.done.hunks.push(Hunk {
            old: HunkRange(first.old_at, last.old_at + last.old_len),
            new: HunkRange(first.new_at, last.new_at + last.new_len),
            pieces: group
                .iter()
                .map(|op| Piece {
                    tag: op.tag,
                    old: op.old.clone(),
                    new: op.new.clone(),
                })
                .collect(),
        });
        // The group's vector is kept for the next hunk.
        self.group = group;
        self.group.clear();
    }
}

/// `text`'s lines, each after `sign` and in `style`.
fn lines(w: &mut Vec<u8>, sign: char, style: Style, text: &str) {
    let mut rest = text;
    while !rest.is_empty() {
        let end = skip_lines(rest, 1);
        let line = &rest[..end];
        rest = &rest[end..];
        let body = line.strip_suffix('\n').unwrap_or(line);
        let _ = writeln!(w, "{style}{sign}{body}{style:#}");
        if !line.ends_with(['\r', '\n']) {
            w.extend_from_slice(b"\\ No newline at end of file\n");
        }
    }
}

/// A hunk header's range, as `similar` (and diff) writes it: `START,LEN`, 1-based, `START`
/// alone for one line, the line before for none.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HunkRange(usize, usize);

impl std::fmt::Display for HunkRange {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let len = self.1.saturating_sub(self.0);
        match len {
            1 => write!(f, "{}", self.0 + 1),
            0 => write!(f, "{},0", self.0),
            _ => write!(f, "{},{len}", self.0 + 1),
        }
    }
}

/// The byte offset after the first `n` lines of `text` (all of it if it has fewer), lines
/// ending as `similar` ends them: at `\n`, `\r\n` or a lone `\r`.
fn skip_lines(text: &str, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let bytes = text.as_bytes();
    let mut left = n;
    for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
            continue;
        }
        left -= 1;
        if left == 0 {
            return at + 1;
        }
    }
    bytes.len()
}

/// The number of lines of `text`, counted as `similar` counts them.
fn count_lines(text: &str) -> usize {
    let bytes = text.as_bytes();
    let ends = memchr::memchr2_iter(b'\n', b'\r', bytes)
        .filter(|&at| !(bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n')))
        .count();
    ends + usize::from(!bytes.is_empty() && !text.ends_with(['\r', '\n']))
}

/// The file name on a `---`/`+++` line, spelled as `git diff` spells it so that both
/// `git apply` and `patch` read it back: C-quoted when it holds a quote, a backslash or a
/// control character; followed by a tab when it holds a space (otherwise `patch` stops the
/// name at the space).
fn header_name(prefix: &str, name: &str) -> String {
    if name
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_ascii_control())
    {
        let mut q = String::with_capacity(name.len() + prefix.len() + 2);
        q.push('"');
        q.push_str(prefix);
        for c in name.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\t' => q.push_str("\\t"),
                '\n' => q.push_str("\\n"),
                '\r' => q.push_str("\\r"),
                c if c.is_ascii_control() => q.push_str(&format!("\\{:03o}", c as u32)),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    } else if name.contains(' ') {
        format!("{prefix}{name}\t")
    } else {
        format!("{prefix}{name}")
    }
}

#[cfg(test)]
mod tests {
    /// The header and [`super::hunks_in`].
    fn write_in(
        w: &mut Vec<u8>,
        name: &str,
        old: &str,
        new: &str,
        by_document: bool,
    ) -> std::io::Result<()> {
        super::header(w, name)?;
        w.extend(super::hunks_in(old, new, by_document));
        Ok(())
    }

    #[test]
    fn header_names_are_spelled_like_git() {
        use super::header_name;
        assert_eq!(header_name("a/", "x/y.yaml"), "a/x/y.yaml");
        assert_eq!(header_name("b/", "my file.yaml"), "b/my file.yaml\t");
        assert_eq!(header_name("a/", "q\"uote.yaml"), r#""a/q\"uote.yaml""#);
        assert_eq!(header_name("a/", "tab\tname.yaml"), r#""a/tab\tname.yaml""#);
        assert_eq!(header_name("a/", "b\\s \x01.yaml"), r#""a/b\\s \001.yaml""#);
        assert_eq!(header_name("a/", "ünï.yaml"), "a/ünï.yaml");
    }

    fn plain(out: Vec<u8>) -> String {
        anstream::adapter::strip_str(&String::from_utf8(out).unwrap()).to_string()
    }

    #[test]
    fn plain_unified_diff() {
        let mut out = Vec::new();
        super::write(&mut out, "x.yaml", "a: 1\nb: 2\n", "a: 1\nb: 3\n").unwrap();
        assert_eq!(
            plain(out),
            "--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1,2 @@\n a: 1\n-b: 2\n+b: 3\n"
        );
    }

    /// The diff of the whole texts, as `write` made it before it went document by document:
    /// the reference its output must equal.
    fn whole(old: &str, new: &str) -> String {
        use similar::ChangeTag;
        let mut w = String::from("--- a/x\n+++ b/x\n");
        let diff = similar::TextDiff::from_lines(old, new);
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            w.push_str(&format!("{}\n", hunk.header()));
            for change in hunk.iter_changes() {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let line = change.value();
                let body = line.strip_suffix('\n').unwrap_or(line);
                w.push_str(&format!("{sign}{body}\n"));
                if change.missing_newline() {
                    w.push_str("\\ No newline at end of file\n");
                }
            }
        }
        w
    }

    /// Apply a plain unified diff (as `write` makes it) to `old`.
    fn patch(old: &str, diff: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive(['\n']).collect();
        let mut out = String::new();
        let mut at = 0;
        let mut lines = diff.lines().skip(2).peekable();
        while let Some(h) = lines.next() {
            let start: usize = h[4..].split([',', ' ']).next().unwrap().parse().unwrap();
            let start = if h[4..].split(' ').next().unwrap().ends_with(",0") {
                start
            } else {
                start - 1
            };
            while at < start {
                out.push_str(old_lines[at]);
                at += 1;
            }
            let mut last: Option<char> = None;
            while let Some(l) = lines.peek().filter(|l| !l.starts_with("@@")) {
                let l = *l;
                lines.next();
                if l.starts_with('\\') {
                    if last == Some('+') || last == Some(' ') {
                        out.pop();
                    }
                    continue;
                }
                last = l.chars().next();
                match last {
                    Some(' ') => {
                        out.push_str(&l[1..]);
                        out.push('\n');
                        at += 1;
                    }
                    Some('-') => at += 1,
                    _ => {
                        out.push_str(&l[1..]);
                        out.push('\n');
                    }
                }
            }
        }
        while at < old_lines.len() {
            out.push_str(old_lines[at]);
            at += 1;
        }
        out
    }

    /// Streams of documents with changes of every shape (a line replaced, lines inserted or
    /// deleted, at a document's start or end, documents added, no final newline): whole,
    /// the same output as `similar`'s own unified diff; document by document, the same when
    /// no change could be placed on either of two equal lines (every line unique), and a
    /// patch that makes the new text otherwise.
    #[test]
    fn document_by_document_is_the_whole_diff() {
        let mut seed = 7u64;
        let mut rand = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut unique = 0;
        let mut line = move |i: u64, r: u64, distinct: bool| {
            unique += 1;
            if distinct && !r.is_multiple_of(7) {
                return format!("line {unique}\n");
            }
            match r % 7 {
                0 => "---\n".to_string(),
                1 => format!("  key{}: value\n", i % 5),
                2 => "\n".to_string(),
                3 => format!("kind: K{}\r\n", i % 3),
                4 => "apiVersion: v1\n".to_string(),
                5 => format!("  - item {}\r", i % 4),
                _ => format!("line {i}\n"),
            }
        };
        let mut checked = 0;
        for case in 0..3000u32 {
            let distinct = case % 2 == 1;
            let n = 1 + rand(60);
            // With distinct lines, a marker every fifth line: no two equal lines side by side.
            let mut old: Vec<String> = (0..n)
                .map(|i| match distinct {
                    true => line(i, u64::from(!i.is_multiple_of(5)), true),
                    false => line(i, rand(7), false),
                })
                .collect();
            if case.is_multiple_of(3) && !distinct {
                old.insert(0, "---\n".into());
            }
            let mut new = old.clone();
            // With distinct lines, the changes keep the document markers (as migrations do).
            let kind = |r: u64| if distinct { 1 + r % 6 } else { r };
            for _ in 0..1 + rand(6) {
                let at = rand(new.len() as u64 + 1) as usize;
                match rand(4) {
                    0 if at < new.len() && !(distinct && new[at] == "---\n") => {
                        new[at] = line(rand(9), kind(rand(7)), distinct)
                    }
                    1 => new.insert(at, line(rand(9), kind(rand(7)), distinct)),
                    2 if at < new.len() && !(distinct && new[at] == "---\n") => {
                        new.remove(at);
                    }
                    _ => {
                        for k in 0..rand(5) {
                            new.insert(at, line(k, kind(rand(7)), distinct));
                        }
                    }
                }
            }
            let (mut old, mut new) = (old.concat(), new.concat());
            if case.is_multiple_of(5) && !distinct {
                old = old.trim_end().to_string();
            }
            if case.is_multiple_of(7) && !distinct {
                new = new.trim_end().to_string();
            }
            let reference = whole(&old, &new);
            let mut out = Vec::new();
            write_in(&mut out, "x", &old, &new, false).unwrap();
            assert_eq!(plain(out), reference, "{old:?}\n=>\n{new:?}");
            let mut out = Vec::new();
            write_in(&mut out, "x", &old, &new, true).unwrap();
            let by_document = plain(out);
            // A piece at a time, cut at markers that both texts have in the same places:
            // the same as document by document.
            let (a, b) = (super::markers(&old), super::markers(&new));
            if a.len() == b.len() && a.len() > 2 {
                let cut = 1 + (case as usize) % (a.len() - 1);
                let mut stream = super::Stream::new(&old);
                stream.chunk(0..a[cut], &new[..b[cut]]);
                stream.chunk(a[cut]..old.len(), &new[b[cut]..]);
                let mut out = Vec::new();
                super::header(&mut out, "x").unwrap();
                stream.finish().write(&old, &mut out).unwrap();
                assert_eq!(plain(out), by_document, "{old:?}\n=>\n{new:?}");
            }
            if distinct {
                assert_eq!(by_document, reference, "{old:?}\n=>\n{new:?}");
            } else if !old.contains('\r') && !new.contains('\r') {
                assert_eq!(patch(&old, &by_document), new, "{by_document}");
            }
            checked += usize::from(old != new);
        }
        assert!(checked > 2000);
    }

    #[test]
    fn keeps_carriage_returns_and_marks_missing_newline() {
        let mut out = Vec::new();
        super::write(&mut out, "x", "a: 1\r\nb: 2", "a: 1\r\nb: 3").unwrap();
        let s = plain(out);
        assert!(
            s.contains(" a: 1\r\n-b: 2\n\\ No newline at end of file\n+b: 3\n\\ No newline"),
            "{s:?}"
        );
    }
}
