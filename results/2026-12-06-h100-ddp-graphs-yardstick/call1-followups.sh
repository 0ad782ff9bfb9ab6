#!/bin/bash
# The two commands run after call1.sh on the machine it held (each its own call): `run --ddp 1`
# over two workloads and two batches, then the exact command line that crashed on 2026-12-06
# (../2026-12-06-ddp/h100/run-ddp-1-segfault.log), four workloads by four batches. A crash would
# print mlspeed's backtrace, mapped to functions by call1.sh's map_backtrace.
set -uo pipefail
sed -n '/^map_backtrace/,/^}/p' "$(dirname "$0")/call1.sh" > /tmp/mb.sh
source /tmp/mb.sh
build-gpu/mlspeed run -d cuda:0 -t bf16 -w gpt2-train,resnet50-food101 -b 12,64 --ddp 1 --min-time 1 \
  --db "$OUT/ddp2.db" --label ddp-1-multi --wide > "$OUT/multi.md" 2> "$OUT/multi.err"
echo "exit $?"; map_backtrace "$OUT/multi.err"
timeout 400 build-gpu/mlspeed run -d cuda:0 -t bf16 -w gpt2-train,nanogpt-shakespeare-char,resnet50-food101,distilbert-imdb \
  -b 12,64,128,32 --ddp 1 --min-time 1 --db "$OUT/ddp3.db" --label ddp-1-original --wide > "$OUT/orig.md" 2> "$OUT/orig.err"
echo "exit $?"; map_backtrace "$OUT/orig.err"
