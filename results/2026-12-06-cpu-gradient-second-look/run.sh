#!/bin/sh
# The ResNets' fp32 model checks on the CPU under verify's healthy rounding-jitter (seeds 0-11)
# and under the BatchNorm-backward fault (seeds 0-7): every row as jsonl, then summary.md.
# Usage: run.sh MLSPEED_BINARY   (from this folder)
set -eu
exe=$1
: > jitter.jsonl
: > fault.jsonl
for seed in 0 1 2 3 4 5 6 7 8 9 10 11; do
  "$exe" verify -d cpu --level model -w resnet50-food101,resnet50-cifar100 --seed "$seed" \
    --inject-fault rounding-jitter --no-db -o jsonl >> jitter.jsonl
done
for seed in 0 1 2 3 4 5 6 7; do
  # verify exits 1 when it catches the fault, as it must.
  if "$exe" verify -d cpu --level model -w resnet50-food101,resnet50-cifar100 --seed "$seed" \
       --inject-fault batch-norm-backward-constant-statistics --no-db -o jsonl >> fault.jsonl; then
    echo "seed $seed: the fault was not caught" >&2
    exit 1
  fi
done
python3 summary.py jitter.jsonl fault.jsonl > summary.md
