//! Property tests: Kubernetes objects of the migrated kinds, written with random formatting,
//! through the whole pipeline (`kubemig::engine::process`, what every command runs).
//!
//! Generated: HorizontalPodAutoscaler autoscaling/v2beta1 and v2beta2, flowcontrol
//! v1beta1/v1beta2/v1beta3 PriorityLevelConfiguration and FlowSchema, Ingress
//! extensions/v1beta1 and networking.k8s.io/v1beta1, Deployment extensions/v1beta1,
//! PodDisruptionBudget policy/v1beta1, CronJob batch/v1beta1, and unrelated objects
//! (ConfigMap, a current apps/v1 Deployment) that must not change. The formatting is chosen
//! node by node from a byte string that proptest shrinks towards zero, i.e. towards plain
//! block style: comments in every position (own line above entries and items at several
//! indentations, after values, after `key:`, after block scalar headers, after `- `, after
//! `---` and `...`, at the end of mappings and documents, in multi-line flow collections),
//! block and flow style, plain/single/double quoting (with `\u`, `\x` and `\/` escapes and
//! `!!str` tags), literal and folded block scalars, CRLF or LF, a BOM, anchors and aliases,
//! multi-byte text, one to four documents with `---`/`...`, indentation steps from 1 to 8,
//! indented and indentless sequences, `-   key` item offsets, items that start on the line
//! after their dash, shuffled key order, JSON documents (pretty and compact) and no final
//! newline.
//!
//! Each case checks:
//! - (a) the output parses, both for kubemig and for `yaml_serde` (libyaml);
//! - (b) its meaning equals an independent model of the migration applied to the input's
//!   meaning: input and output are read with `yaml_serde` (not kubemig's parser), and the
//!   model below re-implements each migration's rules from `migrations/*.toml` by hand on
//!   `yaml_serde::Value`s. It also predicts which objects must be refused (rules with level
//!   `manual`/`error`); such objects and everything that is not migrated must stay as they
//!   were;
//! - (c) every byte outside the planned edits is unchanged: the generator records which
//!   lines a migration may touch (the entries it renames, moves or deletes, the comments
//!   attached to them, and flow collections that gain or lose entries); in a line diff of
//!   input and output every other line must survive (re-indented or pulled onto a `- ` line
//!   at most), every comment outside a deleted entry survives exactly once, line endings
//!   stay CRLF or LF, the BOM stays;
//! - (d) a second run changes nothing and reports no error;
//! - (e) the prefilter hides nothing: without it the rewrite is the same.
//!
//! kubemig may refuse an object the model migrates only for a documented layout reason
//! (`KUBEMIG-SHAPE`, `KUBEMIG-LAYOUT`) and only in documents that use anchors or aliases;
//! such objects must then be left byte-identical. An object whose `apiVersion` is an alias
//! (`apiVersion: *a1`) must be refused with `KUBEMIG-ALIAS`, never skipped silently.
//! Refusals are counted and printed.
//!
//! `PROPTEST_CASES` sets the number of cases per property (default below).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use kubemig::catalogue::{Catalogue, Window};
use kubemig::engine::{Context, process};
use kubemig::plan::Status;
use kubemig::prefilter::Prefilter;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use yaml_serde::{Mapping, Value as V};

/// Cases per property when PROPTEST_CASES is not set.
const DEFAULT_CASES: u32 = 192;

// =======================================================================================
// The generated objects

/// A YAML value as generated: the renderer decides how it is written.
#[derive(Clone, Debug, PartialEq)]
enum Y {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

/// What a migration may do to an entry: rewrite or move it (its comments must survive), or
/// delete it (its comments may go with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Keep,
    Drop,
    /// Copied elsewhere by a migration (a Deployment's template labels): its comments may
    /// be copied along.
    Copied,
}

/// One generated object with what the migration may touch in it. Paths are keys joined by
/// `.`, with `[]` for any item of a sequence.
#[derive(Clone, Debug)]
struct Obj {
    y: Y,
    touch: Vec<(String, Class)>,
    /// Collections that gain or lose entries (all their lines may change in flow style).
    mutates: Vec<String>,
    /// Entries a migration copies (their lines stay, their comments may be copied).
    copies: Vec<String>,
}

impl Obj {
    fn new(y: Y) -> Obj {
        Obj {
            y,
            touch: vec![
                ("apiVersion".into(), Class::Keep),
                ("status".into(), Class::Drop),
            ],
            mutates: vec![String::new()],
            copies: Vec::new(),
        }
    }

    fn copies(mut self, path: &str) -> Obj {
        self.copies.push(path.into());
        self
    }

    fn touch(mut self, path: &str, class: Class) -> Obj {
        self.touch.push((path.into(), class));
        self
    }

    fn mutates(mut self, path: &str) -> Obj {
        self.mutates.push(path.into());
        self
    }
}

fn s(x: &str) -> Y {
    Y::Str(x.into())
}

fn m(entries: Vec<(&str, Y)>) -> Y {
    Y::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A mapping from optional entries.
fn mo(entries: Vec<(&str, Option<Y>)>) -> Y {
    Y::Map(
        entries
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

const NAMES: &[&str] = &[
    "web",
    "api",
    "shop",
    "batch",
    "worker",
    "cache",
    "payments",
    "search",
    "grüße-app",
    "naïve",
    "日本",
];
const NAMESPACES: &[&str] = &["default", "shop", "kube-system", "team-ä"];
const LABEL_KEYS: &[&str] = &["app", "tier", "app.kubernetes.io/name", "team", "track"];
const LABEL_VALUES: &[&str] = &["web", "api", "frontend", "v1.2", "grüße", "日本", "canary"];
/// Values that stress quoting: YAML indicators, words other YAML readers take for booleans
/// or numbers, quotes, backslashes, tabs, leading and trailing spaces, multi-byte text.
const TEXTS: &[&str] = &[
    "plain words",
    "Grüße aus Köln",
    "日本語のテキスト",
    "rocket 🚀 launch",
    "it's \"quoted\"",
    "a: b # not a comment",
    "tab\there",
    "  leading space",
    "trailing space ",
    "C:\\path\\x",
    "-starts-with-dash",
    "* star",
    "& amp",
    "! bang",
    "% pct",
    "@at",
    "`tick",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "null",
    "~",
    "true",
    "123",
    "0x1F",
    "1e3",
    ".inf",
    "",
    " ",
    "[not, a, list]",
    "{not: a map}",
    "autoscaling/v2beta1",
    "extensions/v1beta1",
    "#hash",
    "ends with colon:",
    "--- not a marker",
    "... nor this",
];
/// Multi-line text: literal or folded block scalars, or double-quoted with `\n`.
const MULTILINE: &[&str] = &[
    "line one\nline two\n",
    "#!/bin/sh\necho ${HOME} # not a comment\nexit 0\n",
    "Grüße\n日本語\n🚀\n",
    "no trailing newline\nsecond",
    "first\n\nafter a blank line\n",
    "key: value\n- item\n",
];
const QUANTITIES: &[&str] = &["100", "512Mi", "2k", "0.5", "1500m", "30"];
const METRIC_NAMES: &[&str] = &["requests_per_second", "queue_depth", "hits", "latency-p99"];

fn pick_str(pool: &'static [&'static str]) -> BoxedStrategy<String> {
    select(pool).prop_map(String::from).boxed()
}

fn labels() -> BoxedStrategy<Y> {
    vec((select(LABEL_KEYS), select(LABEL_VALUES)), 1..4)
        .prop_map(|kv| {
            let mut seen = Vec::new();
            let mut out = Vec::new();
            for (k, v) in kv {
                if !seen.contains(&k) {
                    seen.push(k);
                    out.push((k.to_string(), s(v)));
                }
            }
            Y::Map(out)
        })
        .boxed()
}

fn text() -> BoxedStrategy<Y> {
    prop_oneof![
        4 => pick_str(TEXTS).prop_map(Y::Str),
        1 => pick_str(MULTILINE).prop_map(Y::Str),
    ]
    .boxed()
}

/// Annotations from `pool` (key, deleted by the migration), deduplicated.
fn annotations(pool: &'static [(&'static str, bool)]) -> BoxedStrategy<Vec<(String, Y, bool)>> {
    vec((select(pool), text()), 0..4)
        .prop_map(|items| {
            let mut out: Vec<(String, Y, bool)> = Vec::new();
            for ((k, deleted), v) in items {
                if !out.iter().any(|(o, _, _)| o == k) {
                    let v = if deleted {
                        s("[{\"type\":\"AbleToScale\"}]")
                    } else {
                        v
                    };
                    out.push((k.to_string(), v, deleted));
                }
            }
            out
        })
        .boxed()
}

/// `metadata`, and the touch entries for annotations that the migration deletes.
fn metadata(
    name: String,
    namespace: Option<String>,
    labels: Option<Y>,
    ann: &[(String, Y, bool)],
    obj_touch: &mut Vec<(String, Class)>,
) -> Y {
    let mut e = vec![("name".to_string(), Y::Str(name))];
    if let Some(ns) = namespace {
        e.push(("namespace".into(), Y::Str(ns)));
    }
    if let Some(l) = labels {
        e.push(("labels".into(), l));
    }
    if !ann.is_empty() {
        for (k, _, deleted) in ann {
            if *deleted {
                obj_touch.push((format!("metadata.annotations.{k}"), Class::Drop));
            }
        }
        if ann.iter().all(|(_, _, d)| *d) {
            obj_touch.push(("metadata.annotations".into(), Class::Drop));
        }
        e.push((
            "annotations".into(),
            Y::Map(ann.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect()),
        ));
    }
    Y::Map(e)
}

fn with_touch(mut obj: Obj, extra: Vec<(String, Class)>) -> Obj {
    obj.touch.extend(extra);
    obj
}

fn status() -> BoxedStrategy<Option<Y>> {
    option::weighted(
        0.3,
        (0..10i64, text()).prop_map(|(n, t)| {
            m(vec![
                ("currentReplicas", Y::Int(n)),
                (
                    "conditions",
                    Y::Seq(vec![m(vec![("type", s("Ready")), ("message", t)])]),
                ),
            ])
        }),
    )
    .boxed()
}

fn container() -> BoxedStrategy<Y> {
    (
        pick_str(NAMES),
        select(
            &[
                "nginx:1.25",
                "example/app:1.0",
                "registry.example.com/team/api@sha256:abc",
            ][..],
        ),
        option::of(1..65535i64),
        option::of(pick_str(MULTILINE)),
        option::of(text()),
    )
        .prop_map(|(name, image, port, script, env)| {
            mo(vec![
                ("name", Some(Y::Str(name))),
                ("image", Some(s(image))),
                (
                    "ports",
                    port.map(|p| Y::Seq(vec![m(vec![("containerPort", Y::Int(p))])])),
                ),
                (
                    "command",
                    script.map(|sc| Y::Seq(vec![s("sh"), s("-c"), Y::Str(sc)])),
                ),
                (
                    "env",
                    env.map(|v| Y::Seq(vec![m(vec![("name", s("GREETING")), ("value", v)])])),
                ),
            ])
        })
        .boxed()
}

