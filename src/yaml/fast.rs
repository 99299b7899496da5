//! The fast path: a hand-written parser for the subset of YAML that Kubernetes manifests
//! use, producing exactly the `Ev` sequence that `events::parse` (granit) produces for the
//! same text. It is about an order of magnitude faster than granit because it reads the
//! text line by line and copies plain scalars straight out of the source.
//!
//! The rule that makes it safe: it never decides anything it is not sure about. On any
//! input outside its subset, or any input it finds odd or invalid, it returns
//! [`Unsupported`] (never an error of its own) and the caller parses the whole text again
//! with granit, so error messages and every unusual construct stay granit's.
//!
//! The subset:
//! - block mappings with plain or single-line quoted keys, block sequences (indented,
//!   indentless `key:\n- a`, compact `- - a` and `- key: v`);
//! - plain scalars, multi-line ones included (folded as YAML folds them);
//! - single- and double-quoted scalars (all escapes of YAML 1.2, line folding and escaped
//!   line breaks; in flow collections on one line only);
//! - literal and folded block scalars with chomping and indentation indicators, except at
//!   the top level of a document;
//! - flow collections of scalars and flow collections (JSON included), over several lines
//!   too, without empty entries, trailing commas or single-pair mappings in sequences;
//! - comments, `---` (alone, or with a flow collection or scalar on its line) and `...`,
//!   empty values, LF and CRLF line breaks, a BOM at the start, any non-ASCII text.
//!
//! Bails out on: tabs, directives, anchors, aliases, tags, complex keys (`? `), control and
//! other special characters (C0/C1 controls, NEL, LS, PS, BOM inside the text, U+FFFE/F),
//! a bare `\r`, nesting deeper than half of [`events::MAX_DEPTH`](super::events::MAX_DEPTH),
//! keys longer than 1000 bytes, a block scalar ending the text on a line of blanks, and any
//! indentation or token layout that is not plainly valid.

use std::borrow::Cow;

use super::events::{Ev, EvKind, MAX_DEPTH, Style};

/// The fast path met something outside its subset: parse with granit instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

type R<T = ()> = Result<T, Unsupported>;

/// Collections nested deeper than this are left to granit, which enforces (and words the
/// error for) `MAX_DEPTH`; half of it keeps clear of any off-by-one in how it counts.
const DEPTH_LIMIT: usize = MAX_DEPTH / 2;

/// YAML's implicit keys are limited to 1024 characters; longer keys are left to granit.
const MAX_KEY_LEN: usize = 1000;

/// Parse `src` and feed every event to `sink`, as `events::parse` would. On
/// `Err(Unsupported)` the events already sent must be thrown away.
pub fn parse(src: &str, sink: impl FnMut(Ev)) -> Result<(), Unsupported> {
    let start = if src.starts_with('\u{feff}') { 3 } else { 0 };
    prescan(&src.as_bytes()[start..])?;
    let mut p = Fast {
        src,
        b: src.as_bytes(),
        sink,
        depth: 0,
        doc_pending: false,
    };
    p.stream(start)
}

/// Bytes that need a closer look before the fast path may read a text: every control
/// character but LF and CR (tabs included: where a tab is allowed is subtle), DEL, and the
/// lead bytes of the multi-byte characters YAML treats specially.
const SUSPECT: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = i != b'\n' as usize;
        i += 1;
    }
    t[0x7f] = true;
    t[0xc2] = true; // C1 controls and NEL (U+0080..U+009F)
    t[0xe2] = true; // LS, PS (U+2028, U+2029)
    t[0xef] = true; // BOM (U+FEFF), U+FFFE, U+FFFF
    t
};

/// Refuse texts with characters the fast path does not reproduce granit's handling of. After
/// this, the only line breaks are `\n` and `\r\n` and there are no tabs.
fn prescan(b: &[u8]) -> R {
    let mut i = 0;
    while i < b.len() {
        // Eight bytes at a time while they are printable ASCII or line feeds: no byte with
        // its high bit set, none below 0x20 but `\n`, no DEL.
        if let Some(chunk) = b.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let w = u64::from_le_bytes(word);
            // Exact per-byte tests (no carries cross bytes once the high bits are clear):
            // the high bit of each byte of `printable` is set if the byte is >= 0x20, of
            // `lf` / `del` if it is a line feed / DEL.
            let low = w & !HIGH;
            let printable = low.wrapping_add(ONES * 0x60);
            let is = |x: u64| !((x & !HIGH).wrapping_add(!HIGH) | x) & HIGH;
            let lf = is(w ^ (ONES * b'\n' as u64));
            let del = is(w ^ (ONES * 0x7f));
            let suspect = (w & HIGH) | (!printable & HIGH & !lf) | del;
            if suspect == 0 {
                i += 8;
                continue;
            }
            for j in i..i + 8 {
                check_byte(b, j)?;
            }
            i += 8;
            continue;
        }
        check_byte(b, i)?;
        i += 1;
    }
    Ok(())
}

