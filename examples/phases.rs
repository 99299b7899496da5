//! Times each step of the pipeline over a directory, on one thread, to show where a run's
//! time goes (README, "Performance"):
//!
//!   cargo run --release --example phases -- DIR
//!
//! Steps: read, decode, prefilter, parse, plan, apply and verify (the whole
//! `engine::process` is timed too, on its own pass). Only files the prefilter passes are
//! parsed; template files (Helm) are left out of the per-step times. `verify` is what the
//! engine does (`engine::verify_rewrite`: only the parts of a stream that changed are
//! parsed again); `verify-whole` is `verify::verify_docs` over the whole output, which
//! earlier rounds timed as `verify`, for comparison.

use std::time::{Duration, Instant};

use kubemig::catalogue::{Catalogue, Window};
use kubemig::engine::{Context, process};
use kubemig::prefilter::Prefilter;
use kubemig::source::Source;
use kubemig::yaml::parse_stream;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: phases DIR");
    let cat = Catalogue::embedded().expect("the embedded catalogue loads");
    let pf = Prefilter::new(&cat);
    let window = Window {
        target: cat.newest,
        min: None,
        include_deprecated: false,
    };
    let walked = kubemig::walk::walk(&[dir.into()]);
    let mut t = [Duration::ZERO; 9];
    let names = [
        "read",
        "decode",
        "prefilter",
        "parse",
        "plan",
        "apply",
        "verify",
        "process",
        "verify-whole",
    ];
    let ctx = Context {
        catalogue: &cat,
        window,
        prefilter: Some(&pf),
    };
    let (mut bytes, mut parsed, mut parsed_bytes) = (0usize, 0usize, 0usize);
    let mut lap = |i: usize, since: &mut Instant| {
        let now = Instant::now();
        t[i] += now - *since;
        *since = now;
    };
    for input in &walked.inputs {
        let kubemig::walk::Input::File(p) = input else {
            continue;
        };
        let mut at = Instant::now();
        let Ok(raw) = std::fs::read(p) else { continue };
        bytes += raw.len();
        lap(0, &mut at);
        let Ok(source) = Source::decode(raw) else {
            continue;
        };
        lap(1, &mut at);
        let pass = pf.may_need_work(source.text.as_bytes());
        lap(2, &mut at);
        if !pass || kubemig::input::helm::is_template(&source.text) {
            continue;
        }
        parsed += 1;
        parsed_bytes += source.text.len();
        let src = source.text.as_str();
        let Ok(docs) = parse_stream(src) else {
            continue;
        };
        lap(3, &mut at);
        let mut edits = Vec::new();
        let mut expected = Vec::new();
        for d in &docs {
            if let Ok(plan) = kubemig::plan::plan_document(src, d, &cat, window) {
                edits.extend(plan.edits);
                expected.push(plan.expected);
            }
        }
        lap(4, &mut at);
        if edits.is_empty() || expected.len() != docs.len() {
            continue;
        }
        let Ok(output) = kubemig::edit::apply(src, &edits) else {
            continue;
        };
        lap(5, &mut at);
        let plain = kubemig::input::plain::Plain;
        let _ =
            kubemig::engine::verify_rewrite(src, &output, &docs, &edits, &expected, &ctx, &plain);
        lap(6, &mut at);
        let want: Vec<_> = docs
            .iter()
            .zip(&expected)
            .enumerate()
            .map(|(i, (d, e))| match e {
                Some(m) => kubemig::verify::Expect::Planned(m),
                None => kubemig::verify::Expect::Same {
                    text: kubemig::verify::document_text(src, &docs, i),
                    doc: d,
                },
            })
            .collect();
        let _ = kubemig::verify::verify_docs(&output, &want, |doc| {
            use kubemig::input::InputKind;
            kubemig::input::plain::Plain.plan(&output, doc, &cat, window)
        });
        lap(8, &mut at);
    }
    let start = Instant::now();
    for input in &walked.inputs {
        if let kubemig::walk::Input::File(p) = input
            && let Ok(raw) = std::fs::read(p)
        {
            std::hint::black_box(process(raw, &ctx));
        }
    }
    t[7] = start.elapsed();
    println!(
        "{} files, {:.1} MB; {parsed} parsed, {:.1} MB",
        walked.inputs.len(),
        bytes as f64 / 1e6,
        parsed_bytes as f64 / 1e6
    );
    for (name, d) in names.iter().zip(t) {
        let over = if matches!(*name, "read" | "decode" | "prefilter" | "process") {
            bytes
        } else {
            parsed_bytes
        };
        println!(
            "{name:>10}: {:8.3} s  {:8.1} MB/s",
            d.as_secs_f64(),
            over as f64 / 1e6 / d.as_secs_f64()
        );
    }
}
