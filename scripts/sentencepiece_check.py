#!/usr/bin/env python3
"""mlspeed's Llama tokenizer against SentencePiece itself, the library Llama 2's tokenizer is (and
transformers' LlamaTokenizer runs).

    python3 scripts/sentencepiece_check.py MLSPEED [--keep DIR]

Trains a small SentencePiece BPE model with Llama 2's settings (identity normalisation, a dummy
prefix, whitespace kept, digits split, byte fallback, <unk> <s> </s> as ids 0 1 2) and gives it to
mlspeed two ways:
  * as a GGUF "llama" vocabulary in a miniature Llama model file, as llama.cpp's converter writes
    tokenizer.model (every piece with its score and type);
  * as a Hugging Face checkpoint folder (config.json, model.safetensors, and tokenizer.json with
    the merges transformers' converter derives from the model, which has no scores), turned into
    a GGUF file by `MLSPEED quantize FOLDER OUT --type f32`.
For each text of a test corpus, `MLSPEED generate --model FILE --prompt TEXT` gives the prompt's
ids: they must equal <s> followed by SentencePiece's encoding, and the row's text must start with
the prompt (decoding gives it back).

Exit status: 0 when every text agrees; 1 naming each that does not; 2 for bad arguments; 77 (a
skipped test) when SentencePiece is not installed (Debian: python3-sentencepiece).
"""
import io
import json
import os
import struct
import subprocess
import sys
import tempfile

SYSTEM_PYTHON = "/usr/bin/python3"  # where Debian's python3-sentencepiece is importable
try:
    import sentencepiece as spm
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and os.path.exists(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    print("sentencepiece_check: skipped: no sentencepiece module (Debian: apt-get install python3-sentencepiece)")
    sys.exit(77)

# What the model is trained on: varied enough that merges of every kind exist, small enough to
# train in a second. Written for this test.
TRAINING = [
    "The quick brown fox jumps over the lazy dog while the cat sleeps in the warm sun.",
    "Benchmarks measure how long a model takes to answer; tokens per second is what people compare.",
    "A laptop with 128 GB of memory runs a 70B model at 4 bits, slowly but it runs.",
    "Naïve café owners in Zürich serve crème brûlée — and résumés are printed on recycled paper.",
    "東京と大阪の間は新幹線で二時間半です。天気は晴れ。",
    "Emoji show up in chat logs: 🙂 😂 🚀 and the occasional ❤️.",
    "don't can't won't it's they're we'll I'd you've",
    "Numbers like 3.14159, 2024-12-04, 1,000,000 and 0x1F are split into digits.",
    "    indented code:\n\tif (x > 0) { return x * 2; }\n",
    "Multiple   spaces   and\ttabs\tand\nnewlines\n\nmatter to a tokenizer.",
] * 40

# What is checked: seen and unseen words, spaces at the ends and in runs, digits, punctuation,
# accents, CJK, emoji and other characters only byte fallback can spell, newlines and tabs.
CORPUS = [
    "Hello world",
    "The quick brown fox",
    " leading space",
    "trailing space ",
    "two  spaces   three    four",
    "tabs\tand\nnewlines\n\n",
    "12345 67890 3.14159",
    "The year 2024 had 366 days.",
    "don't can't won't it's",
    "naïve café crème brûlée",
    "Zürich and Köln",
    "東京と大阪",
    "新しい単語",
    "emoji 🙂 rocket 🚀",
    "unseen letters: ǅ Ω ж ק ع",
    "xyzzy qwertyuiop zxcvbnm",
    "a",
    "!",
    "    four leading spaces",
    "UPPER lower MiXeD",
    "line one\nline two\nline three",
    "<s> and </s> are plain text here",
    "what is 7 * 6?",
    "Why is the sky blue? Answer in one sentence.",
]

VOCAB_SIZE = 600


def train():
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAINING), model_writer=model, model_type="bpe", vocab_size=VOCAB_SIZE,
        byte_fallback=True, split_digits=True, add_dummy_prefix=True, remove_extra_whitespaces=False,
        normalization_rule_name="identity", allow_whitespace_only_pieces=True, character_coverage=1.0,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2, hard_vocab_limit=False)
    return spm.SentencePieceProcessor(model_proto=model.getvalue())


def token_type(sp, i):
    """llama.cpp's token types, SentencePiece's own numbering: normal 1, unknown 2, control 3, unused 5, byte 6."""
    if sp.is_unknown(i):
        return 2
    if sp.is_control(i):
        return 3
    if sp.is_unused(i):
        return 5
    if sp.is_byte(i):
        return 6
    return 1


