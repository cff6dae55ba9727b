"""Teaching the polarity word's distribution the gold score (`polarity` section of an SFT or GRPO recipe).

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

The targets and the loss are pure functions; `PolaritySentences` holds a pool's scored sentences,
draws each step's batch and computes the loss on a model. The SFT trainer adds it beside the
chains' loss, the GRPO trainer beside the policy loss (`polarity` section of either recipe,
`train.config.PolarityObjectiveConfig`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from emoreason.data import load_pooled
from emoreason.data.schema import POLARITIES, Polarity, Sample, TaskInfo
from emoreason.formats import get_format
from emoreason.formats.base import ReasoningFormat
from emoreason.formats.conversation import build_conversation
from emoreason.formats.readout import polarity_position
from emoreason.generation.logprobs import choice_logprobs
from emoreason.models.loading import LoadedModel
from emoreason.train.config import PolarityObjectiveConfig
from emoreason.train.loop import stream_positions


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


class PolaritySentences:
    """The scored sentences the polarity objective reads, their prompts and targets."""

    def __init__(
        self,
        config: PolarityObjectiveConfig,
        samples: Sequence[Sample],
        task: TaskInfo,
        fmt: ReasoningFormat,
        prefix: list[int],
        starts: dict[str, int],
    ):
        self.config, self.task, self.format, self.prefix, self.starts = config, task, fmt, prefix, starts
        self.samples = [s for s in samples if s.score is not None]
        if not self.samples:
            raise ValueError(f"polarity.dataset {config.dataset} has no scored sentence in its {config.split} split")
        self.strata: dict[str, list[int]] = {}  # balance: domain -> each domain's sample indices, by name
        if config.balance == "domain":
            by_domain: dict[str, list[int]] = {}
            for i, sample in enumerate(self.samples):
                by_domain.setdefault(sample.domain or "data", []).append(i)
            if len(by_domain) < 2:
                raise ValueError(
                    f"polarity.balance: domain needs two or more domains in polarity.dataset; {config.dataset} "
                    f"has one ({', '.join(by_domain)}): list several datasets or use polarity.balance: none"
                )
            self.strata = {name: by_domain[name] for name in sorted(by_domain)}

    @classmethod
    def load(cls, config: PolarityObjectiveConfig, tokenizer: Any) -> PolaritySentences:
        """Read `config.dataset` and find where `config.format` writes its polarity word."""
        samples, task = load_pooled(config.dataset, config.split)
        if task.scale is None:
            raise ValueError(f"polarity.dataset {config.dataset} has labels, not scores: there is no score to teach")
        fmt = get_format(config.format)
        position = polarity_position(tokenizer, fmt)
        if position is None:
            raise ValueError(
                f"format {config.format!r} does not start its answer with a polarity word that this tokenizer "
                "tells apart at one token; use polarity.format: c2f"
            )
        return cls(config, samples, task, fmt, *position)

    def batch(self, step: int, rank: int, world: int, seed: int) -> list[Sample]:
        """This process's sentences for `step`: a function of the step alone (an exact resume). Under
        `balance: domain` the domains take turns position by position (`train.loop.stratified_position`)."""
        size = self.config.batch_size
        start = (step * world + rank) * size
        return [
            self.samples[i]
            for i in stream_positions(start, size, len(self.samples), seed, True, list(self.strata.values()))
        ]

    def choice_logprobs(
        self, model: torch.nn.Module, loaded: LoadedModel, sentences: Sequence[Sample], share_prefix: bool
    ) -> torch.Tensor:
        """[N, 3]: each polarity word's log-probability (over the whole vocabulary) where the answer
        to each sentence writes it, columns in `POLARITIES` order; differentiable. `share_prefix`:
        run the rows' shared system prompt once (one process, no gradient checkpointing)."""
        conversations = [build_conversation(sample, self.format, self.task, cues=sample.cues) for sample in sentences]
        words = [self.starts[p] for p in POLARITIES]
        return choice_logprobs(model, loaded, conversations, self.prefix, words, share_prefix)

    def loss(
        self, model: torch.nn.Module, loaded: LoadedModel, sentences: Sequence[Sample], share_prefix: bool
    ) -> torch.Tensor:
        """The objective's mean cross-entropy on `sentences` (`soft_polarity_loss` against `targets`)."""
        choice = self.choice_logprobs(model, loaded, sentences, share_prefix)
        return soft_polarity_loss(choice, self.targets(sentences).to(choice.device))

    def targets(self, sentences: Sequence[Sample]) -> torch.Tensor:
        """[N, 3] target shares, columns in `POLARITIES` order."""
        rater_sd = self.config.rater_sd
        return target_matrix([polarity_targets(float(s.score), self.task, rater_sd) for s in sentences])  # type: ignore[arg-type]


__all__ = ["PolaritySentences", "polarity_targets", "soft_polarity_loss", "target_matrix"]
