"""Hint-GRPO: find the hard groups, decide who gets the hint, and mask the hint out of the loss.

What METHOD.md §1.3 says (C2F-Thinker): GRPO samples G completions per prompt and uses
group-normalised rewards as advantages. A *hard* prompt is one where every rollout of the
group gets the polarity wrong; its advantages carry no polarity signal. For those prompts the
gold polarity is injected as a hint and the group is sampled again, so the prompt becomes a
useful learning signal (the polarity phase is a verifiable anchor). Turning hints off and
dropping hard samples entirely are both ablations in the paper.

Our choices (all in `HintConfig`, all configurable):

- hint `mode`: ``"prefix"`` pre-fills the assistant turn with the format's
  ``hint_prefix(gold)`` (``<polarity>negative</polarity>`` for c2f); those tokens are context,
  not trained on (`hint_token_mask`). ``"prompt"`` appends a hint sentence to the user turn
  (`ReasoningFormat.user_prompt(hint=...)`). Formats without a leading polarity part (emor3,
  r1) fall back from prefix to prompt (`emoreason.formats.effective_mode`).
- `fraction`: the share of the regenerated group that is hinted (`hinted_rows`).
- "wrong" means the polarity on regression tasks, and the label on labelled tasks that have a
  gold label (EMO-R3's accuracy is label accuracy, so a group of right-valence wrong-label
  rollouts is just as flat there); see `is_hard_group`.
- `enabled=False` is the ``hints: off`` ablation; `drop_hard=True` removes hard groups from the
  batch without regenerating them.
- `train_on_hint` (prefix mode, off by default): the hint tokens count in the loss as if the
  policy had written them. Masked, a prefix hint can only teach what follows the polarity: with
  `fraction` 1 every row of a hard group then has the right polarity, and the polarity term
  gives the prompt no signal at all. Measured (RESULTS, issue 18): hard groups are mostly the
  gold polarity the policy says least (38 of 53 were neutral prompts in one 40-step run, where
  neutral was a quarter of the prompts), so masked hints leave that
  polarity unlearned while the other prompts keep penalising it, and its share of the answers
  drifts to 0. Trained, with `fraction` < 1, the hinted rows' higher reward raises the gold
  polarity's probability after the plain prompt (off-policy guidance: the hint is not a sample of
  the policy, so its gradient is a biased but direct push towards the answer the policy misses).

Everything here is a pure function of its arguments; the trainer does the sampling.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Literal, cast

import torch
from pydantic import Field, StrictBool, field_validator, model_validator

from emoreason.config_loader import Section
from emoreason.data.schema import POLARITIES, Polarity, TaskInfo, normalize_label
from emoreason.formats.base import ParseResult
from emoreason.formats.conversation import check_hint_mode
from emoreason.rewards.composite import Gold


def _check_fraction(fraction: float) -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not math.isfinite(fraction):
        raise ValueError(f"hint fraction must be a number in (0, 1], got {fraction!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"hint fraction must be in (0, 1], got {fraction!r}")


class HintConfig(Section):
    """How hard groups are handled (the `hints` section of a GRPO recipe; METHOD §1.3).

    `enabled`: regenerate hard groups with a hint (False: the ``hints: off`` ablation, hard
    groups stay as sampled). `mode`: ``"prefix"`` or ``"prompt"`` (see module docstring).
    `fraction`: share of the regenerated group that is hinted, in (0, 1]. `drop_hard`: the
    other ablation, hard groups leave the batch and are not regenerated (takes precedence over
    `enabled`).
    """

    enabled: StrictBool = Field(True, description="Hint-GRPO; false is the paper's no-hint ablation.")
    mode: Literal["prefix", "prompt"] = Field(
        "prefix",
        description="(our choice) prefix: the assistant turn starts "
        "with the gold polarity tag; prompt: a hint sentence in the user turn.",
    )
    fraction: float = Field(1.0, description="(our choice) share of the re-sampled group that is hinted, in (0, 1].")
    drop_hard: StrictBool = Field(False, description="Ablation: hard groups leave the batch instead.")
    train_on_hint: StrictBool = Field(
        False,
        description="(our choice, off by default) prefix mode: the hint tokens count in the loss as the policy's "
        "own, so that with fraction < 1 the hinted rows' higher reward teaches the gold polarity itself; masked, "
        "a prefix hint teaches only what follows it.",
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _known_mode(cls, mode: Any) -> Any:
        return check_hint_mode(mode)

    @field_validator("fraction", mode="before")
    @classmethod
    def _valid_fraction(cls, fraction: Any) -> Any:
        _check_fraction(fraction)
        return fraction

    @model_validator(mode="after")
    def _trained_hint_is_a_prefix(self) -> HintConfig:
        if self.train_on_hint and self.mode != "prefix":
            raise ValueError("hints.train_on_hint needs hints.mode: prefix (a prompt hint has no tokens to train on)")
        return self

    @property
    def regenerates(self) -> bool:
        """Whether hard groups are sampled again with a hint."""
        return self.enabled and not self.drop_hard


def is_hard_group(parsed: Sequence[ParseResult], gold: Gold, task: TaskInfo) -> bool:
    """True when every rollout of the group is wrong, so the group teaches nothing.

    Labelled task with a gold label: wrong = the parsed label differs from the gold label
    (case/whitespace-insensitive). Otherwise: wrong = the parsed polarity differs from
    `gold.resolve_polarity(task)`. An unparsed label or polarity (None) counts as wrong. When
    the gold polarity is unknown the group cannot be judged and is not hard (False); an empty
    group is not hard either.
    """
    if not parsed:
        return False
    if task.labels and gold.label:
        target = normalize_label(gold.label)
        return all(p.label is None or normalize_label(p.label) != target for p in parsed)
    gold_polarity = gold.resolve_polarity(task)
    if gold_polarity is None:
        return False
    target = normalize_label(gold_polarity)
    return all(p.polarity is None or normalize_label(p.polarity) != target for p in parsed)


def hard_group_indices(
    parsed_groups: Sequence[Sequence[ParseResult]], golds: Sequence[Gold], task: TaskInfo
) -> list[int]:
    """Indices (into the batch of groups) of the hard groups, in order."""
    if len(parsed_groups) != len(golds):
        raise ValueError(f"got {len(parsed_groups)} groups but {len(golds)} gold targets")
    pairs = zip(parsed_groups, golds, strict=True)
    return [i for i, (group, gold) in enumerate(pairs) if is_hard_group(group, gold, task)]


def answer_names(task: TaskInfo) -> list[str]:
    """The answers a group can be judged on: the task's labels (normalised), else the three polarities."""
    return [normalize_label(label) for label in task.labels] or list(POLARITIES)


