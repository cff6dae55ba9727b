"""Citation grounding: quotes and measured-cue citations checked against the input."""

from __future__ import annotations

import math

from emoreason.data import Sample, TaskInfo
from emoreason.eval.predictions import score_samples
from emoreason.metrics.grounding import (
    Citations,
    citation_grounding,
    cited_evidence,
    find_cited,
    grounding_summary,
    joins_words,
)

CUE_TEXT = (
    "Voice (relative to this speaker): pitch low (-1.1 sd, 99 Hz), loudness quiet (-1.3 sd, -52 dBFS), "
    "voice clarity (HNR) slightly clear (+0.6 sd, 10.7 dB)."
)


def test_quotes_and_cue_citations_are_found() -> None:
    chain = (
        "<step1>The voice against this speaker's other clips: loudness quiet (-1.3 sd), "
        'voice clarity (HNR) slightly clear (+0.6 sd).</step1>\n<step2>"wonderful" (+3.1) outweighs it</step2>'
    )
    assert [needle for _, needle in cited_evidence(chain)] == [
        "wonderful",
        "loudness quiet (-1.3 sd",
        "voice clarity (HNR) slightly clear (+0.6 sd",
    ]


def test_grounded_and_ungrounded_citations() -> None:
    source = "The acting was Wonderful but the plot   was thin.\n" + CUE_TEXT
    good = citation_grounding('"wonderful" and "the plot was thin"; pitch low (-1.1 sd)', source)
    assert good == Citations(cited=3, grounded=3)
    # a word not in the sentence, a cue with the wrong z-score, a cue the prompt never gave
    bad = citation_grounding('"thanks" (+1.9). pitch low (-2.0 sd), speaking rate fast (+1.0 sd)', source)
    assert (bad.cited, bad.grounded) == (3, 0)
    assert bad.ungrounded == ('"thanks"', "pitch low (-2.0 sd)", "speaking rate fast (+1.0 sd)")
    assert citation_grounding("POSITIVE, nothing cited", source) == Citations(0, 0)
    # empty quotes cite nothing, and their marks pair with each other, not across the text between them
    assert citation_grounding('Positive cues: "", "", "".', source) == Citations(0, 0)
    assert citation_grounding('cues: "", "wonderful"', source) == Citations(cited=1, grounded=1)


def test_any_quote_mark_opens_and_closes_a_quote_as_the_decoder_pairs_them() -> None:
    """Grounded quoting toggles at `"`, `\u201c` and `\u201d` alike; the metric reads the same pairs, so a
    quote the decoder kept to the input is counted, and no text between two quotes reads as one."""
    source = "Not a good film, a bad one."
    # a quote closed at an opening mark: before, `\u201c (+1.9); "` paired and cited " (+1.9); "
    assert citation_grounding('Positive cues: "good\u201c (+1.9); "bad" (-2.5)', source) == Citations(2, 2)
    # a quote opened at a closing mark: before, nothing was cited
    assert citation_grounding("Positive cues: \u201dgood\u201d (+1.9)", source) == Citations(1, 1)
    assert citation_grounding("\u201cgreat\u201d (+3.1)", source) == Citations(1, 0, ("\u201cgreat\u201d",))


def test_a_quote_is_grounded_only_as_whole_words() -> None:
    """ "no" is in neither "anonymous" nor "nothing", "sad" not in "unsaddled", "bad" not in "badly":
    a piece of a word is not a word of the input (the rule grounded quoting decodes by)."""
    source = "Anonymous says nothing, I am unsaddled and badly no-show."
    found = citation_grounding('"no" (-1.2); "hate" (-2.7); "sad" (-2.1); "bad" (-2.5)', source)
    assert (found.cited, found.grounded) == (4, 1)  # "no" of "no-show" only: a hyphen ends a word
    assert found.ungrounded == ('"hate"', '"sad"', '"bad"')
    assert citation_grounding('"no" (-1.2)', "I know nothing about anonymous people.") == Citations(1, 0, ('"no"',))
    # case, whitespace runs and punctuation around the words do not matter; the words' own edges do
    assert citation_grounding('"BEST day" and "ever"', "Best.   Day?  no: best day, ever!") == Citations(2, 2)
    assert list(find_cited("best day", "the best   Day, bestday")) == [(4, 14)]


def test_scripts_without_spaces_ground_any_piece() -> None:
    """Chinese has no spaces between words, so its characters never join a quote to a neighbour."""
    assert citation_grounding('"好吃" (+2.0)', "这家店很好吃。") == Citations(1, 1)
    assert citation_grounding('"难吃" (-2.0)', "这家店很好吃。") == Citations(1, 0, ('"难吃"',))
    assert joins_words("a") and joins_words("7") and joins_words("é") and not joins_words("好")
    assert not joins_words("-") and not joins_words(" ")


