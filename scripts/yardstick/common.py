"""What every workload of the yardstick shares: precisions, peers on sys.path, compilation, timing."""
import contextlib
import gc
import inspect
import os
import statistics
import sys
import time
import warnings

import torch

DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
MODES = ("eager", "compile", "reduce-overhead")
HERE = os.path.dirname(os.path.abspath(__file__))  # scripts/yardstick: frames here are the yardstick's own


class Unavailable(Exception):
    """This configuration cannot run here (no torch.compile, a dtype this torch cannot autocast on
    the device, ...): an "unavailable" row with the reason. `missing_peer`: a peer that does not
    import, "unavailable" on the CPU (Debian has no transformers) but an error on CUDA, where the
    yardstick is meant to run everything."""

    def __init__(self, message, missing_peer=False):
        super().__init__(message)
        self.missing_peer = missing_peer


class HarnessError(AssertionError):
    """The yardstick's own check failed (a parameter count, a timestep, nothing compiled):
    always fails the run."""


class Shape:
    def __init__(self, batch, seq=0, new_tokens=0):
        self.batch, self.seq, self.new_tokens = batch, seq, new_tokens

    def __repr__(self):
        text = f"batch {self.batch}"
        if self.seq:
            text += f" seq {self.seq}"
        if self.new_tokens:
            text += f" new_tokens {self.new_tokens}"
        return text


class Step:
    """One timed iteration (`run`), what it processes (`items` of `item_unit`), for generation a
    second callable (`first_token`: the same call with one new token) timed on its own, and a note
    for the row."""

    def __init__(self, run, items, item_unit, first_token=None, note=""):
        self.run, self.items, self.item_unit, self.first_token, self.note = run, items, item_unit, first_token, note


# ---------------------------------------------------------------------------------------------
# Peers: their source trees under --peers (nanoGPT/, diffusers/src), imported from there.

_peers_dir = None


def set_peers_dir(path):
    global _peers_dir
    _peers_dir = os.path.abspath(path)
    # Packages a machine may lack (--peers/site), after everything installed: an installed one wins.
    site = os.path.join(_peers_dir, "site")
    if os.path.isdir(site) and site not in sys.path:
        sys.path.append(site)


def peer_path(*parts):
    return os.path.join(_peers_dir, *parts)


def import_nanogpt():
    """nanoGPT's own model.py (--peers/nanoGPT/model.py)."""
    folder = peer_path("nanoGPT")
    if not os.path.isfile(os.path.join(folder, "model.py")):
        raise Unavailable(f"nanoGPT is not at {folder} (model.py): fetch karpathy/nanoGPT there", True)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import model as nanogpt_model  # noqa: E402  (nanoGPT's module is called model)

    if not hasattr(nanogpt_model, "GPTConfig"):
        raise HarnessError(f"'model' imported from {nanogpt_model.__file__}, not nanoGPT's model.py")
    return nanogpt_model


def import_diffusers():
    """diffusers from its source tree (--peers/diffusers/src), or an installed one."""
    src = peer_path("diffusers", "src")
    if os.path.isdir(src) and src not in sys.path:
        sys.path.insert(0, src)
    try:
        import diffusers
    except Exception as e:  # ImportError, or an AttributeError of a diffusers too new for this torch
        raise Unavailable(f"diffusers does not import with torch {torch.__version__}: {type(e).__name__}: {e}", True)
    return diffusers


def import_transformers():
    try:
        import transformers
    except Exception as e:
        raise Unavailable(f"transformers does not import here: {type(e).__name__}: {e}", True)
    return transformers


def peer_versions():
    """Versions of everything the yardstick may run, without failing on what is missing."""
    out = {"torch": torch.__version__}
    for name in ("torchvision", "transformers", "huggingface_hub", "safetensors"):
        try:
            out[name] = __import__(name).__version__
        except Exception as e:
            out[name] = f"unavailable ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})"
    try:
        out["diffusers"] = import_diffusers().__version__
        out["diffusers_path"] = os.path.dirname(sys.modules["diffusers"].__file__)
    except Unavailable as e:
        out["diffusers"] = f"unavailable ({e})"
    for peer in ("nanoGPT", "diffusers"):
        stamp = peer_path(peer, "PEER_COMMIT")
        if os.path.isfile(stamp):
            out[f"{peer}_source"] = open(stamp).read().strip()
    return out


# ---------------------------------------------------------------------------------------------
# Precision: TF32 flags, autocast, GradScaler.

def set_tf32(dtype_name):
    """fp32 means fp32 (as mlspeed); tf32 lets matrix products and convolutions use TF32."""
    allow = dtype_name == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = allow
    torch.backends.cudnn.allow_tf32 = allow


def autocast_dtype(dtype_name):
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype_name)


