//! Input kinds: what differs between a plain manifest, a file kustomize reads and a Helm
//! template. The engine runs one pipeline for all of them (decode → prefilter → parse →
//! plan → splice → verify); a kind supplies only what differs, through [`InputKind`]:
//!
//! - the text the YAML parser reads, with the same byte offsets as the file (a template with
//!   its actions masked), and whether a large stream may be planned a chunk at a time;
//! - how each document is planned: which objects and findings it reports (at byte offsets
//!   of the file, so at `PATH:LINE:COL`) and which edits it may make (a kind blocks an edit
//!   that touches what is off-limits to it, such as a templated region);
//! - what self-verification compares.
//!
//! A new kind is one file here, and one line in [`kind_of`].
//!
//! Shell scripts (`--scan-scripts`) are scanned beside the kinds, not as one: [`script`] is a
//! line scan of text that holds no YAML document (docs/design.md, "Layers").

pub mod helm;
pub mod kustomize;
pub mod plain;
pub mod script;

use crate::catalogue::{Catalogue, Window};
use crate::kustomize::Role;
use crate::plan::mtree::MNode;
use crate::plan::{DocPlan, DuplicateKey};
use crate::verify::{self, Expect};
use crate::yaml::Document;

/// What one kind of input does differently in the pipeline.
pub trait InputKind {
    /// The text the YAML parser reads: the file itself, or a view of it with the same byte
    /// offsets (so that every planned edit and finding applies to the file as it is).
    fn yaml_text<'t>(&'t self, src: &'t str) -> &'t str {
        src
    }

    /// Whether a large stream may be split into chunks of whole documents
    /// (`engine::chunks`) and planned a chunk at a time.
    fn chunked(&self) -> bool {
        true
    }

    /// The message for a syntax error in [`InputKind::yaml_text`].
    fn parse_error(&self, message: String) -> String {
        message
    }

    /// What to add to the error for a duplicate key in `src` (a template names the condition
    /// that sets the second one).
    fn duplicate_context(&self, _src: &str, _dup: &DuplicateKey) -> Option<String> {
        None
    }

    /// Plan one document parsed from `src` (the file, or the chunk of it being planned):
    /// its objects and findings, the edits this kind allows, and what it must mean after.
    fn plan(
        &self,
        src: &str,
        doc: &Document,
        cat: &Catalogue,
        window: Window,
    ) -> Result<DocPlan, DuplicateKey>;

    /// Check `output`, the spliced rewrite of `src` (whose documents are `docs`, planned to
    /// mean `expected`, `None` for a document the plan left alone). `src` starts at byte
    /// `base` of the text `docs` were parsed from: a kind that is [`InputKind::chunked`] may
    /// be given a part of a chunk, whole documents cut where a chunk may be cut
    /// (`engine::verify_parts`). The error is the whole message. By default: each changed
    /// document means what was planned, each unchanged one is the very same text, and a
    /// second run plans no edit (`verify::verify_docs`).
    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        output: &str,
        src: &str,
        base: usize,
        docs: &[Document],
        expected: &[Option<MNode>],
        cat: &Catalogue,
        window: Window,
    ) -> Result<(), String> {
        let want: Vec<Expect> = docs
            .iter()
            .zip(expected)
            .enumerate()
            .map(|(i, (d, e))| match e {
                Some(m) => Expect::Planned(m),
                None => Expect::Same {
                    text: verify::document_text_at(src, base, docs, i),
                    doc: d,
                },
            })
            .collect();
        let first = docs.first().map_or(0, |d| d.index);
        verify::verify_docs_from(output, first, &want, |doc| {
            self.plan(output, doc, cat, window)
        })
        .map_err(|why| format!("self-verification failed: {why}"))
    }
}

/// Why a file cannot be read as its kind at all, at a byte offset of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub offset: usize,
    pub message: String,
}

/// The kind of a decoded file: a Helm template by its content, else a kustomization or a
/// patch by the role a kustomization gave it (`kustomize::Roles`), else a plain manifest.
pub fn kind_of(src: &str, role: Role) -> Result<Box<dyn InputKind>, Unreadable> {
    if helm::is_template(src) {
        return Ok(Box::new(helm::Helm::scan(src)?));
    }
    Ok(match role {
        Role::Plain => Box::new(plain::Plain),
        role => Box::new(kustomize::Kustomize { role }),
    })
}
