#!/bin/bash
# Call 2: mlspeed (graphs on/off) and the PyTorch yardstick for every non-generation workload, one machine.
set -uo pipefail
T0=$(date +%s); left() { echo $(( 585 - ($(date +%s) - T0) )); }
ROOT=$PWD; cd .carry/snap
W=/tmp/call2; mkdir -p $W
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; python3 -c 'import torch,transformers,torchvision; print("torch",torch.__version__,"cuda",torch.version.cuda,"transformers",transformers.__version__,"torchvision",torchvision.__version__)'; date -u; hostname; } 2>&1 | tee $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/../sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu --target mlspeed >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; exit 1; }
echo "built at $(( $(date +%s) - T0 )) s"
WL=resnet50-cifar100,resnet50-food101,distilbert-imdb,small-transformer-imdb,nanogpt-shakespeare-char,gpt2-train,bert-base-infer,sd15-unet-infer
for g in on off; do
  build-gpu/mlspeed run -w $WL -d cuda:0 -t bf16 --graphs $g --min-time 1 --db $W/speed.db > $W/mlspeed-graphs-$g.md 2> $W/mlspeed-graphs-$g.err; echo "mlspeed graphs $g: $? at $(( $(date +%s) - T0 )) s"
  build-gpu/mlspeed show last --db $W/speed.db -o jsonl > $W/mlspeed-graphs-$g.jsonl
done
cd $ROOT
PYTHONUNBUFFERED=1 timeout $(left) python3 scripts/pytorch_reference.py --device cuda --out $W/pytorch --peers .peers --dtypes bf16 --min-time 1 --modes eager --workloads $WL --allow-errors 2> $W/pytorch-eager.err; echo "yardstick eager: $? at $(( $(date +%s) - T0 )) s"
tail -3 $W/pytorch-eager.err
for spec in "nanogpt-shakespeare-char::" "bert-base-infer:1:128" "resnet50-cifar100:32:" "bert-base-infer:4:512" "small-transformer-imdb:128:"; do
  IFS=: read w b s <<< "$spec"
  [ $(left) -lt 60 ] && break
  PYTHONUNBUFFERED=1 timeout $(( $(left) - 10 )) python3 scripts/pytorch_reference.py --device cuda --out $W/pytorch --peers .peers --dtypes bf16 --min-time 1 --modes compile,reduce-overhead --workloads $w ${b:+--batch $b} ${s:+--seq $s} --append --allow-errors 2>> $W/pytorch-compile.err; echo "yardstick compile $spec: $? at $(( $(date +%s) - T0 )) s"
done
python3 scripts/speed_table.py --mlspeed-graphs $W/mlspeed-graphs-on.jsonl --mlspeed-eager $W/mlspeed-graphs-off.jsonl --pytorch $W/pytorch/pytorch.jsonl --out $W > $W/table.md 2>&1; cat $W/table.md | cut -c1-220
tar czf $OUT/call2.tgz -C $W .
