"""Issue 18's training safeguards: in-training validation, best/, the collapse detector,
polarity-balanced prompts, the rollout polarity mix and the grounding reward."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
import torch

from emoreason.data.schema import Sample, vader_task
from emoreason.formats import get_format
from emoreason.models.loading import native_bf16
from emoreason.rewards.components import GROUNDING_NEUTRAL, VALENCE_NEUTRAL, grounding_reward, valence_reward
from emoreason.rewards.composite import CompositeReward, Gold
from emoreason.train.loop import stratified_position, weighted_cycle
from emoreason.train.validation import answer_metrics, collapse_reasons, flatten, is_better
from test_rl_trainer import TEXT_SAMPLES, scripted_trainer

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

VADER = vader_task("movies")
C2F = get_format("c2f")


@pytest.fixture(scope="module")
def causal(tiny_models: dict[str, Path]) -> Path:
    return tiny_models["causal_lm"]


def c2f(polarity: str, score: float, cue: str = "") -> str:
    return f"<polarity>{polarity}</polarity><think>{cue}</think><score>{score}</score>"


# -- the figures --------------------------------------------------------------------------


def test_answer_metrics_hand_computed() -> None:
    samples = [Sample(id=str(i), text=t, score=s) for i, (t, s) in enumerate([("good", 2.0), ("bad", -2.0)] * 2)]
    texts = [
        c2f("positive", 2.0, '"good" (+1.9)'),
        c2f("positive", 1.0, '"awful" (-2.5)'),  # cites a word that is not in "bad"
        c2f("positive", 3.0, "no sentiment words"),
        "no answer at all",
    ]
    parsed = [C2F.parse(t, VADER) for t in texts]
    figures = answer_metrics(parsed, texts, samples, VADER)
    assert figures["parse_rate"] == 0.75
    # polarities: positive x3, none x1
    assert figures["majority_share"] == 0.75 and figures["positive_share"] == 0.75 and figures["negative_share"] == 0
    # predicted scores 2, 1, 3 and the midpoint 0 for the unparsed one: sd = sqrt(1.25); gold sd = 2
    assert figures["sd_ratio"] == pytest.approx(math.sqrt(1.25) / 2.0)
    assert figures["mae"] == pytest.approx((0 + 3 + 1 + 2) / 4)
    # two citations, one grounded; of the two answers citing something one is fully grounded
    assert figures["citations_grounded_rate"] == 0.5 and figures["answers_fully_grounded"] == 0.5
    # each input has one lexicon word; only the first answer states a number for its own
    assert figures["cue_recall"] == 0.25
    # scores as read (the confidence readout): MAE from them, sd_ratio still from the written ones
    read = answer_metrics(parsed, texts, samples, VADER, scores=[1.0, 0.5, 1.5, None])
    assert read["mae"] == pytest.approx((1 + 2.5 + 0.5 + 2) / 4)
    assert read["sd_ratio"] == figures["sd_ratio"]


def test_collapse_reasons_name_the_dataset_and_symptom() -> None:
    healthy = {"majority_share": 0.5, "sd_ratio": 0.9}
    assert collapse_reasons({"a": healthy}, 0.85, 0.3) == []
    found = collapse_reasons({"a": healthy, "b": {"majority_share": 0.9, "sd_ratio": 0.1}}, 0.85, 0.3)
    assert len(found) == 2 and all(reason.startswith("b:") for reason in found)
    assert "90%" in found[0] and "0.10" in found[1]
    assert collapse_reasons({"c": {"majority_share": 0.2, "sd_ratio": float("nan")}}, 0.85, 0.3) == []
    # every answer unparsed is a collapse too, but not onto "one polarity" (it said so)
    shares = {"positive_share": 0.0, "negative_share": 0.0, "neutral_share": 0.0}
    unparsed = collapse_reasons({"d": {"majority_share": 1.0, "sd_ratio": float("nan"), **shares}}, 0.85, 0.3)
    assert unparsed == ["d: 100% of answers say no polarity (did not parse) (> 85%)"]
    positive = {**shares, "positive_share": 0.9}
    assert (
        "share one polarity"
        in collapse_reasons({"e": {"majority_share": 0.9, "sd_ratio": 1.0, **positive}}, 0.85, 0.3)[0]
    )


def test_label_metrics_hand_computed_with_cue_grounding() -> None:
    from emoreason.data.adapters.ravdess import ravdess_task

    task, fmt = ravdess_task(), get_format("emor3")
    cues = "Voice (relative to this speaker): loudness very loud (+2.3 sd, -20 dBFS)."
    golds = ["angry", "angry", "sad", "calm"]
    samples = [Sample(id=str(i), text="Kids are great", label=g, cues=cues) for i, g in enumerate(golds)]

    def emor3(label: str, cite: str = "loudness very loud (+2.3 sd)") -> str:
        return f"<step1>{cite}</step1><step2>x</step2><step3>y</step3>\\boxed{{{label}}}"

    texts = [emor3("angry"), emor3("angry", "pitch high (+1.5 sd)"), emor3("angry"), "no label"]
    parsed = [fmt.parse(t, task) for t in texts]
    figures = answer_metrics(parsed, texts, samples, task)
    assert figures["war"] == 0.5 and figures["parse_rate"] == 0.75  # the two angry clips are right
    # recalls: angry 2/2, sad 0, calm 0 (its answer names no label: wrong, not dropped)
    assert figures["recall_angry"] == 1.0 and figures["recall_sad"] == 0.0 and figures["recall_calm"] == 0.0
    assert figures["uar"] == pytest.approx(1 / 3)
    assert figures["majority_share"] == 0.75 and math.isnan(figures["sd_ratio"])
    assert math.isnan(figures["cue_recall"])  # a label task's chains state no numbers for words ("great")
    # the cue citation is checked against the cue text: 2 of 3 citations are there
    assert figures["citations_grounded_rate"] == pytest.approx(2 / 3)
    found = collapse_reasons({"ravdess": figures}, 0.85, 0.3, label_share=0.5)
    assert found == ["ravdess: 75% of answers name one label (> 50%)"]
    assert collapse_reasons({"ravdess": {**figures, "majority_share": 0.4}}, 0.85, 0.3, 0.5) == []
    # no answer parsed: the biggest "label" is none at all, which was reported as one label named by all
    unparsed = answer_metrics([fmt.parse("no label", task)] * 4, ["no label"] * 4, samples, task)
    assert unparsed["none_share"] == unparsed["majority_share"] == 1.0 and figures["none_share"] == 0.25
    assert collapse_reasons({"ravdess": unparsed}, 0.85, 0.3, 0.5) == [
        "ravdess: 100% of answers name no label (did not parse) (> 50%)"
    ]


def test_short_names_keep_keys_at_two_slashes() -> None:
    from emoreason.train.validation import short_name

    assert short_name("vader:movies") == "vader:movies"
    assert short_name("ravdess:/data/sets/ravdess16k/?cues=only&classifier=/x/c.json") == "ravdess:ravdess16k"
    assert short_name("jsonl:a/b.jsonl", taken={"jsonl:b.jsonl"}) == "jsonl:b.jsonl#2"
    assert short_name("jsonl:c/b.jsonl", taken={"jsonl:b.jsonl", "jsonl:b.jsonl#2"}) == "jsonl:b.jsonl#3"


def test_flatten_means_over_datasets_and_a_nan_dataset_makes_the_mean_nan() -> None:
    """A dataset whose answers all failed to parse has no r: the mean over the others read as the best step."""
    flat = flatten({"x": {"r": 0.2, "m": float("nan")}, "y": {"r": 0.4, "m": 1.0}, "z": {"r": 0.6}})
    assert flat["valid/x/r"] == 0.2 and flat["valid/mean/r"] == pytest.approx(0.4)
    assert math.isnan(flat["valid/x/m"]) and math.isnan(flat["valid/mean/m"])
    assert not is_better(flat["valid/mean/m"], 0.5, "max")


def test_is_better() -> None:
    assert is_better(0.1, None, "max") and is_better(0.2, 0.1, "max") and not is_better(0.1, 0.1, "max")
    assert is_better(0.05, 0.1, "min") and not is_better(float("nan"), None, "max")


# -- balanced prompts ---------------------------------------------------------------------


def test_balance_strata_by_polarity_or_label() -> None:
    from emoreason.data.adapters.ravdess import ravdess_task
    from emoreason.rl.rollouts import balance_strata

    task = ravdess_task()
    golds = ["angry", "sad", "happy", "angry", "calm", None]
    samples = [Sample(id=str(i), text="Kids", label=g) for i, g in enumerate(golds)]
    assert balance_strata(samples, task, "label") == {"angry": [0, 3], "calm": [4], "happy": [2], "sad": [1]}
    assert balance_strata(samples, task, "polarity") == {"negative": [0, 1, 3], "positive": [2, 4]}
    with pytest.raises(ValueError, match="data.balance=label needs samples with a gold label"):
        balance_strata([Sample(id="x", text="t")], task, "label")


def test_stratified_position_takes_each_stratum_in_turn() -> None:
    strata = [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9], [10, 11, 12]]  # 8 : 2 : 3, like an unbalanced pool
    drawn = [stratified_position(i, strata, seed=3) for i in range(30)]
    for start in range(0, 30, 3):  # every 3 consecutive positions: one of each stratum
        assert sorted(next(k for k, s in enumerate(strata) if d in s) for d in drawn[start : start + 3]) == [0, 1, 2]
    # the small strata repeat, each epoch of a stratum a permutation of it
    assert Counter(d for d in drawn if d in strata[1]) == {8: 5, 9: 5}
    assert sorted(drawn[0:24:3]) == strata[0]
    assert drawn == [stratified_position(i, strata, seed=3) for i in range(30)]  # a function of (seed, position)
    assert drawn != [stratified_position(i, strata, seed=4) for i in range(30)]
    assert drawn == [stratified_position(i, strata, seed=3, weights=[1, 1, 1]) for i in range(30)]  # weights 1 = plain


def test_weighted_strata_take_their_turns() -> None:
    assert weighted_cycle([2, 1, 2]) == [0, 1, 2, 0, 2]
    assert weighted_cycle([1, 1]) == [0, 1]
    with pytest.raises(ValueError, match="positive integers"):
        weighted_cycle([1, 0])
    strata = [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]]  # negative, neutral, positive
    drawn = [stratified_position(i, strata, seed=1, weights=[2, 1, 2]) for i in range(50)]
    which = [next(k for k, s in enumerate(strata) if d in s) for d in drawn]
    assert which[:5] == [0, 1, 2, 0, 2] and Counter(which) == {0: 20, 1: 10, 2: 20}
    # each stratum still runs through whole epochs of itself: 20 draws of 4 items = 5 each
    assert Counter(d for d in drawn if d in strata[0]) == {0: 5, 1: 5, 2: 5, 3: 5}
    assert Counter(d for d in drawn if d in strata[2]) == {7: 4, 8: 4, 9: 4, 10: 4, 11: 4}
    with pytest.raises(ValueError, match="2 weights for 3 strata"):
        stratified_position(0, strata, seed=1, weights=[1, 1])


def test_domain_polarity_strata_and_their_weights() -> None:
    from emoreason.rl.rollouts import balance_strata, weighted_strata

    rows = [("tweets", 2.0), ("tweets", -2.0), ("products", -2.0), ("tweets", 1.5), ("products", 0.1), ("products", 2)]
    samples = [Sample(id=str(i), text="t", score=s, domain=d) for i, (d, s) in enumerate(rows)]
    assert balance_strata(samples, VADER, "domain_polarity") == {
        "products/negative": [2],
        "products/neutral": [4],
        "products/positive": [5],
        "tweets/negative": [1],
        "tweets/positive": [0, 3],
    }
    # a stratum's own weight wins over its polarity's; an unnamed stratum takes 1
    strata, weights = weighted_strata(samples, VADER, "domain_polarity", {"positive": 3, "tweets/positive": 5})
    assert strata == [[2], [4], [5], [1], [0, 3]] and weights == [1, 1, 3, 1, 5]
    with pytest.raises(ValueError, match=r"names \['movies/negative'\]"):
        weighted_strata(samples, VADER, "domain_polarity", {"movies/negative": 2})
    # plain polarity balance pools the domains
    assert weighted_strata(samples, VADER, "polarity", {"negative": 2})[1] == [2, 1, 1]


def test_balance_weights_need_balance_and_positive_integers() -> None:
    from emoreason.rl.config import DataConfig

    assert (
        DataConfig(balance="polarity", balance_weights={"neutral": 1, "positive": 2}).balance_weights["positive"] == 2
    )
    with pytest.raises(ValueError, match="needs data.balance"):
        DataConfig(balance_weights={"neutral": 1})
    with pytest.raises(ValueError, match="positive integers"):
        DataConfig(balance="polarity", balance_weights={"neutral": 0})


# -- the grounding reward ------------------------------------------------------------------


def test_grounding_reward_values() -> None:
    assert grounding_reward(4, 3) == 0.75 and grounding_reward(0, 0) == GROUNDING_NEUTRAL == 0.5
    with pytest.raises(ValueError, match="grounded <= cited"):
        grounding_reward(1, 2)


def test_grounding_component_checks_quotes_against_the_input() -> None:
    reward = CompositeReward.c2f(weights={"grounding": 1.0})
    gold = Gold.from_sample(Sample(id="1", text="The hotel was not bad at all.", score=1.5), VADER)
    assert reward(c2f("positive", 1.5, '"not bad" (+1.5)'), gold, VADER).total == 1.0
    assert reward(c2f("positive", 1.5, '"amazing" (+2.8), "bad" (-2.5)'), gold, VADER).total == 0.5
    assert reward(c2f("positive", 1.5, "no sentiment words"), gold, VADER).total == GROUNDING_NEUTRAL
    with pytest.raises(ValueError, match="input text"):
        reward(c2f("positive", 1.5, '"x"'), Gold(score=1.0), VADER)


def test_valence_reward_values() -> None:
    assert valence_reward(2, 3) == pytest.approx(2 / 3) and valence_reward(0, 0) == VALENCE_NEUTRAL == 0.5
    with pytest.raises(ValueError, match="agreeing <= checked"):
        valence_reward(3, 2)


def test_valence_component_scores_a_rationalized_chain_below_a_faithful_one() -> None:
    # VADER lexicon: fun +2.3, bad -2.5, hell -3.6
    reward = CompositeReward.c2f(weights={"valence": 1.0})
    gold = Gold.from_sample(Sample(id="1", text="The fun of making a video", score=1.2), VADER)
    # "fun" called negative to fit a negative answer: the lexicon check fails, the judgment holds
    assert reward(c2f("negative", -1.9, 'Negative cues: "fun" (-1.9).'), gold, VADER).total == 0.5
    # the lexicon's sign, and a judgment that follows it: both checks hold
    assert reward(c2f("positive", 2.3, 'Positive cues: "fun" (+2.3).'), gold, VADER).total == 1.0
    # right lexicon sign, judgment against it: one of two
    assert reward(c2f("negative", -1.0, 'Positive cues: "fun" (+2.3).'), gold, VADER).total == 0.5
    # one word both ways sums to 0 (no sign: the judgment fails); "hell" -3.6 said +1.9 fails too
    both = 'Positive cues: "hell" (+1.9). Negative cues: "hell" (-1.9).'
    assert reward(c2f("positive", 0.5, both), gold, VADER).total == pytest.approx(1 / 3)
    # negation is judged on the stated lexicon value, then the effective one on the judgment
    negated = '"bad" (-2.5), negated by "not" so it reads +1.8'
    assert reward(c2f("positive", 1.8, negated), gold, VADER).total == 1.0
    assert reward(c2f("neutral", 0.0, "no sentiment words"), gold, VADER).total == VALENCE_NEUTRAL


def test_gold_source_carries_cue_text_only_when_the_prompt_did() -> None:
    sample = Sample(id="1", text="hi", cues="pitch high (+1.2 sd)")
    assert Gold.from_sample(sample, VADER).source == "hi"
    assert Gold.from_sample(sample, VADER, with_cues=True).source == "hi\npitch high (+1.2 sd)"


# -- in the trainer -------------------------------------------------------------------------


def always_positive(conversation, k: int) -> str:
    return c2f("positive", 2.0 + 0.1 * k, '"wonderful" (+2.0)')


def test_balanced_prompts_and_polarity_mix_logged(tmp_path: Path, causal: Path) -> None:
    samples = [*TEXT_SAMPLES, *(Sample(id=f"p{i}", text=f"great {i}", score=2.0, split="train") for i in range(6))]
    trainer, _ = scripted_trainer(
        tmp_path, causal, always_positive, samples, data={"balance": "polarity"}, hints={"enabled": False}
    )
    polarities = [VADER.gold_polarity(s) for step in range(4) for s in trainer.prompts_for_step(step)]
    assert Counter(polarities) == {"positive": 4, "negative": 4}  # 8 positive : 2 negative in the pool
    record = trainer.step()
    assert record["rollouts/positive_share"] == 1.0 and record["rollouts/negative_share"] == 0.0


def test_rollout_mix_counts_the_given_answers_and_other_labels() -> None:
    from types import SimpleNamespace

    from emoreason.rl.rollouts import rollout_stats

    def rollout(polarity: str | None) -> SimpleNamespace:
        completion = SimpleNamespace(num_tokens=10, finish_reason="stop")
        return SimpleNamespace(
            completion=completion, parsed=SimpleNamespace(ok=True, polarity=polarity), reward=None, hinted=False
        )

    group = [rollout("positive"), rollout("positive"), rollout(None), rollout("negative")]
    polarities = ("positive", "negative", "neutral", "none")
    by_polarity = rollout_stats([group], torch.zeros(4), 4, ["positive", "positive", "none", "negative"], polarities)
    assert [by_polarity[f"rollouts/{n}_share"] for n in polarities] == [0.5, 0.25, 0.0, 0.25]
    # a label task: the answers given, with a label outside the task under "other"
    labels = rollout_stats([group], torch.zeros(4), 4, ["joy", "joy", "none", "awe"], ["joy", "fear", "none", "other"])
    assert {k: v for k, v in labels.items() if k.startswith("rollouts/")} == {
        "rollouts/joy_share": 0.5,
        "rollouts/fear_share": 0.0,
        "rollouts/none_share": 0.25,
        "rollouts/other_share": 0.25,
    }
    with pytest.raises(ValueError, match="3 answers for 4 rollouts"):
        rollout_stats([group], torch.zeros(4), 4, ["joy", "joy", "none"], ["joy"])


def test_balance_weights_in_the_trainer(tmp_path: Path, causal: Path) -> None:
    samples = [*TEXT_SAMPLES, *(Sample(id=f"p{i}", text=f"great {i}", score=2.0, split="train") for i in range(6))]
    data = {"balance": "polarity", "balance_weights": {"positive": 3}}
    trainer, _ = scripted_trainer(tmp_path, causal, always_positive, samples, data=data, hints={"enabled": False})
    polarities = [VADER.gold_polarity(s) for step in range(4) for s in trainer.prompts_for_step(step)]
    assert Counter(polarities) == {"negative": 2, "positive": 6}  # negative, positive x3, in turn
    with pytest.raises(
        ValueError,
        match=r"names \['neutral'\]; the training data's gold polarity values are \['negative', 'positive'\]",
    ):
        scripted_trainer(
            tmp_path / "b", causal, always_positive, samples, data={**data, "balance_weights": {"neutral": 2}}
        )


def test_validation_on_another_task_than_the_training_data_is_refused(tmp_path: Path, causal: Path) -> None:
    """A recipe's VADER validation sets stayed when only data.dataset named a 1..7 file: best/ was chosen on VADER."""
    from emoreason.data.schema import TaskInfo

    seven = TaskInfo("mine", scale=(1.0, 7.0))
    samples = [Sample(id=f"m{i}", text=f"text {i}", score=float(1 + i % 7), split="train") for i in range(4)]
    validation = {"every": 1, "datasets": ["vader:movies"], "sample": 4}
    with pytest.raises(ValueError, match=r"vader:movies answers a score on -4..4, the training data a score on 1..7"):
        scripted_trainer(tmp_path, causal, always_positive, samples, task=seven, validation=validation)
    # the same scale under another name is the same question (VADER's domains validate each other)
    scripted_trainer(tmp_path, causal, always_positive, validation=validation)


