#!/bin/bash
# The new decode fault (rms-norm-gain-offset) and gate-up-swapped caught on cuda:0, with the fused RMSNorm kernel's tests.
set -uo pipefail
SQLITE_INCLUDE=$PWD/.device FUSED_STEPS=none OUT=$OUT/b bash scripts/gpu-check.sh fused > $OUT/build.log 2>&1 || { tail -30 $OUT/build.log; exit 1; }
echo "built ($SECONDS s)"
build-gpu/mlspeed_gpu_tests --gtest_filter='*FaultIsCaughtOnCuda*rms_norm_gain*:*FaultIsCaughtOnCuda*gate_up*:*FaultIsCaughtOnCuda*decode_attention*:*FaultIsCaughtOnCuda*kv_cache*:FusedDecodeGpu.*' > $OUT/fault-tests.log 2>&1
rc=$?
grep -E "^\[ *(OK|FAILED|PASSED) " $OUT/fault-tests.log
build-gpu/mlspeed verify -d cuda:0 --level model -w llama2-7b-generate --model-weight-formats q4_k_m --inject-fault rms-norm-gain-offset --no-db > $OUT/verify-fault.md 2>&1
echo "verify --inject-fault rms-norm-gain-offset: exit $? (1 = caught)"
grep -E "decode|forward" $OUT/verify-fault.md | head -6 | cut -c1-300
echo "($SECONDS s)"
exit $rc
