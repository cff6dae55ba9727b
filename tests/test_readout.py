"""The score readout (`formats.readout`) and the records that use it (`inference`)."""

from __future__ import annotations

import json

import pytest

from emoreason.data.schema import NeutralBand, Sample, TaskInfo, resolve_task
from emoreason.formats import get_format
from emoreason.formats.readout import confidence_weighted_score, effective_readout, polarity_choice, polarity_probs
from emoreason.generation import Completion
from emoreason.inference import audit_record, readout_choice, with_choice

VADER = resolve_task("vader")  # scale -4..4, neutral band (-0.5, 0.5), open
C2F = get_format("c2f")


@pytest.mark.parametrize(
    ("score", "polarity", "p", "expected"),
    [
        (2.5, "positive", 0.8, 2.0),  # 2.5 x 0.8
        (-1.9, "negative", 0.4, -0.76),  # -1.9 x 0.4
        (0.9, "positive", 0.3, 0.5),  # 0.27 falls in the band: the open band's edge is positive
        (-0.6, "negative", 0.5, -0.5),  # -0.3 likewise, on the negative side
        (0.3, "neutral", 0.5, 0.15),  # a neutral answer moves toward 0 and stays neutral
        (-1.0, "positive", 0.9, -1.0),  # the score contradicts the polarity: left as written
        (1.2, None, 0.9, 1.2),  # no polarity: as written
    ],
)
def test_confidence_weighted_score_by_hand(score: float, polarity, p: float, expected: float) -> None:
    probs = {"positive": 0.0, "negative": 0.0, "neutral": 0.0} | ({polarity: p} if polarity else {})
    got = confidence_weighted_score(score, polarity, probs, VADER)
    assert got == pytest.approx(expected)
    if polarity is not None:
        assert VADER.score_polarity(got) == VADER.score_polarity(score)  # the class never changes


def test_a_closed_band_edge_is_stepped_over_and_missing_probabilities_change_nothing() -> None:
    closed = TaskInfo(name="t", scale=(-4.0, 4.0), neutral=NeutralBand(-0.5, 0.5, low_closed=True, high_closed=True))
    assert confidence_weighted_score(0.6, "positive", {"positive": 0.5}, closed) == pytest.approx(0.508)
    assert confidence_weighted_score(-0.6, "negative", {"negative": 0.5}, closed) == pytest.approx(-0.508)
    assert confidence_weighted_score(2.0, "positive", None, VADER) == 2.0
    assert confidence_weighted_score(2.0, "positive", {"negative": 1.0}, VADER) == 2.0


class CharTokenizer:
    """One token per character (ids = code points), or whole words when `words`."""

    def __init__(self, words: bool = False) -> None:
        self.words = words

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict:
        if self.words:
            head, _, word = text.partition(">")
            return {"input_ids": [ord(c) for c in head + ">"] + [1000 + len(word) * 10 + ord(word[0]) % 10]}
        return {"input_ids": [ord(c) for c in text]}


def test_polarity_choice_needs_one_distinct_token_per_polarity_word() -> None:
    # characters: "<polarity>p...", "<polarity>n...", "<polarity>n..." share 'n' -> not one token each
    assert polarity_choice(CharTokenizer(), C2F) is None
    words = polarity_choice(CharTokenizer(words=True), C2F)
    assert words is not None and set(words) == {"positive", "negative", "neutral"}
    assert len(set(words.values())) == 3
    assert polarity_choice(CharTokenizer(words=True), get_format("emor3")) is None  # no leading polarity
    assert polarity_probs({words["positive"]: 0.7, words["negative"]: 0.2, words["neutral"]: 0.1}, words) == {
        "positive": 0.7,
        "negative": 0.2,
        "neutral": 0.1,
    }
    assert polarity_probs(None, words) is None and polarity_probs({1: 1.0}, None) is None


def test_effective_readout_applies_to_scored_polarity_first_answers_only() -> None:
    assert effective_readout("confidence", C2F, VADER) == "confidence"
    assert effective_readout("written", C2F, VADER) == "written"
    assert effective_readout("confidence", get_format("emor3"), VADER) == "written"
    assert effective_readout("confidence", C2F, resolve_task("ravdess")) == "written"  # labels, no score
    with pytest.raises(ValueError, match="confidence, written"):
        effective_readout("mean", C2F, VADER)


