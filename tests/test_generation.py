"""Generation engine, explainable inference (`analyze`) and evaluation (`evaluate`) on a tiny model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from transformers.cache_utils import DynamicLayer
from typer.testing import CliRunner

from emoreason.cli import app
from emoreason.generation import SamplingParams, TransformersEngine
from emoreason.generation.kv_cache import PreallocatedLayer, plan_prefill_groups, shared_prefix_length
from emoreason.generation.sampling import filter_logits, sample_rows
from emoreason.generation.stopping import StopChecker
from emoreason.models import Conversation, LoadedModel, load_model
from emoreason.testing.fixtures import make_tiny_causal_lm

runner = CliRunner()
SYSTEM = "You are a careful sentiment analyst. Answer with a polarity, reasoning and a score."


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "causal")


@pytest.fixture(scope="module")
def tiny(tiny_path: Path) -> LoadedModel:
    # on the CPU in fp32 wherever the machine has a GPU: these tests compare the engine's tokens and
    # log-probabilities with a plain forward pass and exercise its CPU kernels (tests/test_cuda.py
    # runs it on a GPU)
    return load_model(str(tiny_path), device="cpu")


def conversations(texts: list[str]) -> list[Conversation]:
    return [
        Conversation(messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": t}]) for t in texts
    ]


TEXTS = ["good", "a much longer sentence about a film that was not good at all", "meh!", "I love it"]


@pytest.mark.parametrize("reuse_prefix", [True, False])
def test_greedy_matches_transformers_generate(tiny: LoadedModel, reuse_prefix: bool) -> None:
    convs = conversations(TEXTS)
    ours = TransformersEngine(tiny, batch_size=4, reuse_prefix=reuse_prefix).generate(
        convs, SamplingParams(max_new_tokens=10)
    )
    inputs = tiny.family.encode(tiny.processor, convs)
    with torch.inference_mode():
        reference = tiny.model.generate(
            **inputs, max_new_tokens=10, do_sample=False, pad_token_id=tiny.tokenizer.pad_token_id
        )
    width = inputs["input_ids"].shape[1]
    for row, completions in enumerate(ours):
        expected = reference[row, width:].tolist()
        assert completions[0].token_ids == expected[: len(completions[0].token_ids)]


def test_preallocated_cache_gives_the_same_tokens_and_logprobs(tiny: LoadedModel) -> None:
    convs = conversations(TEXTS)
    params = SamplingParams(n=2, max_new_tokens=9, temperature=1.0, seed=3)
    grown = TransformersEngine(tiny, batch_size=8, preallocate_cache=False).generate(convs, params)
    written = TransformersEngine(tiny, batch_size=8).generate(convs, params)
    assert [[c.token_ids for c in g] for g in grown] == [[c.token_ids for c in g] for g in written]
    assert torch.allclose(
        torch.tensor([c.logprobs for g in grown for c in g]),
        torch.tensor([c.logprobs for g in written for c in g]),
        atol=1e-5,
    )


def test_preallocated_layer_grows_selects_and_repeats() -> None:
    keys = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).reshape(2, 1, 3, 2)
    layer = PreallocatedLayer(keys, -keys, room=1)
    reference = DynamicLayer()
    reference.update(keys, -keys)
    for step in range(3):  # the second and third tokens overflow the room: the buffer doubles
        new = torch.full((2, 1, 1, 2), float(step))
        got, expected = layer.update(new, -new), reference.update(new, -new)
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
    assert layer.get_seq_length() == 6
    layer.batch_select_indices(torch.tensor([1]))
    reference.batch_select_indices(torch.tensor([1]))
    layer.batch_repeat_interleave(2)
    reference.batch_repeat_interleave(2)
    assert torch.equal(layer.keys, reference.keys) and layer.keys.shape == (2, 1, 6, 2)
    layer.crop(-2)
    assert layer.get_seq_length() == 4 and torch.equal(layer.values, reference.values[:, :, :4])


def test_logprobs_equal_a_fresh_forward_pass(tiny: LoadedModel) -> None:
    conv = conversations(["this is fine"])
    completion = TransformersEngine(tiny).generate(conv, SamplingParams(max_new_tokens=6))[0][0]
    inputs = tiny.family.encode(tiny.processor, conv)
    ids = torch.cat([inputs["input_ids"], torch.tensor([completion.token_ids])], dim=1)
    with torch.inference_mode():
        logits = tiny.model(input_ids=ids).logits[0, inputs["input_ids"].shape[1] - 1 : -1]
    expected = torch.log_softmax(logits.float(), -1).gather(-1, torch.tensor(completion.token_ids)[:, None]).squeeze(-1)
    assert torch.allclose(torch.tensor(completion.logprobs), expected, atol=1e-4)


def test_batching_does_not_change_greedy_output(tiny: LoadedModel) -> None:
    convs = conversations(TEXTS)
    engine = TransformersEngine(tiny, batch_size=4)
    batched = engine.generate(convs, SamplingParams(max_new_tokens=8))
    single = [TransformersEngine(tiny, batch_size=1).generate([c], SamplingParams(max_new_tokens=8))[0] for c in convs]
    assert [b[0].token_ids for b in batched] == [s[0].token_ids for s in single]


def test_stop_string_ends_a_completion_early(tiny: LoadedModel) -> None:
    conv = conversations(["stop test"])
    engine = TransformersEngine(tiny)
    free = engine.generate(conv, SamplingParams(max_new_tokens=16))[0][0]
    assert free.finish_reason == "length" and len(free.text) > 6
    # a stop string that the unconstrained answer reaches after a few tokens
    cut_at = len(engine.loaded.tokenizer.decode(free.token_ids[:5], skip_special_tokens=True))
    stop = free.text[max(0, cut_at - 2) : cut_at]
    assume_stop = stop.strip() != ""
    stopped = engine.generate(conv, SamplingParams(max_new_tokens=16, stop_strings=(stop,)))[0][0]
    if assume_stop:
        assert stopped.finish_reason == "stop"
        assert stopped.text.endswith(stop) and stopped.text.count(stop) == 1
        assert stopped.token_ids == free.token_ids[: len(stopped.token_ids)]
        assert len(stopped.token_ids) <= 5


def test_sampling_n_completions_is_seeded(tiny: LoadedModel) -> None:
    engine = TransformersEngine(tiny, batch_size=8)
    params = SamplingParams(n=3, max_new_tokens=8, temperature=1.0, top_p=0.95, seed=7)
    first = engine.generate(conversations(TEXTS[:2]), params)
    again = engine.generate(conversations(TEXTS[:2]), params)
    assert [len(c) for c in first] == [3, 3]
    assert [[c.token_ids for c in group] for group in first] == [[c.token_ids for c in group] for group in again]
    assert len({tuple(c.token_ids) for c in first[0]}) > 1  # samples differ from each other
    assert all(c.prompt_index == i for i, group in enumerate(first) for c in group)
    other = engine.generate(conversations(TEXTS[:2]), SamplingParams(n=3, max_new_tokens=8, temperature=1.0, seed=8))
    assert [c.token_ids for c in other[0]] != [c.token_ids for c in first[0]]


def test_stop_checker_and_prefix_helpers(tiny: LoadedModel) -> None:
    tokenizer = tiny.tokenizer
    checker = StopChecker(tokenizer, ("</score>",))
    ids = tokenizer("<polarity>positive</polarity><think>x</think><score>1.5</score>", add_special_tokens=False)[
        "input_ids"
    ]
    assert checker.stopped(ids)
    assert not checker.stopped(ids[:-1]) or tokenizer.decode(ids[:-1]).endswith("</score>")
    assert checker.cut("a</score> trailing </score>") == "a</score>"
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]]) == 2
    assert shared_prefix_length([[1, 2], [1, 2]]) == 1  # one token of each row is left to run


def test_top_p_and_top_k_filtering() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(filter_logits(logits, top_p=0.8))
    assert kept.tolist() == [[True, True, False, False]]
    assert torch.isfinite(filter_logits(logits, top_k=1)).sum() == 1


def test_sample_rows_draws_each_entry_at_its_probability_and_never_a_zero() -> None:
    # unnormalised rows: 1:2:0:5 and a row whose only mass is on its last entry
    probs = torch.tensor([[1.0, 2.0, 0.0, 5.0], [0.0, 0.0, 0.0, 3.0]]).repeat(10_000, 1)
    draws = sample_rows(probs, torch.Generator().manual_seed(0)).reshape(10_000, 2)
    first = torch.bincount(draws[:, 0], minlength=4) / 10_000
    assert first[2] == 0  # probability 0: never drawn
    # expected 0.125 / 0.25 / 0.625; 4 standard deviations of a 10k-draw frequency is at most 0.02
    assert torch.allclose(first, torch.tensor([0.125, 0.25, 0.0, 0.625]), atol=0.02)
    assert draws[:, 1].eq(3).all()
    # seeded: the same generator state gives the same draws
    again = sample_rows(probs, torch.Generator().manual_seed(0)).reshape(10_000, 2)
    assert torch.equal(draws, again)


def test_bad_sampling_params() -> None:
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0)
    with pytest.raises(ValueError, match="n must be"):
        SamplingParams(n=0)


# --- analyze / evaluate CLI -----------------------------------------------------------------


def test_analyze_json_audit_record(tiny_path: Path) -> None:
    result = runner.invoke(
        app,
        ["analyze", "What a lovely day", "So boring.", "--model", str(tiny_path), "--json", "--max-new-tokens", "8"],
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["id"] for r in records] == ["input1", "input2"]
    for record in records:
        assert set(record) >= {
            "id",
            "polarity",
            "score",
            "label",
            "reasoning",
            "parse_ok",
            "errors",
            "raw_completion",
            "model",
            "format",
            "latency_s",
        }
        assert record["format"] == "c2f" and record["parse_ok"] in (True, False)
        assert record["parse_ok"] or record["errors"]  # a failed parse always says why


def test_an_answer_cut_off_at_the_token_limit_says_so(tiny: LoadedModel) -> None:
    """It said only `score: missing`: the parts the limit cut off read like parts the model left out."""
    from emoreason.data import Sample, vader_task
    from emoreason.inference import analyze

    engine = TransformersEngine(tiny)
    sample = [Sample(id="x", text="a fine day")]
    short = analyze(engine, sample, vader_task("t"), "c2f", "tiny", SamplingParams(max_new_tokens=3))[0]
    assert short["finish_reason"] == "length" and not short["parse_ok"]
    assert short["errors"][-1] == "cut off at the token limit after 3 tokens: allow more new tokens"
    assert short["errors"][:-1]  # the parser's own errors stay first


def test_a_record_cut_inside_its_score_is_not_scored() -> None:
    """The token limit stopped `<score>1.` (the chain said 1.9): the record said parse_ok and 1.0."""
    from emoreason.data import Sample, vader_task
    from emoreason.formats import get_format
    from emoreason.generation.params import Completion
    from emoreason.inference import audit_record

    text = "<polarity>positive</polarity>\n<think>\nabout 1.9\n</think>\n<score>1."
    sample, task, fmt = Sample(id="m18", text="fine"), vader_task("t"), get_format("c2f")
    cut = audit_record(sample, Completion(text, [1] * 30, [0.0] * 30, "length"), fmt, task, "m", 0.1)
    assert not cut["parse_ok"] and cut["score"] is None
    assert cut["errors"] == ["score: cut off at the token limit", "score: missing"]
    ended = audit_record(sample, Completion(text, [1] * 30, [0.0] * 30, "eos"), fmt, task, "m", 0.1)
    assert ended["parse_ok"] and ended["score"] == 1.0  # the model ended there itself: its number stands


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--labels", "angry,sad", "--scale", "1,7", "-f", "emor3"], "give a scale or labels, not both"),
        (["--labels", "", "-f", "emor3"], "a label set needs at least two labels, got 0"),
        (["--labels", "angry", "-f", "emor3"], "a label set needs at least two labels, got 1 (angry)"),
        (["--temperature", "-1"], "--temperature -1.0: give 0 (greedy) or above"),
        (["--temperature", "inf"], "--temperature inf: give 0 (greedy) or above, and finite"),
    ],
)
def test_analyze_settings_that_cannot_run_stop_before_the_model_loads(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Both a scale and labels ran (the labels won), an empty label set became vader, one label ran, and a
    negative temperature was refused only after the model loaded."""
    result = runner.invoke(app, ["analyze", "so happy", *args, "--model", str(tmp_path / "none")])
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert "neither" not in result.output  # the model (which does not exist) was never looked for


