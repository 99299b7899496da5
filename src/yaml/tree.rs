//! A span tree per document: every node knows the byte range of its token in the source.
//! The tree holds no formatting; formatting is never regenerated, only spliced around.

use std::ops::Range;

use super::events::{self, Ev, EvKind, Style, SyntaxError};

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar {
        value: String,
        style: Style,
    },
    Map {
        flow: bool,
        entries: Vec<(Node, Node)>,
    },
    Seq {
        flow: bool,
        items: Vec<Node>,
    },
    Alias(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// Scalars: the token (quotes included; block scalars from the `|`/`>` header to the
    /// last content character). Flow collections: bracket to bracket. Block collections:
    /// first key or `-` to the end of the last value. An implicit null is empty.
    pub span: Range<usize>,
    /// Anchor id defined on this node, 0 for none.
    pub anchor: usize,
    /// The anchor and tag tokens as written (`&a !!str`), first to last, outside `span`.
    pub props: Option<Range<usize>>,
    pub tag: Option<String>,
    /// Pre-order number, unique within the document.
    pub id: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Node,
    /// Zero-based position in the stream.
    pub index: usize,
    /// Number of nodes (ids are `0..node_count`).
    pub node_count: usize,
}

impl Node {
    /// The ids of this node and the nodes under it: the parser numbers nodes in document
    /// order (pre-order), so they run from its own to its last descendant's.
    pub fn subtree_ids(&self) -> std::ops::RangeInclusive<usize> {
        let mut last = self;
        loop {
            last = match &last.kind {
                NodeKind::Map { entries, .. } => match entries.last() {
                    Some((_, v)) => v,
                    None => break,
                },
                NodeKind::Seq { items, .. } => match items.last() {
                    Some(item) => item,
                    None => break,
                },
                _ => break,
            };
        }
        self.id..=last.id
    }

    pub fn is_null_scalar(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, style: Style::Plain }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            NodeKind::Map { entries, .. } => entries,
            _ => &[],
        }
    }

    /// The value of the first entry whose key is the plain string `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn is_flow(&self) -> bool {
        matches!(
            self.kind,
            NodeKind::Map { flow: true, .. } | NodeKind::Seq { flow: true, .. }
        )
    }

    /// What this node stands for in the document `root`: for an alias, the last node
    /// before it that defines its anchor (an anchor may be redefined); any other node is
    /// itself. An alias whose anchor is not found stays the alias.
    pub fn resolve<'a>(&'a self, root: &'a Node) -> &'a Node {
        fn find<'a>(n: &'a Node, anchor: usize, before: usize, best: &mut Option<&'a Node>) {
            if n.span.start >= before && n.props.as_ref().is_none_or(|p| p.start >= before) {
                return;
            }
            if n.anchor == anchor {
                *best = Some(n);
            }
            match &n.kind {
                NodeKind::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                    find(k, anchor, before, best);
                    find(v, anchor, before, best);
                }),
                NodeKind::Seq { items, .. } => {
                    items.iter().for_each(|i| find(i, anchor, before, best))
                }
                _ => {}
            }
        }
        let NodeKind::Alias(anchor) = self.kind else {
            return self;
        };
        let mut best = None;
        find(root, anchor, self.span.start, &mut best);
        best.unwrap_or(self)
    }
}

/// A document that stands for more nodes than this is refused: no manifest comes near it
/// (the largest CRDs have tens of thousands), and every later step holds a copy of the tree
/// and expands aliases, so memory grows with it (some hundreds of bytes a node). Counted as
/// written (a million `1,` in a flow sequence is 2 MB of text) and with aliases expanded (an
/// alias bomb, "billion laughs", is a few hundred bytes); the error says which.
pub const MAX_EXPANDED_NODES: u64 = 1_000_000;

/// Which parser `parse_stream_with` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    /// The fast path, and granit from scratch when the fast path declines the text.
    Auto,
    /// Granit only.
    Granit,
    /// The fast path only: `None` when it declines the text.
    Fast,
}

/// Parse a whole stream into documents.
pub fn parse_stream(src: &str) -> Result<Vec<Document>, SyntaxError> {
    parse_stream_with(src, Parser::Auto).unwrap_or_else(|| granit_stream(src))
}

