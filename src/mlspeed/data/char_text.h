// A plain text file as nanoGPT's data/shakespeare_char/prepare.py reads it: the vocabulary is the
// sorted set of the file's characters (Unicode code points of its UTF-8), each character's id its
// index in that set, and the first 90% of the characters are the training split.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlspeed::data {

struct CharText {
  std::string path;
  std::vector<char32_t> vocabulary;  // sorted code points
  int64_t characters = 0;            // in the whole file
  at::Tensor train;                  // int64 ids of the first 90%, on the CPU
};

// Reads and encodes `path`. Throws InputFileError naming the file for a missing or empty file,
// invalid UTF-8 (with the byte offset), more distinct characters than `max_vocabulary`, or a
// training split too short for `min_train` characters.
CharText read_char_text(const std::string& path, int64_t max_vocabulary, int64_t min_train);

// train.py's get_batch: `batch` random offsets into the split, x the `seq` ids from each offset,
// y the same shifted by one. Offsets come from `generator` (on the CPU).
std::pair<at::Tensor, at::Tensor> char_batch(const CharText& text, int64_t batch, int64_t seq,
                                             at::Generator& generator);

}  // namespace mlspeed::data