def test_a_label_set_in_a_score_format_is_refused_before_the_model_loads(tmp_path: Path) -> None:
    """`analyze --labels a,b` with the default c2f format failed only after loading the model."""
    result = runner.invoke(app, ["analyze", "so happy", "--labels", "joy,anger"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "the adapter answers in c2f" in said and "or ask for -f emor3" in said
    assert "Loading" not in result.output  # checked from the adapter's emoreason.json, before any weights


def test_every_record_carries_the_cue_text_its_prompt_carried() -> None:
    """`evaluate`'s records on speech lacked the `cues` that `analyze --json` shows, so a cue citation the
    chain made could not be checked from the run folder."""
    from emoreason.data import Sample, mikels_task
    from emoreason.formats import get_format
    from emoreason.generation.params import Completion
    from emoreason.inference import audit_record

    cues = "Voice (relative to this speaker): loudness loud (+1.2 sd, -20 dBFS)."
    sample, fmt = Sample(id="c", text="Kids are talking by the door", cues=cues), get_format("emor3")
    done = Completion("<step1>x</step1><step2>y</step2><step3>z</step3>\\boxed{angry}", [1], [0.0], "eos")
    assert audit_record(sample, done, fmt, mikels_task(), "m", 0.1)["cues"] == cues  # its own, as evaluate passes it
    assert audit_record(sample, done, fmt, mikels_task(), "m", 0.1, cues="other")["cues"] == "other"
    assert "cues" not in audit_record(sample.with_(cues=None), done, fmt, mikels_task(), "m", 0.1)


def test_analyze_rejects_media_for_text_model(tiny_path: Path, tmp_path: Path) -> None:
    image = tmp_path / "x.png"
    image.write_bytes(b"\x89PNG")
    result = runner.invoke(app, ["analyze", "hi", "--image", str(image), "--model", str(tiny_path)])
    assert result.exit_code == 2 and "takes text only" in result.output


def test_analyze_input_file_and_missing_model(tiny_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "fine", "score": 0}) + "\n")
    result = runner.invoke(
        app, ["analyze", "--input", str(path), "--model", str(tiny_path), "--json", "--max-new-tokens", "4"]
    )
    assert result.exit_code == 0 and json.loads(result.stdout.splitlines()[-1])["id"] == "a"
    missing = runner.invoke(app, ["analyze", "hi", "--model", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "neither" in missing.output


def test_analyze_input_takes_a_dataset_spec_for_other_field_names(tmp_path: Path) -> None:
    """`--input 'jsonl:FILE?text=sentence'` said the file does not exist; a file with its own field
    names had to be rewritten first."""
    from emoreason.cli.inputs import read_input

    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"id": "a", "sentence": "fine"}) + "\n" + json.dumps({"id": "b", "sentence": 3}) + "\n")
    heard: list[str] = []
    samples = read_input(Path(f"jsonl:{path}?text=sentence"), heard.append).samples
    assert [(s.id, s.text) for s in samples] == [("a", "fine")]  # no score needed, as for a plain file
    assert "text is not a string" in heard[0]
    assert len(read_input(Path("vader:tweets")).samples) == 4200  # any dataset, every split


