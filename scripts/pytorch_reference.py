"""The yardstick for mlspeed's numbers: the same workloads in PyTorch eager on the same device.

Times what `mlspeed run -w nanogpt-shakespeare-char,bert-base-infer -t fp32,bf16` times, the same
way (device events around each iteration, device synchronised after each, warm-up excluded,
median of the samples), so the two tables can be compared row by row:

  - bert-base-infer: Hugging Face BertModel (bert-base-uncased config, random weights, SDPA
    attention), eval mode, inference_mode, cast to bf16 for bf16; batch {1,4} x seq {128,512}.
  - nanogpt-shakespeare-char: nanoGPT's model.py (6 layers, 6 heads, 384 wide, vocab 65,
    block 256, dropout 0.2, no bias) and train.py's step: autocast for bf16, fused AdamW
    (lr 1e-3, betas 0.9/0.99, weight decay 0.1 on 2-D weights), grad-norm clip 1.0; batch 64.

Usage: python3 scripts/pytorch_reference.py [--device cuda] [--min-time 2]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, 1e-5)


class Block(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.ln_1, self.ln_2 = LayerNorm(d), LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d, bias=False)
        self.attn_proj = nn.Linear(d, d, bias=False)
        self.c_fc = nn.Linear(d, 4 * d, bias=False)
        self.mlp_proj = nn.Linear(4 * d, d, bias=False)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0, is_causal=True)
        x = x + self.drop(self.attn_proj(y.transpose(1, 2).contiguous().view(B, T, C)))
        return x + self.drop(self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)))))


class GPT(nn.Module):
    def __init__(self, vocab=65, block=256, layers=6, heads=6, d=384, dropout=0.2):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(block, d)
        self.drop = nn.Dropout(dropout)
        self.h = nn.ModuleList(Block(d, heads, dropout) for _ in range(layers))
        self.ln_f = LayerNorm(d)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        x = self.drop(self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device)))
        for block in self.h:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)


def time_iterations(step, device, min_time, warmup=1, min_iterations=3):
    for _ in range(warmup):
        step()
    torch.cuda.synchronize(device)
    samples = []
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    while sum(samples) < min_time * 1e3 or len(samples) < min_iterations:
        start.record()
        step()
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end))
    return statistics.median(samples), len(samples)


def nanogpt_step(device, dtype):
    torch.manual_seed(0)
    model = GPT().to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), fused=True)
    x = torch.randint(0, 65, (64, 256), device=device)
    y = torch.randint(0, 65, (64, 256), device=device)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16)

    def step():
        with autocast:
            logits = model(x)
            loss = F.cross_entropy(logits.view(-1, 65), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def bert_forward(device, dtype, batch, seq):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    model = BertModel(BertConfig(attn_implementation="sdpa")).eval().to(device=device, dtype=dtype)
    ids = torch.randint(0, 30522, (batch, seq), device=device)

    def step():
        with torch.inference_mode():
            model(input_ids=ids)

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--min-time", type=float, default=2.0)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as in mlspeed
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device)
    print(f"PyTorch {torch.__version__}, {torch.cuda.get_device_name(device)}, eager, "
          f"median of >= {args.min_time} s of iterations after 1 warm-up\n")
    print("| workload | dtype | batch | seq | ms/iter (PyTorch eager) | iterations |")
    print("| :-- | :-- | --: | --: | --: | --: |")
    for dtype, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
        ms, n = time_iterations(nanogpt_step(device, dtype), device, args.min_time)
        print(f"| nanogpt-shakespeare-char | {name} | 64 | 256 | {ms:.2f} | {n} |", flush=True)
    for dtype, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
        for seq in (128, 512):
            for batch in (1, 4):
                ms, n = time_iterations(bert_forward(device, dtype, batch, seq), device, args.min_time)
                print(f"| bert-base-infer | {name} | {batch} | {seq} | {ms:.2f} | {n} |", flush=True)


if __name__ == "__main__":
    main()
