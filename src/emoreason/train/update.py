"""What every optimizer update does, in both trainers: forward passes in the update's precision,
gradients accumulated over micro-batches (synchronised across processes only on the last one),
then clip, step, schedule, zero."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch

from emoreason.data.schema import Polarity
from emoreason.formats.readout import polarity_word_index
from emoreason.models.loading import bf16_where_native


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """ "fp32" or "bf16" for a configured update precision ("auto": bf16 where `device` has native
    bf16 matmuls, else fp32; `models.loading.bf16_where_native`)."""
    return bf16_where_native(precision, device, bf16="bf16", fp32="fp32", name="precision")


def update_precision(precision: str, device: torch.device | str) -> AbstractContextManager[Any]:
    """The context the update's forward passes run in: nothing for fp32; for bf16, PyTorch's
    autocast, so matmuls run in bf16 while the parameters (the fp32 master weights), their
    gradients and the optimizer state stay fp32. Takes a resolved precision (`resolve_precision`).

    Why not accelerate's `mixed_precision="bf16"`, which does the same with the same autocast:
    it is process-wide state (a second Accelerator with another precision raises) and it wraps
    `model.forward` itself, so rollout generation through the same module would run in bf16 too.
    Here the trainer says which passes are the update's."""
    if precision == "fp32":
        return nullcontext()
    if precision != "bf16":
        raise ValueError(f"unknown update precision {precision!r}; use fp32 or bf16")
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


def gradient_sync(accelerator: Any, model: torch.nn.Module, last: bool) -> AbstractContextManager[Any]:
    """Where a backward pass runs: under several processes, DDP's all-reduce is skipped for
    every micro-batch of an accumulation window but the last, which sums them all at once."""
    if last or accelerator.num_processes == 1:
        return nullcontext()
    return accelerator.no_sync(model)


def zero_missing_grads(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Give a zero gradient to each trainable parameter the optimizer has stepped before (all of
    them before the first step) that has none now. An update whose rows were all skipped (they add
    exactly 0) must step as it would have on the zero gradient it computed: AdamW moves a parameter
    with a zero gradient by its momentum, and skips one whose gradient is None."""
    stepped = optimizer.state
    for parameter in model.parameters():
        if parameter.requires_grad and parameter.grad is None and (not stepped or parameter in stepped):
            parameter.grad = torch.zeros_like(parameter)


def optimizer_step(
    accelerator: Any,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    max_grad_norm: float | None,
) -> float | None:
    """Clip (when `max_grad_norm` is set), step the optimizer and the scheduler, zero the
    gradients. Returns the gradient norm before clipping, or None without clipping."""
    grad_norm = None
    if max_grad_norm is not None:
        grad_norm = float(accelerator.clip_grad_norm_(model.parameters(), max_grad_norm))
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return grad_norm


class RunningMeans:
    """Means of named values added one at a time (a statistic may be added more often than
    another, e.g. per micro-batch vs per optimizer step)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, value: float) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + value
        self.counts[name] = self.counts.get(name, 0) + 1

    def means(self) -> dict[str, float]:
        return {name: self.sums[name] / self.counts[name] for name in self.sums}


def without_polarity_word(
    mask: torch.Tensor, continuations: Sequence[Sequence[int]], position: tuple[list[int], dict[Polarity, int]]
) -> torch.Tensor:
    """A copy of the token mask `mask` [rows, width] (continuation-aligned, as `EncodedBatch.mask`)
    with each row's polarity-word token (`formats.readout.polarity_word_index` at `position`) at 0:
    what SFT's `data.train_polarity_word` and GRPO's `algorithm.train_polarity_word` leave out of a
    loss term. A row that writes no polarity word there is kept whole."""
    held = mask.clone()
    for row, ids in enumerate(continuations):
        at = polarity_word_index(ids, position)
        if at is not None:
            held[row, at] = 0
    return held


__all__ = [
    "RunningMeans",
    "gradient_sync",
    "optimizer_step",
    "resolve_precision",
    "update_precision",
    "without_polarity_word",
    "zero_missing_grads",
]