def test_analyze_input_keeps_a_row_whose_score_cannot_be_read(tmp_path: Path) -> None:
    """Scores are optional to analyze, yet a row with an unparsable one was dropped, and the warning named
    the file with a `?targets=optional` the user never wrote."""
    from emoreason.cli.inputs import read_input

    path = tmp_path / "mine.jsonl"
    path.write_text(
        json.dumps({"id": "a", "text": "fine", "score": "lots"}) + "\n" + json.dumps({"id": "b", "text": "ok"})
    )
    heard: list[str] = []
    samples = read_input(path, heard.append).samples
    assert [(s.id, s.score) for s in samples] == [("a", None), ("b", None)]
    assert len(heard) == 1 and f"{path}:1" in heard[0] and "'lots'" in heard[0] and "kept" in heard[0]
    assert "targets=optional" not in heard[0] and heard[0].startswith(f"{path}: 2 of 2 rows kept")


def test_evaluate_writes_files_and_resumes(tiny_path: Path, tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [
        {"id": f"s{i}", "text": t, "score": s, "split": "train" if i < 4 else "test"}
        for i, (t, s) in enumerate(
            [
                ("great", 3),
                ("awful", -3),
                ("ok", 0),
                ("nice", 2),
                ("bad", -2),
                ("superb", 3.5),
                ("fine", 0.5),
                ("terrible", -3.5),
            ]
        )
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "eval"
    args = [
        "evaluate",
        "--model",
        str(tiny_path),
        "--dataset",
        f"jsonl:{data}?scale=-4,4",
        "--split",
        "test",
        "--out",
        str(out),
        "--max-new-tokens",
        "6",
        "--batch-size",
        "2",
    ]
    # simulate a run killed after one batch, mid-write of the next line
    first = runner.invoke(app, args + ["--limit", "2"])
    assert first.exit_code == 0, first.output
    with (out / "predictions.jsonl").open("a") as handle:
        handle.write('{"id": "s6", "polar')
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    lines = (out / "predictions.jsonl").read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines if line.endswith("}")]
    assert sorted(ids) == ["s4", "s5", "s6", "s7"]  # nothing generated twice, the torn line replaced
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["rows"]) == {"model", "vader", "mean"}
    assert metrics["rows"]["model"]["n"] == 4 and "parse_rate" in metrics["rows"]["model"]
    assert metrics["rows"]["model"]["imputed_predictions"] >= 0
    for name in ("report.md", "report.html", "scatter.png", "confusion.png", "error_by_polarity.png"):
        assert (out / name).is_file(), name
    assert "Parse failures" in (out / "report.md").read_text()
    assert "<img src='data:image/png;base64," in (out / "report.html").read_text()


