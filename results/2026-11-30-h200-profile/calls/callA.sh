#!/bin/bash
# Call A: build; mlspeed --profile on the rows above 1.00 and the decoding rows; the yardstick's eager profiles.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); at() { echo "$1: rc $2 at $(( $(date +%s) - T0 )) s"; }
W=/tmp/callA; mkdir -p $W/ml $W/py
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch,transformers; print("torch",torch.__version__,"cuda",torch.version.cuda,"transformers",transformers.__version__)'; date -u; } > $W/env.txt 2>&1; cat $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu --target mlspeed >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; tar czf $OUT/callA.tgz -C $W .; exit 1; }
at built 0
M="build-gpu/mlspeed run -d cuda:0 -t bf16 --min-time 1 --db $W/ml.db --profile $W/ml"
fail=0
ml() { timeout 100 $M "$@" > $W/ml-$1-$2.md 2>> $W/ml.err; local rc=$?; at "mlspeed $*" $rc; [ $rc = 0 ] || fail=1; }
ml -w distilbert-imdb -b 128
ml -w nanogpt-shakespeare-char
ml -w gpt2-train
ml -w resnet50-food101 -b 128
ml -w sd15-unet-infer
ml -w bert-base-infer -b 1 -s 128
ml -w gpt2-generate
ml -w llama2-7b-generate -g 128
grep -A13 "^profile of" $W/ml.err | cut -c1-200
py() { PYTHONUNBUFFERED=1 timeout 150 python3 scripts/pytorch_reference.py --device cuda --out $W/py --peers .peers --dtypes bf16 --min-time 1 --append --profile $W/py/traces "$@" 2>> $W/py.err; local rc=$?; at "yardstick $*" $rc; [ $rc = 0 ] || fail=1; }
py --modes eager --workloads distilbert-imdb,resnet50-food101 --batch 128
py --modes eager --workloads nanogpt-shakespeare-char,gpt2-train,sd15-unet-infer
for t in $W/py/traces/*eager*.trace.json; do echo "== $t"; python3 scripts/profile_compare.py $t --top 8 | sed -n '/^| kind/,/busy per step/p'; done
tar czf $OUT/callA.tgz -C $W .
exit $fail
