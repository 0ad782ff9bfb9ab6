#!/bin/bash
# CPU: mlspeed against the yardstick, 1 thread each, the CPU-sized workloads, fp32; two rounds.
set -uo pipefail
cd /work/main
W=small-transformer-imdb,resnet50-cifar100,nanogpt-shakespeare-char
for round in 1 2; do
  D=/tmp/cpuspeed/r$round; mkdir -p $D
  /tmp/bs/mlspeed run -d cpu -w $W -t fp32 --threads 1 --min-time 2 --db $D/m.db > $D/mlspeed.md 2> $D/mlspeed.err || echo "mlspeed round $round failed"
  /tmp/bs/mlspeed show last --db $D/m.db -o jsonl > $D/mlspeed.jsonl
  /usr/bin/python3 scripts/pytorch_reference.py --device cpu --workloads $W --dtypes fp32 --modes eager --threads 1 \
    --min-time 2 --out $D > $D/pytorch.log 2>&1 || echo "yardstick round $round failed"
  python3 scripts/speed_table.py --help > /dev/null 2>&1
  echo "round $round done $(date)"
done
