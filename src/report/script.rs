//! What `--scan-scripts` prints: a line (or a GitHub workflow command) per `kubectl run`
//! command with ignored or removed flags, and the counts for its summary line. With
//! `--format json` or `sarif` the findings are kept here instead and handed to
//! [`Collector::scripts`](super::machine::Collector::scripts).

use std::io::{self, Write};

use crate::input::script::ScriptFinding;

/// How the scan reports its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `PATH:LINE:COL: kubectl run: LEVEL [CODE]: …` lines.
    Text,
    /// GitHub workflow commands.
    Github,
    /// Nothing printed: the findings are kept in `ScanSummary::findings` for `--format json`
    /// and `sarif`.
    Collect,
}

/// Counts for the summary and the exit status.
#[derive(Debug, Default)]
pub struct ScanSummary {
    /// With `Style::Collect`: every finding, with the path it was reported under.
    pub findings: Vec<(String, ScriptFinding)>,
    /// With `Style::Collect`: the scripts that could not be read, with why.
    pub failed: Vec<(String, String)>,
    pub scanned: usize,
    pub commands: usize,
    pub fixed: usize,
    /// Commands left with flags (all of them unless `fix`).
    pub left: usize,
    pub errors: usize,
}

impl ScanSummary {
    /// `kubemig: 3 scripts scanned, 2 kubectl run commands with removed flags, 1 fixed`.
    pub fn write(&self, w: &mut dyn Write, fix: bool) -> io::Result<()> {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            w,
            "kubemig: {} scanned, {} with ignored or removed flags",
            plural(self.scanned, "script", "scripts"),
            plural(self.commands, "kubectl run command", "kubectl run commands"),
        )?;
        if fix {
            write!(w, ", {} fixed", self.fixed)?;
        }
        if self.errors > 0 {
            write!(w, ", {}", plural(self.errors, "error", "errors"))?;
        }
        writeln!(w)
    }

    /// Count one finding of the script `name` (`fixed`: `fix` deleted its flags), and keep it
    /// with `Style::Collect`. `true`: it is still to be printed (a fixed one only when
    /// `verbose`).
    pub fn add(
        &mut self,
        name: &str,
        f: &ScriptFinding,
        fixed: bool,
        style: Style,
        verbose: bool,
    ) -> bool {
        self.commands += 1;
        if fixed {
            self.fixed += 1;
        } else {
            self.left += 1;
        }
        if style == Style::Collect {
            self.findings.push((name.to_string(), f.clone()));
            return false;
        }
        !fixed || verbose
    }
}

/// One finding of the script `name`: `PATH:LINE:COL: kubectl run: LEVEL [CODE]: …`, or a
/// GitHub workflow command for one `fix` did not delete.
pub fn finding(
    w: &mut dyn Write,
    name: &str,
    f: &ScriptFinding,
    fixed: bool,
    style: Style,
) -> io::Result<()> {
    let level = match (fixed, f.removed) {
        (true, _) => "fixed",
        (false, true) => "error",
        (false, false) => "warning",
    };
    if style == Style::Github && !fixed {
        super::workflow_command::annotation(
            w,
            level,
            name,
            Some((f.line, f.col)),
            &format!("kubemig {}", f.code),
            &f.message,
        )
    } else {
        writeln!(
            w,
            "{name}:{}:{}: kubectl run: {level} [{}]: {}",
            f.line, f.col, f.code, f.message
        )
    }
}

/// A script that could not be read or written: `PATH: error: …`.
pub fn error(w: &mut dyn Write, name: &str, message: &str) -> io::Result<()> {
    writeln!(w, "{name}: error: {message}")
}
