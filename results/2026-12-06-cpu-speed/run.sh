#!/bin/bash
# CPU: mlspeed against the PyTorch yardstick (Debian's python3-torch 1.13), one thread each, the
# CPU-sized workloads in fp32; three rounds, each mlspeed then the yardstick, then the tables.
# Exit status 1 if any run or table failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
W=small-transformer-imdb,resnet50-cifar100,nanogpt-shakespeare-char
OUT=${OUT:-/tmp/cpuspeed}
status=0
for round in 1 2 3; do
  D=$OUT/round$round; mkdir -p "$D"
  /tmp/bs/mlspeed run -d cpu -w $W -t fp32 --threads 1 --min-time 2 --db "$D/m.db" > "$D/mlspeed.md" 2> "$D/mlspeed.err" \
    || { echo "mlspeed round $round failed"; status=1; }
  /tmp/bs/mlspeed show last --db "$D/m.db" -o jsonl > "$D/mlspeed.jsonl" || status=1
  /usr/bin/python3 scripts/pytorch_reference.py --device cpu --workloads $W --dtypes fp32 --modes eager --threads 1 \
    --min-time 2 --out "$D" > "$D/pytorch.log" 2>&1 || { echo "yardstick round $round failed"; status=1; }
  python3 scripts/speed_table.py --mlspeed-graphs "$D/mlspeed.jsonl" --pytorch "$D/pytorch.jsonl" --device cpu \
    --out "$D" > "$D/table.log" 2>&1 || { echo "table round $round failed"; status=1; }
  echo "round $round done $(date -u +%H:%M:%S)"
done
exit $status
