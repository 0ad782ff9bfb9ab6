#!/bin/bash
# Call B: after the fixes the profiles pointed to (at::linear's fused bias; GPT-2's head at an aligned
# stride): mlspeed graphs on (profiled) and off, the yardstick in the same lease, the gpu tests.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); at() { echo "$1: rc $2 at $(( $(date +%s) - T0 )) s"; }; left() { echo $(( 580 - ($(date +%s) - T0) )); }
W=/tmp/callB; mkdir -p $W/ml $W/py
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch,transformers; print("torch",torch.__version__,"cuda",torch.version.cuda,"transformers",transformers.__version__)'; date -u; git log --oneline -1; } > $W/env.txt 2>&1; cat $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu --target mlspeed mlspeed_gpu_tests >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; tar czf $OUT/callB.tgz -C $W .; exit 1; }
at built 0
fail=0
WL=distilbert-imdb,gpt2-train,bert-base-infer
timeout 150 build-gpu/mlspeed run -w $WL -d cuda:0 -t bf16 --min-time 1 --db $W/ml.db --profile $W/ml > $W/mlspeed-graphs-on.md 2> $W/mlspeed-graphs-on.err; rc=$?; at "mlspeed graphs on" $rc; [ $rc = 0 ] || fail=1
build-gpu/mlspeed show last --db $W/ml.db -o jsonl > $W/mlspeed-graphs-on.jsonl
timeout 100 build-gpu/mlspeed run -w distilbert-imdb,gpt2-train -d cuda:0 -t bf16 --min-time 1 --graphs off --db $W/ml.db > $W/mlspeed-graphs-off.md 2> $W/mlspeed-graphs-off.err; rc=$?; at "mlspeed graphs off" $rc; [ $rc = 0 ] || fail=1
build-gpu/mlspeed show last --db $W/ml.db -o jsonl > $W/mlspeed-graphs-off.jsonl
sed -n '/^| workload/,$p' $W/mlspeed-graphs-on.md $W/mlspeed-graphs-off.md | cut -c1-200
grep -A4 "^profile of" $W/mlspeed-graphs-on.err | cut -c1-160 | head -40
py() { PYTHONUNBUFFERED=1 timeout $(( $(left) - 100 )) python3 scripts/pytorch_reference.py --device cuda --out $W/py --peers .peers --dtypes bf16 --min-time 1 --append --allow-errors "$@" 2>> $W/py.err; local rc=$?; at "yardstick $*" $rc; [ $rc = 0 ] || fail=1; }
py --modes eager --workloads distilbert-imdb,gpt2-train,bert-base-infer
py --modes compile --workloads gpt2-train --profile $W/py/traces
(cd build-gpu && timeout $(( $(left) - 15 )) ctest -L gpu -j 4 --output-on-failure > $W/ctest-gpu.log 2>&1); rc=$?; at "ctest gpu" $rc; [ $rc = 0 ] || fail=1
grep -E "tests passed|tests failed|\(Failed\)|Timeout" $W/ctest-gpu.log | head -20
python3 scripts/speed_table.py --mlspeed-graphs $W/mlspeed-graphs-on.jsonl --mlspeed-eager $W/mlspeed-graphs-off.jsonl --pytorch $W/py/pytorch.jsonl --out $W > $W/table.md 2>&1; cut -c1-220 $W/table.md
tar czf $OUT/callB.tgz -C $W .
exit $fail
