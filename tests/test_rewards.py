"""Rewards: hand-computed components and composites, the registry, and the TRL / verl adapters."""

from __future__ import annotations

import json
import math
import pickle
import types
from collections import defaultdict

import pytest

from emoreason.data.schema import MMSA_TASKS, SIMS_TASK, TaskInfo, mikels_task, vader_task
from emoreason.formats.base import ParseError, ParseResult
from emoreason.rewards import (
    COMPONENTS,
    CompositeReward,
    Gold,
    ReflectionAnswers,
    accuracy_reward,
    coherence_reward,
    completion_text,
    compute_score,
    consistency_reward,
    cue_coverage_reward,
    extract_label,
    format_reward,
    gold_from_ground_truth,
    negation_coverage_reward,
    polarity_reward,
    register_component,
    score_reward,
    task_for_source,
    trl_reward_function,
    trl_reward_functions,
)

MOSI = MMSA_TASKS["mosi"]
EMOSET = mikels_task("emoset")


def parsed(ok=True, polarity=None, score=None, label=None, fmt="c2f", errors=()):
    return ParseResult(fmt, ok, polarity=polarity, score=score, label=label, errors=tuple(errors))


class StubFormat:
    """Returns a fixed parse, so composite arithmetic is tested apart from any parser."""

    name = "stub"

    def __init__(self, result: ParseResult) -> None:
        self.result = result

    def parse(self, text, task=None):
        return self.result


def c2f_text(polarity: str, score: str) -> str:
    think = "The words are bitter and the voice is flat."
    return f"<polarity>{polarity}</polarity>\n<think>{think}</think>\n<score>{score}</score>"


def emor3_text(label: str) -> str:
    return (
        "<step1>A man sits alone by a grave in the rain.</step1>\n"
        "<step2>A viewer would feel grief and loss.</step2>\n"
        "<step3>negative, low arousal</step3>\n"
        f"\\boxed{{{label}}}"
    )


# --- components ---------------------------------------------------------------------------


def test_format_reward():
    assert format_reward(parsed(ok=True)) == 1.0
    assert format_reward(parsed(ok=False, errors=[ParseError("score", "missing")])) == 0.0


@pytest.mark.parametrize(
    "pred, gold, expected",
    [
        ("negative", "negative", 1.0),
        (" Negative ", "negative", 1.0),
        ("positive", "negative", 0.0),
        (None, "negative", 0.0),
        ("", "neutral", 0.0),
        ("negative", None, 0.0),
    ],
)
def test_polarity_reward(pred, gold, expected):
    assert polarity_reward(pred, gold) == expected


@pytest.mark.parametrize(
    "pred, gold, expected",
    [
        ("sadness", "sadness", 1.0),
        ("  SADNESS ", "sadness", 1.0),
        ("very  happy", "Very happy", 1.0),
        ("anger", "sadness", 0.0),
        (None, "sadness", 0.0),
        ("", "sadness", 0.0),
    ],
)
def test_accuracy_reward(pred, gold, expected):
    assert accuracy_reward(pred, gold) == expected


@pytest.mark.parametrize(
    "pred, gold, scale, kind, params, expected",
    [
        (1.0, -0.2, (-1.0, 1.0), "linear", {}, 1 - 1.2 / 2),  # 0.4
        (-1.4, -1.4, (-3.0, 3.0), "linear", {}, 1.0),
        (4.0, 0.0, (-3.0, 3.0), "linear", {}, 1 - 4 / 6),  # out of range, scored as written
        (10.0, -3.0, (-3.0, 3.0), "linear", {}, 0.0),  # clipped at 0
        (1.0, -0.2, (-1.0, 1.0), "squared", {}, 1 - 0.6**2),  # 0.64
        (10.0, -3.0, (-3.0, 3.0), "squared", {}, 0.0),
        (1.0, 0.0, (-1.0, 1.0), "gaussian", {"sigma": 0.5}, math.exp(-0.5)),  # (1 / (0.5*2))^2 / 2
        (0.5, 0.0, (-1.0, 1.0), "gaussian", {}, math.exp(-0.5)),  # default sigma 0.25
        (0.2, 0.0, (-1.0, 1.0), "threshold", {"tol": 0.3}, 1.0),
        (0.4, 0.0, (-1.0, 1.0), "threshold", {"tol": 0.3}, 0.0),
        (1.5, 1.0, (-3.0, 3.0), "threshold", {}, 1.0),  # default tol 0.1 * 6 = 0.6
        (1.7, 1.0, (-3.0, 3.0), "threshold", {}, 0.0),
    ],
)
def test_score_reward_shapes(pred, gold, scale, kind, params, expected):
    assert score_reward(pred, gold, scale, kind, **params) == pytest.approx(expected)


@pytest.mark.parametrize("kind", ["linear", "squared", "gaussian", "threshold"])
@pytest.mark.parametrize("pred", [None, float("nan"), float("inf"), float("-inf")])
def test_score_reward_missing_prediction_is_zero(kind, pred):
    assert score_reward(pred, 0.5, (-1.0, 1.0), kind) == 0.0


def test_score_reward_rejects_bad_configuration():
    with pytest.raises(ValueError, match="linear, squared, gaussian, threshold"):
        score_reward(0.0, 0.0, (-1.0, 1.0), "cubic")
    with pytest.raises(ValueError, match="min < max"):
        score_reward(0.0, 0.0, (1.0, 1.0))
    with pytest.raises(ValueError, match="sigma > 0"):
        score_reward(0.0, 0.0, (-1.0, 1.0), "gaussian", sigma=0.0)
    with pytest.raises(ValueError, match="takes no parameter tol"):
        score_reward(0.0, 0.0, (-1.0, 1.0), "linear", tol=0.1)
    with pytest.raises(ValueError, match="gold score"):
        score_reward(0.0, None, (-1.0, 1.0))  # type: ignore[arg-type]


