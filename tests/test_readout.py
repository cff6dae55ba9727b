"""The score readout (`formats.readout`) and the records that use it (`inference`)."""

from __future__ import annotations

import json
import shutil

import pytest

from emoreason.data.schema import NeutralBand, Sample, TaskInfo, resolve_task
from emoreason.formats import get_format
from emoreason.formats.readout import (
    FIT_FEATURES,
    PROBIT_FLOOR,
    ScoreFit,
    confidence_weighted_score,
    effective_readout,
    fit_score,
    fitted_score,
    polarity_choice,
    polarity_position,
    polarity_probs,
    polarity_word_index,
    probit_margin,
)
from emoreason.generation import Completion
from emoreason.inference import audit_record, readout_choice, record_fit_features, with_choice, with_fitted_score

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


def test_a_scale_not_centred_on_0_is_neutral_at_its_midpoint_and_shrinks_toward_it() -> None:
    """On a 1..7 scale every score was positive (the band sat at 0), and the readout shrank a 6 toward 0."""
    likert = resolve_task(scale=(1.0, 7.0))
    assert likert.neutral.describe() == "[4, 4]"
    assert [likert.score_polarity(x) for x in (3.5, 4.0, 4.5)] == ["negative", "neutral", "positive"]
    assert resolve_task(scale=(1.0, 7.0), neutral=0.5).neutral.describe() == "(3.5, 4.5)"
    # 4 + (6 - 4) x 0.5, not 6 x 0.5 = 3 (a negative number on this scale)
    assert confidence_weighted_score(6.0, "positive", {"positive": 0.5}, likert) == pytest.approx(5.0)
    assert confidence_weighted_score(2.0, "negative", {"negative": 0.5}, likert) == pytest.approx(3.0)


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


def test_polarity_word_index_finds_the_word_after_the_prefix_only() -> None:
    tokenizer = CharTokenizer(words=True)
    position = polarity_position(tokenizer, C2F)
    assert position is not None
    prefix, starts = position
    assert prefix == [ord(c) for c in "<polarity>"]
    word = starts["negative"]
    # a word id before the prefix, or a prefix followed by something else, does not count
    ids = [word, 7, *prefix, 8, *prefix, word, 9]
    assert polarity_word_index(ids, position) == 1 + 1 + len(prefix) + 1 + len(prefix)
    assert polarity_word_index([*prefix, word], position) == len(prefix)
    assert polarity_word_index([word, *prefix], position) is None
    assert polarity_word_index([], position) is None


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


# --- the fitted readout -------------------------------------------------------------------------

LINE = ScoreFit(weights=(0.5, 1.0, 0.1, 0.0), intercept=0.0, fitted_on=("by hand",), n=5)


def test_fit_score_recovers_a_line_by_hand() -> None:
    rows = [
        (1.0, 0.0, 0.0, 0.0),
        (0.0, 1.0, 0.0, 0.0),
        (0.0, 0.0, 1.0, 0.0),
        (0.0, 0.0, 0.0, 1.0),
        (1.0, 1.0, 1.0, 1.0),
        (2.0, 0.0, 1.0, 3.0),
    ]
    gold = [0.5 * a + 1.0 * b + 0.1 * c + 0.3 * d - 0.2 for a, b, c, d in rows]  # 0.3, 0.8, -0.1, 0.1, 1.7, 1.8
    fit = fit_score(rows, gold, ["toy:valid"], terms=FIT_FEATURES)
    assert fit.weights == pytest.approx((0.5, 1.0, 0.1, 0.3)) and fit.intercept == pytest.approx(-0.2)
    assert fit.n == 6 and fit.fitted_on == ("toy:valid",)
    with pytest.raises(ValueError, match="more than 5 answers"):
        fit_score(rows[:5], gold[:5], terms=FIT_FEATURES)
    # by default the cue sum is left out (DEFAULT_FIT_TERMS): its weight is 0 whatever the data
    assert fit_score(rows, gold).weights[2] == 0.0
    with pytest.raises(ValueError, match="do not vary enough"):
        fit_score([(1.0, 0.5, 2.0, 1.0)] * 7, [1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0], terms=FIT_FEATURES)


