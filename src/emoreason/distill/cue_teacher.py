"""The `cues` teacher: deterministic, CPU-only chains for label tasks from measured cues.

No language model: a multinomial logistic regression over the per-speaker cue z-scores that a
dataset loaded with measured cues carries (`?cues=only` on a media folder, `?measure=only` on a
csv: or jsonl: file; `Sample.meta["cue_z"]`, see `emoreason.cues.prepare.attach_cues`). It is
cross-fitted by speaker: the label it writes for a clip comes from a model that never saw that
speaker, so a kept chain (label equal to the gold, after the distillation filter) is one whose
cues generalise across voices. In rationalization mode it explains the gold label with the cues
that weigh most towards it.

Every cue a chain cites is a measure of that clip with its z-score, in the same words as the cue
text in the prompt (`emoreason.cues.describe.degree_word`), so the chain can be checked against
its input:

    <step1>The voice against this speaker's other clips: loudness very loud (+2.3 sd), ...</step1>
    <step2>What points to angry most: loudness very loud (+2.3 sd), ...</step2>
    <step3>The feeling is negative, with high arousal.</step3>
    \\boxed{angry}

Chains are kept short (the `seen` strongest deviations, the `top` cues for the label) because a
small student has to learn to write them; the cue model's probability is left out by default
(`cite_probability`), since the student has no way to compute it from its prompt and a number
it cannot ground is exactly what the reflective consistency check penalises.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from emoreason.cues.base import Measure
from emoreason.cues.classifier import CUE_Z_KEY, RANKING_KEY, cross_fit, cue_matrix, feature_names
from emoreason.cues.describe import TITLES, degree_word
from emoreason.cues.reference import RECORDS
from emoreason.data.schema import Sample, TaskInfo, normalize_label
from emoreason.data.spec_options import how_to_measure
from emoreason.distill.teachers import OnReply, Teacher, TeacherReply, TeacherRequest
from emoreason.formats._tags import label_polarity
from emoreason.formats.base import ReasoningFormat

SCOPE_WORDS = {
    "audio": "The voice against this speaker's other clips",
    "face": "The face against this speaker's other clips",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One measured cue of a clip and how much it weighs towards a label (coefficient x z)."""

    kind: str
    measure: Measure
    z: float
    weight: float

    def phrase(self) -> str:
        return f"{self.measure.label} {degree_word(self.z, self.measure)} ({self.z:+.1f} sd)"


def evidence_for(coef: np.ndarray, row: np.ndarray, names: Sequence[tuple[str, str]], top: int = 3) -> list[Evidence]:
    """The `top` cues that push most towards the label whose coefficients are `coef`: only cues
    that push towards it, only those described as more than "typical" (|z| >= 0.5), and only
    measures the prompt's cue text shows (`Measure.describe`), so a chain never cites what its
    student cannot read."""
    weights = coef * row
    out = []
    for i in np.argsort(-weights):
        kind, name = names[i]
        if weights[i] <= 0 or len(out) == top:
            break
        measure = RECORDS[kind].measure(name)
        if abs(row[i]) >= 0.5 and measure.describe:
            out.append(Evidence(kind, measure, float(row[i]), float(weights[i])))
    return out


def observed(row: np.ndarray, names: Sequence[tuple[str, str]], limit: int = 5) -> dict[str, list[Evidence]]:
    """Per kind, the described measures that differ from the speaker's usual (|z| >= 0.5), strongest first."""
    out: dict[str, list[Evidence]] = {}
    for i in np.argsort(-np.abs(row)):
        kind, name = names[i]
        measure = RECORDS[kind].measure(name)
        if abs(row[i]) >= 0.5 and measure.describe and len(out.setdefault(kind, [])) < limit:
            out[kind].append(Evidence(kind, measure, float(row[i]), 0.0))
    return out


