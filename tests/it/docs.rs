//! Every console example in `README.md` and `docs/*.md` is run, and its output compared with
//! what the page shows, so the documentation cannot go stale.
//!
//! A console example is a fenced block whose info string is `console`. Each line starting
//! with `$ ` is a command, run by `sh -c` with this build's `kubemig` first on `PATH`; the
//! lines after it, up to the next command or the end of the block, are its expected output:
//! stdout, then stderr (where kubemig writes its summary), as a terminal shows them when
//! nothing is interleaved. The exit status is not shown on the page and not compared.
//!
//! Every block runs in a fresh scratch repository holding a copy of `testdata/` (the public
//! corpus aside), so examples may name the bundled files and may run `fix`; its path shows as
//! `/src` in the output.
//!
//! The expected output may use snapbox's wildcards: `...` on a line of its own for any
//! number of lines (an excerpt), `[..]` inside a line for any text.
//! `KUBEMIG_BLESS=1` writes the real output into the pages for the examples without
//! wildcards (review the diff before committing it).
//!
//! The page parsing is ours (a few lines); trycmd would read the same blocks but wants the
//! exit status written on the page (`? 1`), which is noise in a user's README.

use crate::common;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Example {
    /// 1-based line of the `$ ` line in the page.
    line: usize,
    command: String,
    expected: Vec<String>,
}

struct Block {
    examples: Vec<Example>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match &mut current {
            None if fence && line.trim() == "```console" => {
                current = Some(Block {
                    examples: Vec::new(),
                })
            }
            None => {}
            Some(_) if fence => blocks.push(current.take().unwrap()),
            Some(block) => {
                if let Some(command) = line.strip_prefix("$ ") {
                    block.examples.push(Example {
                        line: i + 1,
                        command: command.to_string(),
                        expected: Vec::new(),
                    });
                } else if let Some(example) = block.examples.last_mut() {
                    example.expected.push(line.to_string());
                } else {
                    panic!("line {}: a console block must start with `$ `", i + 1);
                }
            }
        }
    }
    assert!(current.is_none(), "a console block is not closed");
    blocks
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&src, &dst);
        } else if kind.is_file() {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A scratch repository (a `.git` directory is what kubemig looks for) with `testdata/`
/// (without the corpus) in it.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    let testdata = dir.path().join("testdata");
    for entry in fs::read_dir(root().join("testdata")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "corpus" && entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &testdata.join(entry.file_name()));
        }
    }
    dir
}

fn run(command: &str, dir: &Path) -> String {
    let bin = Path::new(common::BIN).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("KUBEMIG_PROGRESS_DELAY_MS")
        .output()
        .expect("run sh");
    let mut text = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    text.push_str(&String::from_utf8(out.stderr).expect("stderr is UTF-8"));
    text
}

#[test]
fn console_examples_in_the_docs_print_what_they_show() {
    let bless = std::env::var_os("KUBEMIG_BLESS").is_some();
    let mut failures = Vec::new();
    let mut count = 0;
    for page in pages() {
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        let text = fs::read_to_string(&page).unwrap();
        let mut replacements: Vec<(usize, usize, String)> = Vec::new();
        for block in blocks(&text) {
            let dir = sandbox();
            for ex in &block.examples {
                count += 1;
                // The scratch directory's path, which changes every run, shows as `/src`.
                let actual =
                    run(&ex.command, dir.path()).replace(dir.path().to_str().unwrap(), "/src");
                let expected = ex.expected.join("\n") + "\n";
                let verdict = snapbox::Assert::new().try_eq(
                    Some(&format!("{name}:{}", ex.line)),
                    actual.clone().into(),
                    expected.clone().into(),
                );
                if let Err(e) = verdict {
                    let wild = expected.contains("[..]") || expected.lines().any(|l| l == "...");
                    if bless && !wild {
                        replacements.push((ex.line, ex.expected.len(), actual));
                    } else {
                        failures.push(format!("{name}:{}: $ {}\n{e}", ex.line, ex.command));
                    }
                }
            }
        }
        if !replacements.is_empty() {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            for (line, len, actual) in replacements.into_iter().rev() {
                lines.splice(line..line + len, actual.lines().map(str::to_string));
            }
            fs::write(&page, lines.join("\n") + "\n").unwrap();
        }
    }
    assert!(count >= 10, "only {count} console examples found");
    assert!(
        failures.is_empty(),
        "{} of {count} console examples differ from the real output (KUBEMIG_BLESS=1 rewrites \
         those without wildcards):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn blocks_are_read_as_commands_and_their_output() {
    let page = "text\n```console\n$ a\none\ntwo\n$ b\n```\n```yaml\n$ not: run\n```\n";
    let b = blocks(page);
    assert_eq!(b.len(), 1);
    let ex = &b[0].examples;
    assert_eq!((ex[0].line, ex[0].command.as_str()), (3, "a"));
    assert_eq!(ex[0].expected, ["one", "two"]);
    assert_eq!((ex[1].line, ex[1].command.as_str()), (6, "b"));
    assert!(ex[1].expected.is_empty());
}

/// The README is the first screen a newcomer reads: what it is, Install, usage. Details
/// belong in `docs/`.
#[test]
fn the_readme_stays_short() {
    let size = fs::metadata(root().join("README.md")).unwrap().len();
    assert!(
        size <= 20_000,
        "README.md is {size} bytes; move details to docs/"
    );
}
