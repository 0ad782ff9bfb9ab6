#!/usr/bin/env python3
"""Checks scripts/speed_table.py on small hand-made JSONL files: python3 scripts/speed_table_test.py"""
import csv
import json
import os
import subprocess
import sys
import tempfile

from script_checks import check, failures

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "speed_table.py")


def ml(workload, batch, median, seq=0, new=0, status="ok", device="cuda:0", graphs="step", **extra):
    row = dict(workload=workload, size="full", dtype="bf16", batch=batch, seq_len=seq, new_tokens=new, status=status,
               median_ms=median if status == "ok" else None, ms_per_token=None, first_token_ms=None, items_per_s=None,
               graphs=graphs, device=device, message="" if status == "ok" else "out of memory")
    row.update(extra)
    return row


def py(workload, batch, mode, median, seq=0, new=0, status="ok", device="cuda:0", **extra):
    row = dict(workload=workload, size="full", dtype="bf16", batch=batch, seq=seq, new_tokens=new, mode=mode,
               status=status, message="" if status == "ok" else "torch._dynamo failed", median_ms=median,
               iterations=3, samples_ms=[median] * 3 if median else [], device=device)
    row.update(extra)
    return row


def write(folder, name, rows):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


def run(folder, graphs, eager, pytorch, *extra):
    out = os.path.join(folder, "out")
    p = subprocess.run([sys.executable, TOOL, "--mlspeed-graphs", graphs, "--mlspeed-eager", eager, "--pytorch", pytorch,
                        "--out", out, *extra], capture_output=True, text=True)
    return p, out


