// Real weights for any model: a .safetensors file whose tensor names are the public
// checkpoint's (torchvision, Hugging Face transformers, diffusers, the Hugging Face Llama format)
// loaded into a LibTorch module whose parameters and buffers carry the same names.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace torch::nn {
class Module;
}

namespace mlspeed {

// How a checkpoint's names relate to a module's, for the few places they legitimately differ.
struct WeightsOptions {
  // Checkpoint entries that are not weights and are skipped, by name suffix (Hugging Face GPT-2's
  // ".attn.bias" causal masks, old Llama checkpoints' "rotary_emb.inv_freq").
  std::vector<std::string> ignore_suffixes;
  // Checkpoint names loaded into another module name (a tied output head: "lm_head.weight" into
  // "wte.weight"); optional in the file, checked for shape when present.
  std::vector<std::pair<std::string, std::string>> aliases;
  // A prefix the checkpoint's names may carry that the module's do not (GPT-2 saved from
  // GPT2LMHeadModel: "transformer."), stripped when present.
  std::string strip_prefix;
  // Checkpoint entries the model does not use, by name prefix (BERT's pre-training heads
  // "cls."): skipped, where any other unknown name is an error.
  std::vector<std::string> ignore_prefixes;
  // Module tensors the file may lack, by name suffix, left as they are when it does (BatchNorm's
  // ".num_batches_tracked", absent from checkpoints older than PyTorch 0.4.1; PyTorch too keeps its
  // own value then).
  std::vector<std::string> optional_suffixes;
};

// Copies every parameter and buffer of `module` from the file, converting dtype and device to
// the module's own. All-or-nothing: first checks that every module tensor has a checkpoint
// tensor of the same shape and that the checkpoint has nothing unexpected, and if not throws
// one InputFileError that lists, by name, every missing, unexpected and wrongly shaped tensor
// (with both shapes). Nothing is silently skipped or left random.
void load_weights(torch::nn::Module& module, const std::string& path, const WeightsOptions& options = {});

// The same from the files of one checkpoint together (Hugging Face's sharded
// model-0000N-of-0000M.safetensors): every module tensor must be found exactly once across them,
// and a checkpoint name in two files is an error naming both, as are missing, unexpected and
// wrongly shaped tensors; nothing is loaded unless everything fits. Every file is opened and
// checked before any tensor is copied. `progress`, when given, is called after each tensor copied
// with (done, total): a 7B checkpoint is 13 GB to read.
void load_weights(torch::nn::Module& module, const std::vector<std::string>& paths, const WeightsOptions& options = {},
                  const std::function<void(int64_t done, int64_t total)>& progress = {});

// Writes every parameter and buffer of `module` to `path` under its module name (for tests, and
// to hand a model to another tool).
void save_weights(const torch::nn::Module& module, const std::string& path);

}  // namespace mlspeed