/// The byte at `i`, if it is a suspect, must start an ordinary character or line break.
#[inline]
fn check_byte(b: &[u8], i: usize) -> R {
    let c = b[i];
    if !SUSPECT[c as usize] {
        return Ok(());
    }
    let next = b.get(i + 1).copied().unwrap_or(0);
    let ok = match c {
        b'\r' => next == b'\n',
        0xc2 => !(0x80..=0x9f).contains(&next),
        0xe2 => !(next == 0x80 && matches!(b.get(i + 2), Some(0xa8 | 0xa9))),
        0xef => !matches!(
            (next, b.get(i + 2)),
            (0xbb, Some(0xbf)) | (0xbf, Some(0xbe | 0xbf))
        ),
        _ => false,
    };
    if ok { Ok(()) } else { Err(Unsupported) }
}

/// Bytes that end a run of ordinary text in a plain scalar.
const PLAIN_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b':' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The eight bytes of `b` at `i`, the first in the lowest byte, if there are eight.
#[inline]
fn word_at(b: &[u8], i: usize) -> Option<u64> {
    let chunk = b.get(i..i.checked_add(8)?)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    Some(u64::from_le_bytes(word))
}

/// Past the spaces at `i`, eight bytes at a time (indentation is most of a manifest's
/// spaces, and deep).
#[inline]
fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while let Some(w) = word_at(b, i) {
        let other = w ^ (ONES * u64::from(b' '));
        if other != 0 {
            return i + (other.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// What starts the next line that holds something other than blanks and comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Content,
    /// `---` at column 0.
    DocStart,
    /// `...` at column 0.
    DocEnd,
    Eof,
}

#[derive(Debug, Clone, Copy)]
struct Line {
    /// The first byte of the content (the marker, `len` at the end).
    pos: usize,
    /// Its column; -1 for markers and the end, so that they close every block.
    indent: isize,
    kind: LineKind,
}

/// Where a node that starts on the line of its `key:` or `- ` sits; decides which compact
/// forms are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// After `key: `: a nested key or `- ` on the same line is an error.
    MapValue,
    /// After `- `, or alone on its line: `- - a` and `- key: v` open collections.
    Item,
}

/// How the first line of a plain scalar ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At a `:` followed by a blank or the end of the line (the scalar is a key).
    Colon(usize),
    /// At ` #`.
    Comment,
    /// At the line break or the end of the text.
    Eol,
}

/// A scalar token scanned but not yet sent (whether it is a key decides what comes first).
struct Token<'a> {
    value: Cow<'a, str>,
    style: Style,
    start: usize,
    end: usize,
}

struct Fast<'a, F> {
    src: &'a str,
    b: &'a [u8],
    sink: F,
    depth: usize,
    /// An implicit document has begun: granit's `DocumentStart` for it carries the span
    /// of the document's first token, so it is sent together with the first event.
    doc_pending: bool,
}

fn is_blank_or_end(c: Option<u8>) -> bool {
    matches!(c, None | Some(b' ' | b'\n' | b'\r'))
}

/// Characters that cannot start a plain scalar, or that the fast path does not want to see
/// at the start of one (`-`, `?`, `:` followed by a blank are indicators; followed by
/// anything else they would be plain, which only `-` is let through as).
fn bad_plain_start(c: u8, next: Option<u8>) -> bool {
    match c {
        b'-' | b':' => is_blank_or_end(next),
        b'?' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>'
        | b'\'' | b'"' | b'%' | b'@' | b'`' => true,
        _ => false,
    }
}

impl<'a, F: FnMut(Ev)> Fast<'a, F> {
    fn at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    /// Send an event, preceded by the pending implicit `DocStart` (which granit spans like
    /// the document's first event).
    fn emit(&mut self, kind: EvKind, start: usize, end: usize) {
        if self.doc_pending {
            self.doc_pending = false;
            (self.sink)(Ev {
                kind: EvKind::DocStart,
                span: start..end,
                props: None,
            });
        }
        (self.sink)(Ev {
            kind,
            span: start..end,
            props: None,
        });
    }

    fn scalar(&mut self, value: String, style: Style, start: usize, end: usize) {
        self.emit(
            EvKind::Scalar {
                value,
                style,
                anchor: 0,
                tag: None,
            },
            start,
            end,
        );
    }

    /// An implicit null: granit spells its value `~` and gives it an empty span.
    fn empty(&mut self, at: usize) {
        self.scalar("~".to_owned(), Style::Plain, at, at);
    }

    fn token(&mut self, t: Token<'_>) {
        self.scalar(t.value.into_owned(), t.style, t.start, t.end);
    }

