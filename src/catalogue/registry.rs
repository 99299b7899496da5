//! Load and validate the catalogue embedded from `migrations/` (and packs and `--rules`
//! files); each rule is compiled by [`super::compile`].

use std::collections::HashMap;

use anyhow::{Context, Result, bail};

use super::compile::compile_rule;
pub use super::compile::{CompiledBinding, CompiledOp, CompiledRule, OPTION_ROOTS, OpValue};
use super::model::{
    ApiVersion, CatalogueFile, ComponentVersion, FieldMigration, FindingSpec, Migration,
    PackHeader, Release,
};
pub use super::relpath::{RelPath, Root, Shape};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalogue_files.rs"));
}

#[derive(Debug)]
pub struct Hop {
    pub meta: Migration,
    pub rules: Vec<CompiledRule>,
}

#[derive(Debug)]
pub struct Field {
    pub meta: FieldMigration,
    pub rules: Vec<CompiledRule>,
    /// `meta.mentions`, compiled for `prefilter::ObjectText::mentions`.
    pub mentions: Vec<super::needle::CompiledNeedle>,
    /// `meta.applies-to`, split once: whether it names `pods`, and its `(API, KIND)` pairs.
    pods: bool,
    targets: Vec<(String, String)>,
    /// [`length_bit`] of every kind in `targets`: most objects are ruled out by their kind's
    /// length, without comparing a string.
    kind_lengths: u64,
}

/// A bit for a kind's length (modulo 64).
fn length_bit(kind: &str) -> u64 {
    1 << (kind.len() % 64)
}

impl Field {
    /// Whether the field's rules look at an object of this apiVersion and kind.
    pub fn applies_to(&self, api: &str, kind: &str) -> bool {
        self.applies(api, kind, keeps_pod(kind))
    }

    /// [`Field::applies_to`], with [`keeps_pod`] worked out once for every field.
    pub fn applies(&self, api: &str, kind: &str, pod_kind: bool) -> bool {
        (self.pods && pod_kind)
            || (self.kind_lengths & length_bit(kind) != 0
                && self.targets.iter().any(|(a, k)| k == kind && a == api))
    }
}

/// Whether objects of `kind` hold a pod (the kinds `applies-to = ["pods"]` names): one of
/// [`POD_TEMPLATE_SITES`]. Asked for every object, so a `match` rather than a search of the
/// table (a test holds the two equal).
pub fn keeps_pod(kind: &str) -> bool {
    matches!(
        kind,
        "Pod"
            | "PodTemplate"
            | "Deployment"
            | "ReplicaSet"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicationController"
            | "Job"
            | "CronJob"
    )
}

/// Where each kind keeps its pod (the mapping holding the pod's `metadata` and `spec`): what
/// `@pod` stands for in a field rule's `at`.
pub const POD_TEMPLATE_SITES: &[(&str, &str)] = &[
    ("Pod", ""),
    ("PodTemplate", "template"),
    ("Deployment", "spec.template"),
    ("ReplicaSet", "spec.template"),
    ("StatefulSet", "spec.template"),
    ("DaemonSet", "spec.template"),
    ("ReplicationController", "spec.template"),
    ("Job", "spec.template"),
    ("CronJob", "spec.jobTemplate.spec.template"),
];

#[derive(Debug)]
pub struct Catalogue {
    pub newest: Release,
    pub versions: Vec<ApiVersion>,
    pub hops: Vec<Hop>,
    pub fields: Vec<Field>,
    pub global_rules: Vec<CompiledRule>,
    /// Facts and opt-ins from the command line that field rules read as variables:
    /// `assume.KEY` (`--assume KEY=VALUE`) and `flag.NAME` (`--allow-live-pv`, …).
    pub options: Vec<(String, String)>,
    /// The packs loaded (`--pack`, and `--rules` files that declare an add-on).
    pub packs: Vec<PackHeader>,
    /// Add-on versions given with `--component NAME=VERSION`; others are the pack's newest.
    pub components: Vec<(String, Release)>,
    /// `ignore` and `enable` from `.kubemig.toml` and the command line.
    pub selection: Selection,
    /// Each `(api, kind)`'s index in `versions`, by api: looked up for every object without
    /// making a key.
    by_kind: foldhash::HashMap<String, Vec<(String, usize)>>,
    /// Each group/version whose every kind the catalogue lists is removed at some release:
    /// the release from which it is not served at all (`gone_at`).
    gone: HashMap<String, Release>,
}

