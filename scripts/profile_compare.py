#!/usr/bin/env python3
"""Where the time of a step goes, side by side: the device kernels of profiled steps from
`mlspeed run --profile` and `scripts/pytorch_reference.py --profile` (Chrome traces), grouped by
what they do, per step.

  python3 scripts/profile_compare.py MLSPEED.trace.json PYTORCH.trace.json [...] [--top 12]
  python3 scripts/profile_compare.py before=OLD.trace.json after=NEW.trace.json   (NAME=FILE names a column)

Each trace holds a few steps ("mlspeed": {"steps": N} in the file, written by both tools); every
figure is microseconds per step. The first table sums kernels by kind (GEMM, attention,
convolution, normalisation, softmax and cross-entropy, optimizer, Triton-fused, copies, other
elementwise) with the device's busy time at the bottom; the tables after it list each trace's
longest kernels. A trace holding no device events (a CPU run) is compared by its host ops' time.
Exit status: 0, or 2 for a file that is missing or not a trace.
"""
import argparse
import json
import os
import re
import sys
from collections import defaultdict

# First match wins: convolutions' cuDNN kernels are "implicit GEMMs", Triton's matmul templates are GEMMs.
KINDS = [
    ("attention", r"flash|fmha|attention|sdpa|mha_"),
    ("convolution", r"conv|fprop|dgrad|wgrad|winograd|implicit_convolve"),
    ("GEMM", r"gemm|cutlass|xmma|nvjet|cublas|matmul|triton_tem_|splitk|sm\d\d_.*_(tn|nt|nn|tt)|"
             r"::(add|badd)?b?mm$|::linear$"),
    ("normalisation", r"norm|welford|batch_norm|bn_fw|bn_bw|rms"),
    ("softmax / cross-entropy", r"softmax|nll_loss|cross_entropy"),
    ("optimizer", r"multi_tensor|adam|foreach"),
    ("Triton-fused (compile)", r"^triton_"),
    ("reduction", r"reduce|reduction"),
    ("copy / cast / fill / index", r"^memcpy|^memset|copy|fill|cast|catarray|index|gather|scatter|embedding"),
    ("other elementwise", r"elementwise|vectorized|unrolled|pointwise"),
]
DEVICE_CATS = {"kernel", "gpu_memcpy", "gpu_memset"}


def kind_of(name):
    lower = name.lower()
    for kind, pattern in KINDS:
        if re.search(pattern, lower):
            return kind
    return "other"


class Trace:
    def __init__(self, argument):
        name, sep, path = argument.partition("=")
        if not sep or os.path.exists(argument):
            name, path = "", argument
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            raise SystemExit(fail(f"{path}: cannot read a trace: {e}"))
        events = data.get("traceEvents") if isinstance(data, dict) else None
        if not isinstance(events, list):
            raise SystemExit(fail(f"{path}: no traceEvents: not a Chrome trace"))
        meta = data.get("mlspeed") or {}
        self.path = path
        self.steps = int(meta.get("steps") or 1)
        self.label = (f"{name}: " if name else "") + (meta.get("label") or os.path.basename(path))
        complete = [e for e in events if e.get("ph") == "X" and "dur" in e]
        device = [e for e in complete if e.get("cat") in DEVICE_CATS]
        # A CPU run has no device events: its host ops stand in (their nesting counts them twice,
        # so only the outermost, ProfilerStep-free ops would be exact; said in the output).
        self.on_device = bool(device)
        # (PyTorch's legacy profiler, without Kineto, writes host ops with no category.)
        chosen = device if device else [e for e in complete if e.get("cat", "cpu_op") == "cpu_op"]
        self.by_name = defaultdict(float)
        self.calls = defaultdict(int)
        for e in chosen:
            self.by_name[e["name"]] += float(e["dur"])
            self.calls[e["name"]] += 1
        self.by_kind = defaultdict(float)
        for name, us in self.by_name.items():
            self.by_kind[kind_of(name)] += us / self.steps
        self.busy = sum(self.by_name.values()) / self.steps


def fail(message):
    print(f"profile_compare: {message}", file=sys.stderr)
    return 2


def fmt(us):
    return f"{us:,.0f}" if us >= 100 else f"{us:.1f}"


def kinds_table(traces):
    head = "| kind | " + " | ".join(f"({i + 1})" for i in range(len(traces))) + " |"
    lines = [head, "|---|" + "--:|" * len(traces)]
    kinds = [k for k, _ in KINDS] + ["other"]
    for kind in kinds:
        if any(t.by_kind.get(kind) for t in traces):
            lines.append(f"| {kind} | " + " | ".join(fmt(t.by_kind.get(kind, 0)) for t in traces) + " |")
    lines.append("| **busy per step** | " + " | ".join(f"**{fmt(t.busy)}**" for t in traces) + " |")
    return "\n".join(lines)


def top_table(trace, top):
    lines = [f"| kernel | kind | calls/step | us/step | share |", "|---|---|--:|--:|--:|"]
    total = sum(trace.by_name.values()) or 1
    for name, us in sorted(trace.by_name.items(), key=lambda kv: -kv[1])[:top]:
        short = name if len(name) <= 100 else name[:97] + "..."
        lines.append(f"| `{short.replace('|', '/')}` | {kind_of(name)} | {trace.calls[name] / trace.steps:.3g} | "
                     f"{fmt(us / trace.steps)} | {100 * us / total:.1f}% |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("traces", nargs="+", metavar="[NAME=]TRACE",
                   help="Chrome traces from mlspeed run --profile or pytorch_reference.py --profile")
    p.add_argument("--top", type=int, default=12, help="kernels listed per trace (12)")
    args = p.parse_args(argv)
    traces = [Trace(path) for path in args.traces]
    print("Microseconds per step on the device, by kind of kernel.\n")
    for i, t in enumerate(traces):
        where = "device kernels" if t.on_device else "host ops (no device events; nested ops counted in each)"
        print(f"({i + 1}) {t.label}: {t.steps} steps, {where} - {os.path.basename(t.path)}")
    print()
    print(kinds_table(traces))
    for i, t in enumerate(traces):
        print(f"\n### ({i + 1}) {t.label}: the {args.top} longest\n")
        print(top_table(t, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
