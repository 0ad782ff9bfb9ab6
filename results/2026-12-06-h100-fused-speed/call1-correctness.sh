#!/bin/bash
# Issue 21, first call: the fused BatchNorm backward's new test, the fused kernels' tests, memcheck,
# verify --quick (must pass), and the ResNets' fp32 model checks at seeds 0..3 on both kernel sets.
set -uo pipefail
S=$OUT/summary.txt
say() { echo "$*" | tee -a "$S"; }
say "start $(date -u) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=tests,memcheck,verify OUT=$OUT/fused bash scripts/gpu-check.sh fused \
  > $OUT/fused-check.log 2>&1
say "gpu-check fused tests,memcheck,verify: exit $? ($SECONDS s)"
grep -E "built in|FAILED|tests ran|PASSED|ERROR SUMMARY|step\(s\) failed|Verdict|^(PASS|FAIL)" $OUT/fused-check.log | tee -a "$S"
sed -n '/^## Verdict/,+12p' $OUT/fused/verify-quick.md >> "$S" 2>/dev/null
for seed in 0 1 2 3; do
  for k in mlspeed libtorch; do
    build-gpu/mlspeed verify -d cuda:0 --level model -w resnet50-cifar100,resnet50-food101 --seed $seed --kernels $k \
      --no-db -o jsonl > $OUT/resnet-$k-$seed.jsonl 2> $OUT/resnet-$k-$seed.err
    say "resnet seed $seed $k: exit $? ($SECONDS s)"
    python3 - "$OUT/resnet-$k-$seed.jsonl" <<'PY' | tee -a "$S"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("   ", len(rows), "checks,", sum(r.get("outcome") == "pass" for r in rows), "pass")
for r in rows:
    if r.get("outcome") != "pass":
        print("    ", r.get("check"), r.get("pass"), r.get("dtype"), r.get("outcome"), "max_abs", r.get("max_abs_error"),
              (r.get("message") or "")[:160])
PY
  done
done
say "done ($SECONDS s)"
tar -czf $OUT/logs.tar.gz -C $OUT fused resnet-*.jsonl resnet-*.err fused-check.log 2>/dev/null
rm -rf $OUT/fused $OUT/resnet-*