fn pod_spec() -> BoxedStrategy<Y> {
    (vec(container(), 1..3), any::<bool>())
        .prop_map(|(c, restart)| {
            mo(vec![
                ("restartPolicy", restart.then(|| s("OnFailure"))),
                ("containers", Some(Y::Seq(c))),
            ])
        })
        .boxed()
}

// ---- HorizontalPodAutoscaler

const HPA_ANNOTATIONS: &[(&str, bool)] = &[
    ("description", false),
    ("kubernetes.io/change-cause", false),
    ("autoscaling.alpha.kubernetes.io/conditions", true),
    ("autoscaling.alpha.kubernetes.io/metrics", true),
    ("autoscaling.alpha.kubernetes.io/current-metrics", true),
];

const HPA_V2BETA2_ANNOTATIONS: &[(&str, bool)] = &[
    ("description", false),
    ("autoscaling.alpha.kubernetes.io/conditions", true),
    ("autoscaling.alpha.kubernetes.io/metrics", true),
    ("autoscaling.alpha.kubernetes.io/behavior", true),
];

fn quantity() -> BoxedStrategy<Y> {
    prop_oneof![
        pick_str(QUANTITIES).prop_map(Y::Str),
        (1..1000i64).prop_map(Y::Int)
    ]
    .boxed()
}

fn selector() -> BoxedStrategy<Y> {
    labels().prop_map(|l| m(vec![("matchLabels", l)])).boxed()
}

/// One v2beta1 metric; about one in twelve is one v2beta1 validation rejects.
fn metric_v2beta1() -> BoxedStrategy<Y> {
    let resource = (
        any::<bool>(),
        select(&["cpu", "memory"][..]),
        1..100i64,
        quantity(),
        any::<bool>(),
    )
        .prop_map(|(container, name, util, qty, use_util)| {
            let (ty, src) = if container {
                ("ContainerResource", "containerResource")
            } else {
                ("Resource", "resource")
            };
            let mut e = vec![("name", s(name))];
            if container {
                e.push(("container", s("app")));
            }
            if use_util {
                e.push(("targetAverageUtilization", Y::Int(util)));
            } else {
                e.push(("targetAverageValue", qty));
            }
            m(vec![("type", s(ty)), (src, m(e))])
        });
    let pods = (pick_str(METRIC_NAMES), option::of(selector()), quantity()).prop_map(
        |(name, sel, target)| {
            m(vec![
                ("type", s("Pods")),
                (
                    "pods",
                    mo(vec![
                        ("metricName", Some(Y::Str(name))),
                        ("selector", sel),
                        ("targetAverageValue", Some(target)),
                    ]),
                ),
            ])
        },
    );
    let object = (
        pick_str(METRIC_NAMES),
        pick_str(NAMES),
        option::of(selector()),
        quantity(),
        option::of(quantity()),
    )
        .prop_map(|(metric, name, sel, value, average)| {
            m(vec![
                ("type", s("Object")),
                (
                    "object",
                    mo(vec![
                        (
                            "target",
                            Some(m(vec![
                                ("apiVersion", s("networking.k8s.io/v1")),
                                ("kind", s("Ingress")),
                                ("name", Y::Str(name)),
                            ])),
                        ),
                        ("metricName", Some(Y::Str(metric))),
                        ("selector", sel),
                        ("targetValue", Some(value)),
                        ("averageValue", average),
                    ]),
                ),
            ])
        });
    let external = (
        pick_str(METRIC_NAMES),
        option::of(selector()),
        quantity(),
        any::<bool>(),
    )
        .prop_map(|(name, sel, target, average)| {
            m(vec![
                ("type", s("External")),
                (
                    "external",
                    mo(vec![
                        ("metricName", Some(Y::Str(name))),
                        ("metricSelector", sel),
                        (
                            if average {
                                "targetAverageValue"
                            } else {
                                "targetValue"
                            },
                            Some(target),
                        ),
                    ]),
                ),
            ])
        });
    let invalid = prop_oneof![
        Just(m(vec![
            ("type", s("Pods")),
            ("pods", m(vec![("metricName", s("rps"))])),
        ])),
        Just(m(vec![
            ("type", s("Resource")),
            (
                "resource",
                m(vec![
                    ("name", s("cpu")),
                    ("targetAverageUtilization", Y::Int(50)),
                    ("targetAverageValue", s("1")),
                ]),
            ),
        ])),
        Just(m(vec![
            ("type", s("External")),
            (
                "external",
                m(vec![
                    ("metricName", s("q")),
                    ("targetValue", Y::Int(1)),
                    ("targetAverageValue", Y::Int(2)),
                ]),
            ),
        ])),
    ];
    prop_oneof![4 => resource, 3 => pods, 2 => object, 2 => external, 1 => invalid].boxed()
}

fn scale_target() -> BoxedStrategy<Y> {
    pick_str(NAMES)
        .prop_map(|n| {
            m(vec![
                ("apiVersion", s("apps/v1")),
                ("kind", s("Deployment")),
                ("name", Y::Str(n)),
            ])
        })
        .boxed()
}

fn hpa_v2beta1() -> BoxedStrategy<Obj> {
    (
        pick_str(NAMES),
        option::of(pick_str(NAMESPACES)),
        annotations(HPA_ANNOTATIONS),
        scale_target(),
        option::of(1..5i64),
        5..50i64,
        vec(metric_v2beta1(), 0..4),
        status(),
    )
        .prop_map(|(name, ns, ann, target, min, max, metrics, st)| {
            let mut touch = Vec::new();
            let meta = metadata(name, ns, None, &ann, &mut touch);
            let y = mo(vec![
                ("apiVersion", Some(s("autoscaling/v2beta1"))),
                ("kind", Some(s("HorizontalPodAutoscaler"))),
                ("metadata", Some(meta)),
                (
                    "spec",
                    Some(mo(vec![
                        ("scaleTargetRef", Some(target)),
                        ("minReplicas", min.map(Y::Int)),
                        ("maxReplicas", Some(Y::Int(max))),
                        ("metrics", (!metrics.is_empty()).then_some(Y::Seq(metrics))),
                    ])),
                ),
                ("status", st),
            ]);
            let mut obj = with_touch(Obj::new(y), touch).mutates("metadata.annotations");
            for src in ["resource", "containerResource"] {
                for key in ["targetAverageUtilization", "targetAverageValue"] {
                    obj = obj.touch(&format!("spec.metrics[].{src}.{key}"), Class::Keep);
                }
            }
            for (src, keys) in [
                (
                    "pods",
                    &["metricName", "selector", "targetAverageValue"][..],
                ),
                (
                    "object",
                    &["target", "metricName", "selector", "averageValue"][..],
                ),
                (
                    "external",
                    &[
                        "metricName",
                        "metricSelector",
                        "targetValue",
                        "targetAverageValue",
                    ][..],
                ),
            ] {
                for key in keys {
                    obj = obj.touch(&format!("spec.metrics[].{src}.{key}"), Class::Keep);
                }
            }
            obj = obj.touch("spec.metrics[].object.targetValue", Class::Drop);
            for src in [
                "resource",
                "containerResource",
                "pods",
                "object",
                "external",
            ] {
                obj = obj.mutates(&format!("spec.metrics[].{src}"));
            }
            obj
        })
        .boxed()
}

fn metric_v2() -> BoxedStrategy<Y> {
    prop_oneof![
        (select(&["cpu", "memory"][..]), 1..100i64).prop_map(|(n, u)| m(vec![
            ("type", s("Resource")),
            (
                "resource",
                m(vec![
                    ("name", s(n)),
                    (
                        "target",
                        m(vec![
                            ("type", s("Utilization")),
                            ("averageUtilization", Y::Int(u))
                        ])
                    ),
                ])
            ),
        ])),
        (pick_str(METRIC_NAMES), quantity()).prop_map(|(n, q)| m(vec![
            ("type", s("Pods")),
            (
                "pods",
                m(vec![
                    ("metric", m(vec![("name", Y::Str(n))])),
                    (
                        "target",
                        m(vec![("type", s("AverageValue")), ("averageValue", q)])
                    ),
                ])
            ),
        ])),
    ]
    .boxed()
}

fn behavior() -> BoxedStrategy<Y> {
    (1..600i64, 1..100i64)
        .prop_map(|(w, v)| {
            m(vec![(
                "scaleDown",
                m(vec![
                    ("stabilizationWindowSeconds", Y::Int(w)),
                    (
                        "policies",
                        Y::Seq(vec![m(vec![
                            ("type", s("Percent")),
                            ("value", Y::Int(v)),
                            ("periodSeconds", Y::Int(60)),
                        ])]),
                    ),
                ]),
            )])
        })
        .boxed()
}

fn hpa_v2beta2() -> BoxedStrategy<Obj> {
    (
        pick_str(NAMES),
        option::of(pick_str(NAMESPACES)),
        annotations(HPA_V2BETA2_ANNOTATIONS),
        scale_target(),
        5..50i64,
        vec(metric_v2(), 0..3),
        option::of(behavior()),
        status(),
    )
        .prop_map(|(name, ns, ann, target, max, metrics, beh, st)| {
            let mut touch = Vec::new();
            let meta = metadata(name, ns, None, &ann, &mut touch);
            let y = mo(vec![
                ("apiVersion", Some(s("autoscaling/v2beta2"))),
                ("kind", Some(s("HorizontalPodAutoscaler"))),
                ("metadata", Some(meta)),
                (
                    "spec",
                    Some(mo(vec![
                        ("scaleTargetRef", Some(target)),
                        ("maxReplicas", Some(Y::Int(max))),
                        ("metrics", (!metrics.is_empty()).then_some(Y::Seq(metrics))),
                        ("behavior", beh),
                    ])),
                ),
                ("status", st),
            ]);
            with_touch(Obj::new(y), touch).mutates("metadata.annotations")
        })
        .boxed()
}

// ---- API Priority and Fairness

const PLC_ANNOTATIONS: &[(&str, bool)] = &[
    ("description", false),
    (
        "flowcontrol.k8s.io/v1beta3-preserve-zero-concurrency-shares",
        true,
    ),
];

