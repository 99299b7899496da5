//! The plain input kind: YAML or JSON manifests, planned and verified as they are written.

use super::InputKind;
use crate::catalogue::{Catalogue, Window};
use crate::plan::{DocPlan, DuplicateKey};
use crate::verify::{self, Expect};
use crate::yaml::{Document, Value};

/// A manifest file (or anything not known to kustomize).
#[derive(Debug, Clone, Copy)]
pub struct Plain;

impl InputKind for Plain {
    /// [`crate::plan::plan_document`]; a document that is a kustomization by its own
    /// content is planned as one (`kustomize::plan_if_kustomization`).
    fn plan(
        &self,
        src: &str,
        doc: &Document,
        cat: &Catalogue,
        window: Window,
    ) -> Result<DocPlan, DuplicateKey> {
        let mut plan = crate::plan::plan_document(src, doc, cat, window)?;
        super::kustomize::plan_if_kustomization(src, doc, cat, window, &mut plan);
        Ok(plan)
    }
}

/// Check a plain `output` against the expected meaning of each document (every one
/// changed).
pub fn verify(
    output: &str,
    expected: &[Value],
    cat: &Catalogue,
    window: Window,
) -> Result<(), String> {
    let want: Vec<Expect> = expected.iter().cloned().map(Expect::Changed).collect();
    verify::verify_docs(output, &want, |doc| Plain.plan(output, doc, cat, window))
}
