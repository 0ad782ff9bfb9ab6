#!/usr/bin/env python3
"""Checks scripts/profile_compare.py on hand-made traces: python3 scripts/profile_compare_test.py"""
import json
import os
import subprocess
import sys
import tempfile

from script_checks import check, failures

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "profile_compare.py")


def event(name, dur, cat="kernel"):
    return {"name": name, "cat": cat, "ph": "X", "ts": 0, "dur": dur, "pid": 0, "tid": 0}


def write(folder, name, events, steps=None):
    path = os.path.join(folder, name)
    trace = {"traceEvents": events}
    if steps:
        trace["mlspeed"] = {"steps": steps, "label": name}
    with open(path, "w") as f:
        json.dump(trace, f)
    return path


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


with tempfile.TemporaryDirectory() as d:
    # mlspeed: 2 steps; per step a 300 us GEMM, a 100 us flash kernel, two 25 us GELUs, a host op.
    ours = write(d, "ours.json", [event("sm90_xmma_gemm_bf16", 300), event("sm90_xmma_gemm_bf16", 300),
                                  event("flash_fwd_kernel", 200),
                                  event("vectorized_elementwise_kernel<gelu>", 25),
                                  event("vectorized_elementwise_kernel<gelu>", 25),
                                  event("vectorized_elementwise_kernel<gelu>", 25),
                                  event("vectorized_elementwise_kernel<gelu>", 25),
                                  event("aten::addmm", 999, cat="cpu_op")], steps=2)
    # PyTorch (kineto's categories): 1 step; the same GEMM, a Triton fusion, a copy, a conv.
    theirs = write(d, "theirs.json", [event("nvjet_tst_128x256", 290), event("triton_poi_fused_gelu_0", 30),
                                      event("Memcpy DtoD (Device -> Device)", 5, cat="gpu_memcpy"),
                                      event("sm90_xmma_fprop_implicit_gemm", 40),
                                      event("python_function", 5000, cat="python_function")], steps=1)
    r = run(ours, theirs, "--top", "2")
    out = r.stdout
    check("exit 0", r.returncode == 0, r.stderr)
    check("GEMM per step from each", "| GEMM | 300 | 290 |" in out, out)
    check("attention only on our side", "| attention | 100 | 0.0 |" in out, out)
    check("elementwise per step", "| other elementwise | 50.0 | 0.0 |" in out, out)
    check("Triton fusions have their own kind", "| Triton-fused (compile) | 0.0 | 30.0 |" in out, out)
    check("a cuDNN implicit GEMM is a convolution", "| convolution | 0.0 | 40.0 |" in out, out)
    check("memcpy counted as a copy", "| copy / cast / fill / index | 0.0 | 5.0 |" in out, out)
    check("busy time excludes host ops", "| **busy per step** | **450** | **365** |" in out, out)
    check("top list limited and with calls per step",
          "| `sm90_xmma_gemm_bf16` | GEMM | 1 | 300 | 66.7% |" in out and "nvjet_tst_128x256" in out
          and "vectorized_elementwise_kernel" not in out, out)

    r = run("before=" + ours, theirs)
    check("NAME=FILE names the column", r.returncode == 0 and "(1) before: ours.json: 2 steps" in r.stdout, r.stdout)

    cpu = write(d, "cpu.json", [event("aten::mm", 50, cat="cpu_op")])
    r = run(cpu)
    check("a trace without device events falls back to host ops, one step when unmarked",
          r.returncode == 0 and "host ops" in r.stdout and "| GEMM | 50.0 |" in r.stdout, r.stdout + r.stderr)

    legacy = write(d, "legacy.json", [{"name": "aten::bmm", "ph": "X", "ts": 0, "dur": 30, "tid": 1}])
    r = run(legacy)
    check("host ops without a category (the legacy profiler's) are counted",
          r.returncode == 0 and "| GEMM | 30.0 |" in r.stdout, r.stdout + r.stderr)

    r = run(os.path.join(d, "missing.json"))
    check("a missing file exits 2 with its name", r.returncode == 2 and "missing.json" in r.stderr, r.stderr)
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as f:
        f.write('{"rows": []}')
    r = run(bad)
    check("a JSON file that is not a trace exits 2", r.returncode == 2 and "not a Chrome trace" in r.stderr, r.stderr)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
