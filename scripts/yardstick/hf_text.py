"""bert-base-infer and distilbert-imdb: Hugging Face transformers' models, random weights.

bert-base-infer (mlspeed's workloads/bert_base_infer.cpp):
    model = AutoModel.from_config(BertConfig(), attn_implementation="sdpa")   # BertModel, pooler included
    model.eval().to(device, dtype)         # fp16/bf16: the weights themselves
    with torch.inference_mode(): model(input_ids=ids)

distilbert-imdb (mlspeed's workloads/distilbert_imdb.cpp, the seed's Trainer fine-tuning):
    model = AutoModelForSequenceClassification.from_config(DistilBertConfig(num_labels=2), attn_implementation="sdpa")
    only the last transformer block, pre_classifier and classifier train (7,680,002 of 66,955,010)
    model.train()                          # dropout on, in the frozen layers too (as the Trainer)
    AdamW(lr 2e-5, weight decay 0.01 on 2-D tensors, none on biases and LayerNorm weights), fused on CUDA
    step: zero_grad; with autocast: loss = model(input_ids=ids, labels=labels).loss
          scaler.scale(loss).backward(); scaler.unscale_; clip_grad_norm_(trainable, 1.0); scaler.step; update
Synthetic ids (no padding, so no attention mask, as mlspeed's synthetic batch) and labels.
"""
import torch

from .common import (DTYPES, Shape, Step, autocast, check_count, compile_module, fused_kwargs, grad_scaler,
                     import_transformers)
from .hf import from_config, unique_param_count


class BertInference:
    name = "bert-base-infer"
    job = "infer"
    peers = ("transformers BertModel (sdpa)",)
    sizes = ("full",)

    def shapes(self, size):
        return [Shape(b, s) for s in (128, 512) for b in (1, 4)]

    def open(self, device, dtype_name, size):
        return _BertSession(device, dtype_name)


class _BertSession:
    def __init__(self, device, dtype_name):
        transformers = import_transformers()
        self.device = device
        torch.manual_seed(0)
        model = from_config("AutoModel", transformers.BertConfig())
        check_count("bert-base-infer (BertModel)", unique_param_count(model), 109_482_240)
        self.model = model.eval().to(device=device, dtype=DTYPES[dtype_name])
        self.vocab = model.config.vocab_size

    def prepare(self, shape, mode):
        model = compile_module(self.model, mode)
        generator = torch.Generator().manual_seed(0)
        ids = torch.randint(self.vocab, (shape.batch, shape.seq), generator=generator).to(self.device)

        def step():
            with torch.inference_mode():
                model(input_ids=ids)

        return Step(step, shape.batch, "sequences")

    def close(self):
        self.model = None


class DistilBertFineTuning:
    name = "distilbert-imdb"
    job = "train"
    peers = ("transformers DistilBertForSequenceClassification (sdpa)",)
    sizes = ("full",)

    def shapes(self, size):
        return [Shape(b, 512) for b in (16, 32, 64, 128)]

    def open(self, device, dtype_name, size):
        return _DistilBertSession(device, dtype_name)


class _DistilBertSession:
    def __init__(self, device, dtype_name):
        transformers = import_transformers()
        self.device = device
        self.autocast = autocast(device, dtype_name)
        torch.manual_seed(0)
        model = from_config("AutoModelForSequenceClassification", transformers.DistilBertConfig(num_labels=2))
        check_count("distilbert-imdb", unique_param_count(model), 66_955_010)
        for p in model.parameters():
            p.requires_grad_(False)
        trainable = []
        for module in (model.distilbert.transformer.layer[-1], model.pre_classifier, model.classifier):
            for p in module.parameters():
                p.requires_grad_(True)
                trainable.append(p)
        check_count("distilbert-imdb trainable", sum(p.numel() for p in trainable), 7_680_002)
        self.model = model.to(device).train()
        self.trainable = trainable
        groups = [{"params": [p for p in trainable if p.dim() >= 2], "weight_decay": 0.01},
                  {"params": [p for p in trainable if p.dim() < 2], "weight_decay": 0.0}]
        self.optimizer = torch.optim.AdamW(groups, lr=2e-5, betas=(0.9, 0.999), eps=1e-8,
                                           **fused_kwargs(torch.optim.AdamW, device))
        self.scaler = grad_scaler(device, dtype_name)
        self.vocab = model.config.vocab_size

    def prepare(self, shape, mode):
        model, optimizer, scaler, ctx = compile_module(self.model, mode), self.optimizer, self.scaler, self.autocast
        trainable = self.trainable
        generator = torch.Generator().manual_seed(0)
        ids = torch.randint(self.vocab, (shape.batch, shape.seq), generator=generator).to(self.device)
        labels = torch.randint(2, (shape.batch,), generator=generator).to(self.device)

        def step():
            optimizer.zero_grad(set_to_none=True)
            with ctx():
                loss = model(input_ids=ids, labels=labels).loss
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            scaler.step(optimizer)
            scaler.update()

        return Step(step, shape.batch, "samples")

    def close(self):
        self.model = self.optimizer = self.trainable = None


def workloads():
    return [DistilBertFineTuning(), BertInference()]
