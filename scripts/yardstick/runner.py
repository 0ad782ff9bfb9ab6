"""The yardstick's command line: every workload x dtype x mode x shape, one JSON row each."""
import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import traceback

import torch

from . import allocator, common
from .profile import profile_iterations
from .common import (DTYPES, HERE, MODES, HarnessError, Unavailable, compile_available, compile_events,
                     cudagraph_skips, free_memory, measure, median, reset_compiler, set_tf32, warm_up)

REPO = os.path.dirname(os.path.dirname(HERE))

USAGE_EXIT, ERROR_EXIT, INTERRUPT_EXIT = 2, 1, 130


def catalogue():
    """mlspeed's catalogue, in its order (src/mlspeed/workloads/catalogue.cpp)."""
    from . import generation, hf_text, nanogpt, sd15, small_transformer, vision

    workloads = (vision.workloads() + hf_text.workloads()[:1] + small_transformer.workloads() + nanogpt.workloads()
                 + hf_text.workloads()[1:] + sd15.workloads() + generation.workloads())
    return {w.name: w for w in workloads}


def parse_list(text, choices, what):
    items = [x.strip() for x in text.split(",") if x.strip()]
    if not items:
        raise SystemExit(usage_error(f"--{what}: empty list"))
    if items == ["all"]:
        return list(choices)
    for x in items:
        if x not in choices:
            raise SystemExit(usage_error(f"--{what}: unknown '{x}'; choose from {', '.join(choices)}"))
    return items


def usage_error(message):
    print(f"pytorch_reference: {message}", file=sys.stderr)
    return USAGE_EXIT


def parse_args(argv, workloads):
    p = argparse.ArgumentParser(
        prog="pytorch_reference.py",
        description="The yardstick for mlspeed: PyTorch itself running the peers' code (nanoGPT, transformers, "
                    "diffusers, torchvision) for every workload of mlspeed's catalogue, eager and compiled, "
                    "timed as mlspeed times.")
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (default cuda)")
    p.add_argument("--out", required=True, help="folder for pytorch.jsonl and pytorch-context.json")
    p.add_argument("--workloads", default="all", help="comma list, or all (default): " + ", ".join(workloads))
    p.add_argument("--sizes", default="full",
                   help="comma list of mlspeed's sizes (default full); a workload without the size skips it: "
                        "tiny (nanoGPT, gpt2-train, small transformer, SD UNet, Llama), small (SD UNet, Llama), "
                        "medium (Llama)")
    p.add_argument("--dtypes", default="fp32", help="comma list of fp32, tf32, bf16, fp16 (default fp32)")
    p.add_argument("--modes", default=",".join(MODES), help="comma list of eager, compile, reduce-overhead (all)")
    p.add_argument("--batch", default="", help="comma list: only the default shapes of these batch sizes")
    p.add_argument("--seq", default="", help="comma list: only the default shapes of these sequence lengths")
    p.add_argument("--min-time", type=float, default=2.0, help="seconds of timed iterations, at least 3 (2)")
    p.add_argument("--warmup", type=int, default=1,
                   help="untimed iterations in eager mode (1, as mlspeed); compiled modes warm up until "
                        "compilation is done (at least 3, 5 with CUDA graphs)")
    p.add_argument("--peers", default=os.path.join(REPO, ".peers"),
                   help="folder holding nanoGPT/ and diffusers/src (default .peers in the repository)")
    p.add_argument("--allow-errors", action="store_true",
                   help="exit 0 even if rows failed inside the peers' code or torch (compilation, CUDA graphs, "
                        "out of memory) or a peer did not import; the yardstick's own failures still exit 1")
    p.add_argument("--append", action="store_true",
                   help="add to DIR/pytorch.jsonl instead of starting it anew (runs split by workload)")
    p.add_argument("--profile", default="", metavar="DIR",
                   help="after timing each configuration, profile 5 more iterations with torch.profiler and write "
                        "DIR/<configuration>.trace.json (compare with mlspeed run --profile: "
                        "scripts/profile_compare.py)")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads (torch.set_num_threads), as mlspeed's --threads (default: torch's own)")
    p.add_argument("--malloc-defaults", action="store_true",
                   help="leave glibc's allocator at its defaults (read by pytorch_reference.py before torch is "
                        "imported; the default keeps freed memory for reuse, as mlspeed does)")
    p.add_argument("--list", action="store_true", help="print the workloads and their shapes, and exit")
    args = p.parse_args(argv)
    args.workloads = parse_list(args.workloads, list(workloads), "workloads")
    args.dtypes = parse_list(args.dtypes, list(DTYPES), "dtypes")
    all_sizes = ["full", "tiny", "small", "medium"]
    args.sizes = parse_list(args.sizes, all_sizes, "sizes")
    args.modes = parse_list(args.modes, list(MODES), "modes")
    try:
        args.batch = [int(x) for x in args.batch.split(",") if x]
        args.seq = [int(x) for x in args.seq.split(",") if x]
    except ValueError:
        raise SystemExit(usage_error("--batch and --seq take comma lists of whole numbers"))
    if args.min_time < 0 or args.warmup < 0:
        raise SystemExit(usage_error("--min-time and --warmup must not be negative"))
    if args.threads < 0:
        raise SystemExit(usage_error(f"--threads {args.threads}: a thread count is at least 1 (0: torch's own)"))
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def resolve_device(text):
    try:
        device = torch.device(text)
    except RuntimeError as e:
        raise SystemExit(usage_error(f"--device: {e}"))
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit(usage_error(f"--device {text}: this torch ({torch.__version__}) sees no CUDA device"))
        index = device.index if device.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise SystemExit(usage_error(f"--device {text}: only {torch.cuda.device_count()} CUDA devices"))
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    if device.type != "cpu":
        raise SystemExit(usage_error(f"--device {text}: cpu or cuda[:N]"))
    return device


