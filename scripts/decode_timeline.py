#!/usr/bin/env python3
"""Where a decode token's time goes: the kernels of a Llama decode step by their role in a layer.

usage: scripts/decode_timeline.py TRACE.json

TRACE.json is a trace that `mlspeed run --profile DIR` writes for a generation row (tg128, ...).
Each kernel is named by its role: the products by their place in the layer (the product after
the attention is o, after silu(gate) * up is down, after a norm is qkv unless the product before
it was o, then gate_up; products right after it take its role: q, k and v as separate matrices,
as in llama.cpp's Q4_K_M files; a product followed by no attention kernel is lm_head), every
other kernel by its name. Printed per role: kernels, median duration, total, and the median gap from the end
of the kernel before to its start (negative: the launches overlap, MLSPEED_CUDA_PDL=on). With
MLSPEED_CUDA_PDL=off the durations are each kernel's own time.

Exit status: 0; 2 when the trace cannot be read or holds no kernels.
"""
import json
import re
import statistics
import sys
from collections import defaultdict


def short(name):
    kernel = re.search(r"(\w+_kernel)", name)
    weights = re.search(r"(Cuq\w+)", name)
    return (kernel.group(1) if kernel else name[:40]) + (f"<{weights.group(1)}>" if weights else "")


def roles(events):
    """The role of each kernel, in start order."""
    names = [short(e["name"]) for e in events]
    out, last_product = [], None
    for i, name in enumerate(names):
        role = name
        if "gemv_kernel" in name:
            before = names[i - 1] if i else ""
            if "attention" in before or "combine" in before:
                role = "o"
            elif "silu" in before:
                role = "down"
            elif "rms_norm" in before:
                role = "gate_up" if last_product == "o" else "qkv"
            elif "gemv_kernel" in before and last_product in ("qkv", "gate_up", "lm_head"):
                role = last_product  # another matrix of the same input (q, k, v apart: a Q4_K_M layer)
            if role == "qkv" and not attention_follows(names, i):
                role = "lm_head"
            last_product = role
            role = f"product {role} {name[name.find('<'):]}" if "<" in name else f"product {role}"
        out.append(role)
    return out


def attention_follows(names, i):
    """Whether an attention kernel comes within two kernels after the products that start at i
    (the products of one input, and the kernel that joins them, if any, counted as one)."""
    following = [n for n in names[i + 1:i + 8] if "gemv_kernel" not in n]
    return any("attention" in n or "rotary" in n for n in following[:2])


def fail(message):
    print(f"decode_timeline: {message}", file=sys.stderr)
    sys.exit(2)


def read_kernels(path):
    """The trace's device kernels in start order; exits 2 with one line when there are none."""
    try:
        with open(path) as f:
            events = json.load(f)["traceEvents"]
        kernels = [e for e in events if e.get("cat") == "kernel"]
        kernels.sort(key=lambda e: e["ts"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"cannot read {path} as a `run --profile` trace: {e}")
    if not kernels:
        fail(f"{path} holds no device kernels (a CPU row's trace?)")
    return kernels


def main():
    if len(sys.argv) != 2:
        fail("usage: scripts/decode_timeline.py TRACE.json")
    events = read_kernels(sys.argv[1])
    durations, gaps = defaultdict(list), defaultdict(list)
    previous_end = None
    for event, role in zip(events, roles(events)):
        durations[role].append(event["dur"])
        if previous_end is not None:
            gaps[role].append(event["ts"] - previous_end)
        previous_end = event["ts"] + event["dur"]
    span = events[-1]["ts"] + events[-1]["dur"] - events[0]["ts"]
    busy = sum(sum(d) for d in durations.values())
    print(f"{len(events)} kernels, span {span / 1e3:.2f} ms, busy (sum of durations) {busy / 1e3:.2f} ms")
    print(f"{'role':56s} {'kernels':>8s} {'median us':>10s} {'total ms':>9s} {'median gap us':>14s}")
    for role in sorted(durations, key=lambda r: -sum(durations[r])):
        gap = statistics.median(gaps[role]) if gaps[role] else float("nan")
        print(f"{role[:56]:56s} {len(durations[role]):8d} {statistics.median(durations[role]):10.2f} "
              f"{sum(durations[role]) / 1e3:9.2f} {gap:14.2f}")


if __name__ == "__main__":
    main()
