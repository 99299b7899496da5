//! Versions: a Kubernetes release (`1.29`), and an add-on's own version in a pack
//! (`cert-manager=1.14`), which the catalogue orders on the same axis.

use std::fmt;

use serde::Deserialize;

/// A Kubernetes minor release, `1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release(pub u32);

impl Release {
    /// `1.29`, `v1.29`, `1.29.3` and `v1.29.3-gke.100` are all 1.29: a cluster's patch
    /// release and vendor suffix do not change which APIs it serves.
    pub fn parse(given: &str) -> Result<Release, String> {
        let s = given.trim();
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        // A vendor or pre-release suffix (`-gke.100`, `+k3s1`, `-rc.1`) ends the version.
        let s = s.split(['-', '+']).next().unwrap_or(s);
        let bad = |why: &str| {
            format!(
                "`{given}` is not a Kubernetes version: {why} (write 1.29; v1.29 and 1.29.3 mean the same)"
            )
        };
        let parts: Vec<&str> = s.split('.').collect();
        let number = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if parts.iter().any(|p| !number(p)) {
            return Err(bad("expected numbers separated by dots"));
        }
        if parts.iter().any(|p| p.len() > 4) {
            return Err(bad("a part has more than 4 digits"));
        }
        match parts[..] {
            ["1", minor] | ["1", minor, _] => Ok(Release(
                minor
                    .parse()
                    .map_err(|_| bad("the minor version is too large"))?,
            )),
            [_] => Err(bad("a minor version is needed")),
            [major, ..] if major != "1" => Err(bad("every Kubernetes release is 1.x")),
            _ => Err(bad("too many parts")),
        }
    }

    pub fn minus(self, n: u32) -> Release {
        Release(self.0.saturating_sub(n))
    }

    /// Releases of an add-on (a pack's component: cert-manager 1.14, Flux 2.3) live above
    /// this value (see [`ComponentVersion::release`]), so they never compare with a
    /// Kubernetes release by accident and still print as written. `Release::parse` never
    /// produces one: a Kubernetes minor has at most 4 digits.
    const COMPONENT: u32 = 1 << 24;

    pub fn is_component(self) -> bool {
        self.0 >= Release::COMPONENT
    }
}

/// A release of an add-on (`1.14`, `v0.16`, `2`), as packs and `--component` write it. Its
/// own type so that add-on versions are never read by the Kubernetes version parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ComponentVersion {
    pub major: u32,
    pub minor: u32,
}

impl ComponentVersion {
    /// `1.14`, `v0.16`, `2`, `1.14.3` (the patch is ignored, as for Kubernetes releases).
    pub fn parse(given: &str) -> Result<ComponentVersion, String> {
        let t = given.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        // A pre-release or build suffix (`-rc.1`, `+build`) ends the version.
        let t = t.split(['-', '+']).next().unwrap_or(t);
        let bad = || format!("`{given}` is not a version like 1.14");
        let number = |p: &str| -> Option<u32> {
            (!p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let mut parts = t.split('.');
        let major = parts.next().and_then(number).ok_or_else(bad)?;
        let minor = match parts.next() {
            None => 0,
            Some(p) => number(p).ok_or_else(bad)?,
        };
        let patch_ok = parts
            .next()
            .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !patch_ok || parts.next().is_some() {
            return Err(bad());
        }
        Ok(ComponentVersion { major, minor })
    }

    /// Its place on the add-on's release axis, comparable with the other releases of the
    /// same add-on only.
    pub fn release(self) -> Release {
        Release(Release::COMPONENT + self.major * 1000 + self.minor)
    }
}

impl fmt::Display for ComponentVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_component() {
            let n = self.0 - Release::COMPONENT;
            let v = ComponentVersion {
                major: n / 1000,
                minor: n % 1000,
            };
            return v.fmt(f);
        }
        write!(f, "1.{}", self.0)
    }
}

/// A release as a catalogue file writes it: a Kubernetes version (`"1.29"`), or, in a pack,
/// an add-on version, which `registry::parse_file` rewrites to `{ component = "1.14" }`
/// before deserializing (a form only packs may hold: the loader refuses it elsewhere).
impl<'de> Deserialize<'de> for Release {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Kubernetes(String),
            Component { component: String },
        }
        match Written::deserialize(d)? {
            Written::Kubernetes(s) => Release::parse(&s).map_err(serde::de::Error::custom),
            Written::Component { component } => ComponentVersion::parse(&component)
                .map(ComponentVersion::release)
                .map_err(serde::de::Error::custom),
        }
    }
}
