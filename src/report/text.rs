//! Human-readable lines: `PATH:LINE:COL: KIND NAMESPACE/NAME: FROM -> TO`, findings in the
//! same shape, errors as `PATH:LINE:COL: error: …`, and the closing summary.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::catalogue::Level;
use crate::engine::{FileError, Outcome};
use crate::plan::{ObjectReport, Status};

fn who(o: &ObjectReport) -> Who<'_> {
    Who(o)
}

/// An object as the text report names it, `KIND [NAMESPACE/]NAME`, written where it goes
/// (a line per object of every file: no string of its own).
struct Who<'a>(&'a ObjectReport);

impl std::fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let o = self.0;
        let name = o.name.as_deref().unwrap_or("<unnamed>");
        match &o.namespace {
            Some(ns) => write!(f, "{} {ns}/{name}", o.kind),
            None => write!(f, "{} {name}", o.kind),
        }
    }
}

/// The start of an object's line: `PATH:LINE:COL: KIND [NAMESPACE/]NAME`.
struct Head<'a> {
    name: &'a str,
    line: usize,
    col: usize,
    who: Who<'a>,
}

impl std::fmt::Display for Head<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.name, self.line, self.col, self.who)
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
/// is listed (diff, fix) or everything that needs migrating (check). Each object's heads
/// come first (its apiVersion, then its field migrations), then all its findings in line
/// order, each message cut to one line (`short`).
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
    for group in object_groups(&out.objects, |o| &o.item) {
        let mut findings = Vec::new();
        for (obj, positions) in out.objects[group.clone()]
            .iter()
            .zip(&out.finding_positions[group])
        {
            let o = &obj.item;
            let head = Head {
                name,
                line: obj.line,
                col: obj.col,
                who: who(o),
            };
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
            for (f, &(line, col)) in o.findings.iter().zip(positions) {
                if shows(f.level, o.status, verbosity, only_open) {
                    findings.push((line, col, o, f));
                }
            }
        }
        // Stable: findings at one place keep the catalogue's order.
        findings.sort_by_key(|&(line, col, ..)| (line, col));
        for (line, col, o, f) in findings {
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
                short(&f.message, &f.code)
            )?;
        }
    }
    Ok(())
}

/// Messages longer than this are cut for text output; JSON and SARIF keep them whole.
const SHORT: usize = 110;

/// `message` in at most about [`SHORT`] characters: as many of its leading clauses (split at
/// `; ` and `. `) as fit, else the first words of the first, and a pointer to the whole
/// advice. A count of more places (`and 2 more places`) is kept.
pub fn short(message: &str, code: &str) -> String {
    let (body, more) = match message.rfind(" and ") {
        Some(i)
            if message[i..].ends_with(" more place") || message[i..].ends_with(" more places") =>
        {
            (&message[..i], Some(&message[i + 1..]))
        }
        _ => (message, None),
    };
    if body.chars().count() <= SHORT {
        return message.to_string();
    }
    // Clause ends: `;` or `.` followed by a space, outside parentheses (`(e.g. x)`).
    let mut cut = None;
    let mut depth = 0i32;
    for (i, c) in body.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '.' | ';' if depth <= 0 && body[i + 1..].starts_with(' ') => {
                if body[..i].chars().count() > SHORT {
                    break;
                }
                cut = Some(i);
            }
            _ => {}
        }
    }
    let mut out = match cut {
        Some(i) => body[..i].to_string(),
        None => {
            let head: String = body.chars().take(SHORT).collect();
            let at = head.rfind(' ').unwrap_or(head.len());
            format!("{}…", head[..at].trim_end_matches([',', ' ', '(', ':']))
        }
    };
    if let Some(m) = more {
        out.push_str(&format!(" ({m})"));
    }
    out.push_str(&format!(" (kubemig explain {code})"));
    out
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
    /// Objects with something to rewrite and nothing that needs a human.
    pub objects_to_migrate: usize,
    /// The migrations those objects need (an Ingress with an apiVersion and a field
    /// migration is one object, two migrations).
    pub migrations: usize,
    pub files_to_change: usize,
    /// Objects that need a human.
    pub blocked: usize,
    pub errors: usize,
    /// Reports skipped by `# kubemig: ignore` comments.
    pub suppressed: usize,
}

