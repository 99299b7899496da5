//! `--show-config`: the settings in effect, as a `.kubemig.toml` with a comment on where each
//! value came from.

use std::fmt::Write as _;

use super::{FILE_NAME, Origin, Settings};
use crate::catalogue::Catalogue;
use crate::walk::Globs;

impl Settings {
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
