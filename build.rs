//! Embed every `migrations/*.toml` file in the binary. The list is generated so that adding
//! a file needs no code change; the registry validates the contents at load and in tests.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations/packs");
    let mut code = list("FILES", Path::new("migrations"));
    // Third-party API packs: loaded only when enabled by name (`--pack`).
    code.push_str(&list("PACKS", Path::new("migrations/packs")));
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("catalogue_files.rs");
    fs::write(out, code).expect("write generated list");
}

/// `pub static NAME: &[(&str, &str)]`: every `*.toml` file of `dir`, by file name.
fn list(name: &str, dir: &Path) -> String {
    let mut files: Vec<_> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("readable entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = format!("pub static {name}: &[(&str, &str)] = &[\n");
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let abs = fs::canonicalize(f).expect("canonical path");
        println!("cargo:rerun-if-changed={}", f.display());
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    code.push_str("];\n");
    code
}
