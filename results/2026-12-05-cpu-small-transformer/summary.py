#!/usr/bin/env python3
"""Pairs series.sh's runs (the n-th mlspeed run of a batch size with the n-th yardstick run of it)
and prints, per batch size, each pair's ratio of medians (mlspeed's time over PyTorch's: below 1,
mlspeed faster), their median and range, and each side's samples pooled over the pairs.

    python3 summary.py MLSPEED.jsonl PYTORCH.jsonl
"""
import json
import statistics
import sys


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def by_batch(items):
    out = {}
    for r in items:
        if r.get("workload") == "small-transformer-imdb" and r.get("status") == "ok":
            out.setdefault(int(r["batch"]), []).append(r)
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: summary.py MLSPEED.jsonl PYTORCH.jsonl")
    ours, theirs = by_batch(rows(sys.argv[1])), by_batch(rows(sys.argv[2]))
    print("| batch | pairs | ratio per pair | median ratio | range | mlspeed samples: median (p10-p90) | "
          "PyTorch samples: median (p10-p90) |")
    print("| --: | --: | :--- | --: | :--- | :--- | :--- |")
    for batch in sorted(ours):
        pairs = list(zip(ours[batch], theirs.get(batch, [])))
        if not pairs:
            continue
        ratios = [m["median_ms"] / p["median_ms"] for m, p in pairs]
        pooled = []
        for side in (0, 1):
            samples = sorted(s for pair in pairs for s in pair[side]["samples_ms"])
            deciles = statistics.quantiles(samples, n=10)
            pooled.append(f"{statistics.median(samples):.1f} ms ({deciles[0]:.1f}-{deciles[-1]:.1f}), n={len(samples)}")
        print(f"| {batch} | {len(pairs)} | {', '.join(f'{r:.2f}' for r in ratios)} | {statistics.median(ratios):.2f} | "
              f"{min(ratios):.2f}-{max(ratios):.2f} | {pooled[0]} | {pooled[1]} |")


if __name__ == "__main__":
    main()
