//! Micro-benchmarks of each step on representative documents: `cargo bench`.
//!
//! Inputs: the README's examples (an HPA, an Ingress, flow control, a current Deployment),
//! a v1beta1 CRD with a large schema, a 200 KB ConfigMap, and a Helm-style stream of 40
//! documents, 4 of them old. Steps: prefilter, parse (events → span tree), plan (every
//! document), apply (the splice), verify (re-parse, compare, re-plan) and the whole engine.
//!
//! The `all-hits` groups run the steps over a corpus where every file needs work, as
//! `examples/gen-corpus.rs` writes it (`bench/run.sh`'s 10k-all and small-all corpora): 300
//! files of the full mix, and 600 small files (~2.5 KB, one removed-API document each).

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kubemig::catalogue::{Catalogue, Window};
use kubemig::edit;
use kubemig::engine::{self, Context};
use kubemig::input::plain::verify;
use kubemig::plan::mtree::MNode;
use kubemig::plan::plan_document;
use kubemig::prefilter::Prefilter;
use kubemig::yaml::{Value, parse_stream};

fn crd(properties: usize) -> String {
    let mut s = String::from(
        "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  version: v1\n  names:\n    plural: widgets\n    kind: Widget\n  validation:\n    openAPIV3Schema:\n      type: object\n      properties:\n        spec:\n          type: object\n          properties:\n",
    );
    for i in 0..properties {
        let _ = writeln!(
            s,
            "            field{i}:\n              description: Setting {i}; see the operator guide.\n              type: object\n              properties:\n                enabled: {{type: boolean}}\n                size:\n                  type: integer\n                  minimum: 0"
        );
    }
    s
}

fn configmap(kb: usize) -> String {
    let mut s = String::from(
        "# nginx front door\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nginx\ndata:\n  nginx.conf: |\n",
    );
    let mut i = 0;
    while s.len() < kb * 1024 {
        let _ = writeln!(
            s,
            "    location ~ ^/svc{i}/(.*)$ {{ proxy_pass http://svc{i}.shop.svc:8080/$1; }}"
        );
        i += 1;
    }
    s
}

fn helm(docs: usize) -> String {
    let hpa = include_str!("../testdata/examples/hpa.yaml");
    let current = include_str!("../testdata/examples/deployment.yaml");
    let mut s = String::new();
    for i in 0..docs {
        let _ = writeln!(s, "---\n# Source: shop/templates/part-{i}.yaml");
        s.push_str(if i % 10 == 3 { hpa } else { current });
    }
    s
}

fn inputs() -> Vec<(&'static str, String)> {
    vec![
        (
            "hpa-v2beta1",
            include_str!("../testdata/examples/hpa.yaml").into(),
        ),
        (
            "ingress-extensions",
            include_str!("../testdata/examples/ingress.yaml").into(),
        ),
        (
            "flowcontrol-v1beta1",
            include_str!("../testdata/examples/flowcontrol.yaml").into(),
        ),
        (
            "deployment-current",
            include_str!("../testdata/examples/deployment.yaml").into(),
        ),
        ("crd-v1beta1-300-props", crd(300)),
        ("configmap-200k", configmap(200)),
        ("helm-40-docs", helm(40)),
    ]
}

#[path = "../examples/gen-corpus.rs"]
#[allow(dead_code)]
mod gen_corpus;

fn window(cat: &Catalogue) -> Window {
    Window {
        target: cat.newest,
        min: None,
        include_deprecated: false,
    }
}

