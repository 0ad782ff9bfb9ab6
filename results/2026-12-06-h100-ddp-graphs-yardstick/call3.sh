#!/bin/bash
# Issue 21's yardstick, the rows whose peer cells were empty on an H100: resnet50-cifar100,
# small-transformer-imdb, bert-base-infer and gpt2-generate at their default shapes, mlspeed (bf16,
# CUDA graphs, fused kernels) then PyTorch eager, compile and reduce-overhead, in one call; the
# table by scripts/speed_table.py. The yardstick stops at the call's time; rows it did not reach
# are named.
set -uo pipefail
S=$OUT/summary.txt
B=build-gpu/mlspeed
status=0
say() { echo "$*" | tee -a "$S"; }
say "start $(date -u) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader) $(git log -1 --format=%h 2>/dev/null)"
if [ ! -x $B ]; then
  SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=none OUT=$OUT/build bash scripts/gpu-check.sh fused > "$OUT/build.log" 2>&1 \
    || { say "build failed"; tail -40 "$OUT/build.log"; exit 1; }
fi
say "built ($SECONDS s)"
W=resnet50-cifar100,small-transformer-imdb,bert-base-infer,gpt2-generate
$B run -d cuda:0 -t bf16 -w $W --min-time 1 --db "$OUT/speed.db" --label yardstick-rows > "$OUT/mlspeed.md" 2> "$OUT/mlspeed.err" \
  || status=1
say "mlspeed: exit $? ($SECONDS s)"
$B show label:yardstick-rows --db "$OUT/speed.db" -o jsonl > "$OUT/mlspeed-graphs-on.jsonl" || status=1
PYTHONUNBUFFERED=1 timeout $((585 - SECONDS)) python3 scripts/pytorch_reference.py --device cuda --out "$OUT/pytorch" \
  --peers .peers --dtypes bf16 --min-time 1 --allow-errors --workloads $W \
  > "$OUT/pytorch.log" 2> "$OUT/pytorch.err"
rc=$?; [ $rc -eq 0 ] || status=1
say "yardstick: exit $rc ($SECONDS s)"
grep -E "^\[" "$OUT/pytorch.err" > "$OUT/pytorch-progress.txt"; cat "$OUT/pytorch-progress.txt" >> "$S"
python3 scripts/speed_table.py --mlspeed-graphs "$OUT/mlspeed-graphs-on.jsonl" --pytorch "$OUT/pytorch/pytorch.jsonl" \
  --out "$OUT" > "$OUT/table.log" 2>&1 || status=1
cat "$OUT/speed.md" 2>/dev/null | head -60
say "done ($SECONDS s), status $status"
tar -czf "$OUT/logs.tar.gz" -C "$OUT" mlspeed.md mlspeed.err mlspeed-graphs-on.jsonl pytorch.log pytorch.err \
  pytorch/pytorch.jsonl pytorch/pytorch-context.json table.log speed.db build.log 2>/dev/null
rm -rf "$OUT/build" "$OUT/build.log" "$OUT/pytorch" "$OUT/mlspeed.err" "$OUT/pytorch.err" "$OUT/table.log" "$OUT/speed.db" \
  "$OUT/mlspeed-graphs-on.jsonl" "$OUT/pytorch.log"
exit $status