def ranking_phrase(label: str, ranking: Sequence[Sequence[object]]) -> str:
    """What step 2 says of the cue classifier's ranking (the one in the prompt) before the cues:
    'The cue classifier ranks angry first (0.52).' or, when `label` is not its first,
    'The cue classifier ranks sad first (0.40), angry second (0.31).'"""
    ordinals = ("first", "second", "third", "fourth", "fifth")
    placed = [(str(name), float(p)) for name, p in ranking]  # type: ignore[arg-type]
    names = [name for name, _ in placed]
    shown = placed[: names.index(label) + 1] if label in names[: len(ordinals)] else placed[:1]
    parts = [f"{name} {ordinals[i]} ({p:.2f})" for i, (name, p) in enumerate(shown)]
    text = f"The cue classifier ranks {', '.join(parts)}."
    if label not in names[: len(shown)]:
        text += f" It does not rank {label} near the top."
    return text


def render_cue_chain(
    label: str,
    task: TaskInfo,
    seen: dict[str, list[Evidence]],
    support: list[Evidence],
    probability: float | None,
    ranking: Sequence[Sequence[object]] | None = None,
) -> dict[str, str]:
    """The three EMO-R3 steps: what the cues show, what points to `label` (after the cue
    classifier's ranking, when the prompt shows one), valence and arousal."""
    kinds = sorted(seen) or ["audio"]
    step1 = " ".join(
        f"{SCOPE_WORDS.get(kind, TITLES.get(kind, kind))}: {', '.join(e.phrase() for e in seen[kind])}."
        if seen.get(kind)
        else f"{TITLES.get(kind, kind)}: close to this speaker's usual, no measure more than "
        "half a standard deviation away."
        for kind in kinds
    )
    if support:
        step2 = f"What points to {label} most: {', '.join(e.phrase() for e in support)}."
    else:
        step2 = f"No single cue stands out; the overall pattern is closest to {label}."
    if probability is not None:
        step2 += f" The cue model gives {label} {probability:.2f}."
    if ranking:
        step2 = f"{ranking_phrase(label, ranking)} {step2}"
    from emoreason.formats.emor3 import EmoR3Format

    step3 = EmoR3Format.default_step3(label, task)
    if step3 is None:
        polarity = label_polarity(task, normalize_label(label))
        step3 = f"The feeling is {polarity}." if polarity else f"The feeling is {label}."
    return {"step1": step1, "step2": step2, "step3": step3}


def measure_with(specs: Iterable[str] = ()) -> str:
    """The option that measures the cues of the datasets `specs` name (`how_to_measure`), for messages: a csv
    user told `?cues=only` named a column `only`. Every kind's option when no spec is known."""
    return "; ".join(dict.fromkeys(how_to_measure(spec) for spec in specs)) or how_to_measure()


def unmeasured_detail(sample: Sample, measured_elsewhere: bool, specs: Sequence[str] = ()) -> str:
    """Why `sample` is dropped for having no measured cues, as far as the set tells: told to load the data with
    ?cues=only, a user who had done so looked for a mistake that was not there. Others in the set measured means
    the data was loaded with cues; a clip whose media held no voice or face then still has the cue text that says so
    ("Voice: silent recording, no voice found."), and one without even that had media that could not be read."""
    if not measured_elsewhere:
        return f"sample {sample.id} has no measured cues; load the dataset with {measure_with(specs)}"
    if sample.cues:
        return (
            f"sample {sample.id} has no measured cues to fit on: its clip gave none, as its cue text says "
            f"({' '.join(sample.cues.split())!r}; a silent recording, a clip without voiced speech, a face never "
            "found or a clip too short to measure has none)"
        )
    return (
        f"sample {sample.id} has no measured cues and no cue text: its media could not be read or it has none "
        f"(the load warnings name such files), or it comes from a dataset loaded without {measure_with(specs)}"
    )


