//! Glue: resolve the arguments, walk, process files in parallel, report in path order.

use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context as _, Result};

use crate::catalogue::{Catalogue, Release, Window};
use crate::cli::Format;
use crate::cli::{
    CatalogueArgs, Cli, ColorChoice, Command, ExplainArgs, ListArgs, RunArgs, VersionArgs,
};
use crate::engine::{self, Context, FileError, Outcome};
use crate::plan::Status;
use crate::prefilter::Prefilter;
use crate::report::machine::{Collector, RunInfo};
use crate::report::progress::Progress;
use crate::report::{diff, text};
use crate::walk::{Input, walk_with};
use crate::write;

/// Process exit status, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Diff,
    Fix,
}

pub fn run(cli: Cli) -> Result<Exit> {
    let catalogue = Catalogue::embedded().context("the embedded migration catalogue is invalid")?;
    match cli.command {
        Command::Check(a) => process(&catalogue, a, Mode::Check),
        Command::Diff(a) => process(&catalogue, a, Mode::Diff),
        Command::Fix(a) => process(&catalogue, a, Mode::Fix),
        Command::List(a) => list(&catalogue, a),
        Command::Explain(a) => explain(&catalogue, a),
        Command::Completions(a) => {
            crate::cli::completions(a.shell, &mut io::stdout().lock());
            Ok(Exit::Clean)
        }
    }
}

fn window(cat: &Catalogue, v: &VersionArgs, include_deprecated: bool) -> Result<Window> {
    // Past the newest release the catalogue knows, nothing more is known to be removed:
    // such a version means the newest, and the user is told so.
    let clamp = |r: Release, flag: &str| {
        if r > cat.newest {
            let _ = writeln!(
                io::stderr(),
                "kubemig: warning: {flag} {r} is past the newest release the catalogue knows ({}); treated as {}",
                cat.newest,
                cat.newest
            );
            cat.newest
        } else {
            r
        }
    };
    let target = clamp(v.target_version.unwrap_or(cat.newest), "--target-version");
    let v = &VersionArgs {
        target_version: Some(target),
        min_version: v.min_version.map(|m| clamp(m, "--min-version")),
    };
    if let Some(min) = v.min_version {
        anyhow::ensure!(
            min <= target,
            "--min-version {min} is newer than --target-version {target}"
        );
    }
    Ok(Window {
        target,
        min: v.min_version,
        include_deprecated,
    })
}

