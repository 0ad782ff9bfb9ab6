#!/bin/bash
# Device call 1: the fused decode product (fused/cuda/decode_product.cu) in the working tree (new)
# against main before it (base: abe4879, from .device/base.tar.gz), built side by side on one
# machine: the product's gpu tests and every fused kernel's, the decode faults on CUDA (gpu-check.sh
# fused, FUSED_STEPS=tests), memcheck of the decode steps' kernels, verify --quick; then
# gpt2-generate (base, new, alternating), new's gpt2-generate on LibTorch's kernels and its
# kernels (--profile), and Llama-2-7B bf16 tg128 on both builds.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee $OUT/env.txt
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a $OUT/env.txt
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
mkdir -p /tmp/b && tar -xzf .device/base.tar.gz -C /tmp/b
( cmake -S /tmp/b/base -B /tmp/b/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DSQLite3_INCLUDE_DIR="$PWD/.device" -DSQLite3_LIBRARY="$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1)" \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc && cmake --build /tmp/b/build --target mlspeed ) \
  > $OUT/base-build.log 2>&1 &
base_pid=$!
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=tests OUT=$OUT/new scripts/gpu-check.sh fused > $OUT/new-fused.log 2>&1 \
  || status=1
grep -E "built in|FAILED|PASSED" $OUT/new-fused.log | head -20
grep -E "^\[ *(FAILED) |Failure|Expected|Which is|worst" $OUT/new/fused-gpu-tests.log | head -40
[ -x build-gpu/mlspeed ] || { echo "no new build"; tail -30 $OUT/new-fused.log; exit 1; }
echo "=== memcheck of the decode products and GPT-2's step ($SECONDS s) ==="
timeout 120 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/mlspeed_gpu_tests \
  --gtest_filter='DecodeProductGpu.*:Gpt2FusedDecodeGpu.*:FusedDecodeGpu.Llama*' > $OUT/memcheck.log 2>&1 \
  || { echo "memcheck exit $?"; status=1; }
tail -2 $OUT/memcheck.log
wait $base_pid || { echo "base build failed"; tail -20 $OUT/base-build.log; exit 1; }
echo "=== new: verify --quick ($SECONDS s) ==="
build-gpu/mlspeed verify -d cuda:0 --quick --no-db > $OUT/verify-quick.md 2> $OUT/verify-quick.err || status=1
grep -E "^VERDICT|checks:" $OUT/verify-quick.md
# $1: base or new; then run's arguments. The rows go to ab-rows.md.
ab_run() {
  local b=$1 B=build-gpu/mlspeed; shift
  [ "$b" = base ] && B=/tmp/b/build/mlspeed
  timeout $((590 - SECONDS)) $B run "$@" -d cuda:0 -t bf16 > $OUT/ab.md 2>> $OUT/ab.err || { echo "$b $* failed"; status=1; }
  grep -E "^\| (gpt2|llama)" $OUT/ab.md | sed "s/^/$b /" | tee -a $OUT/ab-rows.md
}
echo "=== A/B gpt2-generate: base = main abe4879, new = working tree ($SECONDS s) ==="
for b in base new base new; do ab_run $b -w gpt2-generate --min-time 2; done
echo "=== new: gpt2-generate --kernels libtorch, then gpt2-generate's kernels (--profile) ($SECONDS s) ==="
build-gpu/mlspeed run -w gpt2-generate -d cuda:0 -t bf16 --kernels libtorch --min-time 2 | grep -E "^\| gpt2"
build-gpu/mlspeed run -w gpt2-generate -d cuda:0 -t bf16 -n 3 --profile /tmp/prof > $OUT/gpt2-generate-profile.md 2>&1 \
  || { echo "profile failed"; status=1; }
grep -A16 "^profile of" $OUT/gpt2-generate-profile.md
echo "=== A/B Llama-2-7B bf16 tg128 ($SECONDS s) ==="
for b in base new; do ab_run $b -w llama2-7b-generate -s 0 -g 128 --min-time 1; echo "($SECONDS s)"; done
echo "done ($SECONDS s), status $status"
exit $status
