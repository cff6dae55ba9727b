"""Faithfulness probes, evidence marks and valence consistency, on cases whose answer is known.

The predictor is a fake: it reads a text as the sum of a few word values, so which words a
prediction rests on is known exactly, and a chain citing the decisive word can be told from one
citing an irrelevant word."""

from __future__ import annotations

import math

import pytest

from emoreason.data import TaskInfo
from emoreason.metrics.evidence import cue_statements, direction_name, mark_evidence
from emoreason.metrics.faithfulness import (
    Judgment,
    ProbeInput,
    ProbeScores,
    build_probes,
    faithfulness_summary,
    probe_scores,
)
from emoreason.metrics.valence import (
    capitalised_cues,
    check_valences,
    cue_boosters,
    cue_omissions,
    cue_valence,
    lexicon_words,
    listed_cues,
    misrated_cues,
    negated_words,
    negation_before,
    negation_coverage,
    negation_supported,
    unnamed_cues,
    unrated_cues,
    vader_words,
    valence_check,
    valence_summary,
)

WORDS = {"good": 2.0, "great": 3.0, "bad": -2.0}
TEXT = "The food was good, and the room was quiet."


def predict(probe: ProbeInput) -> Judgment:
    """A fake model: the score is the sum of the values of the words it finds."""
    words = [w.strip(".,!?").lower() for w in probe.text.split()]
    score = sum(WORDS.get(w, 0.0) for w in words)
    polarity = "positive" if score > 0 else "negative" if score < 0 else "neutral"
    return Judgment(score=score, polarity=polarity)


def scores_of(completion: str, text: str = TEXT, seed: str = "0:a") -> tuple[ProbeScores, object]:
    probes = build_probes(mark_evidence(completion, text), text, seed=seed)
    assert probes is not None
    original = predict(ProbeInput(text))
    scores = probe_scores(
        original, predict(probes.without), predict(probes.only), predict(probes.random), True, probes.cited_tokens
    )
    return scores, probes


def test_a_chain_citing_the_decisive_word_is_comprehensive_and_sufficient() -> None:
    scores, probes = scores_of('Positive cues: "good" (+1.9).')
    # without "good," the fake reads 0 (was 2); "good," alone reads 2; removing one other word keeps 2
    assert probes.without.text == "The food was and the room was quiet."
    assert probes.only == ProbeInput("good,", "")
    assert probes.cited_tokens == 1 and probes.random_removed == 1
    assert "good," in probes.random.text and len(probes.random.text.split()) == 8
    assert scores == ProbeScores(2.0, 0.0, 0.0, True, False, False, 1)


def test_a_chain_citing_an_irrelevant_word_is_neither() -> None:
    scores, probes = scores_of('Positive cues: "room" (+1.9).')
    assert probes.without.text == "The food was good, and the was quiet."
    assert probes.only.text == "room"
    assert scores.comprehensiveness == 0.0 and scores.comprehensiveness_flip is False
    assert scores.sufficiency == 2.0 and scores.sufficiency_flip is True
    # the control removes one of the other 8 words: it moves the fake only if it drew "good,"
    assert scores.random_removal == (0.0 if "good," in probes.random.text else 2.0)


def test_summary_of_the_two_chains_by_hand() -> None:
    decisive, _ = scores_of('"good" (+1.9)')
    irrelevant = ProbeScores(0.0, 2.0, 0.0, False, True, False, 1)  # its control kept "good"
    summary = faithfulness_summary([decisive, irrelevant])
    assert summary["n_probed"] == 2 and summary["n_paired"] == 2
    assert summary["comprehensiveness"] == 1.0 and summary["comprehensiveness_flip_rate"] == 0.5
    assert summary["sufficiency"] == 1.0 and summary["sufficiency_flip_rate"] == 0.5
    assert summary["random_removal"] == 0.0 and summary["random_removal_flip_rate"] == 0.0
    assert summary["comprehensiveness_over_random"] == 1.0  # (2 - 0 + 0 - 0) / 2
    assert summary["cited_moves_more_rate"] == 0.5
    assert summary["mean_tokens_cited"] == 1.0
    assert decisive.rank_key == 2.0 and irrelevant.rank_key == -2.0  # the irrelevant one ranks least faithful
    assert math.isnan(faithfulness_summary([])["comprehensiveness"])


def test_undefined_changes_are_left_out_of_the_means() -> None:
    unparsed = probe_scores(Judgment(2.0, None, "positive"), Judgment(), Judgment(1.0), Judgment(2.0), True)
    assert unparsed.comprehensiveness is None and unparsed.comprehensiveness_flip is None
    assert unparsed.sufficiency == 1.0 and unparsed.sufficiency_flip is None
    summary = faithfulness_summary([unparsed, ProbeScores(1.0, 0.0, 0.5, True, False, False)])
    assert summary["comprehensiveness"] == 1.0 and summary["n_paired"] == 1
    assert summary["comprehensiveness_over_random"] == 0.5


def test_classification_change_is_label_change() -> None:
    a, b = Judgment(label="joy", polarity="positive"), Judgment(label="sad", polarity="negative")
    scores = probe_scores(a, b, a, Judgment(label="joy", polarity="neutral"), regression=False)
    assert (scores.comprehensiveness, scores.sufficiency, scores.random_removal) == (1.0, 0.0, 0.0)
    assert scores.random_flip is True


def test_random_control_never_removes_cited_words_and_is_seeded() -> None:
    text = "a b c d e f g h i j"
    evidence = mark_evidence('"c" (+1) and "d e" (+2)', text)
    draws = set()
    for seed in range(200):
        probes = build_probes(evidence, text, seed=seed)
        assert probes is not None and probes.cited_tokens == 3 and probes.random_removed == 3
        kept = probes.random.text.split()
        assert {"c", "d", "e"} <= set(kept) and len(kept) == 7
        draws.add(probes.random.text)
    assert len(draws) > 20  # it does vary with the seed
    assert build_probes(evidence, text, seed=5) == build_probes(evidence, text, seed=5)
    # fewer uncited words than cited ones: all uncited are removed
    short = build_probes(mark_evidence('"good" and "fine"', "good fine ok"), "good fine ok", seed=1)
    assert short is not None and short.random_removed == 1 and short.random.text == "good fine"


