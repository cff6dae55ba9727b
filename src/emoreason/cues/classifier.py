"""A label classifier over measured cue z-scores, and its ranking as one more line of cue text.

    classifier = CueClassifier.fit(train_samples, labels=task.labels)   # samples with measured cues
    classifier.save("cue_classifier.json")
    samples = add_ranking(samples, CueClassifier.load("cue_classifier.json"))
    # cue text gains: 'Cue classifier (fitted on other speakers): angry 0.52, disgust 0.21, happy 0.10.'

Why it exists: a logistic regression on the per-speaker cue z-scores is the strongest thing we
have on speech emotion (RAVDESS test actors WAR 0.62 against 0.23 for a 135M explainer trained
on cue chains alone): the student copies a chain's style but cannot learn the regression's
15 x 8 weights from 240 examples. Showing the regression's ranking as measured evidence gives
the explainer the decision rule as input, and leaves it the job it can do: cite the cues that
support the label and say when the cues disagree.

Cross-fitting keeps the evidence honest. A clip the classifier was fitted on gets the ranking of a
model fitted on the other speakers' folds (`held_out`), never its in-sample one, so training
prompts show the ranking exactly as reliable as it is on a new speaker; other clips (valid,
test, a user's file) get the model fitted on every training clip. A clip is known by its id and
its own measurement (`clip_key`): ids like 1 or clip_001 repeat across files, and a new clip under a
training clip's id got that clip's held-out ranking, while the training clip itself, analysed under
another id, got the in-sample one under a title that says "fitted on other speakers".

A measure that could not be taken counts as 0, the speaker's mean (what a z-score of a typical
value is).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.cues.reference import RECORDS, stale_measures, warn_stale
from emoreason.data.errors import DataError
from emoreason.data.schema import Sample, normalize_label
from emoreason.data.spec_options import how_to_measure, measuring_option, register_spec_option

log = logging.getLogger(__name__)

#: `Sample.meta` key of the cue z-scores (`attach_cues` writes them): {kind: {measure: z}}.
CUE_Z_KEY = "cue_z"
#: `Sample.meta` key of the ranking `add_ranking` put in the cue text: [[label, probability], ...].
RANKING_KEY = "cue_ranking"
RANKING_TITLE = "Cue classifier (fitted on other speakers)"
FORMAT_VERSION = 2  # 2: `clip_keys`; a version 1 file matches its held-out rows by sample id alone
#: Decimals of the z-scores in a `clip_key`, as they are measured.
KEY_DECIMALS = 3
#: A clip is the one fitted on under its id when each of its z-scores is within this of the stored ones (float
#: noise between machines and libraries moves the third decimal); under another id, when they round alike to
#: `OWNER_DECIMALS` and no other clip fitted on does.
MATCH_TOLERANCE = 0.01
OWNER_DECIMALS = 2

ZScores = Mapping[str, Mapping[str, float]]


def feature_names(zscores: Sequence[ZScores]) -> list[tuple[str, str]]:
    """(kind, measure) pairs present in any sample, in the records' own measure order."""
    present = {(kind, name) for z in zscores for kind, values in z.items() for name in values}
    return [(kind, m.name) for kind, record in RECORDS.items() for m in record.MEASURES if (kind, m.name) in present]


def cue_matrix(zscores: Sequence[ZScores], names: Sequence[tuple[str, str]]) -> np.ndarray:
    """One row per sample; a measure that could not be taken is 0 (the speaker's mean)."""
    return np.asarray([[z.get(kind, {}).get(name, 0.0) for kind, name in names] for z in zscores], dtype=np.float64)


def clip_key(zscores: ZScores, features: Sequence[tuple[str, str]]) -> str:
    """What tells one clip from another by its own measurement: its z-scores on `features`, rounded."""
    row = cue_matrix([zscores], features)[0]
    return ",".join(f"{round(float(v), KEY_DECIMALS) + 0.0:.{KEY_DECIMALS}f}" for v in row)  # + 0.0: no "-0.00"


def _key_row(key: str) -> np.ndarray:
    return np.asarray([float(v) for v in key.split(",")], dtype=np.float64)


def _close(stored: np.ndarray, row: np.ndarray) -> bool:
    return stored.shape == row.shape and bool(np.max(np.abs(stored - row), initial=0.0) <= MATCH_TOLERANCE)


def _coarse(row: np.ndarray) -> str:
    return ",".join(f"{round(float(v), OWNER_DECIMALS) + 0.0:.{OWNER_DECIMALS}f}" for v in row)


