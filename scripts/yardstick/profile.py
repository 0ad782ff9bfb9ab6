"""--profile: a few more iterations of a configuration under torch.profiler, after it was timed,
written as a Chrome trace beside mlspeed's own (mlspeed run --profile) so that
scripts/profile_compare.py can set the two side by side, kernel by kernel."""
import json
import os

import torch

PROFILE_STEPS = 5  # as mlspeed run --profile


def trace_name(row):
    """A file name for the row: "bert-base-infer-full-bf16-compile-b4-s512"."""
    name = f"{row['workload']}-{row['size']}-{row['dtype']}-{row['mode']}-b{row['batch']}"
    if row["seq"]:
        name += f"-s{row['seq']}"
    if row["new_tokens"]:
        name += f"-g{row['new_tokens']}"
    return name + ".trace.json"


def profile_iterations(fn, device, folder, row):
    """Runs `fn` PROFILE_STEPS times under the profiler; writes the trace with the step count in
    an "mlspeed" entry (as mlspeed's traces carry it); returns the trace's path."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(PROFILE_STEPS):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    path = os.path.join(folder, trace_name(row))
    prof.export_chrome_trace(path)
    with open(path) as f:
        trace = json.load(f)
    if isinstance(trace, list):  # torch built without Kineto (Debian's 1.13) writes the bare event list
        trace = {"traceEvents": trace}
    label = f"PyTorch {row['mode']}: {row['workload']} {row['size']} {row['dtype']} b={row['batch']}"
    trace["mlspeed"] = {"steps": PROFILE_STEPS, "label": label}
    with open(path + ".partial", "w") as f:
        json.dump(trace, f)
    os.replace(path + ".partial", path)
    return path
