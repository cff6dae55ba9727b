"""One request alone: a compiled decoding step that reads the weights at memory speed.

At batch 1 every decoding step is one matrix-vector product per linear layer (211 for
SmolLM2-135M), and the time is the time to read the weights once. PyTorch's fp32 `F.linear`
(MKL's sgemv) reads them at 11-15 GB/s on this CPU; the same product written as a reduction,
`(W * x).sum(-1)`, compiled by inductor, reads at about 24 GB/s against a 31 GB/s memory floor
(`benchmarks/decode_matmuls.py`, docs/RESULTS.md). A compiled call still costs tens of
microseconds of Python and guard checks, so the unit compiled here is not one product but the
two halves of a decoder layer: the norm, q/k/v projections and rotary embedding before the
attention, and the output projection, norm and MLP after it. The attention itself stays eager
(scaled-dot-product over the engine's in-place KV cache, whose length grows every step), as do
the embedding lookup and the rotary table; that is a few small calls per layer.

What changes numerically: only the order in which each dot product is summed (the reduction
against MKL's kernel), so greedy tokens agree with the eager path except at near-ties; the
engine's tests check identical tokens on a tiny model and RESULTS gives the share on the real
one. Everything else (RMSNorm in fp32, rotary, SDPA with the layer's own scaling) follows the
transformers Llama code it replaces.

It covers decoder-only models with the Llama layout (Llama, and Qwen2 with its q/k/v biases
and no sliding window) whose projections are plain `nn.Linear`s, on CPU. A LoRA still
wrapped by peft, another layout, or a failed compile (no C++ compiler, say) returns None from
`SingleRowDecoder.build`, and the engine decodes as before.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers.cache_utils import Cache

LOG = logging.getLogger(__name__)
SUPPORTED_TYPES = frozenset({"llama", "qwen2"})
# below this many bytes of linear weights the compile (seconds) costs more than it saves
AUTO_MIN_WEIGHT_BYTES = 64 << 20
# the compiled step pays only where `F.linear` of one row reads the weights well below memory speed
# (`linear_read_share`). On the AVX512-BF16 EPYC it went through them at 0.35-0.5 of the speed of a read of
# them as one tensor (`benchmarks/decode_matmuls.py`; a read matrix by matrix, as this probe does, is slower:
# 0.8 of the one-tensor read on the AMX Xeon, which would put the EPYC at about 0.45-0.62), and the step took
# 24 ms a token against 59 eager. On the AMX Xeon F.linear read at 0.95 (this probe: 1.2), and the step was no
# faster than eager (RESULTS, "Single-request decoding on the AMX Xeon"): its compile, seconds a process,
# bought nothing there
LINEAR_READ_SHARE_BELOW = 0.8


def _project(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """`F.linear` of one vector as a reduction: inductor turns it into a bandwidth-bound loop."""
    out = (weight * x).sum(-1)
    return out if bias is None else out + bias


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    dtype = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x.to(dtype)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def attention_inputs(
    hidden: torch.Tensor,
    norm: torch.Tensor,
    eps: float,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    q_bias: torch.Tensor | None,
    k_bias: torch.Tensor | None,
    v_bias: torch.Tensor | None,
    cos: torch.Tensor,
    sin: torch.Tensor,
    head_dim: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """First half of a decoder layer for one token: `hidden` [D] -> query, key, value as
    [heads, head_dim], rotary applied to query and key."""
    x = _rms_norm(hidden, norm, eps)
    query = _project(x, q, q_bias).view(-1, head_dim)
    key = _project(x, k, k_bias).view(-1, head_dim)
    value = _project(x, v, v_bias).view(-1, head_dim)
    return _rotate(query, cos, sin), _rotate(key, cos, sin), value


def after_attention(
    hidden: torch.Tensor,
    attended: torch.Tensor,
    o: torch.Tensor,
    o_bias: torch.Tensor | None,
    norm: torch.Tensor,
    eps: float,
    gate: torch.Tensor,
    up: torch.Tensor,
    down: torch.Tensor,
    gate_bias: torch.Tensor | None,
    up_bias: torch.Tensor | None,
    down_bias: torch.Tensor | None,
) -> torch.Tensor:
    """Second half: output projection and residual, then the SiLU MLP and residual."""
    hidden = hidden + _project(attended, o, o_bias)
    x = _rms_norm(hidden, norm, eps)
    activated = F.silu(_project(x, gate, gate_bias)) * _project(x, up, up_bias)
    return hidden + _project(activated, down, down_bias)


def output_logits(hidden: torch.Tensor, norm: torch.Tensor, eps: float, head: torch.Tensor) -> torch.Tensor:
    return _project(_rms_norm(hidden, norm, eps), head, None)


@functools.cache
def compiled() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The three step functions under `torch.compile`, once per process (inductor also keeps the
    generated code on disk, so a later process loads instead of compiling)."""
    options = {"dynamic": False, "fullgraph": True}
    return (
        torch.compile(attention_inputs, **options),
        torch.compile(after_attention, **options),
        torch.compile(output_logits, **options),
    )