def test_prefill_groups_minimise_padding_plus_overhead() -> None:
    assert plan_prefill_groups([]) == []
    assert plan_prefill_groups([5, 5, 5]) == [[0, 1, 2]]  # nothing to save
    # two clusters far apart: two passes beat padding the short rows to 100
    assert plan_prefill_groups([100, 3, 98, 4], overhead_tokens=32) == [[1, 3], [2, 0]]
    # a fixed cost larger than the padding saved keeps one pass
    assert plan_prefill_groups([10, 12], overhead_tokens=32) == [[0, 1]]
    lengths = [7, 40, 41, 9, 70, 8, 39]
    groups = plan_prefill_groups(lengths, overhead_tokens=16)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    cost = sum(len(g) * max(lengths[i] for i in g) + 16 for g in groups)
    assert cost <= len(lengths) * max(lengths) + 16


def test_grouped_prompt_pass_gives_the_same_tokens(tiny: LoadedModel) -> None:
    # prompts of very different lengths: the grouped pass splits them, the single pass pads them
    convs = conversations(["ok", "a" + " very" * 40 + " long review", "fine", "so" + " much" * 25])
    params = SamplingParams(max_new_tokens=8)
    grouped = TransformersEngine(tiny, batch_size=4).generate(convs, params)
    single = TransformersEngine(tiny, batch_size=4, group_prefill=False).generate(convs, params)
    assert [g[0].token_ids for g in grouped] == [s[0].token_ids for s in single]
    assert torch.allclose(
        torch.tensor([g[0].logprobs for g in grouped]), torch.tensor([s[0].logprobs for s in single]), atol=1e-4
    )


def test_bf16_engine_matches_transformers_generate_in_bf16(tiny_path: Path) -> None:
    loaded = load_model(str(tiny_path), dtype="bfloat16", device="cpu")
    assert loaded.model.dtype == torch.bfloat16
    convs = conversations(TEXTS)
    ours = TransformersEngine(loaded, batch_size=4, group_prefill=False).generate(
        convs, SamplingParams(max_new_tokens=6)
    )
    inputs = loaded.family.encode(loaded.processor, convs)
    with torch.inference_mode():
        reference = loaded.model.generate(
            **inputs, max_new_tokens=6, do_sample=False, pad_token_id=loaded.tokenizer.pad_token_id
        )
    width = inputs["input_ids"].shape[1]
    agree = sum(c[0].token_ids == reference[row, width:].tolist()[: len(c[0].token_ids)] for row, c in enumerate(ours))
    assert agree >= 3  # bf16 rounding may flip a near-tie in one row; not more
    assert all(all(lp <= 0 for lp in c[0].logprobs) for c in ours)


