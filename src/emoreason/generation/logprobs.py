"""Per-token log-probabilities of given continuations, for every model family.

The trainer's forward pass: prompts are encoded by the family (left-padded, media included),
the continuations are appended right-padded, and logits are computed only for the positions
that predict continuation tokens (`logits_to_keep`), which on a 49k-token vocabulary is most of
the memory and time saved.

For text models the rows of a GRPO batch share most of their prompt (the format's system
prompt, and each prompt G times). That shared prefix is run once and its KV cache expanded to
every row, with gradients flowing back through the expansion. Where whole prompts repeat (the G
rollouts of one prompt), the rest of each distinct prompt is run once too and its cache copied
to its rows, so the last pass runs only the continuations: a batch of 2 prompts x 4 rollouts of
about 300 prompt and 46 completion tokens costs about 247 + 2 x 55 + 8 x 46 token positions
instead of 8 x 346 (or 247 + 8 x 101 with the prefix alone).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from emoreason.generation.kv_cache import MIN_SHARED_PREFIX, cache_of, left_padded, shared_prefix_length, with_cache
from emoreason.models.families.base import Conversation
from emoreason.models.loading import LoadedModel


@dataclass
class EncodedBatch:
    """Model inputs of prompt + continuation, and where the continuation tokens sit."""

    inputs: dict[str, Any]
    # [N, W] continuation ids, right-padded; or [N, W, K]: the K ids whose log-probabilities are read at
    # each position (`choice_logprobs`), the model still reading the continuation `inputs` holds
    targets: torch.Tensor
    mask: torch.Tensor  # [N, W] 1 where a continuation token exists
    prefix_ids: torch.Tensor | None = None  # [1, P] prompt tokens every row starts with, run once
    # where prompts repeat: the distinct prompts' tokens after the prefix (run once each, after the
    # prefix), and which of them each row continues; `inputs` then holds the continuations only
    prompt_inputs: dict[str, torch.Tensor] | None = None
    prompt_of_row: torch.Tensor | None = None  # [N] index into the distinct prompts


def encode_with_continuations(
    loaded: LoadedModel,
    conversations: Sequence[Conversation],
    continuations: Sequence[Sequence[int]],
    share_prefix: bool = True,
) -> EncodedBatch:
    """`conversations` must not carry an assistant prefix: a prefix hint belongs at the start
    of its continuation (so that its tokens are scored and can be masked out of the loss).

    `share_prefix` (text models only) splits off the prompt tokens all rows share; the caller
    must then run `continuation_logprobs` on a model that tolerates two forward calls per
    backward (not a DDP wrapper)."""
    if len(conversations) != len(continuations):
        raise ValueError(f"{len(conversations)} conversations but {len(continuations)} continuations")
    if any(c.assistant_prefix for c in conversations):
        raise ValueError("put assistant prefixes into the continuations, not the conversations")
    prompt = loaded.family.encode(loaded.processor, list(conversations))
    pad = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
    width = max(1, max(len(c) for c in continuations))
    targets = torch.full((len(continuations), width), pad, dtype=torch.long)
    mask = torch.zeros((len(continuations), width), dtype=torch.long)
    for row, ids in enumerate(continuations):
        targets[row, : len(ids)] = torch.tensor(list(ids), dtype=torch.long)
        mask[row, : len(ids)] = 1
    if share_prefix and loaded.family.name == "causal_lm" and len(continuations) > 1:
        shared = _split_shared_prefix(prompt, targets, mask, pad, loaded.device)
        if shared is not None:
            return shared
    inputs = dict(prompt)
    inputs["input_ids"] = torch.cat([prompt["input_ids"], targets], dim=1)
    inputs["attention_mask"] = torch.cat([prompt["attention_mask"], mask], dim=1)
    if loaded.family.name == "causal_lm":
        # Text models take positions as given (default: 0..L-1 regardless of padding); the
        # generation engine counts them from the first real token, so must the trainer.
        inputs["position_ids"] = (inputs["attention_mask"].cumsum(dim=1) - 1).clamp(min=0)
    device = loaded.device
    inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in inputs.items()}
    return EncodedBatch(inputs=inputs, targets=targets.to(device), mask=mask.to(device))


def _split_shared_prefix(
    prompt: dict[str, torch.Tensor], targets: torch.Tensor, mask: torch.Tensor, pad: int, device: torch.device
) -> EncodedBatch | None:
    rows = [ids[m.bool()].tolist() for ids, m in zip(prompt["input_ids"], prompt["attention_mask"])]
    length = shared_prefix_length(rows)
    if length < MIN_SHARED_PREFIX:
        return None
    suffixes = [row[length:] for row in rows]
    distinct: dict[tuple[int, ...], int] = {}
    prompt_of_row = [distinct.setdefault(tuple(suffix), len(distinct)) for suffix in suffixes]
    prefix_ids = torch.tensor([rows[0][:length]], dtype=torch.long, device=device)
    if len(distinct) < len(rows):
        return _split_repeated_prompts(prefix_ids, list(distinct), prompt_of_row, targets, mask, pad)
    suffix_ids, suffix_mask = left_padded(suffixes, pad)
    inputs = {"input_ids": torch.cat([suffix_ids, targets], dim=1).to(device)}
    inputs.update(_after_prefix(length, torch.cat([suffix_mask, mask], dim=1), device))
    return EncodedBatch(inputs=inputs, targets=targets.to(device), mask=mask.to(device), prefix_ids=prefix_ids)


def _after_prefix(length: int, tail_mask: torch.Tensor, device: torch.device, keep: int = 0) -> dict[str, torch.Tensor]:
    """Attention mask and positions of rows that continue a cached `length`-token prefix with
    `tail_mask`'s tokens (left-padded), for their last `keep` columns (0: all). The mask covers
    the cached prefix too, as the generation engine's does."""
    ones = torch.ones((tail_mask.shape[0], length), dtype=torch.long)
    positions = (length + tail_mask.cumsum(dim=1) - 1).clamp(min=length)
    return {
        "attention_mask": torch.cat([ones, tail_mask], dim=1).to(device),
        "position_ids": positions[:, -keep:].to(device) if keep else positions.to(device),
    }


