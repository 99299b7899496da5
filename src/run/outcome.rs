//! Reporting a run: each file's outcome as it comes in (in path order), in the mode of the
//! run, and the run's end (the JSON/SARIF/GitHub report, statistics, the summaries, the exit
//! status). A closed or failing output must not stop `fix` halfway through the files, so
//! output errors are held ([`Guard`]) and dealt with once every file has been handled.

use std::io::{self, Stderr, Stdout, StdoutLock, Write};

use anstream::AutoStream;
use anstream::stream::{AsLockedWrite, RawStream};
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
    stdout: Guard<Colour<StdoutLock<'static>>>,
    /// Not held locked: the progress bar draws on it from worker threads.
    stderr: Guard<Colour<Stderr>>,
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
            stdout: Guard::new(Colour::new(io::stdout().lock(), choice)),
            stderr: Guard::new(Colour::new(io::stderr(), choice)),
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
                        hunks.write(w)
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

/// The colour layer of an output: anstream's, unless it strips escape sequences (not a
/// terminal, or `--color never`); then [`Strip`], which does the same.
pub(super) enum Colour<S: RawStream> {
    Auto(AutoStream<S>),
    Strip(Strip<S>),
}

impl<S: RawStream> Colour<S> {
    fn new(raw: S, choice: anstream::ColorChoice) -> Colour<S> {
        let auto = AutoStream::new(raw, choice);
        match auto.current_choice() {
            anstream::ColorChoice::Never => Colour::Strip(Strip::new(auto.into_inner())),
            _ => Colour::Auto(auto),
        }
    }
}

impl<S: RawStream + AsLockedWrite> Write for Colour<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Colour::Auto(a) => a.write(buf),
            Colour::Strip(s) => s.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Colour::Auto(a) => a.write_all(buf),
            Colour::Strip(s) => s.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Colour::Auto(a) => a.flush(),
            Colour::Strip(s) => s.flush(),
        }
    }
}

/// What `anstream::StripStream` writes (the printable text, escape sequences and control
/// characters left out), but a text it would pass through whole goes straight to the stream:
/// its parser reads every byte, which cost more than making most reports (a `check` line has
/// no colour). That is a text of printable characters, tabs and line breaks, in whole UTF-8
/// characters, written while the parser is between sequences.
pub(super) struct Strip<W: Write> {
    raw: W,
    state: anstream::adapter::StripBytes,
}

impl<W: Write> Strip<W> {
    pub(super) fn new(raw: W) -> Strip<W> {
        Strip {
            raw,
            state: anstream::adapter::StripBytes::new(),
        }
    }

    /// Whether stripping `buf` leaves it as it is, and the parser between sequences.
    fn unchanged(&self, buf: &[u8]) -> bool {
        self.between_sequences()
            && buf.iter().all(|&b| plain(b))
            && std::str::from_utf8(buf).is_ok()
    }

    fn between_sequences(&self) -> bool {
        self.state == anstream::adapter::StripBytes::new()
    }
}

/// `buf` without its SGR sequences (`ESC [ digits-and-semicolons m`), if it is only plain
/// text (whole UTF-8 characters of [`plain`] bytes) and such sequences: what stripping
/// writes for it when the parser starts between sequences. Each sequence leaves the parser
/// between sequences again, and each run of plain text then passes through whole. Anything
/// else (another sequence, a control character, a sequence cut by the end of `buf`):
/// `None`, and the parser reads it.
fn without_sgr(buf: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(buf.len());
    let mut rest = buf;
    loop {
        let n = rest.iter().position(|&b| !plain(b)).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..n]).ok()?;
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        if rest.is_empty() {
            return Some(out);
        }
        let params = rest.strip_prefix(b"\x1b[")?;
        let len = params
            .iter()
            .position(|&b| !(b.is_ascii_digit() || b == b';'))?;
        if params[len] != b'm' {
            return None;
        }
        rest = &params[len + 1..];
    }
}

/// A byte that stripping passes through between sequences (as part of a whole character).
fn plain(b: u8) -> bool {
    (b >= 0x20 && b != 0x7f) || matches!(b, b'\t' | b'\n' | b'\r')
}

impl<W: Write> Write for Strip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.unchanged(buf) {
            return self.raw.write_all(buf);
        }
        // A report styled by kubemig itself: plain text and SGR sequences. The parser reading
        // every byte cost ~30 instructions per byte of a `check` report.
        if self.between_sequences()
            && let Some(text) = without_sgr(buf)
        {
            return self.raw.write_all(&text);
        }
        for printable in self.state.strip_next(buf) {
            self.raw.write_all(printable)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.raw.flush()
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// What [`Strip`] writes is what anstream's stripping writes, however the text is cut
        /// into writes: escape sequences, control characters and UTF-8 cut anywhere.
        #[test]
        fn strip_writes_what_anstream_writes(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a: b", "\n", "\t", "\r\n", "é", "→", "\u{9b}", "\x1b[1m", "\x1b[31m",
                    "\x1b[0m", "\x1b", "[", "m", "\x07", "\x0c", "\x7f", "\x00", "x",
                    "\x1b]0;t\x07", " ", "1;2",
                ]),
                0..30,
            ),
            cuts in proptest::collection::vec(0usize..40, 0..8),
        ) {
            let text: Vec<u8> = pieces.concat().into_bytes();
            let mut at: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            at.push(0);
            at.push(text.len());
            at.sort_unstable();
            let mut ours = Strip::new(Vec::new());
            let mut theirs = anstream::StripStream::new(Vec::new());
            for w in at.windows(2) {
                ours.write_all(&text[w[0]..w[1]]).unwrap();
                theirs.write_all(&text[w[0]..w[1]]).unwrap();
            }
            proptest::prop_assert_eq!(ours.raw, theirs.into_inner());
        }
    }

    proptest::proptest! {
        /// A text of plain runs and SGR sequences, stripped by `without_sgr`, is what
        /// anstream writes for it; and any text it takes is one it strips that way.
        #[test]
        fn without_sgr_is_what_anstream_writes(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a: b", "\n", "\t", "\r\n", "é", "→", "\u{9b}", "\x1b[1m", "\x1b[31m",
                    "\x1b[0m", "\x1b[1;31m", "\x1b[m", "\x1b", "[", "m", "\x07", "\x7f", " ",
                    "1;2", "\x1b[ m", "\x1b[1\n",
                ]),
                0..30,
            ),
        ) {
            let text: Vec<u8> = pieces.concat().into_bytes();
            let mut theirs = anstream::StripStream::new(Vec::new());
            theirs.write_all(&text).unwrap();
            let theirs = theirs.into_inner();
            if let Some(ours) = without_sgr(&text) {
                proptest::prop_assert_eq!(&ours, &theirs);
            }
            let mut strip = Strip::new(Vec::new());
            strip.write_all(&text).unwrap();
            proptest::prop_assert_eq!(strip.raw, theirs);
        }
    }

    #[test]
    fn a_plain_text_goes_straight_through_and_styles_are_stripped() {
        let mut s = Strip::new(Vec::new());
        s.write_all(b"a.yaml:1:1: Ingress x: extensions/v1beta1 -> networking.k8s.io/v1\n")
            .unwrap();
        s.write_all(b"b: \x1b[1m\x1b[31mneeds a human\x1b[0m \xc3\xa9\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(s.raw).unwrap(),
            "a.yaml:1:1: Ingress x: extensions/v1beta1 -> networking.k8s.io/v1\nb: needs a human é\n"
        );
    }
}
