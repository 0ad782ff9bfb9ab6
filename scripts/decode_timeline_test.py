#!/usr/bin/env python3
"""Checks scripts/decode_timeline.py on hand-made traces: python3 scripts/decode_timeline_test.py"""
import json
import os
import subprocess
import sys
import tempfile

from script_checks import check, failures

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "decode_timeline.py")

NORM = "void mlspeed::fused::gpu::fused_rms_norm_quantize_kernel<(GpuDtype)2, 1>(const void*)"
ATTENTION = "void mlspeed::fused::gpu::fused_rotary_attention_kernel<(GpuDtype)2, 128>(const void*)"
SILU = "void mlspeed::fused::gpu::fused_silu_mul_quantize_kernel<(GpuDtype)2>(const void*)"
ARGMAX = "void at::native::reduce_kernel<512, 1>(at::native::ReduceOp)"
CAT = "void at::native::(anonymous namespace)::CatArrayBatchedCopy<float, unsigned int, 2, 64, 64>(float*)"


def product(weights):
    return f"void mlspeed::quant::gpu::cuq_gemv_kernel<mlspeed::quant::gpu::{weights}, 1, 2, (GpuDtype)2, true>(const unsigned char*)"


def token(layers, durations):
    """One decode token's kernels: layers of eight, the final norm, lm_head, the argmax."""
    layer = [NORM, product("CuqQ4_0"), ATTENTION, product("CuqQ4_0"), NORM, product("CuqQ4_0"), SILU,
             product("CuqQ4_0")]
    names = layer * layers + [NORM, product("CuqQ6K"), ARGMAX]
    return [(name, durations.get(i % 8 if i < 8 * layers else None, 1.0)) for i, name in enumerate(names)]


def write(folder, kernels, gap=0.5):
    events, t = [], 0.0
    for name, dur in kernels:
        events.append({"name": name, "cat": "kernel", "ph": "X", "ts": t, "dur": dur, "pid": "device", "tid": 7})
        events.append({"name": "aten::mm", "cat": "cpu_op", "ph": "X", "ts": t, "dur": 3.0, "pid": "host", "tid": 1})
        t += dur + gap
    path = os.path.join(folder, "trace.json")
    with open(path, "w") as f:
        json.dump({"traceEvents": events}, f)
    return path


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def row(out, role):
    """The printed row whose role column starts with `role`, split into fields."""
    return next((line.split() for line in out.splitlines() if line.startswith(role)), None)


with tempfile.TemporaryDirectory() as d:
    # Three tokens of two layers, each product with its own duration: the final norm of a token
    # must not swap qkv and gate_up for the next token (norms counted by parity would).
    durations = {1: 10.0, 3: 4.0, 5: 20.0, 7: 12.0}
    path = write(d, token(2, durations) * 3)
    result = run(path)
    check("a trace is read", result.returncode == 0, result.stderr)
    for role, want in (("product qkv", 10.0), ("product o", 4.0), ("product gate_up", 20.0), ("product down", 12.0)):
        fields = row(result.stdout, role)
        check(f"{role}: 6 kernels of {want} us", fields is not None and fields[-4] == "6" and float(fields[-3]) == want,
              result.stdout)
    fields = row(result.stdout, "product lm_head")
    check("lm_head: the product after the final norm, 3 kernels", fields is not None and fields[-4] == "3", result.stdout)
    fields = row(result.stdout, "fused_rms_norm_quantize_kernel")
    check("norms: 5 a token", fields is not None and fields[1] == "15", result.stdout)
    check("gaps are measured", row(result.stdout, "product o")[-1] == "0.50", result.stdout)
    check("host ops are left out", "aten::mm" not in result.stdout, result.stdout)

    # A Q4_K_M layer with v in Q6_K: q, k and v as three products and LibTorch's cat before the
    # attention. All three are qkv, not lm_head; the layer after them is named as usual.
    mixed = [NORM, product("CuqQ4K"), product("CuqQ4K"), product("CuqQ6K"), CAT, ATTENTION, product("CuqQ4K"), NORM,
             product("CuqQ4K"), SILU, product("CuqQ6K")]
    path = write(d, [(name, 1.0) for name in (mixed * 2 + [NORM, product("CuqQ6K"), ARGMAX]) * 2])
    result = run(path)
    for role, count in (("product qkv <CuqQ4K>", "8"), ("product qkv <CuqQ6K>", "4"), ("product o <CuqQ4K>", "4"),
                        ("product gate_up <CuqQ4K>", "4"), ("product down <CuqQ6K>", "4"),
                        ("product lm_head <CuqQ6K>", "2")):
        fields = row(result.stdout, role)
        check(f"a Q4_K_M layer: {role}, {count} kernels", fields is not None and fields[-4] == count, result.stdout)
    check("a Q4_K_M layer: no product without a role", "product qkv" in result.stdout and
          "product cuq_gemv_kernel" not in result.stdout, result.stdout)

    # Bad input: one line, exit 2.
    missing = run(os.path.join(d, "missing.json"))
    check("a missing trace: exit 2", missing.returncode == 2 and "cannot read" in missing.stderr, missing.stderr)
    empty = write(d, [])
    result = run(empty)
    check("a trace without kernels: exit 2", result.returncode == 2 and "no device kernels" in result.stderr,
          result.stderr)
    with open(os.path.join(d, "bad.json"), "w") as f:
        f.write("{not json")
    result = run(os.path.join(d, "bad.json"))
    check("malformed JSON: exit 2", result.returncode == 2 and "cannot read" in result.stderr, result.stderr)
    result = run()
    check("no argument: usage, exit 2", result.returncode == 2 and "usage" in result.stderr, result.stderr)

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
