#!/bin/bash
# Call 3: the whole tree: generation rows (mlspeed graphs on/off, yardstick eager), the gpu tests, verify's model checks.
set -uo pipefail
T0=$(date +%s); left() { echo $(( 575 - ($(date +%s) - T0) )); }
W=/tmp/call3; mkdir -p $W
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch,transformers; print("torch",torch.__version__,"cuda",torch.version.cuda,"transformers",transformers.__version__)'; date -u; } 2>&1 | tee $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu --target mlspeed mlspeed_gpu_tests >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; tar czf $OUT/call3.tgz -C $W .; exit 1; }
echo "built at $(( $(date +%s) - T0 )) s"
WL=llama2-7b-generate,gpt2-generate
for g in on off; do
  timeout 120 build-gpu/mlspeed run -w $WL -d cuda:0 -t bf16 --graphs $g --min-time 1 --db $W/speed.db > $W/mlspeed-graphs-$g.md 2> $W/mlspeed-graphs-$g.err; echo "mlspeed graphs $g: $? at $(( $(date +%s) - T0 )) s"
  sed -n '/^| workload/,$p' $W/mlspeed-graphs-$g.md
  build-gpu/mlspeed show last --db $W/speed.db -o jsonl > $W/mlspeed-graphs-$g.jsonl
done
PYTHONUNBUFFERED=1 timeout 150 python3 scripts/pytorch_reference.py --device cuda --out $W/pytorch --peers .peers --dtypes bf16 --min-time 1 --modes eager --workloads $WL --allow-errors 2> $W/pytorch-eager.err; echo "yardstick eager: $? at $(( $(date +%s) - T0 )) s"
(cd build-gpu && timeout 150 ctest -L gpu --output-on-failure -j 4 > $W/ctest-gpu.log 2>&1); echo "ctest gpu: $? at $(( $(date +%s) - T0 )) s"
grep -E "tests passed|tests failed|\(Failed\)|Not Run|Timeout" $W/ctest-gpu.log | head -30
timeout $(( $(left) - 130 )) build-gpu/mlspeed verify -d cuda:0 --level model --model-dtypes bf16 --no-db > $W/verify-models.md 2>&1; echo "verify models: $? at $(( $(date +%s) - T0 )) s"
sed -n '/Verdict/,$p' $W/verify-models.md | head -20; grep -E "\| step|training" $W/verify-models.md | head -12 | cut -c1-200
[ $(left) -gt 100 ] && { PYTHONUNBUFFERED=1 timeout $(( $(left) - 15 )) python3 scripts/pytorch_reference.py --device cuda --out $W/pytorch --peers .peers --dtypes bf16 --min-time 1 --modes compile,reduce-overhead --workloads gpt2-train --append --allow-errors 2> $W/pytorch-compile.err; echo "yardstick gpt2-train compile: $? at $(( $(date +%s) - T0 )) s"; }
python3 scripts/speed_table.py --mlspeed-graphs $W/mlspeed-graphs-on.jsonl --mlspeed-eager $W/mlspeed-graphs-off.jsonl --pytorch $W/pytorch/pytorch.jsonl --out $W > $W/table.md 2>&1; cut -c1-220 $W/table.md
tar czf $OUT/call3.tgz -C $W .
