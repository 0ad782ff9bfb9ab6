"""Building Hugging Face transformers models with random weights, across transformers 4.x and 5.x."""
import torch

from .common import HarnessError, import_transformers


def from_config(auto_class, config, dtype=None, attn_implementation="sdpa"):
    """auto_class.from_config(config, attn_implementation=..., dtype=...): the documented way to
    build a model with random weights. transformers 5 calls the dtype argument `dtype`, 4.x
    `torch_dtype` (4.56+ take both): the first that this version accepts."""
    transformers = import_transformers()
    cls = getattr(transformers, auto_class)
    kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
    if dtype is None:
        return _checked(cls.from_config(config, **kwargs), attn_implementation, None)
    error = None
    for key in ("dtype", "torch_dtype"):
        try:
            model = cls.from_config(config, **kwargs, **{key: dtype})
        except TypeError as e:  # an unknown keyword reaches the model's __init__
            if key not in str(e):
                raise
            error = e
            continue
        return _checked(model, attn_implementation, dtype)
    raise error


def _checked(model, attn_implementation, dtype):
    got = getattr(model.config, "_attn_implementation", None)
    if attn_implementation and got != attn_implementation:
        raise HarnessError(f"{type(model).__name__} attention is {got!r}, asked for {attn_implementation!r}")
    if dtype is not None:
        p = next(model.parameters())
        if p.dtype != dtype:
            raise HarnessError(f"{type(model).__name__} was built in {p.dtype}, asked for {dtype}")
    return model


def version():
    return import_transformers().__version__


def logits_to_keep_kwargs(model, n=1):
    """Only the last position's logits (`logits_to_keep`, 4.50+; `num_logits_to_keep` before)."""
    import inspect

    params = inspect.signature(model.forward).parameters
    for key in ("logits_to_keep", "num_logits_to_keep"):
        if key in params:
            return {key: n}
    return {}


def unique_param_count(model):
    return sum(p.numel() for p in model.parameters())  # tied weights once, as parameters() yields them


def torch_inference():
    return torch.inference_mode()
