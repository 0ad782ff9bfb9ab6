#!/bin/bash
# One device call, the essentials first: the gpu tests of the new kernels (and memcheck), HEAD
# (base, .device/base.tar.gz) against the working tree (new) on Llama-2-7B Q4_0, verify --quick,
# then the 20 questions x 5.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
mkdir -p /tmp/b && tar -xzf .device/base.tar.gz -C /tmp/b
( cmake -S /tmp/b/base -B /tmp/b/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DSQLite3_INCLUDE_DIR=$PWD/.device -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc && cmake --build /tmp/b/build --target mlspeed ) > $OUT/base-build.log 2>&1 &
base_pid=$!
SQLITE_INCLUDE=$PWD/.device OUT=$OUT GGUF_TYPES=Q4_0 GGUF_STEPS=build scripts/gpu-check.sh gguf || exit 1
F=/tmp/mlspeed-gguf/llama-2-7b.Q4_0.gguf; mkdir -p /tmp/mlspeed-gguf
build-gpu/mlspeed quantize random:full $F --type Q4_0 > $OUT/quantize.log 2>&1 &
quantize_pid=$!
echo "=== gpu tests ($SECONDS s) ==="
build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.*:FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:GenerationGraphs.*' \
  > $OUT/gpu-tests.log 2>&1 || status=1
grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure|Expected|Which is|worst|rate " $OUT/gpu-tests.log | head -70
wait $quantize_pid || { echo "quantize failed"; cat $OUT/quantize.log; exit 1; }
cat $OUT/quantize.log
wait $base_pid || { echo "base build failed"; tail -20 $OUT/base-build.log; exit 1; }
echo "=== A/B: base = b265930, new = working tree (95a002f +) (pp512, tg128; min-time 1 s) ($SECONDS s) ==="
for b in base new base new; do
  B=build-gpu/mlspeed; [ $b = base ] && B=/tmp/b/build/mlspeed
  $B run --model $F -d cuda:0 -t bf16 -s 512 -g 128 --min-time 1 > $OUT/ab-$b.md 2>&1 || { echo "$b run failed"; tail $OUT/ab-$b.md; status=1; }
  grep -E "^\| llama" $OUT/ab-$b.md | sed "s/^/$b /"
done
echo "=== memcheck of the fused kernels ($SECONDS s) ==="
timeout 120 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/mlspeed_gpu_tests \
  --gtest_filter='FusedDecodeGpu.*' > $OUT/memcheck.log 2>&1; echo "memcheck exit $?"; tail -3 $OUT/memcheck.log
echo "=== verify --quick ($SECONDS s) ==="
build-gpu/mlspeed verify -d cuda:0 --quick --db $OUT/gguf.db > $OUT/verify-quick.md 2> $OUT/verify-quick.err || status=1
sed -n '/^## Verdict/,$p' $OUT/verify-quick.md | head -20
echo "=== generate --questions -r 5 ($SECONDS s) ==="
build-gpu/mlspeed generate --model $F --questions -r 5 -d cuda:0 -t bf16 --db $OUT/gguf.db --label questions \
  > $OUT/questions.md 2> $OUT/questions.err || status=1
tail -32 $OUT/questions.md
echo "done ($SECONDS s), status $status"
exit $status
