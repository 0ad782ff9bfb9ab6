#!/usr/bin/env python3
"""mlspeed against the PyTorch yardstick, configuration by configuration.

    python3 scripts/speed_table.py --mlspeed-graphs A.jsonl [--mlspeed-eager B.jsonl] \\
        --pytorch DIR/pytorch.jsonl --out DIR [--device cuda:0]

(each of the three takes several files, e.g. yardstick runs split by workload).

A and B are `mlspeed show RUN -o jsonl` outputs (one JSON object per row): A the run with CUDA
graphs (graphs "step"/"token"), B the eager run (optional: without it the eager column is empty).
The PyTorch rows are scripts/pytorch_reference.py's (modes eager, compile, reduce-overhead). Rows
are matched on workload, size, dtype, batch, seq (mlspeed's seq_len) and new_tokens. The compared time is the median ms per step, except for
generation rows (new_tokens > 0), where it is ms per token: mlspeed's ms_per_token and the
yardstick's (a row without one falls back to its median / new_tokens, marked in speed.md).

Writes DIR/ratios.csv (columns: workload,size,dtype,batch,seq,new_tokens,mlspeed_graphs_ms,
mlspeed_eager_ms,pytorch_eager_ms,pytorch_compile_ms,pytorch_graphs_ms,best_pytorch_ms,ratio;
ratio = mlspeed_graphs_ms / best_pytorch_ms, best = the fastest PyTorch mode that succeeded;
empty where a side is missing) and DIR/speed.md (the same table with the best PyTorch mode, and
a line for every missing or failed row saying why); prints the markdown table to stdout.

Exit status: 0; 2 when an input file is missing or malformed, or rows of several devices
cannot be told apart (use --device).
"""
import argparse
import csv
import json
import os
import statistics
import sys

COLUMNS = ["workload", "size", "dtype", "batch", "seq", "new_tokens", "mlspeed_graphs_ms", "mlspeed_eager_ms",
           "pytorch_eager_ms", "pytorch_compile_ms", "pytorch_graphs_ms", "best_pytorch_ms", "ratio"]
SOURCES = [("mlspeed_graphs", "mlspeed (CUDA graphs)"), ("mlspeed_eager", "mlspeed (eager)"),
           ("pytorch_eager", "PyTorch eager"), ("pytorch_compile", "PyTorch torch.compile"),
           ("pytorch_graphs", "PyTorch reduce-overhead")]
PYTORCH_MODES = {"eager": "pytorch_eager", "compile": "pytorch_compile", "reduce-overhead": "pytorch_graphs"}


class InputError(Exception):
    pass


def read_jsonl(path, required, what):
    if not os.path.isfile(path):
        raise InputError(f"{what}: {path}: no such file")
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{what}: {path}:{number}: not JSON ({e.msg} at column {e.colno})")
            if not isinstance(row, dict):
                raise InputError(f"{what}: {path}:{number}: not a JSON object")
            missing = [k for k in required if k not in row]
            if missing:
                raise InputError(f"{what}: {path}:{number}: no field {', '.join(missing)}")
            for k in ("batch", "seq_len", "seq", "new_tokens"):
                if k in row and not isinstance(row[k], int):
                    raise InputError(f"{what}: {path}:{number}: {k} is {row[k]!r}, not an integer")
            if row.get("median_ms") is not None and not isinstance(row["median_ms"], (int, float)):
                raise InputError(f"{what}: {path}:{number}: median_ms is {row['median_ms']!r}, not a number")
            row["_where"] = f"{os.path.basename(path)}:{number}"
            rows.append(row)
    if not rows:
        raise InputError(f"{what}: {path}: no rows")
    return rows


def read_all(paths, required, what):
    return [row for path in paths for row in read_jsonl(path, required, what)]


