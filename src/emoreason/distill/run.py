"""Distillation, end to end: samples -> teacher chains (cached) -> filter -> SFT files.

Output folder:

    sft.jsonl        kept examples, chat-messages form (system/user/assistant) + id, media, gold
    dropped.jsonl    every dropped example with its reason, detail and the teacher's text
    stats.json       kept/dropped per reason and per gold polarity, reasoning-length histogram
    lengths.png      the histogram as a plot
    cache.jsonl      every teacher reply, keyed by (teacher, model, prompt, params)

The cache is appended to (and flushed) as each reply arrives, so an interrupted run resumes
by asking only for what is missing; the three output files are rewritten from it at the end.
The SFT prompt is the one the student sees at inference (`build_conversation`): the
rationalization sentence, if any, went to the teacher only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emoreason.data.jsonl import AppendOnlyJsonl, read_jsonl_keyed, write_jsonl
from emoreason.data.schema import Sample, TaskInfo
from emoreason.data.text import check_text
from emoreason.distill.filter import FilterConfig, FilterStats, drop_reason, mix_matching_drops, reasoning_words
from emoreason.distill.teachers import Teacher, TeacherReply, TeacherRequest, rationalization_messages
from emoreason.formats.base import ParseResult, ReasoningFormat
from emoreason.provenance import file_sha256
from emoreason.rewards.composite import Gold

log = logging.getLogger(__name__)

Progress = Callable[[int, int, int], None]  # (newly done, kept so far, dropped so far)


def cache_key(teacher: Teacher, request: TeacherRequest) -> str:
    """sha256 of (teacher, model, prompt, media contents, params): the same question to the same
    teacher is never paid for twice, and a changed prompt or setting is a new question.

    Raises `InvalidTextError` (a ValueError) naming the sample when its prompt is not valid
    Unicode: `emoreason.data.text`'s policy, for callers that build samples without a loader."""
    sample = request.sample
    check_text(request.messages, f"sample {sample.id!r} prompt")
    media = {
        k: file_sha256(v) for k, v in (("image", sample.image), ("audio", sample.audio), ("video", sample.video)) if v
    }
    blob = json.dumps(
        {
            "teacher": teacher.name,
            "model": teacher.model,
            "messages": request.messages,
            "media": media,
            "params": teacher.params(),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class ReplyCache:
    """Successful replies by cache key, on disk as an append-only JSONL file.

    Each reply is appended and flushed as it arrives. A line torn by a killed run is skipped on
    load (and that reply asked again); the first new reply then repairs the torn tail before it is
    appended, so it is never glued onto the broken line and lost on the next load."""

    def __init__(self, path: Path):
        self.path = path
        read = read_jsonl_keyed(path, "key")
        if read.skipped:
            log.warning("%s: %s; those replies will be asked again", path, read.skipped_summary())
        self.entries: dict[str, dict[str, Any]] = read.records
        self._log = AppendOnlyJsonl(path)

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, sample_id: str, reply: TeacherReply) -> None:
        entry = {"key": key, "id": sample_id, "text": reply.text, "attempts": reply.attempts, "usage": reply.usage}
        self.entries[key] = entry
        self._log.append(entry)


@dataclass
class DistillResult:
    out_dir: Path
    stats: FilterStats
    requested: int  # replies asked of the teacher in this run (not found in the cache)
    cached: int
    failed: int


#: a teacher reply judged: its parse, the SFT target re-rendered from it when kept, and (reason, detail) when dropped
Verdict = tuple[ParseResult | None, str | None, tuple[str, str] | None]


def normalized_target(fmt: ReasoningFormat, task: TaskInfo, parsed: ParseResult) -> str:
    """The kept chain re-rendered by the format, so SFT targets have one exact layout whatever
    the teacher wrapped around its tags."""
    reasoning: dict[str, str] | str = parsed.reasoning
    if set(parsed.reasoning) == {"think"}:
        reasoning = parsed.reasoning["think"]
    return fmt.render_target(
        task, reasoning=reasoning, polarity=parsed.polarity, score=parsed.score, label=parsed.label
    )


def _dedupe_key(messages: list[dict[str, Any]], sample: Sample) -> str:
    """Two samples are the same prompt when their text (spacing aside) and their media are: every image of
    an image-only dataset shares one text, and clips may share a transcript. Case counts: "YAY." and "Yay."
    are rated apart (capitals are an intensity cue), and were dropped as one."""
    text = re.sub(r"\s+", " ", str(messages[-1]["content"])).strip()
    media = [f"{kind}={getattr(sample, kind)}" for kind in sample.modalities if kind != "text"]
    return "\n".join([text, *media])


def distill(
    samples: Sequence[Sample],
    task: TaskInfo,
    fmt: ReasoningFormat,
    teacher: Teacher,
    out_dir: str | Path,
    *,
    filter_config: FilterConfig | None = None,
    rationalize: bool = False,
    cache_path: str | Path | None = None,
    progress: Progress | None = None,
    allow_test: bool = False,
) -> DistillResult:
    """Ask `teacher` for a chain per sample, keep those that pass the consistency filter, and write
    sft.jsonl (training data), dropped.jsonl, stats.json and lengths.png into `out_dir`; the replies are
    cached, so a rerun asks only for what is missing. Test rows are refused unless `allow_test`: what
    this writes is trained on, and a model trained on test sentences has no test figures to report."""
    from emoreason.formats import build_conversation

    held_out = [s.id for s in samples if s.split == "test"]
    if held_out and not allow_test:
        raise ValueError(
            f"{len(held_out)} of the {len(samples)} samples are test rows (first {held_out[:3]}): distill writes "
            "SFT training data, and a model trained on test sentences has no test figures to report. Distill the "
            "train split (data.split=train; in a file of your own, a row without a `split` counts as test), or "
            "set data.allow_test=true for chains you will not train on"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    filter_config = filter_config or FilterConfig()
    cache = ReplyCache(Path(cache_path) if cache_path else out / "cache.jsonl")

    prompts = [build_conversation(s, fmt, task, cues=s.cues).messages for s in samples]
    requests = []
    for sample, messages in zip(samples, prompts):
        gold = None
        if rationalize:
            g = Gold.from_sample(sample, task)
            gold = {"polarity": g.resolve_polarity(task), "score": g.score, "label": g.label}
        teacher_messages = rationalization_messages(messages, gold, fmt) if gold else messages
        requests.append(TeacherRequest(sample=sample, messages=teacher_messages, gold=gold))
    keys = [cache_key(teacher, r) for r in requests]

    replies: dict[int, TeacherReply] = {}
    todo = []
    for index, key in enumerate(keys):
        entry = cache.get(key)
        if entry is not None:
            replies[index] = TeacherReply(entry["text"], attempts=0, usage=entry.get("usage", {}))
        else:
            todo.append(index)
    if teacher.answers_depend_on_the_set:  # cheap, deterministic: the cache cannot stand for a refit on another set
        replies, todo = {}, list(range(len(requests)))
    running = FilterStats()

    # each reply's verdict, once: the kept chain re-rendered as its SFT target, or why it is dropped
    verdicts: dict[int, Verdict] = {}

    def judge(index: int) -> Verdict:
        if index in verdicts:
            return verdicts[index]
        reply = replies[index]
        parsed = fmt.parse(reply.text, task) if reply.ok and reply.text is not None else None
        reason = drop_reason(parsed, samples[index], task, filter_config)
        target = None
        if reason is None and parsed is not None:
            try:
                target = normalized_target(fmt, task, parsed)
            except ValueError as err:
                reason = ("unparsed", f"cannot re-render: {err}")
        if not reply.ok:
            reason = (reply.reason or "request_failed", reply.error or "no answer")
        verdicts[index] = (parsed, target, reason)
        return verdicts[index]

    if progress is not None:
        for index in replies:
            reason = judge(index)[2]
            running.add(None, reason[0] if reason else None)
        progress(len(replies), running.kept, running.total - running.kept)

    def on_reply(position: int, reply: TeacherReply) -> None:
        index = todo[position]
        replies[index] = reply
        if reply.ok:
            cache.put(keys[index], samples[index].id, reply)
        if progress is not None:
            reason = judge(index)[2]
            running.add(None, reason[0] if reason else None)
            progress(1, running.kept, running.total - running.kept)

    teacher.check_samples([requests[i].sample for i in todo])
    teacher.run([requests[i] for i in todo], on_reply)
    missing = [i for i in todo if i not in replies]
    if missing:
        raise RuntimeError(
            f"teacher {teacher.name} returned no reply for {len(missing)} request(s), e.g. {samples[missing[0]].id}"
        )

    # every sample's verdict first: matching the mix needs to know all the kept chains
    decided: list[Verdict] = []
    seen: set[str] = set()
    for index in range(len(samples)):
        parsed, target, reason = judge(index)
        dedupe = _dedupe_key(prompts[index], samples[index])
        if reason is None and dedupe in seen:
            reason = ("duplicate", "the same prompt was kept already")
        if reason is None:
            seen.add(dedupe)
        decided.append((parsed, target, reason))
    polarities = [Gold.from_sample(sample, task).resolve_polarity(task) for sample in samples]
    if filter_config.match_mix:
        groups = [(sample.domain, polarity) for sample, polarity in zip(samples, polarities)]
        kept_flags = [reason is None for _, _, reason in decided]
        for index, rate in mix_matching_drops(groups, kept_flags, filter_config.match_mix_seed).items():
            where = f"{samples[index].domain} " if samples[index].domain else ""
            detail = (
                f"{where}{polarities[index]} chains kept at {rate:.1%} of the samples, the domain's lowest keep rate"
            )
            decided[index] = (decided[index][0], decided[index][1], ("mix_matched", detail))

    stats = FilterStats()
    task_record = task.to_dict()
    failed = 0
    kept_records: list[dict[str, Any]] = []
    dropped_records: list[dict[str, Any]] = []
    for index, sample in enumerate(samples):
        reply = replies[index]
        failed += not reply.ok
        parsed, target, reason = decided[index]
        gold_polarity = polarities[index]
        stats.add(
            gold_polarity, reason[0] if reason else None, reasoning_words(parsed) if parsed else None, sample.domain
        )
        base = {
            "id": sample.id,
            "gold": {"polarity": gold_polarity, "score": sample.score, "label": sample.label},
            "teacher": {"name": teacher.name, "model": teacher.model, "rationalized": rationalize},
            "split": sample.split,
            "domain": sample.domain,
        }
        if speaker := sample.speaker:  # SFT holds out whole speakers with it (`sft.data.split_eval`)
            base["speaker"] = speaker
        base.update(sample.media_record(media_from=out))  # as the SFT reader resolves them: from sft.jsonl's folder
        if reason is None:
            assert target is not None
            messages = prompts[index] + [{"role": "assistant", "content": target}]
            kept_records.append({"messages": messages, "format": fmt.name, "task": task_record, **base})
        else:
            dropped_records.append(
                {**base, "reason": reason[0], "detail": reason[1], "teacher_text": reply.text, "error": reply.error}
            )
    # written whole and atomically: an interrupted run never leaves half an SFT file for training
    write_jsonl(out / "sft.jsonl", kept_records)
    write_jsonl(out / "dropped.jsonl", dropped_records)
    summary = stats.to_dict()
    summary.update(
        {
            "teacher": teacher.name,
            "model": teacher.model,
            "format": fmt.name,
            "task": task.name,
            "rationalized": rationalize,
            "filter": filter_config.__dict__
            | {"tolerance_used": (filter_config.tolerance(task) if task.is_regression else None)},
        }
    )
    (out / "stats.json").write_text(json.dumps(summary, indent=2) + "\n")
    _plot_lengths(stats, out / "lengths.png")
    return DistillResult(out, stats, requested=len(todo), cached=len(keys) - len(todo), failed=failed)


def _plot_lengths(stats: FilterStats, path: Path) -> None:
    if not stats.kept_lengths:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(stats.kept_lengths, bins=20, color="#4a7ab5")
    ax.set_xlabel("reasoning length (words)")
    ax.set_ylabel("kept chains")
    ax.set_title(f"{stats.kept} kept of {stats.total}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


__all__ = ["DistillResult", "ReplyCache", "cache_key", "distill", "normalized_target"]