def context(args, device):
    ctx = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "command": [sys.executable] + sys.argv,
        "device": str(device),
        "min_time_s": args.min_time,
        "warmup_eager": args.warmup,
        "peers_dir": os.path.abspath(args.peers),
        "cpu_threads": torch.get_num_threads(),
        "cpu_memory": allocator.description(),
    }
    ctx.update(common.peer_versions())
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        ctx.update(gpu=props.name, gpu_memory_bytes=props.total_memory,
                   compute_capability=f"{props.major}.{props.minor}", multiprocessors=props.multi_processor_count,
                   cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                   cudnn_benchmark=torch.backends.cudnn.benchmark,
                   tf32="off for fp32, on for tf32 (torch.backends.cuda.matmul.allow_tf32, cudnn.allow_tf32)")
        matmul = torch.backends.cuda.matmul
        for flag in ("allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction"):
            if hasattr(matmul, flag):
                ctx[f"cublas_{flag}"] = getattr(matmul, flag)
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader",
                                  f"--id={device.index}"], capture_output=True, text=True, timeout=20)
            ctx["driver"] = out.stdout.strip() or None
        except Exception:
            ctx["driver"] = None
    return ctx


def error_kind(exc):
    """harness: the yardstick's own check or a failure raised in its own code; oom: the device ran
    out of memory; peer: anything raised inside torch, transformers, diffusers, nanoGPT."""
    if isinstance(exc, HarnessError):
        return "harness"
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if (oom is not None and isinstance(exc, oom)) or "out of memory" in str(exc).lower():
        return "oom"
    last = None
    tb = exc.__traceback__
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    if last and os.path.abspath(last).startswith(HERE + os.sep):
        return "harness"
    return "peer"


def one_line(exc):
    text = f"{type(exc).__name__}: {exc}".strip()
    lines = [line for line in text.splitlines() if line.strip()]
    text = " | ".join(lines[:6])
    return text[:2000]


class Rows:
    def __init__(self, path, append):
        self.file = open(path, "a" if append else "w")
        self.rows = []

    def add(self, row):
        self.rows.append(row)
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()

    def close(self):
        self.file.close()


def base_row(workload, size, dtype, mode, shape, device):
    return dict(workload=workload.name, size=size, dtype=dtype, batch=shape.batch, seq=shape.seq,
                new_tokens=shape.new_tokens, mode=mode, device=str(device), job=workload.job,
                peer="; ".join(workload.peers), status=None, message="", error_kind=None, median_ms=None,
                iterations=0, warmup=0, samples_ms=[], first_token_ms=None, first_token_samples_ms=[],
                ms_per_token=None, tokens_per_s=None, items_per_s=None, item_unit=None, peak_memory_bytes=None,
                profile=None)


