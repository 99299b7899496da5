//! Settings: the command-line flags merged over a `.kubemig.toml` merged over the defaults.
//!
//! The file is looked for from the current directory upward to the repository root (the
//! first directory with a `.git`); outside a repository only the current directory is
//! looked at. Its keys are spelled like the long flags. A flag wins over the file; list
//! settings (`exclude`, `include`, `rules`) add to the file's. Paths and globs in the file
//! are relative to the file's directory, those on the command line to the current one.

mod catalogue;
mod describe;
mod merge;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::cli::{RunArgs, VersionArgs};
use crate::walk::{WalkOptions, absolute};
use merge::{Merge, packs_and_components};

/// The name of the configuration file.
pub const FILE_NAME: &str = ".kubemig.toml";

/// `--max-file-size` when neither the flag nor the file sets it.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 32 << 20;

/// What `.kubemig.toml` may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    target_version: Option<toml::Value>,
    min_version: Option<toml::Value>,
    include_deprecated: Option<bool>,
    exclude: Option<Vec<String>>,
    include: Option<Vec<String>>,
    rules: Option<Vec<String>>,
    follow_symlinks: Option<bool>,
    force_exclude: Option<bool>,
    max_file_size: Option<toml::Value>,
    assume: Option<Vec<String>>,
    allow_live_pv: Option<bool>,
    split_inline_volumes: Option<bool>,
    scan_scripts: Option<bool>,
    packs: Option<Vec<String>>,
    components: Option<toml::Table>,
    ignore: Option<Vec<String>>,
    enable: Option<Vec<String>>,
}

const KEYS: &str = "target-version, min-version, include-deprecated, exclude, include, rules, \
                    follow-symlinks, force-exclude, max-file-size, assume, allow-live-pv, \
                    split-inline-volumes, scan-scripts, packs, components, ignore, enable";

/// Where a setting's value came from, for `--show-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Default,
    File,
    Flag,
    Both,
}

/// The settings a run uses.
#[derive(Debug)]
pub struct Settings {
    pub versions: VersionArgs,
    pub include_deprecated: bool,
    pub walk: WalkOptions,
    /// Extra migration files, in load order (the file's, then the flags').
    pub rules: Vec<PathBuf>,
    pub max_file_size: u64,
    /// `--assume KEY=VALUE`: the file's, then the flags' (the last value of a key counts).
    pub assume: Vec<(String, String)>,
    pub allow_live_pv: bool,
    pub split_inline_volumes: bool,
    pub scan_scripts: bool,
    /// Third-party API packs to load: the file's `packs`, then `--pack`.
    pub packs: Vec<String>,
    /// Add-on versions: the file's `[components]`, then `--component` (the last counts).
    pub components: Vec<(String, String)>,
    /// How many of `components` come from the file (they come first), for `--show-config`.
    components_in_file: usize,
    /// `ignore` and `enable`: the file's, then the flags'.
    pub selection: crate::catalogue::Selection,
    /// The configuration file read, if any.
    pub file: Option<PathBuf>,
    /// Where the file was looked for, when none was found.
    searched: Vec<PathBuf>,
    origins: Vec<(&'static str, Origin)>,
}

impl Settings {
    /// Merge the flags of a run over the configuration file and the defaults.
    pub fn resolve(args: &RunArgs) -> Result<Settings> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let (file, searched) = if args.no_config {
            (None, Vec::new())
        } else if let Some(explicit) = &args.config {
            (Some(absolute(&cwd, explicit)), Vec::new())
        } else if let Some(f) = args.stdin_filename.as_deref() {
            // `--stdin-filename`: the configuration that file would have.
            discover_for(&cwd, Some(f))
        } else {
            discover_for(&cwd, args.paths.first().map(PathBuf::as_path))
        };
        let conf = match &file {
            Some(path) => load(path)?,
            None => FileConfig::default(),
        };
        let dir = file
            .as_deref()
            .and_then(Path::parent)
            .map_or_else(|| cwd.clone(), Path::to_path_buf);
        let shown = file
            .as_deref()
            .map_or_else(String::new, |f| f.display().to_string());
        let mut m = Merge {
            args,
            conf: &conf,
            cwd: &cwd,
            dir: &dir,
            shown: &shown,
            origins: Vec::new(),
        };
        // In this order, so that the first bad setting is the one reported.
        let versions = m.versions()?;
        let include_deprecated = m.switch(
            "include-deprecated",
            args.include_deprecated,
            conf.include_deprecated,
        );
        let walk = m.walk()?;
        let rules = m.rules();
        let assume = m.assume()?;
        let allow_live_pv = m.switch("allow-live-pv", args.allow_live_pv, conf.allow_live_pv);
        let split_inline_volumes = m.switch(
            "split-inline-volumes",
            args.split_inline_volumes,
            conf.split_inline_volumes,
        );
        let scan_scripts = m.switch("scan-scripts", args.scan_scripts, conf.scan_scripts);
        let selection = m.selection();
        let (packs, components) = packs_and_components(&conf, args, &shown)?;
        m.pick(
            "pack",
            !args.packs.packs.is_empty(),
            conf.packs.as_ref().is_some_and(|v| !v.is_empty()),
        );
        let components_in_file = conf.components.as_ref().map_or(0, toml::Table::len);
        let max_file_size = m.max_file_size()?;
        let origins = m.origins;

        Ok(Settings {
            versions,
            include_deprecated,
            walk,
            rules,
            max_file_size,
            assume,
            allow_live_pv,
            split_inline_volumes,
            scan_scripts,
            packs,
            components,
            components_in_file,
            selection,
            file,
            searched,
            origins,
        })
    }
}

/// The configuration that governs a run, as ruff and rustfmt find theirs: the nearest
/// `.kubemig.toml` above the first path given (so `kubemig check /repo/deploy` run from
/// elsewhere obeys `/repo/.kubemig.toml`), else the nearest above the current directory.
/// Returns the directories looked in too, for `--show-config`.
fn discover_for(cwd: &Path, first: Option<&Path>) -> (Option<PathBuf>, Vec<PathBuf>) {
    let start = first
        .filter(|p| p.as_os_str() != "-")
        .map(|p| absolute(cwd, p))
        .map(|p| {
            if p.is_dir() {
                p
            } else {
                p.parent().map_or(p.clone(), Path::to_path_buf)
            }
        });
    let mut searched = Vec::new();
    for dir in start.iter().map(PathBuf::as_path).chain([cwd]) {
        if let Some(found) = discover(dir, &mut searched) {
            return (Some(found), searched);
        }
    }
    (None, searched)
}

/// `dir/.kubemig.toml` for `dir` and its parents up to the repository root (outside a
/// repository, `dir` alone). Directories already in `searched` are not looked in again.
fn discover(dir: &Path, searched: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let in_repo = dir.ancestors().any(|d| d.join(".git").exists());
    for d in dir.ancestors() {
        if !searched.iter().any(|s| s == d) {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            searched.push(d.to_path_buf());
        }
        if !in_repo || d.join(".git").exists() {
            break;
        }
    }
    None
}

fn load(path: &Path) -> Result<FileConfig> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
    toml::from_str(&text).map_err(|e| {
        let msg = e.message().to_string();
        let at = e
            .span()
            .map(|s| {
                let line = crate::source::line_of(&text, s.start);
                format!(":{line}")
            })
            .unwrap_or_default();
        let hint = if msg.contains("unknown field") {
            format!("; the keys are {KEYS}")
        } else {
            String::new()
        };
        anyhow::anyhow!(
            "{shown}{at}: {msg}{hint} (`kubemig check --show-config` prints the settings in effect)"
        )
    })
}