def test_probes_remove_cited_cue_items_from_the_cue_text() -> None:
    cues = "Voice: pitch low (-1.1 sd, 99 Hz), loudness quiet (-1.3 sd, -52 dBFS), rate fast (+1.0 sd, 5/s)."
    completion = "<step1>loudness quiet (-1.3 sd) says calm</step1>"
    evidence = mark_evidence(completion, "He said hi", cues)
    assert [cues[s.start : s.end] for s in evidence.spans] == ["loudness quiet (-1.3 sd, -52 dBFS)"]
    probes = build_probes(evidence, "He said hi", cues, seed=0)
    assert probes is not None and probes.cited_tokens == 6
    assert probes.without == ProbeInput("He said hi", "Voice: pitch low (-1.1 sd, 99 Hz), rate fast (+1.0 sd, 5/s).")
    assert probes.only == ProbeInput("", "loudness quiet (-1.3 sd, -52 dBFS),")


def test_nothing_to_probe_when_no_citation_is_in_the_input() -> None:
    evidence = mark_evidence('"thanks" (+1.9)', TEXT)
    assert evidence.spans == () and evidence.not_found == ('"thanks"',)
    assert build_probes(evidence, TEXT) is None


# --- evidence marks ---------------------------------------------------------------------------

LEXICON_CHAIN = (
    'Text: Positive cues: "bad" (-2.5), negated by "not" so it reads +1.8; "great" (+3.1), strengthened by '
    '"really". Negative cues: "dull" (-1.7). The contrast word "but" shifts the weight ("dull").'
)


def test_stated_valences_lists_and_modifiers() -> None:
    found = {(s.quote, s.stated, s.reads, s.listed, s.direction) for s in cue_statements(LEXICON_CHAIN)}
    assert found == {
        ("bad", -2.5, 1.8, 1, 1),
        ("not", None, None, None, None),
        ("great", 3.1, None, 1, 1),
        ("really", None, None, None, None),
        ("dull", -1.7, None, -1, -1),
        ("but", None, None, None, None),
        ("dull", None, None, None, None),
    }
    # a list gives direction where no number does; a full stop inside a quote ends nothing
    listed = cue_statements('Negative cues: "so. bad"; "awful". "meh"')
    assert [(s.quote, s.direction) for s in listed] == [("so. bad", -1), ("awful", -1), ("meh", None)]


def test_mark_evidence_spans_directions_and_missing() -> None:
    text = "Not bad at all, really GREAT but a little dull; badly lit."
    evidence = mark_evidence(LEXICON_CHAIN + ' "thanks" (+1.9)', text)
    marked = [(text[s.start : s.end], direction_name(s.direction)) for s in evidence.spans]
    assert marked == [
        ("Not", None),
        ("bad", "positive"),
        ("really", None),
        ("GREAT", "positive"),
        ("but", None),
        ("dull", "negative"),
    ]  # "bad" marks no part of "badly": a quote marks whole words only, where grounding finds it
    assert evidence.not_found == ('"thanks"',)
    record = evidence.to_dict(text)
    assert record["spans"][1] == {
        "field": "text",
        "start": 4,
        "end": 7,
        "text": "bad",
        "citation": '"bad"',
        "direction": "positive",
    }


def test_a_quote_marks_whole_words_only() -> None:
    """ "no" marks the input's "no", never "know", "nothing" or "anonymous" inside other words."""
    text = "I know nothing about anonymous people, no way. I hate whatever."
    evidence = mark_evidence('Negative cues: "no" (-1.2); "hate" (-2.7).', text)
    assert [text[s.start : s.end] for s in evidence.spans] == ["no", "hate"]
    assert [s.start for s in evidence.spans] == [text.index(" no ") + 1, text.index("hate")]


# --- valence consistency ----------------------------------------------------------------------

LEXICON = {"bad": -2.5, "great": 3.1, "dull": -1.7, "loved": 2.9}


def test_the_shipped_default_answer_is_grounded_but_contradicts_the_lexicon() -> None:
    check = valence_check('<think>Text: Positive cues: "bad" (+1.9).</think>', "positive", LEXICON)
    assert check.judgment_agrees is True and (check.listed, check.listed_agree) == (1, 1)
    assert (check.in_lexicon, check.lexicon_sign_agree, check.lexicon_exact) == (1, 0, 0)


