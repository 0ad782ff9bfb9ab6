#!/bin/bash
# Issues 21 and 23 on one GPU: the gpu tests (rounding-jitter cases, NCCL with world size 1), the
# second look at resnet50-food101's fp32 gradients at seeds 0-3 on both kernel sets, verify --quick,
# then `run --ddp 1` one configuration at a time, with the crash's backtrace mapped to functions.
set -uo pipefail
S=$OUT/summary.txt
B=build-gpu/mlspeed
status=0
say() { echo "$*" | tee -a "$S"; }
say "start $(date -u) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader) $(git log -1 --format=%h 2>/dev/null)"
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=none OUT=$OUT/build bash scripts/gpu-check.sh fused > "$OUT/build.log" 2>&1 \
  || { say "build failed"; tail -40 "$OUT/build.log"; exit 1; }
say "built ($SECONDS s)"

OMP_NUM_THREADS=1 ctest --test-dir build-gpu -L gpu --output-on-failure -j 8 > "$OUT/ctest-gpu.log" 2>&1 || status=1
say "ctest -L gpu: exit $? ($SECONDS s)"
grep -E "tests passed|tests failed|\(Failed\)|\(SEGFAULT\)|\(Timeout\)|Skipped" "$OUT/ctest-gpu.log" | tee -a "$S"

for seed in 0 1 2 3; do
  for k in mlspeed libtorch; do
    $B verify -d cuda:0 --level model -w resnet50-food101 --seed $seed --kernels $k --no-db -o jsonl \
      > "$OUT/food101-$k-$seed.jsonl" 2> "$OUT/food101-$k-$seed.err"
    rc=$?; [ $rc -eq 0 ] || status=1
    say "food101 seed $seed $k: exit $rc ($SECONDS s)"
    python3 - "$OUT/food101-$k-$seed.jsonl" <<'PY' | tee -a "$S"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("   ", len(rows), "checks,", sum(r.get("outcome") == "pass" for r in rows), "pass")
for r in rows:
    msg = r.get("message") or ""
    if r.get("outcome") != "pass" or "second look" in msg:
        print("    ", r.get("check"), r.get("pass"), r.get("dtype"), r.get("outcome"), msg[:220])
PY
  done
done

$B verify -d cuda:0 --quick --no-db > "$OUT/verify-quick.md" 2> "$OUT/verify-quick.err" || status=1
say "verify --quick: exit $? ($SECONDS s)"
grep -E "^VERDICT|checks:" "$OUT/verify-quick.md" | tee -a "$S"

# A crash prints backtrace_symbols lines: "file(+0xOFFSET) [0xADDR]" or "file(symbol+0xOFF) [...]".
map_backtrace() {
  grep -E '^\S+\((\S*)\+0x[0-9a-f]+\) \[0x' "$1" | while read -r line; do
    file=${line%%(*}; inner=${line#*(}; inner=${inner%%)*}
    if [ -z "${inner%%+*}" ]; then
      echo "  $(basename "$file") ${inner#+}: $(addr2line -Cfpe "$file" "${inner#+}" 2>/dev/null | head -1)"
    else
      echo "  $(basename "$file"): $(echo "${inner%%+*}" | c++filt)"
    fi
  done
}
for config in gpt2-train:12 resnet50-food101:128 distilbert-imdb:32; do
  workload=${config%:*} batch=${config#*:}
  TORCH_SHOW_CPP_STACKTRACES=1 $B run -d cuda:0 -t bf16 -w "$workload" -b "$batch" --ddp 1 --min-time 1 \
    --db "$OUT/ddp.db" --label ddp-1 --wide > "$OUT/ddp-$workload.md" 2> "$OUT/ddp-$workload.err"
  rc=$?; [ $rc -eq 0 ] || status=1
  say "run -w $workload -b $batch --ddp 1: exit $rc ($SECONDS s)"
  sed -n '/^| workload/,$p' "$OUT/ddp-$workload.md" | tee -a "$S"
  if [ $rc -ne 0 ]; then tail -25 "$OUT/ddp-$workload.err" | tee -a "$S"; map_backtrace "$OUT/ddp-$workload.err" | tee -a "$S"; fi
done
$B show label:ddp-1 --db "$OUT/ddp.db" -o jsonl > "$OUT/ddp.jsonl"
say "done ($SECONDS s), status $status"
tar -czf "$OUT/logs.tar.gz" -C "$OUT" build/env.txt ctest-gpu.log food101-* verify-quick.* ddp-* ddp.jsonl ddp.db 2>/dev/null
rm -rf "$OUT"/food101-* "$OUT"/ddp-* "$OUT"/build "$OUT"/verify-quick.err
exit $status
