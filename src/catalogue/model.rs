//! The catalogue's data model, as written in `migrations/*.toml` (see migrations/README.md).
use serde::Deserialize;

pub use super::release::{ComponentVersion, Release};

/// One file of `migrations/`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// Only in `catalogue.toml`: the newest Kubernetes release the catalogue knows.
    pub newest: Option<Release>,
    /// Rules applied to every migrated object, after the migration's own rules.
    #[serde(default, rename = "global-rule")]
    pub global_rules: Vec<Rule>,
    #[serde(default)]
    pub version: Vec<ApiVersion>,
    #[serde(default)]
    pub migration: Vec<Migration>,
    #[serde(default)]
    pub field: Vec<FieldMigration>,
    /// A third-party API pack (`migrations/packs/`, or a `--rules` file that declares an
    /// add-on): its `[[version]]` releases are the add-on's own versions.
    pub pack: Option<PackHeader>,
}

/// The `[pack]` table: the add-on whose API versions the file describes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackHeader {
    /// The pack's name (`--pack NAME`), also the component's (`--component NAME=VERSION`).
    pub name: String,
    /// The newest release of the add-on the pack knows: the default component version.
    pub newest: Release,
    pub summary: String,
    /// The add-on's upgrade guide or conversion code: the pack's source of truth.
    pub docs: String,
}

/// A deprecated field, annotation or value inside an API version that is still served
/// (an in-tree volume plugin, a seccomp annotation, …): rules that run on every object of
/// the kinds it names, whatever their apiVersion migration did.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMigration {
    /// Stable identifier, never reused.
    pub id: String,
    /// The objects it looks at: `v1/PersistentVolume`, `storage.k8s.io/v1/StorageClass`, or
    /// `pods` for every kind that holds a pod template (rules then use `@pod` in `at`).
    #[serde(rename = "applies-to")]
    pub applies_to: Vec<String>,
    /// Words a file must contain for these rules to apply (the prefilter's needles), e.g.
    /// `cinder` for `spec.cinder` and `kubernetes.io/cinder`.
    pub mentions: Vec<String>,
    pub deprecated: Option<Release>,
    /// Release from which the old form stops working; the rules run from then on, and from
    /// `deprecated` on with --include-deprecated.
    pub removed: Option<Release>,
    pub summary: String,
    pub docs: String,
    pub example: Option<String>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

impl FieldMigration {
    /// Whether its rules change files at `target`: from its `removed` release on (the old
    /// form stops working there), or from `deprecated` on when deprecated ones are included
    /// (`--include-deprecated`, or this migration named by `--enable`).
    pub fn active_at(&self, target: Release, include_deprecated: bool) -> bool {
        self.removed.is_some_and(|r| r <= target)
            || (include_deprecated && self.deprecated.is_some_and(|d| d <= target))
    }

    /// Whether, at `target`, the old form is deprecated but still works: the migration is a
    /// note (shown with `-v`) unless enabled.
    pub fn deprecated_only_at(&self, target: Release) -> bool {
        self.deprecated.is_some_and(|d| d <= target) && self.removed.is_none_or(|r| target < r)
    }
}

/// When a group/version served a set of kinds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiVersion {
    /// `group/version`, or `v1` for the core group.
    pub api: String,
    pub kinds: Vec<String>,
    pub introduced: Release,
    pub deprecated: Option<Release>,
    pub removed: Option<Release>,
    /// Why it matters, shown by `list` and in findings.
    #[serde(default)]
    pub note: String,
    /// The pack's add-on whose releases `introduced`/`deprecated`/`removed` count, if any.
    #[serde(skip)]
    pub component: Option<String>,
}

impl ApiVersion {
    pub fn served_at(&self, r: Release) -> bool {
        self.introduced <= r && self.removed.is_none_or(|rm| r < rm)
    }

    pub fn deprecated_at(&self, r: Release) -> bool {
        self.deprecated.is_some_and(|d| d <= r)
    }
}

