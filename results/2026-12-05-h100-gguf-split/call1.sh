#!/bin/bash
# Device call: main (base, 0a59bce) against the working tree (new: the products split over 1, 2 or
# 4 warps of a block by shape, MLSPEED_GEMV_SPLIT forcing one; q6_k read as 16-byte chunks) on
# Llama-2-7B Q4_0 and Q4_K_M decoding; the product rates per split; gpu tests under every split.
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
SQLITE_INCLUDE=$PWD/.device OUT=$OUT GGUF_STEPS=build scripts/gpu-check.sh gguf > $OUT/new-build.log 2>&1 || { tail -30 $OUT/new-build.log; exit 1; }
echo "new built ($SECONDS s)"
D=/tmp/mlspeed-gguf; mkdir -p $D; pids=()
for t in Q4_0 Q4_K_M; do build-gpu/mlspeed quantize random:full $D/llama-2-7b.$t.gguf --type $t > /tmp/q-$t.log 2>&1 & pids+=($!); done
echo "=== product rates, split by shape ($SECONDS s) ==="
build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Reports*' > $OUT/rates-auto.log 2>&1 || status=1
grep -E "rate |FAILED" $OUT/rates-auto.log
for p in "${pids[@]}"; do wait $p || { echo "quantize failed"; cat /tmp/q-*.log; exit 1; }; done
wait $base_pid || { echo "base build failed"; tail -20 $OUT/base-build.log; exit 1; }
echo "=== A/B tg128 (min-time 1 s): base = main, new by shape, new with every split forced ($SECONDS s) ==="
for round in 1 2; do
  for cfg in base auto 1 2 4; do
    B=build-gpu/mlspeed; [ $cfg = base ] && B=/tmp/b/build/mlspeed
    env $( [ $cfg = base ] || [ $cfg = auto ] && echo X=1 || echo MLSPEED_GEMV_SPLIT=$cfg ) $B run --model $D/llama-2-7b.Q4_0.gguf \
      -d cuda:0 -t bf16 -s 0 -g 128 --min-time 1 > /tmp/ab.md 2>&1 || { echo "$cfg failed"; tail /tmp/ab.md; status=1; }
    grep -E "^\| llama" /tmp/ab.md | sed "s/^/$cfg /"
  done
  for cfg in base auto; do
    B=build-gpu/mlspeed; [ $cfg = base ] && B=/tmp/b/build/mlspeed
    $B run --model $D/llama-2-7b.Q4_K_M.gguf -d cuda:0 -t bf16 -s 0 -g 128 --min-time 1 > /tmp/ab.md 2>&1 || { echo "$cfg failed"; tail /tmp/ab.md; status=1; }
    grep -E "^\| llama" /tmp/ab.md | sed "s/^/$cfg /"
  done
done
echo "=== product rates per forced split ($SECONDS s) ==="
for split in 1 2 4; do
  MLSPEED_GEMV_SPLIT=$split build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Reports*' > /tmp/r.log 2>&1 || status=1
  grep -E "rate " /tmp/r.log | sed "s/^/split $split /"
done
echo "=== gpu tests ($SECONDS s) ==="
build-gpu/mlspeed_gpu_tests --gtest_filter='FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:QuantKernelsGpu.*:GenerationGraphs.LlamaReplaysWithQuantised*:-QuantKernelsGpu.Reports*' \
  > $OUT/gpu-tests.log 2>&1 || status=1
grep -E "^\[ *(OK|FAILED|PASSED) |Failure" $OUT/gpu-tests.log | head -30
for split in 1 2 4; do
  MLSPEED_GEMV_SPLIT=$split build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Every*:QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*:QuantKernelsGpu.TheProduct*' \
    > /tmp/s.log 2>&1 || { status=1; grep -E "Failure|FAILED" -A4 /tmp/s.log | head -20; }
  grep -E "^\[ *(FAILED|PASSED) " /tmp/s.log | sed "s/^/split $split: /"
done
echo "=== memcheck, split 4 and by shape ($SECONDS s) ==="
for split in 4 0; do
  MLSPEED_GEMV_SPLIT=$split timeout 100 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/mlspeed_gpu_tests \
    --gtest_filter='QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*' > /tmp/m.log 2>&1; echo "memcheck split $split exit $?"; tail -2 /tmp/m.log
done
echo "done ($SECONDS s), status $status"
exit $status
