#!/bin/bash
# Issue 12 closing check on the H200, in three calls on one warm machine:
#   build  configure and build against LibTorch+CUDA, then the whole cpu suite, one OpenMP thread
#          per test process (sixteen processes each spinning 16 threads slowed it a hundredfold);
#   tests  the gpu, unit and cli suites;
#   flow   what a user runs: two labelled runs, history, show, compare with its verdicts, the gate,
#          devices within a run, the bundled references, export/import to a second database, and
#          the report (HTML and markdown).
# Every step prints its status; the script exits 1 when any step failed. Files: $OUT/PART.tgz.
set -uo pipefail
PART=${1:?usage: h200.sh build|tests|flow}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); fail=0
step() { local want=$1 name=$2; shift 2; "$@"; local rc=$?; echo "== $name: rc $rc (want $want) at $(( $(date +%s) - T0 )) s"; [ $rc = $want ] || fail=1; }
W=/tmp/h200/$PART; rm -rf $W; mkdir -p $W
M=build-gpu/mlspeed
finish() { tar czf $OUT/$PART.tgz -C /tmp/h200 $PART; echo "fail=$fail"; exit $fail; }

if [ "$PART" = build ]; then
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch; print("torch",torch.__version__,"cuda",torch.version.cuda,"cudnn",torch.backends.cudnn.version())'; g++ --version | head -1; date -u; nproc; lscpu | grep "Model name"; } > $W/env.txt 2>&1; cat $W/env.txt
  TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DMLSPEED_CHARTJS=$PWD/.carry/chart.min.js -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
  cmake --build build-gpu >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; exit 1; }
  echo "== built at $(( $(date +%s) - T0 )) s"
  OMP_NUM_THREADS=1 step 0 "ctest cpu" timeout 380 ctest --test-dir build-gpu -L cpu -j 14 --timeout 300 --output-on-failure > $W/ctest-cpu.log 2>&1
  grep -E "tests passed|Total Test time" $W/ctest-cpu.log; finish
fi

if [ "$PART" = tests ]; then
  OMP_NUM_THREADS=1 step 0 "ctest gpu|unit" timeout 250 ctest --test-dir build-gpu -L 'gpu|unit' -j 14 --timeout 200 --output-on-failure > $W/ctest-gpu-unit.log 2>&1
  grep -E "tests passed|Total Test time" $W/ctest-gpu-unit.log
  OMP_NUM_THREADS=1 step 0 "ctest cli" timeout 320 ctest --test-dir build-gpu -L cli -j 14 --timeout 280 --output-on-failure > $W/ctest-cli.log 2>&1
  grep -E "tests passed|Total Test time" $W/ctest-cli.log; finish
fi

# flow
export MLSPEED_DB=$W/results.db
Q=nanogpt-shakespeare-char,bert-base-infer,resnet50-cifar100,small-transformer-imdb,gpt2-generate
step 0 "run A" timeout 120 $M run -d cuda:0 -w $Q --min-time 1 --label "h200 a" > $W/run-a.md 2> $W/run-a.err
step 0 "run B" timeout 120 $M run -d cuda:0 -w $Q --min-time 1 --label "h200 b" > $W/run-b.md 2> $W/run-b.err
step 0 "run cpu+cuda bert" timeout 120 $M run -d cpu,cuda:0 -w bert-base-infer --min-time 1 --label "bert cpu+gpu" > $W/run-devices.md 2> $W/run-devices.err
step 0 "verify --quick" timeout 100 $M verify -d cuda:0 --quick --label "h200 verify" > $W/verify-quick.md 2> $W/verify-quick.err
step 0 "history" $M history > $W/history.md 2>&1
step 0 "show label" $M show "label:h200 a" > $W/show-label.md 2>&1
step 0 "show ref" $M show ref:bert-t4 > $W/show-ref.md 2>&1
step 2 "show unknown run" $M show nothing-here > $W/show-unknown.txt 2>&1
step 0 "compare a b" $M compare "label:h200 a" "label:h200 b" > $W/compare-a-b.md 2>&1
step 0 "gate 10%" $M compare "label:h200 a" "label:h200 b" --fail-if-slower 10 > $W/gate.md 2>&1
step 0 "compare devices" $M compare "label:bert cpu+gpu" --devices cpu,cuda:0 > $W/compare-devices.md 2>&1
step 0 "compare refs" $M compare "label:bert cpu+gpu" ref:bert-t4 ref:bert-p100 ref:bert-m1pro > $W/compare-refs.md 2>&1
step 0 "compare gpu-only vs refs" $M compare "label:h200 a" ref:bert-t4 > $W/compare-a-t4.md 2>&1
step 0 "export a" $M export "label:h200 a" -o $W/export-h200-a.json
step 0 "export verify" $M export "label:h200 verify" -o $W/export-h200-verify.json
step 0 "import a elsewhere" $M import $W/export-h200-a.json --label "imported a" --db $W/other.db > $W/import.txt 2>&1
step 0 "compare imported" $M compare "label:h200 a" $W/export-h200-a.json > $W/compare-a-file.md 2>&1
step 0 "report html" $M report "label:h200 a" "label:h200 b" "label:bert cpu+gpu" "label:h200 verify" ref:bert-t4 ref:bert-p100 ref:bert-m1pro -o $W/report.html > $W/report.log 2>&1
step 0 "report md" $M report "label:h200 a" "label:h200 b" "label:bert cpu+gpu" "label:h200 verify" ref:bert-t4 ref:bert-p100 ref:bert-m1pro -o $W/summary.md >> $W/report.log 2>&1
gzip -f $W/export-h200-verify.json; rm -f $W/results.db $W/other.db
cat $W/compare-a-b.md | tail -25; cat $W/compare-refs.md | head -30
finish
