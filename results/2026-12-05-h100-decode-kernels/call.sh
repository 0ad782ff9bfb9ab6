#!/bin/bash
# Device call: main (base) against the working tree (new: the norm kernel in one load round, the
# attention kernel with rotary + cache write + combine and its loads before the wait, the
# products' 16-byte chunk reads and two rows a warp) on Llama-2-7B Q4_0 decoding; gpu tests;
# per-kernel times; memcheck; verify --quick.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
mkdir -p /tmp/b && tar -xzf .device/base.tar.gz -C /tmp/b
( cmake -S /tmp/b/base -B /tmp/b/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DSQLite3_INCLUDE_DIR=$PWD/.device -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc && cmake --build /tmp/b/build --target mlspeed ) > $OUT/base-build.log 2>&1 &
base_pid=$!
SQLITE_INCLUDE=$PWD/.device OUT=$OUT GGUF_TYPES=Q4_0 GGUF_STEPS=build scripts/gpu-check.sh gguf > $OUT/new-build.log 2>&1 || { tail -30 $OUT/new-build.log; exit 1; }
echo "new built ($SECONDS s)"
F=/tmp/mlspeed-gguf/llama-2-7b.Q4_0.gguf; mkdir -p /tmp/mlspeed-gguf
build-gpu/mlspeed quantize random:full $F --type Q4_0 > $OUT/quantize.log 2>&1 &
quantize_pid=$!
echo "=== gpu tests ($SECONDS s) ==="
build-gpu/mlspeed_gpu_tests --gtest_filter='FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:GenerationGraphs.*:QuantKernelsGpu.*' \
  > $OUT/gpu-tests.log 2>&1 || status=1
grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure|Expected|Which is|worst| of [0-9]+ elements differ|rate .*n=1 " $OUT/gpu-tests.log | head -60
wait $quantize_pid || { echo "quantize failed"; cat $OUT/quantize.log; exit 1; }
wait $base_pid || { echo "base build failed"; tail -20 $OUT/base-build.log; exit 1; }
echo "=== A/B tg128 (min-time 1 s): base = main 45c31b6, new = working tree ($SECONDS s) ==="
for b in base new base new; do
  B=build-gpu/mlspeed; [ $b = base ] && B=/tmp/b/build/mlspeed
  $B run --model $F -d cuda:0 -t bf16 -s 0 -g 128 --depth 0,3584 --min-time 1 > $OUT/ab-$b.md 2>&1 || { echo "$b run failed"; tail $OUT/ab-$b.md; status=1; }
  grep -E "^\| llama" $OUT/ab-$b.md | sed "s/^/$b /"
done
echo "=== decode step, kernel by kernel (new; PDL off, then on) ($SECONDS s) ==="
for pdl in off on; do
  MLSPEED_CUDA_PDL=$pdl build-gpu/mlspeed run --model $F -d cuda:0 -t bf16 -s 0 -g 128 --min-time 0.2 \
    --profile /tmp/prof-$pdl > /tmp/prof-$pdl.log 2>&1 || { echo "profile $pdl failed"; tail /tmp/prof-$pdl.log; status=1; }
  for t in /tmp/prof-$pdl/*g128.trace.json; do echo "--- PDL $pdl: $(basename $t)"; python3 scripts/decode_timeline.py $t | head -12; done
done
echo "=== memcheck of the fused kernels and the products ($SECONDS s) ==="
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/mlspeed_gpu_tests \
  --gtest_filter='FusedDecodeGpu.*:QuantKernelsGpu.Every*:QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*' > $OUT/memcheck.log 2>&1; echo "memcheck exit $?"; tail -3 $OUT/memcheck.log
echo "=== verify --quick ($SECONDS s) ==="
build-gpu/mlspeed verify -d cuda:0 --quick --db /tmp/v.db > /tmp/verify-quick.md 2> /tmp/verify-quick.err || status=1
sed -n '/^## Verdict/,$p' /tmp/verify-quick.md | head -8
echo "done ($SECONDS s), status $status"
exit $status
