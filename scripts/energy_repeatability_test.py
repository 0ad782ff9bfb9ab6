#!/usr/bin/env python3
"""Checks scripts/energy_repeatability.py on small hand-made JSONL files:
python3 scripts/energy_repeatability_test.py"""
import os
import sys
import tempfile

from script_checks import check, failures, run_script, write_jsonl

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "energy_repeatability.py")


def row(workload, ms, joules, batch=32, note=""):
    return dict(workload=workload, size="full", device="cuda:0", dtype="bf16", weight_format="bf16",
                kernels="mlspeed", batch=batch, seq_len=0, new_tokens=0, depth=0, status="ok", median_ms=ms,
                joules_per_item=joules, energy_note=note)


write = write_jsonl


def run(*args):
    return run_script(TOOL, *args)


with tempfile.TemporaryDirectory() as tmp:
    first = write(tmp, "a.jsonl", [row("resnet", 10.0, 1.00), row("bert", 2.0, 0.50), row("gpt2", 5.0, 2.0)])
    # resnet: time 0.5%, energy 2% (same); bert: time 3% (not judged, energy 10%); gpt2: time 0.2%, energy 1%.
    second = write(tmp, "b.jsonl", [row("resnet", 10.05, 1.02), row("bert", 2.06, 0.55), row("gpt2", 5.01, 2.02)])
    r = run(first, second)
    check("repeatable energy passes (exit 0)", r.returncode == 0, r.stdout + r.stderr)
    check("a pair within 1% of time and 3% of energy is the same", "| same |" in r.stdout, r.stdout)
    check("a pair whose time moved 3% is listed, not judged", "not judged: time moved more than 1%" in r.stdout,
          r.stdout)
    check("the summary counts the judged pairs", "2 configurations judged" in r.stdout, r.stdout)

    moved = write(tmp, "c.jsonl", [row("resnet", 10.02, 1.05), row("bert", 2.0, 0.50), row("gpt2", 5.0, 2.0)])
    r = run(first, moved)
    check("energy 5% apart at the same time fails (exit 1)", r.returncode == 1, r.stdout + r.stderr)
    check("and says which row and by how much", "J/item moved 5.00% while the time moved 0.20%" in r.stdout,
          r.stdout)
    r = run(first, moved, "--energy-within", "6")
    check("--energy-within widens the bound", r.returncode == 0, r.stdout + r.stderr)

    without = write(tmp, "d.jsonl", [row("resnet", 10.0, None, note="not available: no libnvidia-ml.so.1"),
                                     row("bert", 2.0, 0.50)])
    r = run(first, without)
    check("a row without energy fails with its reason", r.returncode == 1 and
          "no energy (not available: no libnvidia-ml.so.1)" in r.stdout, r.stdout)
    check("a configuration in one run only fails", "gpt2 cuda:0 bf16 b32: in one run only" in r.stdout, r.stdout)

    r = run(first, os.path.join(tmp, "missing.jsonl"))
    check("a missing file is exit 2", r.returncode == 2 and "no such file" in r.stderr, r.stderr)
    bad = write(tmp, "bad.jsonl", [], raw="{not json\n")
    r = run(bad, first)
    check("a malformed file is exit 2", r.returncode == 2 and "not JSON" in r.stderr, r.stderr)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