fn priority_level() -> BoxedStrategy<Obj> {
    (
        select(&["v1beta1", "v1beta2", "v1beta3"][..]),
        pick_str(NAMES),
        annotations(PLC_ANNOTATIONS),
        prop_oneof![Just(0i64), 1..100i64],
        option::of(0..100i64),
        any::<bool>(),
        any::<bool>(),
        status(),
    )
        .prop_map(
            |(version, name, ann, shares, lendable, queue, exempt, st)| {
                let mut touch = Vec::new();
                let meta = metadata(name, None, None, &ann, &mut touch);
                let shares_key = if version == "v1beta3" {
                    "nominalConcurrencyShares"
                } else {
                    "assuredConcurrencyShares"
                };
                let response = if queue {
                    m(vec![
                        ("type", s("Queue")),
                        (
                            "queuing",
                            m(vec![
                                ("queues", Y::Int(64)),
                                ("handSize", Y::Int(6)),
                                ("queueLengthLimit", Y::Int(50)),
                            ]),
                        ),
                    ])
                } else {
                    m(vec![("type", s("Reject"))])
                };
                let spec = if exempt {
                    m(vec![("type", s("Exempt"))])
                } else {
                    mo(vec![
                        ("type", Some(s("Limited"))),
                        (
                            "limited",
                            Some(mo(vec![
                                (shares_key, Some(Y::Int(shares))),
                                (
                                    "lendablePercent",
                                    lendable.filter(|_| version == "v1beta3").map(Y::Int),
                                ),
                                ("limitResponse", Some(response)),
                            ])),
                        ),
                    ])
                };
                let y = mo(vec![
                    (
                        "apiVersion",
                        Some(Y::Str(format!("flowcontrol.apiserver.k8s.io/{version}"))),
                    ),
                    ("kind", Some(s("PriorityLevelConfiguration"))),
                    ("metadata", Some(meta)),
                    ("spec", Some(spec)),
                    ("status", st),
                ]);
                with_touch(Obj::new(y), touch)
                    .mutates("metadata.annotations")
                    .touch("spec.limited.assuredConcurrencyShares", Class::Keep)
                    .touch("spec.limited.nominalConcurrencyShares", Class::Keep)
            },
        )
        .boxed()
}

fn flow_schema() -> BoxedStrategy<Obj> {
    (
        select(&["v1beta1", "v1beta2", "v1beta3"][..]),
        pick_str(NAMES),
        1..10000i64,
        any::<bool>(),
        any::<bool>(),
        status(),
    )
        .prop_map(|(version, name, precedence, by_user, group, st)| {
            let subject = if group {
                m(vec![
                    ("kind", s("Group")),
                    ("group", m(vec![("name", s("system:authenticated"))])),
                ])
            } else {
                m(vec![
                    ("kind", s("ServiceAccount")),
                    (
                        "serviceAccount",
                        m(vec![("name", s("batch-runner")), ("namespace", s("batch"))]),
                    ),
                ])
            };
            let star = || Y::Seq(vec![s("*")]);
            let y = mo(vec![
                (
                    "apiVersion",
                    Some(Y::Str(format!("flowcontrol.apiserver.k8s.io/{version}"))),
                ),
                ("kind", Some(s("FlowSchema"))),
                ("metadata", Some(m(vec![("name", Y::Str(name.clone()))]))),
                (
                    "spec",
                    Some(mo(vec![
                        (
                            "priorityLevelConfiguration",
                            Some(m(vec![("name", Y::Str(name))])),
                        ),
                        ("matchingPrecedence", Some(Y::Int(precedence))),
                        (
                            "distinguisherMethod",
                            by_user.then(|| m(vec![("type", s("ByUser"))])),
                        ),
                        (
                            "rules",
                            Some(Y::Seq(vec![m(vec![
                                ("subjects", Y::Seq(vec![subject])),
                                (
                                    "resourceRules",
                                    Y::Seq(vec![m(vec![
                                        ("verbs", star()),
                                        ("apiGroups", star()),
                                        ("resources", star()),
                                        ("namespaces", star()),
                                    ])]),
                                ),
                            ])])),
                        ),
                    ])),
                ),
                ("status", st),
            ]);
            Obj::new(y)
        })
        .boxed()
}

// ---- Ingress

fn service_port() -> BoxedStrategy<Y> {
    prop_oneof![
        4 => (1..65535i64).prop_map(Y::Int),
        2 => select(&["http", "https", "grpc-web"][..]).prop_map(s),
        1 => (1..65535i64).prop_map(|p| Y::Str(p.to_string())),
    ]
    .boxed()
}

/// An old-style backend; about one in twenty has no servicePort, which needs a human.
fn old_backend() -> BoxedStrategy<Y> {
    (pick_str(NAMES), option::weighted(0.95, service_port()))
        .prop_map(|(name, port)| {
            mo(vec![
                ("serviceName", Some(Y::Str(name))),
                ("servicePort", port),
            ])
        })
        .boxed()
}

fn ingress() -> BoxedStrategy<Obj> {
    let path = (
        option::of(select(&["/", "/api", "/static/ü"][..])),
        option::weighted(
            0.3,
            select(&["Prefix", "Exact", "ImplementationSpecific"][..]),
        ),
        old_backend(),
    )
        .prop_map(|(p, pt, b)| {
            mo(vec![
                ("path", p.map(s)),
                ("pathType", pt.map(s)),
                ("backend", Some(b)),
            ])
        });
    let rule = (
        option::of(select(&["shop.example.com", "xn--grsse-lva.example"][..])),
        vec(path, 1..3),
    )
        .prop_map(|(host, paths)| {
            mo(vec![
                ("host", host.map(s)),
                ("http", Some(m(vec![("paths", Y::Seq(paths))]))),
            ])
        });
    (
        select(&["extensions/v1beta1", "networking.k8s.io/v1beta1"][..]),
        pick_str(NAMES),
        option::of(pick_str(NAMESPACES)),
        any::<bool>(),
        option::of(old_backend()),
        any::<bool>(),
        vec(rule, 0..3),
        status(),
    )
        .prop_map(|(api, name, ns, class, backend, tls, rules, st)| {
            let ann = if class {
                vec![("kubernetes.io/ingress.class".to_string(), s("nginx"), true)]
            } else {
                vec![]
            };
            let mut touch = Vec::new();
            let meta = metadata(name, ns, None, &ann, &mut touch);
            let y = mo(vec![
                ("apiVersion", Some(s(api))),
                ("kind", Some(s("Ingress"))),
                ("metadata", Some(meta)),
                (
                    "spec",
                    Some(mo(vec![
                        ("backend", backend),
                        (
                            "tls",
                            tls.then(|| {
                                Y::Seq(vec![m(vec![
                                    ("hosts", Y::Seq(vec![s("shop.example.com")])),
                                    ("secretName", s("shop-tls")),
                                ])])
                            }),
                        ),
                        ("rules", (!rules.is_empty()).then_some(Y::Seq(rules))),
                    ])),
                ),
                ("status", st),
            ]);
            let mut obj = with_touch(Obj::new(y), touch)
                .touch("spec.backend", Class::Keep)
                .mutates("spec")
                .mutates("spec.backend")
                .mutates("spec.rules[].http.paths[]")
                .mutates("spec.rules[].http.paths[].backend");
            for key in ["serviceName", "servicePort"] {
                obj = obj.touch(
                    &format!("spec.rules[].http.paths[].backend.{key}"),
                    Class::Keep,
                );
            }
            obj
        })
        .boxed()
}

// ---- Deployment

fn strategy() -> BoxedStrategy<Option<Y>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(m(vec![("type", s("RollingUpdate"))]))),
        1 => Just(Some(m(vec![("type", s("Recreate"))]))),
        1 => (1..5i64).prop_map(|n| Some(m(vec![
            ("type", s("RollingUpdate")),
            ("rollingUpdate", m(vec![("maxSurge", Y::Int(n))])),
        ]))),
        1 => Just(Some(m(vec![("rollingUpdate", m(vec![("maxUnavailable", s("25%"))]))]))),
        1 => Just(Some(m(vec![
            ("type", s("Recreate")),
            ("rollingUpdate", m(vec![("maxSurge", Y::Int(1))])),
        ]))),
    ]
    .boxed()
}

fn deployment() -> BoxedStrategy<Obj> {
    (
        (
            pick_str(NAMES),
            option::of(pick_str(NAMESPACES)),
            labels(),
            // metadata.labels: none, the template's, others, or written empty
            0..4u8,
            // spec.selector: none, from the template's labels
            any::<bool>(),
            option::weighted(0.97, Just(())),
        ),
        (
            option::of(1..10i64),
            strategy(),
            option::weighted(0.3, 0..20i64),
            option::weighted(0.3, 60..900i64),
            option::weighted(0.2, 1..5i64),
            pod_spec(),
            status(),
        ),
    )
        .prop_map(
            |(
                (name, ns, tpl_labels, meta_labels, has_selector, has_tpl_labels),
                (replicas, strat, history, deadline, rollback, pod, st),
            )| {
                let meta_labels = match meta_labels {
                    0 => None,
                    1 => Some(tpl_labels.clone()),
                    2 => Some(m(vec![("owner", s("team-a"))])),
                    _ => Some(Y::Map(vec![])),
                };
                let tpl_labels = has_tpl_labels.map(|_| tpl_labels);
                let selector = tpl_labels
                    .clone()
                    .filter(|_| has_selector)
                    .map(|l| m(vec![("matchLabels", l)]));
                let meta = metadata(name, ns, meta_labels, &[], &mut Vec::new());
                let y = mo(vec![
                    ("apiVersion", Some(s("extensions/v1beta1"))),
                    ("kind", Some(s("Deployment"))),
                    ("metadata", Some(meta)),
                    (
                        "spec",
                        Some(mo(vec![
                            ("replicas", replicas.map(Y::Int)),
                            ("selector", selector),
                            ("strategy", strat),
                            ("revisionHistoryLimit", history.map(Y::Int)),
                            ("progressDeadlineSeconds", deadline.map(Y::Int)),
                            (
                                "rollbackTo",
                                rollback.map(|r| m(vec![("revision", Y::Int(r))])),
                            ),
                            (
                                "template",
                                Some(mo(vec![
                                    ("metadata", tpl_labels.map(|l| m(vec![("labels", l)]))),
                                    ("spec", Some(pod)),
                                ])),
                            ),
                        ])),
                    ),
                    ("status", st),
                ]);
                Obj::new(y)
                    .touch("spec.rollbackTo", Class::Drop)
                    .touch("metadata.labels", Class::Drop)
                    .copies("spec.template.metadata.labels")
                    .mutates("metadata")
                    .mutates("spec")
                    .mutates("spec.strategy")
                    .mutates("spec.strategy.rollingUpdate")
            },
        )
        .boxed()
}

// ---- PodDisruptionBudget

const RESERVED_KEY: &str = "pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match";