/// Parse one catalogue file. In a pack (a file with `[pack]`), the releases of `[[version]]`
/// and `newest` are the add-on's own versions (`0.16`, `2.3`), read with
/// [`ComponentVersion::parse`] (written back as `{ component = "…" }` for the deserializer).
pub fn parse_file(text: &str) -> Result<CatalogueFile> {
    // Most files are not packs: read them straight into the model, once. What this
    // cannot read (a pack's add-on versions, or an error) takes the way below, which
    // reports the same errors as before.
    if let Ok(file) = toml::from_str::<CatalogueFile>(text)
        && file.pack.is_none()
    {
        return Ok(file);
    }
    let mut table: toml::Table = toml::from_str(text)?;
    if !table.contains_key("pack") {
        // Parsed again from the text, so errors keep their line.
        return Ok(toml::from_str(text)?);
    }
    let component = |v: &mut toml::Value, what: &str| -> Result<()> {
        if let toml::Value::String(s) = v {
            ComponentVersion::parse(s).map_err(anyhow::Error::msg)?;
            let mut t = toml::Table::new();
            t.insert("component".into(), toml::Value::String(std::mem::take(s)));
            *v = toml::Value::Table(t);
        } else {
            bail!("`{what}` must be a version string like \"1.14\"");
        }
        Ok(())
    };
    if let Some(toml::Value::Table(p)) = table.get_mut("pack")
        && let Some(v) = p.get_mut("newest")
    {
        component(v, "pack.newest")?;
    }
    if let Some(toml::Value::Array(vs)) = table.get_mut("version") {
        for v in vs.iter_mut().filter_map(toml::Value::as_table_mut) {
            for key in ["introduced", "deprecated", "removed"] {
                if let Some(r) = v.get_mut(key) {
                    component(r, key)?;
                }
            }
        }
    }
    Ok(table.try_into()?)
}

/// Embedded file `i` read from the JSON that build.rs made of it; `None` (the TOML text is
/// read instead, with its errors) for a pack or anything JSON does not read.
fn parse_embedded(i: usize) -> Option<CatalogueFile> {
    serde_json::from_str::<CatalogueFile>(embedded::FILES_JSON.get(i)?)
        .ok()
        .filter(|f| f.pack.is_none())
}

/// The packs compiled into this binary: each header with its file's text.
pub fn embedded_packs() -> Result<Vec<(PackHeader, &'static str)>> {
    embedded::PACKS
        .iter()
        .map(|&(name, text)| {
            let file = parse_file(text).with_context(|| format!("migrations/packs/{name}"))?;
            let header = file
                .pack
                .with_context(|| format!("migrations/packs/{name}: no [pack] table"))?;
            Ok((header, text))
        })
        .collect()
}

/// What runs, by id (ruff's `ignore` and `extend-select`): `.kubemig.toml` keys and the
/// `--ignore` / `--enable` flags.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Migration ids and finding codes never applied nor reported.
    pub ignore: Vec<String>,
    /// Migration ids applied from their deprecated release on, as `--include-deprecated`
    /// does for every migration.
    pub enable: Vec<String>,
}

impl Catalogue {
    /// The catalogue compiled into this binary.
    pub fn embedded() -> Result<Catalogue> {
        Catalogue::from_files(embedded::FILES.iter().copied())
    }

    /// The embedded catalogue merged with extra files (`--rules`), each `(name, text)` named
    /// as given in errors. A file is checked against the catalogue and the files before it.
    pub fn embedded_with(extra: &[(String, String)]) -> Result<Catalogue> {
        let builtin = || {
            embedded::FILES
                .iter()
                .map(|&(n, t)| (format!("migrations/{n}"), t))
        };
        let mut cat = None;
        for (i, (name, _)) in extra.iter().enumerate() {
            let files = extra[..=i].iter().map(|(n, t)| (n.clone(), t.as_str()));
            cat = Some(Catalogue::from_named(builtin().chain(files)).map_err(|e| {
                if format!("{e:#}").contains(name.as_str()) {
                    e
                } else {
                    e.context(name.clone())
                }
            })?);
        }
        cat.map_or_else(Catalogue::embedded, Ok)
    }