/// One hop of a migration chain: `from` → `to` for some kinds, with its field rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// Stable identifier, never reused.
    pub id: String,
    pub from: String,
    pub to: String,
    pub kinds: Vec<String>,
    pub summary: String,
    pub docs: String,
    /// A manifest that `kubemig explain` migrates to show what the hop does.
    pub example: Option<String>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// `at` selects nodes (relative to the object; `[*]` matches every item); for each one that
/// exists and satisfies `when`, the finding is reported and the ops are applied in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub at: OneOrMany,
    /// Also apply the rule to every node reachable from an `at` node by following these
    /// relative paths again and again (e.g. a schema's `properties.*`, `items`).
    #[serde(default)]
    pub recurse: Vec<String>,
    /// Variables bound for each matched node, in order (a later one may use an earlier one
    /// in its path), usable as `${name}` in `when` and op paths, values and the finding's
    /// message. A binding that finds nothing skips the node.
    #[serde(default, rename = "let")]
    pub bind: toml::Table,
    #[serde(default)]
    pub when: When,
    #[serde(default)]
    pub ops: Vec<Op>,
    pub finding: Option<FindingSpec>,
}

/// One `let` entry: a path (its scalar's text), or a table for more.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Binding {
    Path(String),
    Spec(BindingSpec),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingSpec {
    /// The node to read (default: the matched node); a list means the first that exists.
    #[serde(default)]
    pub path: OneOrMany,
    /// Bind the node's key in its mapping instead of its value.
    #[serde(default)]
    pub key: bool,
    /// A regular expression the text must match, else the binding finds nothing. With
    /// groups, `${name}` is group 1 and `${name.N}` group N.
    #[serde(rename = "match")]
    pub pattern: Option<String>,
    /// Split the text on this separator (as Go's strings.Split) and apply the rule once per
    /// part, in order.
    pub split: Option<String>,
    /// The text used when the node does not exist.
    pub default: Option<String>,
    /// Bind the text in lower case (it is lowered before `match`).
    #[serde(default)]
    pub lower: bool,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    Root,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn paths(&self) -> Vec<&str> {
        match self {
            OneOrMany::Root => vec![""],
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Conditions, all of which must hold. Paths are relative to the `at` node; a path that
/// starts with `$.` is relative to the object. The conditions and the form of their values
/// are declared once, in [`super::conditions::CONDITIONS`]; a name not there is refused here,
/// with its line, as an unknown field.
#[derive(Debug, Clone, Default)]
pub struct When(pub toml::Table);

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        let names: &'static [&'static str] = &super::conditions::NAMES;
        if let Some(unknown) = table.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(serde::de::Error::unknown_field(unknown, names));
        }
        Ok(When(table))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Op {
    /// Rename the key at `rename` to `to`, in place.
    Rename { rename: String, to: String },
    /// Move the entry at `move` to `to`, creating mappings on the way; what is created in the
    /// same parent takes the old key's place unless a position is given.
    Move {
        #[serde(rename = "move")]
        from: String,
        to: String,
        /// Write a quoted all-digit scalar as a plain integer.
        #[serde(default)]
        unquote: bool,
        #[serde(flatten)]
        pos: PositionSpec,
    },
    /// Copy the node at `copy` to `to` (which must not exist yet); with `split`, a string is
    /// copied as the sorted list of its distinct non-empty parts.
    Copy {
        copy: String,
        to: String,
        split: Option<String>,
        #[serde(flatten)]
        pos: PositionSpec,
    },
    /// Set `set` to `value`; `if-absent` keeps an existing value.
    Set {
        set: String,
        value: toml::Value,
        #[serde(default, rename = "if-absent")]
        if_absent: bool,
        #[serde(flatten)]
        pos: PositionSpec,
    },
    /// Append `value` to the sequence at `append`, creating it (and mappings on the way).
    Append { append: String, value: toml::Value },
    /// Delete the entry at `delete` (an empty path deletes the matched node itself).
    Delete { delete: String },
    /// Parse the JSON string at `from-json` and write it at `to` as YAML; `lower-camel`
    /// turns Go field spellings (`ScaleUp`) into JSON ones (`scaleUp`).
    FromJson {
        #[serde(rename = "from-json")]
        from: String,
        to: String,
        #[serde(default, rename = "lower-camel")]
        lower_camel: bool,
    },
    /// Turn the mapping at `to-pairs` into a list of `{NAME: key, VALUE: value}` mappings,
    /// in order (a `map[string]string` that became a list of name/value pairs, as kubeadm's
    /// `extraArgs` in v1beta4). Values are written as strings.
    ToPairs {
        #[serde(rename = "to-pairs")]
        path: String,
        name: String,
        value: String,
    },
}

/// Where a new key goes: `first = true`, `before = "key"` or `after = "key"`; default last.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PositionSpec {
    #[serde(default)]
    pub first: bool,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// A harmless change, shown only when asked.
    Info,
    /// An old default written out so behaviour stays the same.
    Pin,
    /// Migrated, but a human should look.
    Warn,
    /// Not migrated: a human decision is needed.
    Manual,
    /// Not migrated: the input is invalid for its own version.
    Error,
}

