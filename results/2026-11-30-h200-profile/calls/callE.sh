#!/bin/bash
# Call E: profiles of PyTorch's best mode for the rows still above 1.00 (compile's CUDA graphs for nanoGPT,
# food101 b128, the SD 1.5 UNet), for scripts/profile_compare.py against call C's mlspeed traces; then
# the compiled generate() of gpt2-generate, if time is left.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); at() { echo "$1: rc $2 at $(( $(date +%s) - T0 )) s"; }; left() { echo $(( 480 - ($(date +%s) - T0) )); }
W=/tmp/callE; mkdir -p $W/py/traces
fail=0
py() { local t=$(( $(left) - 15 )); [ $t -gt 30 ] || { echo "no time left for: $*"; fail=1; return; }
  PYTHONUNBUFFERED=1 timeout $t python3 scripts/pytorch_reference.py --device cuda --out $W/py --peers .peers --dtypes bf16 --min-time 1 --append --allow-errors "$@" 2>> $W/py.err; local rc=$?; at "yardstick $*" $rc; [ $rc = 0 ] || fail=1; }
py --modes reduce-overhead --workloads nanogpt-shakespeare-char --profile $W/py/traces
py --modes reduce-overhead --workloads resnet50-food101 --batch 128 --profile $W/py/traces
py --modes reduce-overhead --workloads sd15-unet-infer --profile $W/py/traces
py --modes compile --workloads gpt2-generate
for t in $W/py/traces/*.trace.json; do echo "== $t"; python3 scripts/profile_compare.py $t --top 6 | sed -n '/^| kind/,/busy per step/p'; done
tar czf $OUT/callE.tgz -C $W .
exit $fail