    fn enter(&mut self) -> R {
        self.depth += 1;
        if self.depth > DEPTH_LIMIT {
            return Err(Unsupported);
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn skip_spaces(&self, i: usize) -> usize {
        skip_spaces(self.b, i)
    }

    /// The line break (or the end of the text) at or after `i`: the `\r` of a `\r\n`.
    fn line_end(&self, i: usize) -> usize {
        let nl = memchr::memchr(b'\n', &self.b[i..]).map_or(self.b.len(), |n| i + n);
        if nl > i && self.b[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        }
    }

    /// Past the line break at `i` (which is a line end).
    fn after_break(&self, i: usize) -> usize {
        match self.at(i) {
            Some(b'\r') => i + 2,
            Some(b'\n') => i + 1,
            _ => i,
        }
    }

    /// `---` or `...` at `i`, followed by a blank or the end.
    fn marker(&self, i: usize) -> Option<LineKind> {
        let kind = match self.b.get(i..i + 3) {
            Some(b"---") => LineKind::DocStart,
            Some(b"...") => LineKind::DocEnd,
            _ => return None,
        };
        is_blank_or_end(self.at(i + 3)).then_some(kind)
    }

    /// From the start of a line, skip lines holding only blanks and comments.
    fn next_line(&self, mut i: usize) -> Line {
        loop {
            let p = self.skip_spaces(i);
            match self.at(p) {
                None => {
                    return Line {
                        pos: self.b.len(),
                        indent: -1,
                        kind: LineKind::Eof,
                    };
                }
                Some(b'\n' | b'\r') => i = self.after_break(p),
                Some(b'#') => i = self.after_break(self.line_end(p)),
                Some(_) => {
                    if p == i
                        && let Some(kind) = self.marker(p)
                    {
                        return Line {
                            pos: p,
                            indent: -1,
                            kind,
                        };
                    }
                    return Line {
                        pos: p,
                        indent: (p - i) as isize,
                        kind: LineKind::Content,
                    };
                }
            }
        }
    }

    /// After a node that ended at `i` on its line: only blanks and a comment may follow.
    fn finish_line(&self, i: usize) -> R<Line> {
        let p = self.skip_spaces(i);
        match self.at(p) {
            None => Ok(self.next_line(p)),
            Some(b'\n' | b'\r') => Ok(self.next_line(self.after_break(p))),
            Some(b'#') if p > i => Ok(self.next_line(self.after_break(self.line_end(p)))),
            _ => Err(Unsupported),
        }
    }

    fn is_dash(&self, i: usize) -> bool {
        self.at(i) == Some(b'-') && is_blank_or_end(self.at(i + 1))
    }

    /// The column of `i`; a BOM opening the text is not part of its line.
    fn column(&self, i: usize) -> usize {
        let start = crate::source::line_start(self.src, i);
        if start == 0 && self.src.starts_with('\u{feff}') {
            i - 3
        } else {
            i - start
        }
    }

    // ---- the stream ----

    fn stream(&mut self, start: usize) -> R {
        let mut line = self.next_line(start);
        loop {
            let after = match line.kind {
                LineKind::Eof => return Ok(()),
                // A `...` with no document open: left to granit.
                LineKind::DocEnd => return Err(Unsupported),
                LineKind::DocStart => {
                    let marker_end = line.pos + 3;
                    self.emit(EvKind::DocStart, line.pos, marker_end);
                    let p = self.skip_spaces(marker_end);
                    if p > marker_end && !matches!(self.at(p), None | Some(b'\n' | b'\r' | b'#')) {
                        // A node on the `---` line (`--- {a: 1}`, `--- text`): no block
                        // collection can start there.
                        self.node_inline(-1, p, Ctx::MapValue)?
                    } else {
                        let first = self.finish_line(marker_end)?;
                        if first.kind == LineKind::Content {
                            self.node_on_new_line(-1, first)?
                        } else {
                            self.empty(marker_end);
                            first
                        }
                    }
                }
                LineKind::Content => {
                    self.doc_pending = true;
                    self.node_on_new_line(-1, line)?
                }
            };
            line = match after.kind {
                LineKind::Eof => {
                    self.emit(EvKind::DocEnd, after.pos, after.pos);
                    return Ok(());
                }
                LineKind::DocStart => {
                    self.emit(EvKind::DocEnd, after.pos, after.pos);
                    after
                }
                LineKind::DocEnd => {
                    self.emit(EvKind::DocEnd, after.pos, after.pos + 3);
                    self.finish_line(after.pos + 3)?
                }
                // Something after the document's node that does not belong to it.
                LineKind::Content => return Err(Unsupported),
            };
        }
    }

    // ---- block structure ----

    /// A node that begins a line (of a document, a value below its key, an item below its
    /// dash), in a block whose indentation is `parent` (-1 at the top).
    fn node_on_new_line(&mut self, parent: isize, line: Line) -> R<Line> {
        let i = line.pos;
        match self.b[i] {
            // A block scalar header alone on a line, or at the top of a document: granit
            // spans those differently (`DocumentStart` carries the content's span).
            b'|' | b'>' => Err(Unsupported),
            _ => self.node_inline(parent, i, Ctx::Item),
        }
    }

    /// A node starting at `i`, on the line of its key (`MapValue`) or as an item (`Item`,
    /// also a node alone on its line), in a block whose indentation is `parent`.
    fn node_inline(&mut self, parent: isize, i: usize, ctx: Ctx) -> R<Line> {
        let c = self.b[i];
        let next = self.at(i + 1);
        match c {
            b'-' if is_blank_or_end(next) => match ctx {
                Ctx::Item => self.block_seq(self.column(i), i, false),
                Ctx::MapValue => Err(Unsupported),
            },
            b'|' | b'>' => self.block_scalar(parent, i),
            b'[' | b'{' => {
                let end = self.flow(i)?;
                // `[a]: b` is a complex key.
                let p = self.skip_spaces(end);
                if self.at(p) == Some(b':') {
                    return Err(Unsupported);
                }
                self.finish_line(end)
            }
            b'\'' | b'"' => {
                let (t, multiline) = self.quoted(i)?;
                let p = self.skip_spaces(t.end);
                if self.at(p) == Some(b':') {
                    if ctx == Ctx::MapValue || multiline || !is_blank_or_end(self.at(p + 1)) {
                        return Err(Unsupported);
                    }
                    return self.block_map(self.column(i), t, p);
                }
                let end = t.end;
                self.token(t);
                self.finish_line(end)
            }
            _ if bad_plain_start(c, next) => Err(Unsupported),
            _ => {
                let (end, stop) = self.plain_line(i);
                match stop {
                    Stop::Colon(colon) => {
                        if ctx == Ctx::MapValue {
                            return Err(Unsupported);
                        }
                        let key = Token {
                            value: Cow::Borrowed(&self.src[i..end]),
                            style: Style::Plain,
                            start: i,
                            end,
                        };
                        self.block_map(self.column(i), key, colon)
                    }
                    Stop::Comment => {
                        self.scalar(self.src[i..end].to_owned(), Style::Plain, i, end);
                        self.finish_line(end)
                    }
                    Stop::Eol => self.plain_rest(parent, i, end),
                }
            }
        }
    }

    /// A block mapping at column `col` whose first key has been scanned (`colon` is its
    /// `:`).
    fn block_map(&mut self, col: usize, first: Token<'_>, colon: usize) -> R<Line> {
        self.enter()?;
        self.emit(
            EvKind::MapStart {
                flow: false,
                anchor: 0,
                tag: None,
            },
            first.start,
            first.start,
        );
        if first.end - first.start > MAX_KEY_LEN {
            return Err(Unsupported);
        }
        self.token(first);
        let mut line = self.value(col, colon)?;
        while line.indent == col as isize {
            let colon = self.key(line.pos)?;
            line = self.value(col, colon)?;
        }
        // A line deeper than the keys, after a complete value, is an error.
        if line.indent > col as isize {
            return Err(Unsupported);
        }
        self.emit(EvKind::MapEnd, line.pos, line.pos);
        self.leave();
        Ok(line)
    }

    /// A key at the start of its line (after the first): sends it, returns its `:`.
    fn key(&mut self, i: usize) -> R<usize> {
        let c = self.b[i];
        let (t, colon) = match c {
            b'\'' | b'"' => {
                let (t, multiline) = self.quoted(i)?;
                let p = self.skip_spaces(t.end);
                if multiline || self.at(p) != Some(b':') || !is_blank_or_end(self.at(p + 1)) {
                    return Err(Unsupported);
                }
                (t, p)
            }
            _ if bad_plain_start(c, self.at(i + 1)) => return Err(Unsupported),
            _ => match self.plain_line(i) {
                (end, Stop::Colon(colon)) => (
                    Token {
                        value: Cow::Borrowed(&self.src[i..end]),
                        style: Style::Plain,
                        start: i,
                        end,
                    },
                    colon,
                ),
                _ => return Err(Unsupported),
            },
        };
        if t.end - t.start > MAX_KEY_LEN {
            return Err(Unsupported);
        }
        self.token(t);
        Ok(colon)
    }

    /// The value after the `:` at `colon` of a key in a mapping at column `col`.
    fn value(&mut self, col: usize, colon: usize) -> R<Line> {
        let i = self.skip_spaces(colon + 1);
        match self.at(i) {
            None | Some(b'\n' | b'\r' | b'#') => {
                let line = self.next_line(self.after_break(self.line_end(i)));
                if line.indent > col as isize {
                    self.node_on_new_line(col as isize, line)
                } else if line.indent == col as isize && self.is_dash(line.pos) {
                    self.block_seq(col, line.pos, true)
                } else {
                    // Granit puts an empty value at its key's `:`.
                    self.empty(colon);
                    Ok(line)
                }
            }
            Some(_) => self.node_inline(col as isize, i, Ctx::MapValue),
        }
    }

    /// A block sequence at column `col` starting with the `-` at `dash`; `indentless` when
    /// it sits at its key's column (`key:\n- a`).
    fn block_seq(&mut self, col: usize, dash: usize, indentless: bool) -> R<Line> {
        self.enter()?;
        // Granit spans an indentless sequence's start at the token after its first `-`.
        let start = if indentless {
            let p = self.skip_spaces(dash + 1);
            if self.at(p) == Some(b'#') {
                self.line_end(p)
            } else {
                p
            }
        } else {
            dash
        };
        self.emit(
            EvKind::SeqStart {
                flow: false,
                anchor: 0,
                tag: None,
            },
            start,
            start,
        );
        let mut line = self.item(col, dash)?;
        while line.indent == col as isize {
            if !self.is_dash(line.pos) {
                if indentless {
                    break;
                }
                return Err(Unsupported);
            }
            line = self.item(col, line.pos)?;
        }
        if line.indent > col as isize {
            return Err(Unsupported);
        }
        self.emit(EvKind::SeqEnd, line.pos, line.pos);
        self.leave();
        Ok(line)
    }

    /// The item after the `-` at `dash` of a sequence at column `col`.
    fn item(&mut self, col: usize, dash: usize) -> R<Line> {
        let i = self.skip_spaces(dash + 1);
        match self.at(i) {
            None | Some(b'\n' | b'\r' | b'#') => {
                let eol = self.line_end(i);
                let line = self.next_line(self.after_break(eol));
                if line.indent > col as isize {
                    self.node_on_new_line(col as isize, line)
                } else {
                    // Granit puts an empty item at the end of its dash's line.
                    self.empty(eol);
                    Ok(line)
                }
            }
            Some(_) => self.node_inline(col as isize, i, Ctx::Item),
        }
    }

    // ---- scalars ----

    /// One line of a plain scalar in block context from `i`: where its text ends (blanks
    /// trimmed) and what stopped it.
    fn plain_line(&self, i: usize) -> (usize, Stop) {
        let b = self.b;
        let mut p = i;
        let mut end = i;
        loop {
            // Ordinary text in a tight loop; stop at a blank, `:` or line break.
            let run = p;
            while p < b.len() && !PLAIN_STOP[b[p] as usize] {
                p += 1;
            }
            if p > run {
                end = p;
            }
            match b.get(p) {
                None | Some(b'\n' | b'\r') => return (end, Stop::Eol),
                Some(b' ') => {
                    p += 1;
                    if self.at(p) == Some(b'#') {
                        return (end, Stop::Comment);
                    }
                }
                Some(_) if is_blank_or_end(self.at(p + 1)) => return (end, Stop::Colon(p)),
                // A `:` inside the text.
                Some(_) => {
                    p += 1;
                    end = p;
                }
            }
        }
    }

    /// A plain scalar whose first line is `start..first_end` and ended at its line break:
    /// take the lines that continue it (deeper than `parent`), folded, and send it.
    fn plain_rest(&mut self, parent: isize, start: usize, first_end: usize) -> R<Line> {
        let mut value: Option<String> = None;
        let mut end = first_end;
        // The line break ending the scalar's last line so far.
        let mut eol = self.line_end(first_end);
        loop {
            if eol >= self.b.len() {
                break;
            }
            // Count empty lines up to the next line with something on it.
            let mut p = self.after_break(eol);
            let mut breaks = 0;
            let (q, col) = loop {
                let q = self.skip_spaces(p);
                match self.at(q) {
                    Some(b'\n' | b'\r') => {
                        breaks += 1;
                        p = self.after_break(q);
                    }
                    _ => break (q, q - p),
                }
            };
            let Some(c) = self.at(q) else { break };
            if (col as isize) <= parent || c == b'#' || (col == 0 && self.marker(q).is_some()) {
                break;
            }
            // Any text continues the scalar (granit reads `- x`, `{`, `"` there as text,
            // as libyaml does) except a `: ` (an error).
            let (e2, stop) = self.plain_line(q);
            if let Stop::Colon(_) = stop {
                return Err(Unsupported);
            }
            let v = value.get_or_insert_with(|| self.src[start..first_end].to_owned());
            if breaks == 0 {
                v.push(' ');
            } else {
                v.extend(std::iter::repeat_n('\n', breaks));
            }
            v.push_str(&self.src[q..e2]);
            end = e2;
            if stop == Stop::Comment {
                break;
            }
            eol = self.line_end(e2);
        }
        let value = value.unwrap_or_else(|| self.src[start..first_end].to_owned());
        self.scalar(value, Style::Plain, start, end);
        // Resume at the line after the scalar's last one.
        let eol = self.line_end(end);
        Ok(self.next_line(self.after_break(eol)))
    }

    /// A single- or double-quoted scalar at `i`; also says whether it runs over several
    /// lines (then it cannot be a key).
    fn quoted(&self, i: usize) -> R<(Token<'a>, bool)> {
        let b = self.b;
        let single = b[i] == b'\'';
        let mut p = i + 1;
        let mut seg = p;
        // Only allocated when the value differs from the text between the quotes.
        let mut owned: Option<String> = None;
        let mut multiline = false;
        loop {
            match b.get(p) {
                None => return Err(Unsupported),
                Some(b'\'') if single => {
                    if b.get(p + 1) != Some(&b'\'') {
                        break;
                    }
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.src[seg..=p]);
                    p += 2;
                    seg = p;
                }
                Some(b'"') if !single => break,
                Some(b'\\') if !single => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.src[seg..p]);
                    if matches!(b.get(p + 1), Some(b'\n' | b'\r')) {
                        // An escaped line break joins the lines without a space.
                        multiline = true;
                        p = self.quoted_next_line(self.after_break(p + 1), true, s)?;
                    } else {
                        p = self.escape(p + 1, s)?;
                    }
                    seg = p;
                }
                Some(b'\n' | b'\r') => {
                    // A line break folds: blanks around it go, and it becomes a space (or
                    // the empty lines that follow it, one `\n` each).
                    multiline = true;
                    let s = owned.get_or_insert_with(String::new);
                    let mut e = p;
                    while e > seg && b[e - 1] == b' ' {
                        e -= 1;
                    }
                    s.push_str(&self.src[seg..e]);
                    p = self.quoted_next_line(self.after_break(p), false, s)?;
                    seg = p;
                }
                Some(_) => p += 1,
            }
        }
        let value = match owned {
            Some(mut s) => {
                s.push_str(&self.src[seg..p]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.src[seg..p]),
        };
        let style = if single { Style::Single } else { Style::Double };
        let token = Token {
            value,
            style,
            start: i,
            end: p + 1,
        };
        Ok((token, multiline))
    }

