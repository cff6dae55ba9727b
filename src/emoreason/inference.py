"""Explainable inference: samples in, audit records out.

The audit record (what `emoreason analyze --json` prints and `evaluate` stores per sample) is
the product's unit of accountability: the parsed polarity, reasoning parts and score or label,
whether the answer parsed, what failed, the raw completion, and which model and format made it.
A scored C2F answer's `score` is its written number weighted by the probability the model gave
its polarity (`score_readout: confidence`, `formats.readout`); `written_score` keeps the number
the chain wrote and `polarity_probs` the probabilities. By default a model that carries a
`ScoreFit` reads it off that fitted line instead (`score_readout: fitted`; `confidence_score`
keeps the confidence one).

`conversations_for` and `records_for` are the two halves of `analyze` (the prompts asked, the
records of what came back), for callers that generate in between themselves: `emoreason.api.Explainer`
binds them to its settings (the server calls its steps around its request batcher). `ModelSpec` is
what they need to know about the model: the id records carry, the media it reads, and whether a
prompt fits its context (`ContextTooLong` when not).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from emoreason.data.schema import POLARITIES, Polarity, Sample, TaskInfo, quotable_source
from emoreason.data.text import check_text, is_blank
from emoreason.formats import get_format
from emoreason.formats.base import CUT_OFF, ParseResult, ReasoningFormat
from emoreason.formats.consensus import choose_consensus
from emoreason.formats.conversation import build_conversation
from emoreason.formats.readout import (
    ScoreFit,
    confidence_weighted_score,
    effective_readout,
    fit_features,
    fitted_score,
    polarity_choice,
    polarity_position,
    polarity_probs,
    reading_fit,
)
from emoreason.generation import Completion, GenerationBackend, SamplingParams
from emoreason.generation.logprobs import choice_logprobs
from emoreason.metrics.attribution import WordShift, occlusions, word_shifts
from emoreason.metrics.evidence import cue_statements, mark_evidence
from emoreason.metrics.faithfulness import collapse_spaces
from emoreason.metrics.grounding import citation_grounding
from emoreason.metrics.valence import misrated_cues, negation_notes, unnamed_cues, unrated_cues
from emoreason.models import Conversation, LoadedModel, MediaError


class ContextTooLong(ValueError):
    """A prompt and the answer asked for do not fit the model's context.

    Refused, not cut: a cut text is a different text, and the model would explain (and be scored
    on) words the user did not know were dropped. `detail` gives both numbers and names `option`,
    the setting that asks for the answer's length (`max_tokens`, `--max-new-tokens`, ...)."""

    def __init__(self, prompt_tokens: int, max_tokens: int, context_length: int, option: str, about: str = ""):
        self.prompt_tokens, self.max_tokens = prompt_tokens, max_tokens
        self.context_length, self.option = context_length, option
        self.detail = (
            f"the prompt has {prompt_tokens} tokens and {option} asks for {max_tokens}; "
            f"the model's context holds {context_length}"
        )
        super().__init__(f"{about}: {self.detail}; shorten or split the text" if about else self.detail)

    def about(self, what: str) -> ContextTooLong:
        """The same refusal, naming what was refused (`input1 (9000 characters)`) and what to do."""
        return ContextTooLong(self.prompt_tokens, self.max_tokens, self.context_length, self.option, what)


