#!/usr/bin/env python3
"""Writes references/*.json, the reference sets bundled into mlspeed (`compare ref:NAME`).

Two kinds:
  * published figures, transcribed here by hand from the public sources named in each set's
    citation (the source lines are kept in references/SOURCES.md): each published time is one
    row whose single sample is that figure;
  * mlspeed's own recorded GPU runs from results/, converted by mlspeed itself
    (`mlspeed export` from a results database, or `mlspeed import` of `show -o jsonl` output and
    then `export`), so the rows are exactly what was recorded.

Workload facts (parameters, FLOPs per item) come from `mlspeed workloads --json`, so the
throughput and TFLOP/s of a published row are the published time against mlspeed's own count.

usage: scripts/make_references.py BUILD/mlspeed
"""
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "references"

BERT_CITATION = ("Sijun He, \"Macbook Pro GPU for ML?\" (blog post, 2023-01-20), table \"Performance on BERT\", "
                 "https://sijunhe.github.io/2023/01/20/macbook-pro-for-ml.html "
                 "(source: github.com/sijunhe/sijunhe.github.io, _posts/2023-01-20-macbook-pro-for-ml.markdown)")
BERT_METHOD = ("PyTorch eager fp32, transformers BertModel; each figure the mean of 50 forwards without warm-up or "
               "device synchronisation, in whole ms (references/SOURCES.md)")
NANOGPT_CITATION = ("\"State of training on Metal\" (blog post by vglazer, 2025-09-16), "
                    "https://vglazer.github.io/training-on-metal "
                    "(source: github.com/vglazer/vglazer.github.io, _posts/2025-09-16-state-of-training-on-metal.md)")
NANOGPT_METHOD = ("nanoGPT's train_shakespeare_char.py (batch 64, block 256: mlspeed's full size), fp32, PyTorch "
                  "nightly; samples: iterations 10 to 50, each also loading the next batch; the chip is not stated "
                  "(references/SOURCES.md)")

# The published BERT table: (batch, seq) -> ms/it per machine column.
BERT_TABLE = {
    (1, 128): {"cpu": 59, "mps": 29, "t4": 12, "p100": 13},
    (4, 128): {"cpu": 154, "mps": 50, "t4": 26, "p100": 16},
    (1, 512): {"cpu": 200, "mps": 56, "t4": 30, "p100": 18},
    (4, 512): {"cpu": 752, "mps": 200, "t4": 114, "p100": 65},
}

# The published nanoGPT log lines, iter 10..50 ("time ...ms").
NANOGPT_SAMPLES = {
    "mps": [220.50, 221.44, 221.30, 220.74, 220.24],
    "mps-compile": [304.79, 305.33, 306.39, 306.01, 305.41],
    "cpu": [1973.80, 1984.34, 1988.45, 1983.75, 2003.05],
}

MLSPEED_RUNS = [
    # name, citation folder, source (a results database and run id, or show -o jsonl files), description
    ("mlspeed-h100-2026-11-23", "results/2026-11-23-h100", ("db", "results/2026-11-23-h100/results.db", "1"),
     "mlspeed's own run on an NVIDIA H100 80GB HBM3 (LibTorch 2.11.0+cu130, CUDA 13.0): bert-base-infer and "
     "nanogpt-shakespeare-char at full size in fp32 and bf16, on the CPU and cuda:0"),
    ("mlspeed-h200-2026-11-30", "results/2026-11-30-h200-speed",
     ("jsonl", "results/2026-11-30-h200-speed/mlspeed-graphs-on.jsonl",
      "results/2026-11-30-h200-speed/mlspeed-graphs-off.jsonl"),
     "mlspeed's own runs on an NVIDIA H200 (LibTorch 2.11.0+cu130, CUDA 13.0): every workload's default full-size "
     "shapes in bf16 on cuda:0, with CUDA graphs on and off (context rebuilt from the rows of `show -o jsonl`, "
     "which record no command line)"),
]


def workload_facts(mlspeed):
    catalogue = json.loads(subprocess.run([mlspeed, "workloads", "--json"], check=True, capture_output=True,
                                          text=True).stdout)
    facts = {}
    for w in catalogue:
        for size in w["sizes"]:
            for f in size["flops"]:
                facts[(w["name"], size["name"], f["seq_len"])] = {
                    "job": w["job"], "item_unit": w["item_unit"], "parameters": size["parameters"],
                    "flops_per_item": f["flops_per_item"], "steps_per_job": w["steps_per_job"]}
    return facts


