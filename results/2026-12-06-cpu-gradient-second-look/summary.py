"""The gradients rows of run.sh's two runs as a table: outcome, how many parameters passed only
by the second look, and the share of its allowance the closest one used (the fault: how far past
the allowance its worst parameter was)."""
import json, re, sys

def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]

def main(jitter, fault):
    print("| run | workload | seed | gradients row | passed by the second look | error / tolerance |")
    print("| :-- | :-- | --: | :-- | --: | --: |")
    for label, path in (("rounding-jitter", jitter), ("batch-norm fault", fault)):
        seed = {}
        for r in rows(path):
            if r.get("pass") != "gradients":
                continue
            key = r["check"]
            seed[key] = seed.get(key, -1) + 1  # run.sh runs the seeds in order, from 0
            m = re.search(r", (\d+) of them by the second look", r.get("message", ""))
            beyond = re.search(r"relative rms error ([0-9.e+-]+), allowed 3 x S = ([0-9.e+-]+)", r.get("tolerance", ""))
            ratio = r.get("error_ratio")
            if r["outcome"] == "fail" and beyond:
                ratio = float(beyond.group(1)) / float(beyond.group(2))
            print(f"| {label} | {key} | {seed[key]} | {r['outcome']} | {m.group(1) if m else 0} | "
                  f"{ratio:.3g} |")

main(*sys.argv[1:])
