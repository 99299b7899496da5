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

/// The lines for one file's objects. `pending` says whether migrations are still to be done
/// (check) or were done (fix).
pub fn objects(
    w: &mut dyn Write,
    name: &str,
    out: &Outcome,
    verbose: bool,
    only_open: bool,
) -> io::Result<()> {
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
            let show = match f.level {
                // A blocked object was not rewritten: what a rewrite would have pinned or
                // warned about is noise next to the reason it needs a human.
                Level::Info => {
                    o.status != Status::Blocked
                        && (verbose || (o.status == Status::Deprecated && !only_open))
                }
                Level::Pin => o.status == Status::Migrated && (!only_open || verbose),
                Level::Warn => matches!(o.status, Status::Migrated | Status::Noted),
                Level::Manual | Level::Error => true,
            };
            if show {
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
    }

    pub fn write(&self, w: &mut dyn Write, done: bool) -> io::Result<()> {
        let (objs, files) = if done {
            ("migrated", "changed")
        } else {
            ("to migrate", "to change")
        };
        writeln!(
            w,
            "kubemig: {} file{} scanned, {} object{} {objs}, {} file{} {files}, {} need{} a human, {} error{}",
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
