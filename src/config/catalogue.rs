//! The catalogue a run uses: the embedded one with rules files and packs merged in,
//! add-on versions and `ignore`/`enable` applied.

use anyhow::{Context as _, Result, bail};

use super::{FILE_NAME, Settings};
use crate::catalogue::Catalogue;
use crate::catalogue::model::CatalogueFile;
use crate::source::line_of;

impl Settings {
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
}

/// Refuse what a rules file may not do, with the file's name, before merging it.
fn check_rules_file(name: &str, text: &str) -> Result<()> {
    let file: CatalogueFile = crate::catalogue::registry::parse_file(text).map_err(|e| {
        let (at, msg) = match e.downcast_ref::<toml::de::Error>() {
            Some(e) => (
                e.span()
                    .map(|s| {
                        format!(":{}", line_of(text, s.start))
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
