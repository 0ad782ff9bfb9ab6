#!/bin/bash
# Device call: the record. Builds mlspeed (this tree) and llama.cpp's llama-bench; gpu tests of
# the decode kernels; the attention's chunk sizing A/B (MLSPEED_ATTENTION_CHUNK64 = the sizing of
# commit 6b865b4) on Llama-2-7B Q4_0 tg128; then Q4_0, Q8_0 and Q4_K_M files (pp512, tg128) with the
# faster sizing, and llama-bench on the same files in the same call.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
SQLITE_INCLUDE=$PWD/.device OUT=$OUT GGUF_STEPS=build scripts/gpu-check.sh gguf > $OUT/build-all.log 2>&1 \
  || { tail -30 $OUT/build-all.log; exit 1; }
grep -E "built in|llama.cpp:" $OUT/build-all.log
echo "built ($SECONDS s)"
D=/tmp/mlspeed-gguf; mkdir -p $D; pids=()
for t in Q4_0 Q8_0 Q4_K_M; do build-gpu/mlspeed quantize random:full $D/llama-2-7b.$t.gguf --type $t > /tmp/q-$t.log 2>&1 & pids+=($!); done
echo "=== gpu tests ($SECONDS s) ==="
build-gpu/mlspeed_gpu_tests --gtest_filter='FusedDecodeGpu.*:LlamaGgufDecodeGpu.*:QuantKernelsGpu.Every*:QuantKernelsGpu.BlocksOff*:GenerationGraphs.LlamaReplaysWithQuantised*' \
  > $OUT/gpu-tests.log 2>&1 || status=1
grep -E "^\[ *(OK|FAILED|PASSED) |Failure" $OUT/gpu-tests.log | head -20
for p in "${pids[@]}"; do wait $p || { echo "quantize failed"; cat /tmp/q-*.log; exit 1; }; done
cat /tmp/q-*.log | grep -iE "wrote|GiB" | head -6
echo "=== A/B tg128 Q4_0: chunks of 64+ (6b865b4) against chunks of 16+ ($SECONDS s) ==="
F=$D/llama-2-7b.Q4_0.gguf
declare -A ms
for round in 1 2; do
  for cfg in chunk64 chunk16; do
    env $([ $cfg = chunk64 ] && echo MLSPEED_ATTENTION_CHUNK64=1 || echo X=1) build-gpu/mlspeed run --model $F -d cuda:0 -t bf16 \
      -s 0 -g 128 --min-time 1 > /tmp/ab.md 2>&1 || { echo "$cfg failed"; tail /tmp/ab.md; status=1; }
    grep -E "^\| llama" /tmp/ab.md | sed "s/^/$cfg /"
    ms[$cfg]=$(grep -E "^\| llama.*\| tg128 +\|" /tmp/ab.md | awk -F'|' '{print $7}' | awk '{print $1}')
  done
done
choice=X=1; awk "BEGIN{exit !(${ms[chunk64]} < ${ms[chunk16]})}" && choice=MLSPEED_ATTENTION_CHUNK64=1
echo "record with: $choice (last round: chunk64 ${ms[chunk64]} ms, chunk16 ${ms[chunk16]} ms)"
echo "=== mlspeed run --model Q4_0,Q8_0,Q4_K_M: pp512, tg128 ($SECONDS s) ==="
M=$D/llama-2-7b.Q4_0.gguf,$D/llama-2-7b.Q8_0.gguf,$D/llama-2-7b.Q4_K_M.gguf
env $choice build-gpu/mlspeed run --model $M -d cuda:0 -t bf16 --min-time 1 --db $OUT/gguf.db --label gguf \
  > $OUT/gguf-run.md 2> /tmp/gguf-run.err || { status=1; tail /tmp/gguf-run.err; }
sed -n '/^| workload/,$p' $OUT/gguf-run.md | head -12
build-gpu/mlspeed show last --db $OUT/gguf.db --wide > $OUT/gguf-run-wide.md
build-gpu/mlspeed show last --db $OUT/gguf.db -o jsonl > $OUT/gguf-run.jsonl
echo "=== llama-bench on the same files ($SECONDS s) ==="
.peers/llama.cpp/build-cuda/bin/llama-bench -m $M -p 512 -n 128 -ngl 99 -r 3 -o jsonl > $OUT/llama-bench.jsonl 2> /tmp/lb.err \
  || { status=1; tail /tmp/lb.err; }
python3 scripts/llama_bench_table.py --mlspeed $OUT/gguf-run.jsonl --llama-bench $OUT/llama-bench.jsonl --out $OUT || status=1
sed -n '/^| workload/,$p' $OUT/gguf-run-wide.md | head -12
echo "done ($SECONDS s), status $status"
exit $status