def gold_answer(gold: Gold, task: TaskInfo) -> str | None:
    """The answer a group is judged on: its gold label for a label task, else its gold polarity
    (normalised; None when the gold has neither)."""
    answer = gold.label if task.labels and gold.label else gold.resolve_polarity(task)
    return normalize_label(answer) if answer is not None else None


def parsed_answer(parsed: ParseResult, task: TaskInfo) -> str | None:
    """A completion's own answer, on the scale `gold_answer` judges: its label for a label task,
    else its polarity (normalised; None when it gave none)."""
    answer = parsed.label if task.labels else parsed.polarity
    return normalize_label(answer) if answer is not None else None


def sampled_mix(groups: Sequence[Sequence[Any]], golds: Sequence[Gold], task: TaskInfo) -> dict[str, float]:
    """The policy's own answers to a step's prompts, as first sampled (each rollout's `parsed`), before hard
    groups are hinted or dropped: `sampled/<answer>_share` for every answer the task has and "none", and
    `sampled/right_share`, the share matching its gold. `rollouts/*` counts the batch trained on, where a
    hinted row's answer is the gold the hint gave it: a drift to one answer shows in these first."""
    names = [*answer_names(task), "none", *(["other"] if task.labels else [])]
    given, right = [], []
    for group, gold in zip(groups, golds, strict=True):
        target = gold_answer(gold, task)
        for rollout in group:
            answer = parsed_answer(rollout.parsed, task) or "none"
            given.append(answer if answer in names else "other")
            right.append(target is not None and answer == target)
    if not given:
        return {}
    shares = {f"sampled/{name}_share": given.count(name) / len(given) for name in names}
    return shares | {"sampled/right_share": sum(right) / len(right)}