@dataclass
class ModelSpec:
    """What explaining needs to know about the model behind an engine, without asking the engine:
    the id audit records carry, its family and the media it reads, and the tokenizer and context
    length that tell whether a prompt fits (`check_fits`). The server's `ModelInfo` is one."""

    id: str
    family: str = "causal_lm"
    modalities: frozenset[str] = frozenset()
    tokenizer: Any = None  # counts prompt tokens (text models)
    context_length: int | None = None
    #: the adapter folders applied, in order: their own settings (`models.shipped.AdapterSettings`:
    #: format, task, the score line) are the explainer's defaults, with or without the weights at hand
    adapters: tuple[str, ...] = ()
    # uses of the tokenizer take turns: a fast tokenizer raises "Already borrowed" when two threads
    # use it at once (`from_loaded` takes a copy, so the engine's own never waits on this lock)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_loaded(cls, loaded: Any, **more: Any) -> Self:
        """From a `LoadedModel`; the id is the one `emoreason analyze` writes in audit records.
        `more` sets the fields a subclass adds."""
        config = loaded.model.config
        text_config = getattr(config, "text_config", None) or config
        return cls(
            id=loaded.model_id,
            family=loaded.family.name,
            modalities=frozenset(loaded.family.modalities),
            tokenizer=copy.deepcopy(loaded.tokenizer),
            context_length=getattr(text_config, "max_position_embeddings", None),
            adapters=tuple(str(a) for a in loaded.adapters),
            **more,
        )

    def prompt_tokens(self, conversation: Conversation) -> int | None:
        """Tokens of a text model's rendered prompt; None when unknown (media models). Raises
        `ValueError` when the chat template refuses the messages (e.g. their role order)."""
        if self.tokenizer is None or self.family != "causal_lm":
            return None
        from emoreason.models.families.causal_lm import render_prompts

        with self.lock:
            try:
                text = render_prompts(self.tokenizer, [conversation])[0]
            except Exception as err:  # noqa: BLE001 - whatever the template raises, said as one error
                raise ValueError(f"the model's chat template rejects these messages: {err}") from None
            return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def check_fits(self, conversation: Conversation, max_tokens: int, option: str = "max_new_tokens") -> None:
        """Raise `ContextTooLong` when the prompt plus `max_tokens` exceed the model's context; checked
        only where the prompt can be counted before generating (text models)."""
        prompt = self.prompt_tokens(conversation)
        if prompt is not None and self.context_length and prompt + max_tokens > self.context_length:
            raise ContextTooLong(prompt, max_tokens, self.context_length, option)


def audit_record(
    sample: Sample,
    completion: Completion,
    fmt: ReasoningFormat,
    task: TaskInfo,
    model_name: str,
    latency_s: float,
    prefix: str = "",
    cues: str | None = None,
    choice: Mapping[Polarity, int] | None = None,
) -> dict[str, Any]:
    """The audit record of one prediction. `citations` counts the quotes and measured cues the
    chain cites and how many occur in its input (the sample's text and `cues`, the cue text the
    prompt carried, by default the sample's own; `metrics.grounding`), and says where: see
    `citation_record`. With `choice` (`readout_choice`) and a completion that kept its polarity
    probabilities, `score` is the confidence-weighted one (`formats.readout`): see `_record`."""
    parsed = fmt.parse(prefix + completion.text, task, cut=completion.finish_reason == "length")
    return _record(sample, completion, parsed, fmt, model_name, latency_s, prefix, cues, task, choice)


def voted_record(
    sample: Sample,
    completions: Sequence[Completion],
    fmt: ReasoningFormat,
    task: TaskInfo,
    model_name: str,
    latency_s: float,
    cues: str | None = None,
    choice: Mapping[Polarity, int] | None = None,
) -> dict[str, Any]:
    """The audit record of the answer that speaks for several sampled ones (`formats.consensus`),
    as `audit_record` writes it, plus `votes`: how many answers there were (`k`), how many parsed,
    how many agree with the chosen verdict, which one was chosen, and every answer's polarity,
    label and score, so that a reader sees how settled the model was."""
    parsed = [fmt.parse(c.text, task, cut=c.finish_reason == "length") for c in completions]
    chosen = choose_consensus(parsed)
    record = _record(
        sample, completions[chosen.index], parsed[chosen.index], fmt, model_name, latency_s, "", cues, task, choice
    )
    record["votes"] = {
        "k": len(completions),
        "parsed": chosen.parsed,
        "agree": chosen.votes,
        "chosen": chosen.index,
        "answers": [{"polarity": p.polarity, "label": p.label, "score": p.score} for p in parsed],
    }
    return record