fn pdb() -> BoxedStrategy<Obj> {
    let sel = prop_oneof![
        4 => selector().prop_map(Some),
        1 => Just(None),
        1 => Just(Some(Y::Map(vec![]))),
        1 => Just(Some(Y::Null)),
        1 => Just(Some(m(vec![("matchLabels", Y::Map(vec![]))]))),
        1 => Just(Some(m(vec![(
            "matchExpressions",
            Y::Seq(vec![m(vec![("key", s(RESERVED_KEY)), ("operator", s("DoesNotExist"))])]),
        )]))),
        1 => Just(Some(m(vec![(
            "matchExpressions",
            Y::Seq(vec![
                m(vec![("key", s("app")), ("operator", s("In")), ("values", Y::Seq(vec![s("web")]))]),
                m(vec![("key", s(RESERVED_KEY)), ("operator", s("Exists"))]),
            ]),
        )]))),
    ];
    (
        pick_str(NAMES),
        option::of(pick_str(NAMESPACES)),
        prop_oneof![(0..10i64).prop_map(Y::Int), Just(s("50%"))],
        any::<bool>(),
        sel,
        status(),
    )
        .prop_map(|(name, ns, n, max, sel, st)| {
            let meta = metadata(name, ns, None, &[], &mut Vec::new());
            let y = mo(vec![
                ("apiVersion", Some(s("policy/v1beta1"))),
                ("kind", Some(s("PodDisruptionBudget"))),
                ("metadata", Some(meta)),
                (
                    "spec",
                    Some(mo(vec![
                        (
                            if max {
                                "maxUnavailable"
                            } else {
                                "minAvailable"
                            },
                            Some(n),
                        ),
                        ("selector", sel),
                    ])),
                ),
                ("status", st),
            ]);
            Obj::new(y)
                .touch("spec.selector", Class::Drop)
                .touch("spec.selector.matchExpressions[]", Class::Drop)
                .mutates("spec.selector")
                .mutates("spec.selector.matchExpressions")
        })
        .boxed()
}

// ---- CronJob

fn cronjob() -> BoxedStrategy<Obj> {
    (
        pick_str(NAMES),
        select(&["*/5 * * * *", "0 3 * * *", "@daily"][..]),
        option::of(any::<bool>()),
        pod_spec(),
        status(),
    )
        .prop_map(|(name, schedule, suspend, pod, st)| {
            let y = mo(vec![
                ("apiVersion", Some(s("batch/v1beta1"))),
                ("kind", Some(s("CronJob"))),
                ("metadata", Some(m(vec![("name", Y::Str(name))]))),
                (
                    "spec",
                    Some(mo(vec![
                        ("schedule", Some(s(schedule))),
                        ("suspend", suspend.map(Y::Bool)),
                        (
                            "jobTemplate",
                            Some(m(vec![(
                                "spec",
                                m(vec![("template", m(vec![("spec", pod)]))]),
                            )])),
                        ),
                    ])),
                ),
                ("status", st),
            ]);
            Obj::new(y)
        })
        .boxed()
}

// ---- objects that must not change

fn unrelated() -> BoxedStrategy<Obj> {
    prop_oneof![
        (pick_str(NAMES), vec((select(LABEL_KEYS), text()), 0..4)).prop_map(|(name, data)| {
            let mut seen = Vec::new();
            let data: Vec<(String, Y)> = data
                .into_iter()
                .filter(|(k, _)| {
                    let new = !seen.contains(k);
                    seen.push(*k);
                    new
                })
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            Obj::new(mo(vec![
                ("apiVersion", Some(s("v1"))),
                ("kind", Some(s("ConfigMap"))),
                ("metadata", Some(m(vec![("name", Y::Str(name))]))),
                (
                    "data",
                    Some(Y::Map(
                        data.into_iter()
                            .chain([("old".to_string(), s("autoscaling/v2beta1"))])
                            .collect(),
                    )),
                ),
            ]))
        }),
        (pick_str(NAMES), labels(), pod_spec()).prop_map(|(name, l, pod)| {
            Obj::new(m(vec![
                ("apiVersion", s("apps/v1")),
                ("kind", s("Deployment")),
                ("metadata", m(vec![("name", Y::Str(name))])),
                (
                    "spec",
                    m(vec![
                        ("selector", m(vec![("matchLabels", l.clone())])),
                        (
                            "template",
                            m(vec![("metadata", m(vec![("labels", l)])), ("spec", pod)]),
                        ),
                    ]),
                ),
            ]))
        }),
    ]
    .boxed()
}

fn any_object() -> BoxedStrategy<Obj> {
    prop_oneof![
        hpa_v2beta1(),
        hpa_v2beta2(),
        priority_level(),
        flow_schema(),
        ingress(),
        deployment(),
        pdb(),
        cronjob(),
        unrelated(),
    ]
    .boxed()
}

/// A stream: one to three objects of `kind` (sometimes with an unrelated one), and the
/// formatting choices.
fn stream(kind: BoxedStrategy<Obj>) -> impl Strategy<Value = (Vec<Obj>, Vec<u8>)> {
    (
        vec(kind, 1..3),
        option::weighted(0.25, unrelated()),
        any::<prop::sample::Index>(),
        vec(any::<u8>(), 1..384),
    )
        .prop_map(|(mut objs, extra, at, fmt)| {
            if let Some(e) = extra {
                let i = at.index(objs.len() + 1);
                objs.insert(i, e);
            }
            (objs, fmt)
        })
}

// =======================================================================================
// Rendering

/// Formatting decisions, read from a byte string (cycled); zero is always the plainest.
struct Choices<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Choices<'_> {
    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 || self.bytes.is_empty() {
            return 0;
        }
        let b = self.bytes[self.pos % self.bytes.len()];
        self.pos += 1;
        b as usize % n
    }

    /// True with probability 1/n (never for a zero byte).
    fn one_in(&mut self, n: usize) -> bool {
        self.pick(n) == 1
    }
}

const COMMENTS: &[&str] = &[
    "note",
    "Grüße 日本語 🚀",
    "keep: this",
    "# double hash",
    "a \"quoted\" word",
    "TODO(ops) - review",
    "'single'",
    "- dash",
    "key: value",
    "http://example.com/#frag",
];

/// A rendered stream and what the checks need to know about it.
#[derive(Debug)]
struct Rendered {
    text: String,
    /// Per line: whether a migration may change it.
    touched: Vec<bool>,
    /// Per comment id: `None` if it must survive exactly once, else its entry's class.
    comments: Vec<Option<Class>>,
    /// Per document: whether it has anchors or aliases.
    anchored: Vec<bool>,
    /// Per document: whether it has comments inside flow collections.
    flow_comments: Vec<bool>,
    /// Blank lines inside values a migration copies (and may copy twice).
    copied_blanks: usize,
    crlf: bool,
}

struct Writer<'a> {
    c: Choices<'a>,
    out: String,
    nl: &'static str,
    lines: Vec<bool>,
    cur: bool,
    classes: Vec<Class>,
    comments: Vec<Option<Class>>,
    // per document
    step: usize,
    indentless: bool,
    touch: Vec<(String, Class)>,
    mutates: Vec<String>,
    copies: Vec<String>,
    /// Inside a copied value.
    copying: usize,
    anchors: Vec<(Y, String)>,
    next_anchor: usize,
    anchored: bool,
    flow_comment: bool,
    /// Blank lines inside copied values.
    copied_blanks: usize,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn item(path: &str) -> String {
    format!("{path}[]")
}

/// A plain scalar both YAML 1.1 and 1.2 readers (and Kubernetes) read back as this string.
fn plain_safe(t: &str) -> bool {
    let Some(first) = t.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || (!first.is_ascii() && first.is_alphabetic()))
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '/' | '-'))
        && !t.ends_with(' ')
        && !t.contains("  ")
        && !matches!(
            t.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
}

