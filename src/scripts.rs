//! The opt-in script scan (`--scan-scripts`, k8s-field-migrations.md §4): `kubectl run` flags
//! that kubectl 1.26 deprecated (they were already ignored) and kubectl 1.31 removed, in shell
//! scripts, Makefiles, Dockerfile `RUN` instructions and CI files. Scripts are never parsed as
//! a language: a command is found by its `kubectl` word and tokenised as a shell would
//! (quotes, backslash-newline continuations); `fix` deletes only the flag tokens (and the
//! value of a space-separated `--timeout 30s`), and only when they hold no shell expansion.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use regex::Regex;

use crate::catalogue::{Release, codes};
use crate::walk::{WalkOptions, absolute};

/// The `kubectl run` flags that do nothing since 1.26: long name, short letter, and whether
/// a value may follow as the next word (a flag with a default for a bare use, like
/// `--cascade`, only takes one after `=`).
const FLAGS: &[(&str, Option<char>, bool)] = &[
    ("filename", Some('f'), true),
    ("force", None, false),
    ("grace-period", None, true),
    ("kustomize", Some('k'), true),
    ("recursive", Some('R'), false),
    ("timeout", None, true),
    ("wait", None, false),
    ("cascade", None, false),
];

/// kubectl's global options that take the next word as their value (before the subcommand).
const GLOBAL_VALUE: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "-v",
    "--v",
    "--as",
    "--as-group",
    "--as-uid",
    "--cluster",
    "--user",
    "-s",
    "--server",
    "--token",
    "--request-timeout",
    "--certificate-authority",
    "--client-certificate",
    "--client-key",
    "--tls-server-name",
    "--cache-dir",
    "--username",
    "--password",
    "--profile",
    "--profile-output",
    "--log-file",
];

/// `kubectl run` options that take the next word as their value.
const RUN_VALUE: &[&str] = &[
    "--image",
    "--restart",
    "--port",
    "--env",
    "--labels",
    "-l",
    "--overrides",
    "--override-type",
    "--pod-running-timeout",
    "--annotations",
    "--image-pull-policy",
    "--field-manager",
    "--output",
    "-o",
    "--template",
    "--namespace",
    "-n",
];

/// The kubectl release that removed the flags (PR #125842); `--cascade`'s removal is
/// unconfirmed, so it is only ever reported as ignored.
const REMOVED_IN: Release = Release(31);

/// What the scan reports about one `kubectl run` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFinding {
    /// 1-based line and column of the first flag.
    pub line: usize,
    pub col: usize,
    /// `error` when kubectl at the target rejects a flag, otherwise `warning`.
    pub removed: bool,
    pub code: &'static str,
    pub message: String,
    /// Whether `fix` deletes every flag of this command.
    pub fixable: bool,
}

#[derive(Debug, Default)]
pub struct ScriptReport {
    pub findings: Vec<ScriptFinding>,
    /// The text with the fixable flags deleted, when there are any.
    pub rewrite: Option<String>,
}

/// What the scan should do besides reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    Check,
    /// Print the deletions as a unified diff.
    Diff,
    /// Write the deletions.
    Fix,
}

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