/// Parse a whole stream with the chosen parser. Both give the same documents whenever the
/// fast path accepts a text (the differential tests hold them to it); `None` only for
/// `Parser::Fast` on a text it declines.
pub fn parse_stream_with(src: &str, parser: Parser) -> Option<Result<Vec<Document>, SyntaxError>> {
    match parser {
        Parser::Granit => Some(granit_stream(src)),
        Parser::Fast => fast_stream(src),
        Parser::Auto => Some(fast_stream(src).unwrap_or_else(|| granit_stream(src))),
    }
}

/// The fast path feeds a builder directly; if it declines the text half-way, that builder
/// is simply dropped and granit starts again from the beginning.
fn fast_stream(src: &str) -> Option<Result<Vec<Document>, SyntaxError>> {
    let mut builder = Builder::new(src);
    super::fast::parse(src, |ev| builder.push(ev)).ok()?;
    Some(builder.finish())
}

fn granit_stream(src: &str) -> Result<Vec<Document>, SyntaxError> {
    let mut builder = Builder::new(src);
    events::parse(src, |ev| builder.push(ev))?;
    builder.finish()
}

/// The number of nodes `node` stands for with its aliases expanded, each anchor's size
/// computed once (so this is linear in the text, whatever the expansion).
fn expanded_size(
    node: &Node,
    sizes: &mut std::collections::HashMap<usize, u64>,
) -> Result<u64, SyntaxError> {
    let size = match &node.kind {
        NodeKind::Scalar { .. } => 1,
        NodeKind::Alias(id) => sizes.get(id).copied().unwrap_or(1),
        NodeKind::Map { entries, .. } => {
            let mut n = 1u64;
            for (k, v) in entries {
                n = n
                    .saturating_add(expanded_size(k, sizes)?)
                    .saturating_add(expanded_size(v, sizes)?);
            }
            n
        }
        NodeKind::Seq { items, .. } => {
            let mut n = 1u64;
            for i in items {
                n = n.saturating_add(expanded_size(i, sizes)?);
            }
            n
        }
    };
    if size > MAX_EXPANDED_NODES {
        return Err(SyntaxError {
            offset: node.span.start,
            message: format!(
                "aliases here expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); refusing to expand them"
            ),
        });
    }
    if node.anchor != 0 {
        sizes.insert(node.anchor, size);
    }
    Ok(size)
}

/// An open collection: its node (children not yet in it), where its children start on the
/// builder's `items` (a sequence) or `entries` (a mapping) stack, and whether a mapping's
/// key waits for its value on the `keys` stack.
struct Frame {
    node: Node,
    base: usize,
    key: bool,
}