def test_validation_logs_keeps_best_and_stops_on_collapse(tmp_path: Path, causal: Path) -> None:
    validation = {
        "every": 1,
        "datasets": ["vader:movies"],
        "sample": 6,
        "best_metric": "vader:movies/parse_rate",
        "stop_on_collapse": True,
    }
    trainer, engine = scripted_trainer(tmp_path, causal, always_positive, validation=validation, run={"max_steps": 3})
    records = trainer.train()
    # every answer says positive: a collapse, seen after step 1, which ends the run there
    assert [r["step"] for r in records] == [1] and trainer.run.stopped_early
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [0, 1]  # step 0: the starting weights
    assert all(r["valid/vader:movies/majority_share"] == 1.0 and r["valid/collapse"] == 1.0 for r in logged)
    assert logged[1]["valid/mean/parse_rate"] == 1.0
    best = json.loads((tmp_path / "run" / "best" / "best.json").read_text())
    assert best["step"] == 0 and best["value"] == 1.0  # the later equal value does not replace it
    assert (tmp_path / "run" / "best" / "adapter").is_dir() or (tmp_path / "run" / "best" / "model").is_dir()
    if (tmp_path / "run" / "best" / "adapter").is_dir():  # it says what it answers, as every saved adapter does
        assert json.loads((tmp_path / "run" / "best" / "adapter" / "emoreason.json").read_text())["format"] == "c2f"
    assert (tmp_path / "run" / "checkpoint-1").is_dir()  # the early stop is checkpointed
    assert (tmp_path / "run" / "curves.png").is_file()  # drawn at the end, with the validation panels
    greedy = [params for _, params, _ in engine.calls if params.temperature == 0.0]
    assert len(greedy) == 2 and all(not grad for *_, grad in engine.calls[:1])
    # each validation's answers, kept as an evaluate folder that compare pairs with another step's
    from emoreason.eval.compare import compare_runs

    steps = tmp_path / "run" / "validation"
    assert sorted(p.name for p in steps.iterdir()) == ["step-0", "step-1"]
    first = [json.loads(line) for line in (steps / "step-0" / "vader-movies" / "predictions.jsonl").open()]
    assert len(first) == 6 and all(r["polarity"] == "positive" and r["gold_score"] is not None for r in first)
    assert first[0]["model"] == "run step 0"
    stored = json.loads((steps / "step-1" / "vader-movies" / "run.json").read_text())
    assert stored["step"] == 1 and stored["identity"]["dataset"] == "vader:movies"
    assert stored["identity"]["temperature"] == 0.0 and stored["written_by"] == "in-training validation"
    paired = compare_runs(steps / "step-0" / "vader-movies", steps / "step-1" / "vader-movies")
    assert paired["n_shared"] == 6 and paired["metrics"]["acc_3"]["difference"] == 0.0
    # two steps' answers are two models' (the run's weights at each step), which fit-score does not fit one line on
    from emoreason.eval.score_fit import SAME_ANSWERER

    earlier = json.loads((steps / "step-0" / "vader-movies" / "run.json").read_text())["identity"]
    assert stored["identity"]["trained_weights"]["step"] == 1
    assert {k: earlier.get(k) for k in SAME_ANSWERER} != {k: stored["identity"].get(k) for k in SAME_ANSWERER}


