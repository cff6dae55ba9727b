"""Reasoning formats: prompts, gold targets, and parsers that never raise."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emoreason.data.schema import MOSI_TASK, POLARITIES, SIMS_TASK, Sample, TaskInfo, mikels_task, vader_task
from emoreason.formats import (
    FORMATS,
    C2FFormat,
    EmoR3Format,
    ParseResult,
    R1Format,
    ReasoningFormat,
    answer_start,
    effective_mode,
    format_for,
    format_number,
    get_format,
    parse_number,
    parse_polarity,
)

TWEETS = vader_task("tweets")
MIKELS = mikels_task()
C2F = C2FFormat()
EMOR3 = EmoR3Format()
R1 = R1Format()
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parts(result: ParseResult) -> set[str]:
    return {e.part for e in result.errors}


def messages(result: ParseResult) -> str:
    return " | ".join(str(e) for e in result.errors)


def no_internal_failure(result: ParseResult) -> None:
    assert "parser failure" not in messages(result)


# --------------------------------------------------------------------------------------
# Numbers and polarity words
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0),
        ("+1", 1.0),
        ("-0.50", -0.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("  -1.4\n", -1.4),
        ("\u22121.2", -1.2),  # U+2212 minus sign
        ("\uff0d0.3", -0.3),  # full-width minus
        ("0", 0.0),
        ("-0", 0.0),
    ],
)
def test_parse_number_accepts_plain_decimals(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        *("", " ", "3/3", "1e3", "1,5", "1,000", "inf", "nan", "-", ".", "+-1", "- 1"),
        *("1.2.3", "1.4.", "-1.4 (neg)", "one", "1" * 400),
    ],
)
def test_parse_number_rejects_everything_else(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("value", "text"), [(-1.4, "-1.4"), (0.25, "0.25"), (2.0, "2"), (-0.001, "0"), (1.333333, "1.33"), (-0.5, "-0.5")]
)
def test_format_number_is_compact(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("positive", "positive"),
        ("Positive.", "positive"),
        ("POS", "positive"),
        ("**negative**", "negative"),
        (" neg ", "negative"),
        ("Neutral", "neutral"),
        ("neu", "neutral"),
        ("消极", "negative"),
        ("weakly negative", None),
        ("mixed", None),
        ("", None),
    ],
)
def test_parse_polarity_synonyms(text: str, polarity: str | None) -> None:
    assert parse_polarity(text) == polarity


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------


def test_registry_knows_the_three_formats() -> None:
    assert FORMATS == ("c2f", "emor3", "r1")
    assert isinstance(get_format("c2f"), C2FFormat)
    assert isinstance(get_format("EMO-R3"), EmoR3Format)
    assert isinstance(get_format("r1-omni"), R1Format)
    assert (
        get_format("c2f", score_decimals=3)
        .render_target(SIMS_TASK, reasoning="x", score=0.1234)
        .endswith("<score>0.123</score>")
    )


def test_format_for_takes_the_tasks_kind_and_says_what_fits() -> None:
    """Without a format every command took c2f, which cannot answer a label task: evaluate failed after the
    model loaded, evaluate-predictions scored every completion as unparsed (accuracy 0)."""
    labels = mikels_task("emoset")
    assert format_for(labels).name == "emor3" and format_for(SIMS_TASK).name == "c2f"
    assert format_for(labels, "r1").name == "r1" and format_for(labels, None, "r1").name == "r1"
    with pytest.raises(ValueError, match=r"answers with a label: -f emor3 \(or -f r1\)"):
        format_for(labels, "c2f", cli=True)
    # the adapter's own format meets a task it was not trained for: its task is the fix, not "use c2f"
    with pytest.raises(
        ValueError, match=r"the adapter answers in emor3 .* with a label set: give one \(labels= or task=\)"
    ):
        format_for(vader_task("tweets"), None, "emor3")


def test_unknown_format_lists_known_names() -> None:
    with pytest.raises(ValueError, match="c2f, emor3, r1"):
        get_format("cot")


def test_stop_strings_and_prefix_hint_support() -> None:
    assert C2F.stop_strings == ("</score>",) and C2F.supports_prefix_hint
    assert R1.stop_strings == ("</answer>",) and not R1.supports_prefix_hint
    assert EMOR3.stop_strings == () and not EMOR3.supports_prefix_hint
    assert C2F.hint_prefix("negative") == "<polarity>negative</polarity>"
    assert EMOR3.hint_prefix("negative") == "" and R1.hint_prefix("positive") == ""


# --------------------------------------------------------------------------------------
# C2F parsing
# --------------------------------------------------------------------------------------

GOOD_C2F = "<polarity>negative</polarity>\n<think>The words are bitter; the voice is flat.</think>\n<score>-1.4</score>"


def test_c2f_parses_a_good_completion() -> None:
    result = C2F.parse(GOOD_C2F, MOSI_TASK)
    assert result.ok and result.errors == ()
    assert (result.polarity, result.score, result.label) == ("negative", -1.4, None)
    assert result.reasoning == {"think": "The words are bitter; the voice is flat."}
    assert result.to_dict()["parse_ok"] is True


def test_c2f_tolerates_whitespace_and_case() -> None:
    text = "  \n<POLARITY>  Negative. </Polarity>\n\n< think >\n  bitter \n</THINK >\n<Score>  -1.4  </score>\n"
    result = C2F.parse(text, MOSI_TASK)
    assert result.ok, messages(result)
    assert (result.polarity, result.score, result.reasoning["think"]) == ("negative", -1.4, "bitter")


@pytest.mark.parametrize(
    "ending", ["<score>-1.4", "<score>-1.4\n", "<score>-1.4</", "<score>-1.4</sco", "<score>-1.4</score"]
)
def test_c2f_accepts_a_truncated_final_tag(ending: str) -> None:
    result = C2F.parse("<polarity>negative</polarity><think>x</think>" + ending, MOSI_TASK)
    assert result.ok, messages(result)
    assert result.score == -1.4


def test_a_final_tag_the_token_limit_stopped_inside_is_cut_not_finished() -> None:
    """`<score>1.` at the token limit was read as 1.0 where the chain said 1.9: with `cut` (the generation
    stopped at its limit) a part left open at the end is missing, and says why."""
    cut_short = "<polarity>positive</polarity><think>about 1.9</think><score>1."
    assert C2F.parse(cut_short, MOSI_TASK).score == 1.0  # the model ended there itself: accepted
    result = C2F.parse(cut_short, MOSI_TASK, cut=True)
    assert not result.ok and result.score is None and result.polarity == "positive"
    assert "score: cut off at the token limit" in messages(result)
    # the limit reached after the last part closed, or inside its closing tag, or after a space, cuts nothing
    assert C2F.parse(cut_short + "9</score> and more", MOSI_TASK, cut=True).score == 1.9
    assert C2F.parse(cut_short + "9</score", MOSI_TASK, cut=True).score == 1.9
    assert C2F.parse(cut_short + "9\n", MOSI_TASK, cut=True).score == 1.9
    boxed = EMOR3.parse(STEPS + "\\boxed{fea", MIKELS, cut=True)
    assert boxed.label is None and "boxed: cut off at the token limit" in messages(boxed)
    assert EMOR3.parse(STEPS + "\\boxed{fear} and then", MIKELS, cut=True).label == "fear"
    answer = R1.parse("<think>x</think><answer>-2.", TWEETS, cut=True)
    assert answer.score is None and "answer: cut off at the token limit" in messages(answer)


def test_c2f_missing_closing_tag_in_the_middle_is_an_error() -> None:
    result = C2F.parse("<polarity>negative<think>bitter</think><score>-1</score>", MOSI_TASK)
    assert not result.ok
    assert "missing </polarity>" in messages(result)
    assert result.polarity == "negative" and result.score == -1.0  # the rest still parses


def test_c2f_truncated_output_reports_the_missing_parts() -> None:
    result = C2F.parse("<polarity>negative</polarity>\n<think>The words are bi", MOSI_TASK)
    assert not result.ok
    assert result.polarity == "negative"
    assert result.reasoning == {"think": "The words are bi"}
    assert parts(result) == {"score"}


def test_c2f_repeated_tags_use_the_first_and_fail() -> None:
    text = "<polarity>positive</polarity><polarity>negative</polarity><think>x</think><score>1</score><score>-2</score>"
    result = C2F.parse(text, MOSI_TASK)
    assert (result.polarity, result.score) == ("positive", 1.0)
    assert not result.ok
    assert "polarity: repeated; the first occurrence is used" in messages(result)
    assert "score: repeated; the first occurrence is used" in messages(result)


def test_c2f_tags_inside_think_are_content() -> None:
    text = "<polarity>negative</polarity><think>I could write <score>2</score> but no.</think><score>-2</score>"
    result = C2F.parse(text, MOSI_TASK)
    assert result.ok, messages(result)
    assert result.score == -2.0
    assert "<score>2</score>" in result.reasoning["think"]


def test_c2f_nested_same_tag_is_an_error() -> None:
    text = "<polarity>negative</polarity><think>a <think>b</think> c</think><score>-2</score>"
    result = C2F.parse(text, MOSI_TASK)
    assert not result.ok
    assert "nested <think> inside <think>" in messages(result)
    assert result.reasoning["think"] == "a <think>b"
    assert result.score == -2.0


def test_c2f_parts_out_of_order_fail() -> None:
    result = C2F.parse("<score>-1</score><polarity>negative</polarity><think>x</think>", MOSI_TASK)
    assert not result.ok and "structure" in parts(result)
    assert result.score == -1.0


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "no tags at all", "<", "</score>"])
def test_c2f_empty_or_tagless_input(text: str) -> None:
    result = C2F.parse(text, MOSI_TASK)
    assert not result.ok
    assert {"polarity", "think", "score"} <= parts(result)
    assert result.polarity is None and result.score is None


def test_c2f_empty_parts_fail() -> None:
    result = C2F.parse("<polarity></polarity><think> </think><score></score>", MOSI_TASK)
    assert not result.ok
    assert {"polarity: empty", "think: empty", "score: empty"} <= {str(e) for e in result.errors}


@pytest.mark.parametrize(
    ("written", "value"), [("+1", 1.0), ("-0.50", -0.5), ("1.", 1.0), (".5", 0.5), ("\u22122.5", -2.5), ("0", 0.0)]
)
def test_c2f_number_spellings(written: str, value: float) -> None:
    result = C2F.parse(f"<polarity>positive</polarity><think>x</think><score>{written}</score>", MOSI_TASK)
    assert result.ok, messages(result)
    assert result.score == value


@pytest.mark.parametrize("written", ["3/3", "1e0", "about 1", "1,5", "positive"])
def test_c2f_malformed_numbers_fail(written: str) -> None:
    result = C2F.parse(f"<polarity>positive</polarity><think>x</think><score>{written}</score>", MOSI_TASK)
    assert not result.ok and result.score is None
    assert "score: not a number" in messages(result)


def test_c2f_out_of_range_score_is_kept_and_flagged() -> None:
    result = C2F.parse("<polarity>positive</polarity><think>x</think><score>1.5</score>", SIMS_TASK)
    assert not result.ok
    assert result.score == 1.5 and result.score_out_of_range
    assert "outside the scale [-1, 1]" in messages(result)
    # the scale edges themselves are in range; with no task there is no scale to check
    assert C2F.parse("<polarity>positive</polarity><think>x</think><score>1</score>", SIMS_TASK).ok
    assert C2F.parse("<polarity>positive</polarity><think>x</think><score>1.5</score>").ok


@pytest.mark.parametrize("word", ["pos", "Positive.", "POSITIVE", "**positive**"])
def test_c2f_polarity_synonyms(word: str) -> None:
    result = C2F.parse(f"<polarity>{word}</polarity><think>x</think><score>2</score>", MOSI_TASK)
    assert result.ok and result.polarity == "positive"


def test_c2f_unknown_polarity_fails() -> None:
    result = C2F.parse("<polarity>somewhat bad</polarity><think>x</think><score>-1</score>", MOSI_TASK)
    assert not result.ok and result.polarity is None
    assert "unknown polarity" in messages(result)


def test_c2f_polarity_score_disagreement_is_not_a_parse_error() -> None:
    result = C2F.parse("<polarity>positive</polarity><think>x</think><score>-2</score>", MOSI_TASK)
    assert result.ok and result.polarity == "positive" and result.score == -2.0


def test_c2f_unicode_text() -> None:
    think = "他说“太好了”，但语气很平淡 😐 — naïve café"
    result = C2F.parse(f"<polarity>消极</polarity><think>{think}</think><score>\u22120.4</score>", SIMS_TASK)
    assert result.ok, messages(result)
    assert (result.polarity, result.score, result.reasoning["think"]) == ("negative", -0.4, think)


def test_c2f_prefix_hint_plus_completion_parses() -> None:
    completion = "\n<think>flat voice</think>\n<score>-0.6</score>"
    result = C2F.parse(C2F.hint_prefix("negative") + completion, SIMS_TASK)
    assert result.ok and result.polarity == "negative"


def test_parse_of_a_non_string_does_not_raise() -> None:
    for fmt in (C2F, EMOR3, R1):
        result = fmt.parse(None)  # type: ignore[arg-type]
        assert not result.ok and result.errors


# --------------------------------------------------------------------------------------
# EMO-R3 parsing
# --------------------------------------------------------------------------------------

STEPS = (
    "<step1>A child laughs at a clown.</step1>\n"
    "<step2>A viewer would feel amused.</step2>\n"
    "<step3>Positive, high arousal.</step3>\n"
)


def test_emor3_parses_a_good_completion() -> None:
    result = EMOR3.parse(STEPS + "\\boxed{amusement}", MIKELS)
    assert result.ok, messages(result)
    assert (result.label, result.polarity, result.score) == ("amusement", "positive", None)
    assert result.reasoning == {
        "step1": "A child laughs at a clown.",
        "step2": "A viewer would feel amused.",
        "step3": "Positive, high arousal.",
    }


def test_emor3_uses_the_last_boxed_and_normalizes() -> None:
    result = EMOR3.parse(STEPS + "maybe \\boxed{awe}? No: \\boxed{  AMUSEMENT }", MIKELS)
    assert result.ok and result.label == "amusement"
    assert EMOR3.parse(STEPS + "\\boxed{\\text{Amusement}}.", MIKELS).label == "amusement"


def test_emor3_tolerates_case_and_whitespace() -> None:
    text = "<STEP1> a </STEP1>  <Step2>b</Step2>\n\n<step3 > c </ step3>\n  \\boxed{ Fear }  "
    result = EMOR3.parse(text, MIKELS)
    assert result.ok, messages(result)
    assert result.label == "fear" and result.polarity == "negative"


def test_emor3_label_outside_the_set_is_kept_and_fails() -> None:
    result = EMOR3.parse(STEPS + "\\boxed{Joy}", MIKELS)
    assert not result.ok and result.label == "joy"
    assert "label not in label set" in messages(result)
    assert result.polarity == "positive"  # from step3, since the label map does not know joy


def test_emor3_polarity_from_step3_needs_a_single_word() -> None:
    ambiguous = STEPS.replace("Positive, high arousal.", "Not negative but positive.")
    assert EMOR3.parse(ambiguous + "\\boxed{joy}", MIKELS).polarity is None
    assert EMOR3.parse(STEPS + "\\boxed{joy}").ok  # no task: any label is accepted


def test_emor3_truncated_boxed_at_the_end_is_accepted() -> None:
    result = EMOR3.parse(STEPS + "\\boxed{fear", MIKELS)
    assert result.ok and result.label == "fear"


@pytest.mark.parametrize(
    ("text", "part"),
    [
        (STEPS, "boxed"),
        (STEPS + "\\boxed{}", "boxed"),
        (STEPS.replace("<step2>A viewer would feel amused.</step2>", "") + "\\boxed{fear}", "step2"),
        ("<step1>a</step1><step2>b</step2><step3>negative \\boxed{fear}", "step3"),
        ("<step1>a</step1><step2>b</step2><step3>negative \\boxed{fear}</step3>", "structure"),
        ("<step2>b</step2><step1>a</step1><step3>c</step3>\\boxed{fear}", "structure"),
        ("<step1>a</step1><step1>a</step1><step2>b</step2><step3>c</step3>\\boxed{fear}", "step1"),
        ("<step1>a<step2>b</step2><step3>c</step3>\\boxed{fear}", "step1"),
    ],
)
def test_emor3_failures_name_the_part(text: str, part: str) -> None:
    result = EMOR3.parse(text, MIKELS)
    assert not result.ok
    assert part in parts(result), messages(result)


@pytest.mark.parametrize("text", ["", "   ", "\\boxed", "}{", "<step1>"])
def test_emor3_empty_or_broken_input(text: str) -> None:
    result = EMOR3.parse(text, MIKELS)
    assert not result.ok
    no_internal_failure(result)


# --------------------------------------------------------------------------------------
# R1 parsing
# --------------------------------------------------------------------------------------


def test_r1_label_answer() -> None:
    result = R1.parse("<think>a dark alley</think>\n<answer> Fear </answer>", MIKELS)
    assert result.ok and (result.label, result.polarity, result.score) == ("fear", "negative", None)
    assert result.reasoning == {"think": "a dark alley"}


def test_r1_number_answer_on_a_regression_task() -> None:
    result = R1.parse("<THINK>x</THINK><ANSWER>+0.5</ANSWER>", SIMS_TASK)
    assert result.ok and (result.score, result.polarity, result.label) == (0.5, "positive", None)
    assert R1.parse("<think>x</think><answer>0.05</answer>", SIMS_TASK).polarity == "neutral"


def test_r1_answer_must_match_the_task_kind() -> None:
    result = R1.parse("<think>x</think><answer>positive</answer>", SIMS_TASK)
    assert not result.ok and "answer: not a number" in messages(result)
    result = R1.parse("<think>x</think><answer>joy</answer>", MIKELS)
    assert not result.ok and result.label == "joy" and "label not in label set" in messages(result)


def test_r1_out_of_range_and_truncation() -> None:
    result = R1.parse("<think>x</think><answer>-7</answer>", TWEETS)
    assert not result.ok and result.score == -7.0 and result.score_out_of_range
    assert R1.parse("<think>x</think><answer>-2.5</ans", TWEETS).ok


def test_r1_without_task_reads_number_or_label() -> None:
    assert R1.parse("<think>x</think><answer>1.</answer>").score == 1.0
    result = R1.parse("<think>x</think><answer>Sadness</answer>")
    assert result.ok and result.label == "sadness" and result.polarity is None


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("", "think"),
        ("<answer>fear</answer>", "think"),
        ("<think>x</think>", "answer"),
        ("<think>x</think><answer></answer>", "answer"),
        ("<answer>fear</answer><think>x</think>", "structure"),
        ("<think>x<answer>fear</answer>", "think"),
    ],
)
def test_r1_failures_name_the_part(text: str, part: str) -> None:
    result = R1.parse(text, MIKELS)
    assert not result.ok and part in parts(result), messages(result)


# --------------------------------------------------------------------------------------
# Gold targets round-trip
# --------------------------------------------------------------------------------------


def test_c2f_render_target_round_trips_named_parts() -> None:
    reasoning = {"text": "He says it is fine.", "audio": "His voice is flat and slow.", "combined": "Flat beats fine."}
    gold = C2F.render_target(SIMS_TASK, reasoning=reasoning, polarity="negative", score=-0.4)
    result = C2F.parse(gold, SIMS_TASK)
    assert result.ok and (result.polarity, result.score) == ("negative", -0.4)
    think = result.reasoning["think"]
    assert think.index("He says") < think.index("flat and slow") < think.index("Flat beats")
    assert gold.startswith(C2F.hint_prefix("negative"))


def test_c2f_render_target_derives_polarity_and_rejects_bad_gold() -> None:
    assert C2F.parse(C2F.render_target(SIMS_TASK, reasoning="x", score=0.05), SIMS_TASK).polarity == "neutral"
    with pytest.raises(ValueError, match="score"):
        C2F.render_target(SIMS_TASK, reasoning="x")
    with pytest.raises(ValueError, match="tags"):
        C2F.render_target(SIMS_TASK, reasoning="sneaky </think> tag", score=0.5)
    with pytest.raises(ValueError, match="empty"):
        C2F.render_target(SIMS_TASK, reasoning="  ", score=0.5)


def test_emor3_render_target_round_trips() -> None:
    steps = {
        "step1": "A storm over a village.",
        "step2": "Viewers would feel afraid.",
        "step3": "Negative, high arousal.",
    }
    gold = EMOR3.render_target(MIKELS, reasoning=steps, label="Fear")
    result = EMOR3.parse(gold, MIKELS)
    assert result.ok and result.label == "fear" and result.polarity == "negative"
    assert result.reasoning == steps
    with pytest.raises(ValueError, match="label"):
        EMOR3.render_target(MIKELS, reasoning=steps, label="joy")
    with pytest.raises(ValueError, match="step1, step2 and step3"):
        EMOR3.render_target(MIKELS, reasoning="one block", label="fear")
    assert EmoR3Format.default_step3("awe", MIKELS) == "The feeling is positive, with low arousal."


def test_r1_render_target_round_trips_both_kinds() -> None:
    result = R1.parse(R1.render_target(MIKELS, reasoning="dark alley", label="FEAR"), MIKELS)
    assert result.ok and result.label == "fear"
    result = R1.parse(R1.render_target(TWEETS, reasoning={"text": "great!"}, score=2.25), TWEETS)
    assert result.ok and result.score == 2.25 and result.polarity == "positive"
    assert result.reasoning == {"think": "Text: great!"}


# --------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------

TEXT_ONLY = Sample("t1", text="I love this phone")
CLIP = Sample("c1", text="It was fine.", audio="c1.wav", video="c1.mp4")
IMAGE = Sample("i1", image="i1.jpg")
MEDIA_WORDS = ("audio", "video", "image", "tone", "face")


def test_c2f_system_prompt_states_phases_scale_and_band() -> None:
    prompt = C2F.system_prompt(SIMS_TASK)
    pieces = ("<polarity>", "<think>", "<score>", "-1", "(-0.1, 0.1]", "tone, pitch, energy, pace", "face and body")
    for piece in pieces:
        assert piece in prompt
    assert prompt.index("<polarity>") < prompt.index("<think>") < prompt.index("<score>")
    assert "exactly 0" in C2F.system_prompt(MOSI_TASK) and "-3" in C2F.system_prompt(MOSI_TASK)
    assert "(-0.5, 0.5)" in C2F.system_prompt(TWEETS)
    with pytest.raises(ValueError):
        C2F.system_prompt(MIKELS)


def test_c2f_user_prompt_mentions_only_present_modalities() -> None:
    text_only = C2F.user_prompt(TEXT_ONLY, TWEETS)
    assert "I love this phone" in text_only and "what is said" in text_only
    assert not any(word in text_only.lower() for word in MEDIA_WORDS)
    clip = C2F.user_prompt(CLIP, SIMS_TASK)
    assert "audio" in clip and "video" in clip and "image" not in clip
    assert clip.index("what is said") < clip.index("how it is said") < clip.index("face and body")
    audio_only = C2F.user_prompt(Sample("a", text="hi", audio="a.wav"), SIMS_TASK)
    assert "audio" in audio_only and "video" not in audio_only and "face" not in audio_only


def test_user_prompts_carry_cues_and_hints_only_when_given() -> None:
    for fmt, task, sample in ((C2F, SIMS_TASK, CLIP), (EMOR3, MIKELS, IMAGE), (R1, MIKELS, IMAGE)):
        plain = fmt.user_prompt(sample, task)
        assert "Hint" not in plain and "Measured cues" not in plain
        hinted = fmt.user_prompt(sample, task, hint="negative", cues="pitch: high; smile: none")
        assert "Hint: the overall polarity is negative." in hinted
        assert "pitch: high; smile: none" in hinted
        msgs = fmt.messages(sample, task, hint="positive")
        assert [m["role"] for m in msgs] == ["system", "user"]
        assert msgs[1]["content"].endswith("Hint: the overall polarity is positive.")
        with pytest.raises(ValueError):
            fmt.user_prompt(sample, task, hint="angry")  # type: ignore[arg-type]


def test_emor3_prompts_list_the_labels_and_steps() -> None:
    system = EMOR3.system_prompt(MIKELS)
    assert all(label in system for label in MIKELS.labels)
    assert "<step1>" in system and "<step3>" in system and "\\boxed{" in system
    user = EMOR3.user_prompt(IMAGE, MIKELS)
    assert "image" in user and "audio" not in user and "fear" in user
    with pytest.raises(ValueError):
        EMOR3.system_prompt(SIMS_TASK)


def test_r1_system_prompt_follows_the_task_kind() -> None:
    labelled = R1.system_prompt(MIKELS)
    assert "<think>" in labelled and "<answer>" in labelled and "sadness" in labelled
    regression = R1.system_prompt(TWEETS)
    assert "-4" in regression and "4 (most positive)" in regression and "sadness" not in regression


# --------------------------------------------------------------------------------------
# Properties: never raises, round-trips, stays fast
# --------------------------------------------------------------------------------------

FRAGMENTS = [
    "<polarity>", "</polarity>", "<think>", "</think>", "<score>", "</score>", "<step1>", "</step1>",
    "<step2>", "</step2>", "<step3>", "</step3>", "<answer>", "</answer>", "\\boxed{", "}", "{", "<",
    "</", ">", "<POLARITY>", "< /score >", "positive", "neg", "fear", "-1.4", "3/3", ".5", "\u2212",
    " ", "\n", "\\text{",
]  # fmt: skip
mixed_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=40).map("".join)
TASKS = [None, SIMS_TASK, MOSI_TASK, TWEETS, MIKELS]


@PROPERTY
@given(text=st.one_of(st.text(), mixed_text), fmt_name=st.sampled_from(FORMATS), task=st.sampled_from(TASKS))
def test_parse_never_raises(text: str, fmt_name: str, task: TaskInfo | None) -> None:
    result = get_format(fmt_name).parse(text, task)
    assert isinstance(result, ParseResult)
    no_internal_failure(result)
    assert result.ok == (not result.errors)
    assert result.polarity in (None, *POLARITIES)


# Reasoning text without tag brackets or LaTeX; anything else (unicode included) is allowed.
free_text = st.text(st.characters(exclude_characters="<>\\{}", codec="utf-8"), min_size=1).filter(
    lambda s: s.strip() != ""
)
SCALED = [SIMS_TASK, MOSI_TASK, TWEETS]


@PROPERTY
@given(
    task=st.sampled_from(SCALED),
    fraction=st.floats(0.0, 1.0),
    polarity=st.sampled_from(POLARITIES),
    reasoning=st.one_of(
        free_text, st.dictionaries(st.sampled_from(["text", "audio", "video", "combined"]), free_text, min_size=1)
    ),
)
def test_c2f_round_trip(task: TaskInfo, fraction: float, polarity: str, reasoning: str | dict[str, str]) -> None:
    assert task.scale is not None
    score = task.scale[0] + fraction * task.scale_range
    gold = C2F.render_target(task, reasoning=reasoning, polarity=polarity, score=score)  # type: ignore[arg-type]
    result = C2F.parse(gold, task)
    assert result.ok, messages(result)
    assert result.polarity == polarity
    assert result.score == float(format_number(score))
    if isinstance(reasoning, str):
        assert result.reasoning == {"think": reasoning.strip()}
    else:
        assert all(part.strip() in result.reasoning["think"] for part in reasoning.values())


@PROPERTY
@given(label=st.sampled_from(MIKELS.labels), s1=free_text, s2=free_text, s3=free_text)
def test_emor3_round_trip(label: str, s1: str, s2: str, s3: str) -> None:
    steps = {"step1": s1, "step2": s2, "step3": s3}
    result = EMOR3.parse(EMOR3.render_target(MIKELS, reasoning=steps, label=label), MIKELS)
    assert result.ok, messages(result)
    assert result.label == label and result.polarity == MIKELS.label_polarity[label]
    assert result.reasoning == {k: v.strip() for k, v in steps.items()}


@PROPERTY
@given(reasoning=free_text, label=st.sampled_from(MIKELS.labels), fraction=st.floats(0.0, 1.0))
def test_r1_round_trip(reasoning: str, label: str, fraction: float) -> None:
    result = R1.parse(R1.render_target(MIKELS, reasoning=reasoning, label=label), MIKELS)
    assert result.ok and result.label == label and result.reasoning == {"think": reasoning.strip()}
    score = -4 + 8 * fraction
    result = R1.parse(R1.render_target(TWEETS, reasoning=reasoning, score=score), TWEETS)
    assert result.ok and result.score == float(format_number(score))


def _garbage(seed: int, size: int = 100_000) -> str:
    rng = random.Random(seed)
    pieces = [*FRAGMENTS, "x", "é", "😐", "1", "."]
    out: list[str] = []
    length = 0
    while length < size:
        piece = rng.choice(pieces)
        out.append(piece)
        length += len(piece)
    return "".join(out)[:size]


ADVERSARIAL = {
    "mixed fragments": _garbage(0),
    "mixed fragments 2": _garbage(1),
    "open bracket and spaces": "<" + " " * 100_000,
    "slash and spaces": "< /" + " " * 100_000,
    "repeated opening tags": "<think>" * 14_000,
    "repeated closing tags": "</score>" * 12_000,
    "open boxed": "\\boxed{" * 14_000,
    "deep braces": "\\boxed{" + "{" * 100_000,
    "long number": "<score>" + "1" * 100_000,
    "brackets": "<" * 100_000,
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
@pytest.mark.parametrize("fmt_name", FORMATS)
def test_100kb_of_garbage_parses_fast(name: str, fmt_name: str) -> None:
    fmt: ReasoningFormat = get_format(fmt_name)
    text = ADVERSARIAL[name]
    task = MIKELS if fmt_name == "emor3" else SIMS_TASK
    start = time.perf_counter()
    result = fmt.parse(text, task)
    elapsed = time.perf_counter() - start
    assert not result.ok
    no_internal_failure(result)
    assert elapsed < 1.0  # measured at a few ms; the bound only catches quadratic blow-ups


# --- what the formats tell the hint and reflection policies ----------------------------------


def test_effective_mode_falls_back_for_formats_without_a_polarity_prefix() -> None:
    assert effective_mode("prefix", C2F) == "prefix"
    assert effective_mode("prompt", C2F) == "prompt"
    assert effective_mode("prefix", EMOR3) == "prompt"
    assert effective_mode("prefix", R1) == "prompt"
    with pytest.raises(ValueError, match="hint mode"):
        effective_mode("both", C2F)


def test_reflection_parts_match_what_the_parsers_produce() -> None:
    parses = {
        "emor3": EMOR3.parse(
            "<step1>a grave</step1><step2>grief</step2><step3>negative, low arousal</step3>\\boxed{sadness}", MIKELS
        ),
        "c2f": C2F.parse("<polarity>negative</polarity><think>flat voice</think><score>-1</score>", MOSI_TASK),
        "r1": R1.parse("<think>a frown</think><answer>sadness</answer>", MIKELS),
    }
    for name, parsed in parses.items():
        assert parsed.ok, parsed.errors
        coherence_parts, consistency_part = get_format(name).reflection_parts
        assert set(coherence_parts) | {consistency_part} <= set(parsed.reasoning)


def test_answer_start_finds_any_formats_answer_marker() -> None:
    assert answer_start("I see a grave and rain. \\boxed{sadness}") == len("I see a grave and rain. ")
    assert answer_start("flat voice <SCORE>-1</score>") == len("flat voice ")
    assert answer_start("a frown < answer >sadness") == len("a frown ")
    assert answer_start("<step1>x</step1><step3>negative</step3>") == len("<step1>x</step1>")
    assert answer_start("just words") is None


def test_the_prompts_example_score_is_a_negative_one_inside_the_scale() -> None:
    """On 1..7 the example was 1 x 0.4 = 0.4, outside the scale: a model copying it did not parse."""
    from emoreason.data.schema import resolve_task
    from emoreason.formats import get_format

    c2f = get_format("c2f")
    assert "<score>-1.6</score>" in c2f.system_prompt(resolve_task("vader"))  # the shipped prompt, unchanged
    rating = resolve_task(scale=(1.0, 7.0))
    assert "<score>2.8</score>" in c2f.system_prompt(rating) and rating.score_polarity(2.8) == "negative"
