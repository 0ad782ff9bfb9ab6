#!/bin/bash
# Device call 2 (the machine of call 1, still held; build-gpu kept): branch wip/bn-chunking's
# heuristic for the fused BatchNorm (at least 16 rows a lane a run, .device/bn-chunking.patch)
# against this tree's: the BatchNorm gpu tests on the patched build, then resnet50-food101 b32,
# b64 and b128 in bf16 on both programs, alternating; then where the SD 1.5 UNet's step goes
# (bf16 b1), mlspeed's against PyTorch's reduce-overhead (diffusers from .peers), both profiled.
set -uo pipefail
export PATH=/usr/local/cuda/bin:$PATH
status=0
source "$(dirname "$0")/pack.sh"  # every log back in one archive
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/env.txt
[ -x build-gpu/mlspeed ] || { echo "no build-gpu here: this call needs call 1's machine"; exit 1; }
cp build-gpu/mlspeed /tmp/mlspeed-tree
git apply .device/bn-chunking.patch 2>/dev/null || patch -p1 < .device/bn-chunking.patch || exit 1
cmake --build build-gpu --target mlspeed mlspeed_gpu_tests > $OUT/bn-build.log 2>&1 || { tail -20 $OUT/bn-build.log; exit 1; }
cp build-gpu/mlspeed /tmp/mlspeed-bn
echo "=== BatchNorm gpu tests and the food101 fault, chunking patch ($SECONDS s) ==="
build-gpu/mlspeed_gpu_tests --gtest_filter='BatchNormGpu.*:StepGraphs.*:*batch_norm*' > $OUT/bn-gpu-tests.log 2>&1 \
  || status=1
grep -E "^\[ *(OK|FAILED|PASSED) " $OUT/bn-gpu-tests.log | tail -12
echo "=== resnet50-food101, tree (this tree) against bn (the patch), alternating ($SECONDS s) ==="
for b in tree bn tree bn; do
  for batch in 32 64 128; do
    /tmp/mlspeed-$b run -w resnet50-food101 -b $batch -d cuda:0 -t bf16 --min-time 2 > $OUT/bn.md 2>> $OUT/bn.err \
      || { echo "$b b$batch failed"; status=1; }
    grep -E "^\| resnet" $OUT/bn.md | sed "s/^/$b /" | tee -a $OUT/bn-rows.md
  done
done
echo "=== sd15-unet-infer bf16, profiled: mlspeed, then PyTorch reduce-overhead ($SECONDS s) ==="
/tmp/mlspeed-tree run -w sd15-unet-infer -d cuda:0 -t bf16 -n 5 --profile /tmp/unet-prof > $OUT/unet-mlspeed.md 2>&1 \
  || { echo "mlspeed unet profile failed"; status=1; }
grep -E "^\| sd15" $OUT/unet-mlspeed.md
timeout $((590 - SECONDS)) python3 scripts/pytorch_reference.py --device cuda --out /tmp/unet-yard --peers .peers \
  --workloads sd15-unet-infer --dtypes bf16 --modes reduce-overhead --min-time 2 --profile /tmp/unet-prof \
  > $OUT/unet-pytorch.log 2>&1 || { echo "yardstick exit $?"; status=1; }
grep -E "^\| sd15" $OUT/unet-pytorch.log
python3 scripts/profile_compare.py mlspeed="$(ls /tmp/unet-prof/sd15*cuda*.trace.json | head -1)" \
  reduce-overhead="$(ls /tmp/unet-prof/sd15*reduce-overhead*.trace.json | head -1)" --top 16 > $OUT/unet-profile.md \
  || status=1
head -16 $OUT/unet-profile.md
echo "done ($SECONDS s), status $status"
exit $status
