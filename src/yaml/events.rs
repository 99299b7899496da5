//! The only module that knows the YAML parser crate. It turns the parser's events into our
//! own `Ev`, with byte ranges into the source, so the parser can be swapped (saphyr-parser
//! was the measured alternative) by rewriting this file alone.

use std::ops::Range;

use granit_parser::{Event, Options, Parser, ScalarStyle};

/// How a scalar was written; kept so that a replaced value keeps the author's quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EvKind {
    DocStart,
    DocEnd,
    Scalar {
        value: String,
        style: Style,
        anchor: usize,
        tag: Option<String>,
    },
    SeqStart {
        flow: bool,
        anchor: usize,
        tag: Option<String>,
    },
    SeqEnd,
    MapStart {
        flow: bool,
        anchor: usize,
        tag: Option<String>,
    },
    MapEnd,
    Alias(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ev {
    pub kind: EvKind,
    pub span: Range<usize>,
    /// The node's anchor and tag tokens as written (`&a !!str`), first to last; they sit
    /// before `span` and are not part of it.
    pub props: Option<Range<usize>>,
}

/// A syntax error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// Nesting deeper than this is refused: real manifests stay far below it, and the limit
/// keeps hostile input from exhausting the stack of the recursive passes that follow.
pub const MAX_DEPTH: usize = 200;

/// Parse `src` and feed every event to `sink`; the first syntax error stops parsing.
pub fn parse(src: &str, mut sink: impl FnMut(Ev)) -> Result<(), SyntaxError> {
    let mut options = Options::default();
    options.emit_comments = false;
    options.emit_anchor_events = true;
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    let mut parser = Parser::new_from_str_with_options(src, options);
    // A node event is held back until the next event: an `Anchor` event that follows it
    // carries the span of its `&name` token.
    let mut held: Option<Ev> = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| SyntaxError {
            offset: e
                .marker()
                .byte_offset()
                .unwrap_or_else(|| char_to_byte(src, e.marker().index())),
            message: match e.info() {
                m if m.contains("recursion limit") || m.contains("nesting") => format!(
                    "nested deeper than {MAX_DEPTH} levels; kubemig refuses such input ({m})"
                ),
                m => m,
            },
        })?;
        let range = span.byte_range().unwrap_or(0..0);
        if let Event::Anchor(..) = event {
            if let Some(ev) = held.as_mut() {
                ev.props = Some(match ev.props.take() {
                    Some(p) => p.start.min(range.start)..p.end.max(range.end),
                    None => range,
                });
            }
            continue;
        }
        let props = span.tag_span().and_then(|t| t.byte_range());
        let kind = match event {
            Event::StreamStart | Event::StreamEnd => continue,
            Event::DocumentStart(..) => EvKind::DocStart,
            Event::DocumentEnd => EvKind::DocEnd,
            Event::Alias(id) => EvKind::Alias(id),
            Event::Scalar(value, style, anchor, tag) => EvKind::Scalar {
                value: value.into_owned(),
                style: match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::Single,
                    ScalarStyle::DoubleQuoted => Style::Double,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                },
                anchor,
                tag: tag.map(|t| tag_name(&t)),
            },
            Event::SequenceStart(style, anchor, tag) => EvKind::SeqStart {
                flow: style == granit_parser::StructureStyle::Flow,
                anchor,
                tag: tag.map(|t| tag_name(&t)),
            },
            Event::SequenceEnd => EvKind::SeqEnd,
            Event::MappingStart(style, anchor, tag) => EvKind::MapStart {
                flow: style == granit_parser::StructureStyle::Flow,
                anchor,
                tag: tag.map(|t| tag_name(&t)),
            },
            Event::MappingEnd => EvKind::MapEnd,
            // Comments are turned off in the options above; an unresolved alias is an
            // error with the default options.
            _ => continue,
        };
        if let Some(ev) = held.replace(Ev {
            kind,
            span: range,
            props,
        }) {
            sink(ev);
        }
    }
    if let Some(ev) = held {
        sink(ev);
    }
    Ok(())
}

/// Core-schema tags become `!!int`, `!!str`, …; others keep their resolved spelling.
fn tag_name(tag: &granit_parser::Tag) -> String {
    match tag.core_suffix() {
        Some(suffix) => format!("!!{suffix}"),
        None => {
            let (handle, suffix) = tag.parts();
            format!("{handle}{suffix}")
        }
    }
}

fn char_to_byte(src: &str, chars: usize) -> usize {
    src.char_indices().nth(chars).map_or(src.len(), |(i, _)| i)
}
