"""Hint-GRPO helpers (emoreason.rl.hints) and the EMO-R3 reflective reward (emoreason.rl.reflection)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import torch

from emoreason.data.schema import MMSA_TASKS, Sample, TaskInfo, mikels_task, vader_task
from emoreason.formats import HINT_MODES, get_format
from emoreason.formats.base import ParseResult
from emoreason.generation import Completion, SamplingParams, TransformersEngine
from emoreason.models.families.base import Conversation
from emoreason.rewards.composite import CompositeReward, Gold, ReflectionAnswers
from emoreason.rl.hints import (
    HintConfig,
    hard_group_indices,
    hard_groups_by_gold,
    hint_for,
    hint_token_mask,
    hinted_rows,
    is_hard_group,
)
from emoreason.rl.reflection import (
    COHERENCE_QUESTION,
    CONSISTENCY_QUESTION,
    ReflectionConfig,
    coherence_conversation,
    consistency_conversation,
    reasoning_text,
    reflect,
)

VADER = vader_task("tweets")
MOSI = MMSA_TASKS["mosi"]
EMOSET = mikels_task("emoset")
EMOR3 = get_format("emor3")
C2F = get_format("c2f")
R1 = get_format("r1")

STEP1 = "A man sits alone by a grave in the rain."
STEP2 = "A viewer would feel grief and loss."
STEP3 = "negative, low arousal"


def emor3_text(label: str = "sadness") -> str:
    return f"<step1>{STEP1}</step1>\n<step2>{STEP2}</step2>\n<step3>{STEP3}</step3>\n\\boxed{{{label}}}"


def pol(polarity: str | None) -> ParseResult:
    return ParseResult("c2f", polarity is not None, polarity=polarity)  # type: ignore[arg-type]


def lab(label: str | None) -> ParseResult:
    return ParseResult("emor3", label is not None, label=label)


# --- hints: hard groups ---------------------------------------------------------------------


def test_hard_group_on_polarity() -> None:
    gold = Gold(score=-1.2)  # negative on VADER's band
    assert is_hard_group([pol("positive"), pol("neutral"), pol("positive")], gold, VADER)
    assert not is_hard_group([pol("positive"), pol("negative"), pol("neutral")], gold, VADER)
    assert is_hard_group([pol(None), pol("positive"), pol(None)], gold, VADER)  # unparsed counts wrong
    assert is_hard_group([pol(None)] * 4, gold, VADER)
    assert not is_hard_group([pol("NEGATIVE ")], gold, VADER)  # compared normalised
    # explicit polarity wins; MOSI's neutral band is exactly 0
    assert not is_hard_group([pol("neutral")], Gold(score=0.0), MOSI)
    assert is_hard_group([pol("positive")], Gold(polarity="negative"), MOSI)


def test_hard_group_on_labels() -> None:
    gold = Gold(label="Sadness")
    assert is_hard_group([lab("anger"), lab("fear"), lab(None)], gold, EMOSET)
    # right valence, wrong label is still wrong on a labelled task
    assert is_hard_group([ParseResult("emor3", True, polarity="negative", label="fear")], gold, EMOSET)
    assert not is_hard_group([lab("anger"), lab("sadness")], gold, EMOSET)
    assert not is_hard_group([lab(" SADNESS")], gold, EMOSET)


def test_unknown_gold_or_empty_group_is_not_hard() -> None:
    assert not is_hard_group([pol("positive"), pol(None)], Gold(), VADER)
    # a label on a task without a label set, and no valence known for it: cannot judge
    assert not is_hard_group([lab("anger")], Gold(label="bliss"), TaskInfo("free"))
    assert not is_hard_group([], Gold(score=1.0), VADER)


def test_hard_group_indices() -> None:
    groups = [[pol("positive")] * 2, [pol("negative"), pol("positive")], [pol(None)] * 2, [pol("neutral")] * 2]
    golds = [Gold(score=-2.0), Gold(score=-2.0), Gold(score=3.0), Gold()]
    assert hard_group_indices(groups, golds, VADER) == [0, 2]
    with pytest.raises(ValueError, match="3 gold"):
        hard_group_indices(groups, golds[:3], VADER)


def test_hard_groups_are_counted_by_gold_answer() -> None:
    golds = [Gold(score=-2.0), Gold(score=0.0), Gold(score=3.0), Gold(score=0.01)]  # neg, neutral, pos, neutral
    assert hard_groups_by_gold([1, 3, 0], golds, VADER) == {
        "groups/hard/positive": 0.0,
        "groups/hard/negative": 1.0,
        "groups/hard/neutral": 2.0,
    }
    assert hard_groups_by_gold([], golds, VADER)["groups/hard/neutral"] == 0.0  # every answer, every step
    by_label = hard_groups_by_gold([0, 1], [Gold(label="Sadness"), Gold(label="fear")], EMOSET)
    assert by_label["groups/hard/sadness"] == 1.0 and by_label["groups/hard/fear"] == 1.0
    assert len(by_label) == len(EMOSET.labels)


# --- hints: who is hinted, with what, how ----------------------------------------------------


def test_hinted_rows_fractions() -> None:
    assert hinted_rows(4, 1.0) == [True] * 4
    assert hinted_rows(4, 0.5) == [True, True, False, False]
    assert hinted_rows(8, 0.01) == [True] + [False] * 7  # at least one row
    assert hinted_rows(1, 0.1) == [True]
    assert hinted_rows(5, 0.5) == [True] * 3 + [False] * 2  # half rounds up
    assert hinted_rows(8, 0.25) == [True] * 2 + [False] * 6
    for bad in (0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match="fraction"):
            hinted_rows(4, bad)
    with pytest.raises(ValueError, match="group size"):
        hinted_rows(0, 1.0)


def test_hint_config_validation() -> None:
    config = HintConfig()
    assert (config.enabled, config.mode, config.fraction, config.drop_hard) == (True, "prefix", 1.0, False)
    assert config.regenerates
    assert not HintConfig(drop_hard=True).regenerates and not HintConfig(enabled=False).regenerates
    assert HintConfig(mode="prompt", fraction=0.5).mode in HINT_MODES
    with pytest.raises(ValueError, match="hint mode"):
        HintConfig(mode="suffix")
    for bad in (0, 0.0, 1.01, -1.0, True):
        with pytest.raises(ValueError, match="fraction"):
            HintConfig(fraction=bad)
    with pytest.raises(ValueError, match="enabled"):
        HintConfig(enabled="yes")  # type: ignore[arg-type]


def test_hint_for_gives_the_gold_polarity() -> None:
    assert hint_for(Gold(score=-1.2), VADER) == "negative"
    assert hint_for(Gold(score=0.2), VADER) == "neutral"
    assert hint_for(Gold(label="awe"), EMOSET) == "positive"
    assert hint_for(Gold(polarity="Negative"), MOSI) == "negative"
    assert hint_for(Gold(), VADER) is None


def test_hint_token_mask_hand_example() -> None:
    # row 0: 3 hint tokens + 2 completion tokens + 1 pad; row 1: unhinted, 4 tokens + 2 pads;
    # row 2: 2 hint tokens + 4 completion tokens, no padding
    mask = hint_token_mask([3, 0, 2], [2, 4, 4], width=6)
    expected = torch.tensor([[0, 0, 0, 1, 1, 0], [1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]], dtype=torch.float32)
    assert mask.dtype == torch.float32 and mask.shape == (3, 6)
    assert torch.equal(mask, expected)
    with pytest.raises(ValueError, match="do not fit"):
        hint_token_mask([3], [4], width=6)
    with pytest.raises(ValueError, match="completion lengths"):
        hint_token_mask([1, 2], [1], width=6)


# --- reflection: prompts --------------------------------------------------------------------


def only_message(conversation: Conversation) -> str:
    assert len(conversation.messages) == 1 and conversation.messages[0]["role"] == "user"
    return conversation.messages[0]["content"]


def test_coherence_prompt_shows_step1_and_step2_only() -> None:
    completion = emor3_text("sadness")
    parsed = EMOR3.parse(completion, EMOSET)
    conversation = coherence_conversation(parsed, completion, EMOSET)
    assert conversation is not None
    text = only_message(conversation)
    question = COHERENCE_QUESTION.format(labels=", ".join(EMOSET.labels))
    assert text == f"{STEP1}\n{STEP2}\n\n{question}"
    assert STEP3 not in text and "boxed" not in text
    assert "sadness" not in text.split("\n\n")[0]  # the label only appears in the question's list
    assert conversation.media == {} and conversation.assistant_prefix == ""
    # a task without labels gets no coherence question
    assert coherence_conversation(parsed, completion, VADER) is None


def test_consistency_prompt_has_the_image_and_step1_only() -> None:
    completion = emor3_text("sadness")
    parsed = EMOR3.parse(completion, EMOSET)
    conversation = consistency_conversation(parsed, completion, "img/grave.jpg")
    assert conversation is not None
    assert conversation.image == "img/grave.jpg" and conversation.video is None and conversation.audio is None
    assert only_message(conversation) == f"{STEP1}\n\n{CONSISTENCY_QUESTION}"
    assert consistency_conversation(parsed, completion, None) is None


def test_c2f_and_r1_use_their_think_text() -> None:
    c2f = "<polarity>negative</polarity><think>The voice is flat.</think><score>-1.5</score>"
    conversation = consistency_conversation(C2F.parse(c2f, MOSI), c2f, "frame.png")
    assert conversation is not None and only_message(conversation).startswith("The voice is flat.\n\n")
    r1 = "<think>A child cries.</think><answer>sadness</answer>"
    conversation = coherence_conversation(R1.parse(r1, EMOSET), r1, EMOSET)
    assert conversation is not None and only_message(conversation).startswith("A child cries.\n\n")
    assert "<answer>" not in only_message(conversation)


def test_unparsed_reasoning_is_asked_on_the_text_before_the_answer() -> None:
    completion = "I see a grave and rain, it is sad. \\boxed{sadness}"
    parsed = EMOR3.parse(completion, EMOSET)
    assert not parsed.reasoning
    assert reasoning_text(parsed, completion, ("step1", "step2")) == "I see a grave and rain, it is sad."
    assert reasoning_text(parsed, "flat voice <SCORE>-1</score>", ("think",)) == "flat voice"
    assert reasoning_text(parsed, "just words", ("think",)) == "just words"
    # partial parse: the parts that parsed, in the order asked
    partial = "<step1>a grave</step1><step3>negative</step3>\\boxed{sadness}"
    assert reasoning_text(EMOR3.parse(partial, EMOSET), partial, ("step1", "step2")) == "a grave"


def test_reflection_config_validation() -> None:
    config = ReflectionConfig()
    assert (config.enabled, config.temperature, config.top_p, config.max_new_tokens) == (False, 0.6, 0.95, 16)
    with pytest.raises(ValueError, match="top_p"):
        ReflectionConfig(top_p=0.0)
    with pytest.raises(ValueError, match="temperature"):
        ReflectionConfig(temperature=-1.0)


# --- reflection: answering ------------------------------------------------------------------


class FakeEngine:
    """Records each generate call and answers with `answer(conversation)`."""

    def __init__(self, answer: Callable[[Conversation], str]) -> None:
        self.answer = answer
        self.calls: list[tuple[list[Conversation], SamplingParams]] = []
        self.grad_enabled: list[bool] = []

    def generate(
        self, conversations: Sequence[Conversation], params: SamplingParams, progress: object = None
    ) -> list[list[Completion]]:
        self.calls.append((list(conversations), params))
        self.grad_enabled.append(torch.is_grad_enabled())
        return [
            [Completion(text=self.answer(c), token_ids=[], logprobs=[], finish_reason="eos", prompt_index=i)]
            for i, c in enumerate(conversations)
        ]


def canned(coherence: str, consistency: str) -> Callable[[Conversation], str]:
    return lambda c: consistency if c.image else coherence


def test_reflect_batches_one_call_per_kind_with_the_paper_sampling() -> None:
    samples = [
        Sample("a", label="sadness", image="a.jpg"),
        Sample("b", label="awe", image="b.jpg"),
        Sample("c", label="fear"),
    ]
    completions = [emor3_text("sadness"), emor3_text("awe"), emor3_text("fear")]
    items = [(EMOR3.parse(c, EMOSET), c, s) for c, s in zip(completions, samples)]
    engine = FakeEngine(canned("sadness", "Yes."))
    answers = reflect(engine, items, EMOSET, "emor3", ReflectionConfig(enabled=True), seed=7)

    assert len(engine.calls) == 2
    (coherence_convs, coherence_params), (consistency_convs, consistency_params) = engine.calls
    assert len(coherence_convs) == 3 and all(not c.media for c in coherence_convs)
    assert [c.image for c in consistency_convs] == ["a.jpg", "b.jpg"]  # sample c has no image
    for params in (coherence_params, consistency_params):
        assert (params.n, params.temperature, params.top_p, params.max_new_tokens, params.seed) == (1, 0.6, 0.95, 16, 7)
    assert engine.grad_enabled == [False, False]
    assert answers == [
        ReflectionAnswers("sadness", "Yes."),
        ReflectionAnswers("sadness", "Yes."),
        ReflectionAnswers("sadness", None),
    ]


def test_reflect_respects_the_switches() -> None:
    completion = emor3_text()
    items = [(EMOR3.parse(completion, EMOSET), completion, Sample("a", label="sadness", image="a.jpg"))]
    engine = FakeEngine(canned("sadness", "yes"))
    assert reflect(engine, items, EMOSET, "emor3", ReflectionConfig()) == [ReflectionAnswers()]
    assert engine.calls == []  # disabled: nothing generated
    answers = reflect(engine, items, EMOSET, "emor3", ReflectionConfig(enabled=True, consistency=False))
    assert answers == [ReflectionAnswers("sadness", None)] and len(engine.calls) == 1
    engine.calls.clear()
    answers = reflect(engine, items, EMOSET, "emor3", ReflectionConfig(enabled=True, coherence=False))
    assert answers == [ReflectionAnswers(None, "yes")] and len(engine.calls) == 1
    engine.calls.clear()
    # no labels, no image: nothing to ask, no call
    c2f = "<polarity>negative</polarity><think>x</think><score>-1</score>"
    text_items = [(C2F.parse(c2f, MOSI), c2f, Sample("t", score=-1.0))]
    assert reflect(engine, text_items, MOSI, "c2f", ReflectionConfig(enabled=True)) == [ReflectionAnswers()]
    assert engine.calls == []
    assert reflect(engine, [], EMOSET, "emor3", ReflectionConfig(enabled=True)) == []


@pytest.mark.parametrize(
    ("coherence", "consistency", "expected_total", "expected_components"),
    [
        ("Sadness", "no", 1.0, {"coherence": 1.0, "consistency": 0.0}),
        ("sadness", "yes", 1.1, {"coherence": 1.0, "consistency": 1.0}),
        ("", "", 1.0, {"coherence": 0.5, "consistency": 0.5}),
        ("anger", "maybe", 0.95, {"coherence": 0.0, "consistency": 0.5}),
    ],
)
def test_reflection_answers_shape_the_emor3_reward(
    coherence: str, consistency: str, expected_total: float, expected_components: dict[str, float]
) -> None:
    completion = emor3_text("sadness")
    sample = Sample("a", label="sadness", image="a.jpg")
    parsed = EMOR3.parse(completion, EMOSET)
    [answers] = reflect(
        FakeEngine(canned(coherence, consistency)),
        [(parsed, completion, sample)],
        EMOSET,
        "emor3",
        ReflectionConfig(enabled=True),
    )
    reward = CompositeReward.emor3()
    gold = Gold.from_sample(sample, EMOSET)
    without = reward(completion, gold, EMOSET)
    assert without.total == pytest.approx(0.9)  # 0.8 accuracy + 0.1 format, no reflection terms
    out = reward(completion, gold, EMOSET, answers)
    assert out.total == pytest.approx(expected_total)
    assert {k: out.components[k] for k in ("coherence", "consistency")} == expected_components


# --- reflection on a real (tiny) model ------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory) -> TransformersEngine:
    from emoreason.models import load_model
    from emoreason.testing.fixtures import make_tiny_causal_lm

    path: Path = make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")
    return TransformersEngine(load_model(str(path)), batch_size=4)


def test_reflect_on_a_tiny_model_leaves_no_gradient(tiny_engine: TransformersEngine) -> None:
    model = tiny_engine.loaded.model
    completions = [emor3_text("sadness"), "no tags at all \\boxed{fear}", emor3_text("awe")]
    # the tiny model is a text family: no images, so only coherence is asked
    samples = [Sample(str(i), label=label) for i, label in enumerate(("sadness", "fear", "awe"))]
    items = [(EMOR3.parse(c, EMOSET), c, s) for c, s in zip(completions, samples)]
    with torch.enable_grad():
        answers = reflect(tiny_engine, items, EMOSET, "emor3", ReflectionConfig(enabled=True, max_new_tokens=4), seed=0)
        assert torch.is_grad_enabled()
    assert len(answers) == 3
    assert all(isinstance(a.coherence, str) and a.consistency is None for a in answers)
    assert all(p.grad is None for p in model.parameters())
    # the answers feed the reward without error, whatever the untrained model wrote
    reward = CompositeReward.emor3()
    for (parsed, _, sample), answer in zip(items, answers):
        out = reward.score_parsed(parsed, Gold.from_sample(sample, EMOSET), EMOSET, answer)
        assert out.components["coherence"] in (0.0, 0.5, 1.0)
