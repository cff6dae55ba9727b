"""Rollouts: one sampled completion with what the update needs, their sampling seeds, and the
statistics a GRPO step logs about them (pure functions of the rollouts and their rewards)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import torch

from emoreason.data.schema import Sample, TaskInfo
from emoreason.formats.base import ParseResult, ReasoningFormat
from emoreason.generation import Completion
from emoreason.models.families.base import Conversation
from emoreason.rewards.composite import ReflectionAnswers, RewardBreakdown
from emoreason.rl.core import zero_std_groups


@dataclass
class Rollout:
    """One sampled completion and everything the update needs to know about it."""

    sample: Sample
    group: int  # index of its prompt within the step
    conversation: Conversation  # the prompt as sampled, without any assistant prefix
    hint_ids: list[int]  # prefix-hint tokens: scored as context, zero loss weight
    completion: Completion
    text: str  # prefix + completion: what is parsed and rewarded
    parsed: ParseResult
    hinted: bool = False
    reflection: ReflectionAnswers | None = None
    reward: RewardBreakdown | None = None

    @property
    def continuation(self) -> list[int]:
        return self.hint_ids + self.completion.token_ids


def make_rollouts(
    sample: Sample,
    group: int,
    conversation: Conversation,
    completions: list[Completion],
    hint_ids: list[int],
    fmt: ReasoningFormat,
    task: TaskInfo,
    hinted: bool = False,
) -> list[Rollout]:
    """The rollouts of `completions` sampled from `conversation`. A prefix hint (the
    conversation's assistant prefix, tokenized as `hint_ids`) moves out of the prompt into the
    front of each continuation: it is parsed and rewarded with the completion, and scored as
    context in the update, where it carries no loss weight."""
    prefix = conversation.assistant_prefix
    prompt = dataclasses.replace(conversation, assistant_prefix="")
    texts = [prefix + completion.text for completion in completions]
    # a rollout the token limit cut short earns nothing for the part it lost (`ReasoningFormat.parse`'s `cut`)
    parsed = [fmt.parse(text, task, cut=c.finish_reason == "length") for c, text in zip(completions, texts)]
    return [
        Rollout(sample, group, prompt, list(hint_ids), completion, text, answer, hinted=hinted)
        for completion, text, answer in zip(completions, texts, parsed)
    ]


class Stream(IntEnum):
    """The sampling calls of one step, each seeded on its own so that adding one (e.g. hints
    switched on) does not change what the others draw."""

    ROLLOUTS = 0
    HINTED = 1
    UNHINTED_REST = 2  # the rows of a hard group that are re-sampled without the hint
    REFLECTION = 3


# Seeds are (run seed, step, stream, rank) laid out in disjoint strides: a stride larger than
# everything below it keeps two different tuples from meeting (up to 101 ranks, 10 streams,
# about 990 steps before the step stride reaches the run seed's), reduced to the generators'
# 31-bit seed range.
RUN_STRIDE, STEP_STRIDE, STREAM_STRIDE, SEED_RANGE = 1_000_003, 1009, 101, 2**31


def sampling_seed(run_seed: int, step: int, stream: Stream, rank: int) -> int:
    return (run_seed * RUN_STRIDE + step * STEP_STRIDE + int(stream) * STREAM_STRIDE + rank) % SEED_RANGE


def update_windows(rows: int, minibatch_size: int, accumulation: int | None) -> list[list[list[int]]]:
    """One pass of updates over `rows` rollouts: a list of optimizer steps, each a window of
    `accumulation` minibatches (default: all of them, one optimizer step per pass), each a
    list of at most `minibatch_size` row indices."""
    minibatches = [list(range(i, min(i + minibatch_size, rows))) for i in range(0, rows, minibatch_size)]
    size = accumulation or len(minibatches) or 1
    return [minibatches[i : i + size] for i in range(0, len(minibatches), size)]


def window_totals(windows: list[list[list[int]]], trained_tokens: Sequence[int]) -> list[dict[str, float]]:
    """What each window's loss is normalised by (`core.grpo_loss`): its trained tokens and its rows,
    rows skipped by the update included, so the rows that run give the gradient of the whole window."""
    return [
        {
            "num_tokens": float(sum(trained_tokens[i] for rows in window for i in rows)),
            "num_sequences": sum(map(len, window)),
        }
        for window in windows
    ]


def shared_over_processes(
    totals: list[dict[str, float]], every_process_tokens: Sequence[float], world: int
) -> list[dict[str, float]]:
    """`window_totals` of one process where `world` processes train windows of the same rows, each
    window's tokens summed over the processes (`every_process_tokens`): a process's share of the token
    total is the total over `world`, because DDP averages the processes' gradients. A process's own
    count ("dapo") weighed the tokens of a process of short answers above the others'."""
    if len(every_process_tokens) != len(totals):
        raise ValueError(f"{len(every_process_tokens)} token totals for {len(totals)} windows")
    return [{**mine, "num_tokens": float(summed) / world} for mine, summed in zip(totals, every_process_tokens)]


def rows_to_run(windows: list[list[list[int]]], runs: Sequence[bool]) -> list[list[int]]:
    """Every minibatch of every window, in update order, with only the rows that run (`runs[i]`);
    a minibatch whose rows are all skipped is an empty list."""
    return [[i for i in rows if runs[i]] for window in windows for rows in window]


@dataclass
class StepTimer:
    """Wall time of a step's named parts, summed over their occurrences."""

    parts: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.parts[name] = self.parts.get(name, 0.0) + time.perf_counter() - began


def balance_strata(samples: Sequence[Sample], task: TaskInfo, by: str = "polarity") -> dict[str, list[int]]:
    """Sample indices by gold polarity (negative, neutral, positive), by gold label (`by="label"`),
    or by domain and gold polarity (`by="domain_polarity"`, names like "tweets/negative"), in
    sorted order of the names; samples without one are left out. For
    `train.loop.stratified_position`."""
    groups: dict[str, list[int]] = {}
    for i, sample in enumerate(samples):
        key = sample.label if by == "label" else task.gold_polarity(sample)
        if key is not None and by == "domain_polarity":
            key = f"{sample.domain or 'data'}/{key}"
        if key is not None:
            groups.setdefault(key, []).append(i)
    if not groups:
        needs = "a gold label" if by == "label" else "a gold polarity (a score or a mapped label)"
        raise ValueError(f"data.balance={by} needs samples with {needs}")
    return {name: groups[name] for name in sorted(groups)}


def weighted_strata(
    samples: Sequence[Sample], task: TaskInfo, balance: str, weights: Mapping[str, int]
) -> tuple[list[list[int]] | None, list[int] | None]:
    """`data.balance` and `data.balance_weights` as the strata and weights `train.loop.stream_positions`
    takes (None, None for `balance: none`); a weight naming no gold value of the data is an error.
    Under `domain_polarity` a weight may name a stratum ("tweets/negative") or a polarity
    ("negative", every domain's); the stratum's own weight wins."""
    if balance == "none":
        return None, None
    strata = balance_strata(samples, task, balance)
    value_of = {name: name.rsplit("/", 1)[-1] for name in strata}  # "tweets/negative" -> "negative"
    unknown = sorted(set(weights) - set(strata) - set(value_of.values()))
    if unknown:
        raise ValueError(
            f"data.balance_weights names {unknown}; the training data's gold {balance} values are {sorted(strata)}"
        )
    return list(strata.values()), [weights.get(name, weights.get(value_of[name], 1)) for name in strata]


#: the file in run.output_dir that `rollout.log` writes `rollout_records` to, a line per rollout
ROLLOUTS_FILE = "rollouts.jsonl"


def rollout_records(rollouts: Sequence[Rollout], advantages: Sequence[float], task: TaskInfo) -> list[dict]:
    """One JSON-ready record per rollout, for `rollouts.jsonl`: the prompt (sample id and domain, its
    index in the step, whether it was hinted), the gold, the answer as parsed, the reward (total and each
    component unweighted), the advantage the update used, and the text. Enough to ask afterwards
    which prompts and answers pulled the policy where (sum the advantages by gold and answer)."""
    if len(rollouts) != len(advantages):
        raise ValueError(f"{len(rollouts)} rollouts but {len(advantages)} advantages")
    records = []
    for rollout, advantage in zip(rollouts, advantages):
        sample, parsed, reward = rollout.sample, rollout.parsed, rollout.reward
        records.append(
            {
                "id": sample.id,
                "domain": sample.domain,
                "group": rollout.group,
                "hinted": rollout.hinted,
                "gold": {"polarity": task.gold_polarity(sample), "score": sample.score, "label": sample.label},
                "answer": {"polarity": parsed.polarity, "score": parsed.score, "label": parsed.label, "ok": parsed.ok},
                "reward": None if reward is None else round(reward.total, 6),
                "components": {} if reward is None else {k: round(v, 6) for k, v in reward.components.items()},
                "advantage": round(float(advantage), 6),
                "tokens": rollout.completion.num_tokens,
                "finish_reason": rollout.completion.finish_reason,
                "text": rollout.text,
            }
        )
    return records


@dataclass(frozen=True, slots=True)
class Pull:
    """The rollouts with one gold and one answer (polarities, or labels) and the advantage they
    carried. A group's advantages sum to 0, so where its answers part (same context), the gradient
    of sum_i A_i log p(answer_i) with respect to the logits is sum_i A_i (onehot_i - p) =
    sum_i A_i onehot_i: each answer's advantage sum. A positive sum raises that answer on prompts
    of that gold; a negative one lowers it."""

    gold: str
    answer: str
    rollouts: int
    hinted: int
    advantage: float  # summed over the rollouts
    hinted_advantage: float  # the hinted rollouts' part of `advantage`


def advantage_pull(records: Iterable[Mapping[str, Any]], by: str = "polarity") -> list[Pull]:
    """Rollout records (`rollout_records`, or the lines of rollouts.jsonl) summed by gold and
    answer `by` ("polarity" or "label"), sorted by gold then answer; a missing gold or answer
    counts as "none" (an answer that did not parse)."""
    if by not in ("polarity", "label"):
        raise ValueError(f"by must be 'polarity' or 'label', got {by!r}")
    sums: dict[tuple[str, str], list[float]] = {}
    for record in records:
        key = (record["gold"].get(by) or "none", record["answer"].get(by) or "none")
        entry = sums.setdefault(key, [0, 0, 0.0, 0.0])
        hinted, advantage = bool(record.get("hinted")), float(record["advantage"])
        entry[0] += 1
        entry[1] += hinted
        entry[2] += advantage
        entry[3] += advantage if hinted else 0.0
    return [Pull(gold, answer, int(n), int(h), a, ha) for (gold, answer), (n, h, a, ha) in sorted(sums.items())]


def pull_by_answer(pulls: Iterable[Pull]) -> dict[str, float]:
    """The advantage each answer carried, over every gold: where the update pushes the answers."""
    totals: dict[str, float] = {}
    for pull in pulls:
        totals[pull.answer] = totals.get(pull.answer, 0.0) + pull.advantage
    return dict(sorted(totals.items()))


@dataclass(frozen=True, slots=True)
class AnswerMix:
    """What the policy answered by itself: the unhinted rollouts (a hinted one is steered by its hint), each
    answer's share of them and the share that gave the gold's answer. The sign of a collapse: one answer's share
    climbing while the right share falls."""

    rollouts: int  # unhinted rollouts counted
    shares: dict[str, float]  # each answer's share of them ("none": no answer parsed), sorted by answer
    right: float  # share of those with a gold whose answer is the gold's; NaN when none has a gold


def answer_mix(records: Iterable[Mapping[str, Any]], by: str = "polarity") -> AnswerMix:
    """The `AnswerMix` of rollout records (`rollout_records`, or the lines of rollouts.jsonl), reading
    answers and golds `by` "polarity" or "label"; a missing answer counts as "none"."""
    if by not in ("polarity", "label"):
        raise ValueError(f"by must be 'polarity' or 'label', got {by!r}")
    counts: dict[str, int] = {}
    graded = right = 0
    for record in records:
        if record.get("hinted"):
            continue
        answer, gold = record["answer"].get(by) or "none", record["gold"].get(by)
        counts[answer] = counts.get(answer, 0) + 1
        if gold is not None:
            graded += 1
            right += answer == gold
    total = sum(counts.values())
    shares = {answer: n / total for answer, n in sorted(counts.items())}
    return AnswerMix(total, shares, right / graded if graded else float("nan"))


def rollout_stats(
    groups: list[list[Rollout]], rewards: torch.Tensor, group_size: int, answers: Sequence[str], names: Sequence[str]
) -> dict[str, float]:
    """Reward mean/std (total and per component), zero-variance group share, completion length,
    truncation and parse rates, the answers' mix and the hint success rate (a hinted group
    succeeds when its rewards now differ, i.e. it teaches something).

    answers: each rollout's own answer on the task's scale (`rl.hints.parsed_answer`, "none" when
    it gave none), in the groups' order. The mix is logged as
    `rollouts/<name>_share` for every one of `names` (0 when absent, so every step has the same
    keys); answers outside `names` count under "other" when "other" is one of them."""
    rollouts = [r for g in groups for r in g]
    if not rollouts:  # every group dropped: no reward to log (a 0 read as a point on the curve)
        return {}
    stats = {
        "reward/mean": float(rewards.mean()),
        "reward/std": float(rewards.std()) if len(rewards) > 1 else 0.0,
        "groups/zero_std_share": float(zero_std_groups(rewards, group_size).float().mean()),
        "completion/mean_length": float(np.mean([r.completion.num_tokens for r in rollouts])),
        "completion/truncated_share": float(np.mean([r.completion.finish_reason == "length" for r in rollouts])),
        "completion/parse_ok": float(np.mean([r.parsed.ok for r in rollouts])),
    }
    # the answers' mix: a policy drifting to the pool's majority (or to one or two labels) shows here first
    if len(answers) != len(rollouts):
        raise ValueError(f"got {len(answers)} answers for {len(rollouts)} rollouts")
    known = set(names)
    given = [a if a in known or "other" not in known else "other" for a in answers]
    stats.update({f"rollouts/{name}_share": given.count(name) / len(given) for name in names})
    components = sorted({name for r in rollouts for name in (r.reward.components if r.reward else {})})
    for name in components:
        values = [r.reward.components[name] for r in rollouts if r.reward and name in r.reward.components]
        stats[f"reward/{name}/mean"] = float(np.mean(values))
        # the sample sd, as reward/std's (torch's default): the two were computed apart (0.5 against 0.71)
        stats[f"reward/{name}/std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    hinted_groups = [g for g in groups if any(r.hinted for r in g)]
    if hinted_groups:
        totals = [[r.reward.total for r in g if r.reward] for g in hinted_groups]
        stats["hints/success_rate"] = float(np.mean([np.ptp(t) > 1e-6 for t in totals]))
    return stats


__all__ = [
    "Rollout",
    "StepTimer",
    "Stream",
    "make_rollouts",
    "ROLLOUTS_FILE",
    "Pull",
    "AnswerMix",
    "advantage_pull",
    "answer_mix",
    "pull_by_answer",
    "rollout_records",
    "balance_strata",
    "weighted_strata",
    "rollout_stats",
    "sampling_seed",
    "update_windows",
    "rows_to_run",
    "window_totals",
]
