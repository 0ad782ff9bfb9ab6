#!/bin/bash
# Device call: the record. scripts/gpu-check.sh gguf builds mlspeed (this tree) and llama.cpp's
# llama-bench, writes the Q4_0, Q8_0 and Q4_K_M files, times them (pp512, tg128) and llama-bench on
# the same files; then the gpu tests of the decode kernels, every split of the products.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
SQLITE_INCLUDE=$PWD/.device OUT=$OUT GGUF_STEPS=files,run,llama-bench GGUF_DEPTH=0 GGUF_BF16=0 LLAMA_BENCH_REPS=3 MIN_TIME=1 \
  scripts/gpu-check.sh gguf > $OUT/gpu-check.log 2>&1 || status=1
grep -vE "^\[[0-9]+/[0-9]+\]" $OUT/gpu-check.log | tail -60
echo "=== gpu tests ($SECONDS s) ==="
timeout 150 build-gpu/mlspeed_gpu_tests --gtest_filter='FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:QuantKernelsGpu.*:GenerationGraphs.LlamaReplaysWithQuantised*:-QuantKernelsGpu.Reports*' \
  > $OUT/gpu-tests.log 2>&1 || status=1
grep -E "^\[ *(OK|FAILED|PASSED) |Failure" $OUT/gpu-tests.log | head -30
for split in 1 2 4; do
  MLSPEED_GEMV_SPLIT=$split timeout 60 build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Every*:QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*:QuantKernelsGpu.TheProduct*' \
    > $OUT/gpu-tests-split$split.log 2>&1 || status=1
  grep -E "^\[ *(FAILED|PASSED) " $OUT/gpu-tests-split$split.log | sed "s/^/split $split: /"
done
cd $OUT && tar -czf logs.tar.gz --remove-files $(ls | grep -vE '^(gguf-run\.md|gguf-run-wide\.md|gguf-run\.jsonl|llama-bench\.md|llama-bench\.csv|llama-bench\.jsonl|env\.txt|gpu-tests\.log)$') && ls
echo "done ($SECONDS s), status $status"
exit $status
