//! Human-readable lines: `PATH:LINE:COL: KIND NAMESPACE/NAME: FROM -> TO`, findings in the
//! same shape, errors as `PATH:LINE:COL: error: …`, and the closing summary.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::catalogue::Level;
use crate::engine::{FileError, Outcome};
use crate::plan::{ObjectReport, Status};

fn who(o: &ObjectReport) -> String {
    let name = o.name.as_deref().unwrap_or("<unnamed>");
    match &o.namespace {
        Some(ns) => format!("{} {ns}/{name}", o.kind),
        None => format!("{} {name}", o.kind),
    }
}

/// How much to say about each object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `--quiet`: objects, and findings that need a human; no summary.
    Quiet,
    Normal,
    /// `--verbose`: informational findings too.
    Verbose,
}

impl Verbosity {
    pub fn of(verbose: bool, quiet: bool) -> Verbosity {
        match (verbose, quiet) {
            (_, true) => Verbosity::Quiet,
            (true, false) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        }
    }
}

impl From<bool> for Verbosity {
    /// `verbose` as it was before `--quiet`.
    fn from(verbose: bool) -> Verbosity {
        Verbosity::of(verbose, false)
    }
}

/// Whether a finding of `level` on an object with `status` is shown. `only_open`: only what
/// is still to be done (diff and fix, where the rewrite itself is shown or done).
pub fn shows(level: Level, status: Status, verbosity: Verbosity, only_open: bool) -> bool {
    let verbose = verbosity == Verbosity::Verbose;
    match level {
        _ if verbosity == Verbosity::Quiet => level.blocks(),
        // A blocked object was not rewritten: what a rewrite would have pinned or
        // warned about is noise next to the reason it needs a human.
        Level::Info => {
            status != Status::Blocked && (verbose || (status == Status::Deprecated && !only_open))
        }
        Level::Pin => status == Status::Migrated && (!only_open || verbose),
        Level::Warn => matches!(status, Status::Migrated | Status::Noted),
        Level::Manual | Level::Error => true,
    }
}

/// The lines for one file's objects. `only_open` says whether only what is still to be done
/// is listed (diff, fix) or everything that needs migrating (check).
pub fn objects(
    w: &mut dyn Write,
    name: &str,
    out: &Outcome,
    verbosity: impl Into<Verbosity>,
    only_open: bool,
) -> io::Result<()> {
    let verbosity = verbosity.into();
    let warn = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let bad = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    for (obj, positions) in out.objects.iter().zip(&out.finding_positions) {
        let o = &obj.item;
        let head = format!("{name}:{}:{}: {}", obj.line, obj.col, who(o));
        // A deprecated field inside a served API: say which migration, not an apiVersion.
        let what = match (&o.field, &o.migration) {
            (Some(summary), Some(id)) => Some(format!("{id}: {summary}")),
            _ => None,
        };
        match o.status {
            Status::Migrated if !only_open => match &what {
                Some(what) => writeln!(w, "{head}: {what}")?,
                None => writeln!(
                    w,
                    "{head}: {} -> {}",
                    o.from,
                    o.to.as_deref().unwrap_or("?")
                )?,
            },
            Status::Blocked if what.is_some() => {
                writeln!(
                    w,
                    "{head}: {}: {bad}needs a human{bad:#}",
                    what.as_deref().unwrap_or_default()
                )?;
            }
            Status::Blocked => {
                let to =
                    o.to.as_deref()
                        .map_or(String::new(), |t| format!(" -> {t}"));
                writeln!(w, "{head}: {}{to}: {bad}needs a human{bad:#}", o.from)?;
            }
            _ => {}
        }
        for (f, (line, col)) in o.findings.iter().zip(positions) {
            if shows(f.level, o.status, verbosity, only_open) {
                let label = match f.level {
                    Level::Info if o.status == Status::Deprecated => "note",
                    l => l.as_str(),
                };
                let style = if f.level.blocks() { bad } else { warn };
                writeln!(
                    w,
                    "{name}:{line}:{col}: {}: {style}{label}{style:#} [{}]: {}",
                    who(o),
                    f.code,
                    f.message
                )?;
            }
        }
    }
    Ok(())
}

pub fn error(w: &mut dyn Write, name: &str, e: &FileError) -> io::Result<()> {
    let bad = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    match e.position {
        Some((line, col)) => writeln!(w, "{name}:{line}:{col}: {bad}error{bad:#}: {}", e.message),
        None => writeln!(w, "{name}: {bad}error{bad:#}: {}", e.message),
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub objects_to_migrate: usize,
    pub files_to_change: usize,
    pub blocked: usize,
    pub errors: usize,
    /// Reports skipped by `# kubemig: ignore` comments.
    pub suppressed: usize,
}

impl Summary {
    pub fn add(&mut self, out: &Outcome) {
        self.files += 1;
        self.objects_to_migrate += out
            .objects
            .iter()
            .filter(|o| o.item.status == Status::Migrated)
            .count();
        self.blocked += out
            .objects
            .iter()
            .filter(|o| o.item.status == Status::Blocked)
            .count();
        self.files_to_change += usize::from(out.rewrite.is_some());
        self.errors += usize::from(out.error.is_some());
        self.suppressed += out.suppressed;
    }

    pub fn write(&self, w: &mut dyn Write, done: bool) -> io::Result<()> {
        let (objs, files) = if done {
            ("migrated", "changed")
        } else {
            ("to migrate", "to change")
        };
        let suppressed = if self.suppressed > 0 {
            format!(", {} suppressed", self.suppressed)
        } else {
            String::new()
        };
        writeln!(
            w,
            "kubemig: {} file{} scanned, {} object{} {objs}, {} file{} {files}, {} need{} a human, {} error{}{suppressed}",
            self.files,
            plural(self.files),
            self.objects_to_migrate,
            plural(self.objects_to_migrate),
            self.files_to_change,
            plural(self.files_to_change),
            self.blocked,
            if self.blocked == 1 { "s" } else { "" },
            self.errors,
            plural(self.errors),
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