def autocast(device, dtype_name):
    """Autocast for fp16/bf16 training (as mlspeed and nanoGPT's train.py), nothing for fp32/tf32.
    Raises Unavailable where this torch cannot autocast to that dtype on the device."""
    dtype = autocast_dtype(dtype_name)
    if dtype is None:
        return contextlib.nullcontext
    why = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.autocast(device_type=device.type, dtype=dtype):
                enabled = torch.is_autocast_cpu_enabled() if device.type == "cpu" else torch.is_autocast_enabled()
        except RuntimeError as e:  # torch 1.13 on the CPU: "AutocastCPU only support Bfloat16"
            enabled, why = False, str(e)
    if not enabled:
        why = why or "; ".join(str(w.message) for w in caught) or "autocast disabled itself"
        raise Unavailable(f"torch {torch.__version__} cannot autocast to {dtype_name} on {device.type}: {why}")
    return lambda: torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(device, dtype_name):
    """The GradScaler of fp16 training (a no-op one otherwise), as nanoGPT's train.py makes it."""
    enabled = dtype_name == "fp16"
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler(device.type, enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled and device.type == "cuda")


def classifier_step(model, optimizer, scaler, ctx, inputs, labels):
    """The seeds' training loop for a classifier (ResNet-50, the Keras small transformer): cross-entropy
    under autocast, the scaler's backward, step and update; no clipping."""
    def step():
        optimizer.zero_grad(set_to_none=True)
        with ctx():
            loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return step


def fused_kwargs(optimizer_class, device):
    """fused=True where the optimizer has it and the device is CUDA (as nanoGPT's configure_optimizers)."""
    fused = device.type == "cuda" and "fused" in inspect.signature(optimizer_class).parameters
    return {"fused": True} if fused else {}


def check_count(what, got, expected):
    if got != expected:
        raise HarnessError(f"{what}: {got:,} parameters, expected {expected:,} (mlspeed's count)")


def count_params(module):
    return sum(p.numel() for p in module.parameters())


# ---------------------------------------------------------------------------------------------
# Compilation.

def compile_available(device, mode):
    """None if `mode` can run here, else why not."""
    if mode == "eager":
        return None
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile (PyTorch 2.0+)"
    if mode == "reduce-overhead" and device.type != "cuda":
        return "mode reduce-overhead is torch.compile with CUDA graphs: CUDA only"
    return None


def compile_module(module, mode):
    """The module as the user runs it in `mode`: itself, torch.compile(module) or
    torch.compile(module, mode="reduce-overhead")."""
    if mode == "eager":
        return module
    if mode == "compile":
        return torch.compile(module)
    return torch.compile(module, mode="reduce-overhead")


def reset_compiler():
    if hasattr(torch, "_dynamo"):
        torch._dynamo.reset()


def compile_events():
    """A number that grows whenever dynamo/AOTAutograd compile something (0 without torch.compile)."""
    try:
        from torch._dynamo.utils import counters
    except Exception:
        return 0
    return sum(sum(counters[group].values()) for group in ("frames", "stats", "aot_autograd") if group in counters)


def cudagraph_skips():
    """Why inductor skipped CUDA graphs (mode reduce-overhead), as it counts them."""
    try:
        from torch._dynamo.utils import counters
    except Exception:
        return {}
    return dict(counters["inductor"]) if "inductor" in counters else {}


def free_memory(device):
    gc.collect()
    reset_compiler()
    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()


# ---------------------------------------------------------------------------------------------
# Timing, as mlspeed: each iteration its own timed region; on CUDA a pair of events on the current
# stream and the end event synchronised; on the CPU the host clock; warm-up excluded; repeated
# until min_time seconds and at least 3 iterations; the median.

def _timed(fn, device):
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)
    begin = time.perf_counter()
    fn()
    if device.type == "mps":
        torch.mps.synchronize()
    return (time.perf_counter() - begin) * 1e3


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


MAX_WARMUP = 40


def warm_up(fn, device, mode, min_warmup):
    """Untimed iterations: `min_warmup` in eager mode; in compiled modes at least 3 (5 with CUDA
    graphs, which record on a later call than the first) and until two iterations in a row compiled
    nothing. Returns (iterations, compile events seen, whether compilation had settled)."""
    if mode == "eager":
        for _ in range(min_warmup):
            fn()
        _sync(device)
        return min_warmup, 0, True
    least = max(min_warmup, 5 if mode == "reduce-overhead" else 3)
    first = compile_events()
    quiet, n = 0, 0
    while n < MAX_WARMUP:
        before = compile_events()
        fn()
        _sync(device)
        n += 1
        quiet = quiet + 1 if compile_events() == before else 0
        if n >= least and quiet >= 2:
            return n, compile_events() - first, True
    return n, compile_events() - first, False


def measure(fn, device, min_time, min_iterations=3):
    samples = []
    _sync(device)
    while sum(samples) < min_time * 1e3 or len(samples) < min_iterations:
        samples.append(_timed(fn, device))
    return samples


def median(samples):
    return statistics.median(samples)


@contextlib.contextmanager
def stdout_to_stderr():
    """Peers print (nanoGPT's parameter count, ...): keep stdout for results."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def default_device_context(device):
    """torch.device as a context manager (torch 2.0+): tensors created inside are on `device`."""
    if hasattr(torch.device(device), "__enter__"):
        return torch.device(device)
    return contextlib.nullcontext()
