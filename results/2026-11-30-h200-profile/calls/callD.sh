#!/bin/bash
# Call D (right after call C, reading its mlspeed rows): the yardstick in eager mode for every workload, then compiled modes for
# the rows where compile was PyTorch's best before (nanoGPT, gpt2-train, food101 b128, SD 1.5 UNet).
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); at() { echo "$1: rc $2 at $(( $(date +%s) - T0 )) s"; }; left() { echo $(( 585 - ($(date +%s) - T0) )); }
W=/tmp/callD; mkdir -p $W/py; R=results/2026-11-30-h200-profile  # call C's mlspeed rows, committed
fail=0
py() { local t=$(( $(left) - 20 )); [ $t -gt 30 ] || { echo "no time left for: $*"; fail=1; return; }
  PYTHONUNBUFFERED=1 timeout $t python3 scripts/pytorch_reference.py --device cuda --out $W/py --peers .peers --dtypes bf16 --min-time 1 --append --allow-errors "$@" 2>> $W/py.err; local rc=$?; at "yardstick $*" $rc; [ $rc = 0 ] || fail=1; }
py --modes eager
py --modes reduce-overhead --workloads nanogpt-shakespeare-char
py --modes compile --workloads gpt2-train
py --modes reduce-overhead --workloads resnet50-food101 --batch 128
py --modes reduce-overhead --workloads sd15-unet-infer
python3 scripts/speed_table.py --mlspeed-graphs $R/mlspeed-graphs-on.jsonl --mlspeed-eager $R/mlspeed-graphs-off.jsonl --pytorch $W/py/pytorch.jsonl --out $W > $W/table.md 2>&1; cut -c1-230 $W/table.md
tar czf $OUT/callD.tgz -C $W .
exit $fail