    /// The embedded catalogue with the packs named in `packs` and the extra files (`--rules`),
    /// each `(name, text)`.
    pub fn load(extra: &[(String, String)], packs: &[String]) -> Result<Catalogue> {
        let available = embedded_packs()?;
        let mut files: Vec<(String, String)> = Vec::new();
        for name in packs {
            let Some((_, text)) = available.iter().find(|(h, _)| &h.name == name) else {
                let known: Vec<&str> = available.iter().map(|(h, _)| h.name.as_str()).collect();
                bail!(
                    "unknown pack `{name}`; known: {} (`kubemig list --packs`)",
                    known.join(", ")
                );
            };
            if !files
                .iter()
                .any(|(n, _)| n.ends_with(&format!("/{name}.toml")))
            {
                files.push((format!("migrations/packs/{name}.toml"), text.to_string()));
            }
        }
        files.extend(extra.iter().cloned());
        Catalogue::embedded_with(&files)
    }

    /// This catalogue with add-on versions (`--component NAME=VERSION`): each names a
    /// loaded pack.
    pub fn with_components(self, components: &[(String, String)]) -> Result<Catalogue> {
        let mut out: Vec<(String, Release)> = Vec::new();
        for (name, version) in components {
            if !self.packs.iter().any(|p| &p.name == name) {
                bail!(
                    "--component {name}={version}: no pack `{name}` is enabled; add --pack {name} (or `packs = [\"{name}\"]` in .kubemig.toml)"
                );
            }
            let r = ComponentVersion::parse(version)
                .map_err(|e| anyhow::anyhow!("--component {name}={version}: {e}"))?
                .release();
            out.retain(|(n, _)| n != name);
            out.push((name.clone(), r));
        }
        Ok(Catalogue {
            components: out,
            ..self
        })
    }

