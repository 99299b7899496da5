//! Which apiVersion an object should end up on, given the releases it must run on.
//!
//! Follow the chain of hops from the object's version; among the versions on it, pick the
//! newest served on every release in [min, target]; if none is, the newest served at the
//! target, with a warning naming the releases that will reject it.

use super::registry::{Catalogue, Hop};
use super::release::Release;

#[derive(Debug)]
pub enum Decision<'c> {
    /// Served at the target (or unknown to the catalogue): nothing to do.
    Current,
    /// Served but deprecated at the target; migrated only with --include-deprecated.
    Deprecated {
        removed: Option<Release>,
        to: Option<String>,
    },
    Migrate {
        hops: Vec<&'c Hop>,
        to: String,
        window_warning: Option<String>,
    },
    /// Not served at the target and no version on the chain is.
    NoReplacement {
        note: String,
        removed: Option<Release>,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub target: Release,
    /// The oldest release to keep working on; `None` means [`default_min`].
    pub min: Option<Release>,
    pub include_deprecated: bool,
}

/// The oldest release kept working when none is given: the target minus 3 (a cluster may
/// lag its clients by that many minor releases).
pub fn default_min(target: Release) -> Release {
    target.minus(3)
}

impl Window {
    /// The oldest release to keep working on: `min`, or [`default_min`].
    pub fn oldest(&self) -> Release {
        self.min.unwrap_or(default_min(self.target))
    }
}

pub fn decide<'c>(cat: &'c Catalogue, api: &str, kind: &str, w: Window) -> Decision<'c> {
    let Some(own) = cat.version(api, kind) else {
        return Decision::Current;
    };
    // A pack's API follows its add-on's version (`--component`), not Kubernetes': the
    // manifests must work with that one release of the add-on.
    let w = match own
        .component
        .as_deref()
        .and_then(|c| cat.component_target(c))
    {
        Some(target) => Window {
            target,
            min: Some(target),
            include_deprecated: w.include_deprecated,
        },
        None => w,
    };
    let served = own.served_at(w.target);
    if served && !own.deprecated_at(w.target) || own.introduced > w.target {
        return Decision::Current;
    }
    let chain: Vec<&Hop> = cat.chain_from(api, kind).collect();
    let min = w.oldest().max(own.introduced).min(w.target);
    let served_all = |api: &str| {
        cat.version(api, kind)
            .is_some_and(|v| v.introduced <= min && v.served_at(w.target))
    };
    let served_target = |api: &str| {
        cat.version(api, kind)
            .is_some_and(|v| v.served_at(w.target))
    };
    let pick = chain
        .iter()
        .rposition(|h| served_all(&h.meta.to))
        .map(|i| (i, None))
        .or_else(|| {
            chain
                .iter()
                .rposition(|h| served_target(&h.meta.to))
                .map(|i| {
                    let to = &chain[i].meta.to;
                    let intro = cat
                        .version(to, kind)
                        .map(|v| v.introduced)
                        .unwrap_or(w.target);
                    let last = intro.minus(1);
                    let which = if last == min {
                        format!("release {min} rejects it")
                    } else {
                        format!("releases {min} to {last} reject it")
                    };
                    (
                        i,
                        Some(format!(
                            "{to} is served only from {intro}; {which} (see --min-version)"
                        )),
                    )
                })
        });
    if served {
        // A still-served object only moves to a version the whole window serves: moving it
        // to one that breaks the window would trade a working manifest for a broken one.
        // `--enable ID` names a migration of the chain: as --include-deprecated, for it.
        let included = w.include_deprecated || chain.iter().any(|h| cat.enables(&h.meta.id));
        match pick {
            Some((i, None)) if included => {
                return Decision::Migrate {
                    to: chain[i].meta.to.clone(),
                    hops: chain[..=i].to_vec(),
                    window_warning: None,
                };
            }
            _ => {
                return Decision::Deprecated {
                    removed: own.removed,
                    to: pick.map(|(i, _)| chain[i].meta.to.clone()),
                };
            }
        }
    }
    match pick {
        Some((i, window_warning)) => Decision::Migrate {
            to: chain[i].meta.to.clone(),
            hops: chain[..=i].to_vec(),
            window_warning,
        },
        None => Decision::NoReplacement {
            note: own.note.clone(),
            removed: own.removed,
        },
    }
}