# METHOD §2: coherence 1 if the answer equals the gold label, 0.5 if empty/unparseable, else 0.
@pytest.mark.parametrize(
    "answer, expected",
    [
        ("sadness", 1.0),
        ("Sadness.", 1.0),
        ("  SADNESS  ", 1.0),
        ('"sadness"', 1.0),
        ("\\boxed{sadness}", 1.0),
        ("The emotion that best describes the text is sadness.", 1.0),
        ("anger", 0.0),
        ("The text above mostly conveys fear", 0.0),
        ("", 0.5),
        (None, 0.5),
        ("   ", 0.5),
        ("I cannot tell.", 0.5),
        ("anger or sadness", 0.5),  # two different labels: unparseable
        ("sad", 0.5),  # inflections are not labels
        ("sadness, sadness", 1.0),  # one distinct label
        ("#$%&*!", 0.5),
    ],
)
def test_coherence_reward_table(answer, expected):
    assert coherence_reward(answer, "sadness", EMOSET.labels) == expected


def test_extract_label_prefers_longer_labels_and_keeps_spelling():
    labels = ("very happy", "happy", "Awe")
    assert extract_label("I'd say very happy", labels) == "very happy"
    assert extract_label("happy", labels) == "happy"
    assert extract_label("awe!", labels) == "Awe"
    assert extract_label("happy and very happy", labels) is None
    assert extract_label("anything", ()) is None


# METHOD §2: consistency yes -> 1, no -> 0, anything else 0.5.
@pytest.mark.parametrize(
    "answer, expected",
    [
        ("yes", 1.0),
        ("Yes.", 1.0),
        ("YES", 1.0),
        ("  yes!  ", 1.0),
        ("The answer is: yes", 1.0),
        ("Yes, although there is no dog in the text.", 1.0),
        ("\\boxed{Yes}", 1.0),
        ("no", 0.0),
        ("No.", 0.0),
        ("no, because the image shows a beach", 0.0),
        ("NO!", 0.0),
        ("yes and no", 0.5),
        ("yes/no", 0.5),
        ("", 0.5),
        (None, 0.5),
        ("maybe", 0.5),
        ("Yesterday", 0.5),
        ("nobody knows", 0.5),
        ("It partly does", 0.5),
    ],
)
def test_consistency_reward_table(answer, expected):
    assert consistency_reward(answer) == expected


# --- composite arithmetic (parser stubbed out) ------------------------------------------------


def test_c2f_default_weights_fully_correct_is_three():
    reward = CompositeReward.c2f(format=StubFormat(parsed(True, "negative", -1.4)))
    out = reward("ignored", Gold(score=-1.4), MOSI)
    assert out.total == pytest.approx(3.0)
    assert out.components == {"format": 1.0, "polarity": 1.0, "score": 1.0}
    assert out.weights == {"format": 1.0, "polarity": 1.0, "score": 1.0}


def test_c2f_partial_answer_and_custom_weights():
    # pred positive 0.5 vs gold -1.0 on MOSI (-3..3): polarity 0, score 1 - 1.5/6 = 0.75
    guess = parsed(True, "positive", 0.5)
    out = CompositeReward.c2f(format=StubFormat(guess))("x", Gold(score=-1.0), MOSI)
    assert out.components == {"format": 1.0, "polarity": 0.0, "score": 0.75}
    assert out.total == pytest.approx(1.75)
    weighted = CompositeReward.c2f({"format": 0.5, "polarity": 2.0, "score": 1.0}, format=StubFormat(guess))
    assert weighted("x", Gold(score=-1.0), MOSI).total == pytest.approx(0.5 + 0.0 + 0.75)
    squared = CompositeReward.c2f(score_kind="squared", format=StubFormat(guess))
    assert squared("x", Gold(score=-1.0), MOSI).components["score"] == pytest.approx(1 - 0.25**2)
    gaussian = CompositeReward.c2f(score_kind="gaussian", sigma=0.25, format=StubFormat(guess))
    assert gaussian("x", Gold(score=-1.0), MOSI).components["score"] == pytest.approx(math.exp(-0.5))


def test_c2f_gold_polarity_comes_from_score_band_or_explicit_value():
    # SIMS neutral band (-0.1, 0.1]: gold 0.1 is neutral, so a neutral polarity is right.
    reward = CompositeReward.c2f(format=StubFormat(parsed(True, "neutral", 0.1)))
    assert reward("x", Gold(score=0.1), SIMS_TASK).components["polarity"] == 1.0
    assert reward("x", Gold(score=0.1, polarity="positive"), SIMS_TASK).components["polarity"] == 0.0


def test_c2f_unparsed_answer_keeps_the_parts_it_has():
    # The score tag parsed, the polarity did not: format 0, polarity 0, score still earns.
    broken = parsed(False, None, -1.0, errors=[ParseError("polarity", "missing")])
    out = CompositeReward.c2f(format=StubFormat(broken))("x", Gold(score=-1.0), MOSI)
    assert out.components == {"format": 0.0, "polarity": 0.0, "score": 1.0}
    assert out.total == 1.0


