#!/bin/bash
# Call F (another lease, the budget's last minutes): compiled PyTorch for shapes the record had only in
# eager form, where it is most likely to beat mlspeed: ResNet-50 food101 b32/b64 and DistilBERT b64.
set -uo pipefail
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
T0=$(date +%s); at() { echo "$1: rc $2 at $(( $(date +%s) - T0 )) s"; }; left() { echo $(( 235 - ($(date +%s) - T0) )); }
W=/tmp/callF; mkdir -p $W/py
fail=0
py() { local t=$(( $(left) - 10 )); [ $t -gt 30 ] || { echo "no time left for: $*"; fail=1; return; }
  PYTHONUNBUFFERED=1 timeout $t python3 scripts/pytorch_reference.py --device cuda --out $W/py --peers .peers --dtypes bf16 --min-time 1 --append --allow-errors "$@" 2>> $W/py.err; local rc=$?; at "yardstick $*" $rc; [ $rc = 0 ] || fail=1; }
py --modes reduce-overhead --workloads resnet50-food101 --batch 32,64
py --modes reduce-overhead --workloads distilbert-imdb --batch 64
tar czf $OUT/callF.tgz -C $W .
exit $fail
