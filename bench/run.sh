#!/usr/bin/env bash
# The throughput benchmark (README, "Performance"). From a clean clone:
#
#   bench/run.sh            # all four corpora (~15 min on 2 cores)
#   bench/run.sh 10k        # one corpus: 10k, 100k, 10k-all, big
#
# It installs hyperfine, ripgrep and GNU time if they are missing (Debian packages), builds
# kubemig and the corpus generator in release mode, writes the synthetic corpora under
# $KUBEMIG_BENCH_DIR (default target/bench; regenerated only when missing), then, for each
# corpus in one hyperfine run, times side by side:
#   rg      ripgrep listing the files that contain any old apiVersion (`rg -l -F -e …`), the floor
#   cat     reading every file the walk picks (`rg --files | xargs cat`)
#   check   kubemig check (all cores), and check-1t with RAYON_NUM_THREADS=1
#   diff    kubemig diff > /dev/null
#   fix     kubemig fix on a fresh copy made by --prepare (the copy is not timed)
#   replace the filesystem's floor under fix (10k-all): every file read, written to a
#           temporary file and renamed over itself, on every core, nothing parsed
#           (examples/replace_floor.rs); and fix-tmpfs, fix on a copy in /dev/shm, when
#           there is one: fix without the disk
# and prints files/s, MB/s, the ratio to rg and each command's peak RSS (/usr/bin/time -v).
# Never part of `cargo test` or CI: speed is shown by a benchmark, not a timed test.
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

cargo build --release --quiet --bin kubemig --example gen-corpus --example needles --example replace_floor
km=$root/target/release/kubemig
gen=$root/target/release/examples/gen-corpus
work=${KUBEMIG_BENCH_DIR:-$root/target/bench}
mkdir -p "$work"

# name | generator arguments | whether to time 1 thread too | warmup runs | timed runs |
# extra kubemig options | whether to time the replace floor and fix on tmpfs
# (KUBEMIG_BENCH_RUNS overrides the timed runs). The corpus is read once before timing
# (to count its bytes), so even without a warmup run the cache is warm.
corpora=(
  "10k|--files 10000 --hit-rate 0.01 --seed 1|no|1|5"
  "100k|--files 100000 --hit-rate 0.01 --seed 2|yes|1|3"
  "10k-all|--files 10000 --hit-rate 1 --seed 3|no|1|3||yes"
  "big|--single-file-mb 200 --hit-rate 0.01 --seed 4|no|0|1|--max-file-size 1G"
)
want=("$@")

# The strings ripgrep looks for are the prefilter's: every old group/version and its JSON
# spelling with `\/`, the kind of an old core-group version, and the words of field rules.
needles=$work/needles
"$root/target/release/examples/needles" > "$needles"
rg_args=()
while IFS= read -r n; do rg_args+=(-e "$n"); done < "$needles"
globs=(-g '*.yaml' -g '*.yml' -g '*.json')
q() { printf '%q ' "$@"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "$(free -g | awk '/Mem:/ {print $2}' || true) GB RAM, $(uname -sr); $(hyperfine --version), $(rg --version 2>/dev/null | sed -n 1p)"
echo "kubemig: $("$km" --version)"

for spec in "${corpora[@]}"; do
  IFS='|' read -r name gen_args one_thread warmup runs km_args floor <<< "$spec"
  read -r -a km_opts <<< "$km_args"
  runs=${KUBEMIG_BENCH_RUNS:-$runs}
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
    continue
  fi
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
  echo
  echo "== $name: $gen_args: $files files, $((bytes / 1000000)) MB"

  cmds=(
    rg "$(q rg -l -F "${globs[@]}" "${rg_args[@]}" "$dir") > /dev/null"
    cat "$(q rg --files -0 "${globs[@]}" "$dir") | xargs -0 cat > /dev/null"
    check "$(q "$km" check "${km_opts[@]}" "$dir") > /dev/null 2>&1"
  )
  if [ "$one_thread" = yes ]; then
    cmds+=(check-1t "RAYON_NUM_THREADS=1 $(q "$km" check "${km_opts[@]}" "$dir") > /dev/null 2>&1")
  fi
  cmds+=(
    diff "$(q "$km" diff "${km_opts[@]}" "$dir") > /dev/null 2>&1"
    fix "$(q "$km" fix "${km_opts[@]}" "$copy") > /dev/null 2>&1"
  )
  shm=/dev/shm/kubemig-bench-$name
  if [ "$floor" = yes ]; then
    cmds+=(replace "$(q "$root/target/release/examples/replace_floor" "$copy")")
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
      cmds+=(fix-tmpfs "$(q "$km" fix "${km_opts[@]}" "$shm") > /dev/null 2>&1")
    fi
  fi
  args=(--ignore-failure --style basic --warmup "$warmup" --runs "$runs" --export-json "$work/$name.json")
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
  : > "$work/$name.rss"
  if [ "$runs" -gt 1 ]; then
    hyperfine "${args[@]}" > "$work/$name.hyperfine.txt"
  else
    # One run each (the 200 MB file takes minutes): wall time and peak RSS from one
    # /usr/bin/time run, written as hyperfine's JSON.
    echo '{"results": [' > "$work/$name.json"
    sep=
  fi
  # Peak RSS, one run each.
  n=0
  while [ $n -lt ${#cmds[@]} ]; do
    label=${cmds[$n]} cmd=${cmds[$((n + 1))]}
    case $label in
      fix | replace) rm -rf "$copy" && cp -a "$dir" "$copy" && sync ;;
      fix-tmpfs) rm -rf "$shm" && cp -a "$dir" "$shm" ;;
    esac
    out=$( { /usr/bin/time -f 'TIME %e %M' bash -c "$cmd" ; } 2>&1 >/dev/null | grep '^TIME' || true)
    read -r _ secs kb <<< "$out"
    echo "$label $kb" >> "$work/$name.rss"
    if [ "$runs" -le 1 ]; then
      echo "$sep{\"command\": \"$label\", \"mean\": $secs, \"stddev\": null}" >> "$work/$name.json"
      sep=,
    fi
    n=$((n + 2))
  done
  if [ "$runs" -le 1 ]; then echo ']}' >> "$work/$name.json"; fi
  rm -rf "$copy" "$shm"

  python3 - "$work/$name.json" "$work/$name.rss" "$files" "$bytes" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
rss = dict(l.split() for l in open(sys.argv[2]) if len(l.split()) == 2)
files, size = int(sys.argv[3]), int(sys.argv[4])
rg = next(r["mean"] for r in results if r["command"] == "rg")
print("| command | wall s (mean ± σ) | files/s | MB/s | × rg | peak RSS MB |")
print("|---|---|---|---|---|---|")
for r in results:
    m, s, name = r["mean"], r["stddev"] or 0.0, r["command"]
    # `rg` and `cat` run as a pipeline; their RSS is that of the largest process.
    print(f"| {name} | {m:.3f} ± {s:.3f} | {files / m:,.0f} | {size / m / 1e6:,.0f} | "
          f"{m / rg:.2f} | {int(rss.get(name, 0)) / 1024:.0f} |")
EOF
done