    /// Inside a quoted scalar, from the start of the line after a line break: skip empty
    /// lines and the next line's indentation, append what the break folds to, and return
    /// where the text goes on.
    fn quoted_next_line(&self, mut p: usize, escaped: bool, s: &mut String) -> R<usize> {
        let mut breaks = 0;
        let q = loop {
            let q = self.skip_spaces(p);
            match self.at(q) {
                None => return Err(Unsupported),
                Some(b'\n' | b'\r') => {
                    breaks += 1;
                    p = self.after_break(q);
                }
                Some(_) => {
                    // Granit, like libyaml, does not check the indentation of these
                    // lines; it does refuse document markers.
                    if q == p && self.marker(q).is_some() {
                        return Err(Unsupported);
                    }
                    break q;
                }
            }
        };
        if breaks == 0 && !escaped {
            s.push(' ');
        }
        s.extend(std::iter::repeat_n('\n', breaks));
        Ok(q)
    }

    /// The escape whose letter is at `p` (after a `\`): appends it, returns what follows.
    fn escape(&self, p: usize, out: &mut String) -> R<usize> {
        let c = match self.at(p).ok_or(Unsupported)? {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' => return self.hex_escape(p + 1, 2, out),
            b'u' => return self.hex_escape(p + 1, 4, out),
            b'U' => return self.hex_escape(p + 1, 8, out),
            // Unknown escapes and an escaped line break (a multi-line scalar).
            _ => return Err(Unsupported),
        };
        out.push(c);
        Ok(p + 1)
    }