/// Find the scripts under `roots`, scan them, report each command as
/// `PATH:LINE:COL: kubectl run: LEVEL [CODE]: …` (or a GitHub workflow command), and for
/// `diff`/`fix` print or write the deletions. Findings go to `out` for `check`, to `err`
/// otherwise (where the diff is not).
#[allow(clippy::too_many_arguments)]
pub fn run_scan(
    roots: &[PathBuf],
    opts: &WalkOptions,
    target: Release,
    mode: ScanMode,
    style: Style,
    verbose: bool,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> std::io::Result<ScanSummary> {
    let mut sum = ScanSummary::default();
    for path in find(roots, opts) {
        // `./ci/x.sh` is reported as `ci/x.sh`, like the manifests.
        let shown = path.strip_prefix(".").unwrap_or(&path);
        let name = shown.display().to_string();
        let text = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => continue, // not text: not a script after all
            Err(e) => {
                writeln!(err, "{name}: error: cannot read: {e}")?;
                if style == Style::Collect {
                    sum.failed.push((name.clone(), format!("cannot read: {e}")));
                }
                sum.errors += 1;
                continue;
            }
        };
        sum.scanned += 1;
        let report = scan(&path, &text, target);
        let mut fixed_here = false;
        if let Some(new) = &report.rewrite {
            match mode {
                ScanMode::Check => {}
                ScanMode::Diff => crate::report::diff::write(out, &name, &text, new)?,
                ScanMode::Fix => {
                    match crate::write::replace(&path, text.as_bytes(), new.as_bytes()) {
                        Ok(()) => fixed_here = true,
                        Err(e) => {
                            writeln!(err, "{name}: error: {e:#}")?;
                            sum.errors += 1;
                        }
                    }
                }
            }
        }
        for f in &report.findings {
            sum.commands += 1;
            let fixed = fixed_here && f.fixable;
            if fixed {
                sum.fixed += 1;
            } else {
                sum.left += 1;
            }
            if style == Style::Collect {
                sum.findings.push((name.clone(), f.clone()));
                continue;
            }
            if fixed && !verbose {
                continue;
            }
            let w: &mut dyn std::io::Write = if mode == ScanMode::Check { out } else { err };
            let level = match (fixed, f.removed) {
                (true, _) => "fixed",
                (false, true) => "error",
                (false, false) => "warning",
            };
            if style == Style::Github && !fixed {
                crate::report::workflow_command::annotation(
                    w,
                    level,
                    &name,
                    Some((f.line, f.col)),
                    &format!("kubemig {}", f.code),
                    &f.message,
                )?;
            } else {
                writeln!(
                    w,
                    "{name}:{}:{}: kubectl run: {level} [{}]: {}",
                    f.line, f.col, f.code, f.message
                )?;
            }
        }
    }
    Ok(sum)
}

impl ScanSummary {
    /// `kubemig: 3 scripts scanned, 2 kubectl run commands with removed flags, 1 fixed`.
    pub fn write(&self, w: &mut dyn std::io::Write, fix: bool) -> std::io::Result<()> {
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
}

/// A word of a command: its byte range in the file and whether it holds `$` or a backquote.
#[derive(Debug, Clone)]
struct Word {
    start: usize,
    end: usize,
    text: String,
    expands: bool,
}

/// Whether a file is one the scan reads, by its name (and, for GitHub workflows and CircleCI,
/// its directory).
pub fn is_script(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let grand = path
        .parent()
        .and_then(Path::parent)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    [".sh", ".bash", ".zsh", ".mk", ".Dockerfile", ".dockerfile"]
        .iter()
        .any(|s| name.ends_with(s))
        || matches!(
            name,
            "Makefile" | "makefile" | "GNUmakefile" | "Jenkinsfile" | "justfile" | "Justfile"
        )
        || name.starts_with("Dockerfile")
        || name.starts_with("Containerfile")
        || name == ".gitlab-ci.yml"
        || (yaml && (name.starts_with("azure-pipelines") || name.starts_with("Taskfile")))
        || (yaml && parent == "workflows" && grand == ".github")
        || (name == "config.yml" && parent == ".circleci")
}

fn is_dockerfile(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.starts_with("Dockerfile")
            || n.starts_with("Containerfile")
            || n.ends_with(".Dockerfile")
            || n.ends_with(".dockerfile")
    })
}