def _split_repeated_prompts(
    prefix_ids: torch.Tensor,
    prompts: list[tuple[int, ...]],
    prompt_of_row: list[int],
    targets: torch.Tensor,
    mask: torch.Tensor,
    pad: int,
) -> EncodedBatch:
    """Three passes: the shared prefix (1 row), the distinct prompts' remaining tokens (one row
    each), the continuations (every row, over a copy of its prompt's cache)."""
    length, device = prefix_ids.shape[1], prefix_ids.device
    prompt_ids, prompt_mask = left_padded(prompts, pad)
    prompt_inputs = {"input_ids": prompt_ids.to(device), **_after_prefix(length, prompt_mask, device)}
    index = torch.tensor(prompt_of_row, dtype=torch.long)
    tail_mask = torch.cat([prompt_mask[index], mask], dim=1)
    inputs = {"input_ids": targets.to(device), **_after_prefix(length, tail_mask, device, keep=targets.shape[1])}
    return EncodedBatch(
        inputs=inputs,
        targets=targets.to(device),
        mask=mask.to(device),
        prefix_ids=prefix_ids,
        prompt_inputs=prompt_inputs,
        prompt_of_row=index.to(device),
    )


def continuation_logprobs(
    model: torch.nn.Module, batch: EncodedBatch, temperature: float = 1.0, with_entropy: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """log p(target_t | prompt, target_<t) for every continuation position: [N, W] (float32),
    differentiable when grad is enabled; padding positions hold garbage, mask them.

    Logits are divided by `temperature` so that the values match the engine's sampling
    log-probabilities (what the clipped ratio compares against)."""
    width = batch.targets.shape[1]
    if batch.prefix_ids is None:
        out = model(**batch.inputs, use_cache=False, logits_to_keep=width + 1)
        return _token_logprobs(out.logits[:, -width - 1 : -1, :].float(), batch.targets, temperature, with_entropy)
    # text models from here on (`encode_with_continuations` shares prefixes for them only): logits
    # only where a target is predicted, the `width` positions before the last
    length = batch.inputs["input_ids"].shape[1]
    cache = cache_of(model(input_ids=batch.prefix_ids, use_cache=True, logits_to_keep=1))
    if batch.prompt_inputs is None or batch.prompt_of_row is None:
        cache.batch_repeat_interleave(batch.targets.shape[0])
        keep = torch.arange(length - width - 1, length - 1, device=batch.targets.device)
        out = model(**batch.inputs, **with_cache(cache), use_cache=True, logits_to_keep=keep)
        return _token_logprobs(_kept(out.logits, keep, length), batch.targets, temperature, with_entropy)
    cache.batch_repeat_interleave(batch.prompt_inputs["input_ids"].shape[0])
    prompts = model(**batch.prompt_inputs, **with_cache(cache), use_cache=True, logits_to_keep=1)
    cache = cache_of(prompts)
    # each row gets a copy of its prompt's keys and values, and gradients flow back through the
    # copy: with `index_select`, whose backward sums the copies in a fixed order (indexing with a
    # tensor, `batch_select_indices`, accumulates them in thread order: not reproducible)
    for layer in cache.layers:
        layer.keys = layer.keys.index_select(0, batch.prompt_of_row)
        layer.values = layer.values.index_select(0, batch.prompt_of_row)
    # the first target is predicted at the prompt's last position, the rest inside the continuation
    # (its first width - 1 positions: the last one would predict past the continuation, so its
    # logits are not computed); each part is scored apart, so no [N, W, V] copy joins them
    first = prompts.logits[:, -1:].index_select(0, batch.prompt_of_row).float()
    parts = [_token_logprobs(first, batch.targets[:, :1], temperature, with_entropy)]
    if width > 1:
        keep = torch.arange(width - 1, device=batch.targets.device)
        out = model(**batch.inputs, **with_cache(cache), use_cache=True, logits_to_keep=keep)
        parts.append(_token_logprobs(_kept(out.logits, keep, length), batch.targets[:, 1:], temperature, with_entropy))
    logprobs = torch.cat([lp for lp, _ in parts], dim=1)
    return logprobs, torch.cat([e for _, e in parts], dim=1) if with_entropy else None  # type: ignore[misc]


def _kept(logits: torch.Tensor, keep: torch.Tensor, length: int) -> torch.Tensor:
    """The logits [N, len(keep), V] of positions `keep`, as float32: a model that takes
    `logits_to_keep` as a tensor of positions (transformers' `slice_logits_to_keep`) returned
    just those; one that does not returned every position, and they are picked here."""
    if logits.shape[1] == keep.numel():
        return logits.float()
    if logits.shape[1] == length:
        return logits[:, keep].float()
    raise ValueError(f"the model returned logits for {logits.shape[1]} positions; expected {keep.numel()} or {length}")


def _token_logprobs(
    logits: torch.Tensor, targets: torch.Tensor, temperature: float, with_entropy: bool
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Log-probabilities [N, W] of `targets` under `logits` [N, W, V] / temperature, and the
    entropies if asked. One fused `log_softmax` over the vocabulary (forward and backward), and
    the entropy from its output: on 8 x 46 positions of a 49k-word vocabulary this took 0.32 s
    against 0.45 s for `logsumexp` and a separate softmax (RESULTS)."""
    if temperature != 1.0:
        logits = logits / temperature
    log_probs = torch.log_softmax(logits, dim=-1)
    if targets.dim() == logits.dim():  # K ids a position (`choice_logprobs`): [N, W, K]
        logprobs = log_probs.gather(-1, targets)
    else:
        logprobs = log_probs.gather(-1, targets[..., None]).squeeze(-1)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = -(log_probs.exp() * log_probs).sum(-1)
    return logprobs, entropy


def choice_logprobs(
    model: torch.nn.Module,
    loaded: LoadedModel,
    conversations: Sequence[Conversation],
    prefix: Sequence[int],
    choices: Sequence[int],
    share_prefix: bool = True,
) -> torch.Tensor:
    """[N, K]: the log-probability (over the whole vocabulary) of each of the K `choices` (token ids)
    right after `prefix` (token ids) in the answer to each of the N `conversations`: a C2F answer's
    three polarity words after `<polarity>` (`formats.readout.polarity_position`). One row a
    conversation, continued by `prefix` and the first choice and scored as `continuation_logprobs`
    scores it, the K choices read off the one distribution at the word (three rows a conversation, one
    a word, cost three times the prompt passes and cache copies); differentiable when grad is enabled."""
    continuations = [[*prefix, choices[0]] for _ in conversations]
    encoded = encode_with_continuations(loaded, conversations, continuations, share_prefix=share_prefix)
    read = encoded.targets[..., None].repeat(1, 1, len(choices))  # [N, W, K]: the token itself, K times ...
    read[:, len(prefix)] = torch.tensor(list(choices), dtype=read.dtype, device=read.device)  # ... the K words
    logp, _ = continuation_logprobs(model, dataclasses.replace(encoded, targets=read))
    return logp[:, len(prefix)]


def hint_token_ids(loaded: LoadedModel, prefix: str) -> list[int]:
    """Token ids of an assistant prefix as they appear after the generation prompt."""
    if not prefix:
        return []
    return list(loaded.tokenizer(prefix, add_special_tokens=False)["input_ids"])


__all__ = ["EncodedBatch", "choice_logprobs", "continuation_logprobs", "encode_with_continuations", "hint_token_ids"]
