"""llama2-7b-generate and gpt2-generate: Hugging Face transformers' causal LMs, random weights,
greedy generation as users run it: model.generate(...).

llama2-7b-generate (llama-bench's two rows, as mlspeed's workloads/llama2_generate.cpp; also its
sizes medium (TinyLlama-1.1B), small (134M) and tiny):
    with torch.device(device): model = AutoModelForCausalLM.from_config(LlamaConfig(), dtype=dtype, attn_implementation="sdpa")
    pp512: with torch.inference_mode(): model(input_ids=prompt_512, use_cache=True, logits_to_keep=1)
           (one forward of the prompt into an empty KV cache, logits of the last position; in the
           compiled modes torch.compile(model) called the same way)
    tg128: model.generate(start_1_token, max_new_tokens=128, min_new_tokens=128, do_sample=False)
gpt2-generate: AutoModelForCausalLM.from_config(GPT2Config()) (GPT2LMHeadModel), a 4-token prompt,
    model.generate(prompt, max_new_tokens=16, min_new_tokens=16, do_sample=False)

Modes of generate: eager is the default dynamic cache with compilation disabled; compile and
reduce-overhead are what transformers documents for torch.compile: a static cache
(cache_implementation="static") makes generate compile the decoding step itself, with
compile_config=CompileConfig(mode="default" | "reduce-overhead") (transformers 4.48+; before
that, model.forward = torch.compile(model.forward, mode=...) with the static cache). The prompt
pass (prefill) is not compiled by generate.

generate() runs as users call it (under its own torch.no_grad(), not in inference_mode); the
pp512 forward runs under torch.inference_mode(), as mlspeed's steps do.

Times: one iteration is one whole generate call. first_token_ms is the median of separately
timed generate(max_new_tokens=1) calls (the prompt pass and one token, generate's overhead
included); ms_per_token = (median of the whole call - first_token_ms) / (new_tokens - 1), as
mlspeed derives it from its own first-token time; tokens_per_s = 1000 / ms_per_token.
"""
import torch

from .common import (DTYPES, HarnessError, Shape, Step, check_count, compile_module, default_device_context,
                     import_transformers)
from .hf import from_config, logits_to_keep_kwargs, unique_param_count


def _generate_kwargs(transformers, model, mode):
    """The keyword arguments of generate() for `mode`, and a note saying how it compiles."""
    probe = transformers.GenerationConfig()
    kwargs = {}
    if mode == "eager":
        if hasattr(probe, "disable_compile"):
            kwargs["disable_compile"] = True
        return kwargs, "dynamic cache, no compilation"
    kwargs["cache_implementation"] = "static"
    compile_config = getattr(transformers, "CompileConfig", None)
    if compile_config is None:
        try:
            from transformers.generation.configuration_utils import CompileConfig as compile_config
        except ImportError:
            compile_config = None
    torch_mode = "default" if mode == "compile" else "reduce-overhead"
    if compile_config is not None and hasattr(probe, "compile_config"):
        kwargs["compile_config"] = compile_config(mode=torch_mode)
        return kwargs, f"static cache; generate compiles the decoding step (CompileConfig(mode={torch_mode!r}))"
    # transformers before 4.48: compile the forward by hand, as its docs then said.
    model.forward = torch.compile(model.forward, mode=None if mode == "compile" else "reduce-overhead")
    return kwargs, f"static cache; model.forward = torch.compile(model.forward, mode={torch_mode!r})"


