"""Distillation: the lexicon teacher on real VADER sentences, the consistency filter, the
runner's outputs and cache, and the openai teacher against a live, misbehaving HTTP server."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from emoreason.data import load_dataset
from emoreason.data.schema import Sample, mikels_task, vader_task
from emoreason.distill import (
    REASONS,
    FilterConfig,
    FilterStats,
    LexiconTeacher,
    OpenAITeacher,
    RetryPolicy,
    TeacherReply,
    distill,
    drop_reason,
    mix_matching_drops,
)
from emoreason.distill.lexicon import analyse_text, cue_words
from emoreason.distill.openai_teacher import parse_retry_after, request_messages
from emoreason.distill.run import ReplyCache, cache_key
from emoreason.distill.teachers import Teacher, TeacherRequest
from emoreason.formats import get_format
from emoreason.sft.data import load_sft_file

TASK = vader_task("tweets")
C2F = get_format("c2f")


def answer(polarity: str, score: float, think: str = "the words are warm and the tone is kind, clearly upbeat") -> str:
    return f"<polarity>{polarity}</polarity><think>{think}</think><score>{score}</score>"


# -- the filter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gold", "reason"),
    [
        (answer("positive", 2.0), 2.4, None),
        (answer("negative", -2.0), 2.4, "polarity_mismatch"),
        (answer("positive", 0.6), 2.4, "score_off"),  # 1.8 away, tolerance 1.0
        (answer("positive", 3.4), 2.4, None),  # exactly on the tolerance
        ("<polarity>positive</polarity> no think, no score", 2.4, "unparsed"),
        (answer("positive", 2.0, think="nice"), 2.4, "too_short"),
        (answer("positive", 2.0, think="good " * 500), 2.4, "too_long"),
        (answer("positive", 9.0), 2.4, "unparsed"),  # out of the scale: does not parse
    ],
)
def test_drop_reason_on_constructed_chains(text: str, gold: float, reason: str | None) -> None:
    sample = Sample(id="x", text="t", score=gold)
    got = drop_reason(C2F.parse(text, TASK), sample, TASK, FilterConfig())
    assert (got[0] if got else None) == reason
    if got:
        assert got[1]  # every drop says why


def test_drop_reason_for_label_tasks_and_failed_requests() -> None:
    task = mikels_task()
    emor3 = get_format("emor3")
    text = (
        "<step1>a dark alley, a figure</step1><step2>tense posture and shadows all around</step2>"
        "<step3>negative valence, high arousal</step3>\\boxed{fear}"
    )
    sample = Sample(id="x", image="i.png", label="anger")
    assert drop_reason(emor3.parse(text, task), sample, task, FilterConfig(min_words=2))[0] == "label_mismatch"
    assert drop_reason(emor3.parse(text, task), sample.with_(label="fear"), task, FilterConfig(min_words=2)) is None
    spaced = sample.with_(label=" Fear ")
    assert drop_reason(emor3.parse(text, task), spaced, task, FilterConfig(min_words=2)) is None  # as labels compare
    assert drop_reason(None, sample, task, FilterConfig())[0] == "request_failed"
    # a wrong label of the other polarity is filed as the wrong label (it was "polarity_mismatch")
    happy = sample.with_(label="contentment")
    assert drop_reason(emor3.parse(text, task), happy, task, FilterConfig(min_words=2)) == (
        "label_mismatch",
        "teacher fear, gold contentment",
    )


def test_filter_tolerance_defaults_to_an_eighth_of_the_scale() -> None:
    assert FilterConfig().tolerance(TASK) == pytest.approx(1.0)
    assert FilterConfig().tolerance(vader_task("x").__class__("sims", scale=(-1.0, 1.0))) == pytest.approx(0.25)
    assert FilterConfig(score_tolerance=0.3).tolerance(TASK) == 0.3


def test_filter_stats_count_per_reason_and_polarity() -> None:
    stats = FilterStats()
    stats.add("positive", None, 20)
    stats.add("positive", "score_off")
    stats.add("negative", "polarity_mismatch")
    stats.add("negative", None, 30)
    summary = stats.to_dict()
    assert summary["total"] == 4 and summary["kept"] == 2 and summary["kept_rate"] == 0.5
    assert summary["dropped"] == {"polarity_mismatch": 1, "score_off": 1}
    assert summary["by_gold_polarity"]["positive"] == {"kept": 1, "score_off": 1}
    assert summary["kept_reasoning_words"]["mean"] == 25
    assert sum(b["count"] for b in summary["kept_reasoning_words"]["histogram"]) == 2


def test_filter_stats_report_each_domains_polarity_mix_and_the_shifts() -> None:
    stats = FilterStats()
    # movies: 3 positive (2 kept), 3 negative (1 kept): half of the samples, two thirds of the kept
    for reason in (None, None, "score_off"):
        stats.add("positive", reason, 10, domain="movies")
    for reason in (None, "polarity_mismatch", "polarity_mismatch"):
        stats.add("negative", reason, 10, domain="movies")
    # tweets: 1 of 2 kept for each polarity, so the mix stays; products: nothing kept
    for polarity in ("positive", "negative"):
        stats.add(polarity, None, 10, domain="tweets")
        stats.add(polarity, "score_off", domain="tweets")
    stats.add("neutral", "polarity_mismatch", domain="products")
    mix = stats.to_dict()["polarity_mix"]
    positive = {"samples": 3, "kept": 2, "samples_share": 0.5, "kept_share": pytest.approx(2 / 3)}
    assert mix["movies"]["positive"] == positive
    assert mix["movies"]["negative"]["kept_share"] == pytest.approx(1 / 3)
    assert mix["products"]["neutral"] == {"samples": 1, "kept": 0, "samples_share": 1.0, "kept_share": 0.0}
    shifts = stats.mix_shifts()
    assert [(s.domain, s.polarity) for s in shifts] == [("movies", "negative"), ("movies", "positive")]
    assert shifts[1].samples_share == 0.5 and shifts[1].kept_share == pytest.approx(2 / 3)
    # a shift of 1/6 is reported at 0.05 and 0.15, not at 0.2
    assert len(stats.mix_shifts(threshold=0.15)) == 2 and stats.mix_shifts(threshold=0.2) == []
    # samples without a domain are one mix, "all"
    single = FilterStats()
    single.add("positive", None, 10)
    assert list(single.polarity_mix()) == ["all"]


def test_mix_matching_keeps_every_polarity_at_the_domains_lowest_keep_rate() -> None:
    groups = (
        [("movies", "positive")] * 10  # 0-9: 6 kept, a keep rate of 0.6
        + [("movies", "negative")] * 10  # 10-19: 3 kept, 0.3, the lowest: movies keeps 3 positive
        + [("movies", "neutral")] * 2  # 20-21: none kept, so it cannot set the rate
        + [("tweets", "positive")] * 4  # 22-25: 2 kept
        + [("tweets", "negative")] * 2  # 26-27: 1 kept, the same rate: nothing to drop
        + [(None, None)]  # 28: no gold polarity, never dropped
    )
    kept = [i < 6 or 10 <= i < 13 or i in (22, 23, 26, 28) for i in range(len(groups))]
    drops = mix_matching_drops(groups, kept, seed=0)
    assert len(drops) == 3 and set(drops) <= set(range(6)) and set(drops.values()) == {0.3}
    assert mix_matching_drops(groups, kept, seed=0) == drops  # seeded
    assert set(mix_matching_drops(groups, kept, seed=1)) <= set(range(6))
    # 7 positive of 10 against 3 negative of 9: round(10 x 1/3) = 3 positive stay
    uneven = [("m", "positive")] * 10 + [("m", "negative")] * 9
    assert len(mix_matching_drops(uneven, [i < 7 or 10 <= i < 13 for i in range(19)])) == 4
    assert mix_matching_drops(groups, [False] * len(groups)) == {}


# -- the lexicon teacher on real VADER sentences --------------------------------------------


def test_lexicon_chains_parse_and_cite_only_words_of_the_sentence() -> None:
    samples = load_dataset("vader:tweets").split("train")[:200]
    teacher = LexiconTeacher(C2F, TASK)
    replies: dict[int, TeacherReply] = {}
    teacher.run([TeacherRequest(s, C2F.messages(s, TASK)) for s in samples], replies.__setitem__)
    cited_any = 0
    for index, sample in enumerate(samples):
        parsed = C2F.parse(replies[index].text or "", TASK)
        assert parsed.ok, (sample.text, parsed.errors)
        assert parsed.polarity == TASK.score_polarity(parsed.score)
        quoted = re.findall(r'"([^"]+)"', parsed.reasoning["think"].split("Combined:")[0])
        words = [w.lower() for w in re.findall(r"\S+", sample.text)]
        for word in quoted:
            assert any(word.lower() in w for w in words), (word, sample.text)
        cited_any += bool(quoted)
        assert set(cue_words(analyse_text(sample.text))) <= set(quoted)  # every cue is cited
    assert cited_any > 120  # most tweets (145 of these 200) carry at least one lexicon word


def test_lexicon_handles_negation_intensifier_contrast_and_emphasis() -> None:
    analysis = analyse_text("The food was not good, but the staff were REALLY friendly!!")
    by_word = {c.word: c for c in analysis.words}
    assert by_word["good"].negated_by == "not" and by_word["good"].effective < 0
    assert analysis.contrast == "but" and by_word["friendly"].after_contrast
    assert analysis.exclamations == 2
    text = LexiconTeacher(C2F, TASK)
    replies: dict[int, TeacherReply] = {}
    sample = Sample(id="x", text=analysis.text, score=1.0)
    text.run([TeacherRequest(sample, C2F.messages(sample, TASK))], replies.__setitem__)
    think = C2F.parse(replies[0].text or "", TASK).reasoning["think"]
    assert 'negated by "not"' in think and 'contrast word "but"' in think and "exclamation" in think


def test_lexicon_rationalization_ends_on_the_gold_answer() -> None:
    sample = Sample(id="x", text="What a great day to be stuck in traffic for three hours.", score=-2.0)
    replies: dict[int, TeacherReply] = {}
    LexiconTeacher(C2F, TASK).run(
        [TeacherRequest(sample, C2F.messages(sample, TASK), gold={"polarity": "negative", "score": -2.0})],
        replies.__setitem__,
    )
    parsed = C2F.parse(replies[0].text or "", TASK)
    assert parsed.ok and parsed.polarity == "negative" and parsed.score == -2.0
    assert "The lexicon alone leans positive" in parsed.reasoning["think"]
    # a rater mean with many decimals is written as the <score> tag writes it, in the chain too
    sample = Sample(id="y", text="I'm not about meeting. I'm about doings.", score=0.557895)
    LexiconTeacher(C2F, TASK).run(
        [TeacherRequest(sample, C2F.messages(sample, TASK), gold={"polarity": "positive", "score": 0.557895})],
        replies.__setitem__,
    )
    parsed = C2F.parse(replies[0].text or "", TASK)
    assert parsed.score == 0.56 and "about 0.56 on the" in parsed.reasoning["think"], parsed.reasoning["think"]


def test_lexicon_teacher_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="c2f"):
        LexiconTeacher(get_format("emor3"), TASK)
    with pytest.raises(ValueError, match="score task"):
        LexiconTeacher(C2F, mikels_task())


# -- the runner: outputs, statistics, cache -----------------------------------------------


class CountingTeacher(Teacher):
    """Answers with fixed texts; counts what it is asked."""

    name = "counting"
    model = "m"

    def __init__(self, texts: dict[str, str | None]):
        self.texts, self.asked = texts, []

    def run(self, requests, on_reply):
        for i, request in enumerate(requests):
            self.asked.append(request.sample.id)
            text = self.texts[request.sample.id]
            on_reply(i, TeacherReply(text) if text is not None else TeacherReply(None, "boom", attempts=3))


def test_distill_writes_kept_dropped_and_stats_and_resumes_from_cache(tmp_path: Path) -> None:
    samples = [
        Sample(id="a", text="lovely", score=2.0, split="train"),
        Sample(id="b", text="awful", score=-2.0, split="train"),
        Sample(id="c", text="lovely", score=2.0, split="train"),  # same prompt as a
        Sample(id="d", text="meh", score=0.0, split="train"),
        Sample(id="e", text="fine", score=1.0, split="train"),
    ]
    texts = {
        "a": answer("positive", 2.1),
        "b": answer("positive", 2.0),
        "c": answer("positive", 2.0),
        "d": "nonsense",
        "e": None,
    }
    teacher = CountingTeacher(texts)
    result = distill(samples, TASK, C2F, teacher, tmp_path / "out")
    kept = [json.loads(x) for x in (tmp_path / "out" / "sft.jsonl").read_text().splitlines()]
    dropped = {
        json.loads(x)["id"]: json.loads(x) for x in (tmp_path / "out" / "dropped.jsonl").read_text().splitlines()
    }
    assert [k["id"] for k in kept] == ["a"]
    assert {i: d["reason"] for i, d in dropped.items()} == {
        "b": "polarity_mismatch",
        "c": "duplicate",
        "d": "unparsed",
        "e": "request_failed",
    }
    assert dropped["e"]["error"] == "boom" and dropped["b"]["teacher_text"] == texts["b"]
    record = kept[0]
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
    assert record["gold"] == {"polarity": "positive", "score": 2.0, "label": None}
    assert record["task"]["scale"] == [-4.0, 4.0]
    assert C2F.parse(record["messages"][-1]["content"], TASK).score == 2.1
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["kept"] == 1 and stats["total"] == 5 and set(stats["dropped"]) <= set(REASONS)
    assert (tmp_path / "out" / "lengths.png").is_file()
    assert result.requested == 5 and result.failed == 1

    # a rerun asks only for what failed; everything else comes from the cache
    again = CountingTeacher(texts)
    result = distill(samples, TASK, C2F, again, tmp_path / "out")
    assert again.asked == ["e"] and result.cached == 4
    assert (tmp_path / "out" / "sft.jsonl").read_text().count("\n") == 1


def test_samples_with_one_text_and_other_media_are_not_duplicates(tmp_path: Path) -> None:
    """Every image of an image folder shares the prompt's text: one chain was kept of the whole folder."""
    images = []
    for name in ("a", "b"):
        images.append(tmp_path / f"{name}.png")
        images[-1].write_bytes(b"\x89PNG")
    samples = [
        Sample(id="a", text="a caption", image=str(images[0]), score=2.0, split="train"),
        Sample(id="b", text="a caption", image=str(images[1]), score=2.0, split="train"),
        Sample(id="c", text="a caption", image=str(images[0]), score=2.0, split="train"),  # a's image again
    ]
    texts = {i: answer("positive", 2.0) for i in "abc"}
    distill(samples, TASK, C2F, CountingTeacher(texts), tmp_path / "out")
    kept = [json.loads(x)["id"] for x in (tmp_path / "out" / "sft.jsonl").read_text().splitlines()]
    dropped = [json.loads(x) for x in (tmp_path / "out" / "dropped.jsonl").read_text().splitlines()]
    assert kept == ["a", "b"] and [(d["id"], d["reason"]) for d in dropped] == [("c", "duplicate")]
    # media named from sft.jsonl's own folder, as the SFT reader resolves them (they were named from the
    # working directory, and a dataset given by a relative path could not be trained on)
    assert [json.loads(x)["image"] for x in (tmp_path / "out" / "sft.jsonl").read_text().splitlines()] == [
        "../a.png",
        "../b.png",
    ]
    examples = load_sft_file(tmp_path / "out" / "sft.jsonl")
    assert [Path(e.conversation.image).resolve() for e in examples] == [p.resolve() for p in images]


