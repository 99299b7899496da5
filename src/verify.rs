//! Self-verification of a planned rewrite, before anything is shown or written: the output
//! must parse into as many documents, each changed document must mean exactly what the
//! migrated working tree means and need no further work, and each unchanged document must be
//! the very same text.

use crate::plan::mtree::MNode;
use crate::plan::{DocPlan, DuplicateKey};
use crate::yaml::{Document, Node, Value, parse_stream};

/// What one document of the output must be.
#[derive(Debug)]
pub enum Expect<'a> {
    /// A document the migration changed: it must mean this, and a second run must plan no
    /// edit for it.
    Changed(Value),
    /// [`Expect::Changed`], given as the migrated working tree.
    Planned(&'a MNode),
    /// A document nothing changed: when its [`document_text`] of the output is this text of the
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
pub fn document_text<'s>(src: &'s str, docs: &[Document], i: usize) -> &'s str {
    document_text_at(src, 0, docs, i)
}

/// [`document_text`] when `src` is a part of the text `docs` were parsed from, starting at
/// its byte `base` (`docs` are the documents of that part, and its first document's text
/// starts with the part).
pub fn document_text_at<'s>(src: &'s str, base: usize, docs: &[Document], i: usize) -> &'s str {
    let start = if i == 0 {
        0
    } else {
        docs[i - 1].root.span.end - base
    };
    let end = docs
        .get(i + 1)
        .map_or(src.len(), |d| d.root.span.start - base);
    &src[start.min(end)..end]
}

/// Check `output` against the expected meaning of each document; `plan_again` plans a
/// document of the output as a second run would (the input kind's planning).
pub fn verify_docs(
    output: &str,
    expected: &[Expect],
    plan_again: impl Fn(&Document) -> Result<DocPlan, DuplicateKey>,
) -> Result<(), String> {
    verify_docs_from(output, 0, expected, plan_again)
}

/// [`verify_docs`] for a part of a stream whose first document is document `first` (0-based)
/// of the text it comes from: errors name documents by their number there.
pub fn verify_docs_from(
    output: &str,
    first: usize,
    expected: &[Expect],
    plan_again: impl Fn(&Document) -> Result<DocPlan, DuplicateKey>,
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
        let value = |n: &Node| MNode::from_node(n).to_value().map_err(|e| e.to_string());
        let meant = match want {
            Expect::Same { text, .. } if document_text(output, &docs, i) == *text => continue,
            // Changed after all: it must still mean what it meant.
            Expect::Same { doc: before, .. } => value(&before.root)? == value(&doc.root)?,
            Expect::Changed(v) => value(&doc.root)? == *v,
            Expect::Planned(m) => {
                m.surely_same(&doc.root)
                    || m.to_value().map_err(|e| e.to_string())? == value(&doc.root)?
            }
        };
        if !meant {
            return Err(format!(
                "document {} does not mean what the migration planned",
                first + doc.index + 1
            ));
        }
        let again = plan_again(doc).map_err(|e| e.to_string())?;
        if !again.edits.is_empty() {
            return Err(format!(
                "document {} would change again on a second run",
                first + doc.index + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Catalogue, Window};
    use crate::input::InputKind;
    use crate::input::plain::Plain;

    fn check(planned: &str, output: &str) -> Result<(), String> {
        let cat = Catalogue::embedded().unwrap();
        let window = Window {
            target: cat.newest,
            min: None,
            include_deprecated: false,
        };
        let tree = MNode::from_node(&parse_stream(planned).unwrap()[0].root);
        verify_docs(output, &[Expect::Planned(&tree)], |doc| {
            Plain.plan(output, doc, &cat, window)
        })
    }

    #[test]
    fn an_output_that_means_something_else_is_refused() {
        assert!(check("a: 1\nb: [x]\n", "a: 1\nb: [x]\n").is_ok());
        // Same meaning, other order and style: shown by comparing values.
        assert!(check("a: 1\nb: [x]\n", "b:\n- 'x'\na: 1\n").is_ok());
        for wrong in [
            "a: 2\nb: [x]\n",
            "a: '1'\nb: [x]\n",
            "a: 1\nb: [x, y]\n",
            "a: 1\n",
        ] {
            let err = check("a: 1\nb: [x]\n", wrong).unwrap_err();
            assert!(err.contains("does not mean"), "{wrong:?}: {err}");
        }
        let err = check("a: 1\n", "a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.contains("2 documents, expected 1"), "{err}");
        // Not a fixed point: a second run would migrate it.
        let old = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: x}\n";
        let err = check(old, old).unwrap_err();
        assert!(err.contains("change again"), "{err}");
    }
}
