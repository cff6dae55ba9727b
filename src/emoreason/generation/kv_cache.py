"""A KV cache layer that decodes by writing in place instead of concatenating.

transformers' `DynamicLayer` grows with `torch.cat` at every decoding step, which reads and
writes the whole cache once per token: at batch 32 and ~350 tokens SmolLM2-135M holds about
0.5 GB of fp32 keys and values, so each step moved about 1 GB, more memory traffic than the
weights themselves. `PreallocatedLayer` keeps keys and values in buffers with room for the
tokens still to come and writes each new token into its slot; what the attention sees is a view
of the filled part, so the arithmetic is unchanged (the engine's tests check identical tokens).

Only plain `DynamicLayer`s are replaced: sliding-window and other special layers keep their own
update rules.

`plan_prefill_groups` and `stack_caches` serve the prompt pass: rows whose prompts differ much in
length are run in groups of similar length (each padded only to its own longest), and the groups'
caches are then stacked into one batch for decoding, the shorter ones padded at the end with
masked slots. Attention is indifferent to where a masked slot sits, and positions are explicit,
so this changes no result; it saves the padding tokens' compute, which at batch 32 on movie
reviews was about a third of the prompt pass.

`with_cache` and `cache_of` pass a cache to a model and read it back under the name the installed
transformers gives it (`CACHE_NAME`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer
from transformers.modeling_outputs import CausalLMOutputWithPast

#: what transformers calls a model's KV cache, as forward argument and output field. 5.24 renamed
#: `past_key_values` to `cache`, and from then on the old name costs a FutureWarning at every forward
#: (every decoding step) and a log line on reading it; the floor (pyproject.toml) is 5.23, whose models
#: take only the old name. The output class tells which release this is.
CACHE_NAME = "cache" if "cache" in CausalLMOutputWithPast.__dataclass_fields__ else "past_key_values"


def with_cache(cache: Cache | None) -> dict[str, Cache | None]:
    """The keyword argument that hands `cache` to a model: `model(..., **with_cache(cache))`."""
    return {CACHE_NAME: cache}


def cache_of(output: Any) -> Cache:
    """The KV cache a model's output carries (`output.cache`; `past_key_values` before 5.24)."""
    return getattr(output, CACHE_NAME)


class PreallocatedLayer(DynamicLayer):
    """A `DynamicLayer` whose keys/values live in buffers with spare room along the sequence."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, room: int):
        super().__init__()
        length = keys.shape[-2]
        self._adopt(self._buffer(keys, length + room), self._buffer(values, length + room), length)

    @classmethod
    def wrap(cls, keys: torch.Tensor, values: torch.Tensor, length: int) -> PreallocatedLayer:
        """A layer over buffers already allocated with room, whose first `length` positions are filled."""
        layer = cls.__new__(cls)
        DynamicLayer.__init__(layer)
        layer._adopt(keys, values, length)
        return layer

    def _adopt(self, keys: torch.Tensor, values: torch.Tensor, length: int) -> None:
        self.dtype, self.device = keys.dtype, keys.device
        self._keys, self._values, self.length = keys, values, length
        self.is_initialized = True
        self._expose()

    @staticmethod
    def _buffer(filled: torch.Tensor, capacity: int) -> torch.Tensor:
        batch, heads, length, dim = filled.shape
        buffer = filled.new_empty((batch, heads, capacity, dim))
        buffer[:, :, :length] = filled
        return buffer

    def _expose(self) -> None:
        # the attention (and `get_seq_length`) see only the filled part
        self.keys = self._keys[:, :, : self.length]
        self.values = self._values[:, :, : self.length]

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor]:
        new = key_states.shape[-2]
        if self.length + new > self._keys.shape[-2]:  # out of room: grow by doubling, as a list would
            capacity = max(2 * self._keys.shape[-2], self.length + new)
            self._keys, self._values = self._buffer(self.keys, capacity), self._buffer(self.values, capacity)
        self._keys[:, :, self.length : self.length + new] = key_states
        self._values[:, :, self.length : self.length + new] = value_states
        self.length += new
        self._expose()
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        order = indices.tolist()
        if order != sorted(set(order)):  # a reordering or repetition: gather into new buffers
            self._keys, self._values = self._keys[indices], self._values[indices]
        else:
            # the rows that stay, in order (finished rows leaving the batch): move each down into
            # the first free slot of the same buffers. Gathering into new buffers instead allocated
            # the whole cache again each time a row finished, and on this machine touching fresh
            # memory costs about as much as a decoding step.
            for slot, row in enumerate(order):
                if slot != row:
                    self._keys[slot, :, : self.length] = self._keys[row, :, : self.length]
                    self._values[slot, :, : self.length] = self._values[row, :, : self.length]
            self._keys, self._values = self._keys[: len(order)], self._values[: len(order)]
        self._expose()

    def batch_repeat_interleave(self, repeats: int) -> None:
        self._keys = self._keys.repeat_interleave(repeats, dim=0)
        self._values = self._values.repeat_interleave(repeats, dim=0)
        self._expose()

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove > 0:
            raise ValueError(f"crop takes a negative number of tokens to remove, not {tokens_to_remove}")
        self.length = max(0, self.length + tokens_to_remove)
        self._expose()

    def reset(self) -> None:
        self.length = 0
        self._expose()


def preallocate(cache: Cache, room: int) -> Cache:
    """Replace, in place, each filled plain `DynamicLayer` of `cache` by a `PreallocatedLayer`
    with room for `room` more tokens; returns the same cache."""
    for index, layer in enumerate(cache.layers):
        if type(layer) is DynamicLayer and layer.is_initialized and layer.keys is not None and layer.keys.dim() == 4:
            cache.layers[index] = PreallocatedLayer(layer.keys, layer.values, room)
    return cache


def plain_dynamic(cache: Cache | None) -> bool:
    """Whether every layer of `cache` is a plain `DynamicLayer` (what `stack_caches` can stack)."""
    return cache is None or all(type(layer) is DynamicLayer for layer in cache.layers)


def plan_prefill_groups(lengths: Sequence[int], overhead_tokens: int = 32) -> list[list[int]]:
    """Split rows (by index) into groups of similar prompt length for the prompt pass.

    Minimises the tokens computed, padding included, plus `overhead_tokens` per extra forward pass
    (its fixed cost, in tokens' worth of compute): an exact dynamic programme over the rows sorted
    by length, O(n^2). Groups come out shortest first; rows of equal length keep their order.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    n = len(order)
    if n == 0:
        return []
    best = [0.0] + [float("inf")] * n  # best[j]: cost of grouping the j shortest rows
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        longest = lengths[order[end - 1]]  # sorted: the last row of a group is its longest
        for start in range(end):
            cost = best[start] + (end - start) * longest + overhead_tokens
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], n
    while end > 0:
        groups.append(order[cut[end] : end])
        end = cut[end]
    return groups[::-1]


