//! What the integration tests share: the one way they run the kubemig binary, and helpers
//! for working on copies of `testdata/` trees and golden files.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The kubemig binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_kubemig");

/// What a run of kubemig printed, and its exit code.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// One run of the kubemig binary, built up and then run with [`Kubemig::run`] (text output)
/// or [`Kubemig::output`] (raw bytes). The environment that would change kubemig's output
/// (colour and progress variables, thread count) is cleared unless a test sets it.
pub struct Kubemig<'a> {
    dir: &'a Path,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    env: Vec<(String, String)>,
    /// Run this binary as this user (root only): for permission tests under root.
    as_user: Option<(PathBuf, u32)>,
}

/// kubemig with `args`, in `dir`.
pub fn km<'a>(dir: &'a Path, args: &[&str]) -> Kubemig<'a> {
    Kubemig {
        dir,
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
        env: Vec::new(),
        as_user: None,
    }
}

impl Kubemig<'_> {
    pub fn args<S: AsRef<str>>(mut self, more: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(more.into_iter().map(|s| s.as_ref().to_string()));
        self
    }

    /// No colour, and no `.kubemig.toml` from around the temporary directory, so the test
    /// sees only its own flags.
    pub fn plain(self) -> Self {
        self.args(["--color", "never", "--no-config"])
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn run_as(mut self, user: Option<(PathBuf, u32)>) -> Self {
        self.as_user = user;
        self
    }

    /// The command, ready to spawn, for tests that drive the process themselves (signals,
    /// closed pipes).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        #[cfg(unix)]
        if let Some((bin, uid)) = &self.as_user {
            use std::os::unix::process::CommandExt;
            // std drops the supplementary groups too when root sets a uid.
            cmd = Command::new(bin);
            cmd.uid(*uid).gid(*uid);
        }
        cmd.current_dir(self.dir)
            .args(&self.args)
            .env_remove("RAYON_NUM_THREADS")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .env_remove("KUBEMIG_PROGRESS_DELAY_MS")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run to the end; the output as bytes. Whatever the test expects, kubemig must not
    /// panic, be killed, exit outside 0–2, or report an internal error (self-verification
    /// refusing its own output).
    pub fn output(self) -> Output {
        let mut child = self.command().spawn().expect("start kubemig");
        if let Some(bytes) = &self.stdin {
            let mut pipe = child.stdin.take().unwrap();
            // The child may legitimately exit before reading everything.
            let _ = pipe.write_all(bytes);
        }
        let out = child.wait_with_output().expect("wait for kubemig");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let args = &self.args;
        let code = out.status.code().unwrap_or_else(|| {
            panic!(
                "kubemig {args:?} was killed by a signal: {:?}\n{stderr}",
                out.status
            )
        });
        assert!(
            !stderr.contains("panicked"),
            "kubemig {args:?} panicked:\n{stderr}"
        );
        assert!(
            !stderr.contains("internal error"),
            "kubemig {args:?} reported an internal error:\n{stderr}"
        );
        assert!(
            matches!(code, 0..=2),
            "kubemig {args:?} exited {code}:\n{stderr}"
        );
        out
    }

    /// Run to the end; the output as text (which must be UTF-8).
    pub fn run(self) -> Run {
        let out = self.output();
        Run {
            code: out.status.code().unwrap(),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Copy the directory `from` to `to`, recursively (created as needed).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every file below `root`, as paths relative to it, sorted.
pub fn files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, under: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(under).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Run kubemig in `dir` with `args`, no colour and no configuration file (see
/// [`Kubemig::plain`]).
pub fn kubemig(dir: &Path, args: &[&str]) -> Output {
    km(dir, args).plain().output()
}

/// Whether expected files are to be rewritten (`KUBEMIG_BLESS=1`) instead of compared.
pub fn bless() -> bool {
    std::env::var_os("KUBEMIG_BLESS").is_some()
}

/// Compare `actual` with the expected file at `path`, or write it there when blessing.
pub fn golden(path: &Path, actual: &[u8]) {
    if bless() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, actual).unwrap();
        return;
    }
    let want = fs::read(path).unwrap_or_default();
    assert!(
        want == actual,
        "{} differs:\n--- expected\n{}\n--- actual\n{}",
        path.display(),
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(actual)
    );
}

pub fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    p
}

/// Every regular file under `dir` (symlinks as their target path), skipping `.git`.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn go(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let t = e.file_type().unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if t.is_symlink() {
                let target = fs::read_link(&p).unwrap();
                out.insert(rel, format!("-> {}", target.display()).into_bytes());
            } else if t.is_dir() {
                if e.file_name() != ".git" {
                    go(root, &p, out);
                }
            } else {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    go(dir, dir, &mut out);
    out
}

/// Whether `p` is one of kubemig's temporary files (`.kubemig-*.tmp`, beside the file it
/// replaces).
pub fn is_temp(p: &Path) -> bool {
    let name = p.file_name().unwrap().to_string_lossy();
    name.starts_with(".kubemig-") && name.ends_with(".tmp")
}
