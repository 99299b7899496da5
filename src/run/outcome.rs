//! Reporting a run: each file's outcome as it comes in (in path order), in the mode of the
//! run, and the run's end (the JSON/SARIF/GitHub report, statistics, the summaries, the exit
//! status). A closed or failing output must not stop `fix` halfway through the files, so
//! output errors are held ([`Guard`]) and dealt with once every file has been handled.

use std::io::{self, Stderr, Stdout, StdoutLock, Write};

use anstream::AutoStream;
use anyhow::Result;

use super::{Exit, Mode};
use crate::catalogue::{Catalogue, Window};
use crate::cli::{ColorChoice, RunArgs};
use crate::config::Settings;
use crate::engine::{FileError, Outcome};
use crate::plan::Status;
use crate::report::machine::{Collector, RunInfo};
use crate::report::progress::Progress;
use crate::report::script::ScanSummary;
use crate::report::{diff, text};
use crate::walk::{Input, Walked};

/// What a run has reported so far, and where it writes.
pub(super) struct Reporter<'a> {
    mode: Mode,
    cat: &'a Catalogue,
    window: Window,
    verbosity: text::Verbosity,
    /// `--statistics`: for `check`, the table replaces the lines, as ruff's does.
    statistics_only: bool,
    quiet: bool,
    /// The name stdin is reported under (`--stdin-filename`).
    stdin_name: Option<String>,
    stdout: Guard<AutoStream<StdoutLock<'static>>>,
    /// Not held locked: the progress bar draws on it from worker threads.
    stderr: Guard<AutoStream<Stderr>>,
    /// stdout without the colour layer, which would strip escape sequences from a stream
    /// `fix -` passes through unparsed.
    raw: Guard<Stdout>,
    /// `--format json`, `sarif` or `github`: everything is collected for one report at the
    /// end.
    collector: Option<Collector>,
    summary: text::Summary,
    statistics: Option<text::Statistics>,
    scripts: Option<ScanSummary>,
    exit: Exit,
    /// What one report writes, gathered before it goes to its stream ([`batched`]).
    scratch: Vec<u8>,
}

impl<'a> Reporter<'a> {
    pub(super) fn new(
        args: &RunArgs,
        mode: Mode,
        cat: &'a Catalogue,
        window: Window,
        stdin_name: Option<String>,
    ) -> Reporter<'a> {
        let choice = match args.color {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        Reporter {
            mode,
            cat,
            window,
            verbosity: text::Verbosity::of(args.verbose, args.quiet),
            statistics_only: args.statistics,
            quiet: args.quiet,
            stdin_name,
            stdout: Guard::new(AutoStream::new(io::stdout().lock(), choice)),
            stderr: Guard::new(AutoStream::new(io::stderr(), choice)),
            raw: Guard::new(io::stdout()),
            collector: Collector::new(args.format),
            summary: text::Summary::default(),
            statistics: args.statistics.then(text::Statistics::default),
            scripts: None,
            exit: Exit::Clean,
            scratch: Vec::new(),
        }
    }

    /// stdout and stderr, for a step that prints as it goes (`--scan-scripts`).
    pub(super) fn streams(&mut self) -> (&mut dyn Write, &mut dyn Write) {
        (&mut self.stdout, &mut self.stderr)
    }

    fn name(&self, input: &Input) -> String {
        match (input, &self.stdin_name) {
            (Input::Stdin, Some(n)) => n.clone(),
            (Input::Stdin, None) => "<stdin>".to_string(),
            (Input::File(p), _) => p.display().to_string(),
        }
    }

    /// Report what the walk could not read, and directories that yield no file. The run has
    /// an error when a path cannot be read, or nothing at all was found to scan.
    pub(super) fn walk_problems(&mut self, walked: &Walked, settings: &Settings) -> Result<()> {
        for (path, why) in &walked.errors {
            self.summary.errors += 1;
            self.file_error(&path.display().to_string(), &FileError::new(why.clone()))?;
        }
        // A directory that yields no file is almost always a mistake (a typo'd --include, the
        // wrong folder): say which, and fail when nothing at all was found to scan.
        let looked_for = if settings.walk.include.is_empty() {
            "*.yaml, *.yml or *.json".to_string()
        } else {
            let globs: Vec<&str> = settings
                .walk
                .include
                .iter()
                .flat_map(|g| g.globs.iter().map(String::as_str))
                .collect();
            format!("--include {}", globs.join(", "))
        };
        for dir in &walked.empty {
            writeln!(
                self.stderr,
                "{}: warning: no file to scan here (looked for {looked_for}, minus ignored and excluded files)",
                dir.display()
            )?;
        }
        if walked.inputs.is_empty() && !walked.empty.is_empty() && !settings.scan_scripts {
            writeln!(
                self.stderr,
                "kubemig: error: no file to scan in the directories named"
            )?;
            self.exit = Exit::Error;
        }
        Ok(())
    }

