//! Glue: resolve the arguments, walk, process files in parallel, report in path order.
//! [`process`] reads as the data flow, one step after another; the steps are here and in
//! the submodules: the files and their processing in parallel (`files`), reading them
//! (`read`), reporting each outcome and the run's end (`outcome`), and `--scan-scripts`
//! (`scripts`).

mod files;
mod outcome;
mod read;
mod scripts;

use std::io::{self, Write};

use anyhow::{Context as _, Result};

use crate::catalogue::{Catalogue, Release, Window};
use crate::cli::Format;
use crate::cli::{CatalogueArgs, Cli, Command, ExplainArgs, ListArgs, RunArgs, VersionArgs};
use crate::config::Settings;
use crate::engine::{Context, Keep};
use crate::prefilter::Prefilter;
use crate::report::progress::Progress;
use crate::walk::Input;
use files::Files;
use outcome::Reporter;

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
    match cli.command {
        Command::Check(a) => process(a, Mode::Check),
        Command::Diff(a) => process(a, Mode::Diff),
        Command::Fix(a) => process(a, Mode::Fix),
        Command::List(a) => list(&embedded()?, a),
        Command::Explain(a) => explain(&embedded()?, a),
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

fn embedded() -> Result<Catalogue> {
    Catalogue::embedded().context("the embedded migration catalogue is invalid")
}

/// `check`, `diff` or `fix`: the data flow of `lib.rs`, one named step after another.
fn process(args: RunArgs, mode: Mode) -> Result<Exit> {
    // Flags over .kubemig.toml over defaults; extra --rules merged into the catalogue.
    let settings = Settings::resolve(&args)?;
    if args.show_config {
        return show_config(&embedded()?, &settings);
    }
    check_args(&args, mode)?;
    if mode == Mode::Fix {
        // From here on an interrupt removes what `fix` staged instead of leaving it behind.
        crate::interrupt::clean_up_on_signals();
    }
    use_threads(args.threads);
    // Walk, and find the kustomize roles, while the catalogue is read and the prefilter
    // built on this thread: both are start-up work that nothing else waits on.
    let (walk, catalogue) = std::thread::scope(|s| {
        let walk = s.spawn(|| files::Walk::new(&args, &settings));
        let catalogue = catalogue_and_prefilter(&settings);
        let walk = walk.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (walk, catalogue)
    });
    let (cat, window, prefilter) = catalogue?;
    let ctx = Context {
        catalogue: &cat,
        window,
        prefilter: (!args.no_prefilter).then_some(&prefilter),
    };
    let cat = &cat;
    if stdin_excluded(&args, &settings, mode)? {
        return Ok(Exit::Clean);
    }

    let files = Files::new(walk, cat, window);
    let stdin_name = args
        .stdin_filename
        .as_ref()
        .map(|p| p.display().to_string());
    let mut reporter = Reporter::new(&args, mode, cat, window, stdin_name);
    reporter.walk_problems(&files.walked, &settings)?;

    // Read, prefilter, parse, plan, splice, verify and (for `fix`) stage each file on a
    // worker; report in path order.
    let limit = settings.max_file_size;
    let stdin = read::stdin(&files.walked.inputs, limit);
    let progress = Progress::new(files.inputs.len(), !args.quiet);
    // What the reporter needs of a rewrite: `fix` writes the new text, `diff` prints the
    // hunks (made here, on the workers), `check` only counts it. A large stream is then
    // never held whole in its rewritten form, but for `fix`.
    let keep = match mode {
        Mode::Fix => Keep::Texts,
        Mode::Diff => Keep::Diff,
        Mode::Check => Keep::Nothing,
    };
    let work = |input: &Input| {
        let (mut out, opened) = files.outcome(input, &ctx, &stdin, limit, keep);
        let staged = match mode {
            Mode::Fix => files::stage(input, &mut out, opened),
            Mode::Check | Mode::Diff => None,
        };
        progress.inc();
        (out, staged)
    };
    files::in_path_order(
        &files.inputs,
        |i| files.unit(i),
        work,
        |input, out| reporter.show(input, out, &stdin, &progress),
    )?;
    progress.finish();

    // --scan-scripts: `kubectl run` flags in scripts and CI files, after the manifests.
    if settings.scan_scripts {
        let (stdout, stderr) = reporter.streams();
        let found = scripts::scan(&args, &settings, window, mode, stdout, stderr)?;
        reporter.scripts(found);
    }
    reporter.finish()
}

/// The catalogue of a run, its window and its prefilter.
fn catalogue_and_prefilter(settings: &Settings) -> Result<(Catalogue, Window, Prefilter)> {
    let cat = match run_catalogue(settings)? {
        Some(extended) => extended,
        None => embedded()?,
    };
    let window = window(&cat, &settings.versions, settings.include_deprecated)?;
    let prefilter = Prefilter::new(&cat);
    Ok((cat, window, prefilter))
}

/// `--show-config`: the settings in effect, with the packs and add-on versions (and the
/// rules files loaded).
fn show_config(cat: &Catalogue, settings: &Settings) -> Result<Exit> {
    let extended = settings.catalogue()?;
    io::stdout().lock().write_all(
        settings
            .describe(extended.as_ref().unwrap_or(cat))
            .as_bytes(),
    )?;
    Ok(Exit::Clean)
}

/// Flags that only some commands and formats take.
fn check_args(args: &RunArgs, mode: Mode) -> Result<()> {
    anyhow::ensure!(
        args.format == Format::Text || mode == Mode::Check,
        "--format is for `kubemig check`; diff and fix always print text"
    );
    anyhow::ensure!(
        !args.statistics || args.format == Format::Text,
        "--statistics is a text table; --format {} has the counts in its own form",
        format!("{:?}", args.format).to_lowercase()
    );
    Ok(())
}

/// `--threads`: the size of the worker pool.
fn use_threads(threads: Option<u16>) {
    if let Some(n) = threads {
        // The first pool wins; only a second call in one process (tests) can fail.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.into())
            .build_global();
    }
}

/// `--stdin-filename`: stdin stands for the file it names, which takes no path besides.
/// `true`: that file is excluded, so the run is over: a filter (`fix`) passes the stream
/// through, checks are quiet, as they would be for the file.
fn stdin_excluded(args: &RunArgs, settings: &Settings, mode: Mode) -> Result<bool> {
    let Some(p) = &args.stdin_filename else {
        return Ok(false);
    };
    anyhow::ensure!(
        args.paths
            .iter()
            .all(|p| p.as_os_str() == "-" || p.as_os_str() == "."),
        "--stdin-filename reads stdin: give no path, or `-`"
    );
    if !crate::walk::named_file_excluded(&settings.walk, p) {
        return Ok(false);
    }
    if mode == Mode::Fix {
        io::copy(&mut io::stdin().lock(), &mut io::stdout().lock())?;
    }
    Ok(true)
}

/// `--assume KEY=VALUE` as `assume.KEY`, the opt-in flags as `flag.NAME = "true"`: the
/// variables field rules may read.
/// The catalogue of this run: the embedded one extended by packs and `--rules` files, and
/// given the `--assume` facts and opt-in flags its field rules read as variables. `None`:
/// the embedded catalogue as it is.
fn run_catalogue(settings: &Settings) -> Result<Option<Catalogue>> {
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

fn field_options(settings: &Settings) -> Vec<(String, String)> {
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

/// What `list` and `explain` describe: the catalogue a run with these settings would use
/// (extra rules, `ignore` and `enable` applied), its releases and --include-deprecated.
fn configured(
    args: RunArgs,
    config: CatalogueArgs,
) -> Result<(Option<Catalogue>, VersionArgs, bool)> {
    let settings = Settings::resolve(&RunArgs {
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
