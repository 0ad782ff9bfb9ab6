#!/bin/bash
# The small transformer's two rows that the 2026-12-05 CPU record could not call (b16: the rounds
# disagreed; b128: slower in both of its two rounds), timed again as 8 alternating pairs each:
# mlspeed, then the PyTorch yardstick, one thread each, fp32, 3 s a run. Then summary.py.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUTDIR=${OUTDIR:-/tmp/small-transformer-series}
MLSPEED=${MLSPEED:-build/mlspeed}
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's python3-torch 1.13
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR"
status=0
for batch in 16 128; do
  for pair in 1 2 3 4 5 6 7 8; do
    "$MLSPEED" run -d cpu -w small-transformer-imdb -b $batch -t fp32 --threads 1 --min-time 3 --db "$OUTDIR/mlspeed.db" \
      --label "b$batch-pair$pair" > /dev/null 2>> "$OUTDIR/mlspeed.err" || { echo "mlspeed b$batch pair $pair failed"; status=1; }
    "$PYTHON" scripts/pytorch_reference.py --device cpu --workloads small-transformer-imdb --batch $batch --dtypes fp32 \
      --modes eager --threads 1 --min-time 3 --out "$OUTDIR/pytorch-b$batch-pair$pair" > /dev/null 2>&1 \
      || { echo "yardstick b$batch pair $pair failed"; status=1; }
    echo "b$batch pair $pair done $(date +%T)"
  done
done
for run in $(seq 1 16); do "$MLSPEED" show $run --db "$OUTDIR/mlspeed.db" -o jsonl; done > "$OUTDIR/mlspeed.jsonl" || status=1
cat "$OUTDIR"/pytorch-b*-pair*/pytorch.jsonl > "$OUTDIR/pytorch.jsonl" || status=1
python3 "$(dirname "$0")/summary.py" "$OUTDIR/mlspeed.jsonl" "$OUTDIR/pytorch.jsonl" || status=1
exit $status