/// The script files under `roots`: named files that are scripts, and the scripts found by
/// walking directories (hidden ones too, for `.github/` and `.gitlab-ci.yml`, but never
/// `.git/`), with `.gitignore`, `.kubemigignore` and `--exclude` honoured.
pub fn find(roots: &[PathBuf], opts: &WalkOptions) -> Vec<PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut out = Vec::new();
    for root in roots {
        if root.as_os_str() == "-" {
            continue;
        }
        if root.is_file() {
            if is_script(root) {
                out.push(root.clone());
            }
            continue;
        }
        let opts = opts.clone();
        let abs_root = absolute(&cwd, root);
        let base = root.clone();
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .add_custom_ignore_filename(crate::walk::IGNORE_FILE)
            .filter_entry(move |e| {
                if e.depth() > 0 && e.file_name() == ".git" {
                    return false;
                }
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                let rel = e.path().strip_prefix(&base).unwrap_or(e.path());
                e.depth() == 0 || !opts.excluded(&absolute(&abs_root, rel), is_dir, false)
            })
            .build();
        for entry in walker.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file()) && is_script(entry.path()) {
                out.push(entry.path().to_path_buf());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Scan one script's text for `kubectl run` commands with the flags, for clusters (and
/// kubectl clients) at `target`.
pub fn scan(path: &Path, text: &str, target: Release) -> ScriptReport {
    let dockerfile = is_dockerfile(path);
    let runs = if dockerfile {
        run_instructions(text)
    } else {
        Vec::new()
    };
    let removed_at_target = target >= REMOVED_IN;
    let mut report = ScriptReport::default();
    let mut deletions: Vec<(usize, usize)> = Vec::new();
    for (kubectl_end, quote) in kubectl_words(text) {
        if dockerfile
            && !runs
                .iter()
                .any(|&(s, e)| s <= kubectl_end && kubectl_end <= e)
        {
            continue;
        }
        let words = words(text, kubectl_end, quote);
        let Some(flags) = run_flags(&words) else {
            continue;
        };
        if flags.is_empty() {
            continue;
        }
        let names: Vec<String> = flags.iter().map(|f| f.0.clone()).collect();
        let removed = removed_at_target && names.iter().any(|n| n != "--cascade");
        let fixable = flags.iter().all(|f| !f.1.iter().any(|w| w.expands));
        let first = &flags[0].1[0];
        let (line, col) = line_col(text, first.start);
        let what = if names.len() == 1 { "it" } else { "them" };
        let mut message = format!(
            "kubectl run {}: {}; delete {what}: {}",
            names.join(", "),
            if removed {
                "removed in kubectl 1.31, which fails with `unknown flag` (ignored since 1.26)"
            } else if names.iter().all(|n| n == "--cascade") {
                "ignored since kubectl 1.26 (whether 1.31 removed it is unconfirmed)"
            } else {
                "ignored since kubectl 1.26 and removed in 1.31"
            },
            advice(&names)
        );
        if !fixable {
            message
                .push_str("; a flag holds a shell expansion, so `fix` leaves this command alone");
        } else {
            deletions.extend(groups(text, &flags));
        }
        report.findings.push(ScriptFinding {
            line,
            col,
            removed,
            code: if removed {
                codes::KUBECTL_RUN_FLAG_REMOVED.id
            } else {
                codes::KUBECTL_RUN_FLAG_IGNORED.id
            },
            message,
            fixable,
        });
    }
    if !deletions.is_empty() {
        report.rewrite = Some(delete(text, deletions));
    }
    report
}

/// What to do instead, for the flags found (none of them ever did anything for `run`).
fn advice(names: &[String]) -> String {
    let has = |n: &[&str]| names.iter().any(|x| n.contains(&x.as_str()));
    let mut out = Vec::new();
    if has(&["--wait", "--timeout"]) {
        out.push("to wait for the pod use --pod-running-timeout, or `kubectl wait --for=condition=Ready pod/NAME --timeout=…` after it");
    }
    if has(&["--grace-period"]) {
        out.push("a grace period goes in the pod's terminationGracePeriodSeconds (--overrides or a manifest)");
    }
    if has(&["--filename", "-f", "--kustomize", "-k", "--recursive", "-R"]) {
        out.push("to create from files use kubectl apply or kubectl create");
    }
    if out.is_empty() {
        out.push("they never did anything for `run`");
    }
    out.join("; ")
}

/// The end of every `kubectl` word that starts a command, with the quote that encloses the
/// command when it sits inside a quoted string (`sh 'kubectl run …'`, `- "kubectl run …"`).
/// Commented-out lines are skipped.
fn kubectl_words(text: &str) -> Vec<(usize, Option<char>)> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?m)(^|[\s;&|(`'"@+{])(?:[\w./~-]*/)?kubectl(?:[ \t]|\\\r?\n)"#)
            .expect("valid regex")
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        let lead = caps.get(1).expect("group 1");
        let whole = caps.get(0).expect("match");
        let line_start = text[..lead.end()].rfind('\n').map_or(0, |i| i + 1);
        if text[line_start..lead.end()].trim_start().starts_with('#') {
            continue;
        }
        // `# kubemig: ignore` at the end of the command's line, or on a comment line just above,
        // skips it.
        let eol = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let above = text[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        if text[line_start..eol].contains("kubemig: ignore")
            || (line_start > 0 && {
                let prev = text[above..line_start].trim();
                prev.starts_with('#') && prev.contains("kubemig: ignore")
            })
        {
            continue;
        }
        let quote = match lead.as_str() {
            "'" => Some('\''),
            "\"" => Some('"'),
            _ => None,
        };
        let end = whole.end() - (whole.as_str().len() - whole.as_str().trim_end().len());
        let end = text[..end].strip_suffix('\\').map_or(end, |t| t.len());
        out.push((end, quote));
    }
    out
}

/// The words of the command after `kubectl`, up to a newline, a shell control operator, a
/// comment or the quote that encloses the command.
fn words(text: &str, from: usize, outer: Option<char>) -> Vec<Word> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    loop {
        // Blanks and backslash-newline continuations between words.
        while i < b.len() {
            if b[i] == b' ' || b[i] == b'\t' || b[i] == b'\r' {
                i += 1;
            } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'\n') {
                i += 2;
            } else if b[i] == b'\\' && b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n')
            {
                i += 3;
            } else {
                break;
            }
        }
        if i >= b.len() {
            return out;
        }
        let c = b[i] as char;
        if matches!(c, '\n' | ';' | '&' | '|' | ')' | '#' | '`') || Some(c) == outer {
            return out;
        }
        let start = i;
        let mut word = String::new();
        let mut expands = false;
        let mut quote: Option<char> = None;
        while i < b.len() {
            let c = text[i..].chars().next().expect("char");
            match quote {
                Some(q) if c == q => {
                    quote = None;
                    i += 1;
                    continue;
                }
                Some(_) => {
                    if c == '$' || c == '`' {
                        expands = true;
                    }
                    if c == '\n' {
                        // An unclosed quote: stop at the line's end.
                        break;
                    }
                    word.push(c);
                    i += c.len_utf8();
                    continue;
                }
                None => {}
            }
            if c.is_whitespace() || matches!(c, ';' | '&' | '|' | ')' | '`') || Some(c) == outer {
                break;
            }
            if c == '\\' {
                if text[i + 1..].starts_with('\n') || text[i + 1..].starts_with("\r\n") {
                    break;
                }
                if let Some(n) = text[i + 1..].chars().next() {
                    word.push(n);
                    i += 1 + n.len_utf8();
                    continue;
                }
            }
            if c == '\'' || c == '"' {
                quote = Some(c);
                i += 1;
                continue;
            }
            if c == '$' {
                expands = true;
            }
            word.push(c);
            i += c.len_utf8();
        }
        out.push(Word {
            start,
            end: i,
            text: word,
            expands,
        });
        if i >= b.len() {
            return out;
        }
    }
}