def _cut_off(parsed: ParseResult, completion: Any) -> list[str]:
    """The error an unparsed answer gets when it stopped at the token limit, not at its end, and no
    part says so already (`formats.base.CUT_OFF`, a part the limit stopped inside): its missing parts
    were never written, and more tokens would let them be."""
    if parsed.ok or completion.finish_reason != "length" or any(e.message == CUT_OFF for e in parsed.errors):
        return []
    return [f"cut off at the token limit after {completion.num_tokens} tokens: allow more new tokens"]


def _record(
    sample: Sample,
    completion: Completion,
    parsed: ParseResult,
    fmt: ReasoningFormat,
    model_name: str,
    latency_s: float,
    prefix: str,
    cues: str | None,
    task: TaskInfo | None = None,
    choice: Mapping[Polarity, int] | None = None,
) -> dict[str, Any]:
    """The record; `negations` where the chain names a negation or the input negates a cue the
    chain states (`metrics.valence.negation_notes`, each with whether it stands in the input);
    `unnamed_cues` where the input has words VADER's lexicon rates that the chain gives no valence
    (`metrics.valence.unnamed_cues`); `misrated_cues` where the chain states a number for a word further
    from the lexicon's valence than the word's raters spread (`metrics.valence.misrated_cues`);
    `unrated_cues` where it states a number for a word the lexicon does not rate
    (`metrics.valence.unrated_cues`);
    with `choice`, also `polarity_probs` (the model's probability of each polarity
    word where it wrote one) and, for a scored task, `score` read with the `confidence` readout
    and `written_score`, the number the chain wrote. `score_readout` says which `score` is."""
    probs = polarity_probs(completion.choice_probs, choice)
    score, readout = read_score(parsed, probs, task)
    record = {
        "id": sample.id,
        "polarity": parsed.polarity,
        "score": score,
        "label": parsed.label,
        "reasoning": dict(parsed.reasoning),
        "parse_ok": parsed.ok,
        "errors": [str(e) for e in parsed.errors] + _cut_off(parsed, completion),
        "raw_completion": prefix + completion.text,
        "completion_tokens": completion.num_tokens,
        "finish_reason": completion.finish_reason,
        "model": model_name,
        "format": fmt.name,
        "latency_s": round(latency_s, 4),
        "citations": citation_record(prefix + completion.text, sample.text, sample.cues if cues is None else cues),
        "task": task.name if task is not None else None,  # what the answer was asked as, e.g. on a server's log
        "score_readout": readout,
    }
    if task is not None and not task.reads_back:
        # a scale, labels or neutral band of one's own: the record says what was asked, where "custom" did not
        record["task_info"] = task.to_dict()
    # the negations the chain names, and those the input has before a cue the chain states unnamed: in the
    # input's own words (the cue text's labels, "voice clarity", are no sentiment words)
    source = sample.text or ""
    statements = cue_statements(prefix + completion.text)  # parsed once for the four notes below
    notes = negation_notes(statements, source)
    if notes:
        record["negations"] = [note.to_dict() for note in notes]
    # the words of the input VADER's lexicon rates that the chain gives no valence
    left_out = unnamed_cues(statements, source)
    if left_out:
        record["unnamed_cues"] = left_out
    # the words the chain gives a number the lexicon's raters would not
    misrated = misrated_cues(statements)
    if misrated:
        record["misrated_cues"] = misrated
    # ... and those it gives a number the lexicon has none for: the model's own reading
    unrated = unrated_cues(statements)
    if unrated:
        record["unrated_cues"] = unrated
    if probs is not None:
        record["polarity_probs"] = {p: round(v, 4) for p, v in probs.items()}
    if readout == "confidence":
        record["written_score"] = parsed.score
    cue_text = sample.cues if cues is None else cues
    if cue_text:  # the measured cues the prompt carried, so a cue citation can be checked from the record alone
        record["cues"] = cue_text
    return record


