//! YAML as spans: the parser adapter, the span tree, and the semantic value used to verify.

pub mod events;
pub mod fast;
pub mod path;
pub mod tree;
pub mod value;

pub use events::{Style, SyntaxError};
pub use tree::{Document, Node, NodeKind, Parser, parse_stream, parse_stream_with};
pub use value::Value;