def compared_ms(row):
    """(time, how): ms per token for generation rows, ms per step otherwise; None if not measured."""
    if row.get("status") != "ok" or row.get("median_ms") is None:
        return None, None
    n = row["new_tokens"]
    if n > 0:
        if row.get("ms_per_token") is not None:
            return float(row["ms_per_token"]), "ms/token"
        return float(row["median_ms"]) / n, "median/new_tokens"
    return float(row["median_ms"]), "ms/step"


def pick_device(rows, explicit, inferred, what):
    """The rows of one device: --device if given; else, when a file mixes devices, the yardstick's."""
    devices = sorted({r.get("device") for r in rows if r.get("device")})
    wanted = explicit or (inferred if len(devices) > 1 else None)
    if len(devices) > 1 and not wanted:
        raise InputError(f"{what}: rows of several devices ({', '.join(devices)}): choose one with --device")
    if not wanted:
        return rows
    kept = [r for r in rows if r.get("device") == wanted]
    if not kept:
        raise InputError(f"{what}: no rows on device {wanted} (devices: {', '.join(devices) or 'none'})")
    return kept


class Cell:
    """What one source says about one configuration: the times of its ok rows, or why none."""

    def __init__(self):
        self.times, self.hows, self.failures = [], set(), []

    def add(self, row):
        t, how = compared_ms(row)
        if t is None:
            status = row.get("status") or "?"
            self.failures.append(f"{status}: {row.get('message') or 'no message'} ({row['_where']})")
        else:
            self.times.append(t)
            self.hows.add(how)

    @property
    def value(self):
        return statistics.median(self.times) if self.times else None


def key_of(row, seq_field):
    return (row["workload"], row["size"], row["dtype"], row["batch"], row[seq_field], row["new_tokens"])


def fmt(x, digits=4):
    if x is None:
        return ""
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


def build(graphs_rows, eager_rows, pytorch_rows):
    table, order = {}, []

    def cell(key, source):
        if key not in table:
            table[key] = {s: Cell() for s, _ in SOURCES}
            order.append(key)
        return table[key][source]

    for row in graphs_rows:
        cell(key_of(row, "seq_len"), "mlspeed_graphs").add(row)
    for row in eager_rows:
        cell(key_of(row, "seq_len"), "mlspeed_eager").add(row)
    for row in pytorch_rows:
        source = PYTORCH_MODES.get(row["mode"])
        if source is None:
            raise InputError(f"PyTorch rows: {row['_where']}: unknown mode {row['mode']!r}")
        cell(key_of(row, "seq"), source).add(row)

    results = []
    for key in order:
        cells = table[key]
        values = {s: cells[s].value for s, _ in SOURCES}
        pytorch = {s: values[s] for s in PYTORCH_MODES.values() if values[s] is not None}
        best_source = min(pytorch, key=pytorch.get) if pytorch else None
        best = pytorch[best_source] if best_source else None
        ratio = values["mlspeed_graphs"] / best if best and values["mlspeed_graphs"] is not None else None
        mode = {v: k for k, v in PYTORCH_MODES.items()}.get(best_source)
        results.append(dict(key=key, values=values, best=best, best_mode=mode, ratio=ratio, cells=cells))
    return results