def test_distill_match_mix_drops_chains_of_the_polarity_the_teacher_reads_best(tmp_path: Path) -> None:
    # 4 positive sentences, all read right; 4 negative, half of them read as positive
    samples = [Sample(id=f"p{i}", text=f"good {i}", score=2.0, split="train", domain="movies") for i in range(4)]
    samples += [Sample(id=f"n{i}", text=f"bad {i}", score=-2.0, split="train", domain="movies") for i in range(4)]
    texts = {s.id: answer("positive", 2.0) for s in samples[:6]} | {s.id: answer("negative", -2.0) for s in samples[6:]}
    plain = distill(samples, TASK, C2F, CountingTeacher(texts), tmp_path / "plain")
    assert plain.stats.kept == 6 and len(plain.stats.mix_shifts()) == 2
    matched = distill(
        samples, TASK, C2F, CountingTeacher(texts), tmp_path / "matched", filter_config=FilterConfig(match_mix=True)
    )
    kept = [json.loads(x)["id"] for x in (tmp_path / "matched" / "sft.jsonl").read_text().splitlines()]
    assert sorted(k[0] for k in kept) == ["n", "n", "p", "p"] and matched.stats.mix_shifts() == []
    dropped = [json.loads(x) for x in (tmp_path / "matched" / "dropped.jsonl").read_text().splitlines()]
    assert sorted(d["reason"] for d in dropped) == [
        "mix_matched",
        "mix_matched",
        "polarity_mismatch",
        "polarity_mismatch",
    ]
    assert "movies positive chains kept at 50.0%" in next(d["detail"] for d in dropped if d["reason"] == "mix_matched")
    stats = json.loads((tmp_path / "matched" / "stats.json").read_text())
    assert stats["dropped"]["mix_matched"] == 2 and stats["filter"]["match_mix"] is True