fn double_quoted(t: &str, mode: usize) -> String {
    let mut out = String::from("\"");
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '/' if mode == 1 => out.push_str("\\/"),
            'a' | 'e' | 's' if mode == 2 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if !c.is_ascii() && mode == 1 && (c as u32) < 0x10000 => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if !c.is_ascii() && mode == 1 => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn single_quoted(t: &str) -> String {
    format!("'{}'", t.replace('\'', "''"))
}

fn json_string(t: &str) -> String {
    let mut out = String::from("\"");
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl<'a> Writer<'a> {
    fn new(bytes: &'a [u8]) -> Writer<'a> {
        Writer {
            c: Choices { bytes, pos: 0 },
            out: String::new(),
            nl: "\n",
            lines: Vec::new(),
            cur: false,
            classes: Vec::new(),
            comments: Vec::new(),
            step: 2,
            indentless: true,
            touch: Vec::new(),
            mutates: Vec::new(),
            copies: Vec::new(),
            copying: 0,
            anchors: Vec::new(),
            next_anchor: 0,
            anchored: false,
            flow_comment: false,
            copied_blanks: 0,
        }
    }

    fn put(&mut self, t: &str) {
        debug_assert!(!t.contains('\n'), "{t:?}");
        self.out.push_str(t);
        if !self.classes.is_empty() {
            self.cur = true;
        }
    }

    fn end_line(&mut self) {
        if self.copying > 0 && self.out.ends_with(['\n', '\u{feff}']) {
            self.copied_blanks += 1;
        }
        self.out.push_str(self.nl);
        self.lines.push(self.cur || !self.classes.is_empty());
        self.cur = false;
    }

    fn spaces(&mut self, n: usize) {
        self.put(&" ".repeat(n));
    }

    fn comment(&mut self) -> String {
        let id = self.comments.len();
        let class = match self.classes.last() {
            Some(c) => Some(*c),
            None if self.copying > 0 => Some(Class::Copied),
            None => None,
        };
        self.comments.push(class);
        let text = COMMENTS[self.c.pick(COMMENTS.len())];
        format!("#c{id}: {text}")
    }

    /// Maybe a comment at the end of the current line.
    fn trailing(&mut self) {
        if self.c.one_in(5) {
            let gap = if self.c.one_in(3) { "   " } else { " " };
            let c = self.comment();
            self.put(gap);
            self.put(&c);
        }
    }

    /// Own-line comments and blank lines above an entry or item at column `col`.
    fn above(&mut self, col: usize) {
        for _ in 0..3 {
            if !self.c.one_in(6) {
                break;
            }
            match self.c.pick(4) {
                0 => {}
                1 => {
                    let c = self.comment();
                    self.put(&c);
                }
                _ => {
                    self.spaces(col);
                    let c = self.comment();
                    self.put(&c);
                }
            }
            self.end_line();
        }
    }

    fn class_of(&self, path: &str) -> Option<Class> {
        self.touch.iter().find(|(p, _)| p == path).map(|(_, c)| *c)
    }

    /// Whether a flow collection at `path` may change: it gains or loses entries, or holds
    /// something a migration touches.
    fn flow_touched(&self, path: &str) -> bool {
        let under = |p: &str| {
            p == path
                || p.strip_prefix(path)
                    .is_some_and(|rest| path.is_empty() || rest.starts_with(['.', '[']))
        };
        self.mutates.iter().any(|p| p == path) || self.touch.iter().any(|(p, _)| under(p))
    }

    fn key(&mut self, k: &str) {
        let text = match self.c.pick(10) {
            1 => single_quoted(k),
            2 => double_quoted(k, 0),
            _ if plain_safe(k) => k.to_string(),
            _ => double_quoted(k, 0),
        };
        self.put(&text);
    }

    /// The text of a one-line scalar in block (`flow == false`) or flow context.
    fn scalar_text(&mut self, y: &Y) -> String {
        match y {
            Y::Null => ["~", "null", "~"][self.c.pick(3)].to_string(),
            Y::Bool(b) => b.to_string(),
            Y::Int(n) => n.to_string(),
            Y::Str(t) => match self.c.pick(9) {
                1 | 2 if !t.contains(['\n', '\t']) => single_quoted(t),
                3 => double_quoted(t, 0),
                4 => double_quoted(t, 1),
                5 => double_quoted(t, 2),
                6 if plain_safe(t) => format!("!!str {t}"),
                _ if plain_safe(t) => t.clone(),
                _ => double_quoted(t, 0),
            },
            Y::Seq(_) | Y::Map(_) => unreachable!("not a scalar"),
        }
    }

    /// An alias for an equal anchored value, a new anchor, or nothing.
    fn anchor_or_alias(&mut self, y: &Y) -> Result<(), String> {
        if let Some((_, name)) = self.anchors.iter().find(|(v, _)| v == y)
            && self.c.one_in(3)
        {
            self.anchored = true;
            return Err(format!("*{name}"));
        }
        Ok(())
    }

    fn new_anchor(&mut self, y: &Y) -> Option<String> {
        if self.c.one_in(10) {
            self.next_anchor += 1;
            self.anchored = true;
            let name = format!("a{}", self.next_anchor);
            self.anchors.push((y.clone(), name.clone()));
            Some(name)
        } else {
            None
        }
    }

    /// A scalar value on the current line, with an anchor or as an alias.
    fn inline_scalar(&mut self, y: &Y) {
        if let Err(alias) = self.anchor_or_alias(y) {
            self.put(&alias);
            return;
        }
        let text = self.scalar_text(y);
        match self.new_anchor(y) {
            Some(a) => self.put(&format!("&{a} {text}")),
            None => self.put(&text),
        }
    }

    // ---- block style

    fn block_map(&mut self, entries: &[(String, Y)], col: usize, inline_first: bool, path: &str) {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        if entries.len() > 1 && self.c.one_in(5) {
            let r = self.c.pick(entries.len());
            order.rotate_left(r);
        }
        let mut first = inline_first;
        for i in order {
            let (k, v) = &entries[i];
            let p = join(path, k);
            let class = self.class_of(&p);
            if let Some(c) = class {
                self.classes.push(c);
            }
            if !first {
                self.above(col);
                self.spaces(col);
            }
            first = false;
            self.key(k);
            self.put(":");
            let copied = self.copies.contains(&p);
            self.copying += usize::from(copied);
            self.after_key(v, col, &p);
            self.copying -= usize::from(copied);
            if class.is_some() {
                self.classes.pop();
            }
        }
        if self.c.one_in(10) {
            self.spaces(col);
            let c = self.comment();
            self.put(&c);
            self.end_line();
        }
    }

    fn after_key(&mut self, v: &Y, col: usize, path: &str) {
        match v {
            Y::Map(e) if !e.is_empty() => {
                if self.c.one_in(5) {
                    self.put(" ");
                    self.flow_inline(v, path);
                    self.trailing();
                    self.end_line();
                    return;
                }
                if let Err(alias) = self.anchor_or_alias(v) {
                    self.put(" ");
                    self.put(&alias);
                    self.trailing();
                    self.end_line();
                    return;
                }
                let anchor = self.anchor_name_for_collection();
                if let Some(a) = &anchor {
                    self.put(&format!(" &{a}"));
                }
                self.trailing();
                self.end_line();
                let step = self.step;
                self.block_map(e, col + step, false, path);
                if let Some(a) = anchor {
                    self.anchors.push((v.clone(), a));
                }
            }
            Y::Seq(items) if !items.is_empty() => {
                if self.c.one_in(5) || items.iter().any(|i| matches!(i, Y::Seq(_))) {
                    self.put(" ");
                    self.flow_inline(v, path);
                    self.trailing();
                    self.end_line();
                    return;
                }
                self.trailing();
                self.end_line();
                let dash = if self.indentless {
                    col
                } else {
                    col + self.step
                };
                self.block_seq(items, dash, path);
            }
            Y::Map(_) => {
                self.cur |= self.flow_touched(path);
                self.put(" {}");
                self.trailing();
                self.end_line();
            }
            Y::Seq(_) => {
                self.cur |= self.flow_touched(path);
                self.put(" []");
                self.trailing();
                self.end_line();
            }
            Y::Str(t) if t.contains('\n') && self.c.pick(4) != 1 => {
                self.literal(t, col + self.step);
            }
            Y::Str(t) if t.contains(' ') && plain_safe(t) && self.c.one_in(4) => {
                self.folded(t, col + self.step);
            }
            Y::Null if self.c.pick(3) == 0 => {
                // `key:` with nothing after it.
                self.trailing();
                self.end_line();
            }
            _ => {
                self.put(" ");
                self.inline_scalar(v);
                self.trailing();
                self.end_line();
            }
        }
    }

    fn anchor_name_for_collection(&mut self) -> Option<String> {
        if self.c.one_in(10) {
            self.next_anchor += 1;
            self.anchored = true;
            Some(format!("a{}", self.next_anchor))
        } else {
            None
        }
    }

    /// `|` or `|-` with the lines at column `col`.
    fn literal(&mut self, t: &str, col: usize) {
        let (body, header) = match t.strip_suffix('\n') {
            Some(b) => (b, " |"),
            None => (t, " |-"),
        };
        self.put(header);
        self.trailing();
        self.end_line();
        for line in body.split('\n') {
            if !line.is_empty() {
                self.spaces(col);
                self.put(line);
            }
            self.end_line();
        }
    }

    /// `>-` with a line break at some of the spaces.
    fn folded(&mut self, t: &str, col: usize) {
        self.put(" >-");
        self.trailing();
        self.end_line();
        self.spaces(col);
        let words: Vec<&str> = t.split(' ').collect();
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                if self.c.one_in(2) {
                    self.end_line();
                    self.spaces(col);
                } else {
                    self.put(" ");
                }
            }
            self.put(w);
        }
        self.end_line();
    }

    fn block_seq(&mut self, items: &[Y], dash: usize, path: &str) {
        let p = item(path);
        let class = self.class_of(&p);
        for it in items {
            if let Some(c) = class {
                self.classes.push(c);
            }
            self.above(dash);
            self.spaces(dash);
            self.put("-");
            match it {
                Y::Map(e) if !e.is_empty() => {
                    if self.c.one_in(8) {
                        // The mapping starts on the line after the dash.
                        self.trailing();
                        self.end_line();
                        self.block_map(e, dash + 2, false, &p);
                    } else if self.c.one_in(8) {
                        self.put(" ");
                        self.flow_inline(it, &p);
                        self.trailing();
                        self.end_line();
                    } else {
                        let off = 1 + self.c.pick(3) * self.c.pick(2);
                        self.spaces(off);
                        self.block_map(e, dash + 1 + off, true, &p);
                    }
                }
                Y::Str(t) if t.contains('\n') => self.literal(t, dash + 2),
                Y::Map(_) | Y::Seq(_) => {
                    self.put(" ");
                    self.flow_inline(it, &p);
                    self.trailing();
                    self.end_line();
                }
                _ => {
                    self.put(" ");
                    self.inline_scalar(it);
                    self.trailing();
                    self.end_line();
                }
            }
            if class.is_some() {
                self.classes.pop();
            }
        }
    }

    // ---- flow style

    fn flow_inline(&mut self, y: &Y, path: &str) {
        if self.flow_touched(path) {
            self.cur = true;
        }
        let sep = if self.c.one_in(4) { "," } else { ", " };
        let pad = if self.c.one_in(4) { " " } else { "" };
        match y {
            Y::Map(e) => {
                self.put("{");
                self.put(pad);
                for (i, (k, v)) in e.iter().enumerate() {
                    if i > 0 {
                        self.put(sep);
                    }
                    let text = match self.c.pick(6) {
                        1 => double_quoted(k, 0),
                        _ if plain_safe(k) => k.clone(),
                        _ => double_quoted(k, 0),
                    };
                    self.put(&text);
                    self.put(": ");
                    self.flow_value(v, &join(path, k));
                }
                self.put(pad);
                self.put("}");
            }
            Y::Seq(items) => {
                self.put("[");
                self.put(pad);
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.put(sep);
                    }
                    self.flow_value(it, &item(path));
                }
                self.put(pad);
                self.put("]");
            }
            _ => unreachable!(),
        }
    }

    fn flow_value(&mut self, v: &Y, path: &str) {
        match v {
            Y::Map(_) | Y::Seq(_) => self.flow_inline(v, path),
            Y::Str(t) => {
                // Plain text in flow must not contain flow indicators; the plain-safe
                // alphabet has none. Multi-line text is always double-quoted here.
                let text = match self.c.pick(4) {
                    1 if !t.contains(['\n', '\t']) => single_quoted(t),
                    2 => double_quoted(t, 1),
                    _ if plain_safe(t) => t.clone(),
                    _ => double_quoted(t, 0),
                };
                if let Err(alias) = self.anchor_or_alias(v) {
                    self.put(&alias);
                } else {
                    self.put(&text);
                }
            }
            _ => self.inline_scalar(v),
        }
    }

    // ---- JSON documents

    fn json(&mut self, y: &Y, indent: usize, path: &str, pretty: Option<usize>) {
        match y {
            Y::Map(e) if !e.is_empty() => {
                let first_line = self.lines.len();
                self.put("{");
                let mut prev_touched = false;
                for (i, (k, v)) in e.iter().enumerate() {
                    let p = join(path, k);
                    let class = self.class_of(&p);
                    if i > 0 {
                        self.put(",");
                        if class.is_some() || prev_touched {
                            self.cur = true;
                        }
                        if pretty.is_some() && self.c.one_in(12) {
                            self.flow_comment = true;
                            let c = self.comment();
                            self.put(" ");
                            self.put(&c);
                        }
                    }
                    if let Some(c) = class {
                        self.classes.push(c);
                    }
                    match pretty {
                        Some(step) => {
                            self.end_line();
                            self.spaces(indent + step);
                        }
                        None if i > 0 && self.c.one_in(2) => self.put(" "),
                        None => {}
                    }
                    self.put(&json_string(k));
                    let colon = if pretty.is_some() || self.c.one_in(2) {
                        ": "
                    } else {
                        ":"
                    };
                    self.put(colon);
                    let copied = self.copies.contains(&p);
                    self.copying += usize::from(copied);
                    self.json(v, indent + pretty.unwrap_or(0), &p, pretty);
                    self.copying -= usize::from(copied);
                    if class.is_some() {
                        self.classes.pop();
                    }
                    prev_touched = class.is_some();
                }
                if pretty.is_some() {
                    self.end_line();
                    self.spaces(indent);
                }
                self.put("}");
                if self.mutates.iter().any(|m| m == path) {
                    for l in &mut self.lines[first_line..] {
                        *l = true;
                    }
                    self.cur = true;
                }
            }
            Y::Seq(items) if !items.is_empty() => {
                let first_line = self.lines.len();
                self.put("[");
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        self.put(",");
                    }
                    if let Some(step) = pretty {
                        self.end_line();
                        self.spaces(indent + step);
                    }
                    self.json(it, indent + pretty.unwrap_or(0), &item(path), pretty);
                }
                if pretty.is_some() {
                    self.end_line();
                    self.spaces(indent);
                }
                self.put("]");
                if self.mutates.iter().any(|m| m == path) || self.class_of(&item(path)).is_some() {
                    for l in &mut self.lines[first_line..] {
                        *l = true;
                    }
                    self.cur = true;
                }
            }
            Y::Map(_) => self.put("{}"),
            Y::Seq(_) => self.put("[]"),
            Y::Null => self.put("null"),
            Y::Bool(b) => self.put(&b.to_string()),
            Y::Int(n) => self.put(&n.to_string()),
            Y::Str(t) => self.put(&json_string(t)),
        }
    }

    // ---- the stream

    fn stream(mut self, objs: &[Obj]) -> Rendered {
        let crlf = self.c.one_in(3);
        if crlf {
            self.nl = "\r\n";
        }
        if self.c.one_in(5) {
            self.out.push('\u{feff}');
        }
        for _ in 0..3 {
            if !self.c.one_in(4) {
                break;
            }
            let c = self.comment();
            self.put(&c);
            self.end_line();
        }
        let mut anchored = Vec::new();
        let mut flow_comments = Vec::new();
        for (i, obj) in objs.iter().enumerate() {
            if i > 0 || self.c.one_in(3) {
                self.put("---");
                if self.c.one_in(4) {
                    self.put(" ");
                    let c = self.comment();
                    self.put(&c);
                }
                self.end_line();
            }
            self.step = [2, 2, 4, 3, 1, 8, 2, 5][self.c.pick(8)];
            self.indentless = self.c.pick(3) != 1;
            self.touch = obj.touch.clone();
            self.mutates = obj.mutates.clone();
            self.copies = obj.copies.clone();
            self.anchors.clear();
            self.anchored = false;
            self.flow_comment = false;
            let Y::Map(root) = &obj.y else {
                unreachable!("objects are mappings")
            };
            if self.c.one_in(8) {
                let pretty = [Some(2), None, Some(4)][self.c.pick(3)];
                self.json(&obj.y, 0, "", pretty);
                self.end_line();
            } else {
                self.block_map(root, 0, false, "");
            }
            anchored.push(self.anchored);
            flow_comments.push(self.flow_comment);
            if self.c.one_in(6) {
                self.put("...");
                if self.c.one_in(3) {
                    self.put(" ");
                    let c = self.comment();
                    self.put(&c);
                }
                self.end_line();
            }
        }
        for _ in 0..3 {
            if !self.c.one_in(5) {
                break;
            }
            let c = self.comment();
            self.put(&c);
            self.end_line();
        }
        if self.c.one_in(6) {
            let n = self.nl.len();
            self.out.truncate(self.out.len() - n);
        }
        Rendered {
            text: self.out,
            touched: self.lines,
            comments: self.comments,
            anchored,
            flow_comments,
            copied_blanks: self.copied_blanks,
            crlf,
        }
    }
}