def test_valence_checks_by_hand() -> None:
    teacher = valence_check(LEXICON_CHAIN, "positive", LEXICON)  # +1.8 + 3.1 - 1.7 = +3.2
    assert teacher.judgment_agrees is True and (teacher.listed, teacher.listed_agree) == (3, 3)
    assert (teacher.in_lexicon, teacher.lexicon_sign_agree, teacher.lexicon_exact) == (3, 3, 3)
    contradicts = valence_check('Negative cues: "loved" (+2.9); "dull" (-1.0).', "negative", LEXICON)
    assert contradicts.judgment_agrees is False  # +1.9 for a negative judgment
    assert (contradicts.listed, contradicts.listed_agree) == (2, 1)
    assert (contradicts.lexicon_sign_agree, contradicts.lexicon_exact) == (2, 1)
    assert check_valences(cue_statements('"bad" (-2.5)'), "neutral", LEXICON).judgment_agrees is None
    summary = valence_summary([teacher, contradicts, valence_check("no cues", "positive", LEXICON)])
    assert summary["valence_judgment_agreement"] == 0.5 and summary["n_valence_judgments"] == 2
    assert summary["valence_list_agreement"] == 4 / 5 and summary["n_valence_listed"] == 5
    assert summary["valence_lexicon_sign_agreement"] == 1.0 and summary["n_valence_lexicon"] == 5
    assert summary["valence_lexicon_exact"] == 4 / 5
    assert math.isnan(summary["valence_lexicon_within_spread"])  # no rater spreads given: not checked
    # within the raters' spread: "loved" +2.9 exactly; "dull" -1.0 is 0.7 from -1.7, outside 0.3 and inside 0.7
    spread = {"loved": 0.7, "dull": 0.3}
    tight = valence_check('Negative cues: "loved" (+2.9); "dull" (-1.0).', "negative", LEXICON, spread=spread)
    loose = valence_check('"dull" (-1.0); "bad" (-2.6); "great" (+2.0)', "negative", LEXICON, spread={"dull": 0.7})
    assert (tight.in_lexicon, tight.lexicon_within_spread) == (2, 1)
    assert (loose.in_lexicon, loose.lexicon_within_spread) == (3, 1)  # bad and great: no spread, one decimal
    assert valence_summary([tight, loose, teacher])["valence_lexicon_within_spread"] == 2 / 5  # teacher unchecked
    # list items the lexicon rates: the teacher's three; "how" and the phrase "so dull" are the model's own
    own = valence_check('Negative cues: "how" (-1.7); "dull" (-1.7); "so dull" (-2.0).', "negative", LEXICON)
    assert (teacher.listed_rated, own.listed, own.listed_rated) == (3, 3, 1)
    assert valence_summary([teacher, own])["valence_listed_rated"] == 4 / 6
    assert valence_check(LEXICON_CHAIN, "positive", None).listed_rated == 0  # no lexicon: not checked


def test_cue_recall_counts_the_input_words_the_lexicon_rates() -> None:
    source = "Not bad, really great, but DULL... and the bad ending."  # bad twice, DULL as written
    assert lexicon_words(source, LEXICON) == ["bad", "great", "dull"]
    # LEXICON_CHAIN states numbers for all three; "really" and "but" are quoted without one
    teacher = valence_check(LEXICON_CHAIN, "positive", LEXICON, source)
    assert (teacher.cue_words, teacher.cue_words_named) == (3, 3)
    one = valence_check('Positive cues: "great" (+3.1).', "positive", LEXICON, source)
    assert (one.cue_words, one.cue_words_named) == (3, 1)
    # a quoted word that is not in this input, and a quote with no number, name nothing
    off = valence_check('Positive cues: "loved" (+2.9). The word "bad" is there.', "positive", LEXICON, source)
    assert (off.cue_words, off.cue_words_named) == (3, 0)
    assert valence_check(LEXICON_CHAIN, "positive", LEXICON).cue_words == 0  # no input: not checked
    assert valence_check(LEXICON_CHAIN, "positive", None, source).cue_words == 0  # no lexicon: not checked
    nothing = valence_check("no cues", "neutral", LEXICON, "An ordinary hotel.")
    summary = valence_summary([teacher, one, off, nothing])
    assert summary["valence_cue_recall"] == 4 / 9 and summary["n_valence_cue_words"] == 9
    assert math.isnan(valence_summary([nothing])["valence_cue_recall"])


def test_a_cue_is_a_rated_word_that_is_no_booster_or_negation() -> None:
    # VADER's own lexicon rates none of its boosters or negations; a lexicon that did must not make
    # them cues: they modify the word after them (the teacher's rule, `distill.lexicon`)
    lexicon = {**LEXICON, "very": 1.0, "not": -1.0}
    assert cue_valence("GREAT", lexicon) == 3.1 and cue_valence("Dull", lexicon) == -1.7
    assert cue_valence("very", lexicon) is None and cue_valence("NOT", lexicon) is None
    assert cue_valence("table", lexicon) is None and cue_valence("really great", lexicon) is None
    words = vader_words("VERY GREAT, NOT DULL!! I loved it A lot :)")
    assert capitalised_cues(words, lexicon) == ["GREAT", "DULL"]  # not VERY, NOT or the one-letter "I", "A"


def test_listed_cues_are_the_teachers_lists_by_sign_after_negation() -> None:
    source = "Not bad, really great, but DULL... and the bad ending."
    # "Not" negates the three words after it: the first "bad" (-0.74 x -2.5 > 0) and "great" (-0.74 x 3.1),
    # not the second "bad"; "really" is a booster, no cue
    assert listed_cues(source, LEXICON) == {"positive": {"bad": 1}, "negative": {"great": 1, "dull": 1, "bad": 1}}
    assert listed_cues("Not very good at all", {"good": 1.9}) == {"positive": {}, "negative": {"good": 1}}
    assert listed_cues("An ordinary hotel.", LEXICON) == {"positive": {}, "negative": {}}
    # the teacher's own lists, on real sentences, are these words by these signs
    from emoreason.distill.lexicon import analyse_text
    from emoreason.metrics.valence import vader_lexicon

    text = "It's not good, though the acting was superb :)"
    by_sign = {"positive": [], "negative": []}
    for cue in analyse_text(text).words:
        by_sign["positive" if cue.effective > 0 else "negative"].append(cue.word.lower())
    assert {k: sorted(v.elements()) for k, v in listed_cues(text, vader_lexicon()).items()} == {
        k: sorted(v) for k, v in by_sign.items()
    }
    assert by_sign == {"positive": ["superb", ":)"], "negative": ["good"]}