def run_configuration(session, workload, size, dtype, mode, shape, device, args):
    row = base_row(workload, size, dtype, mode, shape, device)
    step = None
    try:
        reset_compiler()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        step = session.prepare(shape, mode)
        before, skips_before = compile_events(), cudagraph_skips()
        warmups, _, settled = warm_up(step.run, device, mode, args.warmup)
        notes = [step.note] if step.note else []
        if mode != "eager":
            if compile_events() == before:
                raise HarnessError(f"mode {mode}: torch.compile compiled nothing during {warmups} warm-ups")
            if not settled:
                notes.append(f"still compiling after {warmups} warm-ups")
        samples = measure(step.run, device, args.min_time)
        row.update(status="ok", warmup=warmups, iterations=len(samples), samples_ms=samples,
                   median_ms=median(samples), item_unit=step.item_unit)
        row["items_per_s"] = step.items / (row["median_ms"] / 1e3)
        if step.item_unit == "tokens" and shape.new_tokens == 0:
            row["tokens_per_s"] = row["items_per_s"]
        if step.first_token is not None and shape.new_tokens > 0:
            warm_up(step.first_token, device, mode, 1)
            first = measure(step.first_token, device, args.min_time / 2)
            row.update(first_token_ms=median(first), first_token_samples_ms=first)
            if shape.new_tokens > 1:
                per_token = (row["median_ms"] - row["first_token_ms"]) / (shape.new_tokens - 1)
            else:
                per_token = row["median_ms"]
            if per_token > 0:
                row.update(ms_per_token=per_token, tokens_per_s=1e3 / per_token)
            else:
                notes.append("generate(1 token) took as long as the whole call: no per-token time")
        if mode == "reduce-overhead":
            skips = {k: v - skips_before.get(k, 0) for k, v in cudagraph_skips().items()
                     if "cudagraph" in k and "skip" in k and v > skips_before.get(k, 0)}
            if skips:
                notes.append(f"inductor skipped CUDA graphs ({skips}; TORCH_LOGS=perf_hints says why)")
        if device.type == "cuda":
            row["peak_memory_bytes"] = torch.cuda.max_memory_allocated(device)
        if args.profile:
            row["profile"] = profile_iterations(step.run, device, args.profile, row)
        row["message"] = "; ".join(notes)
    except KeyboardInterrupt:
        raise
    except Exception as e:
        row.update(status="error", error_kind=error_kind(e), message=one_line(e), samples_ms=[])
        traceback.print_exc(file=sys.stderr)
    finally:
        step = None
    return row


def chosen_shapes(workload, size, args):
    """The workload's default shapes, narrowed by --batch and --seq."""
    return [s for s in workload.shapes(size)
            if (not args.batch or s.batch in args.batch) and (not args.seq or s.seq in args.seq)]


def progress(done, total, row):
    what = f"{row['workload']} {row['size']} {row['dtype']} {row['mode']} batch {row['batch']}"
    if row["seq"]:
        what += f" seq {row['seq']}"
    if row["new_tokens"]:
        what += f" new_tokens {row['new_tokens']}"
    if row["status"] == "ok":
        result = f"{row['median_ms']:.3f} ms (median of {row['iterations']}, {row['warmup']} warm-ups)"
        if row["ms_per_token"] is not None:
            result += f", {row['ms_per_token']:.3f} ms/token, first token {row['first_token_ms']:.3f} ms"
    else:
        result = f"{row['status']}" + (f" [{row['error_kind']}]" if row["error_kind"] else "") + f": {row['message']}"
    print(f"[{done}/{total}] {what}: {result}", file=sys.stderr, flush=True)


def failed_rows(workload, size, dtype, modes, device, exc, shapes):
    """Rows for every mode and shape of a model that could not be built."""
    rows = []
    for mode in modes:
        for shape in shapes:
            row = base_row(workload, size, dtype, mode, shape, device)
            if isinstance(exc, Unavailable) and not (exc.missing_peer and device.type == "cuda"):
                row.update(status="unavailable", message=str(exc))
            elif isinstance(exc, Unavailable):
                row.update(status="error", error_kind="missing-peer", message=str(exc))
            else:
                row.update(status="error", error_kind=error_kind(exc), message=one_line(exc))
            rows.append(row)
    return rows


