//! `--scan-scripts` in a run, after the manifests: find the scripts, read and scan each,
//! print (`diff`) or write (`fix`) its deletions, and report its findings through
//! `report::script`, in path order. Findings go to stdout for `check`, to stderr otherwise
//! (where the diff is not).

use std::io::Write;
use std::path::Path;

use super::Mode;
use crate::catalogue::Window;
use crate::cli::{Format, RunArgs};
use crate::config::Settings;
use crate::input::script::{self, find};
use crate::report::script::{self as report, ScanSummary, Style};

/// Scan the scripts under the paths of the run, in its mode; printed as they are found (text
/// and GitHub) or kept in the summary for the JSON/SARIF report.
pub(super) fn scan(
    args: &RunArgs,
    settings: &Settings,
    window: Window,
    mode: Mode,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<ScanSummary> {
    let style = match args.format {
        Format::Text => Style::Text,
        Format::Github => Style::Github,
        Format::Json | Format::Sarif => Style::Collect,
    };
    let mut sum = ScanSummary::default();
    for path in find::find(&args.paths, &settings.walk) {
        // `./ci/x.sh` is reported as `ci/x.sh`, like the manifests.
        let shown = path.strip_prefix(".").unwrap_or(&path);
        let name = shown.display().to_string();
        let Some(text) = read(&path, &name, style, &mut sum, err)? else {
            continue;
        };
        sum.scanned += 1;
        let found = script::scan(&path, &text, window.target);
        let fixed_here = match (&found.rewrite, mode) {
            (None, _) | (Some(_), Mode::Check) => false,
            (Some(new), Mode::Diff) => {
                crate::report::diff::write(out, &name, &text, new)?;
                false
            }
            (Some(new), Mode::Fix) => {
                match crate::write::replace(&path, text.as_bytes(), new.as_bytes()) {
                    Ok(()) => true,
                    Err(e) => {
                        report::error(err, &name, &format!("{e:#}"))?;
                        sum.errors += 1;
                        false
                    }
                }
            }
        };
        let w: &mut dyn Write = if mode == Mode::Check { out } else { err };
        for f in &found.findings {
            let fixed = fixed_here && f.fixable;
            if sum.add(&name, f, fixed, style, args.verbose) {
                report::finding(w, &name, f, fixed, style)?;
            }
        }
    }
    Ok(sum)
}

/// A script's text; `None` for a file that is not text (not a script after all) or cannot
/// be read (reported, and counted as an error).
fn read(
    path: &Path,
    name: &str,
    style: Style,
    sum: &mut ScanSummary,
    err: &mut dyn Write,
) -> std::io::Result<Option<String>> {
    match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(text)) => Ok(Some(text)),
        Ok(Err(_)) => Ok(None),
        Err(e) => {
            let why = format!("cannot read: {e}");
            report::error(err, name, &why)?;
            if style == Style::Collect {
                sum.failed.push((name.to_string(), why));
            }
            sum.errors += 1;
            Ok(None)
        }
    }
}
