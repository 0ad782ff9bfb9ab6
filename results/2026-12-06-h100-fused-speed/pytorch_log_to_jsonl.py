#!/usr/bin/env python3
"""pytorch.jsonl again from pytorch.log, the yardstick's markdown table of the same rows: the call's
pytorch.jsonl did not come back from the GPU machine (a call returns at most 8 files; it was the
ninth). Fields as scripts/speed_table.py reads them; the device is the call's, cuda:0.
    python3 pytorch_log_to_jsonl.py pytorch.log > pytorch.jsonl"""
import json
import sys

rows = [line.strip().strip("|").split("|") for line in open(sys.argv[1]) if line.startswith("| ")]
header = [c.strip() for c in rows[0]]
for cells in rows[1:]:
    r = dict(zip(header, (c.strip() for c in cells)))
    print(json.dumps({"workload": r["workload"], "size": r["size"], "dtype": r["dtype"], "batch": int(r["batch"]),
                      "seq": int(r["seq"]), "new_tokens": int(r["new tokens"]), "mode": r["mode"],
                      "status": r["status"], "median_ms": float(r["median ms"]) if r["median ms"] else None,
                      "device": "cuda:0"}))