# --- a GGUF v3 writer, as much of the format as a float32 model with a vocabulary needs --------
UINT32, INT32, FLOAT32, STRING, ARRAY = 4, 5, 6, 8, 9


def gguf_string(text):
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def gguf_value(kind, value):
    if kind == UINT32:
        return struct.pack("<I", value)
    if kind == INT32:
        return struct.pack("<i", value)
    if kind == FLOAT32:
        return struct.pack("<f", value)
    if kind == STRING:
        return gguf_string(value)
    raise ValueError(kind)


def gguf_kv(key, kind, value, element=None):
    out = gguf_string(key) + struct.pack("<I", kind)
    if kind == ARRAY:
        out += struct.pack("<IQ", element, len(value)) + b"".join(gguf_value(element, v) for v in value)
    else:
        out += gguf_value(kind, value)
    return out


def write_gguf(path, sp, hidden=8, heads=2, ffn=16, context=256):
    vocab = sp.vocab_size()
    kvs = [
        gguf_kv("general.architecture", STRING, "llama"),
        gguf_kv("general.name", STRING, "sentencepiece check"),
        gguf_kv("llama.context_length", UINT32, context),
        gguf_kv("llama.embedding_length", UINT32, hidden),
        gguf_kv("llama.block_count", UINT32, 1),
        gguf_kv("llama.feed_forward_length", UINT32, ffn),
        gguf_kv("llama.attention.head_count", UINT32, heads),
        gguf_kv("llama.attention.head_count_kv", UINT32, heads),
        gguf_kv("llama.attention.layer_norm_rms_epsilon", FLOAT32, 1e-5),
        gguf_kv("general.file_type", UINT32, 0),  # all F32
        gguf_kv("tokenizer.ggml.model", STRING, "llama"),
        gguf_kv("tokenizer.ggml.tokens", ARRAY, [sp.id_to_piece(i) for i in range(vocab)], STRING),
        gguf_kv("tokenizer.ggml.scores", ARRAY, [sp.get_score(i) for i in range(vocab)], FLOAT32),
        gguf_kv("tokenizer.ggml.token_type", ARRAY, [token_type(sp, i) for i in range(vocab)], INT32),
        gguf_kv("tokenizer.ggml.bos_token_id", UINT32, 1),
        gguf_kv("tokenizer.ggml.eos_token_id", UINT32, 2),
        gguf_kv("tokenizer.ggml.unknown_token_id", UINT32, 0),
    ]
    # ggml's dimension order: the row length first.
    tensors = [("token_embd.weight", [hidden, vocab]), ("output.weight", [hidden, vocab]),
               ("output_norm.weight", [hidden])]
    for name, dims in [("attn_q", [hidden, hidden]), ("attn_k", [hidden, hidden]), ("attn_v", [hidden, hidden]),
                       ("attn_output", [hidden, hidden]), ("ffn_gate", [hidden, ffn]), ("ffn_up", [hidden, ffn]),
                       ("ffn_down", [ffn, hidden]), ("attn_norm", [hidden]), ("ffn_norm", [hidden])]:
        tensors.append((f"blk.0.{name}.weight", dims))
    infos, blobs, offset = b"", [], 0
    for name, dims in tensors:
        count = 1
        for d in dims:
            count *= d
        infos += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", 0, offset)  # F32 at offset
        # Small distinct values: the model is never judged, only run.
        blob = b"".join(struct.pack("<f", ((i * 7919) % 17 - 8) / 64.0) for i in range(count))
        blob += b"\0" * ((-len(blob)) % 32)
        blobs.append(blob)
        offset += len(blob)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + infos
    head += b"\0" * ((-len(head)) % 32)  # general.alignment's default
    with open(path, "wb") as f:
        f.write(head + b"".join(blobs))


# --- the same model as a Hugging Face checkpoint folder -------------------------------------
def hf_merges(sp):
    """transformers' SentencePieceExtractor for a model with scores: every split of a piece into two
    pieces of the vocabulary, ordered by the piece's score (best first), splits by their ids."""
    vocab = {sp.id_to_piece(i): i for i in range(sp.vocab_size())}
    merges = []
    for piece, i in vocab.items():
        local = [(piece[:k], piece[k:], sp.get_score(i)) for k in range(1, len(piece))
                 if piece[:k] in vocab and piece[k:] in vocab]
        merges.extend(sorted(local, key=lambda m: (vocab[m[0]], vocab[m[1]])))
    merges.sort(key=lambda m: m[2], reverse=True)
    return [f"{left} {right}" for left, right, _ in merges]