def test_reply_cache_keeps_every_reply_after_a_write_killed_mid_line(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    first = {"key": "k1", "id": "a", "text": "one", "attempts": 1, "usage": {}}
    path.write_text(json.dumps(first) + "\n" + '{"key": "k2", "id": "b", "text": "tw', encoding="utf-8")  # killed here
    cache = ReplyCache(path)
    assert set(cache.entries) == {"k1"}  # the torn reply is not trusted
    cache.put("k2", "b", TeacherReply("two, asked again"))
    cache.put("k3", "c", TeacherReply("three", usage={"total_tokens": 7}))
    reloaded = ReplyCache(path)
    assert set(reloaded.entries) == {"k1", "k2", "k3"}
    assert reloaded.get("k2")["text"] == "two, asked again" and reloaded.get("k3")["usage"] == {"total_tokens": 7}
    assert reloaded.get("k1") == first


def test_distill_after_a_killed_run_never_pays_twice_for_a_reply(tmp_path: Path) -> None:
    samples = [
        Sample(id=name, text=text, score=2.0, split="train")
        for name, text in (("a", "lovely"), ("b", "sunny"), ("c", "kind"), ("d", "warm"))
    ]
    texts = {s.id: answer("positive", 2.0) for s in samples}
    distill(samples[:2], TASK, C2F, CountingTeacher(texts), tmp_path / "out")
    with (tmp_path / "out" / "cache.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"key": "0123", "id": "c", "te')  # the next reply, cut short by a kill
    resumed = CountingTeacher(texts)
    distill(samples, TASK, C2F, resumed, tmp_path / "out")
    assert resumed.asked == ["c", "d"]
    again = CountingTeacher(texts)
    result = distill(samples, TASK, C2F, again, tmp_path / "out")
    assert again.asked == [] and result.cached == 4 and result.requested == 0


def test_sft_file_loads_with_datasets(tmp_path: Path) -> None:
    import datasets

    samples = load_dataset("vader:products").split("train")[:30]
    distill(samples, TASK, C2F, LexiconTeacher(C2F, TASK), tmp_path)
    loaded = datasets.load_dataset("json", data_files=str(tmp_path / "sft.jsonl"), split="train")
    assert len(loaded) == json.loads((tmp_path / "stats.json").read_text())["kept"] > 0
    assert loaded[0]["messages"][2]["role"] == "assistant"


def test_rationalization_reaches_the_teacher_but_not_the_student(tmp_path: Path) -> None:
    sample = Sample(id="a", text="so good", score=2.0, split="train")
    seen: list[TeacherRequest] = []

    class Spy(CountingTeacher):
        def run(self, requests, on_reply):
            seen.extend(requests)
            super().run(requests, on_reply)

    distill([sample], TASK, C2F, Spy({"a": answer("positive", 2.0)}), tmp_path, rationalize=True)
    assert "The correct answer is polarity positive, score 2" in seen[0].messages[-1]["content"]
    record = json.loads((tmp_path / "sft.jsonl").read_text())
    assert "correct answer" not in record["messages"][1]["content"]
    assert record["teacher"]["rationalized"] is True


def test_cli_distill_lexicon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    from emoreason.cli import app, ui

    warnings = io.StringIO()
    monkeypatch.setattr(ui, "err_console", Console(file=warnings, width=200, markup=False))
    result = CliRunner().invoke(
        app, ["distill", "-d", "vader:tweets", "-d", "vader:products", "--limit", "40", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["total"] == 80 and "kept" in result.output
    mix = stats["polarity_mix"]
    assert sorted(mix) == ["products", "tweets"]
    assert [sum(p["samples"] for p in mix[d].values()) for d in ("products", "tweets")] == [40, 40]
    assert sum(p["kept"] for d in mix.values() for p in d.values()) == stats["kept"]
    moved = any(abs(p["kept_share"] - p["samples_share"]) > 0.05 for d in mix.values() for p in d.values())
    assert ("an SFT on sft.jsonl learns that prior" in warnings.getvalue()) == moved
    warnings.truncate(0)
    matched = CliRunner().invoke(
        app,
        ["distill", "-d", "vader:tweets", "-d", "vader:products", "--limit", "40", "--match-mix"]
        + ["--out", str(tmp_path / "matched")],
    )
    assert matched.exit_code == 0, matched.output
    stats = json.loads((tmp_path / "matched" / "stats.json").read_text())
    assert stats["filter"]["match_mix"] is True and "mix_matched" in stats["dropped"]
    assert "learns that prior" not in warnings.getvalue()
    monkeypatch.undo()  # errors below go to the real stderr, which the runner shows
    bad = CliRunner().invoke(app, ["distill", "-d", "vader:tweets", "--teacher", "openai", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--model" in bad.output


# -- the openai teacher against a live HTTP server ------------------------------------------


class Script:
    """What the server does for each prompt: a list of actions, one per attempt, the last one
    repeated: "ok", "500", "429", "400", "bad_json", "slow" (longer than the client timeout)."""

    def __init__(self, plan: dict[str, list[str]]):
        self.plan, self.calls, self.lock = plan, {}, threading.Lock()

    def action(self, key: str) -> str:
        with self.lock:
            n = self.calls.get(key, 0)
            self.calls[key] = n + 1
        steps = self.plan.get(key, ["ok"])
        return steps[min(n, len(steps) - 1)]


def make_server(script: Script, port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            content = body["messages"][-1]["content"]
            text = content if isinstance(content, str) else content[-1]["text"]
            key = re.search(r"Text: (\S+)", text).group(1)  # type: ignore[union-attr]
            action = script.action(key)
            if action == "slow":
                time.sleep(1.0)
                action = "ok"
            if action in ("500", "429", "400"):
                self.send_response(int(action))
                if action == "429":
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "scripted"}}')
                return
            payload = (
                b'{"choices": [{"message": {"content": '
                if action == "bad_json"
                else json.dumps(
                    {
                        "choices": [
                            {
                                "index": 0,
                                "message": {
                                    "role": "assistant",
                                    "content": None if action == "empty" else answer("positive", 2.0),
                                },
                                "finish_reason": "length" if action == "empty" else "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
                    }
                ).encode()
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def teacher_for(server: ThreadingHTTPServer, **kwargs: Any) -> OpenAITeacher:
    host, port = server.server_address[:2]
    options = {
        "concurrency": 4,
        "timeout": 0.5,
        "retry": RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.2),
        "seed": 0,
    }
    options.update(kwargs)
    return OpenAITeacher("scripted", f"http://{host}:{port}/v1", "sk-test", **options)


def test_openai_teacher_retries_what_is_transient_and_records_what_is_not(tmp_path: Path) -> None:
    script = Script(
        {
            "ok1": ["ok"],
            "slow1": ["slow", "ok"],
            "five": ["500", "500", "ok"],
            "rate": ["429", "ok"],
            "junk": ["bad_json", "ok"],
            "refused": ["400"],
            "down": ["500"],
            "empty": ["empty", "ok"],  # no text at temperature 0: the same again if asked again, each billed
        }
    )
    server = make_server(script)
    try:
        samples = [Sample(id=k, text=k, score=2.0, split="train") for k in script.plan]
        began = time.perf_counter()
        result = distill(samples, TASK, C2F, teacher_for(server), tmp_path)
        elapsed = time.perf_counter() - began
    finally:
        server.shutdown()
    kept = {json.loads(x)["id"] for x in (tmp_path / "sft.jsonl").read_text().splitlines()}
    dropped = {json.loads(x)["id"]: json.loads(x) for x in (tmp_path / "dropped.jsonl").read_text().splitlines()}
    assert kept == {"ok1", "slow1", "five", "rate", "junk"}
    assert script.calls == {"ok1": 1, "slow1": 2, "five": 3, "rate": 2, "junk": 2, "refused": 1, "down": 4, "empty": 1}
    assert "HTTP 400 (not retried)" in dropped["refused"]["error"]
    assert "no text (message content NoneType, finish_reason 'length'; not retried" in dropped["empty"]["error"]
    assert "gave up after 4 attempts" in dropped["down"]["error"] and "HTTP 500" in dropped["down"]["error"]
    assert elapsed >= 1.0  # the 429's Retry-After: 1 was honoured
    assert result.failed == 3


def test_openai_teacher_survives_a_server_restart_and_reruns_from_cache(tmp_path: Path) -> None:
    script = Script({f"s{i}": ["slow"] if i % 3 == 0 else ["ok"] for i in range(12)})
    server = make_server(script)
    port = server.server_address[1]
    samples = [Sample(id=f"s{i}", text=f"s{i}", score=2.0, split="train") for i in range(12)]
    teacher = teacher_for(
        server, timeout=2.0, concurrency=2, retry=RetryPolicy(max_attempts=8, base_delay=0.2, max_delay=0.5)
    )
    outcome: dict[str, Any] = {}
    some_done = threading.Event()

    def progress(n: int, kept: int, dropped: int) -> None:
        if kept >= 3:
            some_done.set()

    runner = threading.Thread(
        target=lambda: outcome.setdefault("r", distill(samples, TASK, C2F, teacher, tmp_path, progress=progress))
    )
    runner.start()
    assert some_done.wait(timeout=60)  # a few answers are in, others are in flight or queued
    server.shutdown()
    server.server_close()
    time.sleep(0.8)  # the client now meets refused connections and retries
    restarted = make_server(script, port)
    try:
        runner.join(timeout=60)
        assert not runner.is_alive()
    finally:
        restarted.shutdown()
        restarted.server_close()
    assert outcome["r"].failed == 0
    assert len((tmp_path / "sft.jsonl").read_text().splitlines()) == 12
    cached = [json.loads(line) for line in (tmp_path / "cache.jsonl").read_text().splitlines()]
    assert len(cached) == 12
    assert any(entry["attempts"] > 1 for entry in cached)  # some requests met the dead server and were retried

    # nothing is asked again: the rerun is served from the cache (no server is listening)
    closed = teacher_for(restarted)
    result = distill(samples, TASK, C2F, closed, tmp_path)
    assert result.requested == 0 and result.cached == 12


def test_openai_request_shape_and_retry_after() -> None:
    import base64

    sample = Sample(id="a", text="hi", image=__file__)
    request = TeacherRequest(sample, [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])
    messages = request_messages(request)
    parts = messages[-1]["content"]
    assert parts[0]["type"] == "image_url" and parts[0]["image_url"]["url"].startswith("data:")
    assert base64.b64decode(parts[0]["image_url"]["url"].split(",", 1)[1]) == Path(__file__).read_bytes()
    assert parts[-1] == {"type": "text", "text": "u"}
    assert parse_retry_after("3") == 3.0 and parse_retry_after("soon") is None and parse_retry_after(None) is None
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    assert all(0 <= policy.delay(5) <= 4.0 for _ in range(20))
    assert policy.delay(1, retry_after=2.5) >= 2.5


def test_distill_refuses_test_rows_and_sft_refuses_a_test_chain(tmp_path: Path) -> None:
    """distill --split test (or all) wrote the test sentences into sft.jsonl with nothing to stop SFT training on
    them; a row of one's own file without a split counts as test."""
    from emoreason.data import DataError
    from emoreason.distill import distill

    samples = [Sample(id="a", text="lovely", score=2.0, split="train"), Sample(id="b", text="awful", score=-2.0)]
    with pytest.raises(ValueError, match=r"1 of the 2 samples are test rows \(first \['b'\]\).*data.allow_test=true"):
        distill(samples, TASK, C2F, LexiconTeacher(C2F, TASK), tmp_path / "out")
    distill(samples, TASK, C2F, LexiconTeacher(C2F, TASK), tmp_path / "out", allow_test=True)
    with pytest.raises(DataError, match=r"sft.jsonl:2 \(field 'split'\): a chain of a test sentence"):
        load_sft_file(tmp_path / "out" / "sft.jsonl")


def test_the_filter_drops_a_chain_with_no_gold_and_keeps_a_capitalised_variant(tmp_path: Path) -> None:
    """A row without a gold score passed every check unchecked (each check skipped its missing gold), and
    "YAY. Another good phone interview." was dropped as a duplicate of "Yay. ..." (rated 1.87 and 1.44)."""
    samples = [
        Sample(id="a", text="Yay. Another good interview.", score=1.4, split="train"),
        Sample(id="b", text="YAY.  Another good interview.", score=1.9, split="train"),  # case and spacing differ
        Sample(id="c", text="Yay. Another good interview.", score=1.5, split="train"),  # the same as a
        Sample(id="d", text="no gold here", split="train"),
    ]
    texts = {"a": answer("positive", 1.5), "b": answer("positive", 2.0), "c": answer("positive", 1.5)}
    texts["d"] = answer("positive", 1.0)
    distill(samples, TASK, C2F, CountingTeacher(texts), tmp_path / "out")
    kept = [json.loads(x)["id"] for x in (tmp_path / "out" / "sft.jsonl").read_text().splitlines()]
    dropped = [json.loads(x) for x in (tmp_path / "out" / "dropped.jsonl").read_text().splitlines()]
    assert kept == ["a", "b"] and {d["id"]: d["reason"] for d in dropped} == {"c": "duplicate", "d": "no_gold"}


def test_a_sample_the_lexicon_teacher_cannot_read_is_filed_as_having_no_text(tmp_path: Path) -> None:
    """A clip without words was filed under "request_failed", as if the teacher had failed."""
    samples = [
        Sample(id="a", text="so good", score=2.0, split="train"),
        Sample(id="b", text="", score=1.0, split="train", cues="Voice: pitch high (+1.2 sd)."),
    ]
    distill(samples, TASK, C2F, LexiconTeacher(C2F, TASK), tmp_path / "out")
    dropped = [json.loads(x) for x in (tmp_path / "out" / "dropped.jsonl").read_text().splitlines()]
    assert [(d["id"], d["reason"]) for d in dropped] == [("b", "no_text")]
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["dropped"] == {"no_text": 1}


def test_two_endpoints_serving_one_model_name_do_not_share_cached_chains() -> None:
    """The cache key held the model name, not the endpoint: a cache file shared between two servers gave one
    server's chains for the other's weights."""
    here = OpenAITeacher("m", "http://127.0.0.1:8000/v1", "k")
    there = OpenAITeacher("m", "http://10.0.0.2:8000/v1", "k")
    request = TeacherRequest(sample=Sample(id="a", text="fine", score=1.0), messages=[{"role": "user", "content": "x"}])
    assert cache_key(here, request) != cache_key(there, request)
    assert cache_key(here, request) == cache_key(OpenAITeacher("m", "http://127.0.0.1:8000/v1/", "k"), request)