# -- cascade attention and oneDNN linear layers ------------------------------------------


class _Layer(torch.nn.Module):
    layer_idx = 0


def _reference_attention(query, prefix_kv, own_kv, own_keep):
    """Ordinary attention over [prefix ; own keys], heads repeated for GQA, boolean mask."""
    (prefix_k, prefix_v), (own_k, own_v) = prefix_kv, own_kv
    batch, heads = query.shape[:2]
    group = heads // own_k.shape[1]
    keys = torch.cat([prefix_k.expand(batch, -1, -1, -1), own_k], 2).repeat_interleave(group, dim=1)
    values = torch.cat([prefix_v.expand(batch, -1, -1, -1), own_v], 2).repeat_interleave(group, dim=1)
    keep = torch.cat([torch.ones(*own_keep.shape[:-1], prefix_k.shape[2], dtype=torch.bool), own_keep], -1)
    return torch.nn.functional.scaled_dot_product_attention(query, keys, values, attn_mask=keep, scale=0.3)


@pytest.mark.parametrize("length", [1, 5])
def test_cascade_attention_equals_attention_over_the_whole_context(length: int) -> None:
    from emoreason.generation.cascade import cascade_attention, decoding_mask, prompt_pass_mask

    generator = torch.Generator().manual_seed(length)
    batch, heads, kv_heads, dim, prefix, own = 3, 4, 2, 8, 6, 5
    query = torch.randn(batch, heads, length, dim, generator=generator)
    prefix_kv = (
        torch.randn(1, kv_heads, prefix, dim, generator=generator),
        torch.randn(1, kv_heads, prefix, dim, generator=generator),
    )
    own_kv = (
        torch.randn(batch, kv_heads, own, dim, generator=generator),
        torch.randn(batch, kv_heads, own, dim, generator=generator),
    )
    padding = torch.ones(batch, own, dtype=torch.long)
    padding[0, :3] = 0  # row 0 is left-padded: its first queries see none of its own keys
    if length == 1:
        mask, keep = decoding_mask(padding, torch.float32), padding.bool()[:, None, None, :]
    else:  # the prompt pass: queries are the rows' own tokens
        mask = prompt_pass_mask(padding, torch.float32)
        keep = torch.isfinite(mask)
    out, _ = cascade_attention(_Layer(), query, *own_kv, mask, scaling=0.3, shared_prefix=[prefix_kv])
    expected = _reference_attention(query, prefix_kv, own_kv, keep).transpose(1, 2)
    assert out.shape == (batch, length, heads, dim)
    assert torch.allclose(out, expected, atol=1e-5)


