#!/usr/bin/env python3
"""Is the energy a row reports repeatable? Two runs of the same configurations, row by row.

    python3 scripts/energy_repeatability.py FIRST.jsonl SECOND.jsonl [--time-within PCT] [--energy-within PCT]

FIRST and SECOND are `mlspeed show RUN -o jsonl` of two runs of the same configurations (the
quick suite twice in one lease). Rows are matched on what makes a configuration (workload, size,
device, dtype, weight format, kernels, batch, seq, new tokens, depth). A pair whose median time
moved by at most --time-within percent (default 1) ran the same work at the same speed; its
joules per item must then agree within --energy-within percent (default 3). A pair whose time
moved more says nothing about energy and is listed, not judged.

Prints a markdown table (time and J/item of each run, both changes, the verdict) and a summary.

Exit status: 0 when every judged pair agrees and every row carries energy; 1 when a judged pair
differs beyond --energy-within, a row has no energy (its energy_note says why), or a
configuration is in one run only; 2 when an input is missing or malformed.
"""
import argparse
import sys

from speed_table import InputError, read_jsonl  # one JSONL reader for the scripts' inputs

KEY = ["workload", "size", "device", "dtype", "weight_format", "kernels", "batch", "seq_len", "new_tokens", "depth"]


def configuration(row):
    return tuple(row.get(k) for k in KEY)


def label(row):
    shape = f"b{row.get('batch')}" + (f" s{row['seq_len']}" if row.get("seq_len") else "") + \
            (f" g{row['new_tokens']}" if row.get("new_tokens") else "")
    return f"{row.get('workload')} {row.get('device')} {row.get('dtype')} {shape}"


def change(a, b):
    return abs(b / a - 1.0) * 100.0 if a else float("inf")


def judge(first, second, time_within, energy_within):
    """(markdown lines, problems, judged): one line per configuration, the problems that fail the
    check, and how many pairs were judged."""
    lines = ["| row | ms 1 | ms 2 | time change | J/item 1 | J/item 2 | energy change | verdict |",
             "| :-- | --: | --: | --: | --: | --: | --: | :-- |"]
    problems, judged = [], 0
    a_rows = {configuration(r): r for r in first if r.get("status") == "ok"}
    b_rows = {configuration(r): r for r in second if r.get("status") == "ok"}
    for key in sorted(set(a_rows) | set(b_rows), key=str):
        a, b = a_rows.get(key), b_rows.get(key)
        if a is None or b is None:
            problems.append(f"{label(a or b)}: in one run only")
            continue
        missing = [r for r in (a, b) if not r.get("joules_per_item")]
        if missing:
            problems.append(f"{label(a)}: no energy ({missing[0].get('energy_note') or 'no reason given'})")
            continue
        dt = change(a["median_ms"], b["median_ms"])
        de = change(a["joules_per_item"], b["joules_per_item"])
        judged += dt <= time_within
        if dt > time_within:
            verdict = f"not judged: time moved more than {time_within:g}%"
        elif de <= energy_within:
            verdict = "same"
        else:
            verdict = f"DIFFERS: energy moved more than {energy_within:g}%"
            problems.append(f"{label(a)}: J/item moved {de:.2f}% while the time moved {dt:.2f}%")
        lines.append(f"| {label(a)} | {a['median_ms']:.4g} | {b['median_ms']:.4g} | {dt:.2f}% | "
                     f"{a['joules_per_item']:.4g} | {b['joules_per_item']:.4g} | {de:.2f}% | {verdict} |")
    return lines, problems, judged


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--time-within", type=float, default=1.0)
    p.add_argument("--energy-within", type=float, default=3.0)
    args = p.parse_args(argv)
    try:
        required = ["workload", "device", "dtype", "status", "median_ms"]
        first = read_jsonl(args.first, required, "FIRST")
        second = read_jsonl(args.second, required, "SECOND")
    except InputError as e:
        print(f"energy_repeatability: {e}", file=sys.stderr)
        return 2
    lines, problems, judged = judge(first, second, args.time_within, args.energy_within)
    print("\n".join(lines))
    print(f"\n{judged} configurations judged (time within {args.time_within:g}%), "
          f"{len(problems)} problem(s)" + "".join(f"\n- {p}" for p in problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