@pytest.mark.parametrize(
    ("polarity", "score", "expected"),
    [
        ("neutral", -1.2, 0.0),  # the RL failure: a neutral tag, a score in the negative band
        ("neutral", 0.3, 1.0),
        ("positive", 0.5, 1.0),  # VADER's band (-0.5, 0.5) is open: 0.5 is positive
        ("negative", 0.5, 0.0),
        ("Negative ", -2.0, 1.0),
        ("neutral", None, 0.0),
        ("neutral", float("nan"), 0.0),
        (None, 1.0, 0.0),
    ],
)
def test_agreement_component_checks_the_tag_against_the_own_score_band(polarity, score, expected):
    reward = CompositeReward.c2f({"agreement": 1.0}, format=StubFormat(parsed(True, polarity, score)))
    # the gold plays no part: a wrong answer that agrees with itself still earns 1
    assert reward("x", Gold(score=3.0), vader_task("tweets")).components == {"agreement": expected}


def test_agreement_in_the_c2f_composite_costs_a_self_contradicting_answer():
    # gold 0.1 (neutral on -4..4). "neutral, -1.2": format 1, polarity 1, score 1 - 1.3/8, agreement 0;
    # "neutral, -0.3": score 1 - 0.4/8, agreement 1. Without agreement the two differ by 0.1125 only.
    weights = {"format": 1.0, "polarity": 1.0, "score": 1.0, "agreement": 1.0}
    task = vader_task("tweets")
    far = CompositeReward.c2f(weights, format=StubFormat(parsed(True, "neutral", -1.2)))("x", Gold(score=0.1), task)
    near = CompositeReward.c2f(weights, format=StubFormat(parsed(True, "neutral", -0.3)))("x", Gold(score=0.1), task)
    assert far.total == pytest.approx(2.8375)
    assert near.total == pytest.approx(3.95)
    with pytest.raises(ValueError, match="agreement.*score scale"):
        unscaled = CompositeReward.c2f({"agreement": 1.0}, format=StubFormat(parsed(True, "neutral", 0.0)))
        unscaled("x", Gold(label="joy"), EMOSET)


def test_emor3_method_weights():
    right = StubFormat(parsed(True, label="sadness", fmt="emor3"))
    reward = CompositeReward.emor3(format=right)
    assert reward.weights == {"accuracy": 0.8, "coherence": 0.1, "consistency": 0.1, "format": 0.1}
    # 0.8*1 + 0.1*(1 + 0) + 0.1*1 = 1.0
    out = reward("x", Gold(label="sadness"), EMOSET, ReflectionAnswers("Sadness.", "No, it shows a party."))
    assert out.components == {"accuracy": 1.0, "coherence": 1.0, "consistency": 0.0, "format": 1.0}
    assert out.total == pytest.approx(1.0)
    # everything right: 0.8 + 0.1*2 + 0.1 = 1.1
    assert reward("x", Gold(label="sadness"), EMOSET, ReflectionAnswers("sadness", "yes")).total == pytest.approx(1.1)
    # wrong label, unparseable reflections, broken format: 0 + 0.1*(0.5 + 0.5) + 0 = 0.1
    wrong = CompositeReward.emor3(format=StubFormat(parsed(False, label="anger", fmt="emor3")))
    out = wrong("x", Gold(label="sadness"), EMOSET, ReflectionAnswers("", "maybe"))
    assert out.components == {"accuracy": 0.0, "coherence": 0.5, "consistency": 0.5, "format": 0.0}
    assert out.total == pytest.approx(0.1)


def test_emor3_without_reflection_omits_reflection_components():
    reward = CompositeReward.emor3(format=StubFormat(parsed(True, label="sadness", fmt="emor3")))
    out = reward("x", Gold(label="sadness"), EMOSET)
    assert out.components == {"accuracy": 1.0, "format": 1.0}
    assert out.total == pytest.approx(0.9)
    only_coherence = reward("x", Gold(label="sadness"), EMOSET, ReflectionAnswers(coherence="anger"))
    assert only_coherence.components == {"accuracy": 1.0, "coherence": 0.0, "format": 1.0}
    assert only_coherence.total == pytest.approx(0.9)