class CueTeacher(Teacher):
    """Writes label chains (emor3 steps, or one r1 think block) from measured cues; see the module doc."""

    name = "cues"
    model = "cue-logreg"
    # cross-fitted on the samples it is given: asked for the uncached ones alone, it fitted on those and its
    # labels for a speaker came from a model that had heard that speaker (and a rerun found no cues to fit)
    answers_depend_on_the_set = True

    def __init__(
        self,
        fmt: ReasoningFormat,
        task: TaskInfo,
        *,
        folds: int = 4,
        c: float = 1.0,
        top: int = 2,
        seen: int = 3,
        cite_probability: bool = False,
        seed: int = 0,
        specs: Sequence[str] = (),
    ):
        if fmt.name not in ("emor3", "r1"):
            raise ValueError(f"the cues teacher writes emor3 or r1 chains, not {fmt.name}")
        if not task.labels:
            raise ValueError(f"the cues teacher needs a label task; {task.name} has scores")
        self.format, self.task = fmt, task
        self.folds, self.c, self.top, self.seen, self.seed = folds, c, top, seen, seed
        self.cite_probability = cite_probability
        self.specs = list(specs)  # the datasets distilled, for messages: not a parameter of the chains

    def params(self) -> dict[str, object]:
        return {
            "folds": self.folds,
            "c": self.c,
            "top": self.top,
            "seen": self.seen,
            "cite_probability": self.cite_probability,
            "seed": self.seed,
        }

    def check_samples(self, samples: Sequence[Sample]) -> None:
        if samples and not any(s.meta.get(CUE_Z_KEY) for s in samples):
            described = sum(1 for s in samples if s.cues)
            if described:  # measured and found nothing (silent clips), or cue text read from a column
                raise ValueError(
                    f"the cues teacher fits a model on measured cues, and none of the {len(samples)} samples has "
                    f"them; {described} carry cue text with no measures behind it: clips with no voice or face to "
                    "measure (a silent recording, a face never found) have none, and neither has a text column of cue "
                    f"descriptions (measure the media with {measure_with(self.specs)})"
                )
            raise ValueError(
                f"the cues teacher fits a model on measured cues, and none of the {len(samples)} samples has them: "
                f"load the dataset with {measure_with(self.specs)} (a text column of cue descriptions is not measured)"
            )

    def run(self, requests: Sequence[TeacherRequest], on_reply: OnReply) -> None:
        usable = []
        measured = any(request.sample.meta.get(CUE_Z_KEY) for request in requests)
        for index, request in enumerate(requests):
            sample = request.sample
            if not sample.meta.get(CUE_Z_KEY):
                on_reply(index, TeacherReply(None, unmeasured_detail(sample, measured, self.specs), reason="no_cues"))
            elif sample.label is None:
                no_label = f"sample {sample.id} has no label to fit the cue model on"
                on_reply(index, TeacherReply(None, no_label, reason="no_gold"))
            else:
                usable.append(index)
        if not usable:
            return
        labels = list(self.task.labels or ())
        zscores = [requests[i].sample.meta[CUE_Z_KEY] for i in usable]
        names = feature_names(zscores)
        x = cue_matrix(zscores, names)
        y = [normalize_label(requests[i].sample.label or "") for i in usable]
        groups = [requests[i].sample.speaker or requests[i].sample.id for i in usable]
        normalized = [normalize_label(label) for label in labels]
        proba, coefs = cross_fit(x, y, groups, normalized, self.folds, self.c, self.seed)
        for row_index, index in enumerate(usable):
            gold = requests[index].gold
            ranking = requests[index].sample.meta.get(RANKING_KEY)
            if gold is not None and gold.get("label"):
                j = normalized.index(normalize_label(gold["label"]))
            elif ranking:  # the prompt shows the cue classifier's ranking: its first is the answer
                j = normalized.index(normalize_label(str(ranking[0][0])))
            else:
                j = int(np.argmax(proba[row_index]))
            label = labels[j]
            support = evidence_for(coefs[row_index, j], x[row_index], names, self.top)
            steps = render_cue_chain(
                label,
                self.task,
                observed(x[row_index], names, self.seen),
                support,
                float(proba[row_index, j]) if self.cite_probability else None,
                ranking,
            )
            reasoning: dict[str, str] | str = steps if self.format.name == "emor3" else " ".join(steps.values())
            on_reply(index, TeacherReply(self.format.render_target(self.task, reasoning=reasoning, label=label)))


__all__ = [
    "CueTeacher",
    "Evidence",
    "evidence_for",
    "observed",
    "ranking_phrase",
    "render_cue_chain",
    "unmeasured_detail",
]