with tempfile.TemporaryDirectory() as d:
    graphs = write(d, "graphs.jsonl", [
        ml("bert-base-infer", 1, 2.0, seq=128),
        ml("bert-base-infer", 4, 5.0, seq=128),
        ml("gpt2-generate", 1, 40.0, seq=4, new=16, ms_per_token=2.0, first_token_ms=10.0),
        ml("llama2-7b-generate", 1, 1280.0, seq=0, new=128),  # no ms_per_token: median / 128
        ml("resnet50-food101", 128, None, status="oom"),
        ml("bert-base-infer", 1, 99.0, seq=128, device="cpu"),  # another device: filtered out
    ])
    eager = write(d, "eager.jsonl", [ml("bert-base-infer", 1, 3.0, seq=128, graphs="eager"),
                                     ml("gpt2-generate", 1, 60.0, seq=4, new=16, ms_per_token=3.0, graphs="eager")])
    pytorch = write(d, "pytorch.jsonl", [
        py("bert-base-infer", 1, "eager", 4.0, seq=128),
        py("bert-base-infer", 1, "compile", 2.5, seq=128),
        py("bert-base-infer", 1, "reduce-overhead", 1.6, seq=128),
        py("bert-base-infer", 4, "eager", 8.0, seq=128),
        py("bert-base-infer", 4, "compile", None, seq=128, status="error"),
        py("gpt2-generate", 1, "eager", 80.0, seq=4, new=16, ms_per_token=4.0, first_token_ms=20.0),
        py("llama2-7b-generate", 1, "eager", 2560.0, seq=0, new=128, ms_per_token=20.0),
    ])
    p, out = run(d, graphs, eager, pytorch)
    check("exit 0 on good input", p.returncode == 0)
    rows = list(csv.DictReader(open(os.path.join(out, "ratios.csv"))))
    check("ratios.csv has exactly the columns", list(rows[0].keys()) == [
        "workload", "size", "dtype", "batch", "seq", "new_tokens", "mlspeed_graphs_ms", "mlspeed_eager_ms",
        "pytorch_eager_ms", "pytorch_compile_ms", "pytorch_graphs_ms", "best_pytorch_ms", "ratio"])
    by = {(r["workload"], r["batch"]): r for r in rows}
    check("one line per configuration (cpu row filtered out)", len(rows) == 5)
    b1 = by[("bert-base-infer", "1")]
    check("best PyTorch = reduce-overhead 1.6", float(b1["best_pytorch_ms"]) == 1.6)
    check("ratio = 2.0 / 1.6", abs(float(b1["ratio"]) - 1.25) < 1e-3)
    b4 = by[("bert-base-infer", "4")]
    check("failed compile mode leaves best = eager", float(b4["best_pytorch_ms"]) == 8.0 and b4["pytorch_compile_ms"] == "")
    g = by[("gpt2-generate", "1")]
    check("generation compares ms per token", float(g["mlspeed_graphs_ms"]) == 2.0 and float(g["ratio"]) == 0.5)
    ll = by[("llama2-7b-generate", "1")]
    check("no ms_per_token: median / new_tokens", float(ll["mlspeed_graphs_ms"]) == 10.0 and float(ll["ratio"]) == 0.5)
    r = by[("resnet50-food101", "128")]
    check("oom row: empty times and ratio", r["mlspeed_graphs_ms"] == "" and r["ratio"] == "")
    md = open(os.path.join(out, "speed.md")).read()
    check("speed.md says why the oom row is missing", "resnet50-food101 full bf16 batch 128 seq 0: mlspeed (CUDA graphs): oom: out of memory" in md)
    check("speed.md names the failed PyTorch mode", "PyTorch torch.compile: error: torch._dynamo failed" in md)
    check("speed.md marks the median/new_tokens fallback", "compared median_ms / new_tokens" in md)
    check("speed.md names the best mode", "| reduce-overhead | 1.25 |" in md)
    check("the table is printed", "| bert-base-infer | full | bf16 | 1 | 128 | 0 |" in p.stdout)

    part1 = write(d, "part1.jsonl", [py("bert-base-infer", 1, "eager", 4.0, seq=128)])
    part2 = write(d, "part2.jsonl", [py("bert-base-infer", 1, "compile", 2.5, seq=128)])
    out = os.path.join(d, "split")
    p = subprocess.run([sys.executable, TOOL, "--mlspeed-graphs", graphs, "--mlspeed-eager", eager,
                        "--pytorch", part1, part2, "--out", out], capture_output=True, text=True)
    rows = {r["workload"] + r["batch"]: r for r in csv.DictReader(open(os.path.join(out, "ratios.csv")))}
    check("several --pytorch files: rows together", p.returncode == 0 and
          float(rows["bert-base-infer1"]["best_pytorch_ms"]) == 2.5 and float(rows["bert-base-infer1"]["pytorch_eager_ms"]) == 4.0)

    p, _ = run(d, os.path.join(d, "nope.jsonl"), eager, pytorch)
    check("missing file: exit 2", p.returncode == 2 and "no such file" in p.stderr)
    bad = write(d, "bad.jsonl", [ml("bert-base-infer", 1, 2.0, seq=128), "{not json"])
    p, _ = run(d, bad, eager, pytorch)
    check("malformed JSON: exit 2 naming the line", p.returncode == 2 and "bad.jsonl:2" in p.stderr)
    nofield = write(d, "nofield.jsonl", [{"workload": "x"}])
    p, _ = run(d, graphs, nofield, pytorch)
    check("missing field: exit 2", p.returncode == 2 and "no field" in p.stderr)
    wrong = write(d, "wrong.jsonl", [ml("bert-base-infer", "one", 2.0)])
    p, _ = run(d, wrong, eager, pytorch)
    check("non-integer batch: exit 2", p.returncode == 2 and "not an integer" in p.stderr)
    mixed = write(d, "mixed.jsonl", [py("bert-base-infer", 1, "eager", 4.0, seq=128),
                                     py("bert-base-infer", 1, "eager", 9.0, seq=128, device="cpu")])
    p, _ = run(d, graphs, eager, mixed)
    check("several devices without --device: exit 2", p.returncode == 2 and "--device" in p.stderr)
    p, _ = run(d, graphs, eager, mixed, "--device", "cpu")
    check("--device cpu with no cpu row in the eager file: exit 2", p.returncode == 2 and "no rows on device cpu" in p.stderr)
    eager_cpu = write(d, "eager_cpu.jsonl", [ml("bert-base-infer", 1, 120.0, seq=128, device="cpu")])
    p, out = run(d, graphs, eager_cpu, mixed, "--device", "cpu")
    rows = list(csv.DictReader(open(os.path.join(out, "ratios.csv"))))
    check("--device cpu keeps the cpu rows", p.returncode == 0 and len(rows) == 1 and
          float(rows[0]["mlspeed_graphs_ms"]) == 99.0 and float(rows[0]["pytorch_eager_ms"]) == 9.0)

    out = os.path.join(d, "no-eager")
    p = subprocess.run([sys.executable, TOOL, "--mlspeed-graphs", graphs, "--pytorch", pytorch, "--out", out],
                       capture_output=True, text=True)
    rows = {r["workload"] + r["batch"]: r for r in csv.DictReader(open(os.path.join(out, "ratios.csv")))}
    b1 = rows["bert-base-infer1"]
    check("no --mlspeed-eager: the eager column empty, the ratios as before", p.returncode == 0 and
          b1["mlspeed_eager_ms"] == "" and abs(float(b1["ratio"]) - 1.25) < 1e-3)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
