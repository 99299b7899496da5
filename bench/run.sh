#!/usr/bin/env bash
# The throughput benchmark (docs/performance.md). From a clean clone:
#
#   bench/run.sh              # 10k (1 % hits), 10k-all, small-all, one-all (~8-12 min on 2 cores)
#   bench/run.sh 10k-all      # named corpora only: 10k, 10k-all, small-all, one-all, 100k, big
#
# It installs hyperfine, ripgrep and GNU time if they are missing (Debian packages), builds
# kubemig and the examples it needs in release mode, writes deterministic synthetic corpora
# under $KUBEMIG_BENCH_DIR (default target/bench) with examples/gen-corpus.rs, then, for each
# corpus in one hyperfine run (warm cache), times side by side:
#   rg         ripgrep listing the files that contain a needle of the prefilter, the floor
#   cat        reading every file the walk picks (`rg --files | xargs cat`)
#   check      kubemig check (all cores), and check-j1 with `-j 1` (one thread throughout)
#   diff       kubemig diff > /dev/null
#   fix        kubemig fix on a fresh copy made by --prepare (the copy is not timed)
#   replace    (all-hits corpora) the filesystem's floor under fix: every file read, written
#              to a temporary file and renamed over itself, nothing parsed
#              (examples/replace_floor.rs)
#   fix-tmpfs  (all-hits corpora) fix on a copy in /dev/shm: fix without the disk
# with each command's peak RSS (/usr/bin/time -v, one run each), and on the all-hits
# corpora one thread's time per step (examples/phases, the median of three runs). The results, with the
# machine, the date and the load average, replace the part of docs/performance.md between
# `<!-- bench:begin -->` and `<!-- bench:end -->` (KUBEMIG_BENCH_DOC=path writes elsewhere,
# KUBEMIG_BENCH_DOC=- only prints). Everything it writes besides that (corpora, copies,
# /dev/shm) is removed on exit, unless KUBEMIG_BENCH_KEEP=1 keeps the corpora for the next
# run. Never part of `cargo test` or CI: speed is shown by a benchmark, not a timed test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v rg >/dev/null || need+=(ripgrep)
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --quiet --bin kubemig --example gen-corpus --example needles --example replace_floor --example phases
km=$root/target/release/kubemig
gen=$root/target/release/examples/gen-corpus
work=${KUBEMIG_BENCH_DIR:-$root/target/bench}
doc=${KUBEMIG_BENCH_DOC:-$root/docs/performance.md}
mkdir -p "$work"
results=$(mktemp -d "$work/run.XXXXXX")
shm=/dev/shm/kubemig-bench-$$
cleanup() {
  rm -rf "$results" "$shm" "$work"/*.fix
  if [ "${KUBEMIG_BENCH_KEEP:-}" != 1 ]; then
    for c in 10k 10k-all small-all one-all 100k big; do rm -rf "${work:?}/$c" "$work/$c.args"; done
    rm -f "$work/needles"
    rmdir "$work" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# name | generator arguments | warmup runs | timed runs | extra kubemig options |
# whether to time the replace floor and fix on tmpfs (the all-hits corpora)
# (KUBEMIG_BENCH_RUNS overrides the timed runs). The corpus is read once before timing
# (to count its bytes), so even without a warmup run the cache is warm.
corpora=(
  "10k|--files 10000 --hit-rate 0.01 --seed 1|1|5||no"
  "10k-all|--files 10000 --hit-rate 1 --seed 3|1|3||yes"
  "small-all|--small --files 5000 --hit-rate 1 --seed 5|1|3||yes"
  "100k|--files 100000 --hit-rate 0.01 --seed 2|1|3||no"
  "one-all|--single-file-mb 100 --hit-rate 1 --seed 6|0|1|--max-file-size 1G|no"
  "big|--single-file-mb 200 --hit-rate 0.01 --seed 4|0|1|--max-file-size 1G|no"
)
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(10k 10k-all small-all one-all)

# The strings ripgrep looks for are the prefilter's: every old group/version and its JSON
# spelling with `\/`, the kind of an old core-group version, and the words of field rules.
needles=$work/needles
"$root/target/release/examples/needles" > "$needles"
rg_args=()
while IFS= read -r n; do rg_args+=(-e "$n"); done < "$needles"
globs=(-g '*.yaml' -g '*.yml' -g '*.json')
q() { printf '%q ' "$@"; }

started=$(date -u '+%Y-%m-%d %H:%M')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "cpu=$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "ram=$(free -g | awk '/Mem:/ {print $2}' || true) GB"
  echo "kernel=$(uname -sr)"
  echo "fs=$(df -T "$work" | awk 'NR==2 {print $2}')"
  echo "tools=$(hyperfine --version), $(rg --version 2>/dev/null | sed -n 1p)"
  echo "kubemig=$("$km" --version)"
} > "$results/machine"
cat "$results/machine"

for spec in "${corpora[@]}"; do
  IFS='|' read -r name gen_args warmup runs km_args floor <<< "$spec"
  read -r -a km_opts <<< "$km_args"
  runs=${KUBEMIG_BENCH_RUNS:-$runs}
  [[ " ${want[*]} " == *" $name "* ]] || continue
  dir=$work/$name
  if [ "$(cat "$dir.args" 2>/dev/null)" != "$gen_args" ]; then
    rm -rf "$dir" "$dir.args"
    # shellcheck disable=SC2086
    "$gen" $gen_args "$dir" >&2
    echo "$gen_args" > "$dir.args"
  fi
  copy=$work/$name.fix
  files=$(rg --files "${globs[@]}" "$dir" | wc -l)
  bytes=$(rg --files -0 "${globs[@]}" "$dir" | xargs -0 cat | wc -c)
  largest=$(rg --files -0 "${globs[@]}" "$dir" | xargs -0 stat -c %s | sort -n | tail -1)
  echo
  echo "== $name: $gen_args: $files files, $((bytes / 1000000)) MB"

  cmds=(
    rg "$(q rg -l -F "${globs[@]}" "${rg_args[@]}" "$dir") > /dev/null"
    cat "$(q rg --files -0 "${globs[@]}" "$dir") | xargs -0 cat > /dev/null"
    check "$(q "$km" check "${km_opts[@]}" "$dir") > /dev/null 2>&1"
    check-j1 "$(q "$km" check -j 1 "${km_opts[@]}" "$dir") > /dev/null 2>&1"
    diff "$(q "$km" diff "${km_opts[@]}" "$dir") > /dev/null 2>&1"
    fix "$(q "$km" fix "${km_opts[@]}" "$copy") > /dev/null 2>&1"
  )
  if [ "$floor" = yes ]; then
    cmds+=(replace "$(q "$root/target/release/examples/replace_floor" "$copy")")
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
      cmds+=(fix-tmpfs "$(q "$km" fix "${km_opts[@]}" "$shm") > /dev/null 2>&1")
    fi
  fi
  args=(--ignore-failure --style basic --warmup "$warmup" --runs "$runs" --export-json "$results/$name.json")
  n=0
  while [ $n -lt ${#cmds[@]} ]; do
    label=${cmds[$n]} cmd=${cmds[$((n + 1))]}
    if [ "$label" = fix ] || [ "$label" = replace ]; then
      args+=(--prepare "rm -rf $(q "$copy") && cp -a $(q "$dir") $(q "$copy") && sync")
    elif [ "$label" = fix-tmpfs ]; then
      args+=(--prepare "rm -rf $(q "$shm") && cp -a $(q "$dir") $(q "$shm")")
    else
      args+=(--prepare true)
    fi
    args+=(-n "$label" "$cmd")
    n=$((n + 2))
  done
  if [ "$runs" -gt 1 ]; then
    hyperfine "${args[@]}" > "$results/$name.hyperfine.txt"
  fi
  # Peak RSS and user time, one run each (for a one-run corpus, its wall time too).
  : > "$results/$name.rss"
  n=0
  while [ $n -lt ${#cmds[@]} ]; do
    label=${cmds[$n]} cmd=${cmds[$((n + 1))]}
    case $label in
      fix | replace) rm -rf "$copy" && cp -a "$dir" "$copy" && sync ;;
      fix-tmpfs) rm -rf "$shm" && cp -a "$dir" "$shm" ;;
    esac
    out=$( { /usr/bin/time -f 'TIME %e %M %U %S' bash -c "$cmd" ; } 2>&1 >/dev/null | grep '^TIME' || true)
    echo "$label ${out#TIME }" >> "$results/$name.rss"
    n=$((n + 2))
  done
  rm -rf "$copy" "$shm"
  # One thread's time per step (examples/phases), three runs: the per-core targets.
  if [ "$floor" = yes ]; then
    for _ in 1 2 3; do "$root/target/release/examples/phases" "$dir" >> "$results/$name.phases"; done
  fi
  echo "$name|$gen_args|$files|$bytes|$largest" >> "$results/corpora"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
finished=$(date -u '+%H:%M')

python3 - "$results" "$started" "$finished" "$load_before" "$load_after" "$doc" <<'EOF'
import json, os, re, sys
res, started, finished, load_before, load_after, doc = sys.argv[1:7]
machine = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(res, "machine")))
out = []
w = out.append
w(f"Run by `bench/run.sh` on {started}–{finished} UTC: {machine['cpu']}, {machine['ram']} RAM, "
  f"{machine['kernel']}, {machine['fs']} file system; {machine['tools']}; {machine['kubemig']}. "
  f"Load average (1, 5, 15 min) {load_before} before, {load_after} after. Warm cache; "
  "wall times are hyperfine's mean ± σ, peak RSS and user time from one `/usr/bin/time` run.")
w("")
w("| corpus | command | wall s | files/s | MB/s | × rg | user s | peak RSS MB |")
w("|---|---|---|---|---|---|---|---|")
facts = {}
for line in open(os.path.join(res, "corpora")):
    name, gen_args, files, size, largest = line.rstrip("\n").split("|")
    files, size, largest = int(files), int(size), int(largest)
    rss = {}
    for l in open(os.path.join(res, f"{name}.rss")):
        parts = l.split()
        if len(parts) == 5:
            rss[parts[0]] = (float(parts[1]), int(parts[2]), float(parts[3]))
    path = os.path.join(res, f"{name}.json")
    if os.path.exists(path):
        rows = [(r["command"], r["mean"], r["stddev"] or 0.0) for r in json.load(open(path))["results"]]
    else:
        rows = [(c, v[0], None) for c, v in rss.items()]
    rg = next(m for c, m, _ in rows if c == "rg")
    label = f"{name}: {files:,} files, {size / 1e6:.0f} MB (`gen-corpus {gen_args}`)"
    for c, m, s in rows:
        wall = f"{m:.3f} ± {s:.3f}" if s is not None else f"{m:.2f} (one run)"
        _, kb, user = rss.get(c, (0, 0, 0.0))
        w(f"| {label} | {c} | {wall} | {files / m:,.0f} | {size / m / 1e6:,.1f} | {m / rg:.2f} | "
          f"{user:.2f} | {kb / 1024:.0f} |")
        label = ""
        facts[(name, c)] = (m, size / m / 1e6, kb * 1024, largest)
w("")

# One thread's steps: the median of three runs of examples/phases per step.
steps = {}
for line in open(os.path.join(res, "corpora")):
    name = line.split("|")[0]
    path = os.path.join(res, f"{name}.phases")
    if not os.path.exists(path):
        continue
    runs = {}
    for l in open(path):
        m = re.match(r"\s*(\w+):\s+([\d.]+) s\s+([\d.]+) MB/s", l)
        if m:
            runs.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(3))))
    steps[name] = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}
if steps:
    shown = ["parse", "plan", "apply", "verify", "process"]
    w("One thread's time per step (`examples/phases`, the median of three runs; `process` is "
      "the whole pipeline per file, its read included):")
    w("")
    w("| corpus | " + " | ".join(f"{s} MB/s" for s in shown) + " |")
    w("|---|" + "---|" * len(shown))
    for name, st in steps.items():
        w(f"| {name} | " + " | ".join(f"{st[s][1]:.1f}" if s in st else "" for s in shown) + " |")
    w("")

def target(what, ok, value):
    if ok is None:
        return
    w(f"| {what} | {'**met**' if ok else '**not met**'}: {value} |")

w("| target (issue 16) | this run |")
w("|---|---|")
g = facts.get
if g(("small-all", "check")):
    m, mbs, _, _ = g(("small-all", "check"))
    target("`check`, small-file all-hits corpus ≥ 50 MB/s", mbs >= 50, f"{mbs:.1f} MB/s")
    one = g(("small-all", "check-j1"))[0]
    target("… and ≥ 1.7× its `-j 1` speed", one / m >= 1.7, f"{one / m:.2f}×")
if g(("10k-all", "check")):
    mbs = g(("10k-all", "check"))[1]
    target("`check`, bench all-hits corpus (10k-all) ≥ 100 MB/s", mbs >= 100, f"{mbs:.1f} MB/s")
for name, want in (("small-all", 40), ("10k-all", 80)):
    if g((name, "fix-tmpfs")):
        mbs = g((name, "fix-tmpfs"))[1]
        target(f"`fix` on tmpfs, {name} ≥ {want} MB/s", mbs >= want, f"{mbs:.1f} MB/s")
    if g((name, "fix")) and g((name, "replace")):
        r = g((name, "fix"))[0] / g((name, "replace"))[0]
        target(f"`fix` on disk, {name}, within 1.2× the replace floor", r <= 1.2, f"{r:.2f}×")
for name in ("10k-all", "small-all", "one-all", "big"):
    if g((name, "diff")):
        _, _, peak, largest = g((name, "diff"))
        r = peak / largest
        what = f"`diff` peak RSS ≤ 2× the largest file ({name}, largest {largest / 1e6:.2f} MB)"
        if largest < 10e6:
            # The process's own floor (binary, catalogue, threads) dwarfs a small file: the
            # target is about large files, judged on `one-all` (and `big`).
            w(f"| {what} | not judged (files too small; see `one-all`): {peak / 2**20:.0f} MB |")
        else:
            target(what, r <= 2, f"{peak / 2**20:.0f} MB, {r:.1f}×")
if "10k-all" in steps and "plan" in steps["10k-all"]:
    mbs = steps["10k-all"]["plan"][1]
    target("planning, 10k-all, one thread ≥ 150 MB/s", mbs >= 150, f"{mbs:.1f} MB/s")
for name in ("10k", "100k"):
    if g((name, "check")):
        r = g((name, "check"))[0] / g((name, "rg"))[0]
        target(f"`check` at 1 % hits ({name}) ≤ 1.4× ripgrep", r <= 1.4, f"{r:.2f}×")

text = "\n".join(out) + "\n"
if doc == "-":
    print(text)
    sys.exit(0)
body = open(doc).read()
begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
if begin in body and end in body:
    body = re.sub(re.escape(begin) + ".*?" + re.escape(end),
                  lambda _: f"{begin}\n{text}{end}", body, flags=re.S)
else:
    body += f"\n## Latest run\n\n{begin}\n{text}{end}\n"
open(doc, "w").write(body)
print(text)
print(f"written into {doc}", file=sys.stderr)
EOF
