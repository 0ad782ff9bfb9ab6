#!/bin/bash
# Call C: this commit; the gpu tests; mlspeed on every workload's default shapes, graphs on (profiled) and off.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); at() { echo "$1: rc $2 at $(( $(date +%s) - T0 )) s"; }
W=/tmp/callC; mkdir -p $W/ml
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch,transformers; print("torch",torch.__version__,"cuda",torch.version.cuda,"transformers",transformers.__version__)'; date -u; git log --oneline -1; } > $W/env.txt 2>&1; cat $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu --target mlspeed mlspeed_gpu_tests >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; tar czf $OUT/callC.tgz -C $W .; exit 1; }
at built 0
fail=0
(cd build-gpu && timeout 150 ctest -L gpu -j 4 --output-on-failure > $W/ctest-gpu.log 2>&1); rc=$?; at "ctest gpu" $rc; [ $rc = 0 ] || fail=1
grep -E "tests passed|tests failed|\(Failed\)|Timeout" $W/ctest-gpu.log | head -20
for g in on off; do
  extra=""; [ $g = on ] && extra="--profile $W/ml"
  timeout 200 build-gpu/mlspeed run -d cuda:0 -t bf16 --min-time 1 --graphs $g --db $W/ml.db $extra > $W/mlspeed-graphs-$g.md 2> $W/mlspeed-graphs-$g.err; rc=$?; at "mlspeed graphs $g" $rc; [ $rc = 0 ] || fail=1
  build-gpu/mlspeed show last --db $W/ml.db -o jsonl > $W/mlspeed-graphs-$g.jsonl
  sed -n '/^| workload/,$p' $W/mlspeed-graphs-$g.md | cut -c1-190
done
grep -A3 "^profile of" $W/mlspeed-graphs-on.err | grep -E "profile of|device busy" | cut -c1-170
tar czf $OUT/callC.tgz -C $W .
exit $fail
