//! Hostile and unusual input, run against the real binary: each case states what must
//! happen. Big inputs are generated at test time in temporary directories.
//!
//! Complements tests/cli.rs, which already covers: undecodable and missing files, an
//! unreadable file or directory when not running as root, symlinks named on the command
//! line, walked directories with symlinks (outside, dangling), atomic replacement with the
//! mode kept, and determinism across thread counts. Here every case also runs as root: where
//! permissions matter, kubemig is started as `nobody` (uid 65534) when the tests run as root.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, write};

const HPA_V2BETA2: &str = "\
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  maxReplicas: 10
";

const HPA_V2: &str = "\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  maxReplicas: 10
";

const NOBODY: u32 = 65534;

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

struct Km {
    cmd: Command,
    timeout: Duration,
    stdin: Option<Vec<u8>>,
}

/// `kubemig ARGS` in `dir`.
fn km(dir: &Path, args: &[&str]) -> Km {
    Km {
        cmd: common::km(dir, args).args(["--color", "never"]).command(),
        timeout: Duration::from_secs(60),
        stdin: None,
    }
}

/// `kubemig ARGS` under `sh -c` with a shell prelude (`ulimit`, `trap`).
fn km_sh(dir: &Path, prelude: &str, args: &[&str]) -> Km {
    let mut cmd = Command::new("sh");
    let mut script = format!("{prelude}; exec \"$0\"");
    for i in 0..args.len() {
        script.push_str(&format!(" \"${}\"", i + 1));
    }
    script.push_str(" --color never");
    cmd.current_dir(dir)
        .arg("-c")
        .arg(script)
        .arg(common::BIN)
        .args(args);
    Km {
        cmd,
        timeout: Duration::from_secs(60),
        stdin: None,
    }
}

impl Km {
    fn timeout(mut self, secs: u64) -> Km {
        self.timeout = Duration::from_secs(secs);
        self
    }

    /// Run as `nobody` when the tests run as root, so that permissions apply.
    fn nobody_if_root(mut self) -> Km {
        if is_root() {
            use std::os::unix::process::CommandExt;
            self.cmd.uid(NOBODY).gid(NOBODY);
        }
        self
    }

    fn stdin(mut self, bytes: Vec<u8>) -> Km {
        self.stdin = Some(bytes);
        self
    }

    fn run(mut self) -> Run {
        let start = Instant::now();
        self.cmd
            .env_remove("RAYON_NUM_THREADS")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("start kubemig");
        if let Some(bytes) = self.stdin.take() {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut out, &mut v).ok();
            v
        });
        let err_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut err, &mut v).ok();
            v
        });
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > self.timeout {
                child.kill().ok();
                child.wait().ok();
                panic!(
                    "kubemig {:?} did not finish in {:?}",
                    self.cmd, self.timeout
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        let stdout = String::from_utf8(out_t.join().unwrap()).expect("stdout is UTF-8");
        let stderr = String::from_utf8(err_t.join().unwrap()).expect("stderr is UTF-8");
        assert!(!stderr.contains("panicked"), "kubemig panicked:\n{stderr}");
        Run {
            code: status.code(),
            stdout,
            stderr,
            elapsed,
        }
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file this process creates.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x");
    fs::write(&f, "").unwrap();
    fs::metadata(&f).unwrap().uid() == 0
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("kubemig-hostile-")
        .tempdir()
        .unwrap()
}

/// A temporary directory that `nobody` can use when the tests run as root.
fn shared_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempdir();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// Hand a path to `nobody` when running as root.
fn give_to_nobody(p: &Path) {
    if is_root() {
        std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).unwrap();
    }
}

/// Every `PATH: error: …` or `PATH:L:C: error: …` line for `path`.
fn errors_for<'a>(r: &'a Run, path: &str) -> Vec<&'a str> {
    r.stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{path}:")) && l.contains(" error: "))
        .collect()
}

/// The one error line `r` reports for `path` (a failure names `context` and shows stderr).
fn one_error<'a>(r: &'a Run, path: &str, context: std::fmt::Arguments) -> &'a str {
    let e = errors_for(r, path);
    assert_eq!(e.len(), 1, "{context} {path}: {}", r.stderr);
    e[0]
}

