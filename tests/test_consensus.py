"""Choosing the answer that speaks for k sampled chains (`formats.consensus`)."""

import math

import pytest

from emoreason.formats import ParseResult
from emoreason.formats.consensus import Consensus, choose_consensus


def answer(polarity=None, score=None, label=None, ok=True):
    return ParseResult("c2f", ok, polarity, score, label)


def test_majority_polarity_then_the_score_nearest_its_median():
    answers = [
        answer("positive", 2.0),
        answer("negative", -1.0),
        answer("positive", 0.9),
        answer("positive", 3.1),
        answer("negative", -2.0),
    ]
    # positive wins 3 to 2; its scores 2.0, 0.9, 3.1 have median 2.0: the first answer
    assert choose_consensus(answers) == Consensus(index=0, votes=3, parsed=5)


def test_even_group_takes_the_first_answer_nearest_the_median():
    answers = [answer("negative", -3.0), answer("negative", -1.0), answer("positive", 1.0)]
    # negatives: median -2.0, both 1.0 away; the first of them
    assert choose_consensus(answers).index == 0
    answers = [answer("negative", -1.0), answer("negative", -3.0), answer("negative", -1.5)]
    assert choose_consensus(answers).index == 2  # median -1.5 is its own score


def test_a_tie_goes_to_the_verdict_that_voted_first():
    answers = [answer("neutral", 0.0), answer("positive", 1.5), answer("positive", 2.5), answer("neutral", 0.2)]
    assert choose_consensus(answers) == Consensus(index=0, votes=2, parsed=4)


def test_unparsed_answers_do_not_vote():
    answers = [answer("positive", 9.0, ok=False), answer("negative", -1.0), answer("positive", 9.5, ok=False)]
    assert choose_consensus(answers) == Consensus(index=1, votes=1, parsed=1)


def test_nothing_parsed_keeps_the_first_answer():
    assert choose_consensus([answer(ok=False), answer(ok=False)]) == Consensus(index=0, votes=0, parsed=0)


def test_label_tasks_vote_with_the_label():
    answers = [answer(label="sad"), answer(label="angry"), answer(label="angry")]
    assert choose_consensus(answers) == Consensus(index=1, votes=2, parsed=3)


def test_no_answers_is_an_error():
    with pytest.raises(ValueError, match="no answers"):
        choose_consensus([])


def test_vote_temperature_defaults_and_refusals():
    from emoreason.formats.consensus import VOTE_TEMPERATURE, vote_temperature

    assert vote_temperature(1) == 0.0
    assert vote_temperature(5) == VOTE_TEMPERATURE
    assert vote_temperature(3, 1.0) == 1.0
    assert vote_temperature(1, 0.4) == 0.4
    with pytest.raises(ValueError, match="temperature above 0"):
        vote_temperature(3, 0.0)
    with pytest.raises(ValueError, match="at least 1"):
        vote_temperature(0)
    for endless in (math.inf, math.nan):  # sampling at infinity divided the logits into NaN after the model loaded
        with pytest.raises(ValueError, match="0 .greedy. or above, and finite"):
            vote_temperature(1, endless)


def test_a_voted_record_is_the_chosen_chain_with_every_verdict():
    from emoreason.data.schema import Sample, resolve_task
    from emoreason.formats import get_format
    from emoreason.generation import Completion
    from emoreason.inference import audit_record, records_for

    fmt, task = get_format("c2f"), resolve_task("vader")
    sample = Sample(id="s1", text="good but slow")

    def chain(polarity: str, word: str, score: float) -> Completion:
        text = f'<polarity>{polarity}</polarity> <think>"{word}" ({score:+.1f})</think> <score>{score}</score>'
        return Completion(text=text, token_ids=[1, 2], logprobs=[0.0, 0.0], finish_reason="stop")

    answers = [
        chain("negative", "slow", -1.0),
        chain("positive", "good", 1.0),
        chain("positive", "good", 2.5),
        chain("positive", "great", 1.9),
        chain("oops", "x", 0.0),
    ]
    [record] = records_for([sample], [answers], fmt, task, "m", 0.5)
    # positive wins 3 of 4 parsed; median of 1.0, 2.5, 1.9 is 1.9: the fourth chain, which quotes a word not in the text
    assert record["votes"] == {
        "k": 5,
        "parsed": 4,
        "agree": 3,
        "chosen": 3,
        "answers": [
            {"polarity": "negative", "label": None, "score": -1.0},
            {"polarity": "positive", "label": None, "score": 1.0},
            {"polarity": "positive", "label": None, "score": 2.5},
            {"polarity": "positive", "label": None, "score": 1.9},
            {"polarity": None, "label": None, "score": 0.0},
        ],
    }
    expected = audit_record(sample, answers[3], fmt, task, "m", 0.5, cues="")
    assert {k: v for k, v in record.items() if k != "votes"} == expected
    assert record["citations"]["ungrounded"] == ['"great"']
    # one completion: the plain record, no votes
    [single] = records_for([sample], [answers[:1]], fmt, task, "m", 0.5)
    assert "votes" not in single and single["score"] == -1.0
