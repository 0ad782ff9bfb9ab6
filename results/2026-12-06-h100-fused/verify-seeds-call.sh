#!/bin/bash
# The fourth call (console in README.md): the ResNets' fp32 model checks at seeds 0..3 on both kernel
# sets, then gpu-check.sh's profiles (profiles.md). Run on the GPU machine from the repository root.
set -uo pipefail
status=0
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=none OUT=$OUT bash scripts/gpu-check.sh fused > $OUT/build-step.log 2>&1 || { tail -30 $OUT/build-step.log; exit 1; }
echo "built ($SECONDS s)"
for seed in 0 1 2 3; do
  for k in mlspeed libtorch; do
    build-gpu/mlspeed verify -d cuda:0 --level model -w resnet50-cifar100,resnet50-food101 --seed $seed --kernels $k \
      --no-db -o jsonl > $OUT/cifar-$k-$seed.jsonl 2> $OUT/cifar-$k-$seed.err
    echo "seed $seed $k exit $?"
    python3 -c "
import json,sys
for l in open('$OUT/cifar-$k-$seed.jsonl'):
    r=json.loads(l)
    if r.get('outcome')!='pass' or r.get('pass') in ('training','gradients'):
        print('  ', r.get('check'), r.get('pass'), r.get('outcome'), 'max_abs', r.get('max_abs_error'), 'rel', r.get('max_rel_error'), r.get('message','')[:160])
"
  done
done
echo "($SECONDS s)"
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=profiles OUT=$OUT bash scripts/gpu-check.sh fused 2>&1 | grep -v "^|\|^+\|NVIDIA-SMI" | sed -n '/Llama/,$p' || status=1
echo "($SECONDS s)"
exit $status
