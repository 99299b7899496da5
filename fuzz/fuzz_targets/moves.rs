//! Structural edits on arbitrary subtrees: the input's text (after a first byte that picks
//! the operation and the depths) becomes the value of a key that rules of the rule language
//! move, copy or rename, deeper or shallower, through `kubemig::engine::process`. Property:
//! no panic and never an "internal error" (self-verification failing): every move either
//! verifies or is refused with a finding. A rewrite that is returned is a fixed point.
#![no_main]

use std::sync::OnceLock;

use kubemig::catalogue::{Catalogue, Window};
use kubemig::engine::{Context, process};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 3] = ["s", "a.s", "a.b.c.s"];
const TARGETS: [&str; 3] = ["t", "x.t", "x.y.z.t"];

fn rules() -> String {
    let mut kinds = Vec::new();
    let mut rules = String::new();
    for (i, from) in PATHS.iter().enumerate() {
        for (j, to) in TARGETS.iter().enumerate() {
            for op in ["move", "copy"] {
                let kind = format!("{}{i}{j}", if op == "move" { "Move" } else { "Copy" });
                rules.push_str(&format!(
                    "[[migration.rule]]\nat = \"spec\"\nwhen = {{ has = [\"{from}\"], equals = {{ \"$.kind\" = \"{kind}\" }} }}\nops = [{{ {op} = \"{from}\", to = \"{to}\" }}]\n\n"
                ));
                kinds.push(kind);
            }
        }
    }
    let kinds = kinds
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "[[version]]\napi = \"moves.example.com/v1alpha1\"\nkinds = [{kinds}]\nintroduced = \"1.0\"\nremoved = \"1.0\"\n\n\
         [[version]]\napi = \"moves.example.com/v1\"\nkinds = [{kinds}]\nintroduced = \"1.0\"\n\n\
         [[migration]]\nid = \"moves/v1alpha1-to-v1\"\nfrom = \"moves.example.com/v1alpha1\"\nto = \"moves.example.com/v1\"\nkinds = [{kinds}]\nsummary = \"fuzz moves\"\ndocs = \"https://example.com\"\n\n{rules}"
    )
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        Catalogue::embedded_with(&[("moves.toml".to_string(), rules())]).expect("catalogue")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(rest) else {
        return;
    };
    let (from, to) = ((sel % 3) as usize, ((sel / 3) % 3) as usize);
    let op = if sel & 0x80 != 0 { "Copy" } else { "Move" };
    // The value goes after `s:` on its own lines, indented under the key.
    let segs: Vec<&str> = PATHS[from].split('.').collect();
    let mut doc = format!("apiVersion: moves.example.com/v1alpha1\nkind: {op}{from}{to}\nspec:\n");
    for (i, seg) in segs.iter().enumerate() {
        doc.push_str(&" ".repeat(2 * (i + 1)));
        doc.push_str(seg);
        doc.push_str(":\n");
    }
    let indent = " ".repeat(2 * (segs.len() + 1));
    for line in value.lines() {
        doc.push_str(&indent);
        doc.push_str(line);
        doc.push('\n');
    }
    let cat = catalogue();
    let ctx = Context {
        catalogue: cat,
        window: Window {
            target: cat.newest,
            min: None,
            include_deprecated: false,
        },
        prefilter: None,
    };
    let out = process(doc.into_bytes(), &ctx);
    if let Some(e) = &out.error {
        assert!(!e.message.contains("internal error"), "{}", e.message);
    }
    if let Some((_, new)) = out.rewrite {
        let again = process(new.into_bytes(), &ctx);
        assert!(
            again.error.is_none() && again.rewrite.is_none(),
            "not a fixed point"
        );
    }
});
