#!/usr/bin/env python3
"""mlspeed against llama.cpp's llama-bench on the same GGUF files, test by test.

    python3 scripts/llama_bench_table.py --mlspeed A.jsonl --llama-bench B.jsonl --out DIR

A is `mlspeed show RUN -o jsonl` of a `run --model FILES` run (one JSON object per row; a row's
workload is its file's name without .gguf); B is `llama-bench -m FILES -o jsonl`. Rows are matched
on the file and the test: llama-bench's n_prompt, n_gen and n_depth against mlspeed's seq_len,
new_tokens and depth (pp512 is 512/0/0, "tg128 @ d4096" 0/128/4096). mlspeed's tokens/s comes
from its median step (items_per_s), llama-bench's is its mean over repetitions (avg_ts, with
stddev_ts).

Writes DIR/llama-bench.csv (model,test,mlspeed_tps,llama_bench_tps,llama_bench_sd,ratio; ratio =
mlspeed_tps / llama_bench_tps, above 1 where mlspeed is faster; empty where a side is missing) and
DIR/llama-bench.md (the same table, then a line for every test one side lacks or failed); prints
the markdown.

Exit status: 0; 2 when an input file is missing or malformed.
"""
import argparse
import csv
import os
import sys

from speed_table import InputError, read_jsonl  # one JSONL reader for the scripts' inputs

COLUMNS = ["model", "test", "mlspeed_tps", "llama_bench_tps", "llama_bench_sd", "ratio"]


def test_name(prompt, gen, depth):
    """llama-bench's label: pp512, tg128, pp512+tg128, each with " @ d4096" after a filled cache."""
    parts = ([f"pp{prompt}"] if prompt else []) + ([f"tg{gen}"] if gen else [])
    return "+".join(parts) + (f" @ d{depth}" if depth else "")


def stem(path):
    base = os.path.basename(str(path))
    return base[: -len(".gguf")] if base.endswith(".gguf") else base


def mlspeed_rows(rows):
    out = {}
    for r in rows:
        key = (r["workload"], test_name(int(r["seq_len"] or 0), int(r["new_tokens"] or 0), int(r.get("depth") or 0)))
        out[key] = r
    return out


def llama_bench_rows(rows):
    return {(stem(r["model_filename"]), test_name(int(r["n_prompt"]), int(r["n_gen"]), int(r.get("n_depth") or 0))): r
            for r in rows}


def table(mine, theirs):
    lines, notes = [], []
    for key in sorted(set(mine) | set(theirs)):
        model, test = key
        m, t = mine.get(key), theirs.get(key)
        mine_tps = m.get("items_per_s") if m and m.get("status") == "ok" else None
        their_tps = t.get("avg_ts") if t else None
        if m is None:
            notes.append(f"{model} {test}: no mlspeed row")
        elif m.get("status") != "ok":
            notes.append(f"{model} {test}: mlspeed {m.get('status')}: {m.get('message', '')}")
        if t is None:
            notes.append(f"{model} {test}: no llama-bench row")
        ratio = mine_tps / their_tps if mine_tps and their_tps else None
        lines.append({"model": model, "test": test, "mlspeed_tps": mine_tps, "llama_bench_tps": their_tps,
                      "llama_bench_sd": t.get("stddev_ts") if t else None, "ratio": ratio})
    return lines, notes


def cell(value, digits=1):
    return "" if value is None else f"{value:.{digits}f}"


def markdown(lines, notes):
    out = ["| model | test | mlspeed tokens/s | llama-bench tokens/s | mlspeed / llama-bench |",
           "| :--- | :--- | ---: | ---: | ---: |"]
    for l in lines:
        theirs = cell(l["llama_bench_tps"]) + (f" ± {cell(l['llama_bench_sd'])}" if l["llama_bench_sd"] is not None else "")
        out.append(f"| {l['model']} | {l['test']} | {cell(l['mlspeed_tps'])} | {theirs} | {cell(l['ratio'], 2)} |")
    if notes:
        out += ["", "Not compared:"] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mlspeed", required=True, help="mlspeed show RUN -o jsonl")
    parser.add_argument("--llama-bench", required=True, help="llama-bench -o jsonl")
    parser.add_argument("--out", required=True, help="folder for llama-bench.csv and llama-bench.md")
    args = parser.parse_args()
    try:
        mine = mlspeed_rows(read_jsonl(args.mlspeed, ["workload", "seq_len", "new_tokens", "status"], "--mlspeed"))
        theirs = llama_bench_rows(read_jsonl(args.llama_bench, ["model_filename", "n_prompt", "n_gen", "avg_ts"],
                                             "--llama-bench"))
    except InputError as e:
        print(f"llama_bench_table: {e}", file=sys.stderr)
        return 2
    lines, notes = table(mine, theirs)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "llama-bench.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for l in lines:
            writer.writerow({k: "" if v is None else v for k, v in l.items()})
    text = markdown(lines, notes)
    with open(os.path.join(args.out, "llama-bench.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
