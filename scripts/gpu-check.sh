#!/bin/bash
# Builds mlspeed against the LibTorch inside a PyTorch installation (CUDA), runs the whole test
# suite, then the full-size benchmark on every device, and reads the stored results back in every
# format. Logs go to $OUT (default: ./gpu-out). Used for the recorded GPU results in results/.
#
#   scripts/gpu-check.sh                       # needs python3 with torch, cmake, ninja, g++
#   SQLITE_INCLUDE=/path/to/dir scripts/gpu-check.sh   # where sqlite3.h is, if not in /usr/include
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
BUILD=build-gpu
step() { echo; echo "=== $* ==="; }

step "environment"
{ nvidia-smi; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'; cmake --version | head -1; g++ --version | head -1; date -u; } 2>&1 | tee -a "$OUT/env.txt"

step "configure and build"
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
sqlite_args=()
if [ -n "${SQLITE_INCLUDE:-}" ]; then
  sqlite_lib=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* 2>/dev/null | head -1)
  sqlite_args=(-DSQLite3_INCLUDE_DIR="$SQLITE_INCLUDE" -DSQLite3_LIBRARY="$sqlite_lib")
fi
start=$(date +%s)
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" "${sqlite_args[@]}" \
  > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
cmake --build $BUILD >> "$OUT/build.log" 2>&1 || { grep -E "error|Error" -A5 "$OUT/build.log" | head -80; exit 1; }
echo "built in $(( $(date +%s) - start )) s"

step "tests"
ctest --test-dir $BUILD --output-on-failure -j 8 > "$OUT/ctest.log" 2>&1
echo "ctest exit status $?"
grep -E "tests passed|tests failed|Failed|\*\*\*|Label Time|^(unit|cpu|cli|gpu) " "$OUT/ctest.log" | tail -30

step "devices"
$BUILD/mlspeed devices | tee -a "$OUT/env.txt"

step "benchmark: both workloads, full size, cpu and cuda:0, fp32 and bf16"
DB="$OUT/results.db"
$BUILD/mlspeed run -w nanogpt-shakespeare-char,bert-base-infer -d cpu,cuda:0 -t fp32,bf16 --db "$DB" \
  | tee "$OUT/run.md"
echo "run exit status ${PIPESTATUS[0]}"

step "the same results from the database"
$BUILD/mlspeed show --db "$DB" -o json > "$OUT/run.json"
$BUILD/mlspeed show --db "$DB" -o csv > "$OUT/run.csv"
diff <(sed -n '/^| workload/,$p' "$OUT/run.md") <($BUILD/mlspeed show --db "$DB" | sed -n '/^| workload/,$p') \
  && echo "show prints the same table as run"

step "yardstick: the same configurations in PyTorch eager"
PYTHONUNBUFFERED=1 python3 scripts/pytorch_reference.py 2>&1 | tee "$OUT/pytorch-eager.md"
ls -la "$OUT"