fn no_temp_files(dir: &Path) {
    for e in walk(dir) {
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !(name.starts_with(".kubemig-") && name.ends_with(".tmp")),
            "temporary file left behind: {}",
            e.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Resource exhaustion

/// "Billion laughs": nine levels of ten aliases each (10^9 nodes when expanded), in an
/// object kubemig must migrate and in one it need not. Expected: a clean positioned error
/// from the parse (aliases are never expanded past 10^6 nodes), quickly, in bounded memory
/// (the run is capped at 1 GiB of address space), the other files fixed.
#[test]
fn alias_bomb_is_refused_in_bounded_time_and_memory() {
    let t = tempdir();
    let mut bomb = String::from(
        "apiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: lol\n  annotations:\n    a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "    a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bomb.push_str("spec:\n  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      targetAverageUtilization: 50\n");
    write(t.path(), "bomb.yaml", &bomb);
    // The same bomb, in a file that needs no migration but is parsed.
    write(
        t.path(),
        "cm.yaml",
        bomb.replace("autoscaling/v2beta1", "v1")
            .replace("HorizontalPodAutoscaler", "ConfigMap"),
    );
    write(t.path(), "good.yaml", HPA_V2BETA2);
    for cmd in ["check", "diff", "fix"] {
        let r = km_sh(t.path(), "ulimit -v 1048576", &[cmd, "--no-prefilter", "."])
            .timeout(60)
            .run();
        assert_eq!(r.code, Some(2), "{cmd}: {r:?}");
        assert!(
            r.elapsed < Duration::from_secs(20),
            "{cmd}: took {:?}",
            r.elapsed
        );
        for f in ["bomb.yaml", "cm.yaml"] {
            let e = one_error(&r, f, format_args!("{cmd}"));
            // Positioned at the alias-bearing node that crosses the limit (a5, line 11).
            assert!(
                e.starts_with(&format!("{f}:11:")) && e.contains("alias bomb"),
                "{cmd}: {}",
                e
            );
        }
    }
    assert_eq!(
        fs::read_to_string(t.path().join("bomb.yaml")).unwrap(),
        bomb
    );
    assert_eq!(
        fs::read_to_string(t.path().join("good.yaml")).unwrap(),
        HPA_V2
    );
}

/// 100,000 levels of nesting in flow mappings, flow sequences and compact block
/// sequences. Expected: a clean positioned error (the parser's nesting limit), no stack
/// overflow, other files still processed.
#[test]
fn deep_nesting_is_a_clean_error() {
    let t = tempdir();
    const N: usize = 100_000;
    let head = "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: deep\nspec:\n  x: ";
    let flow_map = format!("{head}{}1{}\n", "{a: ".repeat(N), "}".repeat(N));
    let flow_seq = format!("{head}{}1{}\n", "[".repeat(N), "]".repeat(N));
    let block_seq = format!("{}\n  {}1\n", head.trim_end(), "- ".repeat(N));
    write(t.path(), "flow-map.yaml", &flow_map);
    write(t.path(), "flow-seq.yaml", &flow_seq);
    write(t.path(), "block-seq.yaml", &block_seq);
    write(t.path(), "good.yaml", HPA_V2BETA2);
    for cmd in ["check", "fix"] {
        let r = km(t.path(), &[cmd, "."]).run();
        assert_eq!(r.code, Some(2), "{cmd}: {r:?}");
        for (f, line) in [
            ("flow-map.yaml", 6),
            ("flow-seq.yaml", 6),
            ("block-seq.yaml", 7),
        ] {
            let e = one_error(&r, f, format_args!("{cmd}"));
            assert!(
                e.starts_with(&format!("{f}:{line}:")),
                "{cmd} {f}: the error is not positioned on the nesting: {}",
                e
            );
        }
    }
    assert_eq!(
        fs::read_to_string(t.path().join("good.yaml")).unwrap(),
        HPA_V2
    );
    assert_eq!(
        fs::read_to_string(t.path().join("flow-map.yaml")).unwrap(),
        flow_map
    );
}

/// A 1 GiB file (sparse: nothing is written to disk) is refused by `--max-file-size`
/// (default 32M) from its size alone, at once; so is one just over the limit, and one
/// piped on stdin. A file under a lowered limit that is raised again is processed.
#[test]
fn huge_files_are_refused_by_size_without_reading_them() {
    let t = tempdir();
    let huge = t.path().join("huge.yaml");
    let f = fs::File::create(&huge).unwrap();
    f.set_len(1 << 30).unwrap();
    drop(f);
    let over = t.path().join("over.yaml");
    let f = fs::File::create(&over).unwrap();
    f.set_len(32 * 1024 * 1024 + 1).unwrap();
    drop(f);
    write(t.path(), "good.yaml", HPA_V2BETA2);
    for cmd in ["check", "diff", "fix"] {
        let r = km(t.path(), &[cmd, "."]).run();
        assert_eq!(r.code, Some(2), "{cmd}: {r:?}");
        assert!(
            r.elapsed < Duration::from_secs(5),
            "{cmd}: took {:?}",
            r.elapsed
        );
        for (name, size) in [
            ("huge.yaml", 1u64 << 30),
            ("over.yaml", 32 * 1024 * 1024 + 1),
        ] {
            let e = one_error(&r, name, format_args!("{cmd}"));
            assert!(
                e.contains(&size.to_string()) && e.contains("--max-file-size"),
                "{}",
                e
            );
        }
    }
    assert_eq!(fs::metadata(&huge).unwrap().len(), 1 << 30);
    assert_eq!(
        fs::read_to_string(t.path().join("good.yaml")).unwrap(),
        HPA_V2
    );

    // A lower limit applies to ordinary files too.
    write(t.path(), "small/hpa.yaml", HPA_V2BETA2);
    let r = km(t.path(), &["check", "--max-file-size", "100", "small"]).run();
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(errors_for(&r, "small/hpa.yaml")[0].contains("more than --max-file-size 100"));
    let r = km(t.path(), &["check", "--max-file-size", "1K", "small"]).run();
    assert_eq!(r.code, Some(1), "{r:?}");

    // stdin: read up to the limit, then refused.
    let r = km(t.path(), &["check", "--max-file-size", "1K", "-"])
        .stdin(vec![b'#'; 64 * 1024])
        .run();
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("--max-file-size"), "{}", r.stderr);
}

/// A single 10 MB line: a JSON object whose annotation holds 10 MB of text. Expected: the
/// correct migration (only the apiVersion changes), in bounded time.
#[test]
fn ten_megabyte_single_line() {
    let t = tempdir();
    let big = "x".repeat(10 * 1024 * 1024);
    let json = format!(
        "{{\"apiVersion\":\"autoscaling/v2beta2\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{{\"name\":\"big\",\"annotations\":{{\"note\":\"{big}\"}}}},\"spec\":{{\"maxReplicas\":3}}}}"
    );
    write(t.path(), "big.json", &json);
    // And 10 MB of one plain scalar with no line break at all.
    let plain = format!("autoscaling/v2beta2 {big}");
    write(t.path(), "plain.yaml", &plain);
    let r = km(t.path(), &["fix", "."]).timeout(120).run();
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.elapsed < Duration::from_secs(60), "took {:?}", r.elapsed);
    assert_eq!(
        fs::read_to_string(t.path().join("big.json")).unwrap(),
        json.replace("autoscaling/v2beta2", "autoscaling/v2")
    );
    assert_eq!(
        fs::read_to_string(t.path().join("plain.yaml")).unwrap(),
        plain
    );
}

/// Big documents: one mapping with 150,000 keys (annotations of an object that needs
/// migrating; a ConfigMap can have as many) and a sequence of 50,000 flow mappings (450,000
/// nodes). Expected: the correct migration, in time linear in the size (the per-mapping key
/// checks used to be quadratic: minutes for these) and bounded memory (1 GiB of address
/// space). A document of more than a million nodes (2 MB of `1,` in a flow sequence, which
/// would take gigabytes) is a clean positioned error, at once, built no further.
#[test]
fn huge_mappings_and_sequences_take_linear_time_and_bounded_memory() {
    let t = tempdir();
    let mut map = String::from(
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: big\n  annotations:\n",
    );
    for i in 0..150_000 {
        map.push_str(&format!("    k{i}: v{i}\n"));
    }
    map.push_str("spec:\n  maxReplicas: 3\n");
    write(t.path(), "map.yaml", &map);
    let mut seq = String::from(
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: big\nspec:\n  maxReplicas: 3\n  metrics:\n",
    );
    for i in 0..50_000 {
        seq.push_str(&format!(
            "  - {{type: Pods, pods: {{metric: {{name: m{i}}}}}}}\n"
        ));
    }
    write(t.path(), "seq.yaml", &seq);
    let dense = format!(
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: big\nspec:\n  x: [{}]\n",
        ["1"; 1_100_000].join(",")
    );
    write(t.path(), "dense.yaml", &dense);
    let r = km_sh(t.path(), "ulimit -v 1048576", &["fix", "."])
        .timeout(120)
        .run();
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.elapsed < Duration::from_secs(30), "took {:?}", r.elapsed);
    for (name, text) in [("map.yaml", &map), ("seq.yaml", &seq)] {
        assert_eq!(
            fs::read_to_string(t.path().join(name)).unwrap(),
            text.replacen("autoscaling/v2beta2", "autoscaling/v2", 1),
            "{name}"
        );
    }
    let e = one_error(&r, "dense.yaml", format_args!("fix"));
    assert!(
        e.starts_with("dense.yaml:6:") && e.contains("more than 1000000 YAML nodes"),
        "{}",
        e
    );
    assert_eq!(
        fs::read_to_string(t.path().join("dense.yaml")).unwrap(),
        dense
    );
}

