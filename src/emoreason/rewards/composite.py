"""A weighted sum of named reward components, and the registry that names them.

    reward = CompositeReward.c2f()                      # format + polarity + score, weights 1, 1, 1
    reward = CompositeReward.emor3()                    # 0.8 acc + 0.1 (coh + cons) + 0.1 format
    out = reward(completion, Gold(score=-1.2), MOSI_TASK)
    out.total, out.components, out.parsed

A component is `fn(parsed, gold, task, reflection) -> float | None`. It returns None when it
does not apply to this sample; the built-in reflection components do so when the reflection
answers are absent. A None component is left out of `components` and out of the total (no
renormalisation: with EMO-R3 weights and no reflection the best total is 0.9, not 1.1).
Within a GRPO group every rollout has or lacks reflection alike, so advantages are unaffected
by the missing terms. Add a component with `register_component` and name it in the weights;
the composite does not change.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emoreason.data.schema import POLARITIES, Polarity, Sample, TaskInfo, normalize_label, quotable_source
from emoreason.formats.base import ParseResult, ReasoningFormat
from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.grounding import citation_grounding
from emoreason.metrics.valence import cue_words_named, negation_coverage, vader_lexicon, valence_check
from emoreason.rewards.components import (
    accuracy_reward,
    check_score_kind,
    coherence_reward,
    consistency_reward,
    cue_coverage_reward,
    format_reward,
    grounding_reward,
    negation_coverage_reward,
    negation_reward,
    polarity_reward,
    score_reward,
    valence_reward,
)


@dataclass(frozen=True, slots=True)
class Gold:
    """The gold target of one sample; any field may be missing if no component needs it."""

    score: float | None = None
    label: str | None = None
    polarity: Polarity | None = None
    source: str | None = None  # what the model was shown (text, and cue text): what a citation must quote
    # the sample's own words without the cue text: what the lexicon's components read (the words VADER rates,
    # the negations); None: `source`. The cue text's labels ("voice clarity") are no sentiment words
    text: str | None = None

    @classmethod
    def from_sample(cls, sample: Sample, task: TaskInfo, with_cues: bool = False) -> Gold:
        """The sample's gold; `source` is its text, plus its cue text when the prompt carried it."""
        source = quotable_source(sample.text, sample.cues if with_cues else None)
        gold = task.gold_polarity(sample)
        return cls(score=sample.score, label=sample.label, polarity=gold, source=source, text=sample.text or "")

    @property
    def words(self) -> str | None:
        """The input's own words for the lexicon's components: `text`, else (a Gold built by hand) `source`."""
        return self.text if self.text is not None else self.source

    def resolve_polarity(self, task: TaskInfo) -> str | None:
        """The gold polarity: given explicitly, else from the score (task's neutral band), else
        from the label (the task's label->polarity map, or the label itself if it is a polarity)."""
        if self.polarity:
            return normalize_label(self.polarity)
        if self.score is not None:
            return task.score_polarity(self.score)
        if self.label:
            label = normalize_label(self.label)
            if label in task.label_polarity:
                return task.label_polarity[label]
            if label in POLARITIES:
                return label
        return None


@dataclass(frozen=True, slots=True)
class ReflectionAnswers:
    """What the policy answered to EMO-R3's two reflection questions for one rollout.

    `coherence`: answer to "Which emotion best describes the text above? ..." (shown step1..2);
    `consistency`: answer to "Can the following text describe the image? Answer yes or no."
    Either may be None (not asked); its component is then left out.
    """

    coherence: str | None = None
    consistency: str | None = None


@dataclass(frozen=True)
class RewardBreakdown:
    """The weighted total, every applicable component unweighted (for logging), and the parse."""

    total: float
    components: dict[str, float]
    parsed: ParseResult
    weights: dict[str, float] = field(default_factory=dict)


# --- component registry --------------------------------------------------------------------

