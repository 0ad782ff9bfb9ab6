#!/bin/bash
# Issue 21 on a warm machine: the rows behind compiled PyTorch and the decode rows, mlspeed (bf16,
# graphs on, fused kernels), then the PyTorch yardstick for the same workloads in the same lease.
set -uo pipefail
S=$OUT/summary.txt
B=build-gpu/mlspeed
DB=$OUT/speed.db
status=0
rows=("-w nanogpt-shakespeare-char -b 64" "-w gpt2-train" "-w sd15-unet-infer" "-w resnet50-food101 -b 32"
      "-w distilbert-imdb -b 32,64,128" "-w bert-base-infer -b 1 -s 128" "-w gpt2-generate"
      "-w llama2-7b-generate -s 0 -g 128")
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086
  $B run $row -d cuda:0 -t bf16 --min-time 2 --db $DB --label fused-speed > $OUT/run.md 2>> $OUT/run.err || status=1
  grep -E "^\| (llama|gpt2|nanogpt|sd15|resnet|distil|bert)" $OUT/run.md | tee -a $S
done
$B show label:fused-speed --db $DB -o jsonl > $OUT/mlspeed-graphs-on.jsonl || status=1
echo "mlspeed done ($SECONDS s)" | tee -a $S
PYTHONUNBUFFERED=1 timeout $((560 - SECONDS)) python3 scripts/pytorch_reference.py --device cuda --out $OUT/pytorch \
  --peers .peers --dtypes bf16 --min-time 2 --allow-errors \
  --workloads nanogpt-shakespeare-char,gpt2-train,sd15-unet-infer,resnet50-food101,distilbert-imdb \
  > $OUT/pytorch.log 2> $OUT/pytorch.err || { echo "yardstick exit $?" | tee -a $S; status=1; }
echo "yardstick done ($SECONDS s)" | tee -a $S
tail -3 $OUT/pytorch.err
exit $status
