"""Teaching the polarity word's distribution the gold score (`polarity` section of an SFT recipe).

Why: the shipped model's score is read mostly off the probabilities it gives the three polarity
words where its answer starts (`formats.readout`: the fitted line weighs P(positive) -
P(negative) 0.93 and the written number through its confidence 0.26; RESULTS). Chain SFT teaches
that position one hard word per kept teacher chain, and the teacher's filter keeps only the
sentences the lexicon reads right (about half); GRPO's score term rewards the written number,
which the readout barely uses, and a group shares one distribution at that position, so no group
advantage can move it towards the gold score. This objective supervises the distribution itself,
on every scored sentence of a pool, chain or not.

The target of a sentence with gold score g: the shares of the three polarities that one rater's
reading would give if it were spread normally around g with standard deviation `rater_sd`, cut at
the task's neutral band:

    P(negative) = Phi((low - g) / sd),  P(positive) = 1 - Phi((high - g) / sd),  P(neutral) = the rest

so the target's P(positive) - P(negative) rises smoothly with g, and a sentence near the band's edge
asks for an uncertain answer rather than a confident wrong-side one. The loss is the cross-entropy
of that target against the model's distribution renormalised over the three words (the readout
renormalises the same way).

Everything here is a pure function; the SFT trainer encodes the prompts and adds the loss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from emoreason.data.schema import POLARITIES, Polarity, TaskInfo


def _phi(x: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def polarity_targets(score: float, task: TaskInfo, rater_sd: float) -> dict[Polarity, float]:
    """The three polarities' target shares for gold `score` on `task`'s scale (module docstring).

    Raises ValueError for a task without a score scale, a score that is not a
    finite number, or a `rater_sd` that is not above 0."""
    if task.scale is None:
        raise ValueError(f"task {task.name!r} has no score scale: there is no polarity target to read off a score")
    if not math.isfinite(score):
        raise ValueError(f"the gold score must be a finite number, got {score!r}")
    if not rater_sd > 0 or not math.isfinite(rater_sd):
        raise ValueError(f"rater_sd must be a number above 0, got {rater_sd!r}")
    negative = _phi((task.neutral.low - score) / rater_sd)
    positive = 1.0 - _phi((task.neutral.high - score) / rater_sd)
    return {"positive": positive, "negative": negative, "neutral": max(0.0, 1.0 - positive - negative)}


def target_matrix(targets: Sequence[dict[Polarity, float]]) -> torch.Tensor:
    """The targets as a [N, 3] float32 tensor, columns in `POLARITIES` order."""
    return torch.tensor([[t[p] for p in POLARITIES] for t in targets], dtype=torch.float32)


def soft_polarity_loss(choice_logprobs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean over rows of the cross-entropy -sum_k q_k log p_k, where p is `choice_logprobs` [N, 3]
    (each polarity word's log-probability at the answer's polarity position, over the whole
    vocabulary) renormalised over the three words, and q is `targets` [N, 3] (rows summing to 1)."""
    if choice_logprobs.shape != targets.shape or choice_logprobs.dim() != 2 or choice_logprobs.shape[1] != 3:
        raise ValueError(
            f"expected [N, 3] log-probabilities and targets, got {tuple(choice_logprobs.shape)} and "
            f"{tuple(targets.shape)}"
        )
    renormalised = torch.log_softmax(choice_logprobs, dim=-1)
    return -(targets.to(renormalised.dtype) * renormalised).sum(-1).mean()


__all__ = ["polarity_targets", "soft_polarity_loss", "target_matrix"]
