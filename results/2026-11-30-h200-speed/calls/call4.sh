#!/bin/bash
# Call 4: the gpu tests again after the test fix, then compiled PyTorch for rows still without it.
set -uo pipefail
T0=$(date +%s); left() { echo $(( 320 - ($(date +%s) - T0) )); }
W=/tmp/call4; mkdir -p $W
{ nvidia-smi --query-gpu=name,driver_version --format=csv; date -u; } 2>&1 | tee $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; exit 1; }
cmake --build build-gpu --target mlspeed mlspeed_gpu_tests >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -40; exit 1; }
echo "built at $(( $(date +%s) - T0 )) s"
(cd build-gpu && timeout 60 ctest -L gpu -R StepGraphs --output-on-failure -j 4 > $W/ctest-stepgraphs.log 2>&1); echo "ctest StepGraphs: $? at $(( $(date +%s) - T0 )) s"
grep -E "tests passed|tests failed|\(Failed\)" $W/ctest-stepgraphs.log | head
for spec in "distilbert-imdb:128" "sd15-unet-infer:" "resnet50-food101:128"; do
  IFS=: read w b <<< "$spec"
  [ $(left) -lt 50 ] && break
  PYTHONUNBUFFERED=1 timeout $(( $(left) - 8 )) python3 scripts/pytorch_reference.py --device cuda --out $W/pytorch --peers .peers --dtypes bf16 --min-time 1 --modes compile,reduce-overhead --workloads $w ${b:+--batch $b} --append --allow-errors 2>> $W/pytorch-compile.err | grep "^| [a-z]"; echo "yardstick compile $spec: $? at $(( $(date +%s) - T0 )) s"
done
tar czf $OUT/call4.tgz -C $W .
