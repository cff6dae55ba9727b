"""The product's own endpoints: `POST /v1/analyze` answers with the audit record that
`emoreason analyze --json` prints, for a text plus optional media (a JSON body, or a multipart
form carrying the files); `GET /v1/analyze/options` lists the formats, tasks and limits the page offers.

The record is the Python API's: the server's `Explainer` (`state.explainer`, with the request's
format, task and sampling) prepares the sample and makes the record of its completion, as it does
for `emoreason analyze`; only the generation in between goes through the server's batcher."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from emoreason.api.explainer import Explainer, ModelInputs, answering_format
from emoreason.data.schema import TASK_OR_OWN, Sample, TaskInfo, parse_low_high, resolve_task, with_neutral_band
from emoreason.data.text import is_blank
from emoreason.formats import ReasoningFormat, available_formats, get_format
from emoreason.inference import ContextTooLong
from emoreason.serve.errors import APIError, Integer, Number, validation_error
from emoreason.serve.guards import (
    check_max_tokens,
    check_text_fields,
    read_json_object,
    read_utf8_form,
    require_api_key,
)
from emoreason.serve.routes import Route
from emoreason.serve.state import ModelInfo, ServeState, StateDep
from emoreason.serve.uploads import MEDIA_KINDS, UploadSet

#: tasks offered by the page and `GET /v1/analyze/options` (any `resolve_task` name works in requests)
TASKS = ("vader", "mosi", "mosei", "sims", "simsv2", "mikels", "ravdess")

router = APIRouter(route_class=Route, dependencies=[Depends(require_api_key)])


class AnalyzeRequest(BaseModel):
    """`POST /v1/analyze` options (a JSON body, or the text fields of a multipart form)."""

    model_config = ConfigDict(extra="forbid")
    text: str = ""
    id: str | None = Field(None, max_length=128)
    # default (None): what the served adapter was trained for (`models.shipped.AdapterSettings`), else c2f / vader
    format: str | None = None
    task: str | None = None
    scale: str | list[Number] | None = None  # "LOW,HIGH" or [LOW, HIGH], instead of a task (true is no number)
    labels: str | list[str] | None = None  # "a,b,c" or [...], instead of a task
    # "LOW,HIGH" or [LOW, HIGH]: the scores read as neutral, within the scale (`data.schema.with_neutral_band`), as
    # analyze --neutral-band; default: the task's own
    neutral_band: str | list[Number] | None = None
    max_tokens: Integer | None = Field(None, ge=1)  # default: the server's default_max_tokens
    # default: 0 (greedy) for one answer, `formats.consensus.VOTE_TEMPERATURE` for several
    temperature: Number | None = Field(None, ge=0.0, le=2.0)
    # answers sampled (at most the server's max_n); the one that speaks for them is kept
    votes: Integer = Field(1, ge=1)
    # add the record's `attribution`: each word of the text taken out in turn, ranked by how far that moves
    # the polarity probabilities (`metrics.attribution`; one prompt pass per word, about a second a sentence)
    attribute: bool = False
    # how a score is read (`formats.readout`: fitted, confidence or written), as analyze --score-readout; default:
    # the server's (serve --score-readout)
    score_readout: str | None = None

    def resolve(self, default: TaskInfo) -> tuple[TaskInfo | None, Any]:
        """(task, format) as the request gives them; None where it leaves them to the server's explainer, whose
        task is `default` (the one a neutral band alone applies to)."""
        scale = number_pair(self.scale, "scale")
        if scale is not None and not scale[0] < scale[1]:
            raise APIError(400, "scale needs LOW < HIGH", param="scale")
        labels = self.labels.split(",") if isinstance(self.labels, str) else self.labels
        # an empty label set is refused (fewer than two labels), not read as no labels: vader answered it
        labels = tuple(x.strip() for x in labels if x.strip()) if labels is not None else None
        if self.task is not None and (scale is not None or labels is not None):
            # the one rule (`data.schema.TASK_OR_OWN`, as resolve_task and analyze say it): the task was dropped
            mine = "scale" if scale is not None else "labels"
            raise APIError(400, f"{TASK_OR_OWN}: drop `task` or `{mine}`", param="task", code="invalid_value")
        task = None
        if self.task is not None or scale is not None or labels is not None:
            try:
                task = resolve_task(self.task, scale, labels)
            except ValueError as err:
                if self.task is None or self.task != default.name:
                    raise APIError(400, str(err), param="task") from None
                # the served task by the name /v1/analyze/options gives it: a file's own (an adapter trained on a
                # 1..7 file is "ratings"), which no name resolves to; a known name keeps its own meaning
                task = default
        band = number_pair(self.neutral_band, "neutral_band")
        if band is not None:
            try:
                task = with_neutral_band(task or default, *band)
            except ValueError as err:
                raise APIError(400, f"neutral_band: {err}", param="neutral_band", code="invalid_value") from None
        try:
            fmt = get_format(self.format) if self.format is not None else None
        except ValueError as err:
            raise APIError(400, str(err), param="format") from None
        return task, fmt


def number_pair(value: str | list[float] | None, name: str) -> tuple[float, float] | None:
    """LOW,HIGH of a request's `scale` or `neutral_band`: "LOW,HIGH" (a form's text) or [LOW, HIGH]."""
    if value is None:
        return None
    example = '"-1,1"'
    try:
        if isinstance(value, str):  # as analyze --scale / --neutral-band read it
            return parse_low_high(value, name, example)
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise APIError(400, f"{name} takes two numbers LOW,HIGH, e.g. {example}; got {value!r}", param=name) from None
    return low, high


def answerable(fmt: ReasoningFormat) -> str:
    """What task a format answers, read off the format itself: "scale", "labels" or "scale or labels" (r1)."""
    kinds = []
    for kind, task in (("scale", resolve_task("vader")), ("labels", resolve_task("mikels"))):
        try:
            fmt.system_prompt(task)
        except ValueError:
            continue
        kinds.append(kind)
    return " or ".join(kinds)


@router.get("/v1/analyze/options")
async def analyze_options(state: StateDep) -> Any:
    model, settings = state.model, state.settings
    tasks = {}
    for name in TASKS:
        task = resolve_task(name)
        tasks[name] = (
            {"scale": list(task.scale), "neutral": [task.neutral.low, task.neutral.high]}
            if task.scale
            else {"labels": list(task.labels)}
        )
    formats = {name: {"needs": answerable(get_format(name))} for name in available_formats()}
    own = state.explainer
    # the default task by the name the list above gives it ("vader", whose TaskInfo is named "vader:text")
    own_task = next((name for name in TASKS if resolve_task(name) == own.task), own.task.name)
    return {
        "model": model.id,
        "family": model.family,
        "modalities": sorted(model.modalities),
        # media the model does not read but is told about as measured cue text (serve --cues auto)
        "cue_media": sorted(set(MEDIA_KINDS) - set(model.modalities)) if settings.cues != "off" else [],
        "formats": formats,
        "tasks": tasks,
        # what a request that names neither gets: the served adapter's own, else c2f / vader
        "defaults": {"format": own.format.name, "task": own_task},
        "limits": {
            "max_tokens": settings.max_tokens_limit,
            "max_votes": settings.max_n,
            "max_upload_bytes": settings.max_upload_bytes,
            "max_text_chars": settings.max_text_chars,
        },
    }


@router.post("/v1/analyze")
async def analyze(request: Request, state: StateDep) -> Any:
    """The audit record `emoreason analyze --json` prints, for text plus optional media."""
    model, settings = state.model, state.settings
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    uploads = state.uploads.new_set()
    try:
        media: dict[str, str] = {}
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            options, media = await read_form(request, state, uploads)
        elif content_type in ("application/json", ""):
            options = await read_json(request)
        else:
            raise APIError(
                415, f"send JSON or a form (multipart/form-data), not {content_type!r}", code="unsupported_media_type"
            )
        if len(options.text) > settings.max_text_chars:
            raise APIError(
                400,
                f"text has {len(options.text)} characters; the limit is {settings.max_text_chars}",
                param="text",
                code="context_length_exceeded",
            )
        labels = options.labels or ()
        label_chars = len(labels) if isinstance(labels, str) else sum(len(label) for label in labels)
        if label_chars > settings.max_text_chars:  # they go into the prompt, as the text does
            raise APIError(400, f"labels have {label_chars} characters; the limit is {settings.max_text_chars}",
                           param="labels", code="context_length_exceeded")  # fmt: skip
        if is_blank(options.text) and not media:  # whitespace or zero-width characters alone
            raise APIError(400, "give a text, or media to analyse", param="text")
        for kind in media:
            check_modality(model, kind, settings.cues)
        task, fmt = options.resolve(state.explainer.task)
        max_tokens = check_max_tokens(settings, options.max_tokens, "max_tokens")
        if options.votes > settings.max_n:
            message = f"votes is {options.votes}; this server allows at most {settings.max_n} (emoreason serve --max-n)"
            raise APIError(400, message, param="votes", code="invalid_value")
        try:  # the format asked (else the served one) must answer the task asked
            ex = state.explainer
            answering_format(task or ex.task, fmt.name if fmt else None, ex.format.name, ex.own_format)
        except ValueError as err:
            raise APIError(400, str(err), param="task") from None
        try:
            explainer = state.explainer.using(
                format=fmt.name if fmt else None, task=task, max_new_tokens=max_tokens, temperature=options.temperature,
                votes=options.votes,
            )  # fmt: skip
        except ValueError as err:  # several votes at temperature 0
            raise APIError(400, str(err), param="temperature") from None
        if options.score_readout is not None:
            try:
                explainer = explainer.using(score_readout=options.score_readout)
            except ValueError as err:  # a name no readout has
                raise APIError(400, str(err), param="score_readout") from None
        if options.attribute:
            if media:
                raise APIError(400, "attribute reads the words of the text alone: send the text without media files",
                               param="attribute")  # fmt: skip
            words = len(options.text.split())
            if words > settings.max_attribution_words:
                raise APIError(400, f"attribute takes one prompt pass per word: the text has {words} words, this "
                               f"server attributes at most {settings.max_attribution_words}", param="attribute",
                               code="invalid_value")  # fmt: skip
            try:
                explainer = explainer.using(attribute=True)
            except ValueError as err:  # no weights at hand (a scripted engine), or a format without a leading polarity
                raise APIError(400, str(err), param="attribute") from None
        sample = Sample(id=options.id or f"req-{uuid.uuid4().hex[:12]}", text=options.text.strip(), **media)
        # measuring media into cue text reads the files (about a second a clip): off the event loop
        inputs = await asyncio.to_thread(prepare, explainer, sample, uploads) if media else prepare(explainer, sample)
        conversation = explainer.conversations(inputs)[0]
    except BaseException:
        uploads.delete()  # from `state.generate` on, it deletes them; before, this handler must
        raise
    result = await state.generate(conversation, explainer.sampling, uploads, request)
    # this request's share of its batch's time: its rows (one per vote) of the batch's rows
    latency = result.seconds * explainer.votes / result.batch_rows
    # the audit record marks every quoted span in the text (quadratic in its quotes): off the event loop too
    records = await asyncio.to_thread(explainer.records_from, inputs, result.completions, latency)
    if explainer.attribute:  # prompt passes on the served weights, off the event loop
        await asyncio.to_thread(explainer.add_attribution, inputs, records)
    return records[0]


def prepare(explainer: Explainer, sample: Sample, uploads: UploadSet | None = None) -> ModelInputs:
    """The sample as the model takes it, checked to fit the context (`Explainer.prepare`). An upload that
    cannot be measured into cue text is named by its field, its private path never shown."""
    try:
        return explainer.prepare([sample])
    except ContextTooLong as err:
        raise APIError(400, err.detail, param="max_tokens", code="context_length_exceeded") from None
    except ValueError as err:
        field = uploads.field_named_in(str(err)) if uploads is not None else None
        if field is not None:
            raise APIError(400, uploads.redact(str(err)), param=field, code="invalid_media") from None  # type: ignore[union-attr]
        raise APIError(400, str(err), param="task") from None  # the format cannot be asked about the task


def check_modality(model: ModelInfo, kind: str, cues: str = "off") -> None:
    """Refuse a medium the model neither reads nor, with `cues` "auto", is told about as measured cue text."""
    if kind not in model.modalities and cues == "off":
        takes = ", ".join(sorted(model.modalities)) or "text only"
        raise APIError(
            400,
            f"this model ({model.family}) takes {takes}, not {kind} (this server does not measure media into cue "
            "text: emoreason serve --cues auto)",
            param=kind,
            code="unsupported_content",
        )


async def read_json(request: Request) -> AnalyzeRequest:
    """The options of a JSON body, its text held to the one text policy (`emoreason.data.text`)."""
    data = await read_json_object(request, 'at least `text`, e.g. {"text": "Not bad at all."}')
    for kind in MEDIA_KINDS:  # a JSON body cannot carry a file: pydantic said only "Extra inputs are not permitted"
        if kind in data:
            raise APIError(
                400, f"{kind}: send media as a file in a multipart form (-F {kind}=@FILE), not in JSON", param=kind
            )
    try:  # strict: JSON has types, so "votes": "3" or "attribute": "yes" is a client's mistake (a form's are text)
        return AnalyzeRequest.model_validate(data, strict=True)
    except ValidationError as err:
        raise validation_error(err) from None


async def read_form(request: Request, state: ServeState, uploads: UploadSet) -> tuple[AnalyzeRequest, dict[str, str]]:
    """The options from the text fields; each media file saved into `uploads` (its path, by kind)."""
    settings = state.settings
    fields: dict[str, str] = {}
    media: dict[str, str] = {}
    try:
        form = await read_utf8_form(
            request, max_files=len(MEDIA_KINDS), max_fields=16, max_part_size=settings.max_text_chars * 4 + 1024
        )
        try:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if key not in MEDIA_KINDS:
                        raise APIError(400, f"unknown file field {key!r}; use {', '.join(MEDIA_KINDS)}", param=key)
                    if key in media:
                        raise APIError(400, f"one {key} file per request", param=key)
                    # checked before reading: a file the model cannot take is never stored
                    check_modality(state.model, key, state.settings.cues)
                    data = await value.read(settings.max_upload_bytes + 1)
                    media[key] = uploads.save(key, data, filename=value.filename or None, param=key)
                elif key in MEDIA_KINDS:
                    raise APIError(400, f"{key} must be a file upload (paths are not accepted)", param=key)
                else:
                    fields[key] = value
        finally:
            await form.close()  # its files, spooled by the parser
    except StarletteHTTPException as err:  # what starlette makes of a malformed or oversized form
        raise APIError(400, f"bad multipart form: {err.detail}", code="invalid_form") from None
    check_text_fields(fields)
    try:
        return AnalyzeRequest.model_validate(fields), media
    except ValidationError as err:
        raise validation_error(err) from None