def test_composite_rejects_bad_weights():
    with pytest.raises(ValueError) as err:
        CompositeReward(StubFormat(parsed()), {"format": 1.0, "fluency": 1.0})
    for valid in ("format", "polarity", "score", "accuracy", "coherence", "consistency"):
        assert valid in str(err.value)
    assert "'fluency'" in str(err.value)
    with pytest.raises(ValueError, match="at least one"):
        CompositeReward(StubFormat(parsed()), {})
    with pytest.raises(ValueError, match="finite number"):
        CompositeReward(StubFormat(parsed()), {"format": float("nan")})
    with pytest.raises(ValueError, match="finite number"):
        CompositeReward(StubFormat(parsed()), {"format": "1"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="linear, squared"):
        CompositeReward.c2f(score_kind="huber", format=StubFormat(parsed()))
    with pytest.raises(ValueError, match="sigma > 0"):
        CompositeReward.c2f(score_kind="gaussian", sigma=-1.0, format=StubFormat(parsed()))


def test_composite_missing_gold_is_a_clear_error():
    reward = CompositeReward.c2f(format=StubFormat(parsed(True, "negative", -1.0)))
    with pytest.raises(ValueError, match="'score' needs the gold score"):
        reward("x", Gold(polarity="negative"), MOSI)
    with pytest.raises(ValueError, match="'polarity' needs the gold polarity"):
        reward("x", Gold(), MOSI)
    with pytest.raises(ValueError, match="score scale"):
        reward("x", Gold(score=1.0, label="anger"), EMOSET)
    with pytest.raises(ValueError, match="'accuracy' needs the gold label"):
        CompositeReward.emor3(format=StubFormat(parsed()))("x", Gold(score=1.0), EMOSET)
    with pytest.raises(ValueError, match="label set"):
        CompositeReward.emor3(format=StubFormat(parsed()))("x", Gold(label="a"), MOSI, ReflectionAnswers("a", "yes"))


def test_gold_from_sample_uses_task_polarity():
    from emoreason.data.schema import Sample

    gold = Gold.from_sample(Sample("a", label="Awe"), EMOSET)
    assert gold.polarity == "positive" and gold.label == "Awe"
    assert Gold.from_sample(Sample("b", score=-0.05), SIMS_TASK).polarity == "neutral"


# --- registry ------------------------------------------------------------------------------


@pytest.fixture
def scratch_registry():
    before = dict(COMPONENTS)
    yield
    COMPONENTS.clear()
    COMPONENTS.update(before)


def test_register_new_component_without_touching_the_composite(scratch_registry):
    @register_component("brevity")
    def brevity(parsed, gold, task, reflection):
        return 1.0 if len(parsed.reasoning.get("think", "")) <= 10 else 0.0

    @register_component("needs_reflection")
    def needs_reflection(parsed, gold, task, reflection):
        return None if reflection is None else 1.0

    short = ParseResult("c2f", True, polarity="negative", score=-1.0, reasoning={"think": "flat voice"})
    reward = CompositeReward(StubFormat(short), {"format": 1.0, "brevity": 0.5, "needs_reflection": 2.0})
    out = reward("x", Gold(score=-1.0), MOSI)
    assert out.components == {"format": 1.0, "brevity": 1.0}  # None: left out
    assert out.total == pytest.approx(1.5)
    assert reward("x", Gold(score=-1.0), MOSI, ReflectionAnswers()).total == pytest.approx(3.5)

    with pytest.raises(ValueError, match="already registered"):
        register_component("brevity", lambda *a: 0.0)
    register_component("brevity", lambda *a: 0.25, replace=True)
    assert reward("x", Gold(score=-1.0), MOSI).components["brevity"] == 0.25
    with pytest.raises(ValueError, match="lower-case identifier"):
        register_component("Bad Name", lambda *a: 0.0)

    register_component("numpy_value", lambda *a: __import__("numpy").float32(0.5))
    assert CompositeReward(StubFormat(short), {"numpy_value": 2.0})("x", Gold(), MOSI).total == 1.0

    @register_component("score", replace=True)  # a researcher's own score replaces the built-in
    def exact_score(parsed, gold, task, reflection):
        return float(parsed.score == gold.score)

    assert CompositeReward(StubFormat(short), {"score": 1.0})("x", Gold(score=-0.5), MOSI).total == 0.0

    register_component("broken", lambda *a: float("nan"))
    with pytest.raises(ValueError, match="'broken' returned nan"):
        CompositeReward(StubFormat(short), {"broken": 1.0})("x", Gold(score=-1.0), MOSI)


# --- real formats ---------------------------------------------------------------------------


def test_c2f_composite_on_real_text():
    reward = CompositeReward.c2f()
    assert reward(c2f_text("negative", "-1.4"), Gold(score=-1.4), MOSI).total == pytest.approx(3.0)
    out = reward(c2f_text("POSITIVE", "+0.5"), Gold(score=-1.0), MOSI)
    assert out.components == {"format": 1.0, "polarity": 0.0, "score": 0.75}
    # out of scale: not ok (format 0) but the score is scored as written: 1 - 5/6
    out = reward(c2f_text("positive", "4"), Gold(score=-1.0), MOSI)
    assert out.parsed.score_out_of_range and out.components["format"] == 0.0
    assert out.components["score"] == pytest.approx(1 - 5 / 6)
    for garbage in ("", "I think it is negative, maybe -1.", "\x00" * 50, "<score>abc</score>"):
        out = reward(garbage, Gold(score=-1.0), MOSI)
        assert out.components["format"] == 0.0 and out.components["score"] == 0.0
    with pytest.raises(ValueError, match="unknown reasoning format"):
        CompositeReward("no_such_format")


def test_emor3_composite_on_real_text():
    reward = CompositeReward.emor3()
    out = reward(emor3_text("sadness"), Gold(label="sadness"), EMOSET, ReflectionAnswers("sadness", "yes"))
    assert out.parsed.ok, out.parsed.errors
    assert out.total == pytest.approx(1.1)
    out = reward(emor3_text("Anger"), Gold(label="sadness"), EMOSET)
    assert out.components == {"accuracy": 0.0, "format": 1.0}
    assert reward("", Gold(label="sadness"), EMOSET).total == 0.0


# --- TRL adapter -----------------------------------------------------------------------------


class TRLLogs:
    """Stand-ins for GRPOTrainer._log_completion_extra / _log_metric."""

    def __init__(self) -> None:
        self.extra: dict[str, list] = defaultdict(list)
        self.metrics: dict[str, list] = defaultdict(list)

    def log_extra(self, column, values):
        self.extra[column].extend(values)

    def log_metric(self, name, value):
        self.metrics[name].append(value)


def trl_call(reward_funcs, reward_weights, inputs, prompts, completions, completion_ids_list, logs):
    """What trl 1.16 `GRPOTrainer._calculate_rewards` does for plain-callable reward functions,
    then the weighted sum from `GRPOTrainer._generate_and_score_completions`
    (`(rewards_per_func * reward_weights).nansum(dim=1)`), in plain Python."""
    keys = [key for key in inputs[0] if key not in ["prompt", "completion", "completion_ids"]]
    reward_kwargs = {key: [example[key] for example in inputs] for key in keys}
    reward_kwargs["trainer_state"] = types.SimpleNamespace(global_step=7, epoch=0.5)  # self.state
    reward_kwargs["log_extra"] = logs.log_extra
    reward_kwargs["log_metric"] = logs.log_metric
    per_func = []
    for reward_func in reward_funcs:
        output_reward_func = reward_func(
            prompts=prompts, completions=completions, completion_ids=completion_ids_list, **reward_kwargs
        )
        output_reward_func = [reward if reward is not None else math.nan for reward in output_reward_func]
        assert len(output_reward_func) == len(prompts)
        per_func.append(output_reward_func)
    totals = [
        sum(w * r for w, r in zip(reward_weights, row, strict=True) if not math.isnan(r)) for row in zip(*per_func)
    ]
    return per_func, totals


def trl_name(func):
    """trl.trainer.utils.get_callable_name, as GRPOTrainer.__init__ uses it for reward_func_names."""
    return getattr(func, "__name__", type(func).__name__)


C2F_ROWS = [  # a MOSI-like dataset: gold columns plus columns the reward ignores
    {"prompt": "Rate: 'I hated it.'", "score": -2.0, "polarity": "negative", "label": None, "id": "a"},
    {"prompt": "Rate: 'It was fine.'", "score": 0.0, "polarity": "neutral", "label": None, "id": "b"},
]
C2F_COMPLETIONS = [  # two generations per prompt, in TRL's repeated order
    c2f_text("negative", "-2"),
    c2f_text("positive", "1"),
    c2f_text("neutral", "0.0"),
    "I am not sure",
]
# hand-computed: (format, polarity, score) on -3..3
C2F_EXPECTED = [(1.0, 1.0, 1.0), (1.0, 0.0, 0.5), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)]


