#!/bin/bash
# Device call: the working tree (split by format, Q4_K_M through the fused step) with q6_k read as
# 16-byte chunks against words (MLSPEED_GEMV_Q6K_WORDS); Q4_0 and Q4_K_M tg128; product rates; gpu
# tests under every split; the Q4_K_M decode step kernel by kernel.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
SQLITE_INCLUDE=$PWD/.device OUT=$OUT GGUF_STEPS=build scripts/gpu-check.sh gguf > $OUT/new-build.log 2>&1 || { tail -30 $OUT/new-build.log; exit 1; }
echo "new built ($SECONDS s)"
D=/tmp/mlspeed-gguf; mkdir -p $D; pids=()
for t in Q4_0 Q4_K_M; do build-gpu/mlspeed quantize random:full $D/llama-2-7b.$t.gguf --type $t > /tmp/q-$t.log 2>&1 & pids+=($!); done
echo "=== gpu tests ($SECONDS s) ==="
build-gpu/mlspeed_gpu_tests --gtest_filter='FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:QuantKernelsGpu.*:GenerationGraphs.LlamaReplaysWithQuantised*:-QuantKernelsGpu.Reports*' \
  > $OUT/gpu-tests.log 2>&1 || status=1
grep -E "^\[ *(OK|FAILED|PASSED) |Failure" -A3 $OUT/gpu-tests.log | head -40
for split in 1 2 4; do
  MLSPEED_GEMV_SPLIT=$split build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Every*:QuantKernelsGpu.RowViews*:QuantKernelsGpu.BlocksOff*:QuantKernelsGpu.TheProduct*:LlamaGgufDecodeGpu.TheFused*' \
    > /tmp/s.log 2>&1 || { status=1; grep -E "Failure|FAILED" -A4 /tmp/s.log | head -20; }
  grep -E "^\[ *(FAILED|PASSED) " /tmp/s.log | sed "s/^/split $split: /"
done
for p in "${pids[@]}"; do wait $p || { echo "quantize failed"; cat /tmp/q-*.log; exit 1; }; done
echo "=== tg128 (min-time 1 s): q6_k as chunks (new) against words ($SECONDS s) ==="
for round in 1 2; do
  for f in Q4_0 Q4_K_M; do
    for cfg in new words; do
      env $([ $cfg = words ] && echo MLSPEED_GEMV_Q6K_WORDS=1 || echo X=1) build-gpu/mlspeed run --model $D/llama-2-7b.$f.gguf \
        -d cuda:0 -t bf16 -s 0 -g 128 --min-time 1 > /tmp/ab.md 2>&1 || { echo "$cfg failed"; tail /tmp/ab.md; status=1; }
      grep -E "^\| llama" /tmp/ab.md | sed "s/^/$cfg /"
    done
  done
done
echo "=== product rates: q6_k chunks, then words ($SECONDS s) ==="
for cfg in new words; do
  env $([ $cfg = words ] && echo MLSPEED_GEMV_Q6K_WORDS=1 || echo X=1) build-gpu/mlspeed_gpu_tests --gtest_filter='QuantKernelsGpu.Reports*' > /tmp/r.log 2>&1 || status=1
  grep -E "rate " /tmp/r.log | sed "s/^/$cfg /" | grep -E "q6_k|$([ $cfg = new ] && echo . || echo q6_k)"
done
echo "=== Q4_K_M decode step kernel by kernel (PDL off) ($SECONDS s) ==="
MLSPEED_CUDA_PDL=off build-gpu/mlspeed run --model $D/llama-2-7b.Q4_K_M.gguf -d cuda:0 -t bf16 -s 0 -g 128 --min-time 0.2 \
  --profile /tmp/prof > /tmp/prof.log 2>&1 || { echo "profile failed"; tail /tmp/prof.log; status=1; }
for t in /tmp/prof/*g128.trace.json; do python3 scripts/decode_timeline.py $t | head -16; done
echo "done ($SECONDS s), status $status"
exit $status