// ---------------------------------------------------------------------------------------
// Encodings and file types

/// Bytes that are not UTF-8 YAML. Expected: one clean error each, the file untouched, the
/// others processed; empty and comment-only files are fine (nothing to do).
#[test]
fn undecodable_binary_and_empty_inputs() {
    let t = tempdir();
    let utf16 = |be: bool| {
        let mut v = if be {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in HPA_V2BETA2.encode_utf16() {
            v.extend(if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        v
    };
    let mut png = vec![
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D,
    ];
    png.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "latin1.yaml",
            format!("{HPA_V2BETA2}  # caf\u{e9}\n")
                .replace('\u{e9}', "\u{1}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 1 { 0xE9 } else { b })
                .collect(),
            "not valid UTF-8",
        ),
        ("utf16le.yaml", utf16(false), "UTF-16"),
        ("utf16be.yaml", utf16(true), "UTF-16"),
        (
            "nul.yaml",
            format!("{HPA_V2BETA2}\0\n").into_bytes(),
            "NUL byte",
        ),
        ("image.yaml", png, "NUL byte"),
    ];
    for (name, bytes, _) in &cases {
        write(t.path(), name, bytes);
    }
    write(t.path(), "empty.yaml", "");
    write(
        t.path(),
        "comments.yaml",
        "# nothing here\n\n   # at all\r\n#",
    );
    write(t.path(), "bom-only.yaml", "\u{feff}");
    write(t.path(), "good.yaml", HPA_V2BETA2);
    for cmd in ["check", "diff", "fix"] {
        for extra in [&[][..], &["--no-prefilter"]] {
            let mut args = vec![cmd];
            args.extend(extra);
            args.push(".");
            let r = km(t.path(), &args).run();
            assert_eq!(r.code, Some(2), "{args:?}: {r:?}");
            for (name, _, why) in &cases {
                let e = one_error(&r, name, format_args!("{args:?}"));
                assert!(e.contains(why), "{args:?}: {}", e);
            }
            for quiet in ["empty.yaml", "comments.yaml", "bom-only.yaml"] {
                assert!(errors_for(&r, quiet).is_empty(), "{args:?}: {}", r.stderr);
            }
        }
    }
    for (name, bytes, _) in &cases {
        assert_eq!(&fs::read(t.path().join(name)).unwrap(), bytes, "{name}");
    }
    assert_eq!(
        fs::read_to_string(t.path().join("good.yaml")).unwrap(),
        HPA_V2
    );
}

/// A directory named like a manifest is walked, not read; a FIFO is never opened (it
/// would block) — skipped when walked, refused when named; a dangling symlink named on the
/// command line is a clean error.
#[test]
fn directories_fifos_and_dangling_symlinks() {
    let t = tempdir();
    write(t.path(), "x.yaml/inner.yaml", HPA_V2BETA2);
    let fifo = t.path().join("pipe.yaml");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo");
    std::os::unix::fs::symlink("nowhere.yaml", t.path().join("dangling.yaml")).unwrap();
    write(t.path(), "good.yaml", HPA_V2BETA2);

    // Walked: the FIFO and the dangling link are skipped, x.yaml/ is walked.
    let r = km(t.path(), &["check", "."]).timeout(20).run();
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.stdout.contains("x.yaml/inner.yaml:1:13: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("good.yaml:1:13: "), "{}", r.stdout);
    assert!(!r.stdout.contains("pipe.yaml") && !r.stderr.contains("pipe.yaml"));

    // Named: the directory is walked, the FIFO and the dangling link are errors.
    for cmd in ["check", "fix"] {
        let r = km(
            t.path(),
            &[cmd, "x.yaml", "pipe.yaml", "dangling.yaml", "good.yaml"],
        )
        .timeout(20)
        .run();
        assert_eq!(r.code, Some(2), "{cmd}: {r:?}");
        assert_eq!(errors_for(&r, "pipe.yaml").len(), 1, "{cmd}: {}", r.stderr);
        assert!(
            errors_for(&r, "pipe.yaml")[0].contains("not a regular file"),
            "{}",
            r.stderr
        );
        assert_eq!(
            errors_for(&r, "dangling.yaml").len(),
            1,
            "{cmd}: {}",
            r.stderr
        );
        assert!(errors_for(&r, "x.yaml").is_empty(), "{cmd}: {}", r.stderr);
    }
    assert_eq!(
        fs::read_to_string(t.path().join("x.yaml/inner.yaml")).unwrap(),
        HPA_V2
    );
    let ft = fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&ft));
}

// ---------------------------------------------------------------------------------------
// Ambiguous objects

/// Two `apiVersion` (or `kind`) keys in one object: Kubernetes rejects the object, and
/// picking one would be a guess. Expected: an error at the second key naming the first's
/// line, the file left alone.
#[test]
fn duplicate_apiversion_or_kind_is_refused_naming_both_lines() {
    let t = tempdir();
    let dup_api = "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: a\napiVersion: autoscaling/v2\nspec:\n  maxReplicas: 3\n";
    let dup_kind = "# two kinds\nkind: HorizontalPodAutoscaler\napiVersion: autoscaling/v2beta2\nmetadata:\n  name: b\nkind: Deployment\n";
    let dup_deep = "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: c\nspec:\n  maxReplicas: 3\n  maxReplicas: 4\n";
    let in_list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: autoscaling/v2beta2\n  kind: HorizontalPodAutoscaler\n  apiVersion: autoscaling/v2beta1\n";
    write(t.path(), "dup-api.yaml", dup_api);
    write(t.path(), "dup-kind.yaml", dup_kind);
    write(t.path(), "dup-deep.yaml", dup_deep);
    write(t.path(), "in-list.yaml", in_list);
    write(t.path(), "good.yaml", HPA_V2BETA2);
    for cmd in ["check", "diff", "fix"] {
        for extra in [&[][..], &["--no-prefilter"]] {
            let mut args = vec![cmd];
            args.extend(extra);
            args.push(".");
            let r = km(t.path(), &args).run();
            assert_eq!(r.code, Some(2), "{args:?}: {r:?}");
            for (file, line, col, key, first) in [
                ("dup-api.yaml", 5, 1, "apiVersion", 1),
                ("dup-kind.yaml", 6, 1, "kind", 2),
                ("dup-deep.yaml", 7, 3, "maxReplicas", 6),
                ("in-list.yaml", 6, 3, "apiVersion", 4),
            ] {
                let e = one_error(&r, file, format_args!("{args:?}"));
                assert!(
                    e.starts_with(&format!(
                        "{file}:{line}:{col}: error: duplicate key `{key}`"
                    )) && e.contains(&format!("line {first}")),
                    "{args:?}: {}",
                    e
                );
            }
        }
    }
    assert_eq!(
        fs::read_to_string(t.path().join("dup-api.yaml")).unwrap(),
        dup_api
    );
    assert_eq!(
        fs::read_to_string(t.path().join("dup-kind.yaml")).unwrap(),
        dup_kind
    );
    assert_eq!(
        fs::read_to_string(t.path().join("dup-deep.yaml")).unwrap(),
        dup_deep
    );
    assert_eq!(
        fs::read_to_string(t.path().join("good.yaml")).unwrap(),
        HPA_V2
    );
}

// ---------------------------------------------------------------------------------------
// Writing

/// A read-only file (no write permission bits) and a file in a read-only directory.
/// Expected: a clean per-file error, the original intact (content, mode, inode), no
/// temporary file, the other files fixed. Runs kubemig as `nobody` when root, since root
/// may write anywhere.
#[test]
fn read_only_file_and_directory_are_clean_per_file_errors() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let t = shared_tempdir();
    let d = t.path();
    let ro_file = write(d, "ro-file.yaml", HPA_V2BETA2);
    fs::set_permissions(&ro_file, fs::Permissions::from_mode(0o444)).unwrap();
    let ro_dir_file = write(d, "ro-dir/hpa.yaml", HPA_V2BETA2);
    let good = write(d, "good.yaml", HPA_V2BETA2);
    for p in [&ro_file, &ro_dir_file, &good] {
        give_to_nobody(p);
    }
    give_to_nobody(d);
    fs::set_permissions(d.join("ro-dir"), fs::Permissions::from_mode(0o555)).unwrap();
    let inodes: Vec<u64> = [&ro_file, &ro_dir_file]
        .iter()
        .map(|p| fs::metadata(p).unwrap().ino())
        .collect();

    let r = km(d, &["fix", "."]).nobody_if_root().run();
    fs::set_permissions(d.join("ro-dir"), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(r.code, Some(2), "{r:?}");
    let e = one_error(&r, "ro-file.yaml", format_args!("fix"));
    assert!(e.contains("read-only"), "{}", e);
    let e = one_error(&r, "ro-dir/hpa.yaml", format_args!("fix"));
    assert!(e.contains("temporary file"), "{}", e);
    for (p, ino) in [&ro_file, &ro_dir_file].iter().zip(&inodes) {
        assert_eq!(fs::read_to_string(p).unwrap(), HPA_V2BETA2);
        assert_eq!(fs::metadata(p).unwrap().ino(), *ino);
    }
    assert_eq!(
        fs::metadata(&ro_file).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert_eq!(fs::read_to_string(&good).unwrap(), HPA_V2);
    no_temp_files(d);
    // The summary counts the failures.
    assert!(r.stderr.contains("2 errors"), "{}", r.stderr);
}

/// An unreadable directory, as root too (kubemig runs as `nobody`). Expected: one error
/// naming the directory, the rest processed.
#[test]
fn unreadable_directory_is_an_error_and_the_rest_is_processed() {
    use std::os::unix::fs::PermissionsExt;
    let t = shared_tempdir();
    let d = t.path();
    write(d, "locked/hpa.yaml", HPA_V2BETA2);
    let good = write(d, "open/hpa.yaml", HPA_V2BETA2);
    for p in [d, &d.join("open"), &good] {
        give_to_nobody(p);
    }
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o700)).unwrap();
    if !is_root() {
        fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    }
    let r = km(d, &["fix", "."]).nobody_if_root().run();
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(r.code, Some(2), "{r:?}");
    one_error(&r, "locked", format_args!("fix"));
    assert_eq!(fs::read_to_string(&good).unwrap(), HPA_V2);
    assert_eq!(
        fs::read_to_string(d.join("locked/hpa.yaml")).unwrap(),
        HPA_V2BETA2
    );
}