def _repeat(rows, g):
    return [dict(row) for row in rows for _ in range(g)]  # RepeatSampler: each index loaded anew


@pytest.mark.parametrize("conversational", [False, True])
def test_trl_per_component_functions_match_trl_call(conversational):
    funcs, weights = trl_reward_functions("c2f", task="mosi")
    assert [trl_name(f) for f in funcs] == ["emoreason_format", "emoreason_polarity", "emoreason_score"]
    assert weights == [1.0, 1.0, 1.0]
    inputs = _repeat(C2F_ROWS, 2)
    if conversational:
        prompts = [[{"role": "user", "content": row["prompt"]}] for row in inputs]
        completions = [[{"role": "assistant", "content": c}] for c in C2F_COMPLETIONS]
    else:
        prompts = [row["prompt"] for row in inputs]
        completions = list(C2F_COMPLETIONS)
    logs = TRLLogs()
    per_func, totals = trl_call(funcs, weights, inputs, prompts, completions, [[1, 2, 3]] * 4, logs)
    assert [tuple(col) for col in zip(*per_func)] == C2F_EXPECTED
    assert totals == pytest.approx([3.0, 1.5, 3.0, 0.0])
    assert not logs.metrics  # per-component functions leave logging to TRL


def test_trl_total_function_and_its_logging():
    fn = trl_reward_function("c2f", task=MOSI, weights={"format": 1.0, "polarity": 1.0, "score": 2.0})
    assert trl_name(fn) == "emoreason_reward"
    inputs = _repeat(C2F_ROWS, 2)
    logs = TRLLogs()
    per_func, totals = trl_call([fn], [1.0], inputs, [r["prompt"] for r in inputs], C2F_COMPLETIONS, None, logs)
    assert per_func[0] == pytest.approx([4.0, 2.0, 4.0, 0.0])
    assert logs.metrics["emoreason/format"] == [pytest.approx(0.75)]
    assert logs.metrics["emoreason/score"] == [pytest.approx(2.5 / 4)]
    assert len(logs.extra["emoreason_parse_errors"]) == 4
    assert logs.extra["emoreason_parse_errors"][0] == "" and logs.extra["emoreason_parse_errors"][3]


def test_trl_single_component_function():
    fn = trl_reward_function("c2f", task="mosi", component="score")
    assert trl_name(fn) == "emoreason_score"
    assert fn(C2F_COMPLETIONS, score=[-2.0, -2.0, 0.0, 0.0]) == pytest.approx([1.0, 0.5, 1.0, 0.0])
    with pytest.raises(ValueError, match="valid components"):
        trl_reward_function("c2f", task="mosi", component="fluency")


