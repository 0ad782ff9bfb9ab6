#!/bin/bash
# Issue 12 on the H200: build against LibTorch 2.11+CUDA, the gpu and unit suites, then what a user
# runs: two labelled runs of the quick suite on cuda:0, history, compare (same machine: the verdict
# must not cry wolf), the gate, compare against the bundled references, devices within one run
# (BERT on cpu and cuda:0), verify --quick, export, report. Every step's status is printed; the
# script fails when any step fails.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); fail=0
step() { local want=$1 name=$2; shift 2; "$@"; local rc=$?; echo "== $name: rc $rc (want $want) at $(( $(date +%s) - T0 )) s"; [ $rc = $want ] || fail=1; }
W=$OUT/h200; mkdir -p $W
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch; print("torch",torch.__version__,"cuda",torch.version.cuda)'; date -u; nproc; } > $W/env.txt 2>&1; cat $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DMLSPEED_CHARTJS=$PWD/.carry/chart.min.js -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; exit 1; }
echo "== built at $(( $(date +%s) - T0 )) s"
M=build-gpu/mlspeed; DB=$W/results.db; export MLSPEED_DB=$DB
step 0 "ctest gpu|unit" timeout 240 ctest --test-dir build-gpu -L 'gpu|unit' -j 16 --timeout 200 --output-on-failure > $W/ctest-gpu-unit.log 2>&1
tail -4 $W/ctest-gpu-unit.log
Q=nanogpt-shakespeare-char,bert-base-infer,resnet50-cifar100,small-transformer-imdb,gpt2-generate
step 0 "run A" timeout 150 $M run -d cuda:0 -w $Q --min-time 1 --label "h200 a" > $W/run-a.md 2> $W/run-a.err
step 0 "run B" timeout 150 $M run -d cuda:0 -w $Q --min-time 1 --label "h200 b" > $W/run-b.md 2> $W/run-b.err
step 0 "run cpu+cuda bert" timeout 150 $M run -d cpu,cuda:0 -w bert-base-infer --min-time 1 --label "bert cpu+gpu" > $W/run-devices.md 2> $W/run-devices.err
step 0 "verify --quick" timeout 120 $M verify -d cuda:0 --quick --label "h200 verify" > $W/verify-quick.md 2> $W/verify-quick.err
grep -E "VERDICT" $W/verify-quick.md
step 0 "history" $M history > $W/history.md 2>&1
cat $W/history.md
step 0 "compare a b" $M compare "label:h200 a" "label:h200 b" > $W/compare-a-b.md 2>&1
step 0 "gate 10%" $M compare "label:h200 a" "label:h200 b" --fail-if-slower 10 > $W/gate.md 2>&1
step 0 "compare devices" $M compare "label:bert cpu+gpu" --devices cpu,cuda:0 > $W/compare-devices.md 2>&1
step 0 "compare refs" $M compare "label:bert cpu+gpu" ref:bert-t4 ref:bert-p100 ref:bert-m1pro > $W/compare-refs.md 2>&1
step 0 "compare recorded h200" $M compare ref:mlspeed-h200-2026-11-30 "label:h200 a" > $W/compare-recorded.md 2>&1
step 0 "compare json" $M compare "label:h200 a" "label:h200 b" -o json > $W/compare-a-b.json 2> $W/compare-a-b-json.err
for r in "h200 a" "h200 b" "bert cpu+gpu" "h200 verify"; do f=$(echo "$r" | tr ' +' '--'); step 0 "export $r" $M export "label:$r" -o $W/export-$f.json; done
step 0 "report html" $M report "label:h200 a" "label:h200 b" "label:bert cpu+gpu" "label:h200 verify" ref:bert-t4 -o $W/report.html > $W/report.log 2>&1
step 0 "report md" $M report "label:h200 a" "label:h200 b" "label:bert cpu+gpu" "label:h200 verify" ref:bert-t4 -o $W/summary.md >> $W/report.log 2>&1
echo "fail=$fail"
exit $fail