def hf_tokenizer_json(sp):
    space = "\u2581"
    vocab = {sp.id_to_piece(i): i for i in range(sp.vocab_size())}
    return {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": sp.id_to_piece(i), "special": True} for i in range(3)],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": space},
                                                            {"type": "Replace", "pattern": {"String": " "},
                                                             "content": space}]},
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": space}, "content": " "},
                                                      {"type": "ByteFallback"}, {"type": "Fuse"},
                                                      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True,
                  "vocab": vocab, "merges": hf_merges(sp)},
    }


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, shape in tensors:
        count = 1
        for d in shape:
            count *= d
        blob = b"".join(struct.pack("<f", ((i * 7919) % 17 - 8) / 64.0) for i in range(count))
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_hf_folder(folder, sp, hidden=8, heads=2, ffn=16, context=256):
    os.makedirs(folder, exist_ok=True)
    vocab = sp.vocab_size()
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
              "hidden_size": hidden, "intermediate_size": ffn, "num_hidden_layers": 1, "num_attention_heads": heads,
              "num_key_value_heads": heads, "max_position_embeddings": context, "rms_norm_eps": 1e-5,
              "vocab_size": vocab, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(hf_tokenizer_json(sp), f, ensure_ascii=False)
    layer = "model.layers.0."
    tensors = [("model.embed_tokens.weight", [vocab, hidden]), ("lm_head.weight", [vocab, hidden]),
               ("model.norm.weight", [hidden]), (layer + "input_layernorm.weight", [hidden]),
               (layer + "post_attention_layernorm.weight", [hidden])]
    tensors += [(layer + f"self_attn.{p}_proj.weight", [hidden, hidden]) for p in "qkvo"]
    tensors += [(layer + "mlp.gate_proj.weight", [ffn, hidden]), (layer + "mlp.up_proj.weight", [ffn, hidden]),
                (layer + "mlp.down_proj.weight", [hidden, ffn])]
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)


def mlspeed_prompt(mlspeed, model, text):
    r = subprocess.run([mlspeed, "generate", "--model", model, "--prompt", text, "-g", "1", "-d", "cpu", "--no-db",
                        "-o", "jsonl"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"exit status {r.returncode}: {r.stderr.strip()}"
    row = json.loads(r.stdout.splitlines()[0])
    return row, ""


def check_file(mlspeed, sp, model, label):
    """The corpus through `generate --model` on one file; the number of texts that differ."""
    failures = 0
    for text in CORPUS:
        expected = [1] + sp.encode(text)
        row, error = mlspeed_prompt(mlspeed, model, text)
        got = row["prompt_ids"] if row else None
        decoded_ok = bool(row) and row["text"].startswith(text)
        if got == expected and decoded_ok:
            print(f"ok   {label} {text!r}: {len(expected)} tokens")
            continue
        failures += 1
        print(f"FAIL {label} {text!r}: " + (error or ""))
        if row:
            print(f"     mlspeed:       {got}\n     sentencepiece: {expected}")
            print(f"     pieces: {[sp.id_to_piece(i) for i in expected]}")
            if not decoded_ok:
                print(f"     decoded: {row['text']!r}")
    return failures


def main():
    args = sys.argv[1:]
    keep = None
    if len(args) == 3 and args[1] == "--keep":
        keep = args[2]
        args = args[:1]
    if len(args) != 1 or not os.access(args[0], os.X_OK):
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        print("sentencepiece_check: give the built mlspeed program", file=sys.stderr)
        return 2
    mlspeed = args[0]
    sp = train()
    folder = keep or tempfile.mkdtemp(prefix="mlspeed-spm-")
    os.makedirs(folder, exist_ok=True)
    direct = os.path.join(folder, "spm-check.gguf")
    write_gguf(direct, sp)
    failures = check_file(mlspeed, sp, direct, "gguf")

    hf_folder, converted = os.path.join(folder, "hf"), os.path.join(folder, "spm-check-hf.gguf")
    write_hf_folder(hf_folder, sp)
    r = subprocess.run([mlspeed, "quantize", hf_folder, converted, "--type", "f32"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL quantize {hf_folder}: exit status {r.returncode}: {r.stderr.strip()}")
        failures += len(CORPUS)
    else:
        failures += check_file(mlspeed, sp, converted, "hf")
    total = 2 * len(CORPUS)
    print(f"{failures} of {total} encodings differ" if failures else f"all {total} encodings agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
