//! One file through the pipeline: decode → prefilter → parse → plan → splice → verify.
//! Everything a file needs for reporting is resolved here (line:col, diff text), so the
//! reporter never re-reads or re-parses anything.

use crate::catalogue::{Catalogue, Window};
use crate::edit;
use crate::plan::mtree::MNode;
use crate::plan::{ObjectReport, plan_document};
use crate::prefilter::Prefilter;
use crate::source::Source;
use crate::verify::verify;

pub struct Context<'a> {
    pub catalogue: &'a Catalogue,
    pub window: Window,
    pub prefilter: Option<&'a Prefilter>,
}

/// A problem with a whole file; the file is left as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl FileError {
    pub fn new(message: impl Into<String>) -> FileError {
        FileError {
            position: None,
            message: message.into(),
        }
    }
}

/// A finding or object with its place resolved.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub line: usize,
    pub col: usize,
    pub item: T,
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Objects that need or got attention, with their findings (positions resolved).
    pub objects: Vec<Located<ObjectReport>>,
    /// Positions of each object's findings, parallel to `objects[i].item.findings`.
    pub finding_positions: Vec<Vec<(usize, usize)>>,
    /// The original text and the rewrite, when something changed.
    pub rewrite: Option<(String, String)>,
    pub error: Option<FileError>,
    /// Whether the file was parsed (false when the prefilter skipped it).
    pub parsed: bool,
}

/// Run the pipeline on one file's bytes.
pub fn process(bytes: Vec<u8>, ctx: &Context) -> Outcome {
    let mut out = Outcome::default();
    let source = match Source::decode(bytes) {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(FileError::new(e.to_string()));
            return out;
        }
    };
    if let Some(pf) = ctx.prefilter
        && !pf.may_need_work(source.text.as_bytes())
    {
        return out;
    }
    out.parsed = true;
    let src = source.text.as_str();
    let docs = match crate::yaml::parse_stream(src) {
        Ok(d) => d,
        Err(e) => {
            out.error = Some(FileError {
                position: Some(source.line_col(e.offset)),
                message: e.message,
            });
            return out;
        }
    };
    let mut edits = Vec::new();
    let mut expected: Vec<Option<MNode>> = Vec::with_capacity(docs.len());
    for doc in &docs {
        match plan_document(src, doc, ctx.catalogue, ctx.window) {
            Ok(plan) => {
                for obj in plan.objects {
                    let (line, col) = source.line_col(obj.offset);
                    out.finding_positions.push(
                        obj.findings
                            .iter()
                            .map(|f| source.line_col(f.offset))
                            .collect(),
                    );
                    out.objects.push(Located {
                        line,
                        col,
                        item: obj,
                    });
                }
                edits.extend(plan.edits);
                expected.push(plan.expected);
            }
            Err(dup) => {
                let (l1, _) = source.line_col(dup.first);
                out.error = Some(FileError {
                    position: Some(source.line_col(dup.second)),
                    message: format!(
                        "duplicate key `{}` (also on line {l1}); Kubernetes rejects duplicate keys, remove one",
                        dup.key
                    ),
                });
                out.objects.clear();
                out.finding_positions.clear();
                return out;
            }
        }
    }
    if edits.is_empty() {
        return out;
    }
    let failed = |out: &mut Outcome, why: String| {
        out.error = Some(FileError::new(format!(
            "internal error: {why}; the file was left unchanged. Please report this with the file."
        )));
        for o in &mut out.objects {
            o.item.status = crate::plan::Status::Blocked;
        }
    };
    let output = match edit::apply(src, &edits) {
        Ok(o) => o,
        Err(e) => {
            failed(&mut out, e.to_string());
            return out;
        }
    };
    let want: Result<Vec<_>, _> = docs
        .iter()
        .zip(&expected)
        .map(|(d, e)| match e {
            Some(m) => m.to_value(),
            None => MNode::from_node(&d.root).to_value(),
        })
        .collect();
    match want
        .map_err(|e| e.to_string())
        .and_then(|w| verify(&output, &w, ctx.catalogue, ctx.window))
    {
        Ok(()) => out.rewrite = Some((source.text, output)),
        Err(why) => failed(&mut out, format!("self-verification failed: {why}")),
    }
    out
}