def read_score(
    parsed: ParseResult, probs: Mapping[Polarity, float] | None, task: TaskInfo | None
) -> tuple[float | None, str]:
    """The answer's score as records report it, and which readout gave it: with the polarity
    probabilities (`formats.readout.polarity_probs`) on a scored task, the confidence readout
    (`formats.readout`), rounded to three decimals (the probabilities are float32; scores are
    written with one or two), and "confidence"; else the written score (None for no score or a
    task without one) and "written"."""
    if probs is None or task is None or not task.is_regression or parsed.score is None:
        return parsed.score, "written"
    low, high = task.scale or (float("-inf"), float("inf"))
    if not low <= parsed.score <= high:  # kept as written, which scoring rejects: a readout would pull it in
        return parsed.score, "written"
    return round(confidence_weighted_score(parsed.score, parsed.polarity, probs, task), 3), "confidence"


def citation_record(completion: str, text: str, cues: str | None = None) -> dict[str, Any]:
    """The `citations` field of an audit record: `cited`, `grounded` and `ungrounded` (the
    citations of `completion` and whether they occur in `text` + `cues`, `metrics.grounding`),
    plus `spans`, where each occurs in the input and the direction the chain gives it, and
    `not_found` (`metrics.evidence.mark_evidence`, what the page and the terminal highlight).
    A span is {field: "text" or "cues", start, end (code-point offsets in that field), text,
    citation (as written), direction: "positive", "negative", "neutral" or null}."""
    source = quotable_source(text, cues)
    evidence = mark_evidence(completion, text or "", cues or "")
    return citation_grounding(completion, source).to_dict() | evidence.to_dict(text or "", cues or "")


def check_inputs(samples: Sequence[Sample], cues: Mapping[str, str | None] | None = None) -> None:
    """Raise `ValueError` naming the first sample a model cannot be asked about: text that is not
    valid Unicode (`emoreason.data.text.check_text`, the policy of every entry point), or nothing
    at all to read (no text, no media, no cue text), which a model would answer anyway, with a
    confident polarity about nothing. `cues` as in `analyze`."""
    for sample in samples:
        cue = sample.cues if cues is None else cues.get(sample.id)
        check_text(sample.text, f"sample {sample.id!r} text")
        check_text(cue or "", f"sample {sample.id!r} cues")
        if is_blank(sample.text) and is_blank(cue) and not (sample.audio or sample.video or sample.image):
            raise ValueError(f"sample {sample.id!r} has no text, no media and no cue text: nothing to analyse")


def _cue_text(sample: Sample, cues: Mapping[str, str | None] | None) -> str | None:
    return sample.cues if cues is None else cues.get(sample.id)


def conversations_for(
    samples: Sequence[Sample], fmt: ReasoningFormat, task: TaskInfo, cues: Mapping[str, str | None] | None = None
) -> list[Conversation]:
    """The prompt each sample is asked with; `cues` as in `analyze`."""
    return [build_conversation(s, fmt, task, cues=_cue_text(s, cues)) for s in samples]


def records_for(
    samples: Sequence[Sample],
    outputs: Sequence[Sequence[Completion]],
    fmt: ReasoningFormat,
    task: TaskInfo,
    model_name: str,
    latency_s: float,
    cues: Mapping[str, str | None] | None = None,
    choice: Mapping[Polarity, int] | None = None,
    fit: ScoreFit | None = None,
) -> list[dict[str, Any]]:
    """The audit record of each sample's answer (`outputs` as `GenerationBackend.generate` returns
    them for `conversations_for(samples, ...)`), its citations checked against the text and the cue
    text its prompt carried; `cues` as in `analyze`. A sample given several completions (votes,
    `SamplingParams.n` > 1) gets the one that speaks for them all (`voted_record`). `choice` as in
    `audit_record`; with `fit`, confidence-read scores are read off it (`with_fitted_score`)."""
    records = [
        voted_record(s, out, fmt, task, model_name, latency_s, _cue_text(s, cues) or "", choice)
        if len(out) > 1
        else audit_record(s, out[0], fmt, task, model_name, latency_s, cues=_cue_text(s, cues) or "", choice=choice)
        for s, out in zip(samples, outputs, strict=True)
    ]
    return [with_fitted_score(r, fit, task) for r in records] if fit is not None else records