def host(hostname, os_name, cpu_model, cores=0, torch=""):
    return {"hostname": hostname, "os": os_name, "cpu_model": cpu_model, "logical_cpus": cores,
            "physical_cores": cores, "ram_bytes": 0, "torch_threads": 0, "torch_version": torch,
            "cuda_version": "", "cudnn_version": "", "blas": "", "mlspeed_version": "", "build_type": "",
            "compiler": "", "sanitized": False}


def device(device_id, name, memory_bytes=0):
    kind = device_id.split(":")[0]
    return {"id": device_id, "kind": kind, "index": int(device_id.split(":")[1]) if ":" in device_id else 0,
            "name": name, "memory_bytes": memory_bytes, "compute_capability": "", "multiprocessors": 0,
            "driver": "", "peak_flops": {}, "peak_source": "", "peak_bandwidth": 0, "copy_bandwidth": 0,
            "bandwidth_source": ""}


def published_row(facts, when, workload, device_facts, host_facts, batch, seq, samples, weights, data):
    f = facts[(workload, "full", seq)]
    items_per_step = batch * seq if f["item_unit"] == "tokens" else batch
    median = statistics.median(samples)
    mean = statistics.fmean(samples)
    stddev = statistics.stdev(samples) if len(samples) > 1 else None  # one figure: no spread to give
    items_per_s = items_per_step / (median / 1e3)
    return {
        "run_id": 0, "timestamp": when, "workload": workload, "size": "full", "job": f["job"],
        "device": device_facts["id"], "dtype": "fp32", "batch": batch, "seq_len": seq, "new_tokens": 0,
        "repetition": 0, "weights": weights, "data": data, "status": "ok", "message": "", "warmup": 0,
        "iterations": len(samples), "median_ms": median, "mean_ms": mean, "stddev_ms": stddev,
        "min_ms": min(samples), "max_ms": max(samples), "cv": stddev / mean if stddev is not None else None,
        "noise": "" if len(samples) > 1 else "one published figure",
        "items_per_s": items_per_s, "item_unit": f["item_unit"], "items_per_step": float(items_per_step),
        "flops_per_item": f["flops_per_item"], "tflops": f["flops_per_item"] * items_per_s / 1e12,
        "peak_tflops": None, "mfu": None, "steps_per_job": 1, "parameters": f["parameters"],
        "samples_ms": samples, "first_token_samples_ms": [],
        "device_name": device_facts["name"], "device_memory_bytes": device_facts["memory_bytes"],
        "hostname": host_facts["hostname"], "os": host_facts["os"], "cpu_model": host_facts["cpu_model"],
        "logical_cpus": host_facts["logical_cpus"], "physical_cores": host_facts["physical_cores"],
        "torch_version": host_facts["torch_version"], "graphs": "off", "graph_note": "",
        "tf32": False, "autocast": False, "deterministic": False, "cudnn_benchmark": False,
    }


def write_set(name, run, context, rows, citation, description, published):
    lines = ["{", ' "mlspeed_run_file": 1,',
             ' "run": ' + json.dumps(run, sort_keys=True) + ",",
             ' "citation": ' + json.dumps(citation) + ",",
             ' "published": ' + ("true" if published else "false") + ",",
             ' "description": ' + json.dumps(description) + ",",
             ' "context": ' + json.dumps(context, sort_keys=True) + ",",
             ' "rows": [', ",\n".join("  " + json.dumps(r) for r in rows), " ]", "}"]
    (OUT / (name + ".json")).write_text("\n".join(lines) + "\n")
    print(f"references/{name}.json: {len(rows)} rows")


def published_set(name, when, command, host_facts, devices, rows, citation, description):
    run = {"id": 0, "started_at": when, "finished_at": when, "status": "complete", "command": command,
           "kind": "run", "label": ""}
    context = {"started_at": when, "command": command, "host": host_facts, "devices": devices,
               "tf32_default": False, "deterministic": False, "cudnn_benchmark": False,
               "fp16_reduced_reduction": False}
    write_set(name, run, context, rows, citation, description, True)


