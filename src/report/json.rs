//! `check --format json`: one JSON document, schema version 1 (documented in docs/output-formats.md).
//! Every key is always present (`null` when it does not apply; the summary's `--scan-scripts`
//! counts only with that flag), so consumers can rely on
//! the shape; new keys may be added, existing ones keep their meaning.

use std::io::{self, Write};

use serde::Serialize;

use super::machine::{Collector, Object, RunInfo, Script, level_name};

/// The version of this schema; bumped only for an incompatible change.
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema: u32,
    kubemig: &'static str,
    target_version: String,
    min_version: String,
    findings: Vec<Record<'a>>,
    errors: Vec<ErrorRecord<'a>>,
    summary: SummaryRecord,
}

#[derive(Serialize)]
struct Record<'a> {
    /// `object`: the object itself; `finding`: something reported about it.
    r#type: &'static str,
    path: &'a str,
    line: usize,
    column: usize,
    /// Zero-based index of the document in the file's stream; `null` for a script.
    document: Option<usize>,
    /// The object's kind, or `kubectl run` for a `--scan-scripts` finding.
    kind: &'a str,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    /// The object's apiVersion; `null` for a script.
    from: Option<&'a str>,
    to: Option<&'a str>,
    migration: Option<&'a str>,
    action: &'static str,
    status: &'static str,
    level: Option<&'static str>,
    code: Option<&'a str>,
    message: String,
}

#[derive(Serialize)]
struct ErrorRecord<'a> {
    path: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
}

#[derive(Serialize)]
struct SummaryRecord {
    files_scanned: usize,
    objects_to_migrate: usize,
    files_to_change: usize,
    needs_human: usize,
    errors: usize,
    suppressed: usize,
    /// Scripts read and `kubectl run` commands reported by `--scan-scripts`; `null` without it.
    scripts_scanned: Option<usize>,
    kubectl_run_commands: Option<usize>,
}

fn records(o: &Object) -> impl Iterator<Item = Record<'_>> {
    let r = &o.report;
    let base = move |r#type, line, column, level, code, message| Record {
        r#type,
        path: &o.path,
        line,
        column,
        document: Some(r.doc_index),
        kind: &r.kind,
        namespace: r.namespace.as_deref(),
        name: r.name.as_deref(),
        from: Some(&r.from),
        to: r.to.as_deref(),
        migration: o.migration.as_deref(),
        action: o.action(),
        status: o.status(),
        level,
        code,
        message,
    };
    std::iter::once(base("object", o.line, o.column, None, None, o.headline())).chain(
        o.findings.iter().map(move |(l, c, f)| {
            base(
                "finding",
                *l,
                *c,
                Some(level_name(f.level)),
                Some(f.code.as_str()),
                f.message.clone(),
            )
        }),
    )
}

/// A `--scan-scripts` finding: a `finding` record with kind `kubectl run`.
fn script_record(s: &Script) -> Record<'_> {
    let f = &s.finding;
    Record {
        r#type: "finding",
        path: &s.path,
        line: f.line,
        column: f.col,
        document: None,
        kind: "kubectl run",
        namespace: None,
        name: None,
        from: None,
        to: None,
        migration: None,
        action: s.action(),
        status: s.status(),
        level: Some(s.level()),
        code: Some(f.code),
        message: f.message.clone(),
    }
}

pub fn write(w: &mut dyn Write, c: &Collector, info: &RunInfo) -> io::Result<()> {
    let s = info.summary;
    let doc = Document {
        schema: SCHEMA,
        kubemig: env!("CARGO_PKG_VERSION"),
        target_version: info.target().to_string(),
        min_version: info.min().to_string(),
        findings: c
            .objects
            .iter()
            .flat_map(records)
            .chain(c.scripts.iter().map(script_record))
            .collect(),
        errors: c
            .errors
            .iter()
            .map(|e| ErrorRecord {
                path: &e.path,
                line: e.position.map(|p| p.0),
                column: e.position.map(|p| p.1),
                message: &e.message,
            })
            .collect(),
        summary: SummaryRecord {
            files_scanned: s.files,
            objects_to_migrate: s.objects_to_migrate,
            files_to_change: s.files_to_change,
            needs_human: s.blocked,
            errors: s.errors,
            suppressed: s.suppressed,
            scripts_scanned: c.scripts_scanned,
            kubectl_run_commands: c.scripts_scanned.map(|_| c.scripts.len()),
        },
    };
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::other)?;
    writeln!(w)
}