/// When the version an object moves to is itself deprecated at the target and a later
/// release removes it (the `--min-version` window kept it on an older version): that
/// release, so the next upgrade can be planned.
pub fn chosen_removal(cat: &Catalogue, to: &str, kind: &str, target: Release) -> Option<Release> {
    cat.version(to, kind)
        .filter(|v| v.deprecated_at(target))
        .and_then(|v| v.removed)
        .filter(|&r| r > target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(api: &str, kind: &str, target: u32) -> Option<String> {
        let cat = Catalogue::embedded().unwrap();
        let w = Window {
            target: Release(target),
            min: None,
            include_deprecated: false,
        };
        match decide(&cat, api, kind, w) {
            Decision::Migrate { to, .. } => Some(to),
            _ => None,
        }
    }

    #[test]
    fn flowcontrol_follows_the_window() {
        let fc = "flowcontrol.apiserver.k8s.io";
        assert_eq!(
            to(&format!("{fc}/v1beta1"), "PriorityLevelConfiguration", 26).unwrap(),
            format!("{fc}/v1beta2")
        );
        assert_eq!(
            to(&format!("{fc}/v1beta1"), "FlowSchema", 27).unwrap(),
            format!("{fc}/v1beta2")
        );
        assert_eq!(
            to(&format!("{fc}/v1beta1"), "FlowSchema", 29).unwrap(),
            format!("{fc}/v1beta3")
        );
        assert_eq!(
            to(&format!("{fc}/v1beta1"), "FlowSchema", 32).unwrap(),
            format!("{fc}/v1")
        );
        assert_eq!(to(&format!("{fc}/v1beta1"), "FlowSchema", 25), None);
    }

    #[test]
    fn hpa_goes_to_v2() {
        assert_eq!(
            to("autoscaling/v2beta2", "HorizontalPodAutoscaler", 26).unwrap(),
            "autoscaling/v2"
        );
        assert_eq!(
            to("autoscaling/v2beta1", "HorizontalPodAutoscaler", 25).unwrap(),
            "autoscaling/v2beta2"
        );
        assert_eq!(
            to("autoscaling/v2beta1", "HorizontalPodAutoscaler", 26).unwrap(),
            "autoscaling/v2"
        );
        assert_eq!(to("autoscaling/v2", "HorizontalPodAutoscaler", 36), None);
    }

    #[test]
    fn a_chosen_version_that_is_deprecated_names_its_removal() {
        let cat = Catalogue::embedded().unwrap();
        let hpa = "HorizontalPodAutoscaler";
        assert_eq!(
            chosen_removal(&cat, "autoscaling/v2beta2", hpa, Release(25)),
            Some(Release(26))
        );
        assert_eq!(
            chosen_removal(&cat, "autoscaling/v2", hpa, Release(25)),
            None
        );
        let fc = "flowcontrol.apiserver.k8s.io/v1beta3";
        assert_eq!(
            chosen_removal(&cat, fc, "FlowSchema", Release(29)),
            Some(Release(32))
        );
    }

    #[test]
    fn narrow_window_warns() {
        let cat = Catalogue::embedded().unwrap();
        let w = Window {
            target: Release(26),
            min: Some(Release(20)),
            include_deprecated: false,
        };
        match decide(
            &cat,
            "flowcontrol.apiserver.k8s.io/v1beta1",
            "FlowSchema",
            w,
        ) {
            Decision::Migrate {
                to,
                window_warning: Some(msg),
                ..
            } => {
                assert!(to.ends_with("v1beta3"), "{to}");
                assert!(msg.contains("releases 1.20 to 1.25 reject it"), "{msg}");
            }
            d => panic!("{d:?}"),
        }
    }
}