def test_cue_boosters_are_the_teachers_strengthened_by() -> None:
    from emoreason.distill.lexicon import analyse_text

    assert cue_boosters("A very good day, really very good") == {"good": {"very"}, "very": {"really"}}
    assert cue_boosters("A good day.") == {} and cue_boosters("good, very") == {}  # the booster comes before
    text = "It was extremely bad but so incredibly funny, barely sad."
    named = {c.word.lower(): c.intensified_by.lower() for c in analyse_text(text).words if c.intensified_by}
    assert named == {"bad": "extremely", "funny": "incredibly", "sad": "barely"}
    assert {w: b for w, b in cue_boosters(text).items() if w in named} == {w: {b} for w, b in named.items()}


def test_unnamed_cues_are_the_rated_words_the_chain_gives_no_valence() -> None:
    source = "Not bad, really great, but DULL... and the bad ending."
    assert unnamed_cues(cue_statements('Positive cues: "great" (+3.1).'), source, LEXICON) == [
        {"word": "bad", "valence": -2.5},
        {"word": "dull", "valence": -1.7},
    ]
    # quoted without a number: still not weighed; a chain that weighs no word at all gets no list
    words = [c["word"] for c in unnamed_cues(cue_statements('Cues: "bad" (-2.5). "dull" decides it.'), source, LEXICON)]
    assert words == ["great", "dull"]
    assert unnamed_cues(cue_statements('The word "dull" decides it.'), source, LEXICON) == []
    assert unnamed_cues(cue_statements(LEXICON_CHAIN), source, LEXICON) == []
    # VADER's own lexicon by default: the shipped default's answer to a movie review
    review = "It's super  violent, super serious and super stupid."
    left = unnamed_cues(cue_statements('Positive cues: "super" (+2.7).'), review)
    assert [c["word"] for c in left] == ["violent", "serious", "stupid"] and left[0]["valence"] < 0


def test_misrated_cues_are_numbers_outside_the_raters_spread() -> None:
    spread = {"bad": 0.67, "great": 0.5, "dull": 0.3}
    chain = (
        'Positive cues: "great" (+2.7); "bad" (+1.9). Negative cues: "dull" (-1.3); "bad" (-2.5), '
        'negated by "not" so it reads +1.9; "loved" (+1.0); "so dull" (-3.0).'
    )
    # great: 0.4 from 3.1, inside 0.5; bad: 4.4 from -2.5, listed once (its first statement); dull:
    # exactly 0.4 from -1.7, outside 0.3; loved has no spread: held to one decimal; a phrase is no word
    assert misrated_cues(cue_statements(chain), LEXICON, spread) == [
        {"word": "bad", "stated": 1.9, "valence": -2.5, "spread": 0.67},
        {"word": "dull", "stated": -1.3, "valence": -1.7, "spread": 0.3},
        {"word": "loved", "stated": 1.0, "valence": 2.9, "spread": 0.05},
    ]
    assert misrated_cues(cue_statements('"great" (+3.6), "dull" (-1.4)'), LEXICON, spread) == []  # on the edges: inside
    assert misrated_cues(cue_statements('"dull" decides it.'), LEXICON, spread) == []  # no number stated
    # VADER's lexicon and its raters by default: the shipped default's "okay" (+1.9) and "died" (-1.2)
    chain = 'Positive cues: "okay" (+1.9); "loved" (+2.7). Negative cues: "died" (-1.2).'
    shipped = misrated_cues(cue_statements(chain))
    assert [(c["word"], c["valence"], c["spread"]) for c in shipped] == [("okay", 0.9, 0.54), ("died", -2.6, 1.28)]


def test_unrated_cues_are_the_numbers_for_words_the_lexicon_does_not_rate() -> None:
    chain = (
        'Negative cues: "how" (-1.7); "dull" (-1.3); "HOW" (-1.0); "so  dull" (-2.0), negated by "not" '
        'so it reads +1.5. The word "plot" decides it.'
    )
    # once each, in the chain's order, lower case; "dull" is rated; "plot" states no number
    assert unrated_cues(cue_statements(chain), LEXICON) == [
        {"word": "how", "stated": -1.7},
        {"word": "so dull", "stated": -2.0},
    ]
    assert unrated_cues(cue_statements('Positive cues: "great" (+3.1).'), LEXICON) == []
    # VADER's by default: make run's fourth example names the negation "not" as a cue
    assert unrated_cues(cue_statements('Negative cues: "not" (-1.2); "bad" (-2.5).')) == [
        {"word": "not", "stated": -1.2}
    ]


def test_cue_omissions_count_the_rated_words_chains_leave_out_over_answers() -> None:
    sources = ["Not bad, really great.", "A great, dull film.", "Dull and bad.", "Great."]
    completions = [
        'Positive cues: "great" (+3.1).',  # leaves out "bad"
        'Positive cues: "great" (+3.1). Negative cues: "dull" (-1.7).',  # leaves out nothing
        'Negative cues: "bad" (-2.5).',  # leaves out "dull"
        "It is positive.",  # weighs no word: not counted, though "great" stands in its input
    ]
    rows = cue_omissions(completions, sources, LEXICON)
    # "bad": in 2 counted inputs, left out once; "dull": in 2, left out once; "great" is never left out
    assert [(r.word, r.valence, r.left_out, r.seen) for r in rows] == [("bad", -2.5, 1, 2), ("dull", -1.7, 1, 2)]
    assert rows[0].share == 0.5
    # most often left out first
    rows = cue_omissions(completions + ['Positive cues: "great" (+3.1).'], sources + ["Dull, great."], LEXICON)
    assert rows[0].word == "dull" and (rows[0].left_out, rows[0].seen) == (2, 3)


