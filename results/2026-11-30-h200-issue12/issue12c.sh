#!/bin/bash
# Issue 12 on the H200, second lease: rebuild, the cli suite (compare/report/history included),
# and compare --devices / against the references after the timing-key fix.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); fail=0
step() { local want=$1 name=$2; shift 2; "$@"; local rc=$?; echo "== $name: rc $rc (want $want) at $(( $(date +%s) - T0 )) s"; [ $rc = $want ] || fail=1; }
W=/tmp/h200c; rm -rf $W; mkdir -p $W
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DMLSPEED_CHARTJS=$PWD/.carry/chart.min.js -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; exit 1; }
echo "== built at $(( $(date +%s) - T0 )) s"
M=build-gpu/mlspeed; export MLSPEED_DB=$W/results.db
step 0 "run cpu+cuda bert" timeout 150 $M run -d cpu,cuda:0 -w bert-base-infer --min-time 1 --label "bert cpu+gpu" > $W/run-devices.md 2> $W/run-devices.err
step 0 "compare devices" $M compare "label:bert cpu+gpu" --devices cpu,cuda:0 > $W/compare-devices.md 2>&1
step 0 "compare refs" $M compare "label:bert cpu+gpu" ref:bert-t4 ref:bert-p100 ref:bert-m1pro > $W/compare-refs.md 2>&1
cat $W/compare-devices.md
step 0 "ctest cli" timeout 420 ctest --test-dir build-gpu -L cli -j 16 --timeout 300 --output-on-failure > $W/ctest-cli.log 2>&1; tail -5 $W/ctest-cli.log
tar czf $OUT/h200c.tgz -C /tmp h200c
echo "fail=$fail"
exit $fail
