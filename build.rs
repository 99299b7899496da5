//! Embed every `migrations/*.toml` file in the binary. The list is generated so that adding
//! a file needs no code change; the registry validates the contents at load and in tests.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let mut files: Vec<_> = fs::read_dir("migrations")
        .expect("migrations/ directory")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut code = String::from("pub static FILES: &[(&str, &str)] = &[\n");
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
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("catalogue_files.rs");
    fs::write(out, code).expect("write generated list");
}