impl Level {
    /// Whether this finding stops the object from being rewritten.
    pub fn blocks(self) -> bool {
        self >= Level::Manual
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Pin => "pin",
            Level::Warn => "warning",
            Level::Manual => "manual",
            Level::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingSpec {
    pub level: Level,
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_versions_order_print_and_stay_apart_from_kubernetes() {
        let v = |s| ComponentVersion::parse(s).unwrap().release();
        assert!(v("0.16") < v("1.4") && v("1.4") < v("1.14") && v("1.14") < v("2.0"));
        assert_eq!(v("v1.14.3"), v("1.14"));
        assert_eq!(v("v2.3.0-rc.1"), v("2.3"));
        assert_eq!(v("2"), v("2.0"));
        assert_eq!(v("0.16").to_string(), "0.16");
        assert_eq!(v("1.14").to_string(), "1.14");
        assert!(v("0.1").is_component() && !Release(36).is_component());
        assert!(Release(36) < v("0.1"));
        for bad in ["", "x", "1.x", "1.2.x", "1000.1", "1.2.3.4", "1..2"] {
            assert!(ComponentVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kubernetes_versions_never_read_as_component_versions() {
        // The encoded value of an add-on version is not a Kubernetes version the user can write.
        let encoded = ComponentVersion::parse("3.6").unwrap().release().0;
        assert!(Release::parse(&format!("1.{encoded}")).is_err());
        assert!(Release::parse("1.99999").is_err());
        assert_eq!(Release::parse("1.9999"), Ok(Release(9999)));
    }

    #[test]
    fn catalogue_releases_deserialize_in_either_form() {
        #[derive(Deserialize)]
        struct T {
            r: Release,
        }
        let t: T = toml::from_str(r#"r = "1.29""#).unwrap();
        assert_eq!(t.r, Release(29));
        let t: T = toml::from_str(r#"r = { component = "0.16" }"#).unwrap();
        assert_eq!(t.r, ComponentVersion::parse("0.16").unwrap().release());
        assert!(toml::from_str::<T>(r#"r = "1.16777216""#).is_err());
    }
}

#[cfg(test)]
mod release_tests {
    use super::Release;

    #[test]
    fn versions_parse_with_v_patch_and_vendor_suffix() {
        for (given, minor) in [
            ("1.29", 29),
            ("v1.29", 29),
            ("1.29.3", 29),
            ("v1.29.3-gke.100", 29),
            (" 1.5 ", 5),
            ("1.30+k3s1", 30),
        ] {
            assert_eq!(Release::parse(given), Ok(Release(minor)), "{given}");
        }
        for (given, why) in [
            ("2.0", "every Kubernetes release is 1.x"),
            ("1", "a minor version is needed"),
            ("1.x", "numbers"),
            ("latest", "numbers"),
            ("1.29.3.4", "too many parts"),
            ("", "numbers"),
            ("1..2", "numbers"),
        ] {
            let e = Release::parse(given).unwrap_err();
            assert!(
                e.contains(why) && e.contains(&format!("`{given}`")),
                "{given}: {e}"
            );
        }
    }
}
