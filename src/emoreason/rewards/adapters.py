"""The composite reward in the shapes external RL trainers call.

TRL (`GRPOTrainer`, checked against TRL 1.16 `GRPOTrainer._calculate_rewards`): every reward
function is called as

    fn(prompts=..., completions=..., completion_ids=..., <every dataset column but "prompt">=...,
       trainer_state=..., log_extra=..., log_metric=...)

with each column a list aligned with `completions` (rows repeated once per generation).
Completions are strings, or for a conversational dataset lists of messages
`[{"role": "assistant", "content": "..."}]`. A `None` reward becomes NaN and is left out of
the weighted sum and of that function's logged mean. TRL names each function by its
`__name__`.

    funcs, weights = trl_reward_functions("c2f", task="sims")      # one function per component
    GRPOTrainer(..., reward_funcs=funcs, args=GRPOConfig(reward_weights=weights, ...))

verl / EasyR1 (`custom_reward_function.path=.../adapters.py`, `name=compute_score`):
`compute_score(data_source, solution_str, ground_truth, extra_info)` returns a dict whose
"score" verl uses as the reward; the other keys are logged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emoreason.data.schema import MMSA_TASKS, NeutralBand, TaskInfo, label_polarity_map, mikels_task, vader_task
from emoreason.data.spec import parse_spec
from emoreason.rewards.composite import COMPONENTS, CompositeReward, Gold, ReflectionAnswers, build_reward

MIKELS_SOURCES = ("emoset", "fi")
VADER_DOMAINS = ("tweets", "movies", "products")
# Optional columns (TRL) / extra_info keys (verl) carrying the EMO-R3 reflection answers.
REFLECTION_KEYS = {"coherence": "reflection_coherence", "consistency": "reflection_consistency"}


# --- which task a data source names --------------------------------------------------------


def known_sources() -> str:
    return (
        f"{', '.join(MMSA_TASKS)}, {', '.join(MIKELS_SOURCES)}, {', '.join('vader:' + d for d in VADER_DOMAINS)}, "
        "or a dataset spec carrying its task (KIND:TARGET?dataset=mosi|sims|emoset..., ?scale=LOW,HIGH[&neutral=W], "
        "or ?labels=A,B,C)"
    )


def task_for_source(data_source: str | TaskInfo) -> TaskInfo:
    """The `TaskInfo` a dataset name or spec stands for ("sims", "vader:tweets", "emoset",
    "mmsa:/d/mosi.pkl?dataset=mosi", "jsonl:x.jsonl?scale=-4,4", "images:d?labels=a,b")."""
    if isinstance(data_source, TaskInfo):
        return data_source
    name = str(data_source).strip()
    key = name.lower()
    if key in MMSA_TASKS:
        return MMSA_TASKS[key]
    if key in MIKELS_SOURCES:
        return mikels_task(key)
    if ":" in name:
        spec = parse_spec(name)
        if spec.kind == "vader":
            domain = spec.target.strip().lower()
            if domain not in VADER_DOMAINS:
                raise ValueError(f"unknown VADER domain {spec.target!r} in {name!r}; known: {', '.join(VADER_DOMAINS)}")
            scale = vader_task(domain).scale
            assert scale is not None
            # 0 is a width (only 0 itself neutral), not "unset"; checked as the dataset's loader checks it
            return vader_task(domain, spec.neutral_width(scale, f"vader:{domain}", 0.5))
        dataset = (spec.option("dataset") or "").strip().lower()
        if dataset in MMSA_TASKS:
            return MMSA_TASKS[dataset]
        if dataset in MIKELS_SOURCES:
            return mikels_task(dataset)
        task_name = spec.option("name") or name
        scale = spec.range_option("scale")
        labels = spec.list_option("labels") or ()
        label_polarity = label_polarity_map(labels, spec.option("polarity"), name)
        if scale is not None:
            neutral = NeutralBand.around(scale, spec.neutral_width(scale, task_name))
            return TaskInfo(task_name, scale=scale, neutral=neutral, labels=labels, label_polarity=label_polarity)
        if labels:
            return TaskInfo(task_name, labels=labels, label_polarity=label_polarity, metric_set="classification")
    raise ValueError(f"unknown data source {name!r}; known: {known_sources()}")


# --- gold values from loose inputs ---------------------------------------------------------


def _as_score(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"gold score {value!r} is not a number") from None
    return score if math.isfinite(score) else None  # NaN marks a missing score in tabular data


def _as_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _as_answer(value: Any) -> str | None:
    """A reflection answer: None (or a NaN cell) means not asked; any text, even empty, was asked."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def gold_from_ground_truth(ground_truth: Any) -> Gold:
    """A `Gold` from a number, a numeric string, a label string, a dict with score/label/polarity,
    or a JSON string of such a dict."""
    if isinstance(ground_truth, Gold):
        return ground_truth
    if isinstance(ground_truth, str):
        text = ground_truth.strip()
        if text.startswith("{"):
            try:
                ground_truth = json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f"ground_truth {ground_truth!r} looks like JSON but does not parse: {err}") from None
        else:
            try:
                return Gold(score=_as_score(text))
            except ValueError:
                if not text:
                    raise ValueError("ground_truth is an empty string") from None
                return Gold(label=text)
    if isinstance(ground_truth, Mapping):
        unknown = sorted(set(ground_truth) - {"score", "label", "polarity"})
        if unknown:
            raise ValueError(f"ground_truth keys {unknown} are not understood; use score, label, polarity")
        polarity = _as_text(ground_truth.get("polarity"))
        return Gold(
            score=_as_score(ground_truth.get("score")),
            label=_as_text(ground_truth.get("label")),
            polarity=polarity.lower() if polarity else None,  # type: ignore[arg-type]
        )
    if ground_truth is None or isinstance(ground_truth, bool):
        raise ValueError(f"ground_truth {ground_truth!r} is neither a score, a label nor a dict")
    try:
        return Gold(score=_as_score(ground_truth))  # int, float, numpy scalar
    except ValueError:
        raise ValueError(f"ground_truth {ground_truth!r} is neither a score, a label nor a dict") from None


