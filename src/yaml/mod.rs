//! YAML as spans: the parser adapter, the span tree, and the semantic value used to verify.

pub mod events;
pub mod path;
pub mod tree;
pub mod value;

pub use events::{Style, SyntaxError};
pub use tree::{Document, Node, NodeKind, parse_stream};
pub use value::Value;