def test_the_lexicon_teachers_chains_account_for_every_rated_word() -> None:
    """The reference the metric measures against is the teacher's own: on real sentences its chain
    states a number for every word of the input the VADER lexicon rates."""
    from emoreason.data.schema import vader_task
    from emoreason.distill.lexicon import analyse_text, render_chain
    from emoreason.metrics.valence import vader_lexicon

    task = vader_task("movies")
    for text, rated in (
        ("It's super  violent, super serious and super stupid.", 4),
        ("Not bad at all, though the sequel felt a little rushed.", 1),
        ("I absolutely loved this film, the acting was superb :)", 3),
    ):
        analysis = analyse_text(text)
        score = analysis.score(task)
        chain = "\n".join(render_chain(analysis, task, task.score_polarity(score), score).values())
        check = valence_check(chain, None, vader_lexicon(), text)
        assert (check.cue_words, check.cue_words_named) == (rated, rated), (text, chain)


def test_the_named_negation_is_read_with_its_cue() -> None:
    named = [(s.quote, s.negated_by) for s in cue_statements(LEXICON_CHAIN) if s.stated is not None]
    assert named == [("bad", "not"), ("great", None), ("dull", None)]
    # the negation named in curly marks is read as in straight ones
    curly = cue_statements('Positive cues: "bad" (-2.5), negated by \u201cnot\u201d so it reads +1.8.')
    assert [(s.quote, s.negated_by) for s in curly if s.stated is not None] == [("bad", "not")]


NEGATED_DIED = 'Negative cues: "died" (-1.4), negated by "never" so it reads +1.0.'
NEGATED_BAD = 'Positive cues: "bad" (-2.5), negated by "Not" so it reads +1.8.'


@pytest.mark.parametrize(
    ("chain", "source", "supported"),
    [
        (NEGATED_BAD, "Not bad at all, though the sequel felt a little rushed.", 1),
        # the quoted negation is in the input, but after the cue: it negates "answered"
        (NEGATED_DIED, "The battery died after two days and customer service never answered my emails.", 0),
        (NEGATED_BAD, "The hotel was bad.", 0),  # no "not" at all
        (NEGATED_BAD, "Not the hotel, the staff: bad.", 0),  # four words back: outside VADER's window
        (NEGATED_BAD, "Not the hotel's bad.", 1),  # three words back: inside
        (NEGATED_BAD, "not so bad, not bad!", 1),  # some occurrence of the cue is negated
        (NEGATED_BAD.replace('"Not"', '"was"'), "The hotel was bad.", 0),  # "was" negates nothing
    ],
)
def test_a_named_negation_must_stand_just_before_its_cue(chain: str, source: str, supported: int) -> None:
    check = valence_check(chain, "positive", LEXICON, source)
    assert (check.negations, check.negations_supported) == (1, supported)


def test_negation_support_needs_the_input_and_single_words() -> None:
    assert valence_check(NEGATED_BAD, "positive", LEXICON).negations == 0  # no input given: not checked
    words = vader_words("we did not really like it".lower())
    assert negation_supported("like", "not", words) and not negation_supported("like", "did", words[:1])
    assert not negation_supported("really like", "not", words)  # a phrase cue: the teacher has none
    checks = [valence_check(NEGATED_BAD, "positive", LEXICON, text) for text in ("not bad", "bad", "bad, not")]
    summary = valence_summary([*checks, valence_check("no cues", "positive", LEXICON, "text")])
    assert summary["valence_negation_support"] == 1 / 3 and summary["n_valence_negations"] == 3
    assert math.isnan(valence_summary([checks[0].__class__()])["valence_negation_support"])


@pytest.mark.parametrize(
    ("chain", "source", "negatable", "named"),
    [
        # the shipped default's answer: right polarity, the negation left unsaid
        ('Positive cues: "bad" (-2.5).', "The hotel was not bad at all.", 1, 0),
        (NEGATED_BAD, "The hotel was not bad at all.", 1, 1),
        ('Negative cues: "bad" (-2.5).', "The hotel was bad.", 0, 0),  # nothing negated
        ('Positive cues: "good" (+1.9).', "It isn't really that good.", 1, 0),  # n't, three words back
        ('Positive cues: "good" (+1.9).', "Not the food or the view: good.", 0, 0),  # "Not" is six words back
        ('Positive cues: "bad" (-2.5), "good" (+1.9).', "not bad, the view is good", 1, 0),  # "good" is not negated
    ],
)
def test_negation_recall_counts_the_negations_a_chain_leaves_unsaid(chain, source, negatable, named) -> None:
    check = valence_check(chain, "positive", LEXICON, source)
    assert (check.negatable, check.negatable_named) == (negatable, named)


def test_negation_before_is_the_teachers_rule() -> None:
    lowered = vader_words("i don't think it was good at all".lower())
    assert negation_before(lowered, lowered.index("good")) is None  # "don't" is four words back
    assert negation_before(lowered, lowered.index("it")) == 1
    assert negated_words("We were never bored, never.") == {"bored"}
    summary = valence_summary([valence_check('"bad" (-2.5).', "positive", LEXICON, "not bad") for _ in range(2)])
    assert summary["valence_negation_recall"] == 0.0 and summary["n_valence_negatable"] == 2


@pytest.mark.parametrize(
    "sentence",
    [
        "The hotel was not bad at all.",
        "I really loved it, but the ending was dull and boring!",
        "Great cast, awful script.",
    ],
)
def test_lexicon_teacher_chains_are_consistent_with_the_lexicon(sentence: str) -> None:
    from emoreason.distill.lexicon import analyse_text, render_chain
    from emoreason.metrics.valence import vader_lexicon

    task = TaskInfo("vader", scale=(-4.0, 4.0))
    analysis = analyse_text(sentence)
    score = analysis.score(task)
    polarity = task.score_polarity(score)
    chain = " ".join(render_chain(analysis, task, polarity, score).values())
    check = valence_check(chain, polarity, vader_lexicon(), sentence)
    assert check.in_lexicon == len(analysis.words) > 0
    assert check.negations == check.negations_supported == sum(bool(w.negated_by) for w in analysis.words)
    assert check.negatable == check.negatable_named == check.negations
    assert check.lexicon_sign_agree == check.lexicon_exact == check.in_lexicon
    assert check.listed == check.listed_agree == len(analysis.words)
    assert not mark_evidence(chain, sentence).not_found