def test_a_best_kept_under_other_validation_settings_is_set_aside_not_compared(tmp_path: Path, causal: Path) -> None:
    """best/best.json was read without asking what it measured: resumed with another sample (or metric), the
    new figures were compared with the old ones; and a rerun after the early stop trained past it."""
    validation = {"every": 1, "datasets": ["vader:movies"], "sample": 6, "best_metric": "vader:movies/parse_rate"}
    first = {"max_steps": 1, "save_every": 1, "resume": True}
    trainer, _ = scripted_trainer(tmp_path, causal, always_positive, validation=validation, run=first)
    trainer.train()
    assert json.loads((tmp_path / "run" / "best" / "best.json").read_text())["chosen_by"]["sample"] == 6
    resumed = {**validation, "sample": 4}
    trainer, _ = scripted_trainer(tmp_path, causal, always_positive, validation=resumed, run={**first, "max_steps": 2})
    trainer.train()
    best = json.loads((tmp_path / "run" / "best" / "best.json").read_text())
    assert best["step"] == 2 and best["chosen_by"]["sample"] == 4  # not "no better than step 0's 1.0"
    aside = json.loads((tmp_path / "run" / "best.step-0-other-settings" / "best.json").read_text())
    assert aside["chosen_by"]["sample"] == 6
    # the early stop on a collapse holds for a rerun while stop_on_collapse is on
    stopping = {**resumed, "stop_on_collapse": True}
    trainer, _ = scripted_trainer(tmp_path, causal, always_positive, validation=stopping, run={**first, "max_steps": 4})
    assert [r["step"] for r in trainer.train()] == [3] and trainer.run.stopped_early
    trainer, _ = scripted_trainer(tmp_path, causal, always_positive, validation=stopping, run={**first, "max_steps": 4})
    assert trainer.train() == [] and trainer.run.step == 3


