//! Merging the flags of a run over the configuration file, one setting at a time.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::{DEFAULT_MAX_FILE_SIZE, FileConfig, Origin};
use crate::catalogue::Release;
use crate::cli::{RunArgs, VersionArgs};
use crate::walk::{Globs, WalkOptions, absolute};

/// The flags of a run merged over the configuration file, one setting at a time, noting
/// where each came from (`--show-config`).
pub(super) struct Merge<'a> {
    pub(super) args: &'a RunArgs,
    pub(super) conf: &'a FileConfig,
    pub(super) cwd: &'a Path,
    /// The file's directory: its paths and globs are relative to it.
    pub(super) dir: &'a Path,
    /// The file's path, for messages (empty without one).
    pub(super) shown: &'a str,
    pub(super) origins: Vec<(&'static str, Origin)>,
}

impl Merge<'_> {
    /// Note where the setting `key` came from: the flag, the file (and not overridden by
    /// the flag), both (lists add up), or neither.
    pub(super) fn pick(&mut self, key: &'static str, flag: bool, file: bool) {
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
    pub(super) fn switch(&mut self, key: &'static str, flag: bool, file: Option<bool>) -> bool {
        self.pick(key, flag, file.is_some() && !flag);
        flag || file == Some(true)
    }

    /// A release in the file, which must be a string (a TOML number would read 1.30 as 1.3).
    pub(super) fn release(&self, v: &Option<toml::Value>, key: &str) -> Result<Option<Release>> {
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
    pub(super) fn versions(&mut self) -> Result<VersionArgs> {
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
    pub(super) fn walk(&mut self) -> Result<WalkOptions> {
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
    pub(super) fn rules(&mut self) -> Vec<PathBuf> {
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
    pub(super) fn assume(&mut self) -> Result<Vec<(String, String)>> {
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
    pub(super) fn selection(&mut self) -> crate::catalogue::Selection {
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
    pub(super) fn max_file_size(&mut self) -> Result<u64> {
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
pub(super) fn packs_and_components(
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

/// `dir/x` as a path usable from the current directory: relative when under it.
fn relative_to_cwd(cwd: &Path, p: &Path) -> PathBuf {
    let abs = absolute(cwd, p);
    match abs.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => abs,
    }
}