def test_the_probit_margin_by_hand() -> None:
    # Phi^-1(0.841345) = 1.0, Phi^-1(0.022750) = -2.0
    assert probit_margin({"positive": 0.841345, "negative": 0.022750, "neutral": 0.135905}) == pytest.approx(
        3.0, abs=1e-4
    )
    # 0 and 1 are clipped to 0.001 and 0.999: Phi^-1(0.999) = 3.090232
    assert probit_margin({"positive": 1.0, "negative": 0.0}) == pytest.approx(2 * 3.090232, abs=1e-5)
    assert probit_margin({"positive": 0.0, "negative": 1.0}) == pytest.approx(-2 * 3.090232, abs=1e-5)
    assert probit_margin({"positive": 0.3, "negative": 0.3, "neutral": 0.4}) == 0.0


@pytest.mark.parametrize(("gold", "rater_sd"), [(-1.0, 0.5), (-0.3, 0.5), (0.2, 0.5), (0.9, 0.5), (2.4, 1.0)])
def test_the_probit_margin_reads_the_polarity_objectives_targets_linearly(gold: float, rater_sd: float) -> None:
    from emoreason.train.polarity import polarity_targets

    # the objective's targets: P(positive) = Phi((g - 0.5) / sd), P(negative) = Phi((-0.5 - g) / sd), so
    # their probits differ by 2g / sd wherever neither is clipped
    targets = polarity_targets(gold, VADER, rater_sd)
    assert min(targets["positive"], targets["negative"]) > PROBIT_FLOOR
    assert probit_margin(targets) == pytest.approx(2 * gold / rater_sd, abs=1e-6)


def test_a_line_on_some_terms_gives_the_others_weight_zero() -> None:
    # gold = 2 x confidence - 1 x margin + 0.5 exactly; the last two columns are noise the line must not use
    rows = [(1.0, 0.0, 3.0, 1.0), (0.0, 1.0, -2.0, 0.5), (2.0, 1.0, 0.0, -1.0), (1.0, 2.0, 5.0, 2.0)]
    rows.append((3.0, 0.0, -1.0, 0.0))
    gold = [2.0 * a - 1.0 * b + 0.5 for a, b, *_ in rows]  # 2.5, -0.5, 3.5, 0.5, 6.5
    fit = fit_score(rows, gold, terms=("confidence", "margin"))
    assert fit.weights == pytest.approx((2.0, -1.0, 0.0, 0.0)) and fit.intercept == pytest.approx(0.5)
    assert fit.weights[2:] == (0.0, 0.0)
    # one term: the slope of gold on margin alone, by hand: margins 0,1,1,2,0 (mean 0.8), gold mean 2.5;
    # covariance sum -6.0 over variance sum 2.8 -> -15/7, intercept 2.5 + 15/7 x 0.8 = 59/14
    alone = fit_score(rows, gold, terms=["margin"])
    assert alone.weights == pytest.approx((0.0, -15 / 7, 0.0, 0.0)) and alone.intercept == pytest.approx(59 / 14)
    with pytest.raises(ValueError, match="more than 2 answers"):
        fit_score(rows[:2], gold[:2], terms=["margin"])
    for bad in (["valence"], [], ["margin", "margin"]):
        with pytest.raises(ValueError, match="distinct names among confidence, margin, cues, probit_margin"):
            fit_score(rows, gold, terms=bad)


