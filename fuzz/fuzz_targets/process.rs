//! parse → plan → splice → verify on arbitrary bytes, through the same entry point the CLI
//! uses (`kubemig::engine::process`). The first byte picks the target version and whether
//! the prefilter runs. Properties: no panic, no hang (libFuzzer's -timeout), and a rewrite
//! that is returned (what `fix` would write) re-parses, has the same number of documents,
//! and is a fixed point: processing it again plans nothing and reports no error.
#![no_main]

use std::sync::OnceLock;

use kubemig::catalogue::{Catalogue, Release, Window};
use kubemig::engine::{Context, process};
use kubemig::prefilter::Prefilter;
use libfuzzer_sys::fuzz_target;

fn catalogue() -> &'static (Catalogue, Prefilter) {
    static CAT: OnceLock<(Catalogue, Prefilter)> = OnceLock::new();
    CAT.get_or_init(|| {
        let cat = Catalogue::embedded().expect("embedded catalogue");
        let pf = Prefilter::new(&cat);
        (cat, pf)
    })
}

const TARGETS: [u32; 8] = [16, 19, 22, 25, 26, 29, 32, 36];

fuzz_target!(|data: &[u8]| {
    let (cat, pf) = catalogue();
    let (sel, bytes) = match data.split_first() {
        Some((&b, rest)) => (b, rest),
        None => (0, data),
    };
    let window = Window {
        target: Release(TARGETS[(sel & 7) as usize]),
        min: None,
        include_deprecated: sel & 0x10 != 0,
    };
    let ctx = Context {
        catalogue: cat,
        window,
        prefilter: (sel & 0x20 != 0).then_some(pf),
    };
    let out = process(bytes.to_vec(), &ctx);
    let Some((old, new)) = out.rewrite else {
        return;
    };
    assert!(out.error.is_none(), "a rewrite together with an error");
    assert_eq!(old.as_bytes(), bytes, "the original text is not the input");
    // A Helm template is parsed with its actions masked (kubemig::template); its own
    // self-verification covers that, and the second run below covers both.
    if !kubemig::template::is_template(&old) {
        let before = kubemig::yaml::parse_stream(&old).expect("input parsed");
        let after = kubemig::yaml::parse_stream(&new).expect("the rewrite must parse");
        assert_eq!(before.len(), after.len(), "document count changed");
    }
    let again = process(
        new.clone().into_bytes(),
        &Context {
            prefilter: None,
            ..ctx
        },
    );
    assert!(
        again.error.is_none(),
        "the rewrite gives an error: {:?}\n--- input\n{old}\n--- output\n{new}",
        again.error
    );
    assert!(
        again.rewrite.is_none(),
        "a second run changes the rewrite\n--- input\n{old}\n--- output\n{new}"
    );
});
