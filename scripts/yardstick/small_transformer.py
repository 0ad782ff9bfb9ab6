"""small-transformer-imdb: the Keras example "Text classification with Transformer"
(keras.io/examples/nlp/text_classification_with_transformer) in plain PyTorch. There is no
PyTorch peer for a Keras model, so this is the example layer for layer, as mlspeed's
src/mlspeed/models/small_transformer.cpp also writes it:

    TokenAndPositionEmbedding(maxlen 200, vocab 20000, embed 32)
    TransformerBlock(embed 32, heads 2, ff 32): MultiHeadAttention(num_heads=2, key_dim=32)
        (query/key/value project 32 -> 2x32, output 2x32 -> 32), post-norm LayerNormalization
        (epsilon 1e-6), two Dropout(0.1)
    GlobalAveragePooling1D -> Dropout(0.1) -> Dense(20, relu) -> Dropout(0.1) -> Dense(2)
    (the example's softmax + sparse categorical cross-entropy = cross-entropy on the logits)

mlspeed's tiny size (--sizes tiny) is the same model at vocab 1000, maxlen 32, embed 16, key_dim
16, ff 16, dense 8 (19,434 parameters), batch 4.

model.compile(optimizer="adam"): Keras's Adam defaults, lr 1e-3, betas (0.9, 0.999), epsilon
1e-7 (torch.optim.Adam, fused on CUDA). Initialised as Keras does (embeddings uniform(-0.05,
0.05), glorot-uniform kernels with Keras's fans, zero biases); 657,758 parameters.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .common import Shape, Step, autocast, check_count, classifier_step, compile_module, count_params, fused_kwargs, \
    grad_scaler

# The example's sizes (full) and mlspeed's tiny size.
SIZES = {
    "full": dict(vocab=20000, maxlen=200, embed=32, heads=2, key_dim=32, ff=32, dense=20, params=657_758, batches=(16, 32, 64, 128)),
    "tiny": dict(vocab=1000, maxlen=32, embed=16, heads=2, key_dim=16, ff=16, dense=8, params=19_434, batches=(4,)),
}
CLASSES, DROPOUT = 2, 0.1


def _attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return weights @ v


class MultiHeadAttention(nn.Module):
    """keras.layers.MultiHeadAttention(num_heads, key_dim) for self-attention, no mask, no dropout."""

    def __init__(self, c):
        super().__init__()
        self.heads, self.key_dim = c["heads"], c["key_dim"]
        inner = self.heads * self.key_dim
        self.query, self.key, self.value = (nn.Linear(c["embed"], inner) for _ in range(3))
        self.attention_output = nn.Linear(inner, c["embed"])

    def forward(self, x):
        B, T, _ = x.shape

        def heads(t):
            return t.view(B, T, self.heads, self.key_dim).transpose(1, 2)

        context = _attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)))
        return self.attention_output(context.transpose(1, 2).reshape(B, T, self.heads * self.key_dim))


class TransformerBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        E, F_ = c["embed"], c["ff"]
        self.att = MultiHeadAttention(c)
        self.ffn = nn.Sequential(nn.Linear(E, F_), nn.ReLU(), nn.Linear(F_, E))
        self.layernorm1, self.layernorm2 = nn.LayerNorm(E, eps=1e-6), nn.LayerNorm(E, eps=1e-6)
        self.dropout1, self.dropout2 = nn.Dropout(DROPOUT), nn.Dropout(DROPOUT)

    def forward(self, x):
        out1 = self.layernorm1(x + self.dropout1(self.att(x)))
        return self.layernorm2(out1 + self.dropout2(self.ffn(out1)))


class SmallTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        E = c["embed"]
        self.token_emb, self.pos_emb = nn.Embedding(c["vocab"], E), nn.Embedding(c["maxlen"], E)
        self.transformer_block = TransformerBlock(c)
        self.dropout = nn.Dropout(DROPOUT)
        self.dense, self.classifier = nn.Linear(E, c["dense"]), nn.Linear(c["dense"], CLASSES)
        self._keras_init(c)

    @torch.no_grad()
    def _keras_init(self, c):
        EMBED, HEADS, KEY_DIM, FF, DENSE = c["embed"], c["heads"], c["key_dim"], c["ff"], c["dense"]

        def glorot(linear, fan_in, fan_out):
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            linear.weight.uniform_(-limit, limit)
            linear.bias.zero_()

        self.token_emb.weight.uniform_(-0.05, 0.05)
        self.pos_emb.weight.uniform_(-0.05, 0.05)
        att = self.transformer_block.att
        for projection in (att.query, att.key, att.value):  # Keras kernels (E, h, k)
            glorot(projection, HEADS * EMBED, KEY_DIM * EMBED)
        glorot(att.attention_output, KEY_DIM * HEADS, EMBED * HEADS)  # (h, k, E)
        glorot(self.transformer_block.ffn[0], EMBED, FF)
        glorot(self.transformer_block.ffn[2], FF, EMBED)
        glorot(self.dense, EMBED, DENSE)
        glorot(self.classifier, DENSE, CLASSES)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.transformer_block(self.token_emb(ids) + self.pos_emb(positions))
        pooled = x.mean(dim=1)  # GlobalAveragePooling1D
        return self.classifier(self.dropout(F.relu(self.dense(self.dropout(pooled)))))


class SmallTransformerTraining:
    name = "small-transformer-imdb"
    job = "train"
    peers = ("the Keras example re-expressed in PyTorch (no PyTorch peer)",)
    sizes = tuple(SIZES)

    def shapes(self, size):
        return [Shape(b, SIZES[size]["maxlen"]) for b in SIZES[size]["batches"]]

    def open(self, device, dtype_name, size):
        return _Session(device, dtype_name, SIZES[size])


class _Session:
    def __init__(self, device, dtype_name, c):
        self.device, self.vocab = device, c["vocab"]
        self.autocast = autocast(device, dtype_name)
        torch.manual_seed(0)
        self.model = SmallTransformer(c)
        check_count("small-transformer-imdb", count_params(self.model), c["params"])
        self.model = self.model.to(device).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7,
                                          **fused_kwargs(torch.optim.Adam, device))
        self.scaler = grad_scaler(device, dtype_name)

    def prepare(self, shape, mode):
        model, optimizer, scaler, ctx = compile_module(self.model, mode), self.optimizer, self.scaler, self.autocast
        generator = torch.Generator().manual_seed(0)
        # Word ids in [2, vocab): no padding, no out-of-vocabulary (mlspeed's synthetic batch).
        ids = torch.randint(2, self.vocab, (shape.batch, shape.seq), generator=generator).to(self.device)
        labels = torch.randint(CLASSES, (shape.batch,), generator=generator).to(self.device)

        return Step(classifier_step(model, optimizer, scaler, ctx, ids, labels), shape.batch, "samples")

    def close(self):
        self.model = self.optimizer = None


def workloads():
    return [SmallTransformerTraining()]
