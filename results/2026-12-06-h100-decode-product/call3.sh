#!/bin/bash
# Device call 3 (any machine; no build): why DistilBERT's fine-tuning step was slower under
# torch.compile than eager on the H100 (results/2026-12-06-h100-fused-speed/: b32 14.4 against 8.6
# ms) where the H200 had compile ahead (7.00 ms, 2026-12-04). The yardstick's distilbert-imdb b32
# in bf16, eager and compile, with dynamo's graph breaks, recompilations and perf hints logged,
# both profiled; then where their device time goes side by side (scripts/profile_compare.py).
set -uo pipefail
status=0
source "$(dirname "$0")/pack.sh"  # every log back in one archive
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
} | tee $OUT/env.txt
PYTHONUNBUFFERED=1 TORCH_LOGS=graph_breaks,recompiles,perf_hints timeout $((${LIMIT:-590} - 60)) \
  python3 scripts/pytorch_reference.py --device cuda --out /tmp/distilbert --workloads distilbert-imdb --dtypes bf16 \
  --modes eager,compile --batch 32 --min-time 2 --profile /tmp/distilbert-prof > $OUT/distilbert.log 2>&1 \
  || { echo "yardstick exit $?"; status=1; }
grep -E "^\| distilbert|graph break|Graph break|recompil|perf_hint" $OUT/distilbert.log | head -30
python3 scripts/profile_compare.py eager="$(ls /tmp/distilbert-prof/*distilbert*eager*.trace.json | head -1)" \
  compile="$(ls /tmp/distilbert-prof/*distilbert*compile*.trace.json | head -1)" --top 20 \
  > $OUT/distilbert-profile.md || status=1
head -60 $OUT/distilbert-profile.md
echo "done ($SECONDS s), status $status"
exit $status