# --- evaluate --faithfulness ------------------------------------------------------------------


class WordSumEngine:
    """A scripted model that scores a text as `predict` does and cites, by rule: "room" when the
    text has it (an irrelevant word), "thanks" when the text starts "It was" (a word not in it),
    else its first sentiment word. Counts the prompts it answers."""

    def __init__(self) -> None:
        self.prompts = 0

    def generate(self, conversations, params, progress=None):
        from emoreason.generation import Completion

        out = []
        for conversation in conversations:
            self.prompts += 1
            content = conversation.messages[-1]["content"]
            text = content.split("Text: ", 1)[1].split("\n\n")[0] if "Text: " in content else ""
            judged = predict(ProbeInput(text))
            words = [w.strip(".,!?").lower() for w in text.split()]
            cited = next((w for w in words if w in WORDS), None)
            if "room" in words:
                cited = "room"
            elif text.startswith("It was"):
                cited = "thanks"
            think = f'Text: Positive cues: "{cited}" (+1.0).' if cited else "Text: nothing."
            answer = f"<polarity>{judged.polarity}</polarity><think>{think}</think><score>{judged.score}</score>"
            out.append([Completion(text=answer, token_ids=[1], logprobs=[0.0], finish_reason="stop")])
        return out


def test_evaluate_faithfulness_reports_and_resumes(tmp_path) -> None:
    import json

    from emoreason.data import load_dataset
    from emoreason.eval.runner import evaluate_model, remove_run_files
    from emoreason.generation import SamplingParams

    texts = [TEXT, "A great day.", "Nothing here.", "It was good."]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": f"s{i}", "text": t, "score": 1.0}) + "\n" for i, t in enumerate(texts)))
    dataset = load_dataset(f"jsonl:{data}?scale=-4,4")
    samples = dataset.split("test")
    out, engine = tmp_path / "eval", WordSumEngine()

    def run(seed: int = 0) -> dict:
        params = SamplingParams(max_new_tokens=64, stop_strings=("</score>",))
        return evaluate_model(engine, dataset, samples, out, "m", "c2f", params, 4, [], faithfulness=True, seed=seed)

    metrics = run()
    assert engine.prompts == 4 + 2 * 3  # the answers, then three probes of the two probed answers
    faith = metrics["faithfulness"]
    assert (faith["n_answers"], faith["n_citing"], faith["n_not_in_input"], faith["n_probed"]) == (4, 3, 1, 2)
    # s0 cites "room": removing it moves nothing, it alone reads 0 (was 2); s1 cites "great" (3)
    assert faith["comprehensiveness"] == (0.0 + 3.0) / 2 and faith["sufficiency"] == (2.0 + 0.0) / 2
    assert faith["change_unit"] == "score, task scale"
    assert len((out / "faithfulness.jsonl").read_text().splitlines()) == 2
    report = (out / "report.md").read_text()
    assert "## Faithfulness" in report and "Least faithful answers" in report and "**room**(+)" in report
    # "good" stands in s0 and s3, whose chains weigh "room" and "thanks" but not it; s2 weighs no word
    assert "| good | +1.9 | 2 | 2 | 1.00 |" in report and "| great | +3.1 |" not in report
    page = (out / "report.html").read_text()
    assert "<mark class='positive' title='&quot;great&quot;'>great</mark>" in page
    assert "<span class='not-found'>&quot;thanks&quot;</span>" in page
    assert (out / "faithfulness.png").stat().st_size > 5_000
    assert json.loads((out / "metrics.json").read_text())["faithfulness"]["n_probed"] == 2

    engine.prompts = 0
    assert run()["faithfulness"] == faith and engine.prompts == 0  # nothing asked again
    assert run(seed=1)["faithfulness"]["n_probed"] == 2 and engine.prompts == 6  # another control: asked again
    # a rerun without the probes drops their section, and their plot with it (it sat beside the report before)
    same = SamplingParams(max_new_tokens=64, stop_strings=("</score>",))
    evaluate_model(engine, dataset, samples, out, "m", "c2f", same, 4, [])
    assert "## Faithfulness" not in (out / "report.md").read_text() and not (out / "faithfulness.png").exists()
    assert "faithfulness.jsonl" in remove_run_files(out)


def test_analyze_view_marks_the_evidence_by_direction(capsys) -> None:
    from emoreason.cli.ui import evidence_text, show_record
    from emoreason.data import Sample
    from emoreason.inference import citation_record

    sample = Sample(id="x", text="The hotel was not bad at all, but the pool was dirty.")
    chain = '<think>Positive cues: "bad" (+1.9). Negative cues: "dirty" (-1.9); "thanks" (-2.0).</think>'
    line = evidence_text(sample.text, mark_evidence(chain, sample.text).in_field("text"), "evidence: ")
    assert {line.plain[s.start : s.end]: str(s.style) for s in line.spans} == {
        "evidence: ": "dim",
        "bad": "bold green",
        "dirty": "bold red",
    }
    record = {
        "id": "x",
        "polarity": "positive",
        "score": 1.2,
        "label": None,
        "reasoning": {"think": chain},
        "parse_ok": True,
        "errors": [],
        "raw_completion": chain,
        "completion_tokens": 9,
        "latency_s": 0.1,
        "model": "m",
        "citations": citation_record(chain, sample.text),
    }
    assert record["citations"]["not_found"] == ['"thanks"'] and len(record["citations"]["spans"]) == 2
    show_record(sample, record)
    shown = " ".join(capsys.readouterr().out.split())
    assert "evidence: The hotel was not bad at all, but the pool was dirty." in shown
    assert 'cited but not in the input (1 of 3): "thanks"' in shown


