#!/bin/bash
# Probe: build the program and the gpu tests, run the gpu tests, then every workload with graphs on and off.
set -uo pipefail
cd "$(dirname "$0")/snap"
W=/tmp/probe; mkdir -p $W
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch; print(torch.__version__, torch.version.cuda)'; nproc; } 2>&1 | tee $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
start=$(date +%s)
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/../sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu --target mlspeed mlspeed_gpu_tests >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; exit 1; }
echo "built in $(( $(date +%s) - start )) s"
build-gpu/mlspeed devices 2>&1 | tail -5
build-gpu/mlspeed_gpu_tests --gtest_filter='StepGraphs*:Cuda*' > $W/gtest.log 2>&1; echo "gpu tests: $?"; grep -E "^\[  (FAILED|PASSED|  OK) |Failure|Expected|Which|eager |recording" $W/gtest.log | head -60
for g in on off; do
  timeout 200 build-gpu/mlspeed run -d cuda:0 -t bf16 --graphs $g --min-time 0.3 --warmup 2 --no-db > $W/run-$g.md 2> $W/run-$g.err; echo "run graphs $g: $?"
  sed -n '/^| workload/,$p' $W/run-$g.md | cut -c1-250
  tail -3 $W/run-$g.err
done
tar czf $OUT/probe.tgz -C $W .