def stack_caches(caches: Sequence[Cache], room: int | None = None) -> DynamicCache:
    """Concatenate caches of plain `DynamicLayer`s along the batch; shorter ones are padded at the
    end of the sequence with zeros, which the caller's attention mask must mark as padding.

    With `room`, the layers are `PreallocatedLayer`s with space for `room` more tokens, filled in
    one copy (stacking, then `preallocate`, would copy the whole cache twice)."""
    total = max(cache.get_seq_length() for cache in caches)
    stacked = DynamicCache()
    stacked.layers = []
    for layers in zip(*(cache.layers for cache in caches)):
        first = layers[0].keys
        shape = (sum(layer.keys.shape[0] for layer in layers), first.shape[1], total + (room or 0), first.shape[3])
        keys, values = first.new_empty(shape), first.new_empty(shape)
        row = 0
        for layer in layers:
            rows, length = layer.keys.shape[0], layer.keys.shape[-2]
            keys[row : row + rows, :, :length] = layer.keys
            values[row : row + rows, :, :length] = layer.values
            # masked slots still enter the attention's arithmetic (weight 0 times value): they must
            # be finite. The room after `total` is written before it is ever read.
            keys[row : row + rows, :, length:total] = 0
            values[row : row + rows, :, length:total] = 0
            row += rows
        if room is None:
            layer = DynamicLayer()
            layer.update(keys, values)
        else:
            layer = PreallocatedLayer.wrap(keys, values, total)
        stacked.layers.append(layer)
    return stacked


def left_padded(sequences: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows right-aligned in a [N, longest] batch: the ids (`pad` in front) and a mask
    that is 1 on the tokens."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad, dtype=torch.long)
    present = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, sequence in enumerate(sequences):
        ids[i, width - len(sequence) :] = torch.tensor(list(sequence), dtype=torch.long)
        present[i, width - len(sequence) :] = 1
    return ids, present


MIN_SHARED_PREFIX = 8  # below this, a separate prefix pass costs more than it saves


def shared_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Tokens all sequences share at the start, leaving at least one token of each to run."""
    if not sequences:
        return 0
    shortest = min(len(s) for s in sequences)
    first = sequences[0]
    length = 0
    while length < shortest - 1 and all(s[length] == first[length] for s in sequences):
        length += 1
    return length


__all__ = [
    "CACHE_NAME",
    "MIN_SHARED_PREFIX",
    "PreallocatedLayer",
    "cache_of",
    "plain_dynamic",
    "plan_prefill_groups",
    "preallocate",
    "shared_prefix_length",
    "stack_caches",
    "with_cache",
]
