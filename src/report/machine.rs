//! What the machine-readable formats (`json`, `sarif`, `github`) are made from: every
//! reported object of every file with its findings, and the files that could not be
//! processed, collected in path order and written once at the end.

use crate::catalogue::{Catalogue, Level, Release, Window};
use crate::cli::Format;
use crate::engine::{FileError, Outcome};
use crate::plan::{ObjectReport, Status};

use super::text::{self, Summary, Verbosity};

/// One reported object, with its place and the findings shown about it.
#[derive(Debug, Clone)]
pub struct Object {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub report: ObjectReport,
    /// The migration (or field migration) id: the report's, or the hop that leaves its
    /// version when the report has none (an object refused before its migration ran).
    pub migration: Option<String>,
    /// The findings shown (what `check -v` prints), with their line and column.
    pub findings: Vec<(usize, usize, crate::plan::Finding)>,
}

impl Object {
    /// What `kubemig fix` does about the object: rewrite it, leave it to a human, or nothing
    /// (deprecated but still served, or a note).
    pub fn action(&self) -> &'static str {
        match self.report.status {
            Status::Migrated => "rewrite",
            Status::Blocked => "manual",
            Status::Deprecated | Status::Noted => "none",
        }
    }

    pub fn status(&self) -> &'static str {
        status_name(self.report.status)
    }

    /// `Kind namespace/name`, as the text output spells it.
    pub fn who(&self) -> String {
        let o = &self.report;
        let name = o.name.as_deref().unwrap_or("<unnamed>");
        match &o.namespace {
            Some(ns) => format!("{} {ns}/{name}", o.kind),
            None => format!("{} {name}", o.kind),
        }
    }

    /// The object's line in the text output, without the `PATH:LINE:COL: WHO: ` head.
    pub fn headline(&self) -> String {
        let o = &self.report;
        let what = match (&o.field, &o.migration) {
            (Some(summary), Some(id)) => Some(format!("{id}: {summary}")),
            _ => None,
        };
        match (o.status, what) {
            (Status::Migrated | Status::Noted, Some(what)) => what,
            (Status::Blocked, Some(what)) => format!("{what}: needs a human"),
            (Status::Migrated, None) => {
                format!("{} -> {}", o.from, o.to.as_deref().unwrap_or("?"))
            }
            (Status::Blocked, None) => match &o.to {
                Some(to) => format!("{} -> {to}: needs a human", o.from),
                None => format!("{}: needs a human", o.from),
            },
            (Status::Deprecated, _) => match &o.to {
                Some(to) => format!("{} is deprecated (-> {to})", o.from),
                None => format!("{} is deprecated", o.from),
            },
            (Status::Noted, None) => o.from.clone(),
        }
    }

    /// The rule a SARIF result or annotation is filed under: the migration id, else the code
    /// of the finding that blocks it (`G-NO-SERVED-REPLACEMENT` for an API with no successor),
    /// else the first finding's (`G-DEPRECATED`).
    pub fn rule_id(&self) -> String {
        let findings = &self.report.findings;
        self.migration
            .clone()
            .or_else(|| {
                findings
                    .iter()
                    .find(|f| f.level.blocks())
                    .or(findings.first())
                    .map(|f| f.code.clone())
            })
            .unwrap_or_else(|| crate::catalogue::codes::KUBEMIG_OBJECT.id.to_string())
    }
}

pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Migrated => "migrate",
        Status::Blocked => "blocked",
        Status::Deprecated => "deprecated",
        Status::Noted => "noted",
    }
}

pub fn level_name(l: Level) -> &'static str {
    l.as_str()
}

/// A file that could not be processed.
#[derive(Debug, Clone)]
pub struct Error {
    pub path: String,
    pub position: Option<(usize, usize)>,
    pub message: String,
}

/// A `kubectl run` command with ignored or removed flags, from `--scan-scripts`.
#[derive(Debug, Clone)]
pub struct Script {
    pub path: String,
    pub finding: crate::input::script::ScriptFinding,
}

impl Script {
    /// `error` when kubectl at the target rejects a flag, else `warning`.
    pub fn level(&self) -> &'static str {
        if self.finding.removed {
            "error"
        } else {
            "warning"
        }
    }

    /// What `kubemig fix --scan-scripts` does: delete the flags, or leave them to a human.
    pub fn action(&self) -> &'static str {
        if self.finding.fixable {
            "rewrite"
        } else {
            "manual"
        }
    }

    pub fn status(&self) -> &'static str {
        if self.finding.fixable {
            "migrate"
        } else {
            "blocked"
        }
    }
}

/// Everything a machine-readable report needs, gathered file by file.
pub struct Collector {
    format: Format,
    pub objects: Vec<Object>,
    pub errors: Vec<Error>,
    /// `--scan-scripts` findings, in path order, after the manifests'.
    pub scripts: Vec<Script>,
    /// How many scripts `--scan-scripts` read; `None` without it.
    pub scripts_scanned: Option<usize>,
}

/// Facts about the run that the reports state.
pub struct RunInfo<'a> {
    pub catalogue: &'a Catalogue,
    pub window: Window,
    pub summary: &'a Summary,
}

impl RunInfo<'_> {
    pub fn target(&self) -> Release {
        self.window.target
    }

    pub fn min(&self) -> Release {
        self.window.oldest().min(self.window.target)
    }
}

impl Collector {
    /// A collector for `format`, or `None` for text, which is written as it goes.
    pub fn new(format: Format) -> Option<Collector> {
        (format != Format::Text).then_some(Collector {
            format,
            objects: Vec::new(),
            errors: Vec::new(),
            scripts: Vec::new(),
            scripts_scanned: None,
        })
    }

    /// Add one file's reported objects.
    pub fn objects(&mut self, name: &str, out: &Outcome, cat: &Catalogue) {
        for (obj, positions) in out.objects.iter().zip(&out.finding_positions) {
            let o = &obj.item;
            let migration = o
                .migration
                .clone()
                .or_else(|| cat.hop_from(&o.from, &o.kind).map(|h| h.meta.id.clone()));
            let findings = o
                .findings
                .iter()
                .zip(positions)
                .filter(|(f, _)| text::shows(f.level, o.status, Verbosity::Verbose, false))
                .map(|(f, &(l, c))| (l, c, f.clone()))
                .collect();
            self.objects.push(Object {
                path: name.to_string(),
                line: obj.line,
                column: obj.col,
                report: o.clone(),
                migration,
                findings,
            });
        }
    }

    /// Add a file that could not be processed.
    pub fn error(&mut self, name: &str, e: &FileError) {
        self.errors.push(Error {
            path: name.to_string(),
            position: e.position,
            message: e.message.clone(),
        });
    }

    /// Add what `--scan-scripts` found (collected with `script::Style::Collect`).
    pub fn scripts(&mut self, s: &super::script::ScanSummary) {
        self.scripts_scanned = Some(s.scanned);
        for (path, message) in &s.failed {
            self.errors.push(Error {
                path: path.clone(),
                position: None,
                message: message.clone(),
            });
        }
        self.scripts
            .extend(s.findings.iter().map(|(path, f)| Script {
                path: path.clone(),
                finding: f.clone(),
            }));
    }

    /// The format the report is written in ([`super::write_machine`]).
    pub fn format(&self) -> Format {
        self.format
    }
}