/// The reports of one object: consecutive reports naming the same document and object
/// (the apiVersion's, then each field migration's). Objects of a `List` are told apart by
/// kind, namespace and name.
pub fn object_groups<T>(
    objects: &[T],
    report: impl Fn(&T) -> &ObjectReport,
) -> Vec<std::ops::Range<usize>> {
    let same = |a: &ObjectReport, b: &ObjectReport| {
        (a.doc_index, &a.kind, &a.namespace, &a.name)
            == (b.doc_index, &b.kind, &b.namespace, &b.name)
    };
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        match out.last_mut() {
            Some(r) if same(report(&objects[r.start]), report(o)) => r.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

impl Summary {
    pub fn add(&mut self, out: &Outcome) {
        self.files += 1;
        for g in object_groups(&out.objects, |o| &o.item) {
            let reports = &out.objects[g];
            let migrations = reports
                .iter()
                .filter(|o| o.item.status == Status::Migrated)
                .count();
            if reports.iter().any(|o| o.item.status == Status::Blocked) {
                self.blocked += 1;
            } else if migrations > 0 {
                self.objects_to_migrate += 1;
                self.migrations += migrations;
            }
        }
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
        let migrations = if self.migrations != self.objects_to_migrate {
            format!(
                " ({} migration{})",
                self.migrations,
                plural(self.migrations)
            )
        } else {
            String::new()
        };
        writeln!(
            w,
            "kubemig: {} file{} scanned, {} object{} {objs}{migrations}, {} file{} {files}, {} need{} a human, {} error{}{suppressed}",
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

    /// What to do next, in ruff's manner: for `check` and `diff`, how to rewrite what can be
    /// and how to learn about what cannot.
    pub fn hint(&self, w: &mut dyn Write) -> io::Result<()> {
        let rewrite = (self.objects_to_migrate > 0).then(|| {
            format!(
                "{} object{} can be rewritten: run `kubemig fix`",
                self.objects_to_migrate,
                plural(self.objects_to_migrate)
            )
        });
        let human = (self.blocked > 0).then(|| {
            format!(
                "{} need{} a human: `kubemig explain CODE` tells what to do",
                self.blocked,
                if self.blocked == 1 { "s" } else { "" }
            )
        });
        match (rewrite, human) {
            (Some(r), Some(h)) => writeln!(w, "{r}; {h}"),
            (Some(x), None) | (None, Some(x)) => writeln!(w, "{x}"),
            (None, None) => Ok(()),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `--statistics`: per migration id, how many objects it applies to and how many of those
/// need a human.
#[derive(Debug, Default)]
pub struct Statistics {
    by_id: std::collections::BTreeMap<String, (usize, usize, String)>,
}

impl Statistics {
    pub fn add(&mut self, out: &Outcome) {
        for o in &out.objects {
            let o = &o.item;
            let (Some(id), Status::Migrated | Status::Blocked) = (&o.migration, o.status) else {
                continue;
            };
            let e = self.by_id.entry(id.clone()).or_insert_with(|| {
                let what = match &o.field {
                    Some(summary) => summary.clone(),
                    None => format!("{} -> {}", o.from, o.to.as_deref().unwrap_or("?")),
                };
                (0, 0, what)
            });
            e.0 += 1;
            e.1 += usize::from(o.status == Status::Blocked);
        }
    }

    /// Most frequent first; ids in order among equals.
    pub fn write(&self, w: &mut dyn Write) -> io::Result<()> {
        let mut rows: Vec<_> = self.by_id.iter().collect();
        rows.sort_by_key(|(_, (n, ..))| std::cmp::Reverse(*n));
        let width = rows.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
        for (id, (n, human, what)) in rows {
            let human = if *human > 0 {
                format!(
                    " ({human} need{} a human)",
                    if *human == 1 { "s" } else { "" }
                )
            } else {
                String::new()
            };
            writeln!(w, "{n:>6}  {id:<width$}  {what}{human}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keeps_short_messages_and_cuts_long_ones_at_a_clause() {
        assert_eq!(
            short("v1 requires a schema; wrote one", "C"),
            "v1 requires a schema; wrote one"
        );
        let long = format!(
            "first clause of the advice (e.g. this; not here); {} tail",
            "x ".repeat(80)
        );
        assert_eq!(
            short(&long, "CODE"),
            "first clause of the advice (e.g. this; not here) (kubemig explain CODE)"
        );
        let words = "word ".repeat(60);
        let cut = short(words.trim_end(), "W");
        assert!(cut.ends_with("word… (kubemig explain W)"), "{cut}");
        assert!(cut.chars().count() < SHORT + 30, "{cut}");
        let more = format!("{} and 2 more places", "y ".repeat(70));
        assert!(short(&more, "M").ends_with("(and 2 more places) (kubemig explain M)"));
    }

    #[test]
    fn one_object_is_one_count_whatever_its_migrations() {
        use crate::engine::Located;
        use crate::plan::ObjectReport;
        let report = |doc_index, status, migration: &str| Located {
            line: 1,
            col: 1,
            item: ObjectReport {
                doc_index,
                offset: 0,
                kind: "Ingress".into(),
                name: Some("web".into()),
                namespace: None,
                from: "extensions/v1beta1".into(),
                to: Some("networking.k8s.io/v1".into()),
                migration: Some(migration.into()),
                field: None,
                status,
                findings: Vec::new(),
            },
        };
        let out = Outcome {
            objects: vec![
                report(0, Status::Migrated, "api"),
                report(0, Status::Migrated, "class-annotation"),
                report(1, Status::Migrated, "api"),
                report(1, Status::Blocked, "class-annotation"),
            ],
            finding_positions: vec![Vec::new(); 4],
            ..Outcome::default()
        };
        let mut s = Summary::default();
        s.add(&out);
        assert_eq!((s.objects_to_migrate, s.migrations, s.blocked), (1, 2, 1));
        let mut st = Statistics::default();
        st.add(&out);
        let mut table = Vec::new();
        st.write(&mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.contains("2  api"), "{table}");
        assert!(table.contains("(1 needs a human)"), "{table}");
    }
}
