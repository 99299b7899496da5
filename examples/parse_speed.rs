//! Parsing speed: granit against the fast path (`kubemig::yaml::fast`).
//!
//! `cargo run --release --example parse_speed -- DIR` reads every file kubemig would walk
//! under DIR (.yaml/.yml/.json, gitignore respected) into memory, parses them all with each parser (one thread) and prints MB/s
//! and the share of files and bytes the fast path accepted. It also checks that both give
//! the same documents wherever the fast path accepts, and names the files where not.
//!
//! Debugging aids: `-- --events FILE` prints granit's events for one file, `-- --diff FILE`
//! prints both parsers' events side by side up to the first difference.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kubemig::yaml::events::{self, Ev};
use kubemig::yaml::{Parser, fast, parse_stream_with};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--events", file] => print_events(&read(Path::new(file))),
        ["--diff", file] => diff(&read(Path::new(file))),
        [dir] => bench(Path::new(dir)),
        ["--profile", dir] => profile(Path::new(dir)),
        _ => {
            eprintln!("usage: parse_speed DIR | --events FILE | --diff FILE");
            std::process::exit(2);
        }
    }
}

fn read(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn granit_events(src: &str) -> (Vec<Ev>, String) {
    let mut v = Vec::new();
    let r = events::parse(src, |e| v.push(e));
    (v, format!("{r:?}"))
}

fn print_events(src: &str) {
    let (evs, r) = granit_events(src);
    for ev in evs {
        println!(
            "{:?} {:?} {:?}",
            ev.kind,
            ev.span,
            &src.get(ev.span.clone())
        );
    }
    println!("{r}");
}

fn diff(src: &str) {
    let (g, r) = granit_events(src);
    let mut f = Vec::new();
    let fr = fast::parse(src, |e| f.push(e));
    println!("granit: {r}; fast: {fr:?}");
    for i in 0..g.len().max(f.len()) {
        let (a, b) = (g.get(i), f.get(i));
        let mark = if a == b { " " } else { "!" };
        println!("{mark} granit {:?}", a.map(|e| (&e.kind, &e.span)));
        if a != b {
            println!("{mark} fast   {:?}", b.map(|e| (&e.kind, &e.span)));
        }
    }
    let same = parse_stream_with(src, Parser::Fast)
        .map(|f| f == parse_stream_with(src, Parser::Granit).expect("granit answers"));
    println!("documents equal (None: fast path declined): {same:?}");
}

/// The files kubemig itself would read under `dir` (sorted, as the walk gives them).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    kubemig::walk::walk(&[dir.to_path_buf()])
        .inputs
        .into_iter()
        .filter_map(|i| match i {
            kubemig::walk::Input::File(p) => Some(p),
            kubemig::walk::Input::Stdin => None,
        })
        .collect()
}

/// CPU time this thread has run, from Linux's schedstat (nanoseconds on the CPU): on a
/// machine shared with other work, wall time would count the time spent waiting for a
/// core. Falls back to wall time elsewhere.
struct Clock(Option<u64>, Instant);

impl Clock {
    fn cpu_ns() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        s.split_whitespace().next()?.parse().ok()
    }

    fn start() -> Clock {
        Clock(Clock::cpu_ns(), Instant::now())
    }

    fn elapsed(&self) -> Duration {
        match (self.0, Clock::cpu_ns()) {
            (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
            _ => self.1.elapsed(),
        }
    }
}

/// How many times to parse a set of texts per timed run: about 50 MB, so that a run lasts
/// far longer than the scheduler's accounting tick.
fn reps(texts: &[String]) -> usize {
    let bytes: usize = texts.iter().map(String::len).sum();
    (50_000_000 / bytes.max(1)).max(1)
}

/// The best of a few runs of parsing every text, per pass over them.
fn time(texts: &[String], parser: Parser) -> Duration {
    let reps = reps(texts);
    (0..5)
        .map(|_| {
            let t = Clock::start();
            for _ in 0..reps {
                for s in texts {
                    std::hint::black_box(parse_stream_with(s, parser));
                }
            }
            t.elapsed() / reps as u32
        })
        .min()
        .unwrap_or_default()
}

fn bench(dir: &Path) {
    let paths = files_under(dir);
    let texts: Vec<String> = paths.iter().map(|p| read(p)).collect();
    let total: usize = texts.iter().map(String::len).sum();
    let mb = total as f64 / 1e6;

    let mut accepted_files = 0;
    let mut accepted_bytes = 0;
    let mut accepted = Vec::new();
    let mut declined = Vec::new();
    let mut mismatches = 0;
    for (p, s) in paths.iter().zip(&texts) {
        match parse_stream_with(s, Parser::Fast) {
            Some(f) => {
                accepted_files += 1;
                accepted_bytes += s.len();
                accepted.push(s.clone());
                if Some(f) != parse_stream_with(s, Parser::Granit) {
                    mismatches += 1;
                    println!("MISMATCH {}", p.display());
                }
            }
            None => {
                declined.push(s.clone());
                if std::env::var_os("SHOW_DECLINED").is_some() {
                    println!("declined {}", p.display());
                }
            }
        }
    }
    println!(
        "{}: {} files, {:.1} MB; fast path accepts {} files ({:.1} %), {:.1} % of bytes; {} mismatches",
        dir.display(),
        texts.len(),
        mb,
        accepted_files,
        100.0 * accepted_files as f64 / texts.len().max(1) as f64,
        100.0 * accepted_bytes as f64 / total.max(1) as f64,
        mismatches
    );
    let rate = |d: Duration, bytes: f64| bytes / 1e6 / d.as_secs_f64();
    let g = time(&texts, Parser::Granit);
    let a = time(&texts, Parser::Auto);
    let acc_mb = accepted_bytes as f64;
    let f = time(&accepted, Parser::Fast);
    println!("parse_stream, one thread, CPU time, best of 5 (documents built, not just events):");
    println!(
        "  granit:                        {:7.1} MB/s",
        rate(g, total as f64)
    );
    println!(
        "  fast path on accepted files:   {:7.1} MB/s",
        rate(f, acc_mb)
    );
    println!(
        "  granit on the same files:      {:7.1} MB/s",
        rate(time(&accepted, Parser::Granit), acc_mb)
    );
    println!(
        "  auto (fast, granit fallback):  {:7.1} MB/s",
        rate(a, total as f64)
    );
    let mut n = 0usize;
    let events = (0..5)
        .map(|_| {
            let t = Clock::start();
            for _ in 0..reps(&accepted) {
                for s in &accepted {
                    let _ = fast::parse(s, |e| n += e.span.len());
                }
            }
            t.elapsed() / reps(&accepted) as u32
        })
        .min()
        .unwrap_or_default();
    println!(
        "  fast path events only:         {:7.1} MB/s",
        rate(events, acc_mb)
    );
    std::hint::black_box(n);
}

/// Parse DIR's files with the fast path ten times over, for `perf record`.
fn profile(dir: &Path) {
    let paths = files_under(dir);
    let texts: Vec<String> = paths.iter().map(|p| read(p)).collect();
    for _ in 0..10 {
        for s in &texts {
            std::hint::black_box(parse_stream_with(s, Parser::Fast));
        }
    }
}