def test_cascade_engine_gives_the_same_tokens_and_restores_attention(
    tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AttentionInterface

    from emoreason.generation.cascade import ATTENTION, supports_cascade

    assert supports_cascade(tiny.model, torch.device("cpu"))
    calls = []
    registered = AttentionInterface._global_mapping[ATTENTION]
    monkeypatch.setitem(
        AttentionInterface._global_mapping,
        ATTENTION,
        lambda *args, **kwargs: calls.append(1) or registered(*args, **kwargs),
    )
    convs = conversations(["ok", "a" + " very" * 30 + " long review", "fine", "so" + " much" * 20])
    params = SamplingParams(n=2, max_new_tokens=9, temperature=1.0, seed=5)
    cascaded = TransformersEngine(tiny, batch_size=8).generate(convs, params)
    assert calls, "the engine did not use cascade attention"
    assert tiny.model.config._attn_implementation == "sdpa"
    copied = TransformersEngine(tiny, batch_size=8, cascade=False).generate(convs, params)
    assert [[c.token_ids for c in g] for g in cascaded] == [[c.token_ids for c in g] for g in copied]
    assert torch.allclose(
        torch.tensor([lp for g in cascaded for c in g for lp in c.logprobs]),
        torch.tensor([lp for g in copied for c in g for lp in c.logprobs]),
        atol=1e-4,
    )


def test_supports_cascade_only_plain_causal_attention_on_cpu() -> None:
    from transformers import LlamaConfig, MistralConfig

    from emoreason.generation.cascade import supports_cascade

    cpu = torch.device("cpu")
    small = dict(hidden_size=16, num_attention_heads=2, num_hidden_layers=1, intermediate_size=32)
    assert supports_cascade(_with_config(LlamaConfig(**small)), cpu)
    assert not supports_cascade(_with_config(LlamaConfig(**small)), torch.device("cuda"))
    assert not supports_cascade(_with_config(MistralConfig(**small, sliding_window=64)), cpu)
    assert supports_cascade(_with_config(MistralConfig(**small, sliding_window=None)), cpu)


def _with_config(config) -> torch.nn.Module:
    module = torch.nn.Module()
    module.config = config
    return module


def test_onednn_linears_switch_the_flag_only_inside_linear_layers() -> None:
    from emoreason.generation.matmul import ONEDNN, OneDnnLinears

    flag = torch.backends.mkldnn.matmul
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    seen = {}
    before = flag.fp32_precision
    strided = torch.randn(4, 5)[:, :4]  # not contiguous: handed to the layer as a contiguous copy
    with OneDnnLinears(model):
        # registered after the context's own hooks, so they run after them
        spies = [
            model[2].register_forward_pre_hook(lambda m, a: seen.setdefault("linear", flag.fp32_precision) and None),
            model[1].register_forward_pre_hook(lambda m, a: seen.setdefault("relu", flag.fp32_precision) and None),
        ]
        out = model(strided)
    for spy in spies:
        spy.remove()
    assert seen["linear"] == ONEDNN and seen["relu"] == before and flag.fp32_precision == before
    assert torch.allclose(out, model(strided.contiguous()), atol=1e-6)
    assert all(not m._forward_pre_hooks and not m._forward_hooks for m in model)  # the context's hooks are gone

    def broken(module, args, output):
        raise RuntimeError("a layer failed")

    model[0].register_forward_hook(broken)
    with pytest.raises(RuntimeError), OneDnnLinears(model):
        model(strided)
    assert flag.fp32_precision == before


def test_onednn_everywhere_keeps_attention_on_default_kernels(tiny: LoadedModel) -> None:
    from emoreason.generation.matmul import ONEDNN, OneDnnLinears, default_matmul_kernels

    flag = torch.backends.mkldnn.matmul
    before = flag.fp32_precision
    with default_matmul_kernels():  # outside any context: nothing to switch
        assert flag.fp32_precision == before
    with OneDnnLinears(tiny.model, everywhere=True):
        assert flag.fp32_precision == ONEDNN
        with default_matmul_kernels():
            assert flag.fp32_precision == before
        assert flag.fp32_precision == ONEDNN
        output_layer = tiny.model.get_output_embeddings()
        hooked = [m for m in tiny.model.modules() if m._forward_pre_hooks]
        assert hooked == [output_layer]  # only the output layer's contiguous-input hook
    assert flag.fp32_precision == before and not output_layer._forward_pre_hooks


def test_onednn_engine_gives_the_same_tokens(tiny: LoadedModel) -> None:
    from emoreason.generation.matmul import model_linear_shapes, probe_linear_kernels

    probe = probe_linear_kernels(8, *max(model_linear_shapes(tiny.model)))
    if not probe.accurate.get("onednn"):
        pytest.skip("oneDNN computes fp32 matmuls in bf16 on this CPU (AMX): the engine never uses it here")
    convs = conversations(TEXTS)
    params = SamplingParams(max_new_tokens=10)
    onednn = TransformersEngine(tiny, batch_size=4, linear_kernel="onednn").generate(convs, params)
    mkl = TransformersEngine(tiny, batch_size=4, linear_kernel="mkl").generate(convs, params)
    assert [c[0].token_ids for c in onednn] == [c[0].token_ids for c in mkl]
    assert torch.allclose(
        torch.tensor([lp for c in onednn for lp in c[0].logprobs]),
        torch.tensor([lp for c in mkl for lp in c[0].logprobs]),
        atol=1e-4,
    )


needs_mkl_packing = pytest.mark.skipif(
    not __import__("emoreason.generation.matmul", fromlist=["x"]).mkl_packing_available(),
    reason="this PyTorch build has no MKL packed sgemm (torch.ops.mkl._mkl_linear)",
)


@needs_mkl_packing
def test_packed_linears_pad_fewer_rows_and_follow_the_batch() -> None:
    from emoreason.generation.matmul import PACKED_MIN_ROWS, PackedLinears

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 24), torch.nn.Linear(24, 8, bias=False))
    full = torch.randn(8, 1, 16)
    with torch.inference_mode():
        plain = model(full)
        plain_2 = model(full[:2])  # MKL's 2-row product need not equal the first rows of its 8-row one
        with PackedLinears(model, 8) as packed:
            assert all("forward" in vars(layer) for layer in model)
            at_8 = model(full)
            at_3 = model(full[:3])  # 3 rows padded to the 8 packed: each row's result unchanged
            many = model(torch.randn(40, 16))  # a prompt pass: more rows than packed, F.linear
            packed.follow(3)  # above a quarter of 8: keep the packs
            assert packed.rows == 8
            packed.follow(2)  # a quarter (and below PACKED_MIN_ROWS): plain F.linear from now on
            assert packed.rows == 0
            at_2 = model(full[:2])
    assert PACKED_MIN_ROWS <= 3
    assert all("forward" not in vars(layer) for layer in model)  # the class's forward again
    assert at_8.shape == plain.shape and many.shape == (40, 8)
    assert torch.allclose(at_8, plain, atol=1e-5)
    assert torch.equal(at_3, at_8[:3])
    assert torch.equal(at_2, plain_2)  # the plain product again, bit for bit