struct Builder<'a> {
    src: &'a str,
    stack: Vec<Frame>,
    /// The items of every open sequence, innermost last, and the entries of every open
    /// mapping (paired as they come): a collection takes its own when it closes, in one
    /// allocation of the exact size and one copy (growing a `Vec` per collection and
    /// shrinking it after cost a third of the time of a parse; pairing a mapping's keys and
    /// values when it closed, a node at a time, cost a tenth).
    items: Vec<Node>,
    entries: Vec<(Node, Node)>,
    keys: Vec<Node>,
    /// An alias was seen: documents need the expanded-size check.
    aliases: bool,
    docs: Vec<Document>,
    prev_end: usize,
    next_id: usize,
    /// Where the document that crossed [`MAX_EXPANDED_NODES`] nodes as written did so; no
    /// further node is built (memory stays bounded while the parser runs on).
    too_large: Option<usize>,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str) -> Self {
        Builder {
            src,
            stack: Vec::with_capacity(16),
            // Room for the children of a typical manifest's open collections.
            items: Vec::with_capacity(16),
            entries: Vec::with_capacity(32),
            keys: Vec::with_capacity(16),
            aliases: false,
            docs: Vec::new(),
            prev_end: 0,
            next_id: 0,
            too_large: None,
        }
    }

    /// The documents, once every event is in; refuses documents that are too large as
    /// written or with their aliases expanded.
    fn finish(self) -> Result<Vec<Document>, SyntaxError> {
        if let Some(offset) = self.too_large {
            return Err(SyntaxError {
                offset,
                message: format!(
                    "this document has more than {MAX_EXPANDED_NODES} YAML nodes; kubemig refuses documents this large (no manifest comes near it)"
                ),
            });
        }
        for doc in &self.docs {
            // Without aliases a document stands for its nodes as written, and under the
            // limit nothing in it can be over.
            if !self.aliases && doc.node_count as u64 <= MAX_EXPANDED_NODES {
                continue;
            }
            let mut sizes = std::collections::HashMap::new();
            expanded_size(&doc.root, &mut sizes)?;
        }
        Ok(self.docs)
    }

    #[inline]
    fn push(&mut self, ev: Ev) {
        let Ev { kind, span, props } = ev;
        if self.too_large.is_some() {
            return;
        }
        if self.next_id as u64 > MAX_EXPANDED_NODES {
            return self.refuse(span.start);
        }
        match kind {
            EvKind::DocStart => self.next_id = 0,
            EvKind::DocEnd => {}
            EvKind::Scalar {
                value,
                style,
                anchor,
                tag,
            } => {
                let mut value = value;
                let span = match style {
                    Style::Literal | Style::Folded => self.block_scalar(span.clone(), &mut value),
                    _ => span.clone(),
                };
                let node = self.node(
                    NodeKind::Scalar { value, style },
                    span,
                    anchor,
                    tag,
                    props.clone(),
                );
                self.attach(node);
            }
            EvKind::Alias(id) => {
                self.aliases = true;
                let node = self.node(NodeKind::Alias(id), span.clone(), 0, None, None);
                self.attach(node);
            }
            EvKind::MapStart { flow, anchor, tag } => {
                let node = self.node(
                    NodeKind::Map {
                        flow,
                        entries: Vec::new(),
                    },
                    span.start..span.start,
                    anchor,
                    tag,
                    props.clone(),
                );
                self.stack.push(Frame {
                    node,
                    base: self.entries.len(),
                    key: false,
                });
            }
            EvKind::SeqStart { flow, anchor, tag } => {
                let start = if flow {
                    span.start
                } else {
                    dash_before(self.src, span.start)
                };
                let node = self.node(
                    NodeKind::Seq {
                        flow,
                        items: Vec::new(),
                    },
                    start..start,
                    anchor,
                    tag,
                    props.clone(),
                );
                self.stack.push(Frame {
                    node,
                    base: self.items.len(),
                    key: false,
                });
            }
            EvKind::MapEnd | EvKind::SeqEnd => self.close(span.end),
        }
        self.prev_end = self.prev_end.max(span.end);
    }

    /// The document crossed [`MAX_EXPANDED_NODES`] nodes at `at`: build nothing more.
    #[cold]
    fn refuse(&mut self, at: usize) {
        self.too_large = Some(at);
        self.stack.clear();
        self.items.clear();
        self.entries.clear();
        self.keys.clear();
        self.docs.clear();
    }

    /// A block scalar's span (see [`Builder::block_scalar_span`]), and its value as YAML
    /// reads it. Out of line, as `close` is: `push` is called for every node, and kept
    /// small it costs less per call.
    #[inline(never)]
    fn block_scalar(&mut self, span: Range<usize>, value: &mut String) -> Range<usize> {
        let span = self.block_scalar_span(span, value);
        // The parser keeps (clip, keep) a final line break even when the last line ends
        // the file without one; YAML, libyaml and go-yaml (what Kubernetes reads with) do
        // not: there is none to keep. Take the spec's reading, or an edit that adds or
        // removes that line break would change the value unseen by verification.
        if span.end == self.src.len() && !self.src.ends_with(['\n', '\r']) && value.ends_with('\n')
        {
            value.pop();
        }
        span
    }

    /// The innermost open collection ends (a flow collection's closing bracket ends at
    /// `end`): it takes its children and its span, and joins its parent.
    #[inline(never)]
    fn close(&mut self, end: usize) {
        let Some(Frame {
            mut node,
            base,
            key,
        }) = self.stack.pop()
        else {
            return;
        };
        // A key left without a value is dropped.
        if key {
            self.keys.pop();
        }
        self.take_children(&mut node, base);
        node.span.end = if node.is_flow() {
            end
        } else {
            last_child_end(&node).unwrap_or(node.span.start)
        };
        if !node.is_flow()
            && let Some(first) = first_child_start(&node)
        {
            node.span.start = if matches!(node.kind, NodeKind::Seq { .. }) {
                dash_before(self.src, first)
            } else {
                first
            };
        }
        self.attach(node);
    }

    #[inline]
    fn node(
        &mut self,
        kind: NodeKind,
        span: Range<usize>,
        anchor: usize,
        tag: Option<String>,
        props: Option<Range<usize>>,
    ) -> Node {
        let id = self.next_id;
        self.next_id += 1;
        Node {
            kind,
            span,
            anchor,
            props,
            tag,
            id,
        }
    }

    #[inline]
    fn attach(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => {
                let index = self.docs.len();
                self.docs.push(Document {
                    root: node,
                    index,
                    node_count: self.next_id,
                });
            }
            Some(frame) => match frame.node.kind {
                NodeKind::Map { .. } => {
                    frame.key = !frame.key;
                    match frame.key {
                        true => self.keys.push(node),
                        false => {
                            if let Some(key) = self.keys.pop() {
                                self.entries.push((key, node));
                            }
                        }
                    }
                }
                _ => self.items.push(node),
            },
        }
    }

    /// Move the children stacked since `base` into the collection `node`, in a `Vec` of
    /// exactly their number (a node is ~100 bytes: spare room would double the memory of a
    /// document of small collections).
    fn take_children(&mut self, node: &mut Node, base: usize) {
        match &mut node.kind {
            NodeKind::Map { entries, .. } => *entries = take_tail(&mut self.entries, base),
            NodeKind::Seq { items, .. } => *items = take_tail(&mut self.items, base),
            _ => {}
        }
    }

    /// The parser reports a block scalar from its first content character to the start of
    /// the next token. Widen it back to the `|`/`>` header and cut it after the last
    /// content line, so that comments and blank lines that follow stay outside.
    fn block_scalar_span(&self, span: Range<usize>, value: &str) -> Range<usize> {
        let src = self.src;
        let header = find_block_header(src, self.prev_end, span.start).unwrap_or(span.start);
        let header_end = header
            + src[header..]
                .bytes()
                .take_while(|b| matches!(b, b'|' | b'>' | b'+' | b'-' | b'0'..=b'9'))
                .count();
        if value.trim_end_matches('\n').is_empty() {
            return header..header_end;
        }
        let content_start =
            crate::source::next_line_start(src, header_end).min(span.start.max(header_end));
        let first_line = crate::source::line_start(src, span.start.max(content_start));
        let mut indent = src[first_line..].bytes().take_while(|&b| b == b' ').count();
        // With an indentation indicator (`|2`) the content is indented that much past the
        // enclosing block collection (the key's or the dash's column), and its first line
        // may be deeper than the rest.
        if let Some(digit) = src[header..header_end].bytes().find(u8::is_ascii_digit) {
            let parent = self
                .stack
                .last()
                .map_or(0, |f| crate::source::column(src, f.node.span.start));
            indent = indent.min(parent + usize::from(digit - b'0'));
        }
        let mut end = span.start;
        let mut pos = first_line;
        while pos < src.len() {
            let line_end = crate::source::line_end(src, pos);
            let line = &src[pos..line_end];
            let lead = line.bytes().take_while(|&b| b == b' ').count();
            let blank = is_blank(line);
            if !blank && lead < indent {
                break;
            }
            if !blank {
                end = line_end;
            }
            pos = crate::source::next_line_start(src, pos);
            if pos == line_end {
                break;
            }
        }
        header..end.max(header_end)
    }
}