RewardComponent = Callable[[ParseResult, Gold, TaskInfo, ReflectionAnswers | None], float | None]
COMPONENTS: dict[str, RewardComponent] = {}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def register_component(name: str, fn: RewardComponent | None = None, *, replace: bool = False):
    """Register `fn(parsed, gold, task, reflection) -> float | None` under `name`.

    Usable directly (`register_component("length", fn)`) or as a decorator
    (`@register_component("length")`). Names are lower-case identifiers because they become
    TRL function names (`emoreason_<name>`) and verl metric keys (`<name>_reward`).
    """
    if not _NAME.match(name):
        raise ValueError(f"component name {name!r} must be a lower-case identifier such as 'length_penalty'")

    def add(func: RewardComponent) -> RewardComponent:
        if name in COMPONENTS and not replace and COMPONENTS[name] is not func:
            raise ValueError(f"reward component {name!r} is already registered; pass replace=True to override it")
        COMPONENTS[name] = func
        return func

    return add if fn is None else add(fn)


def component_names() -> tuple[str, ...]:
    return tuple(COMPONENTS)


def _need(value: Any, what: str, component: str) -> Any:
    if value is None:
        raise ValueError(f"reward component {component!r} needs the gold {what}, which this sample lacks")
    return value


@register_component("format")
def _format(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    return format_reward(parsed)


@register_component("polarity")
def _polarity(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    return polarity_reward(parsed.polarity, _need(gold.resolve_polarity(task), "polarity (or score)", "polarity"))


def _score(
    parsed: ParseResult,
    gold: Gold,
    task: TaskInfo,
    reflection: ReflectionAnswers | None,
    kind: str = "linear",
    params: Mapping[str, float] | None = None,
) -> float:
    if task.scale is None:
        raise ValueError(f"reward component 'score' needs a task with a score scale; {task.name!r} has none")
    return score_reward(parsed.score, float(_need(gold.score, "score", "score")), task.scale, kind, **(params or {}))


register_component("score", _score)


@register_component("agreement")
def _agreement(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    """Does the answer's polarity tag agree with its own score's band (METHOD.md §4's reasoning-health
    check, as a reward)? Needs no gold. A policy trained on format + polarity + score learned to write
    "neutral, about -1.2": the polarity earns on a neutral gold and the score costs little, but the
    answer's score, which every score metric reads, says negative (RESULTS, "A neutral tag with a
    polar score")."""
    if task.scale is None:
        raise ValueError(f"reward component 'agreement' needs a task with a score scale; {task.name!r} has none")
    if parsed.score is None or not math.isfinite(parsed.score):
        return 0.0
    return polarity_reward(parsed.polarity, task.score_polarity(parsed.score))


@register_component("negation")
def _negation(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    """Do the negations the chain names stand just before their cues in the input? A student trained
    on the lexicon teacher's chains with the negation chains weighted up wrote `negated by "never"`
    for a "never" that negates another word; 342 of the 378 negations it named on the valid splits
    were false (RESULTS, "Weighting the negation chains"). Grounding cannot see it: both words are
    quoted. On its own it taught a policy to name fewer negations, not truer ones."""
    chain = "\n".join(parsed.reasoning.values())
    check = valence_check(chain, parsed.polarity, None, _need(gold.words, "input text (Gold.text)", "negation"))
    return negation_reward(check.negations_supported, check.negations)


@register_component("negation_coverage")
def _negation_coverage(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    """Does the chain name every negation its input applies to a word VADER's lexicon rates, and
    no other (`metrics.valence.negation_coverage`)? The `negation` component, which paid half for
    naming none, taught a policy to stop naming negations; here an input such as "not bad at all"
    pays only a chain that says "bad" is negated by "not". An input in another language has no
    lexicon words, so only false negations count there."""
    source = _need(gold.words, "input text (Gold.text)", "negation_coverage")
    chain = "\n".join(parsed.reasoning.values())
    coverage = negation_coverage(cue_statements(chain), source, vader_lexicon())
    return negation_coverage_reward(coverage.named_true, coverage.expected, coverage.named_false)


@register_component("cue_coverage")
def _cue_coverage(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    """Does the chain account for every word of its input that VADER's lexicon rates, stating a number
    for each, as the lexicon teacher's chains do? Grounding rewards quoting only what is there; this
    rewards leaving nothing out. The shipped default names one cue where the teacher names two or
    three ("It's super violent, super serious and super stupid." -> only "super" (+2.7))."""
    source = _need(gold.words, "input text (Gold.text)", "cue_coverage")
    cues = cue_words_named(cue_statements("\n".join(parsed.reasoning.values())), source, vader_lexicon())
    return cue_coverage_reward(sum(named for _, named in cues), len(cues))


@register_component("accuracy")
def _accuracy(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    return accuracy_reward(parsed.label, _need(gold.label, "label", "accuracy"))


@register_component("coherence")
def _coherence(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float | None:
    if reflection is None or reflection.coherence is None:
        return None
    if not task.labels:
        raise ValueError(f"reward component 'coherence' needs a task with a label set; {task.name!r} has none")
    return coherence_reward(reflection.coherence, _need(gold.label, "label", "coherence"), task.labels)


@register_component("consistency")
def _consistency(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float | None:
    if reflection is None or reflection.consistency is None:
        return None
    return consistency_reward(reflection.consistency)


@register_component("grounding")
def _grounding(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    chain = "\n".join(parsed.reasoning.values())
    found = citation_grounding(chain, _need(gold.source, "input text (Gold.source)", "grounding"))
    return grounding_reward(found.cited, found.grounded)


@register_component("valence")
def _valence(parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None) -> float:
    """Do the chain's stated valences hold? One check per quoted VADER-lexicon word (its stated sign
    against the lexicon's) and one for the answer (the summed cues' sign against a positive or
    negative polarity). For chains in the lexicon teacher's format: a policy that answers a polarity
    first, then calls "fun" -1.9 to fit it, scores 0 here where grounding alone gives it 1."""
    check = valence_check("\n".join(parsed.reasoning.values()), parsed.polarity, vader_lexicon())
    judged = check.judgment_agrees is not None
    return valence_reward(check.lexicon_sign_agree + bool(check.judgment_agrees), check.in_lexicon + judged)


# --- the composite -------------------------------------------------------------------------

C2F_WEIGHTS: dict[str, float] = {"format": 1.0, "polarity": 1.0, "score": 1.0}
EMOR3_WEIGHTS: dict[str, float] = {"accuracy": 0.8, "coherence": 0.1, "consistency": 0.1, "format": 0.1}
R1_WEIGHTS: dict[str, float] = {"accuracy": 1.0, "format": 1.0}
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {"c2f": C2F_WEIGHTS, "emor3": EMOR3_WEIGHTS, "r1": R1_WEIGHTS}


@functools.cache
def _format_named(name: str) -> ReasoningFormat:
    from emoreason.formats import get_format

    return get_format(name)


@dataclass(frozen=True)
class CompositeReward:
    """total = sum(weight[name] * component[name]) over the named components that apply.

    `format` is a registered reasoning format name ("c2f", "emor3", "r1") or a format object
    with `.parse(text, task)`. `score_kind` / `score_params` shape the "score" component
    (see `score_reward`: linear, squared, gaussian with sigma, threshold with tol).
    """

    format: str | ReasoningFormat = "c2f"
    weights: Mapping[str, float] = field(default_factory=lambda: dict(C2F_WEIGHTS))
    score_kind: str = "linear"
    score_params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.weights:
            known = ", ".join(COMPONENTS)
            raise ValueError(f"a composite reward needs at least one weighted component; known: {known}")
        unknown = [name for name in self.weights if name not in COMPONENTS]
        if unknown:
            raise ValueError(
                f"unknown reward component(s) {', '.join(map(repr, unknown))}; valid components: "
                f"{', '.join(COMPONENTS)} (add one with emoreason.rewards.register_component)"
            )
        for name, weight in self.weights.items():
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not math.isfinite(weight):
                raise ValueError(f"weight of reward component {name!r} must be a finite number, got {weight!r}")
        check_score_kind(self.score_kind, dict(self.score_params))
        score_reward(0.0, 0.0, (0.0, 1.0), self.score_kind, **dict(self.score_params))  # bad sigma/tol fail here
        object.__setattr__(self, "weights", {k: float(v) for k, v in self.weights.items()})
        object.__setattr__(self, "score_params", dict(self.score_params))
        if isinstance(self.format, str):
            _format_named(self.format)  # fail at construction on an unknown format name

    @classmethod
    def c2f(
        cls,
        weights: Mapping[str, float] | None = None,
        score_kind: str = "linear",
        format: str | ReasoningFormat = "c2f",
        **score_params: float,
    ) -> CompositeReward:
        """C2F-Thinker reward: format + polarity + score, default weights 1, 1, 1 (METHOD §1.4)."""
        return cls(format, dict(C2F_WEIGHTS if weights is None else weights), score_kind, score_params)

    @classmethod
    def emor3(
        cls, weights: Mapping[str, float] | None = None, format: str | ReasoningFormat = "emor3"
    ) -> CompositeReward:
        """EMO-R3 reward: 0.8 accuracy + 0.1 (coherence + consistency) + 0.1 format (METHOD §2)."""
        return cls(format, dict(EMOR3_WEIGHTS if weights is None else weights))

    @classmethod
    def r1(cls, weights: Mapping[str, float] | None = None, format: str | ReasoningFormat = "r1") -> CompositeReward:
        """R1-Omni style reward: accuracy + format (on a scored task pass {"format": 1, "score": 1})."""
        return cls(format, dict(R1_WEIGHTS if weights is None else weights))

    @property
    def format_name(self) -> str:
        return self.format if isinstance(self.format, str) else getattr(self.format, "name", type(self.format).__name__)

    def parse(self, completion: str, task: TaskInfo) -> ParseResult:
        fmt = _format_named(self.format) if isinstance(self.format, str) else self.format
        return fmt.parse(completion if isinstance(completion, str) else "", task)

    def component(
        self, name: str, parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None = None
    ) -> float | None:
        """One component's unweighted value, or None where it does not apply."""
        if name not in COMPONENTS:
            raise ValueError(f"unknown reward component {name!r}; valid components: {', '.join(COMPONENTS)}")
        if COMPONENTS[name] is _score:  # the built-in score takes this composite's shape
            value = _score(parsed, gold, task, reflection, self.score_kind, self.score_params)
        else:
            value = COMPONENTS[name](parsed, gold, task, reflection)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"reward component {name!r} returned {value!r}; it must return a finite number or None")
        return float(value)

    def score_parsed(
        self, parsed: ParseResult, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None = None
    ) -> RewardBreakdown:
        """Score an already parsed completion."""
        components: dict[str, float] = {}
        for name in self.weights:
            value = self.component(name, parsed, gold, task, reflection)
            if value is not None:
                components[name] = value
        total = sum(self.weights[name] * value for name, value in components.items())
        return RewardBreakdown(total=float(total), components=components, parsed=parsed, weights=dict(self.weights))

    def __call__(
        self, completion: str, gold: Gold, task: TaskInfo, reflection: ReflectionAnswers | None = None
    ) -> RewardBreakdown:
        return self.score_parsed(self.parse(completion, task), gold, task, reflection)


def default_format(task: TaskInfo) -> str:
    """c2f for a scored task, emor3 for a labelled one."""
    return "c2f" if task.is_regression else "emor3"


def reward_weights(
    format: str,
    task: TaskInfo | None = None,
    weights: Mapping[str, float] | None = None,
    add: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The component weights of a format's reward: METHOD.md's for c2f and emor3; r1 scores
    its answer as a label or, on a scored task, as a number (format + accuracy, or format +
    score). `weights` replaces them; `add` then adds (or re-weights) components."""
    name = _format_named(format).name
    if weights is not None:
        chosen = dict(weights)
    elif name == "r1" and task is not None and task.is_regression:
        chosen = {"format": 1.0, "score": 1.0}
    elif name in DEFAULT_WEIGHTS:
        chosen = dict(DEFAULT_WEIGHTS[name])
    else:
        raise ValueError(
            f"format {name!r} has no default reward weights; pass weights= naming "
            f"components among {', '.join(COMPONENTS)}"
        )
    return {**chosen, **dict(add or {})}


def build_reward(
    format: str | None,
    task: TaskInfo,
    *,
    weights: Mapping[str, float] | None = None,
    add: Mapping[str, float] | None = None,
    score_kind: str = "linear",
    score_params: Mapping[str, float] | None = None,
) -> CompositeReward:
    """The one reward factory: the composite of `format` (default: c2f for a scored task,
    emor3 for a labelled one) with `reward_weights`, and the score component's shape."""
    fmt = format or default_format(task)
    return CompositeReward(fmt, reward_weights(fmt, task, weights, add), score_kind, dict(score_params or {}))