def with_fitted_score(record: dict[str, Any], fit: ScoreFit, task: TaskInfo) -> dict[str, Any]:
    """`record` with its score read off `fit` (`formats.readout.fitted_score`) when it was read with
    the confidence readout: `score_readout` becomes "fitted" and `confidence_score` keeps the
    confidence one. Other records (written scores, no score) are returned as they are."""
    features = record_fit_features(record)
    if features is None or record.get("score_readout") != "confidence":
        return record
    score = fitted_score(fit, features, record["written_score"], record["polarity"], task)
    return record | {"score": round(score, 3), "score_readout": "fitted", "confidence_score": record["score"]}


def record_fit_features(record: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    """A record's `formats.readout.FIT_FEATURES` (its confidence score, P(positive) - P(negative),
    the valences its chain states for its cues, the probit margin), or None for a record read without the polarity's
    probabilities (`score_readout` written) or with no score."""
    readout = record.get("score_readout")
    confidence = record.get("confidence_score") if readout == "fitted" else record.get("score")
    if readout not in ("confidence", "fitted") or confidence is None or not record.get("polarity_probs"):
        return None
    valences = [s.effective for s in cue_statements(record.get("raw_completion") or "") if s.effective is not None]
    return fit_features(float(confidence), record["polarity_probs"], valences)


def readout_choice(engine: Any, fmt: ReasoningFormat, task: TaskInfo, score_readout: str) -> dict[Polarity, int] | None:
    """The polarity tokens to keep probabilities of (`SamplingParams.choice_tokens`) for the
    `confidence` and `fitted` score readouts, or None where they do not apply: readout `written`, a task
    without a score, a format without a leading polarity, or an engine whose tokenizer cannot be
    read (then scores are read as written)."""
    tokenizer = getattr(getattr(engine, "loaded", None), "tokenizer", None)
    if effective_readout(score_readout, fmt, task) == "written" or tokenizer is None:
        return None
    return polarity_choice(tokenizer, fmt)


def with_choice(params: SamplingParams, choice: Mapping[Polarity, int] | None) -> SamplingParams:
    """`params` that keep the probabilities of `choice`'s tokens (unchanged without one)."""
    return params if not choice else dataclasses.replace(params, choice_tokens=tuple(choice.values()))


def analyze(
    engine: GenerationBackend,
    samples: Sequence[Sample],
    task: TaskInfo,
    format_name: str,
    model_name: str,
    params: SamplingParams | None = None,
    batch_size: int = 8,
    progress: Callable[[int], None] | None = None,
    on_batch: Callable[[list[dict[str, Any]]], None] | None = None,
    cues: Mapping[str, str | None] | None = None,
    score_readout: str = "fitted",
    fit: ScoreFit | None = None,
    on_unreadable: Callable[[Sample, MediaError], None] | None = None,
) -> list[dict[str, Any]]:
    """Audit records for `samples`, generated `batch_size` at a time (each batch is handed to
    `on_batch` as soon as it is done, so callers can persist it before the next one starts).
    A media file that cannot be read raises `MediaError`; with `on_unreadable`, its batch is asked
    again a sample at a time, each such sample is handed to it and left without a record, and the
    run goes on (a dataset run keeps what it can answer).

    `cues` maps sample ids to measured-cue text for the prompt (`emoreason.cues`); without it
    each sample's own `cues` field is used (None for data without cues). Pass `{}` for none.
    `latency_s` is the wall time of the sample's batch divided by the batch size.
    `score_readout`: `confidence` (a scored C2F answer's number weighted by the probability of its
    polarity, `formats.readout`), `fitted` (read off `fit`, the model's `ScoreFit`; `confidence`
    without one) or `written`.
    Raises `ValueError` for unusable input before generating anything (`check_inputs`).
    """
    check_inputs(samples, cues)
    fmt = get_format(format_name)
    choice = readout_choice(engine, fmt, task, score_readout)
    used_fit = reading_fit(score_readout, fmt, task, fit)
    params = with_choice(params or SamplingParams(max_new_tokens=256, stop_strings=fmt.stop_strings), choice)
    records: list[dict[str, Any]] = []
    for start in range(0, len(samples), batch_size):
        chunk = list(samples[start : start + batch_size])
        began = time.perf_counter()
        try:
            asked = params.for_batch([s.id for s in chunk])
            outputs = list(engine.generate(conversations_for(chunk, fmt, task, cues), asked))
        except MediaError:
            if on_unreadable is None:
                raise
            chunk, outputs = answer_readable(engine, chunk, fmt, task, cues, params, on_unreadable)
        per_sample = (time.perf_counter() - began) / max(1, len(chunk))
        batch = records_for(chunk, outputs, fmt, task, model_name, per_sample, cues, choice, fit=used_fit)
        records.extend(batch)
        if on_batch is not None:
            on_batch(batch)
        if progress is not None:
            progress(min(batch_size, len(samples) - start))
    return records


def answer_readable(
    engine: GenerationBackend,
    chunk: list[Sample],
    fmt: ReasoningFormat,
    task: TaskInfo,
    cues: Mapping[str, str | None] | None,
    params: SamplingParams,
    on_unreadable: Callable[[Sample, MediaError], None],
) -> tuple[list[Sample], list[Sequence[Completion]]]:
    """The samples of a batch whose media read, each asked alone, with their answers; the others go to
    `on_unreadable` with the error."""
    kept: list[Sample] = []
    outputs: list[Sequence[Completion]] = []
    for sample in chunk:
        try:
            asked = params.for_batch([sample.id])
            outputs.append(engine.generate(conversations_for([sample], fmt, task, cues), asked)[0])
        except MediaError as err:
            on_unreadable(sample, err)
            continue
        kept.append(sample)
    return kept, outputs


def attribute_words(
    loaded: LoadedModel,
    samples: Sequence[Sample],
    fmt: ReasoningFormat,
    task: TaskInfo,
    cues: Mapping[str, str | None] | None = None,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> list[list[WordShift]]:
    """The tokens of each sample's text ranked by how far each moves the polarity probabilities where
    the answer states its polarity (`metrics.attribution`): the prompt of the text and of the text
    without each token in turn (the cue text its prompt carries, `cues` as in `analyze`, kept), scored
    up to the polarity word `batch_size` prompts at a time, nothing generated. Raises `ValueError` for
    a format that does not write its polarity word first, as one token this tokenizer tells apart
    (`formats.readout.polarity_position`)."""
    import torch

    position = polarity_position(loaded.tokenizer, fmt)
    if position is None:
        raise ValueError(
            f"word attribution reads the polarity word where the answer states it first; format {fmt.name!r} "
            "does not write one there with this tokenizer (use the c2f format)"
        )
    prefix, starts = position
    words = [starts[p] for p in POLARITIES]
    ranked = []
    for sample in samples:
        # the reference prompt's spaces collapsed as each occlusion's are: a shift is then the token's alone,
        # not the token's plus what collapsing a text's double spaces, tabs or blank lines moves
        whole = dataclasses.replace(sample, text=collapse_spaces(sample.text))
        variants = [whole] + [dataclasses.replace(sample, text=text) for _, _, text in occlusions(sample.text)]
        conversations = conversations_for(variants, fmt, task, cues)
        probs: list[dict[str, float]] = []
        with torch.no_grad():
            for start in range(0, len(conversations), batch_size):
                chunk = conversations[start : start + batch_size]
                logp = choice_logprobs(loaded.model, loaded, chunk, prefix, words)
                probs.extend(dict(zip(POLARITIES, row, strict=True)) for row in torch.softmax(logp, dim=-1).tolist())
        ranked.append(word_shifts(sample.text, probs[0], probs[1:]))
        if progress is not None:
            progress(1)
    return ranked


EXAMPLE_SENTENCES = (
    "I absolutely loved this film, the acting was superb and the ending made me cry happy tears.",
    "The battery died after two days and customer service never answered my emails.",
    "It's an okay phone. Does what it says, nothing more.",
    "Not bad at all, though the sequel felt a little rushed.",
    "Ugh, stuck at the airport AGAIN. Best. Day. Ever.",
)
