#!/bin/bash
# Device call: the decode-attention fault on CUDA. mlspeed alone built; verify's Llama model checks
# (the quantised check decodes through the fused CUDA kernels) healthy, then with the fault.
set -uo pipefail
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" -DSQLite3_INCLUDE_DIR=$PWD/.device \
  -DSQLite3_LIBRARY=$(ls /usr/lib/x86_64-linux-gnu/libsqlite3.so* | head -1) -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc \
  -DMLSPEED_BUILD_TESTS=OFF > $OUT/build.log 2>&1 && cmake --build build-gpu --target mlspeed >> $OUT/build.log 2>&1 || { grep -E "error" -A3 $OUT/build.log | head -20; exit 1; }
echo "built ($SECONDS s)"
V="build-gpu/mlspeed verify -d cuda:0 --level model -w llama2-7b-generate --model-weight-formats q8_0,q4_k_m --db /tmp/v.db"
$V > $OUT/verify-healthy.md 2>&1; echo "healthy: exit $?"; grep -E "VERDICT" $OUT/verify-healthy.md
$V --inject-fault decode-attention-unscaled > $OUT/verify-fault.md 2>&1; echo "fault: exit $?"; grep -E "VERDICT|self-test" $OUT/verify-fault.md
grep -E "\| decode " $OUT/verify-fault.md | cut -c1-400
echo "done ($SECONDS s)"
