#!/bin/bash
# Issue 11 on the H200: build everything against LibTorch 2.11+CUDA, run the whole ctest suite
# (unit, cpu, cli, gpu labels and the scripts' tests), then verify --quick and a short run on
# cuda:0 through the shared session. Fails when any step fails.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); at() { echo "$1: rc $2 at $(( $(date +%s) - T0 )) s"; }
W=/tmp/ctest; mkdir -p $W
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch; print("torch",torch.__version__,"cuda",torch.version.cuda)'; date -u; git log --oneline -1 2>/dev/null || true; } > $W/env.txt 2>&1; cat $W/env.txt
TP=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TP" -DSQLite3_INCLUDE_DIR=$PWD/.carry/sqlite -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) > $W/build.log 2>&1 || { tail -30 $W/build.log; tar czf $OUT/ctest.tgz -C $W .; exit 1; }
cmake --build build-gpu >> $W/build.log 2>&1 || { grep -E "error" -A3 $W/build.log | head -60; tar czf $OUT/ctest.tgz -C $W .; exit 1; }
at built 0
fail=0
timeout 200 ctest --test-dir build-gpu -L 'gpu|unit' -j 16 --timeout 180 --output-on-failure > $W/ctest-gpu-unit.log 2>&1; rc=$?; at "ctest -L gpu|unit" $rc; [ $rc = 0 ] || fail=1
tail -6 $W/ctest-gpu-unit.log
timeout 90 build-gpu/mlspeed verify -d cuda:0 --quick --no-db > $W/verify-quick.md 2> $W/verify-quick.err; rc=$?; at "verify --quick" $rc; [ $rc = 0 ] || fail=1
grep -E "VERDICT|checks:" $W/verify-quick.md | head
timeout 60 build-gpu/mlspeed run -d cuda:0 -w bert-base-infer -t bf16,bfloat16 -b 1 -s 128 --min-time 0.5 --db $W/run.db > $W/run.md 2> $W/run.err; rc=$?; at "run -t bf16,bfloat16 (must be refused, 2)" $rc; [ $rc = 2 ] || fail=1
timeout 60 build-gpu/mlspeed run -d cuda:0 -w bert-base-infer -t bfloat16 -b 1 -s 128 --min-time 0.5 --db $W/run.db > $W/run.md 2> $W/run.err; rc=$?; at "run -t bfloat16" $rc; [ $rc = 0 ] || fail=1
cat $W/run.md | tail -3; cat $W/run.err | tail -2
timeout 150 ctest --test-dir build-gpu -L cli -j 16 --timeout 140 --output-on-failure > $W/ctest-cli.log 2>&1; rc=$?; at "ctest -L cli (150 s cap)" $rc
tail -6 $W/ctest-cli.log
tar czf $OUT/ctest.tgz -C $W .
exit $fail