/// The elements of `v` from `at` on, moved out in one copy into a `Vec` of their number.
fn take_tail<T>(v: &mut Vec<T>, at: usize) -> Vec<T> {
    let at = at.min(v.len());
    if at > 0 {
        // A new allocation of exactly `len - at`, one copy.
        return v.split_off(at);
    }
    // `split_off(0)` would hand over `v`'s whole buffer, spare room included.
    let mut out = Vec::with_capacity(v.len());
    out.append(v);
    out
}

/// `line.trim().is_empty()`, without decoding characters when the line has an ASCII
/// character other than whitespace (nearly every line of a block scalar: this is asked of
/// each of them).
fn is_blank(line: &str) -> bool {
    match line
        .bytes()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
    {
        None => true,
        Some(b) if b.is_ascii() => false,
        // Unicode whitespace (NBSP, U+2000..) also counts as blank for `trim`.
        Some(_) => line.trim().is_empty(),
    }
}

/// The first `|` or `>` between `from` and `to` that is not inside a comment.
fn find_block_header(src: &str, from: usize, to: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut in_comment = false;
    let mut found = None;
    for (i, &b) in bytes.iter().enumerate().take(to).skip(from.min(to)) {
        match b {
            b'\n' => in_comment = false,
            b'#' => in_comment = true,
            b'|' | b'>' if !in_comment => {
                found = Some(i);
                break;
            }
            _ => {}
        }
    }
    found
}