// =======================================================================================
// The model: each migration's rules (migrations/*.toml) re-implemented on yaml_serde values

/// What the model expects of one document.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    /// Not an object kubemig migrates at the default target.
    Untouched,
    /// A rule with level manual or error applies: reported, left as it is.
    Blocked(&'static str),
    Migrated(V),
}

fn key(s: &str) -> V {
    V::String(s.into())
}

fn vmap(entries: Vec<(&str, V)>) -> V {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(key(k), v);
    }
    V::Mapping(m)
}

fn has(v: &V, k: &str) -> bool {
    v.get(k).is_some()
}

fn get<'v>(v: &'v V, path: &[&str]) -> Option<&'v V> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn get_mut<'v>(v: &'v mut V, path: &[&str]) -> Option<&'v mut V> {
    path.iter().try_fold(v, |v, k| v.get_mut(k))
}

fn map_mut(v: &mut V) -> Option<&mut Mapping> {
    v.as_mapping_mut()
}

/// The mapping at `k` in `m`, created when missing.
fn child<'m>(m: &'m mut Mapping, k: &str) -> &'m mut Mapping {
    if !m.contains_key(k) {
        m.insert(key(k), V::Mapping(Mapping::new()));
    }
    m.get_mut(k).and_then(V::as_mapping_mut).expect("a mapping")
}

/// The metric sources of an HPA.
fn metrics_mut(doc: &mut V) -> Vec<&mut V> {
    match get_mut(doc, &["spec", "metrics"]).and_then(V::as_sequence_mut) {
        Some(seq) => seq.iter_mut().collect(),
        None => Vec::new(),
    }
}

/// G4 and the end of every migration: drop `status`, set the new apiVersion.
fn finish(mut doc: V, api: &str) -> Expect {
    let root = map_mut(&mut doc).expect("object");
    root.remove("status");
    root.insert(key("apiVersion"), key(api));
    Expect::Migrated(doc)
}

/// Delete annotations; an annotations mapping emptied by this goes too (G8).
fn drop_annotations(doc: &mut V, keys: &[&str]) {
    let Some(meta) = doc.get_mut("metadata").and_then(map_mut) else {
        return;
    };
    let Some(ann) = meta.get_mut("annotations").and_then(map_mut) else {
        return;
    };
    let before = ann.len();
    for k in keys {
        ann.remove(*k);
    }
    if before > 0 && ann.is_empty() {
        meta.remove("annotations");
    }
}

fn model(doc: &V) -> Expect {
    let api = doc.get("apiVersion").and_then(V::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(V::as_str).unwrap_or("");
    match (api, kind) {
        ("autoscaling/v2beta1", "HorizontalPodAutoscaler") => hpa_v2beta1_model(doc),
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler") => hpa_v2beta2_model(doc),
        (
            "flowcontrol.apiserver.k8s.io/v1beta1"
            | "flowcontrol.apiserver.k8s.io/v1beta2"
            | "flowcontrol.apiserver.k8s.io/v1beta3",
            "PriorityLevelConfiguration",
        ) => priority_level_model(doc, api),
        (
            "flowcontrol.apiserver.k8s.io/v1beta1"
            | "flowcontrol.apiserver.k8s.io/v1beta2"
            | "flowcontrol.apiserver.k8s.io/v1beta3",
            "FlowSchema",
        ) => finish(doc.clone(), "flowcontrol.apiserver.k8s.io/v1"),
        ("extensions/v1beta1" | "networking.k8s.io/v1beta1", "Ingress") => ingress_model(doc),
        ("extensions/v1beta1", "Deployment") => deployment_model(doc),
        ("policy/v1beta1", "PodDisruptionBudget") => pdb_model(doc),
        ("batch/v1beta1", "CronJob") => finish(doc.clone(), "batch/v1"),
        _ => Expect::Untouched,
    }
}

/// autoscaling/v2beta1 → v2beta2 → v2.
fn hpa_v2beta1_model(doc: &V) -> Expect {
    let mut out = doc.clone();
    for metric in metrics_mut(&mut out) {
        for src in ["resource", "containerResource"] {
            if let Some(r) = metric.get(src) {
                let (u, a) = (
                    has(r, "targetAverageUtilization"),
                    has(r, "targetAverageValue"),
                );
                if u && a {
                    return Expect::Blocked("HPA-INVALID-SOURCE");
                }
                if !u && !a && !has(r, "target") {
                    return Expect::Blocked("HPA-V2BETA1-FIELDS-IN-V2BETA2");
                }
            }
        }
        if let Some(e) = metric.get("external")
            && has(e, "targetValue")
            && has(e, "targetAverageValue")
        {
            return Expect::Blocked("HPA-INVALID-SOURCE");
        }
        if let Some(p) = metric.get("pods")
            && !has(p, "targetAverageValue")
        {
            return Expect::Blocked("HPA-INVALID-SOURCE");
        }
        for src in ["resource", "containerResource"] {
            if let Some(r) = metric.get_mut(src).and_then(map_mut) {
                if let Some(u) = r.remove("targetAverageUtilization") {
                    let t = vmap(vec![
                        ("type", key("Utilization")),
                        ("averageUtilization", u),
                    ]);
                    r.insert(key("target"), t);
                } else if let Some(a) = r.remove("targetAverageValue") {
                    let t = vmap(vec![("type", key("AverageValue")), ("averageValue", a)]);
                    r.insert(key("target"), t);
                }
            }
        }
        if let Some(p) = metric.get_mut("pods").and_then(map_mut)
            && let Some(name) = p.remove("metricName")
        {
            let sel = p.remove("selector");
            let target = p.remove("targetAverageValue").expect("checked");
            let mt = child(p, "metric");
            mt.insert(key("name"), name);
            if let Some(sel) = sel {
                mt.insert(key("selector"), sel);
            }
            let t = vmap(vec![
                ("type", key("AverageValue")),
                ("averageValue", target),
            ]);
            p.insert(key("target"), t);
        }
        if let Some(o) = metric.get_mut("object").and_then(map_mut) {
            if let Some(name) = o.remove("metricName") {
                if let Some(t) = o.remove("target") {
                    o.insert(key("describedObject"), t);
                }
                let sel = o.remove("selector");
                let mt = child(o, "metric");
                mt.insert(key("name"), name);
                if let Some(sel) = sel {
                    mt.insert(key("selector"), sel);
                }
            }
            if let Some(avg) = o.remove("averageValue") {
                o.remove("targetValue");
                let t = vmap(vec![("type", key("AverageValue")), ("averageValue", avg)]);
                o.insert(key("target"), t);
            } else if let Some(value) = o.remove("targetValue") {
                let t = vmap(vec![("type", key("Value")), ("value", value)]);
                o.insert(key("target"), t);
            }
        }
        if let Some(e) = metric.get_mut("external").and_then(map_mut) {
            if let Some(name) = e.remove("metricName") {
                let sel = e.remove("metricSelector");
                let mt = child(e, "metric");
                mt.insert(key("name"), name);
                if let Some(sel) = sel {
                    mt.insert(key("selector"), sel);
                }
            }
            if let Some(value) = e.remove("targetValue") {
                let t = vmap(vec![("type", key("Value")), ("value", value)]);
                e.insert(key("target"), t);
            }
            if let Some(avg) = e.remove("targetAverageValue") {
                let t = vmap(vec![("type", key("AverageValue")), ("averageValue", avg)]);
                e.insert(key("target"), t);
            }
        }
    }
    drop_annotations(
        &mut out,
        &[
            "autoscaling.alpha.kubernetes.io/metrics",
            "autoscaling.alpha.kubernetes.io/current-metrics",
            "autoscaling.alpha.kubernetes.io/conditions",
        ],
    );
    finish(out, "autoscaling/v2")
}

/// autoscaling/v2beta2 → v2.
fn hpa_v2beta2_model(doc: &V) -> Expect {
    let mut out = doc.clone();
    for metric in metrics_mut(&mut out) {
        for src in [
            "resource",
            "containerResource",
            "pods",
            "object",
            "external",
        ] {
            if metric.get(src).is_some_and(|s| has(s, "metricName")) {
                return Expect::Blocked("HPA-V2BETA1-FIELDS-IN-V2BETA2");
            }
        }
        for src in ["resource", "containerResource"] {
            if metric.get(src).is_some_and(|s| !has(s, "target")) {
                return Expect::Blocked("HPA-V2BETA1-FIELDS-IN-V2BETA2");
            }
        }
    }
    drop_annotations(
        &mut out,
        &[
            "autoscaling.alpha.kubernetes.io/behavior",
            "autoscaling.alpha.kubernetes.io/metrics",
            "autoscaling.alpha.kubernetes.io/current-metrics",
            "autoscaling.alpha.kubernetes.io/conditions",
        ],
    );
    finish(out, "autoscaling/v2")
}

/// flowcontrol v1beta1/v1beta2 → v1beta3 (rename) → v1 (an explicit 0 meant 30).
fn priority_level_model(doc: &V, api: &str) -> Expect {
    let mut out = doc.clone();
    const PRESERVE: &str = "flowcontrol.k8s.io/v1beta3-preserve-zero-concurrency-shares";
    const ZERO: &str = "flowcontrol.k8s.io/concurrency-shares-defaults-to-zero";
    let annotated = |k: &str| get(doc, &["metadata", "annotations", k]).is_some();
    let keep_zero = annotated(PRESERVE) || annotated(ZERO);
    if let Some(limited) = get_mut(&mut out, &["spec", "limited"]).and_then(map_mut) {
        if !api.ends_with("v1beta3")
            && let Some(v) = limited.remove("assuredConcurrencyShares")
        {
            limited.insert(key("nominalConcurrencyShares"), v);
        }
        if limited.get("nominalConcurrencyShares") == Some(&V::from(0)) && !keep_zero {
            limited.insert(key("nominalConcurrencyShares"), V::from(30));
        }
    }
    drop_annotations(&mut out, &[PRESERVE, ZERO]);
    finish(out, "flowcontrol.apiserver.k8s.io/v1")
}

/// One old-style Ingress backend: `serviceName`/`servicePort` become `service.name` and
/// `service.port.number` (an int, or a quoted number) or `service.port.name`.
fn ingress_backend(b: &mut V) -> Result<(), &'static str> {
    let Some(bm) = map_mut(b) else { return Ok(()) };
    let Some(name) = bm.get("serviceName").cloned() else {
        return Ok(());
    };
    let port = match bm.get("servicePort") {
        Some(V::String(p)) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
            ("number", V::from(p.parse::<u64>().expect("digits")))
        }
        Some(V::Number(n)) if n.is_i64() || n.is_u64() => ("number", V::Number(n.clone())),
        Some(V::String(p)) => ("name", V::String(p.clone())),
        _ => return Err("ING-BACKEND-SHAPE"),
    };
    bm.remove("serviceName");
    bm.remove("servicePort");
    let svc = child(bm, "service");
    svc.insert(key("name"), name);
    child(svc, "port").insert(key(port.0), port.1);
    Ok(())
}

