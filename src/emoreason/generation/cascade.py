"""Cascade attention: rows that share a prompt prefix attend to one copy of its keys and values.

Every prompt of a batch starts with the same system prompt (247 of about 300 prompt tokens for
the C2F format on SmolLM2). Decoding with a plain KV cache keeps a copy of that prefix in every
row and reads all copies at every step; at batch 32 that was most of the attention's memory
traffic. Here the prefix's keys/values are computed once and kept once ([1, kv_heads, P, dim]
per layer); each row's cache holds only its own tokens (the prompt's suffix, then the
completion). Attention over the concatenation is split exactly in two:

    softmax over [prefix ; suffix] = weighted sum of the two partial attentions, with weights
    exp(lse_part - lse_all), lse being each part's log-sum-exp of the scaled scores,

so the result equals ordinary attention up to float rounding. The prefix part runs as one
attention call in which all rows' queries are stacked (a matrix product instead of one
matrix-vector product per row); the suffix part is the usual masked attention.

The engine uses it through the attention-function registry of transformers: inside
`cascade_attention_mode(model)` the model's attention implementation is `ATTENTION`, the engine
passes the prefix as the `shared_prefix` keyword and a prepared 4-D float mask (transformers
passes 4-D masks through untouched). Models it cannot be sure of (sliding windows, soft-capping,
families not listed) keep the copy-per-row cache (`supports_cascade`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from emoreason.generation.matmul import default_matmul_kernels

ATTENTION = "emoreason_cascade"
#: decoder-only families whose attention is plain scaled-dot-product over the full causal context
CASCADE_MODEL_TYPES = frozenset({"llama", "qwen2", "qwen3", "mistral"})

_flash = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu


def _attention_with_lse(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None, scale: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention output [B, H, T, D] and log-sum-exp of the scaled scores [B, H, T] (PyTorch's CPU
    flash-attention kernel, which returns both)."""
    with default_matmul_kernels():
        out, lse = _flash(query, key, value, attn_mask=mask, scale=scale)
    return out, lse


def merge_partial_attention(parts: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """Combine attentions over disjoint key sets, given each part's output and log-sum-exp.
    A part whose keys were all masked must carry lse = -inf (it then weighs nothing)."""
    total = torch.logsumexp(torch.stack([lse for _, lse in parts]), dim=0)
    merged = None
    for out, lse in parts:
        term = out * torch.exp(lse - total)[..., None].to(out.dtype)
        merged = term if merged is None else merged + term
    assert merged is not None
    return merged


def cascade_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    shared_prefix: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """An attention function for transformers' registry (same signature as its `sdpa` one).

    query [B, Hq, T, D]; key/value [B, Hkv, S, D] (the rows' own tokens); attention_mask a float
    mask [B, 1, T, S] (0 to attend, -inf not); shared_prefix[layer] = (keys, values) of the
    prefix, [1, Hkv, P, D], attended by every query. Returns [B, T, Hq, D].
    """
    if shared_prefix is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    if dropout:
        raise ValueError("cascade attention is for inference; it has no dropout")
    prefix_keys, prefix_values = shared_prefix[module.layer_idx]
    batch, heads, length, dim = query.shape
    kv_heads = key.shape[1]
    group = heads // kv_heads
    # query heads h*group .. h*group+group-1 read key/value head h (transformers' repeat_kv order):
    # fold each group into the query axis instead of copying keys/values per query head
    grouped = query.reshape(batch, kv_heads, group * length, dim)
    mask, blind = _grouped_mask(attention_mask, group, query.dtype)
    own_out, own_lse = _attention_with_lse(grouped, key, value, mask, scaling)
    if blind is not None:  # a left-padding query sees none of the rows' own keys: it weighs nothing
        own_lse = own_lse.masked_fill(blind, float("-inf"))
    # every row's queries against the one prefix copy: [1, Hkv, B * group * T, D]
    stacked = grouped.transpose(0, 1).reshape(1, kv_heads, batch * group * length, dim)
    prefix_out, prefix_lse = _attention_with_lse(stacked, prefix_keys, prefix_values, None, scaling)
    prefix_out = prefix_out.reshape(kv_heads, batch, group * length, dim).transpose(0, 1)
    prefix_lse = prefix_lse.reshape(kv_heads, batch, group * length).transpose(0, 1)
    out = merge_partial_attention([(own_out, own_lse), (prefix_out, prefix_lse)])
    out = out.reshape(batch, heads, length, dim)
    return out.transpose(1, 2).contiguous(), None


_last_mask: list = [None, None, None, None]  # (mask, group, grouped mask, blind queries) of the last call


def _grouped_mask(
    attention_mask: torch.Tensor | None, group: int, dtype: torch.dtype
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The mask with each query repeated `group` times, and which queries see no key at all.
    Every layer of a forward pass gets the same mask object: computed once, for the first."""
    if attention_mask is None:
        return None, None
    if _last_mask[0] is attention_mask and _last_mask[1] == group:
        return _last_mask[2], _last_mask[3]
    batch, _, length, keys = attention_mask.shape
    mask = attention_mask[:, :, None].expand(batch, 1, group, length, keys).reshape(batch, 1, group * length, keys)
    mask = mask.to(dtype)
    blind = ~torch.isfinite(mask).any(dim=-1)
    _last_mask[:] = [attention_mask, group, mask, blind if bool(blind.any()) else None]
    return _last_mask[2], _last_mask[3]


AttentionInterface.register(ATTENTION, cascade_attention)


def supports_cascade(model: torch.nn.Module, device: torch.device) -> bool:
    """Whether `model`'s attention is plain causal attention that `cascade_attention` reproduces,
    on CPU (the kernel that returns the log-sum-exp is PyTorch's CPU one; GPUs have vLLM)."""
    config = getattr(model, "config", None)
    if device.type != "cpu":
        return False
    if config is None or getattr(config, "model_type", None) not in CASCADE_MODEL_TYPES:
        return False
    if getattr(config, "_attn_implementation", None) not in ("sdpa", "eager", None):
        return False
    if getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window", True):
        return False
    if any(kind != "full_attention" for kind in getattr(config, "layer_types", None) or ()):
        return False
    return not getattr(config, "attn_logit_softcapping", None)


@contextlib.contextmanager
def cascade_attention_mode(model: torch.nn.Module) -> Iterator[None]:
    """Run `model`'s attention through `cascade_attention`, restoring its implementation after."""
    config = model.config
    before = config._attn_implementation
    config._attn_implementation = ATTENTION
    try:
        yield
    finally:
        config._attn_implementation = before


def additive_mask(keep: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """0 where `keep` is true, -inf elsewhere."""
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill(~keep, float("-inf"))


def prompt_pass_mask(padding: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[B, 1, T, T] causal mask over left-padded rows' own tokens; `padding` [B, T] is 1 on tokens."""
    length = padding.shape[1]
    causal = torch.ones((length, length), dtype=torch.bool, device=padding.device).tril()
    return additive_mask(causal[None, None] & padding.bool()[:, None, None, :], dtype)


def decoding_mask(attention: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[B, 1, 1, S] mask for one new token per row over the rows' own tokens (`attention` [B, S])."""
    return additive_mask(attention.bool()[:, None, None, :], dtype)


__all__ = [
    "ATTENTION",
    "cascade_attention",
    "cascade_attention_mode",
    "decoding_mask",
    "merge_partial_attention",
    "prompt_pass_mask",
    "supports_cascade",
]