def test_trl_emor3_reflection_none_is_skipped_like_trl_does():
    funcs, weights = trl_reward_functions("emor3", task="emoset")
    assert [trl_name(f) for f in funcs] == [
        "emoreason_accuracy",
        "emoreason_coherence",
        "emoreason_consistency",
        "emoreason_format",
    ]
    assert weights == [0.8, 0.1, 0.1, 0.1]
    rows = [{"prompt": [{"role": "user", "content": "Which emotion?"}], "label": "sadness", "image": "x.jpg"}]
    inputs = _repeat(rows, 2)
    completions = [
        [{"role": "assistant", "content": emor3_text("sadness")}],
        [{"role": "assistant", "content": emor3_text("fear")}],
    ]
    prompts = [r["prompt"] for r in inputs]
    per_func, totals = trl_call(funcs, weights, inputs, prompts, completions, None, TRLLogs())
    assert per_func[1] == [None, None] or all(math.isnan(x) for x in per_func[1])
    assert totals == pytest.approx([0.9, 0.1])
    # a rollout function (or our trainer) can pass the reflection answers as columns
    for row, coh, cons in zip(inputs, ["sadness", "I don't know"], ["Yes.", "no"], strict=True):
        row["reflection_coherence"], row["reflection_consistency"] = coh, cons
    per_func, totals = trl_call(funcs, weights, inputs, prompts, completions, None, TRLLogs())
    assert totals == pytest.approx([1.1, 0.1 + 0.1 * 0.5])
    inputs[1]["reflection_coherence"], inputs[1]["reflection_consistency"] = float("nan"), ""  # NaN cell: not asked
    per_func, totals = trl_call(funcs, weights, inputs, prompts, completions, None, TRLLogs())
    assert math.isnan(per_func[1][1]) and per_func[2][1] == 0.5
    assert totals[1] == pytest.approx(0.1 + 0.1 * 0.5)
    direct = CompositeReward.emor3()
    assert totals[0] == pytest.approx(
        direct(emor3_text("sadness"), Gold(label="sadness"), EMOSET, ReflectionAnswers("sadness", "Yes.")).total
    )


def test_trl_adapter_inputs():
    fn = trl_reward_function("c2f", task="sims", gold_columns={"score": "sentiment"})
    assert fn([c2f_text("negative", "-0.5")], sentiment=[-0.5]) == [pytest.approx(3.0)]
    assert fn([c2f_text("negative", "-0.5")], sentiment=["-0.5"]) == [pytest.approx(3.0)]  # string column
    with pytest.raises(ValueError, match="needs the gold .*columns the trainer passed: \\['id'\\]"):
        fn([c2f_text("negative", "-0.5")], id=["a"])
    with pytest.raises(ValueError, match="has 2 values for 1 completions"):
        fn([c2f_text("negative", "-0.5")], sentiment=[-0.5, 0.1])
    assert pickle.loads(pickle.dumps(fn))([c2f_text("negative", "-0.5")], sentiment=[-0.5]) == [pytest.approx(3.0)]
    assert "emoreason_reward" in repr(fn)


def test_completion_text_forms():
    assert completion_text("plain") == "plain"
    assert completion_text([{"role": "assistant", "content": "a"}]) == "a"
    parts = [{"type": "text", "text": "b"}, {"type": "image"}]
    assert completion_text([{"role": "assistant", "content": parts}]) == "b"
    assert (
        completion_text(
            [
                {"role": "assistant", "content": "x"},
                {"role": "tool", "content": "42"},
                {"role": "assistant", "content": "y"},
            ]
        )
        == "x\ny"
    )
    assert completion_text([{"role": "assistant", "content": None}]) == ""
    assert completion_text(None) == ""


# --- verl adapter ----------------------------------------------------------------------------

C2F_RIGHT = c2f_text("negative", "-0.8")


@pytest.mark.parametrize(
    "ground_truth",
    [
        -0.8,
        -0.8 * 1,
        "-0.8",
        " -0.8 ",
        {"score": -0.8},
        {"score": "-0.8", "polarity": "Negative"},
        json.dumps({"score": -0.8}),
        json.dumps({"score": -0.8, "label": None}),
    ],
)
def test_compute_score_regression_ground_truth_forms(ground_truth):
    out = compute_score("sims", C2F_RIGHT, ground_truth)
    assert out == {"score": pytest.approx(3.0), "format_reward": 1.0, "polarity_reward": 1.0, "score_reward": 1.0}


def test_compute_score_numbers_and_partial_credit():
    import numpy as np

    # gold 1 on SIMS (-1..1): polarity wrong, score 1 - 1.8/2 = 0.1
    out = compute_score("sims", C2F_RIGHT, 1)
    assert out["score"] == pytest.approx(1.1) and out["score_reward"] == pytest.approx(0.1)
    assert compute_score("sims", C2F_RIGHT, np.float32(-0.8))["score"] == pytest.approx(3.0)
    assert compute_score("vader:tweets", c2f_text("negative", "-2"), -2.0)["score"] == pytest.approx(3.0)
    assert compute_score("mmsa:/data/mosi.pkl?dataset=mosi", c2f_text("negative", "-2"), -2.0)["score"] == 3.0
    out = compute_score("jsonl:x.jsonl?scale=-4,4", c2f_text("positive", "2"), 0.0)
    assert out["polarity_reward"] == 0.0 and out["score_reward"] == pytest.approx(0.75)


@pytest.mark.parametrize("ground_truth", ["sadness", "Sadness", {"label": "sadness"}, json.dumps({"label": "sadness"})])
def test_compute_score_label_ground_truth_forms(ground_truth):
    out = compute_score("emoset", emor3_text("sadness"), ground_truth)
    assert out == {"score": pytest.approx(0.9), "accuracy_reward": 1.0, "format_reward": 1.0}


def test_compute_score_extra_info():
    info = {"reflection": {"coherence": "sadness", "consistency": "yes"}, "index": 3, "split": "train"}
    assert compute_score("emoset", emor3_text("sadness"), "sadness", info)["score"] == pytest.approx(1.1)
    flat = {"reflection_coherence": "anger", "reflection_consistency": "no"}
    out = compute_score("emoset", emor3_text("sadness"), "sadness", flat)
    assert out == {
        "score": pytest.approx(0.9),
        "accuracy_reward": 1.0,
        "coherence_reward": 0.0,
        "consistency_reward": 0.0,
        "format_reward": 1.0,
    }
    out = compute_score("fi", emor3_text("sadness"), "sadness", {"weights": {"accuracy": 1.0}})
    assert out == {"score": 1.0, "accuracy_reward": 1.0}
    out = compute_score(
        "mosi",
        c2f_text("negative", "-1"),
        -2,
        {"format": "c2f", "score_kind": "threshold", "score_params": {"tol": 0.5}},
    )
    assert out["score_reward"] == 0.0
    with pytest.raises(ValueError, match="valid components"):
        compute_score("mosi", C2F_RIGHT, -1, {"weights": {"bleu": 1.0}})