def test_evaluate_command_takes_faithfulness(tiny_models, tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from emoreason.cli import app

    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(json.dumps({"id": f"s{i}", "text": t, "score": 1.0}) + "\n" for i, t in enumerate(["a", "b"]))
    )
    out = tmp_path / "eval"
    args = ["evaluate", "--model", str(tiny_models["causal_lm"]), "--dataset", f"jsonl:{data}?scale=-4,4"]
    result = CliRunner().invoke(
        app, [*args, "--out", str(out), "--max-new-tokens", "4", "--baselines", "none", "--faithfulness"]
    )
    assert result.exit_code == 0, result.output
    faith = json.loads((out / "metrics.json").read_text())["faithfulness"]  # strict JSON: NaN is null
    assert faith["n_probed"] == 0 and faith["comprehensiveness"] is None
    assert "faithfulness probes" in result.output


def test_negation_notes_say_per_answer_which_negations_stand_in_the_input() -> None:
    from emoreason.metrics.valence import NegationNote, negation_notes

    source = "The battery died after two days and customer service never answered. Not bad otherwise."
    chain = (
        'Negative cues: "died" (-1.4), negated by "never" so it reads +1.0. '
        'Positive cues: "bad" (-2.5), negated by "not" so it reads +1.8.'
    )
    assert negation_notes(cue_statements(chain), source) == [
        NegationNote("died", "never", named=True, in_input=False),  # "never" negates "answered"
        NegationNote("bad", "not", named=True, in_input=True),
    ]
    # the shipped default's answer to "The hotel was not bad at all.": the input's "not" left out
    unnamed = negation_notes(cue_statements('Positive cues: "bad" (+1.9).'), "The hotel was not bad at all.")
    assert unnamed == [NegationNote("bad", "not", named=False, in_input=True)]
    assert unnamed[0].to_dict() == {"cue": "bad", "negator": "not", "named": False, "in_input": True}
    assert negation_notes(cue_statements('Positive cues: "great" (+3.1).'), "A great film.") == []


def test_the_record_and_the_terminal_view_carry_the_negation_notes(capsys) -> None:
    from emoreason.api.explainer import Explanation
    from emoreason.cli.ui import show_record
    from emoreason.data.schema import Sample, resolve_task
    from emoreason.formats import get_format
    from emoreason.generation import Completion
    from emoreason.inference import audit_record

    sample = Sample(id="h", text="The hotel was not bad at all.")
    text = '<polarity>positive</polarity>\n<think>Text: Positive cues: "bad" (+1.9).</think>\n<score>1.9</score>'
    record = audit_record(
        sample, Completion(text, [1], [0.0], "stop"), get_format("c2f"), resolve_task("vader"), "m", 0.1
    )
    assert record["negations"] == [{"cue": "bad", "negator": "not", "named": False, "in_input": True}]
    assert "unnamed_cues" not in record  # "bad" is the input's one lexicon word, and the chain weighs it
    show_record(sample, record)
    shown = " ".join(capsys.readouterr().out.replace("│", " ").split())  # the panel may wrap the line
    assert 'negation: the input has "not" just before "bad"; the chain does not say so' in shown
    assert record["misrated_cues"] == [{"word": "bad", "stated": 1.9, "valence": -2.5, "spread": 0.67}]
    assert Explanation.from_record(record).to_dict()["misrated_cues"] == record["misrated_cues"]
    assert "rated by the chain outside its VADER raters' spread: \"bad\" +1.9 (VADER -2.5, raters' sd 0.67)" in shown
    review = Sample(id="r", text="It's super violent and super stupid.")
    one_cue = text.replace('"bad" (+1.9)', '"super" (+2.9)')
    record = audit_record(
        review, Completion(one_cue, [1], [0.0], "stop"), get_format("c2f"), resolve_task("vader"), "m", 0.1
    )
    assert [c["word"] for c in record["unnamed_cues"]] == ["violent", "stupid"]
    assert Explanation.from_record(record).to_dict()["unnamed_cues"] == record["unnamed_cues"]
    show_record(review, record)
    shown = " ".join(capsys.readouterr().out.replace("│", " ").split())  # the panel may wrap the line
    assert 'not weighed by the chain: "violent" (-2.9), "stupid" (-2.4)' in shown
    assert "unrated_cues" not in record  # "super" is VADER's
    own = audit_record(
        review,
        Completion(text.replace('"bad" (+1.9)', '"super" (+2.9); "how" (-1.7)'), [1], [0.0], "stop"),
        get_format("c2f"),
        resolve_task("vader"),
        "m",
        0.1,
    )
    assert own["unrated_cues"] == [{"word": "how", "stated": -1.7}]
    assert Explanation.from_record(own).to_dict()["unrated_cues"] == own["unrated_cues"]
    show_record(review, own)
    shown = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert 'given a number by the chain, not rated by the VADER lexicon: "how" -1.7' in shown
    plain = audit_record(
        Sample(id="g", text="A great film."),
        Completion(text.replace('"bad" (+1.9)', '"great" (+3.1)'), [1], [0.0], "stop"),
        get_format("c2f"),
        resolve_task("vader"),
        "m",
        0.1,
    )
    assert not {"negations", "misrated_cues", "unrated_cues"} & set(plain)  # nothing to account for: absent