def test_a_best_metric_that_is_nan_says_why_there_is_no_best(
    tmp_path: Path, causal: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every answer gives one score, so r is NaN: the run ended without best/ and said nothing."""
    validation = {"every": 1, "datasets": ["vader:movies"], "sample": 4, "best_metric": "vader:movies/pearson_r"}
    trainer, _ = scripted_trainer(tmp_path, causal, always_positive, validation=validation, run={"max_steps": 1})
    with caplog.at_level("WARNING", logger="emoreason.train.validation"):
        trainer.train()
    assert not (tmp_path / "run" / "best").exists()
    assert "validation.best_metric vader:movies/pearson_r is NaN at step 0" in caplog.text


def test_validation_at_start_off_skips_step_zero(tmp_path: Path, causal: Path) -> None:
    validation = {
        "every": 2,
        "datasets": ["vader:movies"],
        "sample": 4,
        "at_start": False,
        "best_metric": "vader:movies/parse_rate",
        "keep_answers": False,
    }
    trainer, engine = scripted_trainer(tmp_path, causal, always_positive, validation=validation, run={"max_steps": 2})
    trainer.train()
    assert not (tmp_path / "run" / "validation").exists()
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "valid/mean/parse_rate" in r] == [2]  # not step 0
    assert json.loads((tmp_path / "run" / "best" / "best.json").read_text())["step"] == 2
    assert len([params for _, params, _ in engine.calls if params.temperature == 0.0]) == 1


def test_validation_in_fp32_decodes_as_evaluate(tmp_path: Path, causal: Path, monkeypatch) -> None:
    """validation.dtype float32 under bf16 rollouts: the fp32 policy with its LoRA merged, restored
    bit for bit after; ground_quotes reaches the sampling parameters."""
    from emoreason.generation import TransformersEngine
    from emoreason.rl.trainer import GRPOTrainer
    from emoreason.train.validation import Validation
    from test_rl_trainer import make_config

    config = make_config(
        tmp_path,
        causal,
        model={"lora": {"enabled": True, "r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}},
        rollout={"dtype": "bfloat16", "max_new_tokens": 4},
        validation={
            "every": 1,
            "datasets": ["vader:movies"],
            "sample": 2,
            "max_new_tokens": 4,
            "dtype": "float32",
            "ground_quotes": True,
        },
        run={"max_steps": 1},
    )
    trainer = GRPOTrainer(config, samples=TEXT_SAMPLES, task=VADER)
    lora_b = next(p for n, p in trainer.policy.named_parameters() if "lora_B" in n)
    base = next(m for m in trainer.policy.modules() if hasattr(m, "lora_B") and lora_b in m.lora_B.parameters())
    with torch.no_grad():
        lora_b.fill_(0.5)  # a non-zero delta, so a merge changes the base weight
    before = base.get_base_layer().weight.detach().clone()
    seen, real_answer, real_generate = [], Validation.answer, TransformersEngine.generate

    def spy_answer(self, engine, model_name="policy"):
        weight = base.get_base_layer().weight
        seen.append((next(engine.loaded.model.parameters()).dtype, not torch.equal(weight, before)))
        return real_answer(self, engine, model_name)

    def spy_generate(self, conversations, params, progress=None):
        if params.temperature == 0.0:
            seen.append(params.ground_quotes)
        return real_generate(self, conversations, params, progress)

    monkeypatch.setattr(Validation, "answer", spy_answer)
    monkeypatch.setattr(TransformersEngine, "generate", spy_generate)
    trainer.validation.validate()
    assert seen == [(torch.float32, True), True]  # fp32 weights, merged; grounded quoting asked for
    assert torch.equal(base.get_base_layer().weight, before)
    assert trainer.rollout_weights.dtype == "bfloat16"  # the rollouts still sample from the bf16 copy


def test_unknown_best_metric_names_the_known_ones(tmp_path: Path, causal: Path) -> None:
    validation = {"every": 1, "datasets": ["vader:movies"], "sample": 2, "best_metric": "mean/nope"}
    trainer, _ = scripted_trainer(tmp_path, causal, always_positive, validation=validation)
    with pytest.raises(ValueError, match="not a figure; known: .*mean/pearson_r"):
        trainer.train()


def test_validation_on_test_is_refused_unless_allowed() -> None:
    """validation.split=test chose best/ on test without a word."""
    from emoreason.config_loader import ConfigError, load_recipe
    from emoreason.rl.config import GRPOConfig

    for split in ("test", "all"):
        with pytest.raises(ConfigError, match=f"validation.split={split} would choose best/.*allow_test=true"):
            load_recipe(GRPOConfig, None, [f"validation.split={split}"])
    with pytest.raises(
        ConfigError,
        match=r"^invalid override\nvalidation: validation.split=test would .*valid split "
        r"\[from the override validation.split=test\]$",
    ):  # no section dump, no "Value error,"
        load_recipe(GRPOConfig, None, ["validation.split=test"])
    watched = load_recipe(GRPOConfig, None, ["validation.split=test", "validation.allow_test=true"])
    assert watched.validation.split == "test"


# -- the curves ---------------------------------------------------------------------------


def test_running_mean_and_series() -> None:
    from emoreason.train.curves import running_mean, series

    assert running_mean([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    rows = [{"step": 0, "a": 1.0}, {"step": 1}, {"step": 2, "a": float("nan")}, {"step": 3, "a": 2}]
    assert series(rows, "a") == ([0, 3], [1.0, 2.0])


def test_training_curves_drawn_from_the_log(tmp_path: Path) -> None:
    from emoreason.train.curves import plot_training_curves

    log = tmp_path / "metrics.jsonl"
    rows = [{"step": s, "reward/mean": s / 10, "valid/vader:movies/pearson_r": 0.5} for s in range(5)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 5, "rew')  # a torn last line
    assert plot_training_curves(log, tmp_path / "c.png") == tmp_path / "c.png"
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    log.write_text('{"step": 1}\n')
    assert plot_training_curves(log, tmp_path / "d.png") is None and not (tmp_path / "d.png").exists()


def test_an_sft_run_gets_its_held_out_answers_panel_and_a_nan_series_is_drawn_with_a_note(tmp_path: Path) -> None:
    """SFT's parse rate and polarity accuracy were logged but never drawn (a blank third panel)."""
    from emoreason.train.curves import panels_of, plot_training_curves

    rows = [
        {"step": 0, "eval/loss": 3.0, "eval/parse_rate": 0.0, "eval/polarity_accuracy": float("nan")},
        {"step": 1, "loss": 2.0, "polarity/loss": 0.5},
        {"step": 2, "loss": 1.5, "polarity/loss": 0.4, "eval/loss": 1.0, "eval/parse_rate": 0.5},
    ]
    assert [(title.split(" (")[0], keys) for title, keys, _ in panels_of(rows)] == [
        ("training loss", ["loss", "polarity/loss"]),
        ("held-out loss", ["eval/loss"]),
        ("held-out greedy answers", ["eval/parse_rate", "eval/polarity_accuracy"]),
    ]
    log = tmp_path / "metrics.jsonl"  # polarity accuracy is NaN at every step: the panel says so
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert plot_training_curves(log, tmp_path / "c.png") == tmp_path / "c.png"


def test_grpo_command_prints_validation_and_best(tmp_path: Path, causal: Path) -> None:
    from typer.testing import CliRunner

    from emoreason.cli.main import app
    from emoreason.config_loader import load_recipe
    from emoreason.rl.config import GRPOConfig

    overrides = [
        f"model.name={causal}",
        "model.device=cpu",
        "model.lora.enabled=false",
        "data.dataset=vader:movies",
        "data.limit=4",
        "rollout.prompts_per_step=1",
        "rollout.group_size=2",
        "rollout.max_new_tokens=4",
        "run.max_steps=1",
        f"run.output_dir={tmp_path / 'run'}",
        "run.report_to=[jsonl]",
        "validation.every=1",
        "validation.sample=2",
        "validation.datasets=[vader:movies]",
        "validation.max_new_tokens=4",
        "validation.best_metric=mean/parse_rate",
        "optim.precision=auto",
    ]
    result = CliRunner().invoke(app, ["grpo", *overrides], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # what `auto` chose is said (rollout.dtype was left at float32, so it is not)
    chosen = "bf16 (this cpu has native" if native_bf16("cpu") else "fp32 (this cpu has no native"
    assert f"auto precision: optim.precision={chosen} bf16)" in result.output
    # config.yaml keeps `auto` (a resume elsewhere resolves again) and says what it became here
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "precision: auto" in saved
    resolved = "bf16" if native_bf16("cpu") else "fp32"
    assert saved.endswith(f"# auto resolved on this machine: optim.precision={resolved}\n")
    assert load_recipe(GRPOConfig, tmp_path / "run" / "config.yaml").optim.precision == "auto"
    assert "validation at step 1: vader:movies r" in result.output
    assert "best/: step 0 by valid mean/parse_rate" in result.output
    # the start's figures, which best/ kept here, are printed too, before step 1's
    assert "validation at step 0: vader:movies r" in result.output.split("validation at step 1")[0]
    assert "# made with emoreason " in saved and " torch " in saved  # the software config.yaml ran with


def test_a_components_sd_is_the_same_sd_as_the_rewards() -> None:
    """reward/std was the sample sd and reward/<component>/std the population sd: a reward that is one
    component, rewards 0 and 1, logged 0.71 and 0.5."""
    from types import SimpleNamespace

    from emoreason.rewards.composite import RewardBreakdown
    from emoreason.rl.rollouts import rollout_stats

    def rollout(value: float) -> SimpleNamespace:
        reward = RewardBreakdown(total=value, components={"polarity": value}, parsed=None, weights={"polarity": 1.0})
        completion = SimpleNamespace(num_tokens=10, finish_reason="stop")
        return SimpleNamespace(completion=completion, parsed=SimpleNamespace(ok=True), reward=reward, hinted=False)

    stats = rollout_stats([[rollout(0.0), rollout(1.0)]], torch.tensor([0.0, 1.0]), 2, ["none", "none"], ("none",))
    assert stats["reward/polarity/std"] == pytest.approx(stats["reward/std"]) == pytest.approx(0.5**0.5)
