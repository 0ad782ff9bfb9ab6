#!/usr/bin/env python3
"""The yardstick for mlspeed's numbers: PyTorch itself running the code users run, timed as mlspeed times.

Every workload of mlspeed's catalogue at its default full-size shapes, run by its peer's own code
(imported from --peers, never copied):

  resnet50-cifar100, resnet50-food101   torchvision resnet50, Adam, channels-last, autocast
  distilbert-imdb                       transformers DistilBertForSequenceClassification, last block + head
  small-transformer-imdb                the Keras example in plain PyTorch (no PyTorch peer)
  nanogpt-shakespeare-char, gpt2-train  nanoGPT's model.py + train.py's step
  bert-base-infer                       transformers BertModel, inference_mode
  sd15-unet-infer                       diffusers UNet2DConditionModel (SD 1.5) + DDIMScheduler.step
  llama2-7b-generate                    transformers LlamaForCausalLM: pp512 forward, tg128 generate()
  gpt2-generate                         transformers GPT2LMHeadModel generate(), 4-token prompt, 16 tokens

each in three modes: eager, torch.compile(model) and torch.compile(model, mode="reduce-overhead")
(CUDA graphs); training compiles the model and leaves the optimizer step as the user writes it;
generate() compiles itself from a static cache (see yardstick/generation.py). Each workload's
module (scripts/yardstick/) says exactly what one iteration is.

Timing, as mlspeed: each iteration is one timed region (CUDA: events on the current stream, the
end event synchronised; CPU: the host clock); warm-up excluded (eager: --warmup, 1; compiled:
until two iterations in a row compiled nothing, at least 3, 5 with CUDA graphs); repeated until
--min-time seconds and at least 3 iterations; the median. fp32 is plain float32 (TF32 off), tf32
turns TF32 on; fp16/bf16 autocast for training and cast the model for inference.

Output in --out: pytorch.jsonl (one JSON row per workload x dtype x mode x shape, failures
included) and pytorch-context.json (versions, GPU, date); progress on stderr; a summary table on
stdout. scripts/speed_table.py compares the rows with mlspeed's.

Rows: status "ok", "unavailable" (cannot run here: no torch.compile in this torch, CUDA graphs on
the CPU, a dtype this torch cannot autocast on the device, a peer that does not import on the
CPU) or "error" with error_kind: "harness" (the yardstick's own check or code failed: a parameter
count that differs from mlspeed's, nothing compiled), "peer" (raised inside torch, transformers,
diffusers or nanoGPT: a compile or CUDA-graph failure), "oom", or "missing-peer" (a peer that does
not import on CUDA, where everything must run).

Exit status: 0 when no row is an error; 1 when any is (with --allow-errors, only when a row is
the yardstick's own "harness" error); 2 for bad arguments; 130 after Ctrl-C (rows kept).

Usage:
  python3 scripts/pytorch_reference.py --device cuda --out DIR [--workloads LIST] [--dtypes bf16,...]
      [--modes eager,compile,reduce-overhead] [--batch LIST] [--seq LIST] [--min-time 2] [--peers .peers]
      [--allow-errors] [--append] [--profile DIR] [--threads N] [--malloc-defaults]
  (--batch / --seq keep only the default shapes of those sizes, as mlspeed's -b / -s narrow a sweep;
  --append adds rows to an earlier run's pytorch.jsonl, for a run split over several commands;
  --profile DIR profiles 5 more iterations of each configuration with torch.profiler into
  DIR/<configuration>.trace.json, for scripts/profile_compare.py beside mlspeed run --profile;
  --threads N sets torch's CPU threads as mlspeed's --threads does; --malloc-defaults leaves
  glibc's allocator as it is, where the yardstick otherwise keeps freed memory for reuse as
  mlspeed does: yardstick/allocator.py)
  python3 scripts/pytorch_reference.py --list --out /tmp/x

Peers (--peers, default .peers in the repository): nanoGPT/model.py (karpathy/nanoGPT) and
diffusers/src (huggingface/diffusers); transformers and torchvision are the installed ones. A
folder --peers/site, if present, is appended to sys.path for packages a machine lacks.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the working tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__":
    try:
        # Before torch allocates anything (yardstick/allocator.py says why).
        from yardstick import allocator

        if "--malloc-defaults" not in sys.argv[1:]:
            allocator.keep_freed_cpu_memory()
        from yardstick.runner import main

        sys.exit(main())
    except KeyboardInterrupt:  # before the first row (imports, context): nothing to keep
        print("pytorch_reference: interrupted", file=sys.stderr)
        sys.exit(130)