def test_compute_score_format_aliases_and_r1_defaults():
    out = compute_score("emoset", emor3_text("sadness"), "sadness", {"format": "EMO-R3"})
    assert out["score"] == pytest.approx(0.9)
    assert set(compute_score("emoset", "<think>x</think><answer>sadness</answer>", "sadness", {"format": "r1"})) == {
        "score",
        "accuracy_reward",
        "format_reward",
    }
    out = compute_score("mosi", "<think>x</think><answer>-2</answer>", -2, {"format": "r1"})
    assert set(out) == {"score", "format_reward", "score_reward"} and out["score_reward"] == 1.0


def test_compute_score_bad_inputs():
    with pytest.raises(ValueError) as err:
        compute_score("imdb", C2F_RIGHT, 1.0)
    for known in ("mosi", "mosei", "sims", "simsv2", "emoset", "fi", "vader:tweets"):
        assert known in str(err.value)
    with pytest.raises(ValueError, match="unknown VADER domain"):
        compute_score("vader:reddit", C2F_RIGHT, 1.0)
    with pytest.raises(ValueError, match="unknown data source"):
        compute_score("jsonl:x.jsonl", C2F_RIGHT, 1.0)  # a spec that does not say its task
    with pytest.raises(ValueError, match="does not parse"):
        compute_score("sims", C2F_RIGHT, "{score: 1")
    with pytest.raises(ValueError, match="not understood"):
        compute_score("sims", C2F_RIGHT, {"value": 1})
    with pytest.raises(ValueError, match="neither"):
        compute_score("sims", C2F_RIGHT, None)
    with pytest.raises(ValueError, match="not a number"):
        compute_score("sims", C2F_RIGHT, {"score": "high"})
    # garbage model output is never an error
    assert compute_score("sims", None, -0.8)["score"] == 0.0  # type: ignore[arg-type]
    assert compute_score("sims", "", -0.8)["score"] == 0.0


def test_task_for_source():
    assert task_for_source("SIMS") is SIMS_TASK
    assert task_for_source("vader:tweets") == vader_task("tweets")
    assert task_for_source("vader:movies?neutral=0.25").neutral.high == 0.25
    assert task_for_source("emoset").labels == EMOSET.labels
    assert task_for_source("images:/d?dataset=fi").name == "fi"
    task = task_for_source("jsonl:x.jsonl?labels=anger,joy,neutral")
    assert task.labels == ("anger", "joy", "neutral")
    assert task.label_polarity == {"anger": "negative", "joy": "positive", "neutral": "neutral"}
    # the same polarities as the file's own task: RAVDESS's words and `?polarity=` too (they were dropped)
    own = task_for_source("jsonl:x.jsonl?labels=calm,boredom&polarity=boredom:negative")
    assert own.label_polarity == {"calm": "positive", "boredom": "negative"}
    assert task_for_source(MOSI) is MOSI
    assert isinstance(task_for_source("csv:x.csv?scale=0,10&neutral=1"), TaskInfo)
    assert gold_from_ground_truth(Gold(label="x")) == Gold(label="x")


# --- the one reward factory ----------------------------------------------------------------


def test_build_reward_takes_the_formats_weights_replaced_or_extended() -> None:
    from emoreason.rewards import build_reward, reward_weights

    movies, emoset = vader_task("movies"), mikels_task("emoset")
    assert build_reward("c2f", movies).weights == {"format": 1.0, "polarity": 1.0, "score": 1.0}
    assert build_reward("emor3", emoset).weights == {
        "accuracy": 0.8,
        "coherence": 0.1,
        "consistency": 0.1,
        "format": 0.1,
    }
    assert build_reward("r1", movies).weights == {"format": 1.0, "score": 1.0}  # r1 on a scored task
    assert build_reward("r1", emoset).weights == {"accuracy": 1.0, "format": 1.0}
    assert build_reward(None, emoset).format == "emor3" and build_reward(None, movies).format == "c2f"
    assert build_reward("c2f", movies, weights={"score": 2.0}).weights == {"score": 2.0}
    assert reward_weights("emor3", emoset, add={"polarity": 0.5, "format": 0.2}) == {
        "accuracy": 0.8,
        "coherence": 0.1,
        "consistency": 0.1,
        "format": 0.2,
        "polarity": 0.5,
    }
    with pytest.raises(ValueError, match="unknown reward component"):
        build_reward("c2f", movies, add={"no_such_signal": 1.0})
    reward = build_reward("c2f", movies, score_kind="threshold", score_params={"tol": 0.5})
    assert (
        reward("<polarity>positive</polarity><think>x</think><score>2.2</score>", Gold(score=2.0), movies).components[
            "score"
        ]
        == 1.0
    )


NOT_BAD = "The hotel was not bad at all."


def c2f_answer(think: str) -> str:
    return f"<polarity>positive</polarity>\n<think>\nText: {think}\n</think>\n<score>1.7</score>"