def cross_fit(
    x: np.ndarray,
    y: Sequence[str],
    groups: Sequence[str],
    labels: Sequence[str],
    folds: int = 4,
    c: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (n, len(labels)) and the coefficients (n, len(labels), features) of the
    model that scored each row, fitted on the other groups' rows (GroupKFold). With a single group
    there is nothing to hold out and the model is fitted on every row."""
    from sklearn.model_selection import GroupKFold

    y_arr, n = np.asarray(y), len(y)
    proba = np.zeros((n, len(labels)))
    coefs = np.zeros((n, len(labels), x.shape[1]))
    distinct = len(set(groups))
    if distinct < 2:  # the ranking's title still says "fitted on other speakers": it is not, here
        log.warning(
            "the cue classifier has one speaker to cross-fit by: its probabilities are in-sample (fitted on the "
            "clips they rank), not from other speakers"
        )
    splits = (
        [(np.arange(n), np.arange(n))]
        if distinct < 2
        else GroupKFold(n_splits=min(folds, distinct)).split(x, y_arr, groups=np.asarray(groups))
    )
    for train, held in splits:
        coef, intercept = _fit(x[train], y_arr[train], labels, c, seed)
        proba[held] = _softmax(x[held] @ coef.T + intercept)
        coefs[held] = coef
    return proba, coefs


def _fit(x: np.ndarray, y: np.ndarray, labels: Sequence[str], c: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression as (coef (L, F), intercept (L,)) in `labels` order; a label
    absent from `y` gets a very negative intercept (probability ~0), so a `y` of one class gives it
    probability ~1 everywhere (sklearn refuses to fit one class)."""
    from sklearn.linear_model import LogisticRegression

    seen = sorted(set(y.tolist()))
    coef, intercept = np.zeros((len(labels), x.shape[1])), np.full(len(labels), -30.0)
    if len(seen) == 1:  # a fold of one class (few speakers): it can only say that class, as a regression would
        intercept[list(labels).index(seen[0])] = 0.0
        return coef, intercept
    model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, y)
    classes = list(model.classes_)
    if len(classes) > 2:
        full, bias = model.coef_, model.intercept_
    else:  # one logit d for the second class: softmax([-d/2, d/2]) is its sigmoid, and signs stay symmetric
        full = np.vstack([-model.coef_, model.coef_]) / 2
        bias = np.array([-model.intercept_[0], model.intercept_[0]]) / 2
    for j, label in enumerate(labels):
        if label in classes:
            k = classes.index(label)
            coef[j], intercept[j] = full[k], bias[k]
    return coef, intercept


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@dataclass
class CueClassifier:
    """Logistic regression from cue z-scores to labels, with the cross-fitted probabilities of the
    clips it was fitted on (see the module doc)."""

    labels: list[str]
    features: list[tuple[str, str]]
    coef: np.ndarray  # (labels, features)
    intercept: np.ndarray  # (labels,)
    held_out: dict[str, list[float]] = field(default_factory=dict)  # sample id -> cross-fitted probabilities
    c: float = 1.0
    folds: int = 4
    # sample id -> `clip_key` of the clip it was fitted on; empty in a version 1 file (matched by id alone)
    clip_keys: dict[str, str] = field(default_factory=dict)
    #: cue kind -> the version of its extractor whose measures the weights were fitted on (`CueRecord.VERSION`);
    #: empty in a file written before classifiers recorded it
    measures: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(
        cls, samples: Sequence[Sample], labels: Sequence[str], c: float = 1.0, folds: int = 4, seed: int = 0
    ) -> CueClassifier:
        """Fit on `samples` (labelled, with `meta["cue_z"]`), cross-fitted by speaker."""
        usable = [s for s in samples if s.meta.get(CUE_Z_KEY) and s.label is not None]
        if len(usable) < 2:
            raise ValueError(
                f"a cue classifier needs labelled samples with measured cues; {len(usable)} of {len(samples)} "
                f"have both; load the dataset with {how_to_measure()}, and fit on a split with labels"
            )
        names = [normalize_label(label) for label in labels]
        zscores = [s.meta[CUE_Z_KEY] for s in usable]
        features = feature_names(zscores)
        x = cue_matrix(zscores, features)
        y = [normalize_label(s.label or "") for s in usable]
        unknown = sorted(set(y) - set(names))
        if unknown:
            raise ValueError(f"labels {unknown} are not in the task's label set {names}")
        groups = [s.speaker or s.id for s in usable]
        proba, _ = cross_fit(x, y, groups, names, folds, c, seed)
        coef, intercept = _fit(x, np.asarray(y), names, c, seed)
        held_out = {s.id: [round(float(p), 4) for p in row] for s, row in zip(usable, proba)}
        keys = {s.id: clip_key(z, features) for s, z in zip(usable, zscores)}
        measures = {kind: RECORDS[kind].VERSION for kind, _ in features}  # the z-scores are this emoreason's
        return cls(names, features, coef, intercept, held_out, c, folds, keys, measures)

    def probabilities(self, zscores: ZScores, sample_id: str | None = None) -> np.ndarray:
        """P(label) in `labels` order: the cross-fitted row for a clip the classifier was fitted on
        (`held_out_row`), else the full model's."""
        held = self.held_out_row(zscores, sample_id)
        return np.asarray(held) if held is not None else self.full_probabilities(zscores)

    def full_probabilities(self, zscores: ZScores) -> np.ndarray:
        """P(label) from the model fitted on every training clip."""
        x = cue_matrix([zscores], self.features)
        return _softmax(x @ self.coef.T + self.intercept)[0]

    def held_out_row(self, zscores: ZScores, sample_id: str | None = None) -> list[float] | None:
        """The cross-fitted probabilities of the clip `zscores` measure when the classifier was fitted on it,
        under its own id or another; None for any other clip, whatever its id. A version 1 file has no clip
        keys: its rows go by the id alone."""
        if not self.clip_keys:
            return self.held_out.get(sample_id) if sample_id is not None else None
        row = cue_matrix([zscores], self.features)[0]
        if sample_id is not None and sample_id in self.clip_keys:
            if _close(self._rows[sample_id], row):
                return self.held_out[sample_id]
            self._said_other_measurement(sample_id)
            return None
        owner = self._owners.get(_coarse(row))  # the clip under another id (a file numbers its rows 1, 2, ...)
        return self.held_out[owner] if owner is not None and _close(self._rows[owner], row) else None

    @cached_property
    def _rows(self) -> dict[str, np.ndarray]:
        """Each clip fitted on, by id -> its stored z-scores (`clip_keys`), read once rather than at every lookup."""
        return {sample_id: _key_row(key) for sample_id, key in self.clip_keys.items()}

    @cached_property
    def _owners(self) -> dict[str, str]:
        """The coarse measurement (`OWNER_DECIMALS`) -> the id of the one clip fitted on with it: one that several
        clips share (all measures missing, say) names none of them, and a clip without any measure is no one's."""
        owners: dict[str, list[str]] = {}
        for sample_id, row in self._rows.items():
            if np.any(row != 0):
                owners.setdefault(_coarse(row), []).append(sample_id)
        return {coarse: ids[0] for coarse, ids in owners.items() if len(ids) == 1}

    def _said_other_measurement(self, sample_id: str) -> None:
        """Once a classifier: a clip under the id of one it was fitted on, measured otherwise (another clip, or the
        same against another reference), is ranked by the full model; the user hears why."""
        if not getattr(self, "_said", False):
            self._said = True
            log.warning(
                "clip %r carries the id of a clip the cue classifier was fitted on but other measurements (another "
                "clip, or cues against another reference): it is ranked by the model fitted on every clip, and so "
                "is any other such clip",
                sample_id,
            )

    def without_training_rows(self) -> CueClassifier:
        """This classifier for new clips only: without the cross-fitted rows of the clips it was fitted on (and
        their keys), as a shipped adapter carries it."""
        return dataclasses.replace(self, held_out={}, clip_keys={})

    def ranking(self, zscores: ZScores, sample_id: str | None = None, top: int = 3) -> list[tuple[str, float]]:
        """The `top` labels, most probable first, with their probabilities."""
        proba = self.probabilities(zscores, sample_id)
        order = sorted(range(len(self.labels)), key=lambda j: (-proba[j], j))[:top]
        return [(self.labels[j], float(proba[j])) for j in order]

    # -- persistence -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "kind": "logistic_regression",
            "labels": self.labels,
            "features": [list(f) for f in self.features],
            "coef": np.round(self.coef, 6).tolist(),
            "intercept": np.round(self.intercept, 6).tolist(),
            "c": self.c,
            "folds": self.folds,
            "held_out": self.held_out,
            "clip_keys": self.clip_keys,
            "measures": self.measures,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CueClassifier:
        labels = [str(label) for label in data["labels"]]
        features = [(str(k), str(m)) for k, m in data["features"]]
        coef, intercept = np.asarray(data["coef"], dtype=np.float64), np.asarray(data["intercept"], dtype=np.float64)
        if coef.shape != (len(labels), len(features)) or intercept.shape != (len(labels),):
            raise ValueError(f"coef {coef.shape} / intercept {intercept.shape} do not fit {len(labels)} labels")
        held_out = {str(k): [float(p) for p in v] for k, v in dict(data.get("held_out", {})).items()}
        if any(len(v) != len(labels) for v in held_out.values()):
            raise ValueError("a held_out row does not have one probability per label")
        keys = {str(k): str(v) for k, v in dict(data.get("clip_keys", {})).items()}
        if set(keys) - set(held_out):
            raise ValueError("a clip_keys entry has no held_out row")
        c, folds = float(data.get("c", 1.0)), int(data.get("folds", 4))
        measures = {str(kind): int(version) for kind, version in dict(data.get("measures", {})).items()}
        return cls(labels, features, coef, intercept, held_out, c, folds, keys, measures)

    def save(self, path: str | Path) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> CueClassifier:
        try:
            classifier = cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"{path} is not a cue classifier file written by `emoreason data fit-classifier` "
                f"({type(err).__name__}: {err})"
            ) from None
        if classifier.held_out and not classifier.clip_keys:
            _warn_unkeyed(str(Path(path).resolve()))
        stale = stale_measures(classifier.measures, (kind for kind, _ in classifier.features))
        if stale:
            remedy = "refit it with `emoreason data fit-classifier`"
            warn_stale(str(Path(path).resolve()), tuple(stale.items()), remedy)
        return classifier


