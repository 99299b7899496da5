//! Self-verification of a planned rewrite, before anything is shown or written: the output
//! must parse into as many documents, each changed document must mean exactly what the
//! migrated working tree means and need no further work, and each unchanged document must be
//! the very same text.

use crate::catalogue::{Catalogue, Window};
use crate::plan::mtree::MNode;
use crate::yaml::{Document, Value, parse_stream};

/// What one document of the output must be.
#[derive(Debug)]
pub enum Expect<'a> {
    /// A document the migration changed: it must mean this, and a second run must plan no
    /// edit for it.
    Changed(Value),
    /// A document nothing changed: when its [`stretch`] of the output is this text of the
    /// input, it parses, means and plans as before; otherwise it must still mean what the
    /// input's document means, and plan no edit.
    Same {
        text: &'a str,
        /// The input's document, for when the text differs after all.
        doc: &'a Document,
    },
}

/// The text that belongs to document `i` alone: from the end of the previous document's
/// root node (or the start) to the start of the next one's (or the end), so its `---`, its
/// comments and directives, its content and what follows it up to the next document.
pub fn stretch<'s>(src: &'s str, docs: &[Document], i: usize) -> &'s str {
    let start = if i == 0 { 0 } else { docs[i - 1].root.span.end };
    let end = docs.get(i + 1).map_or(src.len(), |d| d.root.span.start);
    &src[start.min(end)..end]
}

/// Check `output` against the expected meaning of each document (every one changed).
pub fn verify(
    output: &str,
    expected: &[Value],
    cat: &Catalogue,
    window: Window,
) -> Result<(), String> {
    let want: Vec<Expect> = expected.iter().cloned().map(Expect::Changed).collect();
    verify_docs(output, &want, cat, window, crate::kustomize::Role::Plain)
}

/// [`verify`] with unchanged documents, for a file whose role to kustomize is known (a
/// second run plans it the same way).
pub fn verify_docs(
    output: &str,
    expected: &[Expect],
    cat: &Catalogue,
    window: Window,
    role: crate::kustomize::Role,
) -> Result<(), String> {
    let docs = parse_stream(output)
        .map_err(|e| format!("the rewritten file does not parse: {}", e.message))?;
    if docs.len() != expected.len() {
        return Err(format!(
            "the rewritten file has {} documents, expected {}",
            docs.len(),
            expected.len()
        ));
    }
    for (i, (doc, want)) in docs.iter().zip(expected).enumerate() {
        let want = match want {
            Expect::Same { text, .. } if stretch(output, &docs, i) == *text => continue,
            // Changed after all: it must still mean what it meant.
            Expect::Same { doc: before, .. } => &MNode::from_node(&before.root)
                .to_value()
                .map_err(|e| e.to_string())?,
            Expect::Changed(v) => v,
        };
        let got = MNode::from_node(&doc.root)
            .to_value()
            .map_err(|e| e.to_string())?;
        if &got != want {
            return Err(format!(
                "document {} does not mean what the migration planned",
                doc.index + 1
            ));
        }
        let again = crate::kustomize::plan_document(output, doc, cat, window, role)
            .map_err(|e| e.to_string())?;
        if !again.edits.is_empty() {
            return Err(format!(
                "document {} would change again on a second run",
                doc.index + 1
            ));
        }
    }
    Ok(())
}
