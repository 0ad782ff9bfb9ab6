#!/bin/bash
# Builds mlspeed against the LibTorch inside a PyTorch installation (CUDA), then
#   test   runs the whole test suite;
#   bench  times the whole catalogue at full size on cuda:0 in each workload's natural dtype
#          (bf16; fp16 for Stable Diffusion's UNet) and reads the stored results back in every
#          format;
#   speed  times the whole catalogue's default shapes on cuda:0 in bf16 with CUDA graphs on and
#          off, then the PyTorch yardstick (scripts/pytorch_reference.py: the peers' own code, in
#          eager mode, with torch.compile and with compile's CUDA graphs) in the same session, and
#          merges both into speed.md and ratios.csv (scripts/speed_table.py). SPEED_STEPS picks
#          the parts (default mlspeed,yardstick,table); SPEED_WORKLOADS narrows both sides (a -w
#          list; a record split over calls of 10 minutes), SPEED_GRAPHS the mlspeed runs (default
#          "on off"; "on" leaves out the eager run); YARDSTICK_MODES, YARDSTICK_WORKLOADS (default
#          SPEED_WORKLOADS) and MIN_TIME narrow the yardstick, which needs the peers in .peers/
#          (see the README).
#   gguf   the quantised-weight kernels' gpu tests (compute-sanitizer memcheck too, where installed),
#          then Llama-2-7B-shaped GGUF files written by `mlspeed quantize random:full` (Q4_0, Q8_0,
#          Q4_K_M) timed with `run --model` beside llama2-7b-generate in bf16 (pp512, tg128, each
#          also at --depth $GGUF_DEPTH, default 3584: Llama 2's context holds it and a 512-token
#          prompt; GGUF_DEPTH=0 times depth 0 alone, GGUF_BF16=0 leaves the bf16 rows out) and again
#          on LibTorch's kernels alone, and llama.cpp's llama-bench on the same files where llama.cpp
#          is in .peers/ (built here for sm_90, LLAMA_BENCH_REPS repetitions, default 5; the table
#          is scripts/llama_bench_table.py's). The files
#          go to $GGUF_DIR (default /tmp/mlspeed-gguf); GGUF_TYPES narrows them (default "Q4_0 Q8_0
#          Q4_K_M"); GGUF_STEPS picks the parts (build, tests, files, run, llama-bench, libtorch (the
#          files on LibTorch's kernels alone), verify (`verify --quick` on cuda:0), questions
#          (`generate --questions` on the first file, QUESTION_REPEATS times, default 5); default all
#          but build: `build` alone makes both builds, for a first call on a machine held between
#          calls).
#   fused  mlspeed's fused CUDA kernels (src/mlspeed/fused/): their gpu tests (against float64
#          references and the unfused ops; the training and generation graphs that capture them;
#          the decode faults on CUDA; compute-sanitizer memcheck where installed), then each row they
#          change timed on mlspeed's kernels and on LibTorch's alone (--kernels libtorch), the two
#          alternating FUSED_REPEATS times (default 2): Llama-2-7B bf16 tg128, gpt2-generate,
#          gpt2-train, nanogpt-shakespeare-char b64, sd15-unet-infer, resnet50-food101 b128; the decode
#          step's kernels by role (scripts/decode_timeline.py) for each; and `verify --quick` on
#          cuda:0. FUSED_STEPS picks the parts (default
#          tests,memcheck,runs,profiles,verify; the build always comes first and is kept between
#          calls on a machine still held).
#   energy issue 22's evidence on cuda:0 in bf16: the quick suite twice with energy on
#          (scripts/energy_repeatability.py: J/item within 3% for every row whose time is within 1%),
#          then with --energy off (`compare` of on against off: "same" when reading energy costs no
#          time), gpt2-train (a row that reaches the power cap), and Llama-2-7B tg128 in bf16 and from
#          a Q4_0 GGUF file (J/token). ENERGY_STEPS picks the parts (default repeat,onoff,train,llama).
#          The database comes back as $OUT/energy.db; the report is made where Chart.js and Chromium
#          are: `mlspeed report --db energy.db label:energy-1 ... --output report.html`.
#   ddp    issue 23's evidence: the NCCL gpu tests (world size 1: the reducer and the probe over
#          ProcessGroupNCCL; rank processes training 20 steps against one process, and with two GPUs
#          against one GPU on the combined batch), then `mlspeed run --ddp N` in bf16 from cuda:0 for gpt2-train b12,
#          resnet50-food101 b128 and distilbert-imdb b32 (a run each, labelled ddp-N in one
#          database), N = DDP_RANKS (default: every GPU the machine has), each beside its one-GPU
#          row with the scaling efficiency and the all-reduce bus bandwidth; the rows come back as
#          $OUT/ddp.jsonl. A run that crashes has its backtrace's frames named (name_frames).
#   verify runs `mlspeed verify` on cuda:0: the full op suite (every size class, huge included) and
#          every workload's model checks in fp32, tf32, fp16 and bf16; the products again with
#          cuBLAS's reduced-precision reductions off; the op suite with deterministic algorithms;
#          the model checks in tf32, fp16 and bf16 at seeds 1..4; then the tests (unless
#          MLSPEED_SKIP_TESTS=1), whose gpu label injects every fault into cuda:0 and asserts it is caught.
# Logs go to $OUT (default: ./gpu-out). Used for the recorded GPU results in results/. The exit
# status is 1 if any step failed (a failed build stops at once), so a record is never made from
# a run that went wrong.
#
#   scripts/gpu-check.sh test|bench|verify|speed      # needs python3 with torch, cmake, ninja, g++
#   SQLITE_INCLUDE=/path/to/dir scripts/gpu-check.sh bench   # where sqlite3.h is, if not in /usr/include
set -uo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-}
case "$MODE" in test|bench|verify|speed|gguf|fused|energy|ddp) ;;
  *) echo "usage: $0 test|bench|verify|speed|gguf|fused|energy|ddp" >&2; exit 2 ;; esac
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
BUILD=build-gpu
step() { echo; echo "=== $* ==="; }
failures=0
# Records a failed step and goes on; the script's exit status reports it.
check() {
  local status=$1; shift
  if [ "$status" -ne 0 ]; then echo "FAILED (exit status $status): $*"; failures=$((failures + 1)); fi
}
# After a crash, mlspeed's backtrace (cli/crash_report) with each frame's function: its lines read
# "file(+0xOFFSET) [0xADDR]" (addr2line names the function) or "file(symbol+0xOFF) [0xADDR]".
name_frames() {
  grep -E '^\S+\((\S*)\+0x[0-9a-f]+\) \[0x' "$1" | while read -r line; do
    local file=${line%%(*} inner=${line#*(}
    inner=${inner%%)*}
    if [ -z "${inner%%+*}" ]; then
      echo "  $(basename "$file") ${inner#+}: $(addr2line -Cfpe "$file" "${inner#+}" 2>/dev/null | head -1)"
    else
      echo "  $(basename "$file"): $(echo "${inner%%+*}" | c++filt)"
    fi
  done
}
finish() {
  if [ "$failures" -gt 0 ]; then echo; echo "$failures step(s) failed"; exit 1; fi
  exit 0
}

step "environment"
{ nvidia-smi; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'; cmake --version | head -1; g++ --version | head -1; date -u; } 2>&1 | tee -a "$OUT/env.txt"

# gguf: which parts run (GGUF_STEPS, default all): build (the builds alone: a first call on a
# machine held between calls) and the rest the header names.
gguf_steps=${GGUF_STEPS:-tests,files,run,llama-bench,libtorch,verify,questions}
# llama.cpp's llama-bench, the peer of `run --model`, built beside mlspeed (in the background) from
# .peers/llama.cpp, or from .peers/llama.cpp.tar.xz when only the archive was carried (see the
# README). Its source and commit go to $OUT/env.txt.
LLAMA_CPP=.peers/llama.cpp
LLAMA_BENCH=$LLAMA_CPP/build-cuda/bin/llama-bench
llama_bench_pid=""
start_llama_bench_build() {
  [ -f "$LLAMA_CPP/CMakeLists.txt" ] || { [ -f "$LLAMA_CPP.tar.xz" ] && tar -xJf "$LLAMA_CPP.tar.xz" -C .peers; }
  if [ ! -f "$LLAMA_CPP/CMakeLists.txt" ]; then
    echo "llama-bench: no llama.cpp in $LLAMA_CPP (or $LLAMA_CPP.tar.xz): the comparison is skipped" | tee -a "$OUT/env.txt"
    return
  fi
  { echo "llama.cpp: $(cat "$LLAMA_CPP/MLSPEED_SOURCE" 2>/dev/null || git -C "$LLAMA_CPP" log -1 --format='%H %cs' 2>/dev/null)"; } \
    | tee -a "$OUT/env.txt"
  (cmake -S "$LLAMA_CPP" -B "$LLAMA_CPP/build-cuda" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=ON \
     -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DGGML_NATIVE=OFF \
     -DGGML_CUDA_NCCL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
     -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF &&
   cmake --build "$LLAMA_CPP/build-cuda" --target llama-bench) > "$OUT/llama-bench-build.log" 2>&1 &
  llama_bench_pid=$!
}
wait_for_llama_bench() {
  [ -n "$llama_bench_pid" ] || return 0
  wait "$llama_bench_pid"
  check $? "llama-bench build (see llama-bench-build.log)"
  llama_bench_pid=""
  tail -2 "$OUT/llama-bench-build.log"
}
if [ "$MODE" = gguf ] && [[ ",$gguf_steps," == *,llama-bench,* || ",$gguf_steps," == *,build,* ]]; then
  start_llama_bench_build
fi

step "configure and build"
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
sqlite_args=()
if [ -n "${SQLITE_INCLUDE:-}" ]; then
  sqlite_lib=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* 2>/dev/null | head -1)
  sqlite_args=(-DSQLite3_INCLUDE_DIR="$SQLITE_INCLUDE" -DSQLite3_LIBRARY="$sqlite_lib")
fi
start=$(date +%s)
# nvcc for the quantised-weight kernels (src/mlspeed/quant/cuda), where the machine has one.
cuda_args=()
[ -x /usr/local/cuda/bin/nvcc ] && cuda_args=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" "${sqlite_args[@]}" "${cuda_args[@]}" \
  > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
# The speed mode needs the program only; the others build the tests too.
targets=()
[ "$MODE" = speed ] || [ "$MODE" = energy ] && targets=(--target mlspeed)
[ "$MODE" = fused ] || [ "$MODE" = ddp ] && targets=(--target mlspeed mlspeed_gpu_tests)
if [ "$MODE" = gguf ]; then
  targets=(--target mlspeed)
  [[ ",${GGUF_STEPS:-tests}," == *,tests,* || ",${GGUF_STEPS:-}," == *,build,* ]] && targets+=(mlspeed_gpu_tests)
fi
cmake --build $BUILD "${targets[@]}" >> "$OUT/build.log" 2>&1 || { grep -E "error|Error" -A5 "$OUT/build.log" | head -80; exit 1; }
echo "built in $(( $(date +%s) - start )) s"
if [ "$MODE" = gguf ] && [ "$gguf_steps" = build ]; then
  wait_for_llama_bench
  echo "llama-bench and mlspeed built in $(( $(date +%s) - start )) s"
  finish
fi

run_tests() {
  step "tests"
  # One thread per test process: a dozen processes each spinning up an OpenMP pool of 16 threads
  # on 16 cores slow the CPU tests down a hundredfold.
  # CTEST_ARGS narrows the run, e.g. CTEST_ARGS="-L gpu".
  OMP_NUM_THREADS=1 ctest --test-dir $BUILD --output-on-failure -j 14 ${CTEST_ARGS:-} > "$OUT/ctest.log" 2>&1
  check $? "ctest"
  grep -E "tests passed|tests failed|Failed|\*\*\*|Label Time|^(unit|cpu|cli|gpu) " "$OUT/ctest.log" | tail -30
}

if [ "$MODE" = test ]; then
  run_tests
  finish
fi

if [ "$MODE" = fused ]; then
  grep -E "mlspeed:" "$OUT/build.log" | head -5
  fused_steps=${FUSED_STEPS:-tests,memcheck,runs,profiles,verify}
  fused_step() { [[ ",$fused_steps," == *,$1,* ]]; }
fi
if [ "$MODE" = fused ] && fused_step tests; then
  step "fused kernels against float64 references and the unfused ops; the graphs that capture them; decode faults"
  fused_tests='FusedDecodeGpu.*:Gpt2FusedDecodeGpu.*:DecodeProductGpu.*:FusedCrossEntropyGpu.*:ResidualLayerNormGpu.*:'
  fused_tests+='GroupNormGpu.*:BatchNormGpu.*:'
  fused_tests+='Gpt2Loss.*:StepGraphs.*:'
  fused_tests+='GenerationGraphs.*:*FaultIsCaughtOnCuda*:EnergyGpu.*'
  $BUILD/mlspeed_gpu_tests --gtest_filter="$fused_tests" > "$OUT/fused-gpu-tests.log" 2>&1
  check $? "fused kernel tests"
  grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) " "$OUT/fused-gpu-tests.log" | head -80
fi
if [ "$MODE" = fused ] && fused_step memcheck; then
  if command -v compute-sanitizer >/dev/null || [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
    sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    kernel_tests='FusedDecodeGpu.*:Gpt2FusedDecodeGpu.*:DecodeProductGpu.*:FusedCrossEntropyGpu.*:'
    kernel_tests+='ResidualLayerNormGpu.*:GroupNormGpu.*:BatchNormGpu.*'
    $sanitizer --tool memcheck --error-exitcode 1 $BUILD/mlspeed_gpu_tests --gtest_filter="$kernel_tests" \
      > "$OUT/fused-memcheck.log" 2>&1
    check $? "compute-sanitizer memcheck"
    tail -3 "$OUT/fused-memcheck.log"
  fi
fi
if [ "$MODE" = fused ]; then
  DB="$OUT/fused.db"
fi
if [ "$MODE" = fused ] && fused_step runs; then
  rows=("-w llama2-7b-generate -s 0 -g 128" "-w gpt2-generate" "-w gpt2-train" "-w nanogpt-shakespeare-char -b 64"
        "-w sd15-unet-infer" "-w resnet50-food101 -b 128")
  for row in "${rows[@]}"; do
    step "run $row, cuda:0, bf16: mlspeed's kernels against LibTorch's, alternating"
    for ((i = 0; i < ${FUSED_REPEATS:-2}; i++)); do
      for kernels in mlspeed libtorch; do
        # shellcheck disable=SC2086 # $row is the row's arguments
        $BUILD/mlspeed run $row -d cuda:0 -t bf16 --kernels $kernels --min-time "${MIN_TIME:-2}" --db "$DB" \
          --label "fused-$kernels" > "$OUT/fused-run.md" 2>> "$OUT/fused-run.err"
        check $? "mlspeed run $row --kernels $kernels"
        grep -E "^\| (llama|gpt2|nanogpt|sd15|resnet)" "$OUT/fused-run.md" | sed "s/^/$kernels: /"
      done
    done
  done
  $BUILD/mlspeed history --db "$DB" > "$OUT/fused-history.md" 2>&1
fi
if [ "$MODE" = fused ] && fused_step profiles; then
  for kernels in mlspeed libtorch; do
    step "Llama-2-7B's decode step by role (--kernels $kernels --profile)"
    rm -rf "$OUT/profile"
    $BUILD/mlspeed run -w llama2-7b-generate -s 0 -g 128 -d cuda:0 -t bf16 --kernels $kernels -n 3 \
      --profile "$OUT/profile" > /dev/null 2>&1
    check $? "mlspeed run llama2-7b-generate --profile"
    python3 scripts/decode_timeline.py "$(ls "$OUT"/profile/*g128*.trace.json | tail -1)" \
      | tee "$OUT/llama-tg128-timeline-$kernels.txt" | head -24
    step "gpt2-generate's kernels (--kernels $kernels --profile)"
    $BUILD/mlspeed run -w gpt2-generate -d cuda:0 -t bf16 --kernels $kernels -n 3 --profile "$OUT/profile" \
      > "$OUT/gpt2-generate-profile-$kernels.md" 2>&1
    check $? "mlspeed run gpt2-generate --profile"
    grep -A12 "^profile of" "$OUT/gpt2-generate-profile-$kernels.md"
  done
  rm -rf "$OUT/profile"
fi
if [ "$MODE" = fused ] && fused_step verify; then
  step "verify --quick on cuda:0 (the generation checks decode through the fused steps)"
  $BUILD/mlspeed verify -d cuda:0 --quick --db "$DB" > "$OUT/verify-quick.md" 2> "$OUT/verify-quick.err"
  check $? "verify --quick"
  sed -n '/^## Verdict/,$p' "$OUT/verify-quick.md" | head -20
fi
[ "$MODE" = fused ] && finish

if [ "$MODE" = energy ]; then
  energy_steps=${ENERGY_STEPS:-repeat,onoff,train,llama}
  energy_step() { [[ ",$energy_steps," == *,$1,* ]]; }
  DB="$OUT/energy.db"
  quick=(-w nanogpt-shakespeare-char,bert-base-infer,resnet50-cifar100,small-transformer-imdb,gpt2-generate)
  # $1: the label, then run's other arguments; the rows as md (printed) and jsonl ($OUT/<label>.jsonl).
  energy_run() {
    local label=$1; shift
    step "mlspeed run $* (cuda:0, bf16, --label $label)"
    $BUILD/mlspeed run -d cuda:0 -t bf16 --min-time "${MIN_TIME:-2}" --db "$DB" --label "$label" "$@" \
      > "$OUT/$label.md" 2> "$OUT/$label.err"
    check $? "mlspeed run $* --label $label"
    sed -n '/^| workload/,$p' "$OUT/$label.md"
    $BUILD/mlspeed show "label:$label" --db "$DB" -o jsonl > "$OUT/$label.jsonl"
    check $? "mlspeed show label:$label"
  }
  if energy_step repeat; then
    energy_run energy-1 "${quick[@]}"
    energy_run energy-2 "${quick[@]}"
    step "J/item of the two runs, row by row"
    python3 scripts/energy_repeatability.py "$OUT/energy-1.jsonl" "$OUT/energy-2.jsonl" | tee "$OUT/repeatability.md"
    check "${PIPESTATUS[0]}" "energy repeatability"
  fi
  if energy_step onoff; then
    energy_run energy-off "${quick[@]}" --energy off
    step "time with energy on (energy-2) against off (energy-off)"
    $BUILD/mlspeed compare label:energy-2 label:energy-off --db "$DB" | tee "$OUT/energy-on-off.md"
    check "${PIPESTATUS[0]}" "mlspeed compare"
  fi
  energy_step train && energy_run energy-train -w gpt2-train,resnet50-food101 --wide
  if energy_step llama; then
    energy_run energy-llama-bf16 -w llama2-7b-generate -s 0 -g 128 --wide
    gguf=/tmp/mlspeed-gguf/llama-2-7b.Q4_0.gguf
    mkdir -p /tmp/mlspeed-gguf
    $BUILD/mlspeed quantize random:full "$gguf" --type Q4_0 > "$OUT/quantize.log" 2>&1
    check $? "mlspeed quantize random:full --type Q4_0"
    energy_run energy-llama-q4_0 --model "$gguf" -s 0 -g 128 --wide
  fi
  finish
fi

if [ "$MODE" = ddp ]; then
  step "NCCL: the gradient reducer, the all-reduce probe, and 20 training steps of rank processes"
  $BUILD/mlspeed_gpu_tests --gtest_filter='NcclGroup.*:DataParallelStepsGpu.*' 2>&1 | tee "$OUT/nccl-gpu-tests.log" | tail -3
  check "${PIPESTATUS[0]}" "NCCL gpu tests"
  ranks=${DDP_RANKS:-$(nvidia-smi -L | wc -l)}
  for config in gpt2-train:12 resnet50-food101:128 distilbert-imdb:32; do
    workload=${config%:*} batch=${config#*:}
    step "mlspeed run -w $workload -b $batch --ddp $ranks (cuda:0, bf16)"
    $BUILD/mlspeed run -d cuda:0 -t bf16 -w "$workload" -b "$batch" --ddp "$ranks" --min-time "${MIN_TIME:-2}" \
      --db "$OUT/ddp.db" --label "ddp-$ranks" --wide > "$OUT/ddp-$workload.md" 2> "$OUT/ddp-$workload.err"
    rc=$?
    check $rc "mlspeed run -w $workload --ddp $ranks"
    sed -n '/^| workload/,$p' "$OUT/ddp-$workload.md"
    tail -3 "$OUT/ddp-$workload.err"
    [ "$rc" -ge 128 ] && name_frames "$OUT/ddp-$workload.err"
    # A label names every run, and `show label:` prints the last: each run's rows as it ends.
    [ "$rc" -ge 128 ] || $BUILD/mlspeed show last --db "$OUT/ddp.db" -o jsonl >> "$OUT/ddp.jsonl"
  done
  finish
fi

if [ "$MODE" = speed ]; then
  step "devices"
  $BUILD/mlspeed devices | tee -a "$OUT/env.txt"
  steps=${SPEED_STEPS:-mlspeed,yardstick,table}
  min_time=${MIN_TIME:-2}
  workloads=()
  [ -n "${SPEED_WORKLOADS:-}" ] && workloads=(-w "$SPEED_WORKLOADS")
  YARDSTICK_WORKLOADS=${YARDSTICK_WORKLOADS:-${SPEED_WORKLOADS:-}}
  if [[ ",$steps," == *,mlspeed,* ]]; then
    DB="$OUT/speed.db"
    for graphs in ${SPEED_GRAPHS:-on off}; do
      step "mlspeed run: ${SPEED_WORKLOADS:-every workload}'s default shapes, cuda:0, bf16, --graphs $graphs"
      start=$(date +%s)
      $BUILD/mlspeed run "${workloads[@]}" -d cuda:0 -t bf16 --graphs $graphs --min-time "$min_time" --db "$DB" \
        > "$OUT/mlspeed-graphs-$graphs.md" 2> "$OUT/mlspeed-graphs-$graphs.err"
      check $? "mlspeed run --graphs $graphs"
      echo "$(( $(date +%s) - start )) s"
      sed -n '/^| workload/,$p' "$OUT/mlspeed-graphs-$graphs.md"
      $BUILD/mlspeed show last --db "$DB" -o jsonl > "$OUT/mlspeed-graphs-$graphs.jsonl"
      check $? "mlspeed show"
    done
  fi
  if [[ ",$steps," == *,yardstick,* ]]; then
    step "PyTorch yardstick: ${YARDSTICK_WORKLOADS:-every workload}, modes ${YARDSTICK_MODES:-eager,compile,reduce-overhead}"
    start=$(date +%s)
    PYTHONUNBUFFERED=1 python3 scripts/pytorch_reference.py --device cuda --out "$OUT/pytorch" --peers .peers \
      --dtypes bf16 --min-time "$min_time" ${YARDSTICK_MODES:+--modes "$YARDSTICK_MODES"} \
      ${YARDSTICK_WORKLOADS:+--workloads "$YARDSTICK_WORKLOADS"} 2> "$OUT/pytorch.err"
    check $? "yardstick"
    echo "$(( $(date +%s) - start )) s"
    tail -5 "$OUT/pytorch.err"
  fi
  if [[ ",$steps," == *,table,* ]]; then
    step "mlspeed against PyTorch"
    eager=()
    [ -f "$OUT/mlspeed-graphs-off.jsonl" ] && eager=(--mlspeed-eager "$OUT/mlspeed-graphs-off.jsonl")
    python3 scripts/speed_table.py --mlspeed-graphs "$OUT/mlspeed-graphs-on.jsonl" "${eager[@]}" \
      --pytorch "$OUT/pytorch/pytorch.jsonl" --out "$OUT"
    check $? "speed table"
  fi
  finish
fi

if [ "$MODE" = gguf ]; then
  grep -E "mlspeed:" "$OUT/build.log" | head -5
  if [[ ",$gguf_steps," == *,tests,* ]]; then
    step "quantised-weight and fused decode kernels against float64 references, quantised decoding (gpu tests)"
    $BUILD/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.*:FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:GenerationGraphs.*' \
      > "$OUT/quant-gpu-tests.log" 2>&1
    check $? "quantised and fused kernel tests"
    grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) |GB/s|us " "$OUT/quant-gpu-tests.log" | head -80
    for split in 1 2 4; do  # every split of the products (quant_gemv.cu), whatever this GPU chooses
      MLSPEED_GEMV_SPLIT=$split $BUILD/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Every*:QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*:QuantKernelsGpu.TheProduct*' \
        > "$OUT/quant-gpu-tests-split$split.log" 2>&1
      check $? "quantised kernel tests, split $split"
      grep -E "^\[ *(FAILED|PASSED) " "$OUT/quant-gpu-tests-split$split.log" | sed "s/^/split $split: /"
    done
    if command -v compute-sanitizer >/dev/null || [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
      sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
      $sanitizer --tool memcheck --error-exitcode 1 $BUILD/mlspeed_gpu_tests \
        --gtest_filter='QuantKernelsGpu.RowViews*:QuantKernelsGpu.Gaussian*:FusedDecodeGpu.*' > "$OUT/quant-memcheck.log" 2>&1
      check $? "compute-sanitizer memcheck"
      tail -3 "$OUT/quant-memcheck.log"
    fi
  fi
  GGUF_DIR=${GGUF_DIR:-/tmp/mlspeed-gguf}
  mkdir -p "$GGUF_DIR"
  models=()
  for type in ${GGUF_TYPES:-Q4_0 Q8_0 Q4_K_M}; do models+=("$GGUF_DIR/llama-2-7b.$type.gguf"); done
  model_list=$(IFS=,; echo "${models[*]}")
  if [[ ",$gguf_steps," == *,files,* ]]; then
    step "GGUF files of Llama-2-7B's shape (random weights, llama.cpp's layout)"
    # In parallel: each file's random weights come from one sequential generator (a core each).
    pids=()
    for file in "${models[@]}"; do
      type=${file%.gguf}; type=${type##*.}
      $BUILD/mlspeed quantize random:full "$file" --type "$type" > "$OUT/quantize-$type.log" 2>&1 &
      pids+=($!)
    done
    for i in "${!models[@]}"; do
      type=${models[$i]%.gguf}; type=${type##*.}
      wait "${pids[$i]}"
      check $? "quantize $type"
      tee -a "$OUT/quantize.log" < "$OUT/quantize-$type.log" && rm "$OUT/quantize-$type.log"
    done
  fi
  DB="$OUT/gguf.db"
  depth=${GGUF_DEPTH:-3584}
  depths=0; [ "$depth" != 0 ] && depths="0,$depth"
  bf16_workload=(-w llama2-7b-generate); [ "${GGUF_BF16:-1}" = 0 ] && bf16_workload=()
  if [[ ",$gguf_steps," == *,run,* ]]; then
    # Llama 2's 4096 positions hold 3584 of context and a 512-token prompt (llama.cpp runs past a
    # model's trained context; mlspeed refuses to).
    step "run --model (pp512, tg128, each at depth $depths)${bf16_workload:+ and llama2-7b-generate bf16}, cuda:0, bf16 activations"
    $BUILD/mlspeed run --model "$model_list" "${bf16_workload[@]}" -d cuda:0 -t bf16 \
      --depth "$depths" --min-time "${MIN_TIME:-2}" --db "$DB" --label "gguf" > "$OUT/gguf-run.md" 2> "$OUT/gguf-run.err"
    check $? "mlspeed run --model"
    sed -n '/^| workload/,$p' "$OUT/gguf-run.md"
    $BUILD/mlspeed show last --db "$DB" --wide > "$OUT/gguf-run-wide.md"
    $BUILD/mlspeed show last --db "$DB" -o jsonl > "$OUT/gguf-run.jsonl"
    check $? "mlspeed show"
    sed -n '/^| workload/,$p' "$OUT/gguf-run-wide.md"
  fi
  if [[ ",$gguf_steps," == *,llama-bench,* ]]; then
    step "llama-bench on the same files (pp512, tg128, depth $depths, every layer on the GPU)"
    wait_for_llama_bench
    if [ -x "$LLAMA_BENCH" ]; then
      "$LLAMA_BENCH" -m "$model_list" -p 512 -n 128 -d "$depths" -ngl 99 -r "${LLAMA_BENCH_REPS:-5}" -o jsonl \
        > "$OUT/llama-bench.jsonl" \
        2> "$OUT/llama-bench.err"
      check $? "llama-bench"
      python3 scripts/llama_bench_table.py --mlspeed "$OUT/gguf-run.jsonl" --llama-bench "$OUT/llama-bench.jsonl" \
        --out "$OUT"
      check $? "llama_bench_table.py"
    fi
  fi
  if [[ ",$gguf_steps," == *,libtorch,* ]]; then
    step "the same files on LibTorch's kernels alone (--kernels libtorch: dequantise, then cuBLAS), pp512 and tg128"
    $BUILD/mlspeed run --model "$model_list" -d cuda:0 -t bf16 --kernels libtorch --min-time "${MIN_TIME:-2}" \
      --db "$DB" --label "gguf-libtorch-kernels" > "$OUT/gguf-libtorch.md" 2> "$OUT/gguf-libtorch.err"
    check $? "mlspeed run --kernels libtorch"
    sed -n '/^| workload/,$p' "$OUT/gguf-libtorch.md"
  fi
  if [[ ",$gguf_steps," == *,verify,* ]]; then
    step "verify --quick on cuda:0 (the quantised model checks decode through the fused kernels; quantised faults)"
    $BUILD/mlspeed verify -d cuda:0 --quick --db "$DB" > "$OUT/verify-quick.md" 2> "$OUT/verify-quick.err"
    check $? "verify --quick"
    sed -n '/^## Verdict/,$p' "$OUT/verify-quick.md" | head -30
  fi
  if [[ ",$gguf_steps," == *,questions,* ]]; then
    step "the source benchmark's test: the 20 questions, ${QUESTION_REPEATS:-5} times each, Q4_0 file, cuda:0"
    $BUILD/mlspeed generate --model "${models[0]}" --questions -r "${QUESTION_REPEATS:-5}" -d cuda:0 -t bf16 \
      --db "$DB" --label "questions" > "$OUT/questions.md" 2> "$OUT/questions.err"
    check $? "generate --questions"
    tail -30 "$OUT/questions.md"
  fi
  finish
fi

if [ "$MODE" = verify ]; then
  step "devices"
  $BUILD/mlspeed devices | tee -a "$OUT/env.txt"
  DB="$OUT/verify.db"
  step "verify cuda:0: full op suite (small, boundary, huge) and model checks (fp32, tf32, fp16, bf16)"
  start=$(date +%s)
  $BUILD/mlspeed verify -d cuda:0 --size-classes small,boundary,huge --model-dtypes fp32,tf32,fp16,bf16 --db "$DB" \
    > "$OUT/verify-cuda0.md" 2> "$OUT/verify-cuda0.err"
  check $? "verify cuda:0"
  echo "$(( $(date +%s) - start )) s"
  sed -n '/^## Verdict/,$p' "$OUT/verify-cuda0.md" | head -60
  $BUILD/mlspeed show last --db "$DB" -o csv > "$OUT/verify-cuda0.csv"

  step "bf16/fp16 products with cuBLAS's reduced-precision reductions off (--full-precision-reductions)"
  $BUILD/mlspeed verify -d cuda:0 --level op --ops mm,matmul,bmm,addmm,linear --dtypes bfloat16,float16 \
    --size-classes small,boundary --full-precision-reductions --db "$DB" > "$OUT/verify-full-reductions.md" 2>&1
  check $? "verify --full-precision-reductions"
  sed -n '/^## Verdict/,$p' "$OUT/verify-full-reductions.md" | head -20

  step "op suite with deterministic algorithms (--deterministic)"
  $BUILD/mlspeed verify -d cuda:0 --level op --deterministic --db "$DB" > "$OUT/verify-deterministic.md" 2>&1
  check $? "verify --deterministic"
  sed -n '/^## Verdict/,$p' "$OUT/verify-deterministic.md" | head -30

  step "model checks in tf32, fp16 and bf16 over more seeds (no false alarms)"
  for seed in 1 2 3 4; do
    $BUILD/mlspeed verify -d cuda:0 --level model --model-dtypes tf32,fp16,bf16 --seed $seed --db "$DB" \
      > "$OUT/verify-models-seed$seed.md" 2>&1
    check $? "verify models, seed $seed"
    sed -n '/^## Verdict/,$p' "$OUT/verify-models-seed$seed.md" | head -12
  done
  [ "${MLSPEED_SKIP_TESTS:-0}" = 1 ] || run_tests
  finish
fi

step "devices"
$BUILD/mlspeed devices | tee -a "$OUT/env.txt"

step "benchmark: the whole catalogue, full size, cuda:0, natural dtypes"
DB="$OUT/results.db"
$BUILD/mlspeed run -d cuda:0 -t bf16 --db "$DB" | tee "$OUT/run-bf16.md"
check "${PIPESTATUS[0]}" "mlspeed run bf16"
$BUILD/mlspeed run -w sd15-unet-infer -d cuda:0 -t fp16 --db "$DB" | tee "$OUT/run-sd15-fp16.md"
check "${PIPESTATUS[0]}" "mlspeed run sd15 fp16"

step "the same results from the database"
for id in 1 2; do
  $BUILD/mlspeed show $id --db "$DB" -o json > "$OUT/run$id.json"
  $BUILD/mlspeed show $id --db "$DB" -o csv > "$OUT/run$id.csv"
done
diff <(sed -n '/^| workload/,$p' "$OUT/run-bf16.md") <($BUILD/mlspeed show 1 --db "$DB" | sed -n '/^| workload/,$p')
check $? "show prints the same table as run"
ls -la "$OUT"
finish