    /// The version of the add-on `name` the manifests must work with.
    pub fn component_target(&self, name: &str) -> Option<Release> {
        self.components
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| *r)
            .or_else(|| self.packs.iter().find(|p| p.name == name).map(|p| p.newest))
    }

    /// This catalogue with `ignore` and `enable` applied; an id or code the catalogue does
    /// not know is an error that names it.
    pub fn with_selection(self, selection: Selection) -> Result<Catalogue> {
        for id in &selection.ignore {
            if id.starts_with("KUBEMIG-") {
                bail!(
                    "ignore: `{id}` says kubemig cannot rewrite something safely; it cannot be ignored"
                );
            }
            if !self.is_migration_id(id) && !self.is_code(id) {
                bail!(
                    "ignore: `{id}` is neither a migration id nor a finding code; `kubemig list` and `kubemig list --fields` show the ids, `kubemig explain ID` the codes"
                );
            }
        }
        for id in &selection.enable {
            if self.is_code(id) && !self.is_migration_id(id) {
                bail!("enable: `{id}` is a finding code; enable takes a migration id");
            }
            if !self.is_migration_id(id) {
                bail!(
                    "enable: `{id}` is not a migration id; `kubemig list` and `kubemig list --fields` show them"
                );
            }
        }
        Ok(Catalogue { selection, ..self })
    }

    /// Whether `ignore` names this migration id or finding code.
    pub fn ignores(&self, id_or_code: &str) -> bool {
        self.selection.ignore.iter().any(|i| i == id_or_code)
    }

    /// Whether `ignore` names a migration on the chain from (`api`, `kind`).
    pub fn ignores_chain(&self, api: &str, kind: &str) -> bool {
        !self.selection.ignore.is_empty()
            && self
                .chain_from(api, kind)
                .any(|hop| self.ignores(&hop.meta.id))
    }

    /// Whether `enable` names this migration id.
    pub fn enables(&self, id: &str) -> bool {
        self.selection.enable.iter().any(|i| i == id)
    }

    fn is_migration_id(&self, id: &str) -> bool {
        self.hop(id).is_some() || self.fields.iter().any(|f| f.meta.id == id)
    }

    /// Whether `ignore` accepts this code: some rule of the catalogue reports it, or the
    /// engine does and it is not one that says kubemig cannot rewrite safely.
    pub fn is_code(&self, code: &str) -> bool {
        super::codes::find(code).is_some_and(|c| c.ignorable)
            || !self.rules_with_code(code).is_empty()
    }

    /// The migrations (ids) whose rules report `code`, with the finding of the first rule.
    pub fn rules_with_code(&self, code: &str) -> Vec<(&str, &FindingSpec)> {
        let hops = self.hops.iter().map(|h| (h.meta.id.as_str(), &h.rules));
        let fields = self.fields.iter().map(|f| (f.meta.id.as_str(), &f.rules));
        let global = std::iter::once(("global", &self.global_rules));
        let mut out: Vec<(&str, &FindingSpec)> = Vec::new();
        for (id, rules) in hops.chain(fields).chain(global) {
            if let Some(f) = rules
                .iter()
                .filter_map(|r| r.finding.as_ref())
                .find(|f| f.code == code)
            {
                out.push((id, f));
            }
        }
        out
    }

    /// The release from which `api` (a group/version) is not served at all, when the
    /// catalogue knows: every kind it lists there is removed.
    pub fn gone_at(&self, api: &str) -> Option<Release> {
        self.gone.get(api).copied()
    }

    /// The kinds the catalogue lists in `api`.
    pub fn kinds_in(&self, api: &str) -> Vec<&str> {
        self.versions
            .iter()
            .filter(|v| v.api == api)
            .flat_map(|v| v.kinds.iter().map(String::as_str))
            .collect()
    }

    /// This catalogue with the command-line facts its field rules read (`options`).
    pub fn with_options(self, options: Vec<(String, String)>) -> Catalogue {
        Catalogue { options, ..self }
    }

    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalogue> {
        Catalogue::from_named(
            files
                .into_iter()
                .map(|(n, t)| (format!("migrations/{n}"), t)),
        )
    }

    /// Load files named as they should appear in errors.
    fn from_named<'a>(files: impl IntoIterator<Item = (String, &'a str)>) -> Result<Catalogue> {
        let mut newest = None;
        let mut versions = Vec::new();
        let mut hops = Vec::new();
        let mut fields = Vec::new();
        let mut global_rules = Vec::new();
        let mut packs: Vec<PackHeader> = Vec::new();
        for (name, text) in files {
            // The embedded files' own text (not a copy): read from its JSON, and its
            // patterns compile on first use.
            let builtin = embedded::FILES
                .iter()
                .position(|&(_, t)| std::ptr::eq(t, text));
            let mut file: CatalogueFile = match builtin.and_then(parse_embedded) {
                Some(file) => file,
                None => parse_file(text).with_context(|| name.clone())?,
            };
            let _defer = super::relpath::DeferPatterns::new(builtin.is_some());
            if let Some(p) = &file.pack {
                if !file.field.is_empty() || !file.global_rules.is_empty() || file.newest.is_some()
                {
                    bail!("{name}: a pack holds only [[version]] and [[migration]] entries");
                }
                if packs.iter().any(|o| o.name == p.name) {
                    bail!("{name}: pack `{}` is loaded twice", p.name);
                }
                for v in &mut file.version {
                    v.component = Some(p.name.clone());
                }
                packs.push(p.clone());
            } else {
                // `{ component = "…" }` counts an add-on's releases: only a pack has an add-on.
                let releases = file
                    .version
                    .iter()
                    .flat_map(|v| [Some(v.introduced), v.deprecated, v.removed]);
                let fields = file.field.iter().flat_map(|f| [f.deprecated, f.removed]);
                if releases
                    .chain(fields)
                    .chain([file.newest])
                    .flatten()
                    .any(Release::is_component)
                {
                    bail!(
                        "{name}: `{{ component = … }}` releases belong in a pack (a file with a [pack] table)"
                    );
                }
            }
            if let Some(n) = file.newest
                && newest.replace(n).is_some()
            {
                bail!("{name}: `newest` is set in more than one file");
            }
            for r in &file.global_rules {
                global_rules.push(compile_rule(r).with_context(|| format!("{name}: global rule"))?);
            }
            versions.extend(file.version);
            for m in file.migration {
                let rules = m
                    .rules
                    .iter()
                    .map(compile_rule)
                    .collect::<Result<_>>()
                    .with_context(|| format!("{name}: migration `{}`", m.id))?;
                hops.push(Hop { meta: m, rules });
            }
            for f in file.field {
                let rules = f
                    .rules
                    .iter()
                    .map(compile_rule)
                    .collect::<Result<_>>()
                    .with_context(|| format!("{name}: field `{}`", f.id))?;
                let mentions = f
                    .mentions
                    .iter()
                    .map(|m| super::needle::CompiledNeedle::new(m))
                    .collect();
                let targets: Vec<(String, String)> = f
                    .applies_to
                    .iter()
                    .filter_map(|t| t.rsplit_once('/'))
                    .map(|(a, k)| (a.to_string(), k.to_string()))
                    .collect();
                fields.push(Field {
                    pods: f.applies_to.iter().any(|t| t == "pods"),
                    kind_lengths: targets.iter().fold(0, |m, (_, k)| m | length_bit(k)),
                    targets,
                    meta: f,
                    rules,
                    mentions,
                });
            }
        }
        let newest = newest.context("migrations/catalogue.toml must set `newest`")?;
        let mut by_kind: foldhash::HashMap<String, Vec<(String, usize)>> = Default::default();
        for (i, v) in versions.iter().enumerate() {
            for k in &v.kinds {
                let kinds = by_kind.entry(v.api.clone()).or_default();
                if kinds.iter().any(|(known, _)| known == k) {
                    bail!("migrations: {} {k} is listed twice", v.api);
                }
                kinds.push((k.clone(), i));
            }
        }
        let cat = Catalogue {
            newest,
            versions,
            hops,
            fields,
            global_rules,
            options: Vec::new(),
            packs,
            components: Vec::new(),
            selection: Selection::default(),
            gone: HashMap::new(),
            by_kind,
        };
        let mut cat = cat;
        cat.gone = gone_versions(&cat.versions);
        cat.validate()?;
        Ok(cat)
    }

    fn validate(&self) -> Result<()> {
        let mut ids = HashMap::new();
        for f in &self.fields {
            if ids.insert(f.meta.id.as_str(), ()).is_some() {
                bail!("migrations: id `{}` is used twice", f.meta.id);
            }
            if f.meta.mentions.iter().all(|m| m.is_empty()) {
                bail!(
                    "field `{}`: `mentions` needs at least one word for the prefilter",
                    f.meta.id
                );
            }
            for t in &f.meta.applies_to {
                if t != "pods" && !t.contains('/') {
                    bail!(
                        "field `{}`: applies-to `{t}` must be `pods` or `API/KIND`",
                        f.meta.id
                    );
                }
            }
        }
        for h in &self.hops {
            let m = &h.meta;
            if ids.insert(m.id.as_str(), ()).is_some() {
                bail!("migrations: id `{}` is used twice", m.id);
            }
            for k in &m.kinds {
                for api in [&m.from, &m.to] {
                    if self.version(api, k).is_none() {
                        bail!("migration `{}`: {api} {k} has no [[version]] entry", m.id);
                    }
                }
            }
            if self
                .hops
                .iter()
                .filter(|o| {
                    o.meta.from == m.from && o.meta.kinds.iter().any(|k| m.kinds.contains(k))
                })
                .count()
                > 1
            {
                bail!(
                    "migration `{}`: more than one migration leaves {} for the same kind",
                    m.id,
                    m.from
                );
            }
        }
        Ok(())
    }

    pub fn version(&self, api: &str, kind: &str) -> Option<&ApiVersion> {
        let kinds = self.by_kind.get(api)?;
        let &(_, i) = kinds.iter().find(|(k, _)| k == kind)?;
        Some(&self.versions[i])
    }

    /// The hop that leaves `api` for `kind`, if any.
    pub fn hop_from(&self, api: &str, kind: &str) -> Option<&Hop> {
        self.hops
            .iter()
            .find(|h| h.meta.from == api && h.meta.kinds.iter().any(|k| k == kind))
    }

    /// The hops from (`api`, `kind`) onward, in order. Bounded: the catalogue's chains are
    /// a few hops long, and a rules file that made a loop must not hang a run.
    pub fn chain_from<'a, 'q>(
        &'a self,
        api: &'q str,
        kind: &'q str,
    ) -> impl Iterator<Item = &'a Hop> + use<'a, 'q> {
        let mut seen: Vec<&'a str> = Vec::new();
        std::iter::successors(self.hop_from(api, kind), move |h| {
            self.hop_from(&h.meta.to, kind)
        })
        .take_while(move |h| {
            let fresh = !seen.contains(&h.meta.id.as_str());
            seen.push(&h.meta.id);
            fresh
        })
        .take(16)
    }

    pub fn hop(&self, id: &str) -> Option<&Hop> {
        self.hops.iter().find(|h| h.meta.id == id)
    }

    /// Every apiVersion string that some release stops serving or deprecates: the
    /// prefilter's needles.
    pub fn old_api_strings(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .versions
            .iter()
            .filter(|v| v.removed.is_some() || v.deprecated.is_some())
            .map(|v| v.api.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The group/versions whose listed kinds are all removed, with the last of those removals:
/// from then on the API server serves nothing there (the catalogue lists every kind of a
/// built-in group/version it has entries for, so an unlisted kind was never served there).
fn gone_versions(versions: &[ApiVersion]) -> HashMap<String, Release> {
    let mut gone: HashMap<String, Option<Release>> = HashMap::new();
    for v in versions {
        let e = gone.entry(v.api.clone()).or_insert(v.removed);
        *e = match (*e, v.removed) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    gone.into_iter()
        .filter_map(|(api, r)| Some((api, r?)))
        .collect()
}

/// A catalogue of one field migration whose rules are `rules` (its `[[field.rule]]` tables),
/// for tests of the rule interpreter.
#[cfg(test)]
pub(crate) fn one_field(rules: &str) -> Catalogue {
    let field = format!(
        "[[field]]\nid = \"t\"\napplies-to = [\"pods\"]\nmentions = [\"x\"]\nsummary = \"s\"\ndocs = \"d\"\n{rules}"
    );
    Catalogue::from_files([
        ("catalogue.toml", "newest = \"1.36\"\n"),
        ("t.toml", field.as_str()),
    ])
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pod_kinds_are_the_pod_template_sites() {
        for (kind, _) in POD_TEMPLATE_SITES {
            assert!(keeps_pod(kind), "{kind}");
        }
        for kind in [
            "PodDisruptionBudget",
            "Pods",
            "pod",
            "",
            "Ingress",
            "CronJobs",
        ] {
            assert!(!keeps_pod(kind), "{kind}");
        }
        assert_eq!(
            POD_TEMPLATE_SITES.len(),
            9,
            "a new site must be added to the match too"
        );
    }

    #[test]
    fn embedded_files_read_alike_from_json_and_toml() {
        assert_eq!(embedded::FILES.len(), embedded::FILES_JSON.len());
        for (i, &(name, text)) in embedded::FILES.iter().enumerate() {
            let from_json = parse_embedded(i).unwrap_or_else(|| panic!("{name}: JSON"));
            let from_toml = parse_file(text).unwrap();
            assert_eq!(format!("{from_json:?}"), format!("{from_toml:?}"), "{name}");
        }
    }

    #[test]
    fn embedded_catalogue_loads_and_validates() {
        let cat = Catalogue::embedded().unwrap();
        assert!(!cat.hops.is_empty());
        assert!(cat.old_api_strings().contains(&"autoscaling/v2beta2"));
    }

    /// The embedded files' patterns compile on first use, which must not fail: compiled
    /// here as any other file's are, at load (copies of the texts are not the embedded ones).
    #[test]
    fn embedded_patterns_compile() {
        let copies: Vec<(String, String)> = embedded::FILES
            .iter()
            .map(|&(n, t)| (n.to_string(), t.to_string()))
            .collect();
        Catalogue::from_named(copies.iter().map(|(n, t)| (n.clone(), t.as_str()))).unwrap();
        // And a bad one in a file of the user's is an error as the file loads.
        let extra = "[[global-rule]]\nat = \"\"\nwhen = { matches = { kind = '(' } }\nops = [{ delete = \"status\" }]\n";
        let err = Catalogue::embedded_with(&[("mine.toml".into(), extra.into())]).unwrap_err();
        assert!(
            format!("{err:#}").contains("bad regular expression `(`"),
            "{err:#}"
        );
    }

    #[test]
    fn bad_files_are_refused_with_their_name() {
        let err = Catalogue::from_files([("x.toml", "newest = \"1.30\"\n[[migration]]\nid = 1\n")])
            .unwrap_err();
        assert!(format!("{err:#}").contains("migrations/x.toml"), "{err:#}");
        let err = Catalogue::from_files([("x.toml", "newest = \"2.1\"\n")]).unwrap_err();
        assert!(format!("{err:#}").contains("Kubernetes version"), "{err:#}");
    }
}
