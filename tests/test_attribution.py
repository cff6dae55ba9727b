"""Which words a judgment rests on (`metrics.attribution`, `inference.attribute_words`, `analyze --attribute`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from emoreason import Explainer
from emoreason.cli import app
from emoreason.cli.ui import attribution_line
from emoreason.data.schema import Sample
from emoreason.formats import get_format
from emoreason.formats.readout import polarity_position
from emoreason.generation.logprobs import choice_logprobs
from emoreason.inference import attribute_words, conversations_for
from emoreason.metrics.attribution import attribution_summary, leading_word_cited, occlusions, reading, word_shifts
from emoreason.testing.fixtures import make_tiny_causal_lm


def probs(positive: float, negative: float) -> dict[str, float]:
    return {"negative": negative, "neutral": round(1 - positive - negative, 6), "positive": positive}


def test_each_token_is_taken_out_in_turn_with_the_spaces_collapsed() -> None:
    assert occlusions("Not  bad at\tall.") == [
        (0, 3, "bad at all."),
        (5, 8, "Not at all."),
        (9, 11, "Not bad all."),
        (12, 16, "Not bad at"),
    ]
    assert occlusions("Great") == [(0, 5, "")] and occlusions("  ") == []


def test_offsets_count_code_points_and_the_record_and_readme_say_so_for_utf16_clients() -> None:
    """An emoji is one code point but two UTF-16 units: a JavaScript client indexing the text with the
    offsets as they are marks the wrong word after it, and nothing said they were code points."""
    from emoreason.metrics.attribution import WordShift

    text = "I \U0001f600 love it"
    (start, end, _), *_ = [span for span in occlusions(text) if text[span[0] : span[1]] == "love"]
    assert (start, end) == (4, 8)  # UTF-16 would say 5, 9
    assert "code point" in WordShift.__doc__ and "UTF-16" in WordShift.__doc__  # type: ignore[operator]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    described = readme[readme.index("**Which words the judgment moves with**") :]
    assert "code points" in described[:1500] and "UTF-16" in described[:1500]


def test_shifts_are_the_reading_with_the_token_less_the_reading_without_it_ranked_by_size() -> None:
    text = "not bad at all"
    base = probs(0.6, 0.1)  # reading 0.5
    without = [probs(0.2, 0.5), probs(0.6, 0.1), probs(0.7, 0.05), probs(0.3, 0.2)]  # -0.3, 0.5, 0.65, 0.1
    shifts = word_shifts(text, base, without)
    # by hand: not 0.5 - (-0.3) = 0.8; bad 0; at 0.5 - 0.65 = -0.15; all 0.5 - 0.1 = 0.4
    assert [(s.word, round(s.shift, 6)) for s in shifts] == [("not", 0.8), ("all", 0.4), ("at", -0.15), ("bad", 0.0)]
    assert (shifts[0].start, shifts[0].end, shifts[0].without) == (0, 3, probs(0.2, 0.5))
    assert reading(base) == pytest.approx(0.5)
    tied = word_shifts("a b", base, [probs(0.4, 0.1), probs(0.8, 0.1)])  # +0.2 and -0.2: input order
    assert [s.word for s in tied] == ["a", "b"]
    with pytest.raises(ValueError, match="2 tokens in the text but 1 probabilities"):
        word_shifts("a b", base, [base])
    assert shifts[2].to_dict() == {
        "word": "at",
        "start": 8,
        "end": 10,
        "shift": -0.15,
        "without": {"negative": 0.05, "neutral": 0.25, "positive": 0.7},
    }


def test_the_leading_word_is_cited_when_a_text_span_touches_it() -> None:
    ranked = [{"word": "rushed.", "start": 40, "end": 47, "shift": -0.3}, {"word": "bad", "start": 4, "end": 7}]
    assert leading_word_cited(ranked, [{"field": "text", "start": 40, "end": 46}]) is True
    assert leading_word_cited(ranked, [{"field": "text", "start": 4, "end": 7}]) is False
    assert leading_word_cited(ranked, [{"field": "cues", "start": 40, "end": 46}]) is False
    assert leading_word_cited(ranked, [], min_shift=0.5) is None  # nothing moves the reading that far
    assert leading_word_cited([], []) is None


def test_the_readable_view_lists_each_side_and_says_what_the_chain_does_not_cite() -> None:
    record = {
        "citations": {"spans": [{"field": "text", "start": 4, "end": 7}]},
        "attribution": [
            {"word": "Not", "start": 0, "end": 3, "shift": 0.68},
            {"word": "bad", "start": 4, "end": 7, "shift": 0.54},
            {"word": "rushed.", "start": 48, "end": 55, "shift": -0.27},
            {"word": "the", "start": 30, "end": 33, "shift": 0.01},
        ],
    }
    line = attribution_line(record)
    assert line is not None
    assert line.plain.endswith(
        'toward positive "Not" +0.68 (not cited), "bad" +0.54; toward negative "rushed." -0.27 (not cited)'
    )
    quiet = attribution_line({"attribution": [{"word": "a", "start": 0, "end": 1, "shift": 0.01}]})
    assert quiet is not None and "no single word moves it by 0.05" in quiet.plain


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")


@pytest.fixture(scope="module")
def explainer(tiny_path: Path) -> Explainer:
    return Explainer.load(tiny_path, device="cpu", max_new_tokens=4, attribute=True)


def test_attribution_reads_the_polarity_words_of_the_text_and_of_each_text_less_a_token(explainer: Explainer) -> None:
    loaded, fmt, task = explainer.loaded, get_format("c2f"), explainer.task
    assert loaded is not None
    sample = Sample(id="s", text="not bad at all")
    (shifts,) = attribute_words(loaded, [sample], fmt, task, batch_size=2)  # several chunks of prompts
    assert sorted(s.word for s in shifts) == ["all", "at", "bad", "not"]
    # each shift checked against the three words' probabilities computed apart, one prompt at a time
    prefix, starts = polarity_position(loaded.tokenizer, fmt)  # type: ignore[misc]
    words = [starts[p] for p in ("negative", "neutral", "positive")]

    def alone(text: str) -> dict[str, float]:
        conversation = conversations_for([Sample(id="s", text=text)], fmt, task)
        with torch.no_grad():
            row = torch.softmax(choice_logprobs(loaded.model, loaded, conversation, prefix, words), dim=-1)[0]
        return dict(zip(("negative", "neutral", "positive"), row.tolist(), strict=True))

    base = reading(alone("not bad at all"))
    for shift in shifts:
        without = alone(occlusions("not bad at all")[["not", "bad", "at", "all"].index(shift.word)][2])
        assert shift.shift == pytest.approx(base - reading(without), abs=1e-4)
        assert shift.without == pytest.approx(without, abs=1e-4)
    assert any(abs(s.shift) > 1e-4 for s in shifts)  # a random model still moves with its input
    # a text whose variants repeat ("so" taken out either time) reads each repeated prompt alike
    (repeated,) = attribute_words(loaded, [Sample(id="r", text="so so good")], fmt, task)
    first, second = sorted((s for s in repeated if s.word == "so"), key=lambda s: s.start)
    assert first.shift == pytest.approx(second.shift, abs=1e-5) and first.start < second.start


def test_a_texts_own_spaces_do_not_shift_any_word(explainer: Explainer) -> None:
    """The reference prompt kept a text's double spaces, tabs and edges while every variant had them
    collapsed: each shift held what collapsing them moved."""
    loaded, fmt, task = explainer.loaded, get_format("c2f"), explainer.task
    assert loaded is not None
    clean, spaced = Sample(id="a", text="not bad at all"), Sample(id="b", text="  not  bad\tat all \n")
    (plain,), (loose,) = (attribute_words(loaded, [s], fmt, task) for s in (clean, spaced))
    by_word = {s.word: s.shift for s in plain}
    assert {s.word: s.shift for s in loose} == pytest.approx(by_word, abs=1e-6)
    assert [s.start for s in sorted(loose, key=lambda s: s.start)] == [2, 7, 11, 14]  # offsets in the text as given


def test_the_explainer_adds_the_attribution_to_each_record(explainer: Explainer) -> None:
    result = explainer(["So boring.", "What a lovely day"])
    assert [len(r.attribution or []) for r in result] == [2, 4]
    first = result[0].to_dict()["attribution"]
    assert {a["word"] for a in first} == {"So", "boring."}
    assert abs(first[0]["shift"]) >= abs(first[1]["shift"])
    line = attribution_line(result[0].to_dict(), min_shift=0.0)
    assert line is not None and f'"{first[0]["word"]}"' in line.plain
    plain = explainer.using(votes=1)
    assert plain.attribute  # kept by `using`
    off = Explainer(explainer.loaded, explainer.engine, max_new_tokens=4)  # type: ignore[arg-type]
    assert off("So boring.").attribution is None and "attribution" not in off("So boring.").to_dict()
    assert attribution_line(off("So boring.").to_dict()) is None


def test_attribution_encodes_with_a_processor_of_its_own(explainer: Explainer, monkeypatch) -> None:
    """The server attributes in a thread beside the batch thread; both encoded with the one fast tokenizer,
    whose padding settings live on its shared backend, and a batch failed now and then."""
    import emoreason.inference as inference

    seen = []
    real = inference.attribute_words
    monkeypatch.setattr(inference, "attribute_words", lambda w, *a, **k: seen.append(w) or real(w, *a, **k))
    explainer(["So boring.", "Fine"])
    explainer.using(votes=1)("Fine")
    assert explainer.loaded is not None and len(seen) == 2
    assert all(w.processor is not explainer.loaded.processor and w.model is explainer.loaded.model for w in seen)
    assert seen[0] is seen[1]  # copied once, shared with the explainers `using` makes


def test_attribution_needs_a_format_with_a_leading_polarity_word(explainer: Explainer) -> None:
    with pytest.raises(ValueError, match="the 'emor3' format states none there"):
        Explainer(explainer.loaded, explainer.engine, format="emor3", task="ravdess", attribute=True)  # type: ignore[arg-type]


def test_analyze_attribute_prints_the_attribution(explainer: Explainer, tiny_path: Path) -> None:
    args = ["analyze", "So boring.", "--model", str(tiny_path), "--max-new-tokens", "4", "--device", "cpu"]
    args.append("--attribute")
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    assert [a["word"] for a in printed["attribution"]] == [
        a["word"] for a in explainer("So boring.").to_dict()["attribution"]
    ]
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0 and "what moves it" in shown.stdout, shown.output
    refused = CliRunner().invoke(app, [*args, "--format", "emor3", "--task", "ravdess"])
    assert refused.exit_code != 0 and "--attribute" in refused.output


def test_the_summary_counts_leading_words_chance_and_shifts_by_hand() -> None:
    first = (  # leads with "bad" (0.5), cited; 1 of 2 tokens cited
        [{"word": "bad", "start": 4, "end": 7, "shift": 0.5}, {"word": "Not", "start": 0, "end": 3, "shift": -0.1}],
        [{"field": "text", "start": 4, "end": 7}],
    )
    second = (  # leads with "meh" (-0.3), not cited; nothing of it cited
        [{"word": "meh", "start": 0, "end": 3, "shift": -0.3}, {"word": "ok", "start": 4, "end": 6, "shift": 0.05}],
        [],
    )
    third = ([{"word": "so", "start": 0, "end": 2, "shift": 0.02}], [])  # nothing moves it 0.1: no leading word
    summary = attribution_summary([first, second, third])
    assert summary == {
        "n_answers": 3,
        "n_leading": 2,
        "min_shift": 0.1,
        "leading_word_cited": 0.5,
        "chance": (0.5 + 0.0) / 2,
        "mean_shift_cited": 0.5,  # only the first has cited and uncited tokens
        "mean_shift_uncited": 0.1,
    }
    assert attribution_summary([])["leading_word_cited"] is None


def test_evaluate_attribute_writes_the_figures_and_resumes(tiny_path: Path, tmp_path: Path, monkeypatch) -> None:
    import emoreason.eval.attribution as attribution_module
    from emoreason.api import evaluate
    from emoreason.eval.runner import remove_run_files

    data = tmp_path / "d.jsonl"
    rows = [{"id": f"s{i}", "text": t, "score": 1.0} for i, t in enumerate(["So boring.", "What a lovely day"])]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "eval"
    args = ["evaluate", "--model", str(tiny_path), "--dataset", f"jsonl:{data}?scale=-4,4", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--max-new-tokens", "4", "--baselines", "none", "--attribute"])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "metrics.json").read_text())["attribution"]
    assert figures["n_answers"] == 2 and set(figures) >= {"leading_word_cited", "chance", "mean_shift_cited"}
    lines = [json.loads(line) for line in (out / "attribution.jsonl").read_text().splitlines()]
    assert [(line["id"], len(line["attribution"])) for line in lines] == [("s0", 2), ("s1", 4)]
    assert "n_leading" in result.output and "attribution.jsonl" in result.output
    assert "## Which words the judgment moves with" in (out / "report.md").read_text()
    assert "<h2>Which words the judgment moves with</h2>" in (out / "report.html").read_text()
    calls = []
    real = attribution_module.attribute_words
    monkeypatch.setattr(attribution_module, "attribute_words", lambda *a, **k: calls.append(a) or real(*a, **k))
    again = evaluate(f"jsonl:{data}?scale=-4,4", tiny_path, out=out, max_new_tokens=4, baselines=(), attribute=True)
    assert again["attribution"] == figures and calls == []  # every answer's words read from attribution.jsonl
    assert "attribution.jsonl" in remove_run_files(out)
    with pytest.raises(ValueError, match="format 'r1' does not write one first"):  # (emor3 answers no score task)
        evaluate(f"jsonl:{data}?scale=-4,4", tiny_path, out=tmp_path / "e2", format="r1", attribute=True)