def _bias(layer: nn.Linear) -> torch.Tensor | None:
    return None if layer.bias is None else layer.bias.detach()


def layout_supported(model: nn.Module) -> bool:
    """Whether `model` has the Llama decoder layout this step reproduces, with plain linears."""
    config = getattr(model, "config", None)
    inner = getattr(model, "model", None)
    if config is None or inner is None or getattr(config, "model_type", None) not in SUPPORTED_TYPES:
        return False
    if getattr(config, "hidden_act", None) != "silu" or getattr(config, "pretraining_tp", 1) != 1:
        return False
    if getattr(config, "use_sliding_window", False):  # Qwen2's option: attention this step does not restrict
        return False
    layers = getattr(inner, "layers", None)
    if not layers or not isinstance(getattr(model, "lm_head", None), nn.Linear):
        return False
    if not all(hasattr(inner, part) for part in ("embed_tokens", "rotary_emb", "norm")):
        return False
    for layer in layers:
        attention, mlp = getattr(layer, "self_attn", None), getattr(layer, "mlp", None)
        names = [(attention, n) for n in ("q_proj", "k_proj", "v_proj", "o_proj")]
        names += [(mlp, n) for n in ("gate_proj", "up_proj", "down_proj")]
        if any(type(getattr(owner, name, None)) is not nn.Linear for owner, name in names):
            return False
    return True