def bert_sets(facts):
    when = "2023-01-20T00:00:00Z"  # the post's date; the measurements' own dates are not given
    command = "python: the BERT snippet of the post (transformers BertModel, 50 runs per configuration)"
    machines = [
        ("bert-m1pro", host("MacBook Pro (M1 Pro)", "macOS", "Apple M1 Pro (8-core CPU)", 8),
         [("cpu", device("cpu", "Apple M1 Pro (8-core CPU)")), ("mps", device("mps", "Apple M1 Pro (14-core GPU)"))],
         "BERT-base inference, MacBook Pro M1 Pro (8-core CPU, 14-core GPU): CPU and GPU (mps)"),
        ("bert-t4", host("Kaggle Notebook (T4)", "Linux", ""), [("t4", device("cuda:0", "Tesla T4"))],
         "BERT-base inference, Tesla T4 (Kaggle Notebooks)"),
        ("bert-p100", host("Kaggle Notebook (P100)", "Linux", ""), [("p100", device("cuda:0", "Tesla P100"))],
         "BERT-base inference, Tesla P100 (Kaggle Notebooks)"),
    ]
    for name, host_facts, columns, what in machines:
        rows = [published_row(facts, when, "bert-base-infer", dev, host_facts, batch, seq, [float(ms[column])],
                              "bert-base-uncased (Hugging Face)", "synthetic ([UNK] tokens)")
                for column, dev in columns for (batch, seq), ms in BERT_TABLE.items()]
        published_set(name, when, command, host_facts, [dev for _, dev in columns], rows, BERT_CITATION,
                      what + ". " + BERT_METHOD + ".")


def nanogpt_sets(facts):
    when = "2025-09-16T22:00:00Z"  # the post's date
    host_facts = host("MacBook (Apple silicon, chip not stated)", "macOS", "Apple silicon (not stated)",
                      torch="nightly (2025-09)")
    variants = [
        ("nanogpt-macbook-mps", "mps", "--device=mps --compile=False",
         "on an Apple-silicon MacBook's GPU (mps), eager"),
        ("nanogpt-macbook-mps-compile", "mps-compile", "--device=mps --compile=True",
         "on an Apple-silicon MacBook's GPU (mps) with torch.compile, which mlspeed does not time"),
        ("nanogpt-macbook-cpu", "cpu", "--device=cpu --compile=False", "on an Apple-silicon MacBook's CPU, eager"),
    ]
    for name, key, flags, what in variants:
        dev = (device("cpu", "Apple silicon CPU (not stated)") if key == "cpu"
               else device("mps", "Apple silicon GPU (not stated)"))
        rows = [published_row(facts, when, "nanogpt-shakespeare-char", dev, host_facts, 64, 256, NANOGPT_SAMPLES[key],
                              "random", "shakespeare_char (nanoGPT's prepare.py)")]
        command = "python train.py config/train_shakespeare_char.py " + flags
        published_set(name, when, command, host_facts, [dev], rows, NANOGPT_CITATION,
                      "nanoGPT shakespeare-char training " + what + ". " + NANOGPT_METHOD + ".")


def run_mlspeed(mlspeed, *args):
    return subprocess.run([mlspeed, *args], check=True, capture_output=True, text=True, cwd=ROOT).stdout


def mlspeed_sets(mlspeed):
    for name, folder, source, description in MLSPEED_RUNS:
        with tempfile.TemporaryDirectory() as tmp:
            if source[0] == "db":
                text = run_mlspeed(mlspeed, "export", source[2], "--db", source[1])
            else:
                rows = pathlib.Path(tmp, "rows.jsonl")
                rows.write_text("".join((ROOT / f).read_text() for f in source[1:]))
                db = str(pathlib.Path(tmp, "import.db"))
                run_mlspeed(mlspeed, "import", str(rows), "--db", db)
                text = run_mlspeed(mlspeed, "export", "1", "--db", db)
        exported = json.loads(text)
        if source[0] != "db":  # not the temporary import's command line and id
            exported["run"]["id"] = 0
            exported["run"]["command"] = "mlspeed show -o jsonl (the files of " + folder + ")"
        citation = folder + "/ in the mlspeed repository (see its README.md)"
        write_set(name, exported["run"], exported["context"], exported["rows"], citation, description, False)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    mlspeed = str(pathlib.Path(sys.argv[1]).resolve())
    OUT.mkdir(exist_ok=True)
    facts = workload_facts(mlspeed)
    bert_sets(facts)
    nanogpt_sets(facts)
    mlspeed_sets(mlspeed)


if __name__ == "__main__":
    main()