def hard_groups_by_gold(hard: Sequence[int], golds: Sequence[Gold], task: TaskInfo) -> dict[str, float]:
    """How many of a step's hard groups had each gold answer, as `groups/hard/<answer>` for every
    answer the task has (its labels, else the three polarities; 0 where none was hard), so the
    log shows which answers the policy cannot find (and which hints, or dropping, act on)."""
    counts = dict.fromkeys(answer_names(task), 0.0)
    for index in hard:
        answer = gold_answer(golds[index], task)
        if answer in counts:
            counts[answer] += 1
    return {f"groups/hard/{name}": count for name, count in counts.items()}


def hinted_rows(group_size: int, fraction: float) -> list[bool]:
    """Which rows of a regenerated group of `group_size` get the hint: the first
    ``round(fraction * group_size)`` (half rounds up, at least 1), the rest sample unhinted.

    Why not all rows by default in every setting: with ``fraction < 1`` the unhinted rows are
    fresh on-policy samples of the same prompt, so the group-normalised advantage compares
    hinted against unhinted rollouts inside the group (the hint shows what a right polarity
    earns; the unhinted rows keep the comparison anchored on what the policy does on its
    own). Why the *first* rows: GRPO's group statistics do not depend on row order, so a fixed
    placement costs nothing and keeps the choice deterministic (no RNG to seed or log).
    """
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group size must be a positive integer, got {group_size!r}")
    _check_fraction(fraction)
    count = min(group_size, max(1, math.floor(fraction * group_size + 0.5)))
    return [row < count for row in range(group_size)]


def hint_for(gold: Gold, task: TaskInfo) -> Polarity | None:
    """The polarity to reveal: the gold polarity (explicit, else from the score's neutral band,
    else from the label's valence), or None when it is unknown."""
    polarity = gold.resolve_polarity(task)
    return cast(Polarity, polarity) if polarity in POLARITIES else None


def hint_token_mask(hint_tokens: Sequence[int], completion_lengths: Sequence[int], width: int) -> torch.Tensor:
    """Loss mask ``[N, width]`` (float32) for rows laid out as
    ``[hint tokens][completion tokens][padding]``.

    `hint_tokens[i]` is the number of prefix-hint tokens at the start of row i (0 for an
    unhinted row), `completion_lengths[i]` the number of sampled tokens after them. The mask
    is 0 on the hint tokens, 1 on the completion tokens and 0 on the padding: the trainer puts
    the prefix hint in front of the completion so that the completion's log-probs are computed
    in the hinted context, but the hint itself, which the policy did not choose, gets no loss
    weight.
    """
    if len(hint_tokens) != len(completion_lengths):
        raise ValueError(f"got {len(hint_tokens)} hint lengths but {len(completion_lengths)} completion lengths")
    if width < 0:
        raise ValueError(f"width must be >= 0, got {width}")
    mask = torch.zeros((len(hint_tokens), width), dtype=torch.float32)
    for row, (hint, length) in enumerate(zip(hint_tokens, completion_lengths, strict=True)):
        if hint < 0 or length < 0:
            raise ValueError(f"row {row}: token counts must be >= 0, got hint {hint} and completion {length}")
        if hint + length > width:
            raise ValueError(f"row {row}: {hint} hint + {length} completion tokens do not fit in width {width}")
        mask[row, hint : hint + length] = 1.0
    return mask