class Loaded:
    tokenizer = CharTokenizer(words=True)


class Engine:
    loaded = Loaded()


def test_the_record_reads_the_score_with_the_polarity_probability() -> None:
    choice = readout_choice(Engine(), C2F, VADER, "confidence")
    assert choice is not None and readout_choice(Engine(), C2F, VADER, "written") is None
    assert readout_choice(object(), C2F, VADER, "confidence") is None  # no tokenizer to read: as written
    from emoreason.generation import SamplingParams

    assert with_choice(SamplingParams(), choice).choice_tokens == tuple(choice.values())
    text = "<polarity>positive</polarity>\n<think>Text: good.</think>\n<score>2.5</score>"
    probs = {choice["positive"]: 0.6, choice["negative"]: 0.3, choice["neutral"]: 0.1}
    completion = Completion(text=text, token_ids=[1], logprobs=[0.0], finish_reason="stop", choice_probs=probs)
    sample = Sample(id="s", text="good")
    record = audit_record(sample, completion, C2F, VADER, "m", 0.1, choice=choice)
    assert record["score"] == pytest.approx(1.5) and record["written_score"] == 2.5
    assert record["score_readout"] == "confidence" and record["polarity"] == "positive"
    assert record["polarity_probs"] == {"positive": 0.6, "negative": 0.3, "neutral": 0.1}
    written = audit_record(sample, completion, C2F, VADER, "m", 0.1)
    assert written["score"] == 2.5 and written["score_readout"] == "written" and "written_score" not in written
    json.dumps(record)  # the record stays plain JSON


def test_evaluate_scores_the_records_readout(tmp_path) -> None:
    """The metrics are computed from the record's score, not from the number the completion wrote."""
    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams

    choice = readout_choice(Engine(), C2F, VADER, "confidence")
    assert choice is not None

    asked = []

    class Scripted(Engine):
        def generate(self, conversations, params, progress=None):
            asked.append(params.choice_tokens)
            text = "<polarity>positive</polarity>\n<think>Text: fine.</think>\n<score>2.0</score>"
            probs = {choice["positive"]: 0.5, choice["negative"]: 0.25, choice["neutral"]: 0.25}
            return [[Completion(text, [1], [0.0], "stop", choice_probs=probs)] for _ in conversations]

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"s{i}", "text": "fine", "score": 1.0}) + "\n" for i in range(3)))
    dataset = load_dataset(f"jsonl:{data}?scale=-4,4")
    params = SamplingParams(max_new_tokens=32, stop_strings=C2F.stop_strings)
    for readout, mae in (("confidence", 0.0), ("written", 1.0)):  # 2.0 x 0.5 = 1.0 = gold
        out = tmp_path / readout
        metrics = evaluate_model(
            Scripted(), dataset, dataset.split("test"), out, "m", "c2f", params, 4, [], score_readout=readout
        )
        assert metrics["rows"]["model"]["mae"] == pytest.approx(mae)
        assert metrics["generation"]["score_readout"] == readout
    assert asked == [tuple(choice.values()), ()]  # the written readout asks for no probabilities


def test_the_terminal_view_says_where_a_confidence_score_came_from(capsys) -> None:
    from emoreason.cli.ui import show_record

    sample = Sample(id="x", text="Not bad at all.")
    record = {
        "id": "x",
        "polarity": "negative",
        "score": -1.05,
        "label": None,
        "reasoning": {"think": '"bad" (-2.1)'},
        "parse_ok": True,
        "errors": [],
        "raw_completion": '"bad" (-2.1)',
        "completion_tokens": 9,
        "latency_s": 0.1,
        "model": "m",
        "citations": {},
        "score_readout": "confidence",
        "written_score": -2.1,
        "polarity_probs": {"positive": 0.45, "negative": 0.5, "neutral": 0.05},
    }
    show_record(sample, record)
    shown = " ".join(capsys.readouterr().out.split())
    assert "score -1.05 (written -2.1 x P(negative) 0.50)" in shown
    show_record(sample, record | {"score_readout": "written", "score": -2.1})
    shown = " ".join(capsys.readouterr().out.split())
    assert "score -2.1" in shown and "written" not in shown