# --- TRL -----------------------------------------------------------------------------------


def completion_text(completion: Any) -> str:
    """The text of a plain completion (a string) or a conversational one (a list of messages;
    the assistant messages' text is joined by newlines; content may be a string or a list of
    `{"type": "text", "text": ...}` parts). Anything else reads as empty text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if not isinstance(completion, Sequence):
        return ""
    texts = []
    for message in completion:
        if not isinstance(message, Mapping) or message.get("role", "assistant") != "assistant":
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, Sequence):
            texts.extend(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    return "\n".join(texts)


class TRLRewardFunction:
    """A picklable TRL reward function: the weighted total, or one unweighted component."""

    def __init__(
        self,
        reward: CompositeReward,
        task: TaskInfo,
        component: str | None = None,
        gold_columns: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        if component is not None and component not in COMPONENTS:
            raise ValueError(f"unknown reward component {component!r}; valid components: {', '.join(COMPONENTS)}")
        self.reward, self.task, self.component = reward, task, component
        self.gold_columns = {"score": "score", "label": "label", "polarity": "polarity", **(gold_columns or {})}
        self.__name__ = name or (f"emoreason_{component}" if component else "emoreason_reward")

    def __repr__(self) -> str:
        return f"<{self.__name__}: {self.reward.format_name} reward on task {self.task.name!r}>"

    def _column(self, kwargs: Mapping[str, Any], key: str, n: int) -> list[Any]:
        values = kwargs.get(key)
        if values is None:
            return [None] * n
        values = list(values)
        if len(values) != n:
            raise ValueError(f"column {key!r} has {len(values)} values for {n} completions")
        return values

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        n = len(completions)
        scores = self._column(kwargs, self.gold_columns["score"], n)
        labels = self._column(kwargs, self.gold_columns["label"], n)
        polarities = self._column(kwargs, self.gold_columns["polarity"], n)
        coherence = self._column(kwargs, REFLECTION_KEYS["coherence"], n)
        consistency = self._column(kwargs, REFLECTION_KEYS["consistency"], n)
        rewards: list[float | None] = []
        breakdowns = []
        for i, completion in enumerate(completions):
            polarity = _as_text(polarities[i])
            gold = Gold(
                score=_as_score(scores[i]), label=_as_text(labels[i]), polarity=polarity.lower() if polarity else None
            )  # type: ignore[arg-type]
            answers = ReflectionAnswers(_as_answer(coherence[i]), _as_answer(consistency[i]))
            reflection = None if answers == ReflectionAnswers() else answers
            parsed = self.reward.parse(completion_text(completion), self.task)
            try:
                if self.component is not None:
                    rewards.append(self.reward.component(self.component, parsed, gold, self.task, reflection))
                    continue
                out = self.reward.score_parsed(parsed, gold, self.task, reflection)
            except ValueError as err:
                columns = sorted(k for k in kwargs if k not in ("trainer_state", "log_extra", "log_metric"))
                raise ValueError(f"{self.__name__}: {err}; columns the trainer passed: {columns}") from err
            rewards.append(out.total)
            breakdowns.append(out)
        if self.component is None:
            self._log(breakdowns, kwargs)
        return rewards

    def _log(self, breakdowns: list[Any], kwargs: Mapping[str, Any]) -> None:
        """With a single total function, report each component through TRL's `log_metric`."""
        log_metric: Callable[[str, float], None] | None = kwargs.get("log_metric")
        log_extra: Callable[[str, list], None] | None = kwargs.get("log_extra")
        if callable(log_metric) and breakdowns:
            for name in self.reward.weights:
                values = [b.components[name] for b in breakdowns if name in b.components]
                if values:
                    log_metric(f"emoreason/{name}", sum(values) / len(values))
        if callable(log_extra) and breakdowns:
            log_extra("emoreason_parse_errors", ["; ".join(map(str, b.parsed.errors)) for b in breakdowns])


