"""nanogpt-shakespeare-char and gpt2-train: nanoGPT's own model.py and the step of its train.py.

train.py's step (compile=True compiles the model; the optimizer step stays eager):

    with ctx:                                   # autocast to bf16/fp16
        logits, loss = model(X, Y)
    scaler.scale(loss).backward()               # GradScaler, enabled for float16 only
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)   # 1.0
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)

with the optimizer from model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2),
device_type) (fused AdamW on CUDA, decay on 2-D tensors only). Batches are synthetic (mlspeed's
default): uniform token ids made once. Differences from train.py, to time what mlspeed times:
train.py does not autocast on the CPU (mlspeed does, for bf16); TF32 follows the dtype (train.py
turns it on always); fp32 on CUDA is plain float32 (train.py's default dtype is bf16).
"""
import torch

from .common import (HarnessError, Shape, Step, autocast, check_count, compile_module, grad_scaler,
                     import_nanogpt, stdout_to_stderr)


class NanoGPTTraining:
    job = "train"
    peers = ("nanoGPT model.py + train.py step",)

    def __init__(self, name, sizes, learning_rate, betas, weight_decay, count_non_embedding):
        """sizes: {size: (GPTConfig fields, batch, seq, mlspeed's parameter count)}."""
        self.name, self.sizes = name, sizes
        self.learning_rate, self.betas, self.weight_decay = learning_rate, betas, weight_decay
        self.count_non_embedding = count_non_embedding

    def shapes(self, size):
        _, batch, seq, _ = self.sizes[size]
        return [Shape(batch, seq)]

    def open(self, device, dtype_name, size):
        return _Session(self, device, dtype_name, size)


class _Session:
    def __init__(self, workload, device, dtype_name, size):
        self.w, self.device = workload, device
        self.config, _, _, expected = workload.sizes[size]
        self.autocast = autocast(device, dtype_name)
        nanogpt = import_nanogpt()
        torch.manual_seed(0)
        with stdout_to_stderr():
            self.model = nanogpt.GPT(nanogpt.GPTConfig(**self.config)).to(device)
            check_count(workload.name, self.model.get_num_params(non_embedding=workload.count_non_embedding),
                        expected)
            self.optimizer = self.model.configure_optimizers(workload.weight_decay, workload.learning_rate,
                                                             workload.betas, device.type)
        if device.type == "cuda" and not self.optimizer.defaults.get("fused"):
            raise HarnessError("nanoGPT's configure_optimizers did not make a fused AdamW on CUDA")
        self.scaler = grad_scaler(device, dtype_name)
        self.model.train()

    def prepare(self, shape, mode):
        model, optimizer, scaler, ctx = compile_module(self.model, mode), self.optimizer, self.scaler, self.autocast
        vocab = self.config["vocab_size"]
        generator = torch.Generator().manual_seed(0)
        x = torch.randint(vocab, (shape.batch, shape.seq), generator=generator).to(self.device)
        y = torch.randint(vocab, (shape.batch, shape.seq), generator=generator).to(self.device)
        params = self.model.parameters

        def step():
            with ctx():
                logits, loss = model(x, y)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(params(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)

        return Step(step, shape.batch * shape.seq, "tokens")

    def close(self):
        self.model = self.optimizer = None


def workloads():
    return [
        # config/train_shakespeare_char.py: 6 layers, 6 heads, 384 wide, block 256, dropout 0.2,
        # bias False (GPTConfig's default is True; mlspeed's is no bias), vocab 65 (meta.pkl).
        # Counted as nanoGPT counts (without the position embedding). tiny: mlspeed's tiny size.
        NanoGPTTraining(
            "nanogpt-shakespeare-char",
            {"full": (dict(n_layer=6, n_head=6, n_embd=384, block_size=256, vocab_size=65, dropout=0.2, bias=False),
                      64, 256, 10_646_784),
             "tiny": (dict(n_layer=2, n_head=2, n_embd=32, block_size=32, vocab_size=65, dropout=0.2, bias=False),
                      4, 32, 26_816)},
            learning_rate=1e-3, betas=(0.9, 0.99), weight_decay=0.1, count_non_embedding=True),
        # GPT-2 small (config/train_gpt2.py's micro-batch 12 x 1024), vocab 50257 as the gpt2
        # checkpoint (mlspeed's count: every parameter once), dropout 0, bias True.
        NanoGPTTraining(
            "gpt2-train",
            {"full": (dict(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=50257, dropout=0.0,
                           bias=True), 12, 1024, 124_439_808),
             "tiny": (dict(n_layer=2, n_head=2, n_embd=32, block_size=64, vocab_size=512, dropout=0.0, bias=True),
                      4, 32, 43_904)},
            learning_rate=6e-4, betas=(0.9, 0.95), weight_decay=0.1, count_non_embedding=False),
    ]