    /// A file the run could not handle: on stderr, in the collected report, in the status.
    fn file_error(&mut self, name: &str, e: &FileError) -> Result<()> {
        text::error(&mut self.stderr, name, e)?;
        if let Some(c) = &mut self.collector {
            c.error(name, e);
        }
        self.exit = Exit::Error;
        Ok(())
    }

    /// Report one file's outcome with the progress bar out of the way (most files print
    /// nothing, and leave it where it is). `stdin`: what was read from it, for `fix -`.
    pub(super) fn show(
        &mut self,
        input: &Input,
        out: Outcome,
        stdin: &Option<io::Result<Vec<u8>>>,
        progress: &Progress,
    ) -> Result<()> {
        if out.error.is_none() && out.objects.is_empty() && *input != Input::Stdin {
            self.outcome(input, out, stdin)
        } else {
            progress.suspend(|| self.outcome(input, out, stdin))
        }
    }

    fn outcome(
        &mut self,
        input: &Input,
        out: Outcome,
        stdin: &Option<io::Result<Vec<u8>>>,
    ) -> Result<()> {
        let name = self.name(input);
        self.summary.add(&out);
        if let Some(s) = &mut self.statistics {
            s.add(&out);
        }
        if let Some(e) = &out.error {
            self.file_error(&name, e)?;
        }
        let blocked = out.objects.iter().any(|o| o.item.status == Status::Blocked);
        let pending = out
            .objects
            .iter()
            .any(|o| o.item.status == Status::Migrated);
        // What fails the run: for `fix`, only what it could not do.
        let open = match self.mode {
            Mode::Check => {
                self.check(&name, &out)?;
                pending || blocked
            }
            Mode::Diff => {
                if let Some(hunks) = &out.diff {
                    batched(&mut self.stdout, &mut self.scratch, |w| {
                        diff::header(w, &name)?;
                        w.write_all(hunks)
                    })?;
                }
                batched(&mut self.stderr, &mut self.scratch, |w| {
                    text::objects(w, &name, &out, self.verbosity, true)
                })?;
                pending || blocked
            }
            Mode::Fix => {
                self.fix(input, &name, &out, stdin)?;
                blocked
            }
        };
        if open {
            self.exit = self.exit.max(Exit::Findings);
        }
        Ok(())
    }

    /// `check`: the objects on stdout, or into the collected report.
    fn check(&mut self, name: &str, out: &Outcome) -> Result<()> {
        match &mut self.collector {
            Some(c) => c.objects(name, out, self.cat),
            // --statistics: the table replaces the lines, as ruff's does.
            None if self.statistics_only => {}
            None => batched(&mut self.stdout, &mut self.scratch, |w| {
                text::objects(w, name, out, self.verbosity, false)
            })?,
        }
        Ok(())
    }

    /// `fix`: the stream of `fix -`, which files were written, and the objects, on stderr.
    fn fix(
        &mut self,
        input: &Input,
        name: &str,
        out: &Outcome,
        stdin: &Option<io::Result<Vec<u8>>>,
    ) -> Result<()> {
        if *input == Input::Stdin {
            // `fix -` is a filter: the stream always comes out, migrated or, when there is
            // nothing to do or it cannot be done, exactly as it came in. The bytes bypass the
            // colour layer, which would strip escape sequences from a stream passed through
            // unparsed.
            self.stdout.flush()?;
            match (&out.rewrite, stdin) {
                (Some((_, new)), _) => self.raw.write_all(new.as_bytes())?,
                (None, Some(Ok(bytes))) => self.raw.write_all(bytes)?,
                (None, _) => {}
            }
        }
        if out.rewrite.is_some() && *input != Input::Stdin && !self.quiet {
            // Reported after the rename: a file listed here was written.
            let n = text::object_groups(&out.objects, |o| &o.item)
                .into_iter()
                .filter(|g| {
                    out.objects[g.clone()]
                        .iter()
                        .any(|o| o.item.status == Status::Migrated)
                })
                .count();
            batched(&mut self.stderr, &mut self.scratch, |w| {
                writeln!(
                    w,
                    "{name}: fixed {n} object{}",
                    if n == 1 { "" } else { "s" }
                )
            })?;
        }
        batched(&mut self.stderr, &mut self.scratch, |w| {
            text::objects(w, name, out, self.verbosity, true)
        })?;
        Ok(())
    }