    fn hex_escape(&self, p: usize, digits: usize, out: &mut String) -> R<usize> {
        let hex = self.b.get(p..p + digits).ok_or(Unsupported)?;
        let mut code = 0u32;
        for &h in hex {
            code = code * 16 + (h as char).to_digit(16).ok_or(Unsupported)?;
        }
        out.push(char::from_u32(code).ok_or(Unsupported)?);
        Ok(p + digits)
    }

    /// A literal or folded block scalar whose header is at `hdr`, in a block whose
    /// indentation is `parent`. Follows libyaml's scanner, which granit mirrors, except
    /// that granit keeps a clipped or kept final line break at the end of the text.
    fn block_scalar(&mut self, parent: isize, hdr: usize) -> R<Line> {
        let b = self.b;
        let literal = b[hdr] == b'|';
        // Indicators: chomping (`+`/`-`) and indentation (1-9), each at most once.
        let mut chomp = 0i8;
        let mut increment = 0usize;
        let mut p = hdr + 1;
        for _ in 0..2 {
            match self.at(p) {
                Some(b'+') if chomp == 0 => chomp = 1,
                Some(b'-') if chomp == 0 => chomp = -1,
                Some(c @ b'1'..=b'9') if increment == 0 => increment = (c - b'0') as usize,
                _ => break,
            }
            p += 1;
        }
        // The rest of the header line: blanks and a comment.
        let q = self.skip_spaces(p);
        let header_eol = match self.at(q) {
            None | Some(b'\n' | b'\r') => q,
            Some(b'#') if q > p => self.line_end(q),
            _ => return Err(Unsupported),
        };
        if parent < 0 {
            return Err(Unsupported);
        }
        let mut indent = if increment > 0 {
            parent as usize + increment
        } else {
            0
        };
        let mut pos = self.after_break(header_eol);
        let mut value = String::new();
        let mut trailing = 0usize; // line breaks seen since the last content line
        // Leading empty lines and the first content line's indentation.
        let mut max_blank = 0usize;
        let mut col;
        loop {
            let start = pos;
            while (indent == 0 || pos - start < indent) && self.at(pos) == Some(b' ') {
                pos += 1;
            }
            col = pos - start;
            match self.at(pos) {
                Some(b'\n' | b'\r') => {
                    max_blank = max_blank.max(col);
                    trailing += 1;
                    pos = self.after_break(pos);
                }
                _ => break,
            }
        }
        if indent == 0 {
            // A leading empty line deeper than the first content line is an error.
            if max_blank > col && pos < b.len() {
                return Err(Unsupported);
            }
            indent = max_blank.max(col).max((parent + 1) as usize).max(1);
        }
        let mut content_start = None;
        let mut leading_break = false;
        let mut leading_blank = false;
        while col == indent && pos < b.len() {
            let trailing_blank = b[pos] == b' ';
            if !literal && leading_break && !leading_blank && !trailing_blank {
                if trailing == 0 {
                    value.push(' ');
                }
            } else if leading_break {
                value.push('\n');
            }
            value.extend(std::iter::repeat_n('\n', trailing));
            trailing = 0;
            leading_blank = trailing_blank;
            content_start.get_or_insert(pos);
            let eol = self.line_end(pos);
            value.push_str(&self.src[pos..eol]);
            // Granit adds the line break of a last line that has none.
            leading_break = true;
            pos = self.after_break(eol);
            // Empty lines, and the next line's indentation up to `indent`.
            loop {
                let start = pos;
                // At most `indent` spaces.
                pos = self.skip_spaces(pos).min(start + indent);
                col = pos - start;
                match self.at(pos) {
                    Some(b'\n' | b'\r') => {
                        trailing += 1;
                        pos = self.after_break(pos);
                    }
                    _ => break,
                }
            }
        }
        // A last line of blanks without a line break: granit counts a line break for it
        // in some cases and not in others.
        if pos == b.len() && col > 0 {
            return Err(Unsupported);
        }
        // The line that ends the scalar is less indented than its content but deeper than
        // the block around it: granit calls it wrongly indented, even a comment.
        if pos < b.len() && col as isize > parent {
            return Err(Unsupported);
        }
        if chomp >= 0 && leading_break {
            value.push('\n');
        }
        if chomp > 0 {
            value.extend(std::iter::repeat_n('\n', trailing));
        }
        let start = content_start.unwrap_or(pos);
        self.scalar(
            value,
            if literal {
                Style::Literal
            } else {
                Style::Folded
            },
            start,
            pos,
        );
        Ok(self.next_line(pos - col))
    }