@pytest.mark.parametrize(
    ("features", "written", "polarity", "expected"),
    [
        ((2.0, 0.6, 3.0, 5.0), 2.5, "positive", 1.9),  # 1.0 + 0.6 + 0.3 (the probit margin weighs 0)
        ((0.6, 0.1, -1.0, 0.0), 0.9, "positive", 0.5),  # 0.3 falls in the band: the open band's edge
        ((-1.0, -0.2, 2.0, 0.0), -1.5, "negative", -0.5),  # -0.5 + -0.2 + 0.2: the open edge is negative already
        ((0.0, 0.9, 2.0, 0.0), 0.0, "neutral", 0.492),  # 1.1: a neutral answer stays inside the band
        ((-1.0, 0.9, 2.0, 0.0), -1.0, "positive", -1.0),  # the written number contradicts the polarity: as written
        ((8.0, 1.0, 10.0, 0.0), 4.0, "positive", 4.0),  # 6.0, kept on the scale
        ((2.0, 0.6, 3.0, 0.0), 2.5, None, 2.5),  # no polarity: as written
    ],
)
def test_fitted_score_by_hand(features, written: float, polarity, expected: float) -> None:
    got = fitted_score(LINE, features, written, polarity, VADER)
    assert got == pytest.approx(expected)
    if polarity is not None and VADER.score_polarity(written) == polarity:
        assert VADER.score_polarity(got) == polarity  # the class never changes


def test_a_score_fit_file_round_trips_and_a_bad_one_names_itself(tmp_path) -> None:
    path = tmp_path / "score_fit.json"
    LINE.save(path)
    assert ScoreFit.load(path) == LINE
    data = json.loads(path.read_text())
    broken_files = (
        data | {"features": ["confidence"]},
        data | {"weights": [1.0, "nan", 0.0, 0.0]},
        data | {"features": ["confidence", "valence", "cues", "probit_margin"]},
        data | {"weights": [1.0, 0.0, 0.0]},
        data | {"scale": [4.0, -4.0]},
        [1, 2],
    )
    for broken in broken_files:
        path.write_text(json.dumps(broken))
        with pytest.raises(ValueError, match=r"score_fit\.json: not a score fit .*emoreason fit-score"):
            ScoreFit.load(path)
    # a line written before the probit margin existed names three features: the fourth weighs 0
    path.write_text(json.dumps(data | {"features": ["confidence", "margin", "cues"], "weights": [0.5, 1.0, 0.1]}))
    assert ScoreFit.load(path) == LINE
    path.write_text(json.dumps(data | {"features": ["probit_margin", "margin"], "weights": [0.25, 1.0]}))
    assert ScoreFit.load(path).weights == (0.0, 1.0, 0.0, 0.25)
    with pytest.raises(ValueError, match="one weight per term of confidence, margin, cues, probit_margin; got 3"):
        ScoreFit(weights=(0.5, 1.0, 0.1), intercept=0.0)


def test_the_fitted_readout_needs_a_line() -> None:
    assert effective_readout("fitted", C2F, VADER) == "confidence"
    assert effective_readout("fitted", C2F, VADER, LINE) == "fitted"
    assert effective_readout("confidence", C2F, VADER, LINE) == "confidence"
    assert effective_readout("fitted", get_format("emor3"), VADER, LINE) == "written"
    assert effective_readout("fitted", C2F, resolve_task("ravdess"), LINE) == "written"


def test_a_confidence_record_is_read_off_the_line() -> None:
    chain = '"good" (+1.9); "bad" (-2.5), negated by "not" so it reads +1.8'
    record = {
        "polarity": "positive",
        "score": 1.5,
        "written_score": 2.5,
        "score_readout": "confidence",
        "polarity_probs": {"positive": 0.6, "negative": 0.3, "neutral": 0.1},
        "raw_completion": f"<polarity>positive</polarity>\n<think>{chain}</think>\n<score>2.5</score>",
    }
    # valences 1.9 and 1.8 (negated); probit margin Phi^-1(0.6) - Phi^-1(0.3) = 0.253347 + 0.524401
    assert record_fit_features(record) == pytest.approx((1.5, 0.3, 3.7, 0.777748), abs=1e-6)
    fitted = with_fitted_score(record, LINE, VADER)
    assert fitted["score"] == pytest.approx(0.75 + 0.3 + 0.37)
    assert fitted["score_readout"] == "fitted" and fitted["confidence_score"] == 1.5
    assert record["score"] == 1.5  # the record given is not changed
    assert record_fit_features(fitted) == pytest.approx((1.5, 0.3, 3.7, 0.777748), abs=1e-6)  # still its features
    probit_line = ScoreFit(weights=(0.0, 0.0, 0.0, 1.0), intercept=0.5)
    assert with_fitted_score(record, probit_line, VADER)["score"] == 1.278  # 0.5 + 0.777748, stored to 3 decimals
    written = record | {"score_readout": "written", "score": 2.5}
    assert with_fitted_score(written, LINE, VADER) is written and record_fit_features(written) is None