@pytest.mark.parametrize(
    ("chain", "source", "counts"),
    [
        # the shipped default's answer: "bad" is negated in the input, the chain leaves it unsaid
        ('Positive cues: "bad" (-2.5).', "The hotel was not bad at all.", (1, 0, 0)),
        (NEGATED_BAD, "The hotel was not bad at all.", (1, 1, 0)),
        # the same true negation named twice is one word covered; a false one counts each time
        (NEGATED_BAD + ' "bad" (-2.5), negated by "not".', "The hotel was not bad at all.", (1, 1, 0)),
        (NEGATED_BAD + ' "hotel" (+1.0), negated by "was".', "The hotel was not bad at all.", (1, 1, 1)),
        # the cue need not be stated to be due: the input negates "dull"
        ('Positive cues: "great" (+3.1).', "A great film, never dull.", (1, 0, 0)),
        # "hotel" is negated by VADER's rule but not in the lexicon: nothing is due
        ("Neutral.", "It was not the hotel.", (0, 0, 0)),
        # a true negation of a word the lexicon lacks still counts as covered
        ('"hotel" (-0.5), negated by "not".', "It was not the hotel.", (1, 1, 0)),
        # a named negation of a word nothing negates is false
        ('Negative cues: "bad" (-2.5), negated by "hotel".', "The hotel was bad.", (0, 0, 1)),
    ],
)
def test_negation_coverage_judges_the_named_negations_against_the_input(chain, source, counts) -> None:
    coverage = negation_coverage(cue_statements(chain), source, LEXICON)
    assert (coverage.expected, coverage.named_true, coverage.named_false) == counts


def test_faithfulness_compares_the_written_score_with_the_probes_written_scores(tmp_path) -> None:
    """The original answer's score was the record's readout (confidence: 2.41) and the probes' the scores their
    chains wrote (3.0): a model that answered every probe exactly as before showed 0.59 of change."""
    from emoreason.data.schema import Sample, vader_task
    from emoreason.eval.faithfulness import run_faithfulness
    from emoreason.generation import Completion, SamplingParams

    answer = '<polarity>positive</polarity><think>Text: Positive cues: "great" (+3.1).</think><score>3.0</score>'

    class Same:
        def generate(self, conversations, params, progress=None):  # type: ignore[no-untyped-def]
            return [[Completion(answer, [1], [0.0], "stop")] for _ in conversations]

    sample = Sample(id="a", text="A great day at the lake.", score=2.0)
    record = {"id": "a", "polarity": "positive", "score": 2.412, "written_score": 3.0, "raw_completion": answer}
    result = run_faithfulness(
        Same(), [sample], {"a": record}, vader_task("tweets"), "c2f", SamplingParams(), 4, tmp_path
    )
    figures = result.summary
    assert figures["n_probed"] == 1
    assert (figures["comprehensiveness"], figures["sufficiency"], figures["random_removal"]) == (0.0, 0.0, 0.0)


def test_the_least_faithful_table_shows_a_probe_of_the_cue_text() -> None:
    """A clip's citations are in its cue text: every probe's cell showed the unchanged sentence (and "only"
    showed "(empty)"), never the cue deletions that were asked."""
    from emoreason.data.schema import Sample
    from emoreason.eval.evidence_report import _probe_shown
    from emoreason.metrics.faithfulness import ProbeInput

    clip = Sample(id="c", text="Kids are talking", cues="Voice: pitch high (+1.8 sd), loudness loud (+2.1 sd).")
    without = ProbeInput("Kids are talking", "Voice: loudness loud (+2.1 sd).")
    assert _probe_shown(without, clip) == "Kids are talking [cues: Voice: loudness loud (+2.1 sd).]"
    assert _probe_shown(ProbeInput("Kids are talking", clip.cues or ""), clip) == "Kids are talking"
    assert _probe_shown(ProbeInput("", ""), Sample(id="t", text="fine")) == "(empty)"


def test_the_markdown_view_keeps_the_texts_own_joins_around_a_mark() -> None:
    """Each piece was stripped and joined with a space: `good.` read `**good**(+) .`."""
    from emoreason.eval.evidence_report import marked_md
    from emoreason.metrics.evidence import EvidenceSpan

    text = "It was good. Not (bad) at  all"
    spans = [
        EvidenceSpan(field="text", start=7, end=11, citation="good", direction=1),
        EvidenceSpan(field="text", start=18, end=21, citation="bad", direction=-1),
    ]
    assert marked_md(text, spans) == "It was **good**(+). Not (**bad**(-)) at all"


def test_the_terminal_view_of_a_label_without_polarity_shows_the_label_alone(capsys) -> None:
    """A clip's answer on labels of one's own without a polarity showed as `? label angry`."""
    from emoreason.cli.ui import show_record
    from emoreason.data.schema import Sample, resolve_task
    from emoreason.formats import get_format
    from emoreason.generation import Completion
    from emoreason.inference import audit_record

    task = resolve_task(labels=("spiky", "mellow"))  # words no emotion lexicon gives a polarity
    text = "<step1>loud</step1><step2>x</step2><step3>y</step3>\\boxed{spiky}"
    record = audit_record(
        Sample(id="c", text=""), Completion(text, [1], [0.0], "stop"), get_format("emor3"), task, "m", 0.1
    )
    assert record["polarity"] is None and record["label"] == "spiky"
    show_record(Sample(id="c", text=""), record)
    shown = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "label spiky" in shown and "?" not in shown.split("label spiky")[0]


def test_the_terminal_view_of_a_clip_without_text_names_its_file(capsys) -> None:
    """A clip analysed alone showed `input1:` and nothing in its title: the sample the model was asked holds
    its cue text, not the file. The title names the file of the sample as given."""
    from emoreason.cli.ui import show_record
    from emoreason.data.schema import Sample, resolve_task
    from emoreason.formats import get_format
    from emoreason.generation import Completion
    from emoreason.inference import audit_record

    task = resolve_task(labels=("spiky", "mellow"))
    text = "<step1>loud</step1><step2>x</step2><step3>y</step3>\\boxed{spiky}"
    asked = Sample(id="input1", text="", cues="Voice: pitch high.")
    record = audit_record(asked, Completion(text, [1], [0.0], "stop"), get_format("emor3"), task, "m", 0.1)
    show_record(asked, record, Sample(id="input1", text="", audio="/clips/take 3.wav"))
    title = capsys.readouterr().out.splitlines()[0]
    assert "input1: audio take 3.wav" in title