    // ---- flow collections ----

    /// A flow collection opening at `i`; returns the offset after its closing bracket.
    fn flow(&mut self, i: usize) -> R<usize> {
        self.enter()?;
        let open = self.b[i];
        let (close, map) = if open == b'[' {
            (b']', false)
        } else {
            (b'}', true)
        };
        let start = if map {
            EvKind::MapStart {
                flow: true,
                anchor: 0,
                tag: None,
            }
        } else {
            EvKind::SeqStart {
                flow: true,
                anchor: 0,
                tag: None,
            }
        };
        self.emit(start, i, i + 1);
        let mut p = self.flow_ws(i + 1)?;
        if self.at(p) != Some(close) {
            loop {
                if map {
                    if matches!(self.at(p), Some(b'[' | b'{')) {
                        return Err(Unsupported);
                    }
                    p = self.flow_node(p)?;
                    // An implicit key's `:` must be on its line.
                    p = self.skip_spaces(p);
                    if self.at(p) != Some(b':') {
                        return Err(Unsupported);
                    }
                    let colon = p;
                    p = self.flow_ws(p + 1)?;
                    if matches!(self.at(p), Some(b',' | b'}')) {
                        self.empty(colon);
                    } else {
                        p = self.flow_node(p)?;
                        p = self.flow_ws(p)?;
                    }
                } else {
                    p = self.flow_node(p)?;
                    p = self.flow_ws(p)?;
                }
                match self.at(p) {
                    Some(b',') => {
                        p = self.flow_ws(p + 1)?;
                        // A trailing comma or an empty entry.
                        if matches!(self.at(p), Some(b',' | b']' | b'}')) {
                            return Err(Unsupported);
                        }
                    }
                    Some(c) if c == close => break,
                    _ => return Err(Unsupported),
                }
            }
        }
        self.emit(if map { EvKind::MapEnd } else { EvKind::SeqEnd }, p, p + 1);
        self.leave();
        Ok(p + 1)
    }