/// Walk back from a block sequence item's content (or its anchor and tag) to its `-`
/// indicator, across blanks, line breaks and comments (`- # why\n  key: v`).
pub fn dash_before(src: &str, pos: usize) -> usize {
    let bytes = src.as_bytes();
    let mut i = pos;
    loop {
        while i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            i -= 1;
        }
        match i.checked_sub(1).map(|p| bytes[p]) {
            Some(b'-') => return i - 1,
            Some(b'\n') => {
                let mut end = i - 1;
                if end > 0 && bytes[end - 1] == b'\r' {
                    end -= 1;
                }
                let ls = crate::source::line_start(src, end);
                i = ls + comment_start(&src[ls..end]).unwrap_or(end - ls);
            }
            _ => return pos,
        }
    }
}

/// Where the comment on a line starts, if the line has one: a `#` at its start or after a
/// blank. Only used on lines that can hold nothing but blanks, a `-` and a comment.
fn comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'#' && (i == 0 || matches!(b[i - 1], b' ' | b'\t')))
}

fn first_child_start(node: &Node) -> Option<usize> {
    match &node.kind {
        NodeKind::Map { entries, .. } => entries.first().map(|(k, _)| k.span.start),
        NodeKind::Seq { items, .. } => items.first().map(|i| {
            i.props
                .as_ref()
                .map_or(i.span.start, |p| p.start.min(i.span.start))
        }),
        _ => None,
    }
}