@lru_cache(maxsize=None)  # once a file: evaluate loads it for the spec and again for the adapter
def _warn_unkeyed(path: str) -> None:
    log.warning(
        "%s was written before held-out rows were matched by the clip's measurement: a clip with the id of one "
        "it was fitted on gets that clip's ranking whatever it holds; refit it with `emoreason data fit-classifier` "
        "to match by the clip",
        path,
    )


def ranking_line(ranked: Sequence[tuple[str, float]]) -> str:
    """'Cue classifier (fitted on other speakers): angry 0.52, sad 0.21, happy 0.10.'"""
    return f"{RANKING_TITLE}: {', '.join(f'{label} {p:.2f}' for label, p in ranked)}."


def add_ranking(samples: Sequence[Sample], classifier: CueClassifier, top: int = 3) -> list[Sample]:
    """`samples` with the classifier's ranking appended to their cue text (`ranking_line`) and
    kept in `meta["cue_ranking"]` for teachers. Samples without z-scores or cue text, or whose cue
    text has a ranking already, are returned as they are."""
    out = []
    for sample in samples:
        zscores = sample.meta.get(CUE_Z_KEY) if sample.meta else None
        if not zscores or not sample.cues or RANKING_TITLE in sample.cues:
            out.append(sample)
            continue
        ranked = classifier.ranking(zscores, sample.id, top)
        meta = {**sample.meta, RANKING_KEY: [[label, round(p, 2)] for label, p in ranked]}
        out.append(sample.with_(cues=f"{sample.cues}\n{ranking_line(ranked)}", meta=meta))
    return out