    /// A node inside a flow collection at `i`; returns where it ends.
    fn flow_node(&mut self, i: usize) -> R<usize> {
        let c = self.at(i).ok_or(Unsupported)?;
        match c {
            b'[' | b'{' => self.flow(i),
            b'\'' | b'"' => {
                let (t, multiline) = self.quoted(i)?;
                // A key in a flow mapping must sit on one line; a multi-line value is
                // left to granit too (its folding in flow context is not checked here).
                if multiline {
                    return Err(Unsupported);
                }
                let end = t.end;
                self.token(t);
                Ok(end)
            }
            // `:` opens an empty key in flow context (`{: v}`); `-` before a flow
            // indicator is an error.
            b':' => Err(Unsupported),
            b'-' if matches!(self.at(i + 1), Some(b',' | b'[' | b']' | b'{' | b'}')) => {
                Err(Unsupported)
            }
            _ if bad_plain_start(c, self.at(i + 1)) => Err(Unsupported),
            _ => {
                let b = self.b;
                let mut p = i;
                let mut end = i;
                while p < b.len() {
                    match b[p] {
                        b'\n' | b'\r' | b',' | b'[' | b']' | b'{' | b'}' => break,
                        b' ' => {
                            p += 1;
                            if self.at(p) == Some(b'#') {
                                break;
                            }
                        }
                        b':' => {
                            if matches!(
                                self.at(p + 1),
                                None | Some(b' ' | b'\n' | b'\r' | b',' | b']' | b'}')
                            ) {
                                break;
                            }
                            // `a:b`, `http://x`: plain text in flow context too.
                            p += 1;
                            end = p;
                        }
                        _ => {
                            p += 1;
                            end = p;
                        }
                    }
                }
                if end == i {
                    return Err(Unsupported);
                }
                self.scalar(self.src[i..end].to_owned(), Style::Plain, i, end);
                Ok(end)
            }
        }
    }

