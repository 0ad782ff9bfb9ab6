#!/usr/bin/env python3
"""Checks scripts/llama_bench_table.py on small hand-made JSONL files: python3 scripts/llama_bench_table_test.py"""
import csv
import os
import sys
import tempfile

from script_checks import check, failures, run_script, write_jsonl

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "llama_bench_table.py")


def ml(workload, seq, new, tps, depth=0, status="ok"):
    return dict(workload=workload, seq_len=seq, new_tokens=new, depth=depth, status=status,
                items_per_s=tps if status == "ok" else None, message="" if status == "ok" else "out of memory")


def lb(path, prompt, gen, tps, depth=0, sd=1.5):
    return dict(model_filename=path, model_type="llama 7B Q4_0", n_prompt=prompt, n_gen=gen, n_depth=depth,
                avg_ts=tps, stddev_ts=sd)


write = write_jsonl


def run(*args):
    return run_script(TOOL, *args)


with tempfile.TemporaryDirectory() as tmp:
    mine = write(tmp, "mine.jsonl", [
        ml("llama-2-7b.Q4_0", 512, 0, 20000.0),
        ml("llama-2-7b.Q4_0", 0, 128, 300.0),
        ml("llama-2-7b.Q4_0", 0, 128, 240.0, depth=4096),
        ml("llama-2-7b.Q8_0", 0, 128, 0, status="oom"),
    ])
    theirs = write(tmp, "theirs.jsonl", [
        lb("/tmp/gguf/llama-2-7b.Q4_0.gguf", 512, 0, 16000.0),
        lb("/tmp/gguf/llama-2-7b.Q4_0.gguf", 0, 128, 200.0),
        lb("/tmp/gguf/llama-2-7b.Q4_0.gguf", 0, 128, 160.0, depth=4096),
        lb("/tmp/gguf/llama-2-7b.Q8_0.gguf", 0, 128, 150.0),
    ])
    out = os.path.join(tmp, "out")
    r = run("--mlspeed", mine, "--llama-bench", theirs, "--out", out)
    check("exit status 0", r.returncode == 0)
    with open(os.path.join(out, "llama-bench.csv")) as f:
        rows = {(x["model"], x["test"]): x for x in csv.DictReader(f)}
    check("matched on the file's name and the test",
          set(rows) == {("llama-2-7b.Q4_0", "pp512"), ("llama-2-7b.Q4_0", "tg128"),
                        ("llama-2-7b.Q4_0", "tg128 @ d4096"), ("llama-2-7b.Q8_0", "tg128")})
    check("ratio is mlspeed over llama-bench", abs(float(rows[("llama-2-7b.Q4_0", "tg128")]["ratio"]) - 1.5) < 1e-9)
    check("the depth is part of the test", abs(float(rows[("llama-2-7b.Q4_0", "tg128 @ d4096")]["ratio"]) - 1.5) < 1e-9)
    check("a failed mlspeed row has no ratio", rows[("llama-2-7b.Q8_0", "tg128")]["ratio"] == "")
    check("and is named under the table", "llama-2-7b.Q8_0 tg128: mlspeed oom: out of memory" in r.stdout)
    check("llama-bench's spread is shown", "16000.0 ± 1.5" in r.stdout)

    # A test only one side ran is listed, never silently dropped.
    only = write(tmp, "only.jsonl", [ml("llama-2-7b.Q4_0", 0, 64, 310.0)])
    r = run("--mlspeed", only, "--llama-bench", theirs, "--out", out)
    check("one-sided tests are named", "llama-2-7b.Q4_0 tg64: no llama-bench row" in r.stdout
          and "llama-2-7b.Q4_0 tg128: no mlspeed row" in r.stdout)

    # Bad input: one line, exit 2.
    broken = write(tmp, "broken.jsonl", [], raw='{"workload": "x"\n')
    r = run("--mlspeed", broken, "--llama-bench", theirs, "--out", out)
    check("malformed JSON is exit 2 with the line", r.returncode == 2 and "broken.jsonl:1: not JSON" in r.stderr)
    r = run("--mlspeed", mine, "--llama-bench", os.path.join(tmp, "missing.jsonl"), "--out", out)
    check("a missing file is exit 2", r.returncode == 2 and "no such file" in r.stderr)
    lacking = write(tmp, "lacking.jsonl", [{"model_filename": "a.gguf", "n_prompt": 512}])
    r = run("--mlspeed", mine, "--llama-bench", lacking, "--out", out)
    check("a row without avg_ts is exit 2 naming the field", r.returncode == 2 and "no field n_gen, avg_ts" in r.stderr)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
