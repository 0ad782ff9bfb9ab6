#!/bin/bash
# Device call: the gpu tests of the recorded commit (the decode kernels, the products under every
# split, memcheck) and verify --quick on cuda:0.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
SQLITE_INCLUDE=$PWD/.device OUT=$OUT GGUF_STEPS=build scripts/gpu-check.sh gguf > $OUT/build-all.log 2>&1 || { tail -30 $OUT/build-all.log; exit 1; }
echo "built ($SECONDS s), commit $(git log -1 --format=%h 2>/dev/null)"
build-gpu/mlspeed_gpu_tests --gtest_filter='FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:QuantKernelsGpu.*:GenerationGraphs.LlamaReplaysWithQuantised*:-QuantKernelsGpu.Reports*' \
  > $OUT/gpu-tests.log 2>&1 || status=1
grep -E "^\[ *(OK|FAILED|PASSED) |Failure" $OUT/gpu-tests.log | head -30
for split in 1 2 4; do
  MLSPEED_GEMV_SPLIT=$split build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Every*:QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*:QuantKernelsGpu.TheProduct*:LlamaGgufDecodeGpu.TheFused*' \
    > $OUT/gpu-tests-split$split.log 2>&1 || status=1
  grep -E "^\[ *(FAILED|PASSED) " $OUT/gpu-tests-split$split.log | sed "s/^/split $split: /"
done
echo "=== memcheck ($SECONDS s) ==="
for split in 0 2 4; do
  MLSPEED_GEMV_SPLIT=$split timeout 100 compute-sanitizer --tool memcheck --error-exitcode 1 build-gpu/mlspeed_gpu_tests \
    --gtest_filter='QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*:FusedDecodeGpu.Llama*' > $OUT/memcheck-split$split.log 2>&1 || status=1
  echo "split $split: $(grep -E 'ERROR SUMMARY' $OUT/memcheck-split$split.log)"
done
echo "=== verify --quick ($SECONDS s) ==="
timeout 200 build-gpu/mlspeed verify -d cuda:0 --quick --db /tmp/v.db > $OUT/verify-quick.md 2> /tmp/verify-quick.err || status=1
sed -n '/^## Verdict/,$p' $OUT/verify-quick.md | head -12
grep -iE "quant|q4|q6|q8" $OUT/verify-quick.md | head -20
cd $OUT && tar -czf logs.tar.gz --remove-files build-all.log build.log memcheck-split*.log 2>/dev/null; ls
echo "done ($SECONDS s), status $status"
exit $status