@needs_mkl_packing
def test_packed_linears_give_back_a_forward_set_on_the_instance() -> None:
    from emoreason.generation.matmul import PackedLinears

    layer = torch.nn.Linear(6, 4)
    calls = []

    def wrapped(x: torch.Tensor) -> torch.Tensor:  # as accelerate's hooks replace an instance's forward
        calls.append(x.shape)
        return torch.nn.Linear.forward(layer, x)

    layer.forward = wrapped
    with torch.inference_mode(), PackedLinears(layer, 4):
        layer(torch.randn(4, 6))
    assert layer.forward is wrapped and calls == [(4, 6)]


@needs_mkl_packing
def test_packed_linears_leave_gradients_to_f_linear() -> None:
    from emoreason.generation.matmul import PackedLinears

    layer = torch.nn.Linear(6, 4)
    inputs = torch.randn(4, 6)
    with PackedLinears(layer, 4):
        layer(inputs).sum().backward()  # the packed op has no backward: this would raise on it
    assert layer.weight.grad is not None
    assert torch.allclose(layer.weight.grad, inputs.sum(0).expand(4, 6))


@pytest.mark.parametrize("kernel", ["mkl_packed", "onednn"])
def test_a_cpu_kernel_for_a_model_elsewhere_is_refused_by_name(tiny: LoadedModel, kernel: str) -> None:
    elsewhere = dataclasses.replace(tiny, device=torch.device("meta"))
    with pytest.raises(ValueError, match=rf"linear_kernel '{kernel}' is a CPU kernel and the model is on meta"):
        TransformersEngine(elsewhere, linear_kernel=kernel)
    TransformersEngine(elsewhere, linear_kernel="mkl")  # PyTorch's default product runs anywhere


@needs_mkl_packing
def test_packed_engine_gives_the_same_tokens(tiny: LoadedModel) -> None:
    convs = conversations(TEXTS)
    # a common stop string ends rows at different steps: the batch shrinks from 8 to 4 (padded rows)
    params = SamplingParams(max_new_tokens=12, n=2, temperature=0.9, seed=3, stop_strings=("e",))
    packed = TransformersEngine(tiny, batch_size=8, linear_kernel="mkl_packed").generate(convs, params)
    mkl = TransformersEngine(tiny, batch_size=8, linear_kernel="mkl").generate(convs, params)
    assert sum(len(c.token_ids) < params.max_new_tokens for cs in mkl for c in cs) >= 4  # rows left early
    assert [[c.token_ids for c in cs] for cs in packed] == [[c.token_ids for c in cs] for cs in mkl]
    assert torch.allclose(
        torch.tensor([lp for cs in packed for c in cs for lp in c.logprobs]),
        torch.tensor([lp for cs in mkl for c in cs for lp in c.logprobs]),
        atol=1e-4,
    )
    with pytest.raises(ValueError, match="unknown linear_kernel"):
        TransformersEngine(tiny, linear_kernel="fast")


def test_preallocated_layer_keeps_rows_in_place_or_gathers() -> None:
    keys = torch.arange(4 * 1 * 3 * 2, dtype=torch.float32).reshape(4, 1, 3, 2)
    for order in ([0, 2, 3], [3, 1]):  # rows leaving (moved in place), then a reordering (gathered)
        layer = PreallocatedLayer(keys, -keys, room=2)
        buffer = layer._keys
        layer.batch_select_indices(torch.tensor(order))
        assert torch.equal(layer.keys, keys[order]) and torch.equal(layer.values, -keys[order])
        assert (layer._keys.data_ptr() == buffer.data_ptr()) == (order == sorted(order))
        new = torch.full((len(order), 1, 1, 2), 99.0)
        assert torch.equal(layer.update(new, -new)[0], torch.cat([keys[order], new], dim=2))


def test_kernel_decision_weighs_every_linear_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    from emoreason.generation import matmul

    def probe(mkl: float, onednn: float, packed: float, onednn_accurate: bool = True) -> matmul.KernelProbe:
        seconds = {"mkl": mkl, "onednn": onednn, "mkl_packed": packed}
        return matmul.KernelProbe(seconds, {"mkl": True, "onednn": onednn_accurate, "mkl_packed": True})

    probes = {  # one shape 2x faster on oneDNN, one 0.8x; packing 1.1x on both
        (4, 8): probe(2.0, 1.0, 2.0 / 1.1),
        (8, 4): probe(1.0, 1.25, 1.0 / 1.1),
    }
    monkeypatch.setattr(matmul, "probe_linear_kernels", lambda rows, inner, outer: probes[(inner, outer)])
    # one of each: MKL 3.0 s, oneDNN 2.25 s (1.33x >= 1.15), packed 2.73 s
    assert matmul.fastest_linear_kernel(8, {(4, 8): 1, (8, 4): 1}) == "onednn"
    # one fast against four slow: MKL 6.0, oneDNN 6.0, packed 5.45 (1.1x < 1.15): MKL
    assert matmul.fastest_linear_kernel(8, {(4, 8): 1, (8, 4): 4}) == "mkl"
    # oneDNN fast but inaccurate (bf16 on AMX), packing 1.5x: packed
    probes[(4, 8)] = probe(2.0, 0.1, 4.0 / 3.0, onednn_accurate=False)
    probes[(8, 4)] = probe(1.0, 0.1, 2.0 / 3.0, onednn_accurate=False)
    assert matmul.fastest_linear_kernel(8, {(4, 8): 1, (8, 4): 1}) == "mkl_packed"
    assert matmul.fastest_linear_kernel(8, {(4, 8): 1, (8, 4): 1}, kernels=("mkl", "onednn")) == "mkl"
    assert matmul.fastest_linear_kernel(8, {}) == "mkl"


