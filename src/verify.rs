//! Self-verification of a planned rewrite, before anything is shown or written: the output
//! must parse, mean exactly what the migrated working trees mean, and need no further work.

use crate::catalogue::{Catalogue, Window};
use crate::plan::mtree::MNode;
use crate::yaml::{Value, parse_stream};

/// Check `output` against the expected meaning of each document.
pub fn verify(
    output: &str,
    expected: &[Value],
    cat: &Catalogue,
    window: Window,
) -> Result<(), String> {
    verify_as(output, expected, cat, window, crate::kustomize::Role::Plain)
}

/// [`verify`] for a file whose role to kustomize is known (a second run plans it the same way).
pub fn verify_as(
    output: &str,
    expected: &[Value],
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
    for (doc, want) in docs.iter().zip(expected) {
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
