#!/usr/bin/env python3
"""Top-level LibTorch ops per step in Chrome traces from `mlspeed run --profile` and
`scripts/pytorch_reference.py --profile` (5 profiled steps each): ops not nested inside another
aten op on their thread, so that an op and the ops it calls count once.

    python3 op_counts.py NAME=TRACE [NAME=TRACE ...]
"""
import collections
import json
import sys

STEPS = 5


def top_level_ops(path):
    with open(path) as f:
        events = [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X" and e["name"].startswith("aten::")]
    per_thread = collections.defaultdict(list)
    for e in sorted(events, key=lambda e: (e["ts"], -e["dur"])):
        per_thread[e.get("tid")].append(e)
    counts = collections.Counter()
    for thread_events in per_thread.values():
        open_until = -1
        for e in thread_events:
            if e["ts"] >= open_until:
                counts[e["name"]] += 1
                open_until = e["ts"] + e["dur"]
    return counts


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: op_counts.py NAME=TRACE [NAME=TRACE ...]")
    for arg in sys.argv[1:]:
        name, _, path = arg.rpartition("=")
        counts = top_level_ops(path)
        print(f"{name or path}: {sum(counts.values()) / STEPS:.0f} top-level ops a step")
        print("  " + ", ".join(f"{k[len('aten::'):]} {v / STEPS:g}" for k, v in counts.most_common(16)))


if __name__ == "__main__":
    main()