/// The flags of a `kubectl run` command (each with the words it spans), or `None` when the
/// words are not a `kubectl run`.
fn run_flags(words: &[Word]) -> Option<Vec<(String, Vec<Word>)>> {
    let mut i = 0;
    // Global options up to the subcommand.
    while i < words.len() && words[i].text.starts_with('-') {
        let w = &words[i].text;
        i += if GLOBAL_VALUE.contains(&w.as_str()) {
            2
        } else {
            1
        };
    }
    if words.get(i).map(|w| w.text.as_str()) != Some("run") {
        return None;
    }
    i += 1;
    let mut out = Vec::new();
    while i < words.len() {
        let w = &words[i].text;
        if w == "--" {
            break;
        }
        let (name, inline) = match w.split_once('=') {
            Some((n, _)) => (n, true),
            None => (w.as_str(), false),
        };
        let hit = if let Some(long) = name.strip_prefix("--") {
            FLAGS.iter().find(|f| f.0 == long)
        } else if let Some(short) = name.strip_prefix('-') {
            let mut cs = short.chars();
            let first = cs.next();
            let attached = cs.next().is_some();
            // `-fX` carries its value like `-f=X`.
            FLAGS
                .iter()
                .find(|f| f.1.is_some() && f.1 == first)
                .filter(|f| !attached || f.2)
        } else {
            None
        };
        match hit {
            Some(&(long, short, takes)) => {
                let attached = !name.starts_with("--") && name.len() > 2;
                let mut span = vec![words[i].clone()];
                if takes && !inline && !attached && i + 1 < words.len() && words[i + 1].text != "--"
                {
                    span.push(words[i + 1].clone());
                    i += 1;
                }
                let shown = if name.starts_with("--") {
                    format!("--{long}")
                } else {
                    format!("-{}", short.expect("short flag"))
                };
                out.push((shown, span));
            }
            None => {
                if !inline && RUN_VALUE.contains(&name) {
                    i += 1;
                }
            }
        }
        i += 1;
    }
    Some(out)
}