def summary_table(rows):
    lines = ["| workload | size | dtype | batch | seq | new tokens | mode | status | median ms | ms/token | note |",
             "|---|---|---|--:|--:|--:|---|---|--:|--:|---|"]
    for r in rows:
        med = f"{r['median_ms']:.3f}" if r["median_ms"] is not None else ""
        mpt = f"{r['ms_per_token']:.3f}" if r["ms_per_token"] is not None else ""
        note = (r["message"] or "").replace("|", "/")[:160]
        lines.append(f"| {r['workload']} | {r['size']} | {r['dtype']} | {r['batch']} | {r['seq']} | {r['new_tokens']} | "
                     f"{r['mode']} | {r['status']} | {med} | {mpt} | {note} |")
    return "\n".join(lines)


def main(argv=None):
    workloads = catalogue()
    args = parse_args(sys.argv[1:] if argv is None else argv, workloads)
    if args.list:
        for name, w in workloads.items():
            shapes = "; ".join(f"{size}: {', '.join(map(repr, w.shapes(size)))}" for size in w.sizes)
            print(f"{name} ({w.job}): {'; '.join(w.peers)}. Sizes: {shapes}")
        return 0
    device = resolve_device(args.device)
    selected = [(workloads[name], size) for name in workloads if name in args.workloads
                for size in args.sizes if size in workloads[name].sizes]
    if not selected:
        raise SystemExit(usage_error(f"no workload of {', '.join(args.workloads)} has size {', '.join(args.sizes)}"))
    common.set_peers_dir(args.peers)
    os.makedirs(args.out, exist_ok=True)
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
    ctx = context(args, device)
    context_file = os.path.join(args.out, "pytorch-context.json")
    if args.append and os.path.isfile(context_file):  # keep every run's context
        context_file = os.path.join(args.out, f"pytorch-context-{ctx['date'].replace(':', '')}.json")
    with open(context_file, "w") as f:
        json.dump(ctx, f, indent=2)
    print(f"yardstick: torch {ctx['torch']} on {ctx.get('gpu', device)}; transformers {ctx['transformers']}; "
          f"diffusers {ctx['diffusers']}; torchvision {ctx['torchvision']}", file=sys.stderr, flush=True)

    total = sum(len(chosen_shapes(w, size, args)) for w, size in selected) * len(args.dtypes) * len(args.modes)
    rows = Rows(os.path.join(args.out, "pytorch.jsonl"), args.append)
    done = 0
    try:
        for w, size in selected:
            for dtype in args.dtypes:
                set_tf32(dtype)
                session = None
                try:
                    session = w.open(device, dtype, size)
                except KeyboardInterrupt:
                    raise
                except Exception as e:
                    if not isinstance(e, Unavailable):
                        traceback.print_exc(file=sys.stderr)
                    for row in failed_rows(w, size, dtype, args.modes, device, e, chosen_shapes(w, size, args)):
                        rows.add(row)
                        done += 1
                        progress(done, total, row)
                    free_memory(device)
                    continue
                for mode in args.modes:
                    reason = compile_available(device, mode)
                    for shape in chosen_shapes(w, size, args):
                        if reason:
                            row = base_row(w, size, dtype, mode, shape, device)
                            row.update(status="unavailable", message=reason)
                        else:
                            row = run_configuration(session, w, size, dtype, mode, shape, device, args)
                        rows.add(row)
                        done += 1
                        progress(done, total, row)
                session.close()
                session = None
                free_memory(device)
    except KeyboardInterrupt:
        print(f"yardstick: interrupted; {len(rows.rows)} rows kept in {args.out}/pytorch.jsonl", file=sys.stderr)
        rows.close()
        return INTERRUPT_EXIT
    rows.close()

    print(summary_table(rows.rows))
    errors = [r for r in rows.rows if r["status"] == "error"]
    harness = [r for r in errors if r["error_kind"] == "harness"]
    counts = {s: sum(r["status"] == s for r in rows.rows) for s in ("ok", "error", "unavailable")}
    print(f"yardstick: {counts['ok']} ok, {counts['error']} error ({len(harness)} the yardstick's own), "
          f"{counts['unavailable']} unavailable; rows in {args.out}/pytorch.jsonl", file=sys.stderr)
    if harness or (errors and not args.allow_errors):
        return ERROR_EXIT
    return 0
