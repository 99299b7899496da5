//! Embed every `migrations/*.toml` file in the binary. The list is generated so that adding
//! a file needs no code change; the registry validates the contents at load and in tests.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations/packs");
    let mut code = list("FILES", Path::new("migrations"));
    code.push_str(&as_json("FILES_JSON", Path::new("migrations")));
    // Third-party API packs: loaded only when enabled by name (`--pack`).
    code.push_str(&list("PACKS", Path::new("migrations/packs")));
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("catalogue_files.rs");
    fs::write(out, code).expect("write generated list");
}

/// `pub static NAME: &[&str]`: every `*.toml` file of `dir` as JSON, in [`list`]'s order.
/// Reading TOML was most of a run's start-up (a third of the instructions of `check` on 400
/// files); the same values read from JSON take a fraction of it. The TOML texts stay
/// embedded: errors, packs and `--rules` merges read them.
fn as_json(name: &str, dir: &Path) -> String {
    let mut code = format!("pub static {name}: &[&str] = &[\n");
    for f in toml_files(dir) {
        let text = fs::read_to_string(&f).expect("readable catalogue file");
        // A file that is not valid TOML is reported by the registry at load, from its text.
        let json = toml::from_str::<toml::Table>(&text)
            .map(|t| serde_json::to_string(&t).expect("a TOML table is JSON"))
            .unwrap_or_default();
        code.push_str(&format!("    {json:?},\n"));
    }
    code.push_str("];\n");
    code
}

fn toml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("readable entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// `pub static NAME: &[(&str, &str)]`: every `*.toml` file of `dir`, by file name.
fn list(name: &str, dir: &Path) -> String {
    let mut code = format!("pub static {name}: &[(&str, &str)] = &[\n");
    for f in &toml_files(dir) {
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