    /// Skip blanks, line breaks and comments inside a flow collection.
    fn flow_ws(&self, mut p: usize) -> R<usize> {
        let mut after_blank = false;
        loop {
            match self.at(p) {
                Some(b' ') => {
                    p += 1;
                    after_blank = true;
                }
                Some(b'\n' | b'\r') => {
                    p = self.after_break(p);
                    let q = self.skip_spaces(p);
                    // Granit does not check the indentation of lines inside a flow
                    // collection (as libyaml); it refuses document markers.
                    if q == p && self.marker(q).is_some() {
                        return Err(Unsupported);
                    }
                    p = q;
                    after_blank = true;
                }
                Some(b'#') if after_blank => p = self.line_end(p),
                _ => return Ok(p),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::events;

    proptest::proptest! {
        /// The word-at-a-time scan stops where the byte-at-a-time loop does.
        #[test]
        fn skip_spaces_stops_where_a_byte_loop_does(
            text in proptest::collection::vec(
                proptest::sample::select(vec![b' ', b':', b'\n', b'\r', b'a', b'#', 0x80, 0xff, 0x01, 0x21, 0x3b]),
                0..40,
            ),
            start in 0usize..40,
        ) {
            let i = start.min(text.len());
            let mut spaces = i;
            while text.get(spaces) == Some(&b' ') {
                spaces += 1;
            }
            proptest::prop_assert_eq!(skip_spaces(&text, i), spaces);
        }
    }

    fn granit(src: &str) -> Vec<Ev> {
        let mut v = Vec::new();
        events::parse(src, |e| v.push(e)).unwrap();
        v
    }

    fn fast(src: &str) -> Option<Vec<Ev>> {
        let mut v = Vec::new();
        parse(src, |e| v.push(e)).ok().map(|_| v)
    }

    #[test]
    fn simple_inputs_give_granits_events() {
        for src in [
            "a: 1\nb:\nc: x\n",
            "a: 1\r\nb: [x, \"y\"]\r\n",
            "k:\n- a\n- b: 1\n  c:\n-\n",
            "---\na: 1\n...\n",
            "# only a comment\n",
            "",
            "a: |\n  x\n\n  y\n\nb: 1",
            "a: >-\n  x\n  y\n",
        ] {
            let f = fast(src).unwrap_or_else(|| panic!("bailed on {src:?}"));
            assert_eq!(f, granit(src), "{src:?}");
        }
    }
}