class Varied(Engine):
    """Answers whose polarity probability follows the sample's gold score, so that a line can be fitted."""

    def generate(self, conversations, params, progress=None):
        choice = readout_choice(Engine(), C2F, VADER, "confidence")
        outputs = []
        for i, _ in enumerate(conversations):
            p = 0.5 + 0.1 * (i % 5)
            written = 1.0 + 0.5 * (i % 4)  # written score, polarity probability and cues vary apart
            chain = f'Text: "fine" (+{1 + i % 3}.0).'
            text = f"<polarity>positive</polarity>\n<think>{chain}</think>\n<score>{written}</score>"
            probs = {choice["positive"]: p, choice["negative"]: (1 - p) * 0.75, choice["neutral"]: (1 - p) * 0.25}
            outputs.append([Completion(text, [1], [0.0], "stop", choice_probs=probs if params.choice_tokens else None)])
        return outputs


def _evaluated(tmp_path, name: str, split: str, readout: str, fit=None):
    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams

    data = tmp_path / "d.jsonl"
    rows = [{"id": f"s{i}", "text": "fine", "score": 0.5 + 0.3 * i} for i in range(10)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    dataset = load_dataset(f"jsonl:{data}?scale=-4,4")
    params = SamplingParams(max_new_tokens=32, stop_strings=C2F.stop_strings)
    out = tmp_path / name
    metrics = evaluate_model(
        Varied(),
        dataset,
        dataset.split("test"),
        out,
        "m",
        "c2f",
        params,
        16,
        [],
        split,
        score_readout=readout,
        score_fit=fit,
    )
    return out, metrics


def test_fit_score_runs_fits_valid_answers_and_refuses_test_ones(tmp_path) -> None:
    from emoreason.data import DataError
    from emoreason.eval.score_fit import fit_score_runs

    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    fit = fit_score_runs([valid])
    assert fit.n == 10 and "valid" in fit.fitted_on[0]
    test, _ = _evaluated(tmp_path, "test", "test", "confidence")
    with pytest.raises(DataError, match="test split.*--allow-test"):
        fit_score_runs([valid, test])
    assert fit_score_runs([test], allow_test=True).n == 10
    every = tmp_path / "every"  # a run of split `all` holds the test sentences too: refused as well
    shutil.copytree(valid, every)
    stored = json.loads((every / "run.json").read_text())
    stored["identity"]["split"] = "all"
    (every / "run.json").write_text(json.dumps(stored))
    with pytest.raises(DataError, match="every split, test included.*--allow-test"):
        fit_score_runs([every])
    again = tmp_path / "again"  # the same sentences in another folder would weigh twice: refused
    shutil.copytree(valid, again)
    with pytest.raises(DataError, match="again: every usable answer here answers a sentence an earlier run"):
        fit_score_runs([valid, again])
    half = tmp_path / "half"  # five sentences of its own and five the first run has: those count once
    shutil.copytree(valid, half)
    lines = [json.loads(x) for x in (valid / "predictions.jsonl").open()]
    renamed = [x | {"id": f"new{i}"} if i < 5 else x for i, x in enumerate(lines)]
    (half / "predictions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in renamed))
    assert fit_score_runs([valid, half]).n == 15
    written, _ = _evaluated(tmp_path, "written", "valid", "written")
    with pytest.raises(DataError, match="no answer here carries"):
        fit_score_runs([written])
    # the line is read where evaluate is told to use it, and the record keeps the confidence score
    out, metrics = _evaluated(tmp_path, "fitted", "valid", "fitted", fit)
    assert metrics["generation"]["score_readout"] == "fitted"
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert {r["score_readout"] for r in records} == {"fitted"}
    first = records[0]
    expected = fitted_score(fit, record_fit_features(first), first["written_score"], "positive", VADER)
    assert first["score"] == pytest.approx(expected, abs=1e-3) and "confidence_score" in first


def test_fit_score_command_attaches_the_line_to_an_adapter(tmp_path) -> None:
    from typer.testing import CliRunner

    from emoreason.cli.main import app
    from emoreason.models.shipped import SETTINGS_FILE, AdapterSettings

    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / SETTINGS_FILE).write_text(json.dumps({"format": "c2f"}))
    result = CliRunner().invoke(app, ["fit-score", str(valid), "--out", str(adapter)])
    assert result.exit_code == 0, result.output
    settings = AdapterSettings.read(adapter)
    assert settings.format == "c2f" and settings.score_fit == adapter / "score_fit.json"  # other settings kept
    assert ScoreFit.load(settings.score_fit).n == 10
    two = CliRunner().invoke(
        app, ["fit-score", str(valid), "--out", str(tmp_path / "two.json"), "--terms", "confidence, margin"]
    )
    assert two.exit_code == 0, two.output
    assert ScoreFit.load(tmp_path / "two.json").weights[2:] == (0.0, 0.0)
    assert "cues +0.000" in " ".join(two.output.split())  # each weight printed with its term's name
    unknown = CliRunner().invoke(app, ["fit-score", str(valid), "--out", str(tmp_path / "x.json"), "--terms", "cue"])
    assert unknown.exit_code != 0 and "confidence, margin, cues" in unknown.output
    test, _ = _evaluated(tmp_path, "test", "test", "confidence")
    refused = CliRunner().invoke(app, ["fit-score", str(test), "--out", str(tmp_path / "x.json")])
    assert refused.exit_code != 0 and "--allow-test" in refused.output
    unparsed = tmp_path / "unparsed"  # the same run as if no answer had parsed: the fix is not another readout
    shutil.copytree(valid, unparsed)
    # an answer that did not parse is recorded as read "written": the run's own readout decides the message
    unread = {"parse_ok": False, "score": None, "score_readout": "written"}
    lines = [json.loads(x) | unread for x in (valid / "predictions.jsonl").open()]
    (unparsed / "predictions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    none = CliRunner().invoke(app, ["fit-score", str(unparsed), "--out", str(tmp_path / "x.json")])
    assert none.exit_code != 0 and "(0 of 10 parsed)" in " ".join(none.output.split())
    twice = CliRunner().invoke(app, ["fit-score", str(valid), str(valid), "--out", str(tmp_path / "x.json")])
    assert twice.exit_code != 0 and "given twice" in twice.output
    # a folder that is not there is not taken for a file name: the line would miss the adapter it was meant for
    missing = CliRunner().invoke(app, ["fit-score", str(valid), "--out", str(tmp_path / "no-such-adapter")])
    assert missing.exit_code != 0 and "ending in .json" in " ".join(missing.output.split())
    assert not (tmp_path / "no-such-adapter").exists()


def test_the_terminal_view_says_a_score_was_fitted(capsys) -> None:
    from emoreason.cli.ui import show_record

    record = {
        "id": "x",
        "polarity": "positive",
        "score": 1.42,
        "label": None,
        "reasoning": {"think": '"good" (+1.9)'},
        "parse_ok": True,
        "errors": [],
        "raw_completion": '"good" (+1.9)',
        "completion_tokens": 9,
        "latency_s": 0.1,
        "model": "m",
        "citations": {},
        "score_readout": "fitted",
        "confidence_score": 1.5,
        "written_score": 2.5,
        "polarity_probs": {"positive": 0.6, "negative": 0.3, "neutral": 0.1},
    }
    show_record(Sample(id="x", text="good"), record)
    shown = " ".join(capsys.readouterr().out.split())
    assert "score 1.42 (fitted line; written 2.5 x P(positive) 0.60)" in shown


def test_the_python_api_fits_a_line_into_a_file(tmp_path) -> None:
    import emoreason

    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    fit = emoreason.fit_score([valid], tmp_path / "line.json")
    assert ScoreFit.load(tmp_path / "line.json") == fit and fit.n == 10
    assert emoreason.fit_score([valid]) == fit  # without `out` nothing is written, the line is returned


def test_the_python_api_takes_terms_as_the_command_line_does(tmp_path) -> None:
    """`fit_score(runs, terms="margin")` split the string into its letters ("m", "a", ...), refused as unknown terms."""
    import emoreason

    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    margin = emoreason.fit_score([valid], terms="margin")
    assert margin.weights[1] != 0.0 and margin.weights[0] == margin.weights[2] == margin.weights[3] == 0.0
    assert emoreason.fit_score([valid], terms=" confidence, margin") == emoreason.fit_score(
        [valid], terms=["confidence", "margin"]
    )


def test_fit_score_says_the_line_it_replaces_and_warns_of_few_answers_a_term(tmp_path) -> None:
    """`fit-score --out ADAPTER` replaced the adapter's score_fit.json in silence, and fitted three terms on a handful
    of answers without a word."""
    from typer.testing import CliRunner

    import emoreason
    from emoreason.cli.main import app

    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")  # what makes the folder an adapter's
    first = CliRunner().invoke(app, ["fit-score", str(valid), "--out", str(adapter)])
    assert first.exit_code == 0, first.output
    said = " ".join(first.output.split())
    assert "warning: the line is fitted on 10 answers for its 3 terms (3.3 a term, fewer than 10)" in said
    assert "at least 30" in said and "replaced" not in said  # nothing was there to replace
    again = CliRunner().invoke(app, ["fit-score", str(valid), "--out", str(adapter), "--terms", "margin"])
    assert again.exit_code == 0, again.output
    said = " ".join(again.output.split())
    assert "warning:" in said and "it is replaced by this one, fitted on 10 answers" in said
    assert "a term" not in said  # 10 answers for one term: enough
    heard: list[str] = []  # the words, from the Python API (the terminal folds long paths)
    half = tmp_path / "half"  # a line of five answers in place of the one of ten
    shutil.copytree(valid, half)
    lines = (valid / "predictions.jsonl").read_text().splitlines(keepends=True)
    (half / "predictions.jsonl").write_text("".join(lines[:5]))
    emoreason.fit_score([half], adapter, terms="margin", notify=heard.append)
    fitted_on = json.loads((adapter / "score_fit.json").read_text())["fitted_on"][0]
    assert heard == [
        "the line is fitted on 5 answers for its one term (5.0 a term, fewer than 10): its weights may follow the "
        "noise of so few; fit it on more valid answers (at least 10) or on fewer terms",
        f"{adapter / 'score_fit.json'} held a line fitted on 10 answers ({fitted_on.replace('(5)', '(10)')}); it is "
        f"replaced by this one, fitted on 5 answers ({fitted_on})",
    ]


def test_too_few_usable_answers_are_counted_with_why_the_others_were_left_out(tmp_path) -> None:
    """The refusal "needs more than 4 answers with gold scores, got 2" counted only the usable answers, while 10
    had gold scores: what makes one usable, and why the others were left out, were not said."""
    from emoreason.data import DataError
    from emoreason.eval.score_fit import fit_score_runs

    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    lines = [json.loads(x) for x in (valid / "predictions.jsonl").open()]
    unparsed = {"parse_ok": False, "score": None, "score_readout": "written"}
    unread = {"score_readout": "written", "polarity_probs": None}  # a score, without the polarity's probabilities
    mixed = [x | unparsed for x in lines[:7]] + [lines[7] | unread] + lines[8:]
    (valid / "predictions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in mixed))
    with pytest.raises(DataError) as refused:
        fit_score_runs([valid])
    said = " ".join(str(refused.value).split())
    assert (
        "needs more than 4 answers, got 2; a usable answer has a gold score, parsed to a score and carries the "
        "polarity's probabilities: " in said
    )
    assert (
        "2 of the 10 answers with gold scores are usable; left out: 7 did not parse to a score, 1 read without the "
        "polarity's probabilities" in said
    )


def test_a_line_is_read_only_on_the_scale_it_was_fitted_on(tmp_path) -> None:
    from emoreason.data import DataError
    from emoreason.eval.score_fit import fit_score_runs

    on_vader = ScoreFit((0.5, 1.0, 0.1, 0.0), 0.0, scale=(-4.0, 4.0))
    assert effective_readout("fitted", C2F, VADER, on_vader) == "fitted"
    assert effective_readout("fitted", C2F, resolve_task("sims"), on_vader) == "confidence"  # -1..1
    assert effective_readout("fitted", C2F, resolve_task("sims"), LINE) == "fitted"  # no scale recorded: any
    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    assert fit_score_runs([valid]).scale == (-4.0, 4.0)
    other = tmp_path / "other"
    other.mkdir()
    identity = json.loads((valid / "run.json").read_text())
    identity["identity"]["task"]["scale"] = [-3.0, 3.0]
    (other / "run.json").write_text(json.dumps(identity))
    (other / "predictions.jsonl").write_text((valid / "predictions.jsonl").read_text())
    with pytest.raises(DataError, match="different scales"):
        fit_score_runs([valid, other])


def test_an_answer_outside_the_scale_keeps_its_written_score_and_counts_as_unanswered() -> None:
    """The confidence readout pulled a written 9 on [-4, 4] inside the scale (9 x 0.4 = 3.6): a model that
    wrote wild numbers scored better under the default readout than under `written`."""
    from emoreason.eval.predictions import score_system
    from emoreason.formats.base import ParseResult
    from emoreason.inference import read_score

    probs = {"positive": 0.4, "negative": 0.3, "neutral": 0.3}
    wild = ParseResult("c2f", False, polarity="positive", score=9.0)
    assert read_score(wild, probs, VADER) == (9.0, "written")
    inside = ParseResult("c2f", True, polarity="positive", score=2.0)
    assert read_score(inside, probs, VADER)[1] == "confidence"
    samples = [Sample(id="a", text="x", score=2.0), Sample(id="b", text="y", score=-2.0)]
    rows = {
        "a": {"completion": "<polarity>positive</polarity><think>t</think><score>9</score>", "score": 9.0},
        "b": {
            "completion": "<polarity>negative</polarity><think>t</think><score>-2</score>",
            "score": -1.5,
            "score_readout": "confidence",
        },
    }
    scored = score_system(samples, rows, VADER, "c2f")
    assert scored.metrics["out_of_scale_predictions"] == 1 and scored.metrics["imputed_predictions"] == 1
    # b's score is its readout's, unlike its written -2 by design: no "differs from its completion" warning
    assert not any("differ" in message for message in scored.warnings)


def test_a_line_is_fitted_on_one_models_answers(tmp_path) -> None:
    from emoreason.data import DataError
    from emoreason.eval.score_fit import fit_score_runs

    valid, _ = _evaluated(tmp_path, "valid", "valid", "confidence")
    other = tmp_path / "other"  # the same sentences' answers, by another model
    shutil.copytree(valid, other)
    stored = json.loads((other / "run.json").read_text())
    stored["identity"]["model"] = "another-model"
    (other / "run.json").write_text(json.dumps(stored))
    lines = [json.loads(x) for x in (other / "predictions.jsonl").open()]
    (other / "predictions.jsonl").write_text("".join(json.dumps(x | {"id": "o" + x["id"]}) + "\n" for x in lines))
    with pytest.raises(DataError, match="another model's than those of .*model 'm' -> 'another-model'"):
        fit_score_runs([valid, other])


def test_an_input_digest_counts_a_mediums_bytes_not_its_size(tmp_path) -> None:
    """A clip re-recorded or cleaned at the same length has the same size: the digest was of its path and size,
    so a resume kept the old clip's answer. A text sample's digest is what it was (no answers asked again)."""
    import hashlib

    from emoreason.data import Sample
    from emoreason.eval.runner import input_digest

    clip = tmp_path / "a.wav"
    clip.write_bytes(b"RIFF" + bytes(60))
    spoken = Sample(id="a", text="so it goes", audio=str(clip))
    before = input_digest(spoken)
    clip.write_bytes(b"RIFF" + bytes(59) + b"\x01")  # same size, other bytes
    assert input_digest(spoken) != before
    clip.unlink()  # unreadable: a digest still, the file's absence counted
    assert input_digest(spoken) not in (before, input_digest(Sample(id="a", text="so it goes")))
    payload = json.dumps({"text": "so it goes", "cues": None, "media": {}}, sort_keys=True)
    assert input_digest(Sample(id="a", text="so it goes")) == hashlib.sha256(payload.encode()).hexdigest()[:16]


def test_a_resume_asks_again_what_the_dataset_now_gives_otherwise_and_mends_a_torn_line(tmp_path, caplog) -> None:
    """Answers were kept by id alone: a row put in above shifted `line1`, `line2`... onto other sentences,
    which kept the old answers; a torn last line stayed where a rerun had nothing to append."""
    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model
    from emoreason.generation import SamplingParams

    data = tmp_path / "d.jsonl"
    rows = [{"text": f"sentence {i}", "score": 0.5 + 0.3 * i} for i in range(4)]  # ids line1..line4
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    params = SamplingParams(max_new_tokens=32, stop_strings=C2F.stop_strings)
    heard: list[str] = []

    def run() -> dict:
        dataset = load_dataset(f"jsonl:{data}?scale=-4,4")
        asked = Varied()
        calls = []
        real = asked.generate
        asked.generate = lambda conversations, *a, **k: calls.append(len(conversations)) or real(conversations, *a, **k)
        evaluate_model(
            asked,
            dataset,
            dataset.split("test"),
            tmp_path / "run",
            "m",
            "c2f",
            params,
            16,
            [],
            "test",
            notify=heard.append,
        )
        return {"asked": sum(calls)}

    assert run()["asked"] == 4
    data.write_text("".join(json.dumps(r) + "\n" for r in [{"text": "new first", "score": -3.0}, *rows[:3]]))
    assert run()["asked"] == 4  # every line now holds another sentence
    assert any("4 answer(s)" in message and "asked again" in message for message in heard)
    predictions = tmp_path / "run" / "predictions.jsonl"
    with predictions.open("a") as handle:
        handle.write('{"id": "line9", "raw_compl')  # a kill mid-write
    assert run()["asked"] == 0
    assert predictions.read_text().endswith("}\n")


def test_the_report_plots_the_values_the_metrics_score(tmp_path, monkeypatch) -> None:
    """The scatter and the error bars took an out-of-scale answer as given, where the metrics count it
    unanswered (the midpoint)."""
    import emoreason.eval.report as report

    plotted = {}
    monkeypatch.setattr(report, "scatter_plot", lambda pred, gold, task, path: plotted.setdefault("pred", pred))
    monkeypatch.setattr(report, "error_by_polarity_plot", lambda pred, samples, task, path: None)
    monkeypatch.setattr(report, "confusion_plot", lambda *a, **k: None)
    samples = [Sample(id="a", text="x", score=2.0), Sample(id="b", text="y", score=-2.0)]
    records = [{"id": "a", "score": 9.0, "polarity": "positive"}, {"id": "b", "score": -1.5, "polarity": "negative"}]
    try:
        report.write_report(tmp_path, "t", {"rows": {"model": {}}}, records, samples, VADER)
    except Exception:  # the stubbed plots are no figures: only what they were given is read here
        pass
    assert plotted["pred"] == [None, -1.5]
