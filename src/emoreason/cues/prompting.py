"""Which media a model gets as files and which as measured-cue text (`analyze --cues`).

    samples, texts, report = cue_inputs(samples, accepted=loaded.family.modalities, mode="auto")
    analyze(engine, samples, task, fmt, name, cues=texts)

Modes:
- `auto` (cue-to-text where needed): media the model cannot take (any medium for a text-only
  model, audio for a vision-language model) are measured, given as cue text, and detached;
  media it takes are attached as they are.
- `on`: cue text for every medium, and the media the model can take are attached too.
- `off`: no cue text; media are passed as they are (a model that cannot take them says so).
A sample that already carries `cues` (a dataset loaded with `?cues=true`) keeps them unless off.

References: a saved one (`emoreason data prepare --reference-out`), else the inputs themselves
when there are at least `MIN_FOR_REFERENCE` of them, else none (raw values only).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from emoreason.cues.cache import CueCache
from emoreason.cues.classifier import CUE_Z_KEY
from emoreason.cues.prepare import PrepareReport, build_references, cue_texts, cue_zscores, prepare_cues
from emoreason.cues.reference import CueReference
from emoreason.data.schema import Sample

CUE_MODES = ("auto", "on", "off")
MIN_FOR_REFERENCE = 5
MEDIA = ("audio", "video", "image")


def cue_inputs(
    samples: Sequence[Sample],
    accepted: Collection[str],
    mode: str = "auto",
    cache: CueCache | None = None,
    references: Mapping[str, CueReference] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Sample], dict[str, str | None], PrepareReport | None]:
    """The samples as the model receives them (the measured z-scores in `meta["cue_z"]`), the cue
    text per sample id, and the extraction report (None when nothing was measured). Unreadable
    media raise nothing here: they are listed in the report and the sample goes without their cues."""
    if mode not in CUE_MODES:
        raise ValueError(f"unknown cue mode {mode!r}; use {', '.join(CUE_MODES)}")
    if mode == "off":
        return list(samples), {}, None
    probes: list[Sample] = []
    for sample in samples:
        measure = {m: getattr(sample, m) for m in MEDIA if getattr(sample, m) and (mode == "on" or m not in accepted)}
        if measure and not sample.cues:
            probes.append(Sample(id=sample.id, split=sample.split, meta=sample.meta, **measure))
    texts: dict[str, str | None] = {s.id: s.cues for s in samples if s.cues}
    zscores: dict[str, dict[str, dict[str, float]]] = {}
    report = None
    if probes:
        clips, report = prepare_cues(probes, cache, progress=progress)
        refs = dict(references or {})
        if len(clips) >= MIN_FOR_REFERENCE:
            for kind, reference in build_references(probes, clips, overall_split=None).items():
                refs.setdefault(kind, reference)
        texts.update({k: v for k, v in cue_texts(probes, clips, refs).items() if v})
        zscores = cue_zscores(probes, clips, refs)
    if progress is not None and len(samples) > len(probes):
        progress(len(samples) - len(probes))  # nothing to measure for the rest
    detached = [
        s.with_(
            meta={**s.meta, CUE_Z_KEY: zscores[s.id]} if s.id in zscores else s.meta,
            **{m: None for m in MEDIA if getattr(s, m) and m not in accepted},
        )
        for s in samples
    ]
    return detached, texts, report