/// Byte ranges to delete for the flags of one command: adjacent flags (only blanks between
/// them) go together; a group that starts its line takes the blanks after it, otherwise the
/// blanks before it; a line left with nothing but a continuation backslash goes whole.
fn groups(text: &str, flags: &[(String, Vec<Word>)]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = flags
        .iter()
        .map(|(_, ws)| (ws[0].start, ws[ws.len() - 1].end))
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if text[last.1..s].bytes().all(|c| c == b' ' || c == b'\t') => last.1 = e,
            _ => merged.push((s, e)),
        }
    }
    let blank = |c: u8| c == b' ' || c == b'\t';
    let b = text.as_bytes();
    merged
        .into_iter()
        .map(|(s, e)| {
            let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
            let eol = text[e..].find('\n').map_or(text.len(), |i| e + i);
            let mut after = e;
            while after < b.len() && blank(b[after]) {
                after += 1;
            }
            let prefix_blank = b[line_start..s].iter().all(|&c| blank(c));
            if !prefix_blank {
                let mut before = s;
                while before > line_start && blank(b[before - 1]) {
                    before -= 1;
                }
                return (before, e);
            }
            let rest = text[after..eol].trim_end_matches('\r');
            if rest == "\\" {
                // Only the continuation is left on the line: drop the line.
                return (line_start, (eol + 1).min(text.len()));
            }
            if rest.is_empty() {
                // Nothing is left, and the line before continued into it: end that line.
                let prev = text[..line_start].trim_end_matches(['\n', '\r']);
                if let Some(body) = prev.strip_suffix('\\') {
                    let cut = body.trim_end_matches([' ', '\t']).len();
                    return (cut, eol);
                }
            }
            (s, after)
        })
        .collect()
}