def test_summary_rates_and_nan_when_nothing_is_cited() -> None:
    summary = grounding_summary([Citations(2, 2), Citations(3, 1), Citations(0, 0)])
    assert summary["citations_grounded_rate"] == 3 / 5
    assert summary["answers_fully_grounded"] == 0.5 and summary["n_answers_citing"] == 2
    assert math.isnan(grounding_summary([Citations(0, 0)])["citations_grounded_rate"])


def test_scored_predictions_report_grounding_against_text_and_cues() -> None:
    task = TaskInfo("emo", labels=("calm", "angry"), metric_set="classification")
    samples = [
        Sample(id="a", text="Kids are talking by the door", label="calm", cues=CUE_TEXT),
        Sample(id="b", text="Kids are talking by the door", label="angry", cues=CUE_TEXT),
    ]
    rows = {
        "a": {"completion": "<step1>loudness quiet (-1.3 sd)</step1><step2>x</step2><step3>y</step3>\\boxed{calm}"},
        "b": {"completion": "<step1>loudness loud (+2.0 sd)</step1><step2>x</step2><step3>y</step3>\\boxed{calm}"},
    }
    metrics = score_samples(samples, rows, task, "emor3")
    assert metrics["citations_grounded_rate"] == 0.5 and metrics["answers_fully_grounded"] == 0.5


def test_analyze_view_names_ungrounded_citations(capsys) -> None:
    from emoreason.cli.ui import show_record

    sample = Sample(id="x", text="Remarkably accessible and affecting.")
    record = {
        "id": "x",
        "polarity": "positive",
        "score": 2.5,
        "label": None,
        "reasoning": {"think": '"relaxed" (+1.9)'},
        "parse_ok": True,
        "errors": [],
        "raw_completion": '"relaxed" (+1.9)',
        "completion_tokens": 9,
        "latency_s": 0.1,
        "model": "m",
        "citations": citation_grounding('"relaxed" (+1.9)', sample.text).to_dict(),
    }
    show_record(sample, record)
    assert 'cited but not in the input (1 of 1): "relaxed"' in " ".join(capsys.readouterr().out.split())


def test_exclamation_counts_are_checked_against_the_input() -> None:
    # the shipped default's answer to "Ugh, stuck at the airport AGAIN. Best. Day. Ever." (no "!")
    chain = 'Text: Positive cues: "best" (+3.1). Emphasis: 1 exclamation mark raise the intensity.'
    made_up = citation_grounding(chain, "Ugh, stuck at the airport AGAIN. Best. Day. Ever.")
    assert made_up == Citations(cited=2, grounded=1, ungrounded=("1 exclamation mark",))
    assert citation_grounding('"best" (+3.1). Emphasis: 2 exclamation marks', "Best day ever!!") == Citations(2, 2)
    miscounted = citation_grounding("Emphasis: 1 exclamation mark.", "Insanely hilarious! I laughed so hard!")
    assert (miscounted.cited, miscounted.grounded) == (1, 0)


def test_a_quote_longer_than_80_characters_is_read_whole() -> None:
    """The reader stopped at 80 characters where the decoder lets a quote run as long as the input: a 92-character
    quote went unread, and the text between it and the next quote was taken for a quote (cited 1, grounded 0)."""
    source = "The film drags in its second hour but the lead performance is so good that it carries everything, superb"
    long = "drags in its second hour but the lead performance is so good that it carries everything"
    chain = f'Text: Negative cues: "{long}" shows it; Positive cues: "superb".'
    cited = citation_grounding(chain, source)
    assert len(long) > 80 and (cited.cited, cited.grounded, cited.ungrounded) == (2, 2, ())


def test_a_cue_citation_begins_after_the_one_before_it() -> None:
    """`pitch high (+1.8 sd) and loudness loud (+2.1 sd)`: the second citation took in the first, matched
    nothing in the cue text, and the faithfulness probe left the cited cue in place."""
    from emoreason.metrics.grounding import citations_in

    chain = "Voice: pitch high (+1.8 sd) and loudness loud (+2.1 sd) suggest anger."
    assert [c.written for c in citations_in(chain)] == ["pitch high (+1.8 sd)", "loudness loud (+2.1 sd)"]
    cues = "Voice (relative to this speaker): pitch high (+1.8 sd, 280 Hz), loudness loud (+2.1 sd, -12 dBFS)."
    assert citation_grounding(chain, cues).grounded == 2