@pytest.mark.parametrize(
    ("think", "expected"),
    [
        ('Positive cues: "bad" (-2.5), negated by "not" so it reads +1.9.', 1.0),
        ('Positive cues: "bad" (+1.9).', 0.5),  # names no negation: halfway
        ('Negative cues: "hotel" (+1.0), negated by "not" so it reads -0.7.', 0.0),  # "not" comes after it
        # one of two holds: "hotel" stands four words before "all", outside VADER's window
        ('Positive cues: "bad" (-2.5), negated by "not" so it reads +1.9; "all" (+1.0), negated by "hotel".', 0.5),
    ],
)
def test_negation_component_checks_each_named_negation_against_the_input(think, expected):
    reward = CompositeReward.c2f({"negation": 1.0})
    result = reward(c2f_answer(think), Gold(score=1.5, source=NOT_BAD), vader_task("tweets"))
    assert result.components == {"negation": expected}


def test_negation_component_needs_the_input():
    reward = CompositeReward.c2f({"negation": 1.0})
    with pytest.raises(ValueError, match="negation"):
        reward(c2f_answer('"bad" (-2.5), negated by "not"'), Gold(score=1.5), vader_task("tweets"))


@pytest.mark.parametrize(
    ("named_true", "expected", "named_false", "reward"),
    [(0, 0, 0, 1.0), (0, 1, 0, 0.0), (1, 1, 0, 1.0), (1, 1, 1, 0.5), (1, 2, 0, 0.5), (0, 0, 2, 0.0), (2, 3, 1, 0.5)],
)
def test_negation_coverage_reward_by_hand(named_true, expected, named_false, reward):
    assert negation_coverage_reward(named_true, expected, named_false) == reward


@pytest.mark.parametrize("counts", [(-1, 0, 0), (2, 1, 0), (0, 1, -1)])
def test_negation_coverage_reward_refuses_impossible_counts(counts):
    with pytest.raises(ValueError, match="negation_coverage_reward"):
        negation_coverage_reward(*counts)


@pytest.mark.parametrize(
    ("think", "source", "expected"),
    [
        ('Positive cues: "bad" (-2.5), negated by "not" so it reads +1.9.', NOT_BAD, 1.0),
        # silence where the input negates "bad" earns nothing (the `negation` component paid 0.5)
        ('Positive cues: "bad" (+1.9).', NOT_BAD, 0.0),
        # true and false: 1 / (1 due + 1 false)
        (
            'Positive cues: "bad" (-2.5), negated by "not" so it reads +1.9; "all" (+1.0), negated by "hotel".',
            NOT_BAD,
            0.5,
        ),
        # nothing negated, nothing named: full marks; a false one named: nothing
        ('Positive cues: "great" (+3.1).', "A great hotel.", 1.0),
        ('Positive cues: "great" (+3.1), negated by "hotel".', "A great hotel.", 0.0),
    ],
)
def test_negation_coverage_component_reads_the_input(think, source, expected):
    reward = CompositeReward.c2f({"negation_coverage": 1.0})
    result = reward(c2f_answer(think), Gold(score=1.5, source=source), vader_task("tweets"))
    assert result.components == {"negation_coverage": expected}


def test_negation_coverage_component_needs_the_input():
    reward = CompositeReward.c2f({"negation_coverage": 1.0})
    with pytest.raises(ValueError, match="negation_coverage"):
        reward(c2f_answer('"bad" (-2.5), negated by "not"'), Gold(score=1.5), vader_task("tweets"))


@pytest.mark.parametrize(("named", "expected", "reward"), [(0, 0, 1.0), (0, 3, 0.0), (1, 3, 1 / 3), (2, 2, 1.0)])
def test_cue_coverage_reward_by_hand(named, expected, reward):
    assert cue_coverage_reward(named, expected) == reward


@pytest.mark.parametrize("counts", [(-1, 0), (2, 1)])
def test_cue_coverage_reward_refuses_impossible_counts(counts):
    with pytest.raises(ValueError, match="cue_coverage_reward"):
        cue_coverage_reward(*counts)


SUPER = "It's super  violent, super serious and super stupid."


@pytest.mark.parametrize(
    ("think", "expected"),
    [
        # the shipped default's answer on this movie review: one cue of four
        ('Positive cues: "super" (+2.9).', 1 / 4),
        ('Positive cues: "super" (+2.9). Negative cues: "violent" (-2.9); "serious" (-0.3); "stupid" (-2.4).', 1.0),
        # quoted without a number, or not in the input: not accounted for
        ('The words "violent" and "stupid" decide it. Negative cues: "awful" (-2.5).', 0.0),
    ],
)
def test_cue_coverage_component_reads_the_input(think, expected):
    reward = CompositeReward.c2f({"cue_coverage": 1.0})
    result = reward(c2f_answer(think), Gold(score=-2.5, source=SUPER), vader_task("movies"))
    assert result.components == {"cue_coverage": expected}


def test_cue_coverage_component_needs_the_input():
    with pytest.raises(ValueError, match="cue_coverage"):
        CompositeReward.c2f({"cue_coverage": 1.0})(c2f_answer('"bad" (-2.5)'), Gold(score=1.5), vader_task("tweets"))


def test_a_reward_data_source_reads_neutral_0_as_the_data_loader_does() -> None:
    """`vader:tweets?neutral=0` became the default 0.5 band in the verl/TRL adapter (0 read as unset), so a
    score of 0.3 was rewarded as neutral where training called it positive."""
    from emoreason.data import load_dataset

    task = task_for_source("vader:tweets?neutral=0")
    assert task.neutral == load_dataset("vader:tweets?neutral=0").task.neutral
    assert task.score_polarity(0.3) == "positive" and task.score_polarity(0.0) == "neutral"