fn benches(c: &mut Criterion) {
    let cat = Catalogue::embedded().unwrap();
    let w = window(&cat);
    let pf = Prefilter::new(&cat);
    for (name, src) in inputs() {
        let src = src.as_str();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(src.len() as u64));
        g.bench_function(BenchmarkId::new("prefilter", src.len()), |b| {
            b.iter(|| pf.may_need_work(black_box(src.as_bytes())))
        });
        g.bench_function(BenchmarkId::new("parse", src.len()), |b| {
            b.iter(|| parse_stream(black_box(src)).unwrap())
        });
        let docs = parse_stream(src).unwrap();
        g.bench_function(BenchmarkId::new("plan", src.len()), |b| {
            b.iter(|| {
                for d in &docs {
                    black_box(plan_document(src, d, &cat, w).unwrap());
                }
            })
        });
        let plans: Vec<_> = docs
            .iter()
            .map(|d| plan_document(src, d, &cat, w).unwrap())
            .collect();
        let edits: Vec<_> = plans.iter().flat_map(|p| p.edits.clone()).collect();
        if !edits.is_empty() {
            g.bench_function(BenchmarkId::new("apply", src.len()), |b| {
                b.iter(|| edit::apply(black_box(src), &edits).unwrap())
            });
            let output = edit::apply(src, &edits).unwrap();
            let expected: Vec<Value> = docs
                .iter()
                .zip(&plans)
                .map(|(d, p)| match &p.expected {
                    Some(m) => m.to_value().unwrap(),
                    None => MNode::from_node(&d.root).to_value().unwrap(),
                })
                .collect();
            g.bench_function(BenchmarkId::new("verify", src.len()), |b| {
                b.iter(|| verify(black_box(&output), &expected, &cat, w).unwrap())
            });
        }
        for (label, prefilter) in [("engine", Some(&pf)), ("engine-no-prefilter", None)] {
            let ctx = Context {
                catalogue: &cat,
                window: w,
                prefilter,
            };
            g.bench_function(BenchmarkId::new(label, src.len()), |b| {
                b.iter(|| engine::process(black_box(src.as_bytes().to_vec()), &ctx))
            });
        }
        g.finish();
    }
}

/// Each step over every file of an all-hits corpus: the files are decoded and parsed once
/// up front, and each step is timed over all of them, as one pass of `engine::process` over
/// the corpus runs them.
fn all_hits(c: &mut Criterion) {
    let cat = Catalogue::embedded().unwrap();
    let w = window(&cat);
    let pf = Prefilter::new(&cat);
    for (name, files) in [
        ("all-hits-mix", gen_corpus::all_hits_files(300, false, 3)),
        ("all-hits-small", gen_corpus::all_hits_files(600, true, 5)),
    ] {
        let texts: Vec<String> = files
            .iter()
            .map(|raw| kubemig::source::Source::decode(raw.clone()).unwrap().text)
            .collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        let streams: Vec<_> = texts.iter().map(|t| parse_stream(t).unwrap()).collect();
        let plans: Vec<Vec<_>> = texts
            .iter()
            .zip(&streams)
            .map(|(t, docs)| {
                docs.iter()
                    .map(|d| plan_document(t, d, &cat, w).unwrap())
                    .collect()
            })
            .collect();
        let edits: Vec<Vec<_>> = plans
            .iter()
            .map(|ps| ps.iter().flat_map(|p| p.edits.clone()).collect())
            .collect();
        let outputs: Vec<String> = texts
            .iter()
            .zip(&edits)
            .map(|(t, e)| edit::apply(t, e).unwrap())
            .collect();
        let expected: Vec<Vec<Value>> = streams
            .iter()
            .zip(&plans)
            .map(|(docs, ps)| {
                docs.iter()
                    .zip(ps)
                    .map(|(d, p)| match &p.expected {
                        Some(m) => m.to_value().unwrap(),
                        None => MNode::from_node(&d.root).to_value().unwrap(),
                    })
                    .collect()
            })
            .collect();
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes as u64));
        let id = |step| BenchmarkId::new(step, format!("{} files", texts.len()));
        g.bench_function(id("parse"), |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(parse_stream(black_box(t)).unwrap());
                }
            })
        });
        g.bench_function(id("plan"), |b| {
            b.iter(|| {
                for (t, docs) in texts.iter().zip(&streams) {
                    for d in docs {
                        black_box(plan_document(t, d, &cat, w).unwrap());
                    }
                }
            })
        });
        g.bench_function(id("apply"), |b| {
            b.iter(|| {
                for (t, e) in texts.iter().zip(&edits) {
                    black_box(edit::apply(black_box(t), e).unwrap());
                }
            })
        });
        g.bench_function(id("verify"), |b| {
            b.iter(|| {
                for (out, want) in outputs.iter().zip(&expected) {
                    verify(black_box(out), want, &cat, w).unwrap();
                }
            })
        });
        let ctx = Context {
            catalogue: &cat,
            window: w,
            prefilter: Some(&pf),
        };
        g.bench_function(id("engine"), |b| {
            b.iter(|| {
                for raw in &files {
                    black_box(engine::process(raw.clone(), &ctx));
                }
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = pipeline;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = benches, all_hits
}
criterion_main!(pipeline);