def trl_reward_function(
    format: str | None = "c2f",
    *,
    task: TaskInfo | str,
    weights: Mapping[str, float] | None = None,
    component: str | None = None,
    score_kind: str = "linear",
    score_params: Mapping[str, float] | None = None,
    gold_columns: Mapping[str, str] | None = None,
) -> TRLRewardFunction:
    """A TRL reward function `fn(completions, **kwargs) -> list[float | None]`.

    Without `component` it returns the weighted total (named `emoreason_reward`, and it logs
    each component as the metric `emoreason/<name>`); with one it returns that component
    unweighted (named `emoreason_<component>`). Gold values come from the dataset columns
    `score`, `label`, `polarity` (rename with `gold_columns={"score": "sentiment"}`); EMO-R3
    reflection answers, when a rollout function supplies them, from `reflection_coherence` and
    `reflection_consistency`. `format=None` picks c2f for scored tasks, emor3 for labelled ones.
    """
    resolved = task_for_source(task)
    reward = build_reward(format, resolved, weights=weights, score_kind=score_kind, score_params=score_params)
    return TRLRewardFunction(reward, resolved, component, gold_columns)


def trl_reward_functions(
    format: str | None = "c2f",
    *,
    task: TaskInfo | str,
    weights: Mapping[str, float] | None = None,
    score_kind: str = "linear",
    score_params: Mapping[str, float] | None = None,
    gold_columns: Mapping[str, str] | None = None,
) -> tuple[list[TRLRewardFunction], list[float]]:
    """One TRL reward function per weighted component (TRL logs each as `rewards/emoreason_<name>`)
    and the matching weights for `GRPOConfig(reward_weights=...)`. TRL's weighted sum of these
    equals `CompositeReward` total (a None reflection component is NaN there and skipped)."""
    resolved = task_for_source(task)
    reward = build_reward(format, resolved, weights=weights, score_kind=score_kind, score_params=score_params)
    funcs = [TRLRewardFunction(reward, resolved, name, gold_columns) for name in reward.weights]
    return funcs, [reward.weights[name] for name in reward.weights]


# --- verl / EasyR1 -------------------------------------------------------------------------


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """verl-style reward: `{"score": total, "<component>_reward": value, ...}`.

    `data_source` names the task (see `task_for_source`). `ground_truth` is a number, a label,
    a dict with score/label/polarity, or that dict as JSON. `extra_info` (other keys ignored):
    "format" (default c2f for scored tasks, emor3 for labelled ones), "weights", "score_kind",
    "score_params", and the reflection answers as "reflection": {"coherence": .., "consistency": ..}
    or "reflection_coherence" / "reflection_consistency". Component keys carry a `_reward`
    suffix because "score" is verl's name for the total. In one run every call should get the
    same options, since verl stacks these keys across the batch.
    """
    info = dict(extra_info or {})
    task = task_for_source(data_source)
    reward = build_reward(
        info.get("format"),
        task,
        weights=info.get("weights"),
        score_kind=info.get("score_kind", "linear"),
        score_params=info.get("score_params"),
    )
    nested = info.get("reflection") or {}
    answers = ReflectionAnswers(
        _as_answer(nested.get("coherence", info.get(REFLECTION_KEYS["coherence"]))),
        _as_answer(nested.get("consistency", info.get(REFLECTION_KEYS["consistency"]))),
    )
    reflection = None if answers == ReflectionAnswers() else answers
    out = reward(
        solution_str if isinstance(solution_str, str) else "", gold_from_ground_truth(ground_truth), task, reflection
    )
    return {"score": out.total, **{f"{name}_reward": value for name, value in out.components.items()}}