fn last_child_end(node: &Node) -> Option<usize> {
    match &node.kind {
        NodeKind::Map { entries, .. } => entries.last().map(|(k, v)| v.span.end.max(k.span.end)),
        NodeKind::Seq { items, .. } => items.last().map(|i| i.span.end),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice<'a>(src: &'a str, n: &Node) -> &'a str {
        &src[n.span.clone()]
    }

    proptest::proptest! {
        #[test]
        fn is_blank_is_trim_is_empty(line in "[ \t\r\n\u{b}\u{c}\u{a0}\u{2003}\u{3000}x#é]{0,6}") {
            proptest::prop_assert_eq!(is_blank(&line), line.trim().is_empty());
        }
    }

    #[test]
    fn spans_are_bytes_after_multibyte_block_scalar() {
        let src = "a: |\n  Grüße 日本語 🚀\n  x\n# c\nother: 'v'\n";
        let docs = parse_stream(src).unwrap();
        let root = &docs[0].root;
        assert_eq!(
            slice(src, root.get("a").unwrap()),
            "|\n  Grüße 日本語 🚀\n  x"
        );
        assert_eq!(slice(src, root.get("other").unwrap()), "'v'");
    }

    /// Every collection of `node` holds its children in a `Vec` of exactly their number.
    fn exact(node: &Node) -> bool {
        match &node.kind {
            NodeKind::Map { entries, .. } => {
                entries.capacity() == entries.len()
                    && entries.iter().all(|(k, v)| exact(k) && exact(v))
            }
            NodeKind::Seq { items, .. } => {
                items.capacity() == items.len() && items.iter().all(exact)
            }
            _ => true,
        }
    }

    /// Keys and values are paired as they come, at every depth and in documents after the
    /// first; a key whose value never came is dropped, as before.
    #[test]
    fn mappings_pair_their_keys_and_values_as_they_come() {
        let src = "a: [1, {b: 2, c: [x, {d: e}]}]\nf:\n- g: h\n  i: j\n- k\n---\n- l: m\n- {}\n";
        let docs = parse_stream(src).unwrap();
        let keys = |n: &Node| -> Vec<String> {
            n.entries()
                .iter()
                .map(|(k, _)| k.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(keys(&docs[0].root), ["a", "f"]);
        let NodeKind::Seq { items, .. } = &docs[0].root.get("a").unwrap().kind else {
            panic!("a sequence")
        };
        assert_eq!(keys(&items[1]), ["b", "c"]);
        assert_eq!(items[1].get("b").unwrap().as_str(), Some("2"));
        assert!(docs.iter().all(|d| exact(&d.root)));
        let ev = |kind| Ev {
            kind,
            span: 0..0,
            props: None,
        };
        let scalar = |v: &str| {
            ev(EvKind::Scalar {
                value: v.to_string(),
                style: Style::Plain,
                anchor: 0,
                tag: None,
            })
        };
        let map = || {
            ev(EvKind::MapStart {
                flow: true,
                anchor: 0,
                tag: None,
            })
        };
        let mut b = Builder::new("");
        for e in [
            ev(EvKind::DocStart),
            map(),
            scalar("k"),
            map(),
            scalar("inner"),
            ev(EvKind::MapEnd),
            scalar("lonely"),
            ev(EvKind::MapEnd),
            ev(EvKind::DocEnd),
        ] {
            b.push(e);
        }
        let docs = b.finish().unwrap();
        assert_eq!(keys(&docs[0].root), ["k"]);
        assert!(docs[0].root.get("k").unwrap().entries().is_empty());
    }

    #[test]
    fn block_collections_span_first_key_to_last_value() {
        let src = "spec:\n  items:\n  - a: 1\n    b: [x, y]\n  - c\nz: 1\n";
        let docs = parse_stream(src).unwrap();
        let items = docs[0].root.get("spec").unwrap().get("items").unwrap();
        assert_eq!(slice(src, items), "- a: 1\n    b: [x, y]\n  - c");
        let spec = docs[0].root.get("spec").unwrap();
        assert!(slice(src, spec).starts_with("items:"));
    }

    #[test]
    fn multi_document_streams_with_bom_and_crlf() {
        let src = "\u{feff}# lead\r\n---\r\na: 1\r\n...\r\n---\r\nb: \"2\"\r\n";
        let docs = parse_stream(src).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(slice(src, docs[1].root.get("b").unwrap()), "\"2\"");
    }

    #[test]
    fn block_scalar_ending_the_file_has_no_final_line_break() {
        let value = |src: &str| match &parse_stream(src).unwrap()[0].root.entries()[0].1.kind {
            NodeKind::Scalar { value, .. } => value.clone(),
            k => panic!("{k:?}"),
        };
        // What libyaml and go-yaml read.
        for (src, want) in [
            ("a: |\n  x", "x"),
            ("a: |\n  x\n  y", "x\ny"),
            ("a: |\r\n  x\r\n  y", "x\ny"),
            ("a: |+\n  x", "x"),
            ("a: >\n  x\n  y", "x y"),
            ("a: |-\n  x", "x"),
            ("a: |\n  x\n", "x\n"),
            ("a: |\n  x\n  ", "x\n"),
            ("a: |+\n  x\n\n", "x\n\n"),
            ("a: |\n  x\n# c", "x\n"),
            ("a: |", ""),
        ] {
            assert_eq!(value(src), want, "{src:?}");
        }
    }

    #[test]
    fn block_scalar_with_an_indicator_spans_lines_less_indented_than_its_first() {
        for (src, key) in [
            ("a: |2\n    deeper\n  content\nb: 1\n", "a"),
            (
                "s:\n  - k: |2\n        deeper\n      content\n    n: 1\n",
                "s",
            ),
            ("s:\n- >1-\n   deeper\n  content\n", "s"),
        ] {
            let docs = parse_stream(src).unwrap();
            let mut node = docs[0].root.get(key).unwrap();
            loop {
                node = match &node.kind {
                    NodeKind::Seq { items, .. } => &items[0],
                    NodeKind::Map { entries, .. } => &entries[0].1,
                    _ => break,
                };
            }
            assert!(
                slice(src, node).ends_with("content"),
                "{src:?}: {:?}",
                slice(src, node)
            );
        }
    }

    #[test]
    fn block_sequences_start_at_their_dash_across_comments_and_anchors() {
        for src in [
            "s:\n- a: 1\n",
            "s:\n-   a: 1\n",
            "s:\n- # why\n  a: 1\n",
            "s:\n-\n  # why\n\n  a: 1\n",
            "s:\r\n- # why\r\n  a: 1\r\n",
            "s:\n- &x\n  a: 1\n",
            "s:\n- !!map # why\n  a: 1\n",
        ] {
            let docs = parse_stream(src).unwrap();
            let seq = docs[0].root.get("s").unwrap();
            assert!(
                slice(src, seq).starts_with('-'),
                "{src:?}: {:?}",
                slice(src, seq)
            );
        }
    }

    #[test]
    fn alias_bombs_are_refused_at_the_alias_that_crosses_the_limit() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..6 {
            let p = i - 1;
            src.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        // a5 stands for 1,111,111 nodes: just over the limit, found on its line.
        let err = parse_stream(&src).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");
        assert!(err.offset > src.rfind("a5:").unwrap(), "{err:?}");
        // One level less (111,111 nodes) is fine.
        let fewer: String = src.lines().take(5).map(|l| format!("{l}\n")).collect();
        assert!(parse_stream(&fewer).is_ok());
        // More than a million nodes written out, no alias: too large, and said so (building
        // stops there).
        let big = format!("a: [{}]\n", ["1"; 1_000_001].join(","));
        let err = parse_stream(&big).unwrap_err();
        assert!(
            err.message.contains("more than 1000000 YAML nodes"),
            "{err:?}"
        );
        assert!(err.offset > 1_999_000, "{err:?}");
        assert!(parse_stream(&big.replacen("1,", "", 10)).is_ok());
    }

    #[test]
    fn aliases_resolve_to_the_latest_anchor_before_them() {
        let src = "a: &x one\nb: *x\nc: &x two\nd: *x\ne: {f: &y [1]}\ng: *y\n";
        let docs = parse_stream(src).unwrap();
        let root = &docs[0].root;
        let at = |k: &str| root.get(k).unwrap().resolve(root);
        assert_eq!(at("a").as_str(), Some("one"));
        assert_eq!(at("b").as_str(), Some("one"));
        assert_eq!(at("d").as_str(), Some("two"));
        assert!(matches!(at("g").kind, NodeKind::Seq { .. }));
    }

    #[test]
    fn implicit_null_is_empty_span() {
        let src = "a:\nb: 1\n";
        let docs = parse_stream(src).unwrap();
        let a = docs[0].root.get("a").unwrap();
        assert!(a.is_null_scalar());
        assert!(a.span.is_empty());
    }

    #[test]
    fn anchor_and_tag_tokens_are_kept_as_props() {
        let src = "a: &x 80\nb: !!str &y 10\nc: &m\n  k: v\nd: *x\ne: [&s s]\n";
        let docs = parse_stream(src).unwrap();
        let root = &docs[0].root;
        let props = |k: &str| root.get(k).unwrap().props.clone().map(|r| &src[r]);
        assert_eq!(props("a"), Some("&x"));
        assert_eq!(props("b"), Some("!!str &y"));
        assert_eq!(props("c"), Some("&m"));
        assert_eq!(props("d"), None);
        assert_eq!(slice(src, root.get("a").unwrap()), "80");
        let NodeKind::Seq { items, .. } = &root.get("e").unwrap().kind else {
            panic!("seq")
        };
        assert_eq!(items[0].props.clone().map(|r| &src[r]), Some("&s"));
    }
}