def rank_cue_texts(
    samples: Sequence[Sample], texts: Mapping[str, str | None], classifier: CueClassifier, top: int = 3
) -> dict[str, str | None]:
    """`texts` (cue text by sample id, as `emoreason.cues.prompting.cue_inputs` gives it) with the
    ranking line added where the sample has z-scores, as `add_ranking` does to `Sample.cues`."""
    out = dict(texts)
    for sample in samples:
        zscores, text = sample.meta.get(CUE_Z_KEY) if sample.meta else None, texts.get(sample.id)
        if zscores and text and RANKING_TITLE not in text:
            out[sample.id] = f"{text}\n{ranking_line(classifier.ranking(zscores, sample.id, top))}"
    return out


def apply_classifier_option(
    samples: Sequence[Sample], spec: object, option: str | None, warnings: list[str]
) -> list[Sample]:
    """`?classifier=PATH` on a dataset spec: the ranking of the cue classifier saved at PATH in
    every sample's cue text. Needs the spec's measured cues (`cues=` or a generic file's `measure=`: the z-scores)."""
    if not option:
        raise DataError(f"classifier= needs the path of a cue classifier file (in {spec})")
    try:
        classifier = CueClassifier.load(option)
    except ValueError as err:
        raise DataError(f"{err} (in {spec})") from None
    if not any(s.meta.get(CUE_Z_KEY) for s in samples):
        name = measuring_option(str(spec)) or "cues"
        raise DataError(f"classifier= needs measured cues: add {name}=only (or {name}=true) to {spec}")
    return add_ranking(samples, classifier)


register_spec_option("classifier", apply_classifier_option)

__all__ = [
    "CUE_Z_KEY",
    "CueClassifier",
    "RANKING_TITLE",
    "add_ranking",
    "clip_key",
    "cross_fit",
    "cue_matrix",
    "feature_names",
]