    /// Take what `--scan-scripts` found into the status, the collected report and the
    /// summary.
    pub(super) fn scripts(&mut self, s: ScanSummary) {
        if s.errors > 0 {
            self.exit = Exit::Error;
        }
        if s.left > 0 {
            self.exit = self.exit.max(Exit::Findings);
        }
        if let Some(c) = &mut self.collector {
            c.scripts(&s);
        }
        self.scripts = Some(s);
    }

    /// The end of the run: the collected report, notes, statistics and summaries, then the
    /// exit status, or the first error writing the output.
    pub(super) fn finish(mut self) -> Result<Exit> {
        self.write_end()?;
        self.stdout.flush()?;
        self.raw.flush()?;
        self.stderr.flush()?;
        match [self.stdout.failed, self.raw.failed, self.stderr.failed]
            .into_iter()
            .flatten()
            .next()
        {
            // `kubemig diff | head`: the reader has what it wanted; the status still says
            // what was found.
            Some(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(self.exit),
            Some(e) => Err(anyhow::Error::new(e).context("cannot write the output")),
            None => Ok(self.exit),
        }
    }

    fn write_end(&mut self) -> Result<()> {
        if let Some(c) = &self.collector {
            let info = RunInfo {
                catalogue: self.cat,
                window: self.window,
                summary: &self.summary,
            };
            crate::report::write_machine(c, &mut self.stdout, &info)?;
        }
        // Temporary files that an interrupted (killed) `fix` left behind, removed by this one.
        for p in crate::write::take_removed_leftovers() {
            writeln!(
                self.stderr,
                "{}: note: removed a temporary file left behind by an interrupted kubemig run",
                p.display()
            )?;
        }
        if let Some(s) = &self.statistics {
            // On stdout for `check`; `diff` has its patch there.
            match self.mode {
                Mode::Check => s.write(&mut self.stdout)?,
                _ => s.write(&mut self.stderr)?,
            }
        }
        if !self.quiet {
            let fix = self.mode == Mode::Fix;
            self.summary.write(&mut self.stderr, fix)?;
            if !fix {
                self.summary.hint(&mut self.stderr)?;
            }
            if let Some(s) = &self.scripts {
                s.write(&mut self.stderr, fix)?;
            }
        }
        Ok(())
    }
}

/// Run `report` on a buffer and pass what it wrote to `out` in one piece (in pieces of
/// [`SPILL`] bytes for a long one, such as a large file's diff): one write to the colour layer
/// and one system call per report, not one per line (stdout) or per piece of a line
/// (stderr, which has no buffer). What reaches `out`, and in which order, is unchanged.
fn batched(
    out: &mut dyn Write,
    scratch: &mut Vec<u8>,
    report: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    scratch.clear();
    let mut spill = Spill { out, buf: scratch };
    let result = report(&mut spill);
    let Spill { out, buf } = spill;
    out.write_all(buf)?;
    buf.clear();
    result
}

/// How much [`batched`] gathers before it passes it on.
const SPILL: usize = 64 << 10;

struct Spill<'a> {
    out: &'a mut dyn Write,
    buf: &'a mut Vec<u8>,
}

impl Write for Spill<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= SPILL {
            self.out.write_all(self.buf)?;
            self.buf.clear();
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that remembers its first error and from then on discards what it is given.
pub(super) struct Guard<W: Write> {
    inner: W,
    failed: Option<io::Error>,
}

impl<W: Write> Guard<W> {
    fn new(inner: W) -> Guard<W> {
        Guard {
            inner,
            failed: None,
        }
    }
}

impl<W: Write> Write for Guard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed.is_none()
            && let Err(e) = self.inner.write_all(buf)
        {
            self.failed = Some(e);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.failed.is_none()
            && let Err(e) = self.inner.flush()
        {
            self.failed = Some(e);
        }
        Ok(())
    }
}