class _CausalLMSession:
    def __init__(self, device, dtype_name, auto_config, config_fields, expected, name):
        self.transformers = import_transformers()
        self.device, self.name = device, name
        torch.manual_seed(0)
        config = getattr(self.transformers, auto_config)(**config_fields)
        # Built where it runs, in its dtype (no float32 copy of 7B parameters on the host).
        with default_device_context(device):
            self.model = from_config("AutoModelForCausalLM", config, dtype=DTYPES[dtype_name])
        self.model = self.model.to(device).eval()
        check_count(name, unique_param_count(self.model), expected)
        self.vocab = config.vocab_size
        eos = config.eos_token_id
        self.pad = eos[0] if isinstance(eos, (list, tuple)) else eos

    def prepare(self, shape, mode):
        if "forward" in self.model.__dict__:  # a compiled forward left by a previous shape
            del self.model.forward
        generator = torch.Generator().manual_seed(0)
        if shape.new_tokens == 0:
            return self._prompt_pass(shape, mode, generator)
        prompt_len = shape.seq if shape.seq > 0 else 1  # tg: one start token (as mlspeed)
        ids = torch.randint(self.vocab, (shape.batch, prompt_len), generator=generator).to(self.device)
        mask = torch.ones_like(ids)
        gen_kwargs, note = _generate_kwargs(self.transformers, self.model, mode)
        model, n, pad = self.model, shape.new_tokens, self.pad

        def generate(tokens):  # generate() runs under torch.no_grad() itself, as users call it
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=tokens, min_new_tokens=tokens,
                                 do_sample=False, pad_token_id=pad, **gen_kwargs)
            if out.shape[1] != ids.shape[1] + tokens:
                raise HarnessError(f"generate made {out.shape[1] - ids.shape[1]} tokens, asked for {tokens}")

        return Step(lambda: generate(n), shape.batch * n, "tokens", first_token=lambda: generate(1), note=note)

    def _prompt_pass(self, shape, mode, generator):
        ids = torch.randint(self.vocab, (shape.batch, shape.seq), generator=generator).to(self.device)
        model = compile_module(self.model, mode)
        kwargs = dict(use_cache=True, **logits_to_keep_kwargs(self.model, 1))

        def step():
            with torch.inference_mode():
                out = model(input_ids=ids, **kwargs)
            return out

        note = "forward of the prompt into an empty (dynamic) cache, " + \
               ("logits of the last position" if len(kwargs) > 1 else "all logits (no logits_to_keep)")
        return Step(step, shape.batch * shape.seq, "tokens", note=note)

    def close(self):
        self.model = None


# mlspeed's sizes (workloads/llama2_generate.cpp): LlamaConfig fields, parameters, (pp, tg).
LLAMA_SIZES = {
    # Llama-2-7B's config.json: LlamaConfig's defaults with 4096 positions.
    "full": (dict(max_position_embeddings=4096), 6_738_415_616, (512, 128)),
    # TinyLlama-1.1B
    "medium": (dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                    num_key_value_heads=4, max_position_embeddings=4096), 1_100_048_384, (512, 128)),
    "small": (dict(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
                   num_key_value_heads=12, max_position_embeddings=2048), 134_105_856, (512, 128)),
    "tiny": (dict(vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=64), 34_976, (16, 8)),
}


class LlamaGenerate:
    name = "llama2-7b-generate"
    job = "infer"
    peers = ("transformers LlamaForCausalLM(LlamaConfig()) (sdpa), generate()",)
    sizes = tuple(LLAMA_SIZES)

    def shapes(self, size):
        pp, tg = LLAMA_SIZES[size][2]
        return [Shape(1, pp, 0), Shape(1, 0, tg)]  # llama-bench's pp512 and tg128

    def open(self, device, dtype_name, size):
        fields, expected, _ = LLAMA_SIZES[size]
        return _CausalLMSession(device, dtype_name, "LlamaConfig", fields, expected, self.name)


class Gpt2Generate:
    name = "gpt2-generate"
    job = "infer"
    peers = ("transformers GPT2LMHeadModel(GPT2Config()) (sdpa), generate()",)
    sizes = ("full",)

    def shapes(self, size):
        return [Shape(1, 4, 16)]

    def open(self, device, dtype_name, size):
        return _CausalLMSession(device, dtype_name, "GPT2Config", {}, 124_439_808, self.name)


def workloads():
    return [LlamaGenerate(), Gpt2Generate()]