/// Read one input whole, refusing what is not a regular file (a FIFO would block) and what
/// is larger than `limit` (memory stays bounded whatever a repository holds).
fn read_input(
    input: &Input,
    stdin: &Option<io::Result<Vec<u8>>>,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let too_big = |size: u64| {
        format!(
            "is {} bytes, more than --max-file-size {limit}; no manifest is that large, raise the limit if this one is",
            size
        )
    };
    match input {
        Input::Stdin => match stdin {
            Some(Ok(bytes)) if bytes.len() as u64 > limit => Err(too_big(bytes.len() as u64)),
            Some(Ok(bytes)) => Ok(bytes.clone()),
            Some(Err(e)) => Err(format!("cannot read: {e}")),
            None => Ok(Vec::new()),
        },
        Input::File(p) => {
            // Opened first and asked about through the descriptor: one path lookup, not two.
            // Non-blocking, so that opening a FIFO does not wait for a writer.
            let mut file = open_nonblocking(p).map_err(|e| format!("cannot read: {e}"))?;
            let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
            if !meta.is_file() {
                return Err("is not a regular file (a FIFO, socket or device?); skipped".into());
            }
            if meta.len() > limit {
                return Err(too_big(meta.len()));
            }
            let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
            (&mut file)
                .take(limit + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read: {e}"))?;
            if bytes.len() as u64 > limit {
                return Err(too_big(bytes.len() as u64));
            }
            Ok(bytes)
        }
    }
}

fn open_nonblocking(p: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    options.open(p)
}

/// Staged files renamed together, and outcomes held back waiting for them, at most.
const COMMIT_FILES: usize = 256;
const COMMIT_WAITING: usize = 4096;

/// Rename a batch of staged files and report every outcome that waited for them.
fn commit<'a>(
    batch: &mut write::Batch,
    waiting: &mut Vec<(&'a Input, Outcome, bool)>,
    show: &mut impl FnMut(&'a Input, Outcome) -> Result<()>,
) -> Result<()> {
    let mut results = batch.commit().into_iter();
    for (input, mut out, staged) in waiting.drain(..) {
        if staged && let Some(Err(e)) = results.next() {
            not_written(&mut out, e);
        }
        show(input, out)?;
    }
    Ok(())
}

/// Record that the rewrite of `out`'s file could not be written: its objects were not
/// migrated after all.
fn not_written(out: &mut Outcome, e: anyhow::Error) {
    out.error = Some(FileError::new(format!("{e:#}")));
    out.rewrite = None;
    // The error is the file's: its objects are neither migrated nor waiting for a human
    // (a read-only tree is one error per file, not hundreds of objects "needing a human").
    let keep: Vec<bool> = out
        .objects
        .iter()
        .map(|o| o.item.status != Status::Migrated)
        .collect();
    let mut k = keep.iter();
    out.objects.retain(|_| *k.next().unwrap_or(&true));
    let mut k = keep.iter();
    out.finding_positions.retain(|_| *k.next().unwrap_or(&true));
}

fn name(input: &Input) -> String {
    match input {
        Input::Stdin => "<stdin>".to_string(),
        Input::File(p) => p.display().to_string(),
    }
}

fn process(cat: &Catalogue, args: RunArgs, mode: Mode) -> Result<Exit> {
    // Flags over .kubemig.toml over defaults; extra --rules merged into the catalogue.
    let settings = crate::config::Settings::resolve(&args)?;
    if args.show_config {
        // With the packs and add-on versions in effect (and the rules files loaded).
        let extended = settings.catalogue()?;
        io::stdout().lock().write_all(
            settings
                .describe(extended.as_ref().unwrap_or(cat))
                .as_bytes(),
        )?;
        return Ok(Exit::Clean);
    }
    anyhow::ensure!(
        args.format == Format::Text || mode == Mode::Check,
        "--format is for `kubemig check`; diff and fix always print text"
    );
    anyhow::ensure!(
        !args.statistics || args.format == Format::Text,
        "--statistics is a text table; --format {} has the counts in its own form",
        format!("{:?}", args.format).to_lowercase()
    );
    if mode == Mode::Fix {
        // From here on an interrupt removes what `fix` staged instead of leaving it behind.
        crate::interrupt::clean_up_on_signals();
    }
    let extended = run_catalogue(&settings)?;
    if let Some(n) = args.threads {
        // The first pool wins; only a second call in one process (tests) can fail.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.into())
            .build_global();
    }
    let cat = extended.as_ref().unwrap_or(cat);
    let verbosity = text::Verbosity::of(args.verbose, args.quiet);
    let mut collector = Collector::new(args.format);
    let window = window(cat, &settings.versions, settings.include_deprecated)?;
    let prefilter = Prefilter::new(cat);
    let ctx = Context {
        catalogue: cat,
        window,
        prefilter: (!args.no_prefilter).then_some(&prefilter),
    };
    let stdin_name = args
        .stdin_filename
        .as_ref()
        .map(|p| p.display().to_string());
    if let Some(p) = &args.stdin_filename {
        anyhow::ensure!(
            args.paths
                .iter()
                .all(|p| p.as_os_str() == "-" || p.as_os_str() == "."),
            "--stdin-filename reads stdin: give no path, or `-`"
        );
        if crate::walk::named_file_excluded(&settings.walk, p) {
            // Excluded as the file would be: a filter passes it through, checks are quiet.
            if mode == Mode::Fix {
                io::copy(&mut io::stdin().lock(), &mut io::stdout().lock())?;
            }
            return Ok(Exit::Clean);
        }
    }
    let paths = if stdin_name.is_some() {
        vec![std::path::PathBuf::from("-")]
    } else {
        args.paths.clone()
    };
    let walked = walk_with(&paths, &settings.walk);
    let roles = crate::kustomize::Roles::build(&walked.inputs, &walked.not_links);
    // Helm charts among the files: helpers and values files are scanned as text
    // (`chart_scan`), so no removed group/version in a chart goes unreported.
    let charts = crate::chart_scan::Charts::build(&walked.inputs, cat, window);
    let inputs = charts.inputs(&walked.inputs);
    // The kustomize role stdin would have as that file.
    let stdin_role = args.stdin_filename.as_ref().map(|p| {
        let as_file = [Input::File(p.clone())];
        crate::kustomize::Roles::build(&as_file, &[false]).of(&as_file[0])
    });
    let name = |input: &Input| match (input, &stdin_name) {
        (Input::Stdin, Some(n)) => n.clone(),
        _ => name(input),
    };
    let role_of = |input: &Input| match (input, stdin_role) {
        (Input::Stdin, Some(r)) => r,
        _ => roles.of(input),
    };

    let choice = match args.color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    // A closed or failing output must not stop `fix` halfway through the files, so output
    // errors are recorded and dealt with once every file has been handled.
    let mut stdout = Guard::new(anstream::AutoStream::new(io::stdout().lock(), choice));
    // stderr is not held locked: the progress bar draws on it from worker threads.
    let mut stderr = Guard::new(anstream::AutoStream::new(io::stderr(), choice));
    let mut raw = Guard::new(io::stdout());
    let mut exit = Exit::Clean;
    let mut summary = text::Summary::default();
    let mut statistics = args.statistics.then(text::Statistics::default);
    if !report_walk_problems(
        &walked,
        &settings,
        &mut stderr,
        &mut collector,
        &mut summary,
    )? {
        exit = Exit::Error;
    }

    // stdin cannot be read from a worker thread in a meaningful order; do it first. The
    // bytes are kept so that `fix -` can pass an unchanged stream through.
    let limit = settings.max_file_size;
    let stdin = walked.inputs.contains(&Input::Stdin).then(|| {
        let mut buf = Vec::new();
        io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map(|_| buf)
    });
    let progress = Progress::new(inputs.len(), !args.quiet);
    // Workers read, process and (for `fix`) write each file; this thread reports the
    // outcomes in path order as they come in, through a bounded reorder buffer, so memory
    // does not grow with the number of files.
    let work = |input: &Input| {
        let mut out = match read_input(input, &stdin, limit) {
            _ if charts.is_helper(input) => Outcome::default(),
            Ok(bytes) => engine::process_as(bytes, &ctx, role_of(input)),
            Err(e) => Outcome {
                error: Some(FileError::new(e)),
                ..Outcome::default()
            },
        };
        charts.amend(input, &mut out);
        // `fix` writes the new text next to the file here, in parallel; the rename over the
        // file happens in path order, a batch at a time (`write::Batch`).
        let mut staged = None;
        if mode == Mode::Fix
            && let (Input::File(p), Some((old, new))) = (input, &mut out.rewrite)
        {
            match write::stage(Path::new(p), old.as_bytes(), new.as_bytes()) {
                Ok(s) => {
                    staged = Some(s);
                    // The text is in the temporary file now; only the fact of a rewrite is
                    // still needed, so memory stays bounded while the batch waits.
                    *old = String::new();
                    *new = String::new();
                }
                Err(e) => not_written(&mut out, e),
            }
        }
        progress.inc();
        (out, staged)
    };
    let mut report = |input: &Input, out: Outcome| -> Result<()> {
        let name = name(input);
        summary.add(&out);
        if let Some(s) = &mut statistics {
            s.add(&out);
        }
        if let Some(e) = &out.error {
            text::error(&mut stderr, &name, e)?;
            if let Some(c) = &mut collector {
                c.error(&name, e);
            }
            exit = Exit::Error;
        }
        let blocked = out.objects.iter().any(|o| o.item.status == Status::Blocked);
        let pending = out
            .objects
            .iter()
            .any(|o| o.item.status == Status::Migrated);
        match mode {
            Mode::Check => {
                match &mut collector {
                    Some(c) => c.objects(&name, &out, cat),
                    // --statistics: the table replaces the lines, as ruff's does.
                    None if args.statistics => {}
                    None => text::objects(&mut stdout, &name, &out, verbosity, false)?,
                }
                if pending || blocked {
                    exit = exit.max(Exit::Findings);
                }
            }
            Mode::Diff => {
                if let Some((old, new)) = &out.rewrite {
                    diff::write(&mut stdout, &name, old, new)?;
                }
                text::objects(&mut stderr, &name, &out, verbosity, true)?;
                if pending || blocked {
                    exit = exit.max(Exit::Findings);
                }
            }
            Mode::Fix => {
                if *input == Input::Stdin {
                    // `fix -` is a filter: the stream always comes out, migrated or, when
                    // there is nothing to do or it cannot be done, exactly as it came in.
                    // The bytes bypass the colour layer, which would strip escape sequences
                    // from a stream passed through unparsed.
                    stdout.flush()?;
                    match (&out.rewrite, &stdin) {
                        (Some((_, new)), _) => raw.write_all(new.as_bytes())?,
                        (None, Some(Ok(bytes))) => raw.write_all(bytes)?,
                        (None, _) => {}
                    }
                }
                if out.rewrite.is_some() && *input != Input::Stdin && !args.quiet {
                    // Reported after the rename: a file listed here was written.
                    let n = text::object_groups(&out.objects, |o| &o.item)
                        .into_iter()
                        .filter(|g| {
                            out.objects[g.clone()]
                                .iter()
                                .any(|o| o.item.status == Status::Migrated)
                        })
                        .count();
                    writeln!(
                        stderr,
                        "{name}: fixed {n} object{}",
                        if n == 1 { "" } else { "s" }
                    )?;
                }
                text::objects(&mut stderr, &name, &out, verbosity, true)?;
                if blocked {
                    exit = exit.max(Exit::Findings);
                }
            }
        }
        Ok(())
    };
    // Outcomes wait with the staged files of their batch, so that reports stay in path order
    // and each says whether its file was really written.
    let mut batch = write::Batch::default();
    // Batches start at one file and double up to COMMIT_FILES: a run stopped early (killed,
    // timed out) has still replaced the files it finished, so reruns make progress.
    let mut commit_files = 1;
    let mut waiting: Vec<(&Input, Outcome, bool)> = Vec::new();
    let mut show = |input: &Input, out: Outcome| {
        // Most files print nothing; the others move the progress bar out of the way.
        if out.error.is_none() && out.objects.is_empty() && *input != Input::Stdin {
            report(input, out)
        } else {
            progress.suspend(|| report(input, out))
        }
    };
    crate::pool::run_ordered(
        &inputs,
        rayon::current_num_threads(),
        crate::pool::Bound::default(),
        |(out, _)| out.weight(),
        work,
        |input, (out, staged)| {
            if staged.is_none() && batch.is_empty() {
                return show(input, out);
            }
            waiting.push((input, out, staged.is_some()));
            if let Some(s) = staged {
                batch.push(s);
            }
            if batch.len() >= commit_files || waiting.len() >= COMMIT_WAITING {
                commit(&mut batch, &mut waiting, &mut show)?;
                commit_files = (commit_files * 2).min(COMMIT_FILES);
            }
            Ok(())
        },
    )?;
    commit(&mut batch, &mut waiting, &mut show)?;
    batch.sync();
    progress.finish();
    // --scan-scripts: `kubectl run` flags in scripts and CI files, after the manifests.
    let scripts = if settings.scan_scripts {
        let s = scan_scripts(&args, &settings, window, mode, &mut stdout, &mut stderr)?;
        if s.errors > 0 {
            exit = Exit::Error;
        }
        if s.left > 0 {
            exit = exit.max(Exit::Findings);
        }
        if let Some(c) = &mut collector {
            c.scripts(&s);
        }
        Some(s)
    } else {
        None
    };
    if let Some(c) = collector {
        let info = RunInfo {
            catalogue: cat,
            window,
            summary: &summary,
        };
        crate::report::write_machine(&c, &mut stdout, &info)?;
    }
    // Temporary files that an interrupted (killed) `fix` left behind, removed by this one.
    for p in write::take_removed_leftovers() {
        writeln!(
            stderr,
            "{}: note: removed a temporary file left behind by an interrupted kubemig run",
            p.display()
        )?;
    }
    if let Some(s) = &statistics {
        // On stdout for `check`; `diff` has its patch there.
        match mode {
            Mode::Check => s.write(&mut stdout)?,
            _ => s.write(&mut stderr)?,
        }
    }
    if !args.quiet {
        summary.write(&mut stderr, mode == Mode::Fix)?;
        if mode != Mode::Fix {
            summary.hint(&mut stderr)?;
        }
        if let Some(s) = &scripts {
            s.write(&mut stderr, mode == Mode::Fix)?;
        }
    }
    stdout.flush()?;
    raw.flush()?;
    stderr.flush()?;
    match [stdout.failed, raw.failed, stderr.failed]
        .into_iter()
        .flatten()
        .next()
    {
        // `kubemig diff | head`: the reader has what it wanted; the status still says
        // what was found.
        Some(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(exit),
        Some(e) => Err(anyhow::Error::new(e).context("cannot write the output")),
        None => Ok(exit),
    }
}

/// `--assume KEY=VALUE` as `assume.KEY`, the opt-in flags as `flag.NAME = "true"`: the
/// variables field rules may read.
/// The catalogue of this run: the embedded one extended by packs and `--rules` files, and
/// given the `--assume` facts and opt-in flags its field rules read as variables. `None`:
/// the embedded catalogue as it is.
fn run_catalogue(settings: &crate::config::Settings) -> Result<Option<Catalogue>> {
    let extended = settings.catalogue()?;
    let options = field_options(settings);
    if options.is_empty() {
        return Ok(extended);
    }
    let owned = match extended {
        Some(c) => c,
        None => Catalogue::embedded()?,
    };
    Ok(Some(owned.with_options(options)))
}

/// Report what the walk could not read, and directories that yield no file. `Ok(false)`:
/// the run has an error (a path that cannot be read, or nothing at all to scan).
fn report_walk_problems(
    walked: &crate::walk::Walked,
    settings: &crate::config::Settings,
    stderr: &mut dyn Write,
    collector: &mut Option<Collector>,
    summary: &mut text::Summary,
) -> Result<bool> {
    let mut ok = true;
    for (path, why) in &walked.errors {
        summary.errors += 1;
        let e = FileError::new(why.clone());
        text::error(stderr, &path.display().to_string(), &e)?;
        if let Some(c) = collector {
            c.error(&path.display().to_string(), &e);
        }
        ok = false;
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
            stderr,
            "{}: warning: no file to scan here (looked for {looked_for}, minus ignored and excluded files)",
            dir.display()
        )?;
    }
    if walked.inputs.is_empty() && !walked.empty.is_empty() && !settings.scan_scripts {
        writeln!(
            stderr,
            "kubemig: error: no file to scan in the directories named"
        )?;
        ok = false;
    }
    Ok(ok)
}

/// `--scan-scripts`: `kubectl run` flags in shell scripts and CI files, in the mode of the
/// run, printed as they are found (text and GitHub) or kept for the JSON/SARIF report.
fn scan_scripts(
    args: &RunArgs,
    settings: &crate::config::Settings,
    window: Window,
    mode: Mode,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<crate::scripts::ScanSummary> {
    let scan_mode = match mode {
        Mode::Check => crate::scripts::ScanMode::Check,
        Mode::Diff => crate::scripts::ScanMode::Diff,
        Mode::Fix => crate::scripts::ScanMode::Fix,
    };
    Ok(crate::scripts::run_scan(
        &args.paths,
        &settings.walk,
        window.target,
        scan_mode,
        match args.format {
            Format::Text => crate::scripts::Style::Text,
            Format::Github => crate::scripts::Style::Github,
            Format::Json | Format::Sarif => crate::scripts::Style::Collect,
        },
        args.verbose,
        stdout,
        stderr,
    )?)
}

fn field_options(settings: &crate::config::Settings) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in &settings.assume {
        // `vsphere-fcd-id=PV=ID` names the PersistentVolume it is for.
        let (name, value) = match (k.as_str(), v.split_once('=')) {
            ("vsphere-fcd-id", Some((pv, id))) => (format!("assume.{k}.{pv}"), id.to_string()),
            _ => (format!("assume.{k}"), v.clone()),
        };
        // A key given twice: the last one counts.
        out.retain(|(n, _)| *n != name);
        out.push((name, value));
    }
    for (on, name) in [
        (settings.allow_live_pv, "allow-live-pv"),
        (settings.split_inline_volumes, "split-inline-volumes"),
    ] {
        if on {
            out.push((format!("flag.{name}"), "true".into()));
        }
    }
    out
}

/// A writer that remembers its first error and from then on discards what it is given.
struct Guard<W: Write> {
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

/// What `list` and `explain` describe: the catalogue a run with these settings would use
/// (extra rules, `ignore` and `enable` applied), its releases and --include-deprecated.
fn configured(
    args: RunArgs,
    config: CatalogueArgs,
) -> Result<(Option<Catalogue>, VersionArgs, bool)> {
    let settings = crate::config::Settings::resolve(&RunArgs {
        rules: config.rules,
        config: config.config,
        no_config: config.no_config,
        packs: config.pack_args,
        ..args
    })?;
    let cat = settings.catalogue()?;
    Ok((cat, settings.versions, settings.include_deprecated))
}

fn list(cat: &Catalogue, args: ListArgs) -> Result<Exit> {
    let run = RunArgs {
        versions: args.versions,
        include_deprecated: args.include_deprecated,
        ignore: args.ignore,
        enable: args.enable,
        ..RunArgs::default()
    };
    let (extended, versions, include_deprecated) = configured(run, args.config)?;
    let cat = extended.as_ref().unwrap_or(cat);
    let w = window(cat, &versions, include_deprecated)?;
    if args.codes {
        crate::report::list::write_codes(&mut io::stdout().lock(), cat)?;
    } else if args.list_packs {
        crate::report::list::write_packs(&mut io::stdout().lock(), cat)?;
    } else if args.fields {
        crate::report::list::write_fields(&mut io::stdout().lock(), cat, w)?;
    } else {
        crate::report::list::write(&mut io::stdout().lock(), cat, w)?;
    }
    Ok(Exit::Clean)
}

fn explain(cat: &Catalogue, args: ExplainArgs) -> Result<Exit> {
    // Every pack's ids can be explained, enabled or not; unless a rules file describes the
    // same APIs, then only what the run would load.
    let mut all = args.config.clone();
    for (p, _) in crate::catalogue::registry::embedded_packs()? {
        if !all.pack_args.packs.contains(&p.name) {
            all.pack_args.packs.push(p.name);
        }
    }
    let (extended, _, _) = match configured(RunArgs::default(), all) {
        Ok(c) => c,
        Err(_) => configured(RunArgs::default(), args.config)?,
    };
    let cat = extended.as_ref().unwrap_or(cat);
    let text = crate::explain::explain_query(cat, &args.query)?;
    io::stdout().lock().write_all(text.as_bytes())?;
    Ok(Exit::Clean)
}