fn delete(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

/// Byte ranges of the Dockerfile `RUN` instructions, with their continuation lines.
fn run_instructions(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut current: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let start_of_run = current.is_none()
            && body
                .trim_start()
                .get(..4)
                .is_some_and(|w| w.eq_ignore_ascii_case("RUN ") || w.eq_ignore_ascii_case("RUN\t"));
        if start_of_run {
            current = Some(offset);
        }
        let end = offset + line.len();
        if let Some(s) = current
            && !body.trim_end().ends_with('\\')
        {
            out.push((s, end));
            current = None;
        }
        offset = end;
    }
    if let Some(s) = current {
        out.push((s, text.len()));
    }
    out
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..offset].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(name: &str, text: &str) -> (Vec<String>, Option<String>) {
        let r = scan(Path::new(name), text, Release(31));
        (
            r.findings
                .iter()
                .map(|f| format!("{}:{} {}", f.line, f.col, f.code))
                .collect(),
            r.rewrite,
        )
    }

    #[test]
    fn the_spec_example_loses_only_its_flags() {
        let text = "kubectl -n qa run smoke --image=curlimages/curl:8.8.0 --restart=Never --rm -i \\\n  --timeout=60s --grace-period=5 -- curl -fsS http://web/healthz\n";
        let (found, fixed) = fix("ci/smoke.sh", text);
        assert_eq!(found, ["2:3 KUBECTL-RUN-FLAG-REMOVED"]);
        assert_eq!(
            fixed.unwrap(),
            "kubectl -n qa run smoke --image=curlimages/curl:8.8.0 --restart=Never --rm -i \\\n  -- curl -fsS http://web/healthz\n"
        );
    }

    #[test]
    fn values_continuations_and_other_subcommands() {
        let text = "kubectl run a --image x --timeout 30s --wait\nkubectl delete pod a --wait --timeout=1m\nkubectl run b --image=x \\\n  --force \\\n  --restart=Never\n/usr/local/bin/kubectl run c --image=x -f pod.yaml -R\n# kubectl run d --wait\n";
        let (found, fixed) = fix("x.sh", text);
        assert_eq!(
            found,
            [
                "1:25 KUBECTL-RUN-FLAG-REMOVED",
                "4:3 KUBECTL-RUN-FLAG-REMOVED",
                "6:40 KUBECTL-RUN-FLAG-REMOVED"
            ]
        );
        assert_eq!(
            fixed.unwrap(),
            "kubectl run a --image x\nkubectl delete pod a --wait --timeout=1m\nkubectl run b --image=x \\\n  --restart=Never\n/usr/local/bin/kubectl run c --image=x\n# kubectl run d --wait\n"
        );
    }

    #[test]
    fn expansions_are_reported_not_fixed_and_quotes_end_commands() {
        let (found, fixed) = fix("x.sh", "kubectl run a --image=x --timeout=$T\n");
        assert_eq!(found, ["1:25 KUBECTL-RUN-FLAG-REMOVED"]);
        assert!(fixed.is_none());
        let text = "pipeline { steps { sh 'kubectl run a --image=x --wait' } }\n";
        let (_, fixed) = fix("Jenkinsfile", text);
        assert_eq!(
            fixed.unwrap(),
            "pipeline { steps { sh 'kubectl run a --image=x' } }\n"
        );
    }

    #[test]
    fn dockerfiles_only_in_run_and_older_targets_warn() {
        let text = "FROM alpine\nRUN apk add curl && \\\n    kubectl run a --image=x --wait; true\nCMD kubectl run b --image=x --wait\n";
        let r = scan(Path::new("Dockerfile"), text, Release(30));
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].code, "KUBECTL-RUN-FLAG-IGNORED");
        assert!(!r.findings[0].removed);
    }

    #[test]
    fn an_ignore_comment_skips_a_command_and_a_bare_last_flag_ends_the_line_above() {
        let text = "# kubemig: ignore -- this runner pins kubectl 1.25\nkubectl run a --image=x --wait\nkubectl run b --image=x --wait # kubemig: ignore\nkubectl run c --image=x \\\n  --wait\necho done\n";
        let (found, fixed) = fix("x.sh", text);
        assert_eq!(found, ["5:3 KUBECTL-RUN-FLAG-REMOVED"]);
        assert_eq!(
            fixed.unwrap(),
            "# kubemig: ignore -- this runner pins kubectl 1.25\nkubectl run a --image=x --wait\nkubectl run b --image=x --wait # kubemig: ignore\nkubectl run c --image=x\necho done\n"
        );
    }

    #[test]
    fn script_names() {
        for yes in [
            "a.sh",
            "Makefile",
            "build/Dockerfile.ci",
            ".github/workflows/ci.yml",
            ".gitlab-ci.yml",
            ".circleci/config.yml",
            "Jenkinsfile",
        ] {
            assert!(is_script(Path::new(yes)), "{yes}");
        }
        for no in ["deploy.yaml", "workflows/ci.yml", "README.md"] {
            assert!(!is_script(Path::new(no)), "{no}");
        }
    }
}