def test_packed_kernel_needs_room_for_its_packs(monkeypatch: pytest.MonkeyPatch) -> None:
    from emoreason.generation import matmul

    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64))  # 32 KiB of weights
    offered = []
    monkeypatch.setattr(matmul, "fastest_linear_kernel", lambda rows, shapes, kernels: offered.append(kernels))
    cpu = torch.device("cpu")
    monkeypatch.setattr(matmul, "free_memory_bytes", lambda: 4 * 32768)  # exactly four times the weights
    matmul.choose_linear_kernel(model, cpu, torch.float32, 8)
    monkeypatch.setattr(matmul, "free_memory_bytes", lambda: 4 * 32768 - 1)
    matmul.choose_linear_kernel(model, cpu, torch.float32, 8)
    assert "mkl_packed" in offered[0] and offered[1] == ["mkl", "onednn"]
    assert matmul.choose_linear_kernel(model, cpu, torch.bfloat16, 8) == "mkl"  # fp32 only
    assert len(offered) == 2


def test_model_linear_shapes_count_layers_but_not_lora_matrices(tiny: LoadedModel, tiny_path: Path) -> None:
    from peft import LoraConfig, get_peft_model

    from emoreason.generation.matmul import model_linear_shapes

    plain = model_linear_shapes(tiny.model)
    config = tiny.model.config
    assert sum(plain.values()) == 7 * config.num_hidden_layers + 1  # q k v o gate up down, and the output layer
    assert plain[(config.hidden_size, config.vocab_size)] == 1
    wrapped = get_peft_model(
        load_model(str(tiny_path), device="cpu").model, LoraConfig(r=2, target_modules="all-linear")
    )
    assert model_linear_shapes(wrapped) == plain


def test_a_prompt_sampled_n_times_runs_its_prompt_pass_once(tiny: LoadedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = TransformersEngine(tiny, batch_size=12)
    passed: list[int] = []
    real_prefill = engine._prefill
    monkeypatch.setattr(
        engine, "_prefill", lambda suffixes, *a, **k: passed.append(len(suffixes)) or real_prefill(suffixes, *a, **k)
    )
    convs = conversations(TEXTS[:3])
    sampled = engine.generate(convs, SamplingParams(n=4, max_new_tokens=8, temperature=1.0, seed=5))
    assert sum(passed) == 3  # three prompts through the prompt pass, not twelve rows
    assert [len(group) for group in sampled] == [4, 4, 4]
    # each prompt's copies start from its own prompt: top-1 sampling equals greedy on every copy
    top1 = engine.generate(convs, SamplingParams(n=4, max_new_tokens=8, temperature=1.0, top_k=1, seed=5))
    greedy = TransformersEngine(tiny, batch_size=1).generate(convs, SamplingParams(max_new_tokens=8))
    for copies, alone in zip(top1, greedy):
        assert all(c.token_ids == alone[0].token_ids for c in copies)


def test_choice_probabilities_are_the_step_softmax_over_the_choice(tiny: LoadedModel) -> None:
    """`choice_tokens`: at the first step that picks one of them, the row keeps their probabilities,
    the softmax of those logits alone (the full softmax renormalised over the choice); a choice no
    step picks leaves None. Checked against a fresh forward pass, batched and unbatched."""
    convs = conversations(["this is fine", "meh!"])
    plain = TransformersEngine(tiny).generate(convs, SamplingParams(max_new_tokens=6))
    inputs = tiny.family.encode(tiny.processor, convs[:1])
    ids = torch.cat([inputs["input_ids"], torch.tensor([plain[0][0].token_ids])], dim=1)
    with torch.inference_mode():
        logits = tiny.model(input_ids=ids).logits[0, inputs["input_ids"].shape[1] - 1 : -1].float()
    at = 2  # the third generated token is the one the choice holds
    picked = plain[0][0].token_ids[at]
    others = [t for t in range(5, 400) if t not in plain[0][0].token_ids[: at + 1]][:2]
    choice = (others[0], picked, others[1])
    params = SamplingParams(max_new_tokens=6, choice_tokens=choice)
    for batch_size in (1, 2):
        chosen = TransformersEngine(tiny, batch_size=batch_size).generate(convs, params)
        assert chosen[0][0].token_ids == plain[0][0].token_ids  # keeping the probabilities changes nothing
        expected = torch.softmax(logits[at, list(choice)], dim=-1)
        got = chosen[0][0].choice_probs
        assert got is not None and list(got) == list(choice)
        assert torch.allclose(torch.tensor(list(got.values())), expected, atol=1e-5)
        assert abs(sum(got.values()) - 1.0) < 1e-6
    unseen = tuple(t for t in range(5, 400) if t not in plain[0][0].token_ids)[:3]
    none = TransformersEngine(tiny).generate(convs[:1], SamplingParams(max_new_tokens=6, choice_tokens=unseen))
    assert none[0][0].choice_probs is None