def linear_weight_bytes(model: nn.Module) -> int:
    return sum(m.weight.numel() * m.weight.element_size() for m in model.modules() if isinstance(m, nn.Linear))


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    """The median wall time of `run` over `repeats` calls (warm it first: the first call pays for caches)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


@torch.inference_mode()
def linear_read_share(model: nn.Module, repeats: int = 3) -> float:
    """How fast `F.linear` of one row goes through `model`'s linear weights, as a share of a plain read of the
    same weights (`Tensor.sum` of each, close to memory speed): near 1 or above, one decoding step's products
    are already bound by memory and the compiled step has nothing to gain on them. Two passes over the
    weights a repeat (about 0.2 s for the default model's 538 MB)."""
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    rows = {w.shape[1]: torch.ones(w.shape[1], dtype=w.dtype, device=w.device) for w in weights}

    def products() -> None:
        for w in weights:
            F.linear(rows[w.shape[1]], w)

    def read() -> None:
        for w in weights:
            w.sum()

    products(), read()  # warm
    products_s, read_s = median_seconds(products, repeats), median_seconds(read, repeats)
    return read_s / products_s if products_s > 0 else 1.0


def compiled_step_pays(model: nn.Module) -> bool:
    """Whether the compiled step is worth its compile for `model` on this CPU (`LINEAR_READ_SHARE_BELOW`);
    the figures are logged, so a user can see why a lone row decodes eagerly."""
    share = linear_read_share(model)
    pays = share < LINEAR_READ_SHARE_BELOW
    LOG.info(
        "one-row F.linear reads the weights at %.2f of memory speed on this CPU: %s",
        share,
        "the compiled single-row step pays" if pays else "lone rows decode eagerly (the compiled step would not pay)",
    )
    return pays


class SingleRowDecoder:
    """Next-token logits for one row from a Llama-layout model, reading and writing the engine's
    KV cache (`Cache.layers[i].update`). Build it with `build`, which says None where it cannot."""

    def __init__(self, model: nn.Module):
        inner = model.model
        self.embed = inner.embed_tokens
        self.rotary = inner.rotary_emb
        self.final_norm = (inner.norm.weight.detach(), float(inner.norm.variance_epsilon))
        self.head = model.lm_head.weight.detach()
        self.layers = []
        for layer in inner.layers:
            attention, mlp = layer.self_attn, layer.mlp
            self.layers.append(
                {
                    "first": (
                        layer.input_layernorm.weight.detach(),
                        float(layer.input_layernorm.variance_epsilon),
                        attention.q_proj.weight.detach(),
                        attention.k_proj.weight.detach(),
                        attention.v_proj.weight.detach(),
                        _bias(attention.q_proj),
                        _bias(attention.k_proj),
                        _bias(attention.v_proj),
                    ),
                    "second": (
                        attention.o_proj.weight.detach(),
                        _bias(attention.o_proj),
                        layer.post_attention_layernorm.weight.detach(),
                        float(layer.post_attention_layernorm.variance_epsilon),
                        mlp.gate_proj.weight.detach(),
                        mlp.up_proj.weight.detach(),
                        mlp.down_proj.weight.detach(),
                        _bias(mlp.gate_proj),
                        _bias(mlp.up_proj),
                        _bias(mlp.down_proj),
                    ),
                    "head_dim": int(attention.head_dim),
                    "scaling": float(attention.scaling),
                }
            )

    @classmethod
    def build(cls, model: nn.Module) -> SingleRowDecoder | None:
        """A decoder for `model`, or None where the layout is not covered or the compile fails
        (then warned once per process; the engine keeps its eager path)."""
        device = next(model.parameters()).device
        if device.type != "cpu" or not layout_supported(model):
            return None
        if _compile_failed():
            return None
        decoder = cls(model)
        try:
            decoder._warm_up()
        except Exception as err:  # a missing compiler, an unsupported op: decode eagerly instead
            _compile_failed(err)
            return None
        return decoder

    @torch.inference_mode()  # as the engine decodes: a compile in grad mode would not be reused
    def _warm_up(self) -> None:
        """Compile on dummy values of the real shapes (no cache is touched)."""
        first_half, second_half, logits = compiled()
        layer = self.layers[0]
        hidden = self.embed.weight[0].detach().clone()
        cos, sin = self._rotary(hidden, 0)
        query, _, _ = first_half(hidden, *layer["first"], cos, sin, layer["head_dim"])
        hidden = second_half(hidden, query.reshape(-1), *layer["second"])  # query has the attended size
        logits(hidden, *self.final_norm, self.head)

    def _rotary(self, hidden: torch.Tensor, position: int) -> tuple[torch.Tensor, torch.Tensor]:
        positions = torch.tensor([[position]], device=hidden.device)
        cos, sin = self.rotary(hidden[None, None], positions)
        return cos.reshape(-1), sin.reshape(-1)

    @torch.inference_mode()
    def step(self, token: int, position: int, cache: Cache) -> torch.Tensor:
        """Logits [1, vocab] for `token` at `position`, its keys and values appended to `cache`."""
        first_half, second_half, logits = compiled()
        hidden = self.embed.weight[token]
        cos, sin = self._rotary(hidden, position)
        for index, layer in enumerate(self.layers):
            query, key, value = first_half(hidden, *layer["first"], cos, sin, layer["head_dim"])
            keys, values = cache.layers[index].update(key[None, :, None], value[None, :, None])
            attended = F.scaled_dot_product_attention(
                query[None, :, None], keys, values, scale=layer["scaling"], enable_gqa=True
            )
            hidden = second_half(hidden, attended.reshape(-1), *layer["second"])
        return logits(hidden, *self.final_norm, self.head)[None]


_FAILURE: list[str] = []


def _compile_failed(err: Exception | None = None) -> bool:
    """Record a compile failure (with `err`) or ask whether one happened in this process."""
    if err is not None and not _FAILURE:
        _FAILURE.append(f"{type(err).__name__}: {err}")
        LOG.warning("the compiled single-row decoding step is unavailable (%s); decoding eagerly", _FAILURE[0])
    return bool(_FAILURE)
