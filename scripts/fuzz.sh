#!/bin/sh
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 30). Exits non-zero if any target finds a crash, a sanitizer report, an
# unexpected exception, a broken invariant, a hang (an input taking over 10 s) or runs out of
# memory; the inputs that did it are kept under build-fuzz/crashes/<target>/ and named.
#
#   scripts/fuzz.sh [SECONDS]
#
# Needs clang and libclang-rt-14-dev (Debian: apt-get install clang libclang-rt-14-dev). The
# option-parsing target links the rest of mlspeed from the main build: build/ (configured as
# setup.sh does if absent), or MLSPEED_MAIN_BUILD=<folder>. The corpus each run grows is kept in
# build-fuzz/corpus/<target>/; generated seeds in build-fuzz/seeds/, committed ones in fuzz/corpus/.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-30}
main_build=${MLSPEED_MAIN_BUILD:-build}

# The main build's libraries, for fuzz_cli (a no-op when setup.sh has just built them).
[ -f "$main_build/CMakeCache.txt" ] || cmake -S . -B "$main_build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$main_build" --target mlspeed_core
main_build=$(cd "$main_build" && pwd)

CC=clang CXX=clang++ cmake -S fuzz -B build-fuzz -G Ninja -DMLSPEED_MAIN_BUILD="$main_build"
cmake --build build-fuzz

out="$root/build-fuzz"
mkdir -p "$out/tmp" "$out/logs"
export TMPDIR="$out/tmp"  # the targets' temporary folders (left there by a crash)
# Symbolised stacks in the reports, also where llvm-symbolizer is not on the PATH (Debian's llvm-14).
if ! command -v llvm-symbolizer >/dev/null && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
"$out/make_seeds" "$out/seeds"

# target, then its largest input in bytes (CIFAR-100: three 3074-byte records and change; a run
# file: its context and a few rows; GGUF: a header, some metadata and a few small tensors)
failed=""
for spec in safetensors:4096 gguf:4096 cifar100:9300 imdb:4096 char_text:4096 gpt2_vocab:8192 run_file:16384 cli:512; do
  target=${spec%%:*}
  max_len=${spec#*:}
  corpus="$out/corpus/$target"
  crashes="$out/crashes/$target"
  log="$out/logs/$target.log"
  mkdir -p "$corpus" "$crashes"
  set -- "$corpus"
  for dir in "$out/seeds/$target" "$root/fuzz/corpus/$target"; do
    [ ! -d "$dir" ] || set -- "$@" "$dir"
  done
  [ ! -f "fuzz/$target.dict" ] || set -- "-dict=$root/fuzz/$target.dict" "$@"
  stamp="$out/logs/$target.started"
  touch "$stamp"
  if "$out/fuzz_$target" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2560 \
       -print_final_stats=1 -artifact_prefix="$crashes/" "$@" >"$log" 2>&1; then
    echo "fuzz_$target: no finding ($(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -n 1))"
  else
    status=$?
    # The report: from its first line (a sanitizer's, libFuzzer's or the harness's), else the end.
    first=$(grep -n -m 1 -E '^==[0-9]+== ?ERROR|runtime error:|^fuzz: invariant broken|^terminate called|deadly signal|^ALARM|Failed to mmap' "$log" | cut -d: -f1)
    echo "fuzz_$target: FAILED (exit status $status); the report, from $log:"
    if [ -n "$first" ]; then sed -n "$first,\$p" "$log" | head -n 80; else tail -n 60 "$log"; fi | sed 's/^/    /'
    found=$(find "$crashes" -type f -newer "$stamp")
    echo "fuzz_$target: the inputs, to rerun with $out/fuzz_$target FILE:"
    echo "${found:-    (none written: see the log)}" | sed 's/^/    /'
    failed="$failed $target"
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a finding"
