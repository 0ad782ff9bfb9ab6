#!/bin/bash
# Device call 1: the fused decode product (fused/cuda/decode_product.cu) in the working tree (new)
# against main before it (base: 0274d95, from .device/base.tar.gz), built side by side on one
# machine: the product's gpu tests and every fused kernel's, the decode faults on CUDA (gpu-check.sh
# fused, FUSED_STEPS=tests), memcheck of the decode steps' kernels, verify --quick; then
# gpt2-generate (base, new, alternating), Llama-2-7B bf16 tg128 on both builds, new's
# gpt2-generate on LibTorch's kernels and its kernels (--profile), in that order of need.
# BASE=0 leaves the base out. LIMIT (default 590): the seconds the call may take; each step that
# would not finish by then is left out, and says so.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
source "$(dirname "$0")/pack.sh"  # every log back in one archive
# Whether $1 seconds are left before LIMIT; a step that would not finish is left out, and says so.
time_for() {
  [ $((${LIMIT:-590} - SECONDS)) -ge "$1" ] && return 0
  echo "(left out: $2, ${1} s needed at $SECONDS s)"; status=1; return 1
}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee $OUT/env.txt
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a $OUT/env.txt
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
mkdir -p /tmp/b && tar -xzf .device/base.tar.gz -C /tmp/b
# BASE=0 builds no base (a call too short for two builds): its rows are left out.
[ "${BASE:-1}" = 0 ] && rm -rf /tmp/b/base
( [ ! -d /tmp/b/base ] || { cmake -S /tmp/b/base -B /tmp/b/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" -DSQLite3_INCLUDE_DIR="$PWD/.device" \
    -DSQLite3_LIBRARY="$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1)" \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc && cmake --build /tmp/b/build --target mlspeed; } ) \
  > $OUT/base-build.log 2>&1 &
base_pid=$!
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=tests OUT=$OUT/new scripts/gpu-check.sh fused > $OUT/new-fused.log 2>&1 \
  || status=1
grep -E "built in|FAILED|PASSED" $OUT/new-fused.log | head -20
grep -E "^\[ *(FAILED) |Failure|Expected|Which is|worst" $OUT/new/fused-gpu-tests.log | head -40
[ -x build-gpu/mlspeed ] || { echo "no new build"; tail -30 $OUT/new-fused.log; exit 1; }
echo "=== new: verify --quick ($SECONDS s) ==="
build-gpu/mlspeed verify -d cuda:0 --quick --no-db > $OUT/verify-quick.md 2> $OUT/verify-quick.err || status=1
grep -E "^VERDICT|checks:" $OUT/verify-quick.md
# $1: base or new; then run's arguments. The rows go to ab-rows.md.
ab_run() {
  local b=$1 B=build-gpu/mlspeed; shift
  [ "$b" = base ] && B=/tmp/b/build/mlspeed
  timeout $((${LIMIT:-590} - SECONDS)) $B run "$@" -d cuda:0 -t bf16 > $OUT/ab.md 2>> $OUT/ab.err || { echo "$b $* failed"; status=1; }
  grep -E "^\| (gpt2|llama)" $OUT/ab.md | sed "s/^/$b /" | tee -a $OUT/ab-rows.md
}
echo "=== A/B gpt2-generate: base = main 0274d95, new = working tree ($SECONDS s) ==="
# The base build waited for while it runs (a machine short of time leaves its rows out).
if time_for 120 "the base build"; then
  timeout $((${LIMIT:-590} - SECONDS - 100)) tail --pid=$base_pid -f /dev/null
fi
if kill -0 $base_pid 2>/dev/null; then
  echo "(left out: the base rows, its build unfinished at $SECONDS s)"; kill $base_pid; status=1
else
  wait $base_pid || { echo "base build failed"; tail -5 $OUT/base-build.log; status=1; }
fi
for b in base new base new; do
  if [ $b = base ] && [ ! -x /tmp/b/build/mlspeed ]; then continue; fi
  time_for 30 "gpt2-generate $b" && ab_run $b -w gpt2-generate --min-time 2
done
echo "=== Llama-2-7B bf16 tg128, new ($SECONDS s) ==="
time_for 60 "llama new" && ab_run new -w llama2-7b-generate -s 0 -g 128 --min-time 1
echo "=== memcheck of the decode products and GPT-2's step ($SECONDS s) ==="
if time_for 100 memcheck; then
  timeout 80 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/mlspeed_gpu_tests \
    --gtest_filter='DecodeProductGpu.*:Gpt2FusedDecodeGpu.*:FusedDecodeGpu.Llama*' > $OUT/memcheck.log 2>&1 \
    || { echo "memcheck exit $?"; status=1; }
  tail -2 $OUT/memcheck.log
fi
echo "=== Llama-2-7B bf16 tg128, base ($SECONDS s) ==="
[ -x /tmp/b/build/mlspeed ] && time_for 60 "llama base" && ab_run base -w llama2-7b-generate -s 0 -g 128 --min-time 1
echo "=== new: gpt2-generate --kernels libtorch, then gpt2-generate's kernels (--profile) ($SECONDS s) ==="
time_for 20 "gpt2-generate --kernels libtorch" && ab_run new -w gpt2-generate --kernels libtorch --min-time 2
if time_for 20 "gpt2-generate --profile"; then
  build-gpu/mlspeed run -w gpt2-generate -d cuda:0 -t bf16 -n 3 --profile /tmp/prof > $OUT/gpt2-generate-profile.md \
    2>&1 || { echo "profile failed"; status=1; }
  grep -A16 "^profile of" $OUT/gpt2-generate-profile.md
fi
echo "done ($SECONDS s), status $status"
exit $status
