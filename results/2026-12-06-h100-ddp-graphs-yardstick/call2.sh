#!/bin/bash
# Issue 23 on one GPU, with the data-parallel step recorded as a CUDA graph (all-reduces inside):
# the NCCL gpu tests, then `run --ddp 1` for the rows of the issue and the small batches where an
# eager step cost the most; then issue 21's question about DistilBERT's torch.compile on this card
# (the yardstick's b32 row, eager against compile, with recompilations and graph breaks logged and
# both profiled).
set -uo pipefail
S=$OUT/summary.txt
B=build-gpu/mlspeed
status=0
say() { echo "$*" | tee -a "$S"; }
say "start $(date -u) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader) $(git log -1 --format=%h 2>/dev/null)"
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=none OUT=$OUT/build bash scripts/gpu-check.sh fused > "$OUT/build.log" 2>&1 \
  || { say "build failed"; tail -40 "$OUT/build.log"; exit 1; }
say "built ($SECONDS s)"

build-gpu/mlspeed_gpu_tests --gtest_filter='DataParallelStepsGpu.*:StepGraphsOfARank.*:NcclGroup.*' \
  > "$OUT/nccl-gpu-tests.log" 2>&1 || status=1
say "gpu tests: exit $? ($SECONDS s)"
grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure|Expected|Which is|actual" "$OUT/nccl-gpu-tests.log" | head -30 | tee -a "$S"

for row in "gpt2-train -b 12" "resnet50-food101 -b 32,128" "distilbert-imdb -b 32" "nanogpt-shakespeare-char -b 12,64"; do
  # shellcheck disable=SC2086 # $row is the workload and its batches
  $B run -d cuda:0 -t bf16 -w $row --ddp 1 --min-time 1 --db "$OUT/ddp.db" --label ddp-1-graphs --wide \
    > "$OUT/ddp.md" 2> "$OUT/ddp.err"
  rc=$?; [ $rc -eq 0 ] || status=1
  say "run -w $row --ddp 1: exit $rc ($SECONDS s)"
  sed -n '/^| workload/,$p' "$OUT/ddp.md" | cut -c1-260 | tee -a "$S"
  [ $rc -eq 0 ] || tail -20 "$OUT/ddp.err" | tee -a "$S"
done
$B show label:ddp-1-graphs --db "$OUT/ddp.db" -o jsonl > "$OUT/ddp.jsonl" || status=1

say "distilbert-imdb b32: yardstick eager and compile, recompilations and graph breaks logged ($SECONDS s)"
TORCH_LOGS="recompiles,graph_breaks" PYTHONUNBUFFERED=1 timeout 200 python3 scripts/pytorch_reference.py \
  --device cuda --out "$OUT/distilbert" --peers .peers --dtypes bf16 --min-time 1 --workloads distilbert-imdb \
  --batch 32 --modes eager,compile --profile "$OUT/distilbert/prof" > "$OUT/distilbert.log" 2> "$OUT/distilbert.err" \
  || { say "yardstick exit $?"; status=1; }
grep -E "^\[" "$OUT/distilbert.err" | tee -a "$S"
say "recompilations: $(grep -c -i "recompil" "$OUT/distilbert.err"); graph breaks: $(grep -c -i "graph break" "$OUT/distilbert.err")"
grep -i -m8 -A3 "recompil\|graph break" "$OUT/distilbert.err" | cut -c1-300 | tee -a "$S"
traces=$(ls "$OUT"/distilbert/prof/*.trace.json 2>/dev/null)
# shellcheck disable=SC2086 # one argument per trace
[ -n "$traces" ] && python3 scripts/profile_compare.py $traces --top 12 > "$OUT/distilbert-profile.md" 2>&1
head -60 "$OUT/distilbert-profile.md" | tee -a "$S"
say "done ($SECONDS s), status $status"
tar -czf "$OUT/logs.tar.gz" -C "$OUT" build/env.txt nccl-gpu-tests.log ddp.db ddp.jsonl distilbert.log distilbert.err \
  distilbert/pytorch.jsonl distilbert/pytorch-context.json distilbert-profile.md 2>/dev/null
rm -rf "$OUT/build" "$OUT/distilbert" "$OUT/ddp.md" "$OUT/ddp.err"
exit $status
