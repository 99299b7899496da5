//! Settings: the command-line flags merged over a `.kubemig.toml` merged over the defaults.
//!
//! The file is looked for from the current directory upward to the repository root (the
//! first directory with a `.git`); outside a repository only the current directory is
//! looked at. Its keys are spelled like the long flags. A flag wins over the file; list
//! settings (`exclude`, `include`, `rules`) add to the file's. Paths and globs in the file
//! are relative to the file's directory, those on the command line to the current one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use crate::catalogue::model::CatalogueFile;
use crate::catalogue::{Catalogue, Release};
use crate::cli::{RunArgs, VersionArgs};
use crate::walk::{Globs, WalkOptions, absolute};

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

    /// The catalogue a run uses, when it is not the embedded one as it is: extra rules files
    /// and packs merged in, add-on versions and `ignore`/`enable` applied.
    pub fn catalogue(&self) -> Result<Option<Catalogue>> {
        let selected = !self.selection.ignore.is_empty() || !self.selection.enable.is_empty();
        if self.rules.is_empty() && self.packs.is_empty() && self.components.is_empty() && !selected
        {
            return Ok(None);
        }
        let mut extra = Vec::new();
        for path in &self.rules {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the rules file {name}; check the path given to --rules or in {FILE_NAME}")
            })?;
            check_rules_file(&name, &text)?;
            extra.push((name, text));
        }
        let cat = if extra.is_empty() {
            Catalogue::load(&extra, &self.packs)?
        } else {
            Catalogue::load(&extra, &self.packs).context(
                "the rules files do not fit the catalogue; migrations/README.md describes the format",
            )?
        };
        let cat = cat.with_components(&self.components)?;
        if !selected {
            return Ok(Some(cat));
        }
        let shown = self
            .file
            .as_deref()
            .map_or_else(String::new, |f| format!(" (flags and {})", f.display()));
        cat.with_selection(self.selection.clone())
            .with_context(|| format!("--ignore/--enable{shown}"))
            .map(Some)
    }

    /// The settings in effect, as a `.kubemig.toml` with a comment on where each came from.
    pub fn describe(&self, cat: &Catalogue) -> String {
        let mut s = self.describe_file();
        let lines = self.describe_keys(cat);
        let table = self.describe_components(cat);
        let width = lines
            .iter()
            .chain(&table)
            .map(|(l, _)| l.len())
            .max()
            .unwrap_or(0);
        for (line, note) in lines {
            let _ = writeln!(s, "{line:<width$}  # {note}");
        }
        if !table.is_empty() {
            let _ = writeln!(s, "\n[components]");
            for (line, note) in table {
                let _ = writeln!(s, "{line:<width$}  # {note}");
            }
        }
        s
    }

    /// `# configuration file: …`: the file read, or where it was looked for.
    fn describe_file(&self) -> String {
        let mut s = String::new();
        match &self.file {
            Some(f) => {
                let _ = writeln!(s, "# configuration file: {}", f.display());
            }
            None if self.searched.is_empty() => {
                let _ = writeln!(s, "# configuration file: none (--no-config)");
            }
            None => {
                let _ = writeln!(
                    s,
                    "# configuration file: none ({FILE_NAME} looked for in {})",
                    self.searched
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        s
    }

    /// Each top-level key: its line and where its value came from.
    fn describe_keys(&self, cat: &Catalogue) -> Vec<(String, String)> {
        let origin = |key: &str| {
            let o = self
                .origins
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(Origin::Default, |(_, o)| *o);
            match o {
                Origin::Default => "default".to_string(),
                Origin::File => FILE_NAME.to_string(),
                Origin::Flag => format!("--{key}"),
                Origin::Both => format!("{FILE_NAME} and --{key}"),
            }
        };
        let target = self.versions.target_version.unwrap_or(cat.newest);
        let min_note = match self.versions.min_version {
            Some(_) => origin("min-version"),
            None => "default: target minus 3".to_string(),
        };
        let min = self
            .versions
            .min_version
            .unwrap_or(crate::catalogue::select::default_min(target));
        let list = |globs: &[Globs]| -> String {
            let items: Vec<String> = globs
                .iter()
                .flat_map(|g| g.globs.iter().map(|x| toml_str(x)))
                .collect();
            format!("[{}]", items.join(", "))
        };
        let bases = |globs: &[Globs]| -> String {
            let mut dirs: Vec<String> =
                globs.iter().map(|g| g.base.display().to_string()).collect();
            dirs.dedup();
            dirs.iter()
                .map(|d| format!("relative to {d}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let target_note = match self.versions.target_version {
            Some(_) => origin("target-version"),
            None => "default: the newest the catalogue knows".to_string(),
        };
        let mut lines: Vec<(String, String)> = vec![
            (format!("target-version = \"{target}\""), target_note),
            (format!("min-version = \"{min}\""), min_note),
            (
                format!("include-deprecated = {}", self.include_deprecated),
                origin("include-deprecated"),
            ),
            (
                format!("exclude = {}", list(&self.walk.exclude)),
                join_notes(origin("exclude"), bases(&self.walk.exclude)),
            ),
            (
                format!("include = {}", list(&self.walk.include)),
                if self.walk.include.is_empty() {
                    "default: *.yaml, *.yml, *.json".to_string()
                } else {
                    join_notes(origin("include"), bases(&self.walk.include))
                },
            ),
            (
                format!(
                    "rules = [{}]",
                    self.rules
                        .iter()
                        .map(|r| toml_str(&r.display().to_string()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                origin("rules"),
            ),
            (
                format!("follow-symlinks = {}", self.walk.follow_symlinks),
                origin("follow-symlinks"),
            ),
            (
                format!("force-exclude = {}", self.walk.force_exclude),
                origin("force-exclude"),
            ),
            (
                format!("max-file-size = {}", toml_str(&size(self.max_file_size))),
                origin("max-file-size"),
            ),
            (
                format!(
                    "assume = [{}]",
                    self.assume
                        .iter()
                        .map(|(k, v)| toml_str(&format!("{k}={v}")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                origin("assume"),
            ),
            (
                format!("allow-live-pv = {}", self.allow_live_pv),
                origin("allow-live-pv"),
            ),
            (
                format!("split-inline-volumes = {}", self.split_inline_volumes),
                origin("split-inline-volumes"),
            ),
            (
                format!("scan-scripts = {}", self.scan_scripts),
                origin("scan-scripts"),
            ),
            (
                format!("ignore = [{}]", ids(&self.selection.ignore)),
                origin("ignore"),
            ),
            (
                format!("enable = [{}]", ids(&self.selection.enable)),
                origin("enable"),
            ),
        ];
        lines.push((format!("packs = [{}]", ids(&self.packs)), origin("pack")));
        lines
    }

    /// The `[components]` table: one line per pack loaded, with the add-on version its
    /// objects are migrated for.
    fn describe_components(&self, cat: &Catalogue) -> Vec<(String, String)> {
        // A table comes after every top-level key.
        let mut table = Vec::new();
        for pack in &cat.packs {
            let given = self.components.iter().rposition(|(n, _)| *n == pack.name);
            let note = match given {
                Some(i) if i < self.components_in_file => FILE_NAME.to_string(),
                Some(_) => "--component".to_string(),
                None => "default: the newest the pack knows".to_string(),
            };
            let version = cat.component_target(&pack.name).unwrap_or(pack.newest);
            table.push((format!("{} = \"{version}\"", toml_key(&pack.name)), note));
        }
        table
    }
}

fn ids(list: &[String]) -> String {
    list.iter()
        .map(|i| toml_str(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A TOML key: bare when it can be (pack names are like `cert-manager`), quoted otherwise.
fn toml_key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare { k.to_string() } else { toml_str(k) }
}

fn join_notes(a: String, b: String) -> String {
    if b.is_empty() { a } else { format!("{a}; {b}") }
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
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
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

/// The flags of a run merged over the configuration file, one setting at a time, noting
/// where each came from (`--show-config`).
struct Merge<'a> {
    args: &'a RunArgs,
    conf: &'a FileConfig,
    cwd: &'a Path,
    /// The file's directory: its paths and globs are relative to it.
    dir: &'a Path,
    /// The file's path, for messages (empty without one).
    shown: &'a str,
    origins: Vec<(&'static str, Origin)>,
}

impl Merge<'_> {
    /// Note where the setting `key` came from: the flag, the file (and not overridden by
    /// the flag), both (lists add up), or neither.
    fn pick(&mut self, key: &'static str, flag: bool, file: bool) {
        self.origins.push((
            key,
            match (flag, file) {
                (true, true) => Origin::Both,
                (true, false) => Origin::Flag,
                (false, true) => Origin::File,
                (false, false) => Origin::Default,
            },
        ))
    }

    /// An on/off setting: on when the flag or the file says so.
    fn switch(&mut self, key: &'static str, flag: bool, file: Option<bool>) -> bool {
        self.pick(key, flag, file.is_some() && !flag);
        flag || file == Some(true)
    }

    /// A release in the file, which must be a string (a TOML number would read 1.30 as 1.3).
    fn release(&self, v: &Option<toml::Value>, key: &str) -> Result<Option<Release>> {
        let shown = self.shown;
        match v {
            None => Ok(None),
            Some(toml::Value::String(s)) => Release::parse(s)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("{shown}: {key}: {e}")),
            Some(other) => bail!(
                "{shown}: {key} = {other} must be a string, like {key} = \"1.29\" (a TOML number would read 1.30 as 1.3)"
            ),
        }
    }

    /// `--target-version` and `--min-version`: the flag, else the file.
    fn versions(&mut self) -> Result<VersionArgs> {
        let args = &self.args.versions;
        let file_target = self.release(&self.conf.target_version, "target-version")?;
        let file_min = self.release(&self.conf.min_version, "min-version")?;
        self.pick(
            "target-version",
            args.target_version.is_some(),
            file_target.is_some() && args.target_version.is_none(),
        );
        self.pick(
            "min-version",
            args.min_version.is_some(),
            file_min.is_some() && args.min_version.is_none(),
        );
        Ok(VersionArgs {
            target_version: args.target_version.or(file_target),
            min_version: args.min_version.or(file_min),
        })
    }

    /// What the walk takes and leaves: the file's globs and the flags' add up.
    fn walk(&mut self) -> Result<WalkOptions> {
        let (args, conf, shown) = (self.args, self.conf, self.shown);
        let globs = |base: &Path, list: &[String], what: &str| -> Result<Option<Globs>> {
            if list.is_empty() {
                return Ok(None);
            }
            Globs::new(base, list)
                .map(Some)
                .map_err(|e| anyhow::anyhow!("{what}: {e}"))
        };
        let file_exclude = conf.exclude.clone().unwrap_or_default();
        let file_include = conf.include.clone().unwrap_or_default();
        let exclude: Vec<Globs> = [
            globs(self.dir, &file_exclude, &format!("{shown}: exclude"))?,
            globs(self.cwd, &args.exclude, "--exclude")?,
        ]
        .into_iter()
        .flatten()
        .collect();
        let include: Vec<Globs> = [
            globs(self.dir, &file_include, &format!("{shown}: include"))?,
            globs(self.cwd, &args.include, "--include")?,
        ]
        .into_iter()
        .flatten()
        .collect();
        self.pick(
            "exclude",
            !args.exclude.is_empty(),
            !file_exclude.is_empty(),
        );
        self.pick(
            "include",
            !args.include.is_empty(),
            !file_include.is_empty(),
        );
        Ok(WalkOptions {
            exclude,
            include,
            follow_symlinks: self.switch(
                "follow-symlinks",
                args.follow_symlinks,
                conf.follow_symlinks,
            ),
            force_exclude: self.switch("force-exclude", args.force_exclude, conf.force_exclude),
        })
    }

    /// Extra rules files: the file's (relative to it), then the flags'.
    fn rules(&mut self) -> Vec<PathBuf> {
        let file_rules: Vec<PathBuf> = self
            .conf
            .rules
            .iter()
            .flatten()
            .map(|r| relative_to_cwd(self.cwd, &self.dir.join(r)))
            .collect();
        self.pick("rules", !self.args.rules.is_empty(), !file_rules.is_empty());
        file_rules
            .into_iter()
            .chain(self.args.rules.iter().cloned())
            .collect()
    }

    /// `assume`: the file's, then the flags'.
    fn assume(&mut self) -> Result<Vec<(String, String)>> {
        let mut assume = Vec::new();
        for a in self.conf.assume.iter().flatten() {
            assume.push(
                crate::cli::parse_assumption(a)
                    .map_err(|e| anyhow::anyhow!("{}: assume: {e}", self.shown))?,
            );
        }
        self.pick("assume", !self.args.assume.is_empty(), !assume.is_empty());
        assume.extend(self.args.assume.iter().cloned());
        Ok(assume)
    }

    /// `ignore` and `enable`: the file's ids, then the flags', each once.
    fn selection(&mut self) -> crate::catalogue::Selection {
        let ids = |file: &Option<Vec<String>>, flags: &[String]| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for id in file.iter().flatten().chain(flags) {
                let id = id.trim().to_string();
                if !id.is_empty() && !out.contains(&id) {
                    out.push(id);
                }
            }
            out
        };
        let (args, conf) = (self.args, self.conf);
        self.pick(
            "ignore",
            !args.ignore.is_empty(),
            conf.ignore.as_ref().is_some_and(|v| !v.is_empty()),
        );
        self.pick(
            "enable",
            !args.enable.is_empty(),
            conf.enable.as_ref().is_some_and(|v| !v.is_empty()),
        );
        crate::catalogue::Selection {
            ignore: ids(&conf.ignore, &args.ignore),
            enable: ids(&conf.enable, &args.enable),
        }
    }

    /// `--max-file-size`: the flag, else the file (bytes or a size like "32M"), else the
    /// default.
    fn max_file_size(&mut self) -> Result<u64> {
        let shown = self.shown;
        let file_size = match &self.conf.max_file_size {
            None => None,
            Some(toml::Value::Integer(n)) if *n >= 0 => Some(*n as u64),
            Some(toml::Value::String(s)) => Some(
                crate::cli::parse_size(s)
                    .map_err(|e| anyhow::anyhow!("{shown}: max-file-size: {e}"))?,
            ),
            Some(other) => bail!("{shown}: max-file-size = {other} must be a size like \"32M\""),
        };
        let flag = self.args.max_file_size;
        self.pick(
            "max-file-size",
            flag.is_some(),
            file_size.is_some() && flag.is_none(),
        );
        Ok(flag.or(file_size).unwrap_or(DEFAULT_MAX_FILE_SIZE))
    }
}

/// Packs to load and add-on versions (`NAME`, `VERSION`).
type PacksAndComponents = (Vec<String>, Vec<(String, String)>);

/// `packs` and `[components]` of the file, then `--pack` and `--component`.
fn packs_and_components(
    conf: &FileConfig,
    args: &RunArgs,
    shown: &str,
) -> Result<PacksAndComponents> {
    let mut packs: Vec<String> = conf.packs.clone().unwrap_or_default();
    for p in &args.packs.packs {
        if !packs.contains(p) {
            packs.push(p.clone());
        }
    }
    let mut components = Vec::new();
    for (name, v) in conf.components.iter().flatten() {
        let toml::Value::String(version) = v else {
            bail!("{shown}: components.{name} = {v} must be a string, like {name} = \"1.14\"");
        };
        components.push((name.clone(), version.clone()));
    }
    components.extend(args.packs.components.iter().cloned());
    Ok((packs, components))
}

/// Refuse what a rules file may not do, with the file's name, before merging it.
fn check_rules_file(name: &str, text: &str) -> Result<()> {
    let file: CatalogueFile = crate::catalogue::registry::parse_file(text).map_err(|e| {
        let (at, msg) = match e.downcast_ref::<toml::de::Error>() {
            Some(e) => (
                e.span()
                    .map(|s| {
                        format!(":{}", text[..s.start.min(text.len())].matches('\n').count() + 1)
                    })
                    .unwrap_or_default(),
                e.message().trim_end().to_string(),
            ),
            None => (String::new(), format!("{e:#}")),
        };
        anyhow::anyhow!(
            "rules file {name}{at}: {msg}; the format is the catalogue's, described in migrations/README.md"
        )
    })?;
    if file.newest.is_some() {
        bail!("rules file {name}: `newest` is the built-in catalogue's setting; remove it");
    }
    if !file.global_rules.is_empty() {
        bail!(
            "rules file {name}: [[global-rule]] would change every built-in migration; put the rules in a [[migration]] instead"
        );
    }
    if file.version.is_empty() && file.migration.is_empty() && file.field.is_empty() {
        bail!(
            "rules file {name}: no [[version]], [[migration]] or [[field]]; is it the right file?"
        );
    }
    Ok(())
}

/// `dir/x` as a path usable from the current directory: relative when under it.
fn relative_to_cwd(cwd: &Path, p: &Path) -> PathBuf {
    let abs = absolute(cwd, p);
    match abs.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => abs,
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn size(n: u64) -> String {
    for (unit, shift) in [("G", 30), ("M", 20), ("K", 10)] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{}{unit}", n >> shift);
        }
    }
    n.to_string()
}