/// extensions/v1beta1 → networking.k8s.io/v1beta1 → v1.
fn ingress_model(doc: &V) -> Expect {
    let mut out = doc.clone();
    if let Some(spec) = out.get_mut("spec").and_then(map_mut) {
        if !spec.contains_key("defaultBackend")
            && let Some(b) = spec.remove("backend")
        {
            spec.insert(key("defaultBackend"), b);
        }
        if let Some(d) = spec.get_mut("defaultBackend")
            && let Err(code) = ingress_backend(d)
        {
            return Expect::Blocked(code);
        }
        let paths = spec
            .get_mut("rules")
            .and_then(V::as_sequence_mut)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get_mut("http").and_then(|h| h.get_mut("paths")))
            .filter_map(V::as_sequence_mut)
            .flatten();
        for p in paths {
            let Some(pm) = map_mut(p) else { continue };
            if let Some(b) = pm.get_mut("backend")
                && let Err(code) = ingress_backend(b)
            {
                return Expect::Blocked(code);
            }
            if !pm.contains_key("pathType") {
                pm.insert(key("pathType"), key("ImplementationSpecific"));
            }
        }
    }
    // The field migration networking/ingress-class-annotation-to-field is deprecated-only
    // (the annotation still works): a default run leaves the annotation as it is.
    finish(out, "networking.k8s.io/v1")
}

/// What the catalogue calls empty: null, `{}`, `[]`, or a mapping of empty values.
fn is_empty(v: &V) -> bool {
    match v {
        V::Null => true,
        V::Mapping(m) => m.values().all(is_empty),
        V::Sequence(s) => s.is_empty(),
        _ => false,
    }
}

/// extensions/v1beta1 Deployment → apps/v1.
fn deployment_model(doc: &V) -> Expect {
    let mut out = doc.clone();
    let tpl_labels = get(doc, &["spec", "template", "metadata", "labels"]).cloned();
    let spec_v = doc.get("spec").cloned().unwrap_or(V::Null);
    if !has(&spec_v, "selector") && tpl_labels.is_none() {
        return Expect::Blocked("WL-NO-TEMPLATE-LABELS");
    }
    if let Some(st) = spec_v.get("strategy")
        && has(st, "rollingUpdate")
        && st.get("type").and_then(V::as_str) == Some("Recreate")
    {
        return Expect::Blocked("WL-RECREATE-WITH-ROLLINGUPDATE");
    }
    let spec = out.get_mut("spec").and_then(map_mut).expect("spec");
    if !spec.contains_key("selector")
        && let Some(l) = &tpl_labels
    {
        spec.insert(key("selector"), vmap(vec![("matchLabels", l.clone())]));
    }
    spec.remove("rollbackTo");
    match spec.get_mut("strategy").and_then(map_mut) {
        None => {
            let ru = vmap(vec![
                ("maxUnavailable", V::from(1)),
                ("maxSurge", V::from(1)),
            ]);
            spec.insert(
                key("strategy"),
                vmap(vec![("type", key("RollingUpdate")), ("rollingUpdate", ru)]),
            );
        }
        Some(st) if st.get("type").and_then(V::as_str) != Some("Recreate") => {
            let ru = child(st, "rollingUpdate");
            for k in ["maxUnavailable", "maxSurge"] {
                if !ru.contains_key(k) {
                    ru.insert(key(k), V::from(1));
                }
            }
        }
        Some(_) => {}
    }
    for k in ["revisionHistoryLimit", "progressDeadlineSeconds"] {
        if !spec.contains_key(k) {
            spec.insert(key(k), V::from(2147483647));
        }
    }
    let meta = out.get_mut("metadata").and_then(map_mut).expect("metadata");
    if meta.get("labels").is_some_and(is_empty) && tpl_labels.is_some() {
        meta.remove("labels");
    }
    if !meta.contains_key("labels")
        && let Some(l) = tpl_labels
    {
        meta.insert(key("labels"), l);
    }
    finish(out, "apps/v1")
}

/// policy/v1beta1 → v1: an empty selector matched nothing and must keep doing so.
fn pdb_model(doc: &V) -> Expect {
    let mut out = doc.clone();
    let reserved = |op: &str| {
        vmap(vec![(
            "matchExpressions",
            V::Sequence(vec![vmap(vec![
                ("key", key(RESERVED_KEY)),
                ("operator", key(op)),
            ])]),
        )])
    };
    let spec = out.get_mut("spec").and_then(map_mut).expect("spec");
    match spec.get("selector") {
        Some(sel) if is_empty(sel) => {
            spec.insert(key("selector"), reserved("Exists"));
        }
        Some(sel) if *sel == reserved("DoesNotExist") => {
            spec.insert(key("selector"), V::Mapping(Mapping::new()));
        }
        _ => {
            if let Some(exprs) = get_mut(&mut out, &["spec", "selector", "matchExpressions"])
                .and_then(V::as_sequence_mut)
            {
                exprs.retain(|e| e.get("key").and_then(V::as_str) != Some(RESERVED_KEY));
            }
        }
    }
    finish(out, "policy/v1")
}

// =======================================================================================
// The checks

fn env() -> &'static (Catalogue, Prefilter) {
    static ENV: OnceLock<(Catalogue, Prefilter)> = OnceLock::new();
    ENV.get_or_init(|| {
        let cat = Catalogue::embedded().expect("catalogue");
        let pf = Prefilter::new(&cat);
        (cat, pf)
    })
}

fn yaml_docs(text: &str) -> Result<Vec<V>, String> {
    use serde::Deserialize;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    yaml_serde::Deserializer::from_str(text)
        .map(|d| V::deserialize(d).map_err(|e| e.to_string()))
        .collect()
}

/// A line's content for "moved, not changed": without its line break, indentation, BOM, and
/// a leading `- ` (a key pulled onto an item's dash line, or pushed off it).
fn content(line: &str) -> &str {
    let l = line
        .trim_end_matches(['\n', '\r'])
        .trim_start_matches('\u{feff}')
        .trim_start_matches(' ');
    match l.strip_prefix('-') {
        Some(rest) if rest.starts_with(' ') => rest.trim_start_matches(' '),
        _ => l,
    }
}

#[derive(Debug, Default)]
struct Stats {
    cases: usize,
    documents: usize,
    migrated: usize,
    blocked: usize,
    refused: usize,
    refusal_codes: HashMap<String, usize>,
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(TestCaseError::fail(format!($($arg)+)));
        }
    };
}