def write_csv(results, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in results:
            v = r["values"]
            w.writerow(list(r["key"]) + [fmt(v[s], 6) for s, _ in SOURCES] + [fmt(r["best"], 6), fmt(r["ratio"], 4)])


def markdown(results, graphs_rows, device_note):
    lines = [
        "| workload | size | dtype | batch | seq | new tokens | mlspeed graphs ms | mlspeed eager ms | PyTorch eager ms "
        "| PyTorch compile ms | PyTorch graphs ms | best PyTorch ms | best PyTorch mode | ratio |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|",
    ]
    for r in results:
        v = r["values"]
        name = r["key"][0] + (" (ms/token)" if r["key"][5] > 0 else "")
        cells = [name] + [str(x) for x in r["key"][1:]] + [fmt(v[s]) for s, _ in SOURCES]
        cells += [fmt(r["best"]), r["best_mode"] or "", fmt(r["ratio"], 3)]
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)

    notes = []
    for r in results:
        w, size, dtype, batch, seq, new = r["key"]
        label = f"{w} {size} {dtype} batch {batch} seq {seq}" + (f" new_tokens {new}" if new else "")
        for source, title in SOURCES:
            c = r["cells"][source]
            if c.failures and not c.times:
                for failure in c.failures:
                    notes.append(f"- {label}: {title}: {failure}")
            elif not c.times:
                notes.append(f"- {label}: {title}: no row")
            if "median/new_tokens" in c.hows:
                notes.append(f"- {label}: {title}: no ms_per_token in the row; compared median_ms / new_tokens")
    graphs_values = sorted({str(r.get("graphs")) for r in graphs_rows})
    head = [
        "# mlspeed against the PyTorch yardstick",
        "",
        "Times in milliseconds: the median per step, and for generation rows (new tokens > 0, marked "
        "\"(ms/token)\") the milliseconds per generated token after the first. ratio = mlspeed graphs ms / "
        "best PyTorch ms (below 1: mlspeed is faster); best = the fastest PyTorch mode that succeeded "
        "(eager, torch.compile, torch.compile mode=reduce-overhead).",
        "",
        f"mlspeed graphs file: graphs = {', '.join(graphs_values)}.{device_note}",
        "",
        "",
    ]
    tail = ["", "## Missing or failed rows", ""] + (notes or ["None."])
    return table, "\n".join(head) + table + "\n" + "\n".join(tail) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--mlspeed-graphs", required=True, nargs="+", metavar="JSONL",
                   help="mlspeed show RUN -o jsonl of the run with CUDA graphs (several files: their rows together)")
    p.add_argument("--mlspeed-eager", nargs="+", default=[], metavar="JSONL",
                   help="mlspeed show RUN -o jsonl of the eager run (left out: the eager column is empty)")
    p.add_argument("--pytorch", required=True, nargs="+", metavar="JSONL",
                   help="the yardstick's pytorch.jsonl (several, from runs split by workload)")
    p.add_argument("--out", required=True, help="folder for ratios.csv and speed.md")
    p.add_argument("--device", help="only rows of this device (mlspeed's device field, e.g. cuda:0)")
    args = p.parse_args(argv)
    mlspeed_required = ("workload", "size", "dtype", "batch", "seq_len", "new_tokens", "status", "median_ms")
    pytorch_required = ("workload", "size", "dtype", "batch", "seq", "new_tokens", "mode", "status", "median_ms")
    try:
        pytorch_rows = read_all(args.pytorch, pytorch_required, "PyTorch rows")
        graphs_rows = read_all(args.mlspeed_graphs, mlspeed_required, "mlspeed graphs rows")
        eager_rows = read_all(args.mlspeed_eager, mlspeed_required, "mlspeed eager rows")
        pytorch_rows = pick_device(pytorch_rows, args.device, None, "PyTorch rows")
        devices = {r.get("device") for r in pytorch_rows if r.get("device")}
        device = args.device or (devices.pop() if len(devices) == 1 else None)
        graphs_rows = pick_device(graphs_rows, args.device, device, "mlspeed graphs rows")
        if eager_rows:
            eager_rows = pick_device(eager_rows, args.device, device, "mlspeed eager rows")
        results = build(graphs_rows, eager_rows, pytorch_rows)
    except InputError as e:
        print(f"speed_table: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    write_csv(results, os.path.join(args.out, "ratios.csv"))
    device_note = f" Device: {device}." if device else ""
    table, document = markdown(results, graphs_rows, device_note)
    with open(os.path.join(args.out, "speed.md"), "w") as f:
        f.write(document)
    print(table)
    compared = sum(r["ratio"] is not None for r in results)
    print(f"speed_table: {len(results)} configurations, {compared} with a ratio; {args.out}/ratios.csv, "
          f"{args.out}/speed.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