/// A full disk, two ways: a 64 KiB tmpfs (when this sandbox may mount one) and a file size
/// limit (RLIMIT_FSIZE via `ulimit -f`, writes past it fail with EFBIG; works anywhere).
/// Expected either way: the files that do not fit get a clean per-file error and stay as
/// they were, no temporary file is left, the files that fit are fixed.
#[test]
fn full_disk_is_a_clean_per_file_error() {
    // A big manifest: its rewrite does not fit; small ones do.
    let mut big = HPA_V2BETA2.to_string();
    big.push_str("  # padding\n");
    for i in 0..3000 {
        big.push_str(&format!("  # {i:05} ................................\n"));
    }
    assert!(big.len() > 100 * 1024);

    // RLIMIT_FSIZE: 64 blocks (32 KiB or 64 KiB depending on the shell's unit).
    let t = tempdir();
    let d = t.path();
    write(d, "big.yaml", &big);
    write(d, "small-a.yaml", HPA_V2BETA2);
    write(d, "small-b.yaml", HPA_V2BETA2);
    let r = km_sh(d, "trap '' XFSZ; ulimit -f 64", &["fix", "."]).run();
    assert_eq!(r.code, Some(2), "{r:?}");
    let e = one_error(&r, "big.yaml", format_args!("fix"));
    assert!(e.contains("cannot write the temporary file"), "{}", e);
    assert_eq!(fs::read_to_string(d.join("big.yaml")).unwrap(), big);
    for f in ["small-a.yaml", "small-b.yaml"] {
        assert_eq!(fs::read_to_string(d.join(f)).unwrap(), HPA_V2, "{f}");
    }
    no_temp_files(d);

    // A real ENOSPC on a tiny tmpfs.
    let mnt = tempdir();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=128k", "tmpfs"])
        .arg(mnt.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!(
            "note: cannot mount a tmpfs here; the ENOSPC case is covered by RLIMIT_FSIZE only"
        );
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(mnt.path());
    let d = mnt.path();
    write(d, "small-a.yaml", HPA_V2BETA2);
    write(d, "big.yaml", &big[..40 * 1024]);
    // Fill the rest of the file system.
    let mut filler = fs::File::create(d.join("filler.bin")).unwrap();
    let chunk = vec![0u8; 4096];
    while filler.write_all(&chunk).is_ok() {}
    drop(filler);
    let before = fs::read(d.join("big.yaml")).unwrap();
    let r = km(d, &["fix", "."]).run();
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(!errors_for(&r, "big.yaml").is_empty() || !errors_for(&r, "small-a.yaml").is_empty());
    assert_eq!(fs::read(d.join("big.yaml")).unwrap(), before);
    let small = fs::read_to_string(d.join("small-a.yaml")).unwrap();
    assert!(small == HPA_V2BETA2 || small == HPA_V2, "{small}");
    no_temp_files(d);
    // With room again, a rerun completes the job.
    fs::remove_file(d.join("filler.bin")).unwrap();
    let r = km(d, &["fix", "."]).run();
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(fs::read_to_string(d.join("small-a.yaml")).unwrap(), HPA_V2);
}

/// A file changed by someone else while kubemig works on it. A large file makes the
/// window between reading and writing wide; the change lands in it at some delay.
/// Expected: whatever the timing, the other writer's content is never overwritten; when
/// kubemig read the old content, it reports that the file changed on disk.
#[test]
fn a_file_changed_between_read_and_write_is_not_overwritten() {
    let mut big = String::new();
    for i in 0..4000 {
        big.push_str(&format!(
            "---\napiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: hpa-{i}\nspec:\n  maxReplicas: 5\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      targetAverageUtilization: 60\n"
        ));
    }
    let theirs =
        "# rewritten by someone else\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n";
    let mut detected = 0;
    for delay_ms in [20u64, 60, 150, 400, 1000] {
        let t = tempdir();
        let f = write(t.path(), "big.yaml", &big);
        let child = common::km(t.path(), &["fix", "big.yaml", "--color", "never"])
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        // Written in place (same inode), as an editor without atomic saves would.
        fs::write(&f, theirs).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Whether kubemig read the file before or after the other write, and finished
        // before or after it, the other writer's content is what stays.
        let now = fs::read_to_string(&f).unwrap();
        assert!(
            now == theirs,
            "delay {delay_ms} ms: kubemig overwrote a concurrent change: {now:.200}"
        );
        if stderr.contains("changed on disk") {
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            detected += 1;
        }
        no_temp_files(t.path());
    }
    assert!(
        detected > 0,
        "no delay hit the window between read and write; make the file bigger"
    );
}

/// Symlinks, in a walked tree and named: one to a file outside the root, one to a file
/// inside it, one to a directory inside it. Expected: links are never written through
/// (they stay links to unchanged targets unless the target itself was walked), the file
/// inside is fixed once through its real path, named links are refused. Hard links are
/// refused too (replacing one would split it from its twin).
#[test]
fn symlinks_and_hard_links_are_never_written_through() {
    let t = tempdir();
    let outside = write(t.path(), "outside/hpa.yaml", HPA_V2BETA2);
    let root = t.path().join("root");
    let inside = write(&root, "real/hpa.yaml", HPA_V2BETA2);
    std::os::unix::fs::symlink("../outside/hpa.yaml", root.join("out-link.yaml")).unwrap();
    std::os::unix::fs::symlink("real/hpa.yaml", root.join("in-link.yaml")).unwrap();
    std::os::unix::fs::symlink("real", root.join("dir-link")).unwrap();
    let hard = write(&root, "hard-a.yaml", HPA_V2BETA2);
    fs::hard_link(&hard, root.join("hard-b.yaml")).unwrap();

    let r = km(&root, &["fix", "."]).run();
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_eq!(fs::read_to_string(&inside).unwrap(), HPA_V2);
    assert_eq!(fs::read_to_string(&outside).unwrap(), HPA_V2BETA2);
    for l in ["out-link.yaml", "in-link.yaml", "dir-link"] {
        assert!(
            fs::symlink_metadata(root.join(l))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{l}"
        );
    }
    assert!(
        !r.stderr.contains("link.yaml"),
        "walked links are skipped: {}",
        r.stderr
    );
    // The two names of one file are processed once, under the first name.
    let e = one_error(&r, "hard-a.yaml", format_args!("fix"));
    assert!(e.contains("hard links"), "{}", e);
    assert!(errors_for(&r, "hard-b.yaml").is_empty(), "{}", r.stderr);
    for h in ["hard-a.yaml", "hard-b.yaml"] {
        assert_eq!(fs::read_to_string(root.join(h)).unwrap(), HPA_V2BETA2);
    }

    // Named explicitly, a link is refused, whatever it points at.
    fs::write(&inside, HPA_V2BETA2).unwrap();
    let r = km(&root, &["fix", "out-link.yaml", "in-link.yaml"]).run();
    assert_eq!(r.code, Some(2), "{r:?}");
    for l in ["out-link.yaml", "in-link.yaml"] {
        let e = one_error(&r, l, format_args!("fix"));
        assert!(e.contains("symlink"), "{}", e);
    }
    assert_eq!(fs::read_to_string(&outside).unwrap(), HPA_V2BETA2);
    assert_eq!(fs::read_to_string(&inside).unwrap(), HPA_V2BETA2);
    let r = km(&root, &["fix", "dir-link/hpa.yaml"]).run();
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(fs::read_to_string(&inside).unwrap(), HPA_V2);
    // A path through a linked directory reaches the real file, which is replaced in its
    // real directory: the link itself is untouched.
    assert!(
        fs::symlink_metadata(root.join("dir-link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    no_temp_files(t.path());
}

// ---------------------------------------------------------------------------------------
// Fuzzing regressions

/// Every input the fuzzer (fuzz/, `cargo fuzz run process`) once failed on, through the
/// library with the fuzz target's checks: no panic, and a rewrite parses, keeps its
/// documents and is a fixed point. The first byte of each file is the fuzz target's
/// selector (target version, --include-deprecated, prefilter).
#[test]
fn fuzz_regressions() {
    use kubemig::catalogue::{Catalogue, Release, Window};
    use kubemig::engine::{Context, process};
    use kubemig::prefilter::Prefilter;
    const TARGETS: [u32; 8] = [16, 19, 22, 25, 26, 29, 32, 36];
    let cat = Catalogue::embedded().unwrap();
    let pf = Prefilter::new(&cat);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        let (sel, bytes) = data.split_first().map_or((0, &data[..]), |(b, r)| (*b, r));
        let ctx = Context {
            catalogue: &cat,
            window: Window {
                target: Release(TARGETS[(sel & 7) as usize]),
                min: None,
                include_deprecated: sel & 0x10 != 0,
            },
            prefilter: (sel & 0x20 != 0).then_some(&pf),
        };
        let out = process(bytes.to_vec(), &ctx);
        if let Some((old, new)) = out.rewrite {
            assert!(out.error.is_none(), "{}", path.display());
            if !kubemig::input::helm::is_template(&old) {
                let a = kubemig::yaml::parse_stream(&old).unwrap();
                let b = kubemig::yaml::parse_stream(&new)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                assert_eq!(a.len(), b.len(), "{}", path.display());
            }
            let again = process(
                new.into_bytes(),
                &Context {
                    prefilter: None,
                    ..ctx
                },
            );
            assert!(
                again.error.is_none() && again.rewrite.is_none(),
                "{}: {:?}",
                path.display(),
                again.error
            );
        }
        n += 1;
    }
    assert!(n > 0, "no regressions in {}", dir.display());
}

// ---------------------------------------------------------------------------------------
// Security

/// kubemig never opens a network connection, starts a process or loads code: the library
/// and binary sources use none of the APIs that would.
#[test]
fn no_network_process_or_code_loading_apis_in_the_sources() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = [
        "std::process::Command",
        "process::Command",
        "Command::new",
        "std::net",
        "TcpStream",
        "UdpSocket",
        "libloading",
        "dlopen",
        "unsafe ",
    ];
    for f in walk(&src) {
        if f.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&f).unwrap();
            for word in forbidden {
                assert!(!text.contains(word), "{} uses {word}", f.display());
            }
        }
    }
}