fn check(objs: &[Obj], fmt: &[u8], stats: &mut Stats) -> Result<(), TestCaseError> {
    let r = Writer::new(fmt).stream(objs);
    let input = r.text.as_str();
    let show = || format!("\n--- input\n{input}\n---");
    let in_docs = yaml_docs(input).map_err(|e| {
        TestCaseError::fail(format!(
            "generator bug: libyaml rejects the input: {e}{}",
            show()
        ))
    })?;
    ensure!(
        in_docs.len() == objs.len(),
        "generator bug: {} documents{}",
        in_docs.len(),
        show()
    );
    let line_count = input.split_inclusive('\n').count();
    ensure!(
        line_count == r.touched.len(),
        "generator bug: line count{}",
        show()
    );

    let (cat, pf) = env();
    let window = Window {
        target: cat.newest,
        min: None,
        include_deprecated: false,
    };
    let ctx = Context {
        catalogue: cat,
        window,
        prefilter: Some(pf),
    };
    let out = process(input.as_bytes().to_vec(), &ctx);
    ensure!(out.error.is_none(), "error: {:?}{}", out.error, show());
    // (e) the prefilter hides nothing.
    let unfiltered = process(
        input.as_bytes().to_vec(),
        &Context {
            prefilter: None,
            ..ctx
        },
    );
    ensure!(
        unfiltered.rewrite == out.rewrite && unfiltered.error.is_none(),
        "the prefilter changed the result{}",
        show()
    );
    let output = out.rewrite.as_ref().map_or(input, |(_, new)| new.as_str());
    let show2 = || format!("\n--- input\n{input}\n--- output\n{output}\n---");

    // (a) the output parses.
    ensure!(
        kubemig::yaml::parse_stream(output).is_ok(),
        "kubemig cannot parse its output{}",
        show2()
    );
    let out_docs = yaml_docs(output)
        .map_err(|e| TestCaseError::fail(format!("libyaml rejects the output: {e}{}", show2())))?;
    ensure!(
        out_docs.len() == in_docs.len(),
        "document count changed{}",
        show2()
    );

    // (b) the meaning is the model's.
    stats.cases += 1;
    // Which documents write their apiVersion as an alias (`apiVersion: *a1`).
    let aliased_api: Vec<bool> = kubemig::yaml::parse_stream(input)
        .map(|docs| {
            docs.iter()
                .map(|d| {
                    d.root
                        .get("apiVersion")
                        .is_some_and(|n| matches!(n.kind, kubemig::yaml::NodeKind::Alias(_)))
                })
                .collect()
        })
        .unwrap_or_default();
    for (i, doc) in in_docs.iter().enumerate() {
        stats.documents += 1;
        let reports: Vec<_> = out
            .objects
            .iter()
            .map(|o| &o.item)
            .filter(|o| o.doc_index == i)
            .collect();
        let codes: Vec<&str> = reports
            .iter()
            .flat_map(|o| o.findings.iter().filter(|f| f.level.blocks()))
            .map(|f| f.code.as_str())
            .collect();
        let blocked = reports.iter().any(|o| o.status == Status::Blocked);
        let want = match model(doc) {
            Expect::Untouched => {
                ensure!(
                    reports.iter().all(|o| o.status == Status::Deprecated),
                    "document {i}: reported {reports:?}{}",
                    show2()
                );
                doc
            }
            Expect::Blocked(code) => {
                let layout = r.anchored[i] && codes.iter().all(|c| c.starts_with("KUBEMIG-"));
                ensure!(
                    blocked && (codes.contains(&code) || layout),
                    "document {i}: expected it to need a human ({code}), got {reports:?}{}",
                    show2()
                );
                stats.blocked += 1;
                doc
            }
            Expect::Migrated(_) if aliased_api.get(i) == Some(&true) => {
                // `apiVersion: *a1`: refused with a finding that says so, never skipped
                // silently (the anchor may be used elsewhere or sit in a deleted field).
                ensure!(
                    blocked && codes.contains(&"KUBEMIG-ALIAS"),
                    "document {i}: an aliased apiVersion must be refused (KUBEMIG-ALIAS), got {reports:?}{}",
                    show2()
                );
                *stats
                    .refusal_codes
                    .entry("KUBEMIG-ALIAS".into())
                    .or_default() += 1;
                stats.refused += 1;
                doc
            }
            Expect::Migrated(_) if blocked => {
                // Anchors: kubemig refuses to change an anchored value or to drop or move an
                // anchor that an alias uses, and rules do not look through aliases (an
                // aliased servicePort is neither a number nor a name). Comments in flow
                // collections: it refuses to delete entries next to them rather than lose
                // them.
                let allowed = codes
                    .iter()
                    .all(|c| r.anchored[i] || (*c == "KUBEMIG-LAYOUT" && r.flow_comments[i]));
                ensure!(
                    allowed,
                    "document {i}: refused {codes:?}: {reports:?}{}",
                    show2()
                );
                for f in reports
                    .iter()
                    .flat_map(|o| o.findings.iter().filter(|f| f.level.blocks()))
                {
                    // Counted by message without byte offsets, so that kinds of refusal show.
                    let msg: String = f.message.chars().filter(|c| !c.is_ascii_digit()).collect();
                    *stats.refusal_codes.entry(msg).or_default() += 1;
                }
                stats.refused += 1;
                doc
            }
            Expect::Migrated(ref v) => {
                ensure!(
                    reports.iter().any(|o| o.status == Status::Migrated),
                    "document {i}: not migrated: {reports:?}{}",
                    show2()
                );
                stats.migrated += 1;
                // `v` lives in the match scope; compare here.
                ensure!(
                    out_docs[i] == *v,
                    "document {i} means something else\nwant {:#?}\ngot  {:#?}{}",
                    v,
                    out_docs[i],
                    show2()
                );
                continue;
            }
        };
        ensure!(
            out_docs[i] == *want,
            "document {i} changed although it was not migrated{}",
            show2()
        );
    }

    // (c) nothing outside the planned edits changed.
    if out.rewrite.is_some() {
        let diff = similar::TextDiff::from_lines(input, output);
        let old: Vec<&str> = input.split_inclusive('\n').collect();
        let new: Vec<&str> = output.split_inclusive('\n').collect();
        let mut lost: Vec<usize> = Vec::new();
        let mut removed_blank = 0;
        let mut inserted: HashMap<&str, usize> = HashMap::new();
        let mut inserted_blank = 0;
        for op in diff.ops() {
            if op.tag() == similar::DiffTag::Equal {
                // The line diff may pair an output line with a line a migration touches
                // when an untouched one reads the same (two bare `-` item lines): such an
                // output line can stand for a lost untouched line below.
                for (i, j) in op.old_range().zip(op.new_range()) {
                    if r.touched[i] && !content(new[j]).is_empty() {
                        *inserted.entry(content(new[j])).or_default() += 1;
                    }
                }
                continue;
            }
            for i in op.old_range() {
                if content(old[i]).is_empty() {
                    removed_blank += 1;
                } else if !r.touched[i] {
                    lost.push(i);
                }
            }
            for i in op.new_range() {
                if content(new[i]).is_empty() {
                    inserted_blank += 1;
                } else {
                    *inserted.entry(content(new[i])).or_default() += 1;
                }
            }
        }
        for i in lost {
            // A block scalar that ends a file without a final line break switches to strip
            // chomping when text is added after it, so that its value stays.
            if !input.ends_with('\n') {
                let line = content(old[i]);
                let (code, _) = line.split_at(line.find(" #").unwrap_or(line.len()));
                let code = code.trim_end();
                let stripped = format!("{}-{}", code.trim_end_matches('+'), &line[code.len()..]);
                if code.ends_with(['|', '>', '+']) && inserted.get(stripped.as_str()) > Some(&0) {
                    *inserted.get_mut(stripped.as_str()).unwrap() -= 1;
                    continue;
                }
            }
            let n = inserted.entry(content(old[i])).or_default();
            ensure!(
                *n > 0,
                "line {} changed, which no migration touches: {:?}{}",
                i + 1,
                old[i],
                show2()
            );
            *n -= 1;
        }
        ensure!(
            inserted_blank <= removed_blank + 2 * r.copied_blanks,
            "blank lines were added{}",
            show2()
        );
        for (id, class) in r.comments.iter().enumerate() {
            let tag = format!("#c{id}: ");
            let n = output.matches(&tag).count();
            let ok = match class {
                None | Some(Class::Keep) => n == 1,
                Some(Class::Drop) => n <= 1,
                Some(Class::Copied) => (1..=3).contains(&n),
            };
            ensure!(ok, "comment #c{id} appears {n} times{}", show2());
        }
        ensure!(
            output.starts_with('\u{feff}') == input.starts_with('\u{feff}'),
            "the BOM changed{}",
            show2()
        );
        let bare_lf = output
            .match_indices('\n')
            .any(|(i, _)| i == 0 || output.as_bytes()[i - 1] != b'\r');
        ensure!(
            if r.crlf {
                !bare_lf
            } else {
                !output.contains('\r')
            },
            "line endings changed{}",
            show2()
        );

        // (d) a second run changes nothing.
        let again = process(output.as_bytes().to_vec(), &ctx);
        ensure!(
            again.error.is_none() && again.rewrite.is_none(),
            "a second run: error {:?}, rewrite {}{}",
            again.error,
            again.rewrite.is_some(),
            show2()
        );
    }
    Ok(())
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        source_file: Some(file!()),
        // Failing seeds are kept in tests/properties.proptest-regressions (next to this
        // file; `SourceParallel` looks for a lib.rs or main.rs beside it and complains) and
        // replayed first. The inputs they stood for are golden cases too
        // (testdata/golden/regress-*), which survive changes to the generator.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

fn run(name: &str, kind: BoxedStrategy<Obj>) {
    let mut runner = TestRunner::new(config());
    let stats = RefCell::new(Stats::default());
    let result = runner.run(&stream(kind), |(objs, fmt)| {
        check(&objs, &fmt, &mut stats.borrow_mut())
    });
    let st = stats.into_inner();
    eprintln!(
        "{name}: {} streams ({} documents): {} migrated, {} need a human, {} refused {:?}",
        st.cases, st.documents, st.migrated, st.blocked, st.refused, st.refusal_codes
    );
    match result {
        Ok(()) => {}
        // The generated value is the text already shown in the reason; its Debug form is
        // long, so it is printed only on request.
        Err(proptest::test_runner::TestError::Fail(reason, value)) => {
            if std::env::var_os("PROPTEST_SHOW_VALUE").is_some() {
                eprintln!("{value:#?}");
            }
            panic!("{name}: {reason}");
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

#[test]
fn hpa_autoscaling_v2beta1() {
    run("hpa v2beta1", hpa_v2beta1());
}

#[test]
fn hpa_autoscaling_v2beta2() {
    run("hpa v2beta2", hpa_v2beta2());
}

#[test]
fn flowcontrol_priority_level_configuration() {
    run("flowcontrol PriorityLevelConfiguration", priority_level());
}

#[test]
fn flowcontrol_flow_schema() {
    run("flowcontrol FlowSchema", flow_schema());
}

#[test]
fn ingress_extensions_and_networking_v1beta1() {
    run("ingress", ingress());
}

#[test]
fn deployment_extensions_v1beta1() {
    run("deployment", deployment());
}

#[test]
fn pod_disruption_budget_policy_v1beta1() {
    run("pdb", pdb());
}

#[test]
fn cronjob_batch_v1beta1() {
    run("cronjob", cronjob());
}

#[test]
fn mixed_streams() {
    run("mixed", any_object());
}
