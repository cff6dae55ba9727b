"""Reading a score off an answer: the number it wrote, that number weighted by how sure the
model was of the polarity it wrote first, or a line fitted to held-out gold scores.

Why: on the shipped VADER model, the written magnitude carries almost nothing beyond the
polarity (Pearson r of the written scores 0.674 on tweets valid; of -1/0/+1 by polarity alone
0.661), while the probability the model gave its polarity word does: an unsure "positive" is,
on average, a weaker positive. `confidence` multiplies the written score by that probability
and keeps the result on the written polarity's side of the neutral band, so the answer's
polarity, and every class metric, stay what the chain says; only the number moves toward 0
when the model hesitated (RESULTS, "Reading the score off the polarity's probability").

    choice = polarity_choice(tokenizer, fmt)        # {"positive": id, ...} or None
    params = SamplingParams(..., choice_tokens=tuple(choice.values()))
    probs = polarity_probs(completion.choice_probs, choice)
    score = confidence_weighted_score(parsed.score, parsed.polarity, probs, task)

`fitted` goes one step further where a model carries a `ScoreFit` (fitted with
`emoreason fit-score` on a valid split's answers): least squares of the gold score on the
confidence score, P(positive) - P(negative) and the sum of the valences the chain states for its
cues, and the probit margin, again kept on the written polarity's side. On the shipped VADER model,
fitted on the tweets and products valid splits, it raised movies valid r from 0.682 to 0.692 (+0.010
[+0.006, +0.014]) and cost MAE there (+0.057): least squares shrinks toward the mean, and movie reviews
are more extreme than the data it was fitted on (RESULTS, "A score fitted to what the answer carries").

The probit margin, Phi^-1(P(positive)) - Phi^-1(P(negative)), undoes the squashing the SFT polarity
objective trains (`emoreason.train.polarity`): its targets are a rater's normal reading around the gold
score g, so P(positive) = Phi((g - b) / sd) and P(negative) = Phi((-b - g) / sd) for a neutral band
(-b, b), and their probits differ by 2g / sd, linear in g where the margin saturates at +-1 for every
clear sentence. On the default shipped 2026-12-05 it raised r by 0.013-0.018 on each valid domain the
line was not fitted on (RESULTS, "Reading the score off the probit of the polarity's probabilities").
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from emoreason.data.schema import POLARITIES, Polarity, TaskInfo
from emoreason.formats.base import ReasoningFormat

#: how a score is read off an answer: `fitted` (default: the model's `ScoreFit` where it has one,
#: else `confidence`), `confidence` or `written`
SCORE_READOUTS: tuple[str, ...] = ("fitted", "confidence", "written")
#: what a `ScoreFit` weighs, in order: the confidence score, P(positive) - P(negative), the sum of
#: the valences the chain states for its quoted cues (after a negation it states), and
#: Phi^-1(P(positive)) - Phi^-1(P(negative)) (`probit_margin`)
FIT_FEATURES: tuple[str, ...] = ("confidence", "margin", "cues", "probit_margin")
#: the probabilities the probit margin reads are clipped to [PROBIT_FLOOR, 1 - PROBIT_FLOOR]: the
#: small model's polarity probabilities rarely go below 1e-3 (1.8% of the shipped default's P(positive)
#: and P(negative) on the VADER valid splits, none below 2e-4: its tails are not the normal's), records
#: store them to 4 decimals, and an unclipped 0 or 1 would be an infinite probit; any floor from 1e-4 to
#: 1e-3 reads the held-out domain alike (within 0.0001 of r), higher ones cost r (RESULTS, "The probit's floor")
PROBIT_FLOOR = 1e-3
#: the terms a line is fitted on unless told otherwise: the cue sum is left out because on the shipped
#: default it added nothing to r on any valid split and its least-squares weight came out negative, a
#: score leaning against the numbers the chain states (RESULTS, "Reading the score off the probit of
#: the polarity's probabilities")
DEFAULT_FIT_TERMS: tuple[str, ...] = ("confidence", "margin", "probit_margin")
_NORMAL = NormalDist()


def effective_readout(score_readout: str, fmt: ReasoningFormat, task: TaskInfo, fit: ScoreFit | None = None) -> str:
    """The readout `score_readout` amounts to for this format and task: `confidence` needs a
    scored task and a format that writes its polarity first, `fitted` that and a `fit` made on
    the task's scale (without one, or on another scale, it is `confidence`: a line fitted to
    -4..4 scores says nothing about -1..1 ones); anything else is read as written. Raises
    ValueError for an unknown name."""
    if score_readout not in SCORE_READOUTS:
        raise ValueError(f"score readout must be one of {', '.join(SCORE_READOUTS)}, got {score_readout!r}")
    if score_readout == "written" or not (task.is_regression and fmt.supports_prefix_hint):
        return "written"
    fits = fit is not None and (fit.scale is None or tuple(fit.scale) == tuple(task.scale or ()))
    return "fitted" if score_readout == "fitted" and fits else "confidence"


def reading_fit(score_readout: str, fmt: ReasoningFormat, task: TaskInfo, fit: ScoreFit | None) -> ScoreFit | None:
    """`fit` where `score_readout` reads scores off it for this format and task (`effective_readout`
    is `fitted`), else None."""
    return fit if effective_readout(score_readout, fmt, task, fit) == "fitted" else None


@dataclass(frozen=True, slots=True)
class ScoreFit:
    """score = weights . (confidence score, margin, cue sum, probit margin) + intercept
    (`FIT_FEATURES`, one weight each), fitted by least squares on answers with gold scores
    (`fit_score`). `fitted_on` names the data and `n` counts the answers, so that a reader knows what
    the line was fitted to; `scale` is the score scale of those answers, the only one the line is
    read on (None: any)."""

    weights: tuple[float, ...]
    intercept: float
    fitted_on: tuple[str, ...] = ()
    n: int = 0
    scale: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if len(self.weights) != len(FIT_FEATURES):
            raise ValueError(
                f"a score fit has one weight per term of {', '.join(FIT_FEATURES)}; got {len(self.weights)} weights"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FIT_FEATURES),
            "weights": list(self.weights),
            "intercept": self.intercept,
            "scale": list(self.scale) if self.scale is not None else None,
            "fitted_on": list(self.fitted_on),
            "n": self.n,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ScoreFit:
        """Read a file `save` wrote. A file that names fewer of `FIT_FEATURES` (one written before
        `probit_margin` existed names three) weighs the others 0. Raises ValueError naming the file
        and what is wrong with it."""
        try:
            data = json.loads(Path(path).read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            features = data.get("features")
            if (
                not isinstance(features, list)
                or not features
                or len(set(features)) != len(features)
                or not set(features) <= set(FIT_FEATURES)
            ):
                raise ValueError(f"`features` must be distinct names among {list(FIT_FEATURES)}, got {features!r}")
            named = [float(w) for w in data["weights"]]
            intercept = float(data["intercept"])
            if len(named) != len(features) or not all(map(math.isfinite, (*named, intercept))):
                raise ValueError(f"`weights` must be {len(features)} finite numbers (one a feature), `intercept` one")
            by_name = dict(zip(features, named))
            weights = tuple(by_name.get(name, 0.0) for name in FIT_FEATURES)
            scale = data.get("scale")
            if scale is not None and (len(scale) != 2 or not float(scale[0]) < float(scale[1])):
                raise ValueError(f"`scale` must be [low, high] with low < high, got {scale!r}")
            return cls(
                weights,  # type: ignore[arg-type]
                intercept,
                tuple(str(d) for d in data.get("fitted_on", ())),
                int(data.get("n", 0)),
                (float(scale[0]), float(scale[1])) if scale is not None else None,
            )
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise ValueError(f"{path}: not a score fit ({err}); write one with `emoreason fit-score`") from None


def probit_margin(probs: Mapping[Polarity, float]) -> float:
    """Phi^-1(P(positive)) - Phi^-1(P(negative)), each probability clipped to [PROBIT_FLOOR,
    1 - PROBIT_FLOOR] (see the module's doc for why this reads the gold score linearly)."""

    def probit(p: float) -> float:
        return _NORMAL.inv_cdf(min(max(float(p), PROBIT_FLOOR), 1.0 - PROBIT_FLOOR))

    return probit(probs.get("positive", 0.0)) - probit(probs.get("negative", 0.0))


def fit_features(
    confidence_score: float, probs: Mapping[Polarity, float], cue_valences: Sequence[float]
) -> tuple[float, float, float, float]:
    """One answer's `FIT_FEATURES`: its confidence score, P(positive) - P(negative), the sum of the
    valences its chain states for its cues (`metrics.evidence.CueStatement.effective`) and the
    probit margin (`probit_margin`)."""
    margin = probs.get("positive", 0.0) - probs.get("negative", 0.0)
    return float(confidence_score), float(margin), float(sum(cue_valences)), probit_margin(probs)


def fit_terms(terms: Sequence[str] | None) -> tuple[str, ...]:
    """`terms` checked (distinct names among `FIT_FEATURES`; None: `DEFAULT_FIT_TERMS`). Raises
    ValueError naming the allowed ones."""
    chosen = DEFAULT_FIT_TERMS if terms is None else tuple(terms)
    if not chosen or len(set(chosen)) != len(chosen) or not set(chosen) <= set(FIT_FEATURES):
        raise ValueError(f"terms must be distinct names among {', '.join(FIT_FEATURES)}, got {list(chosen)!r}")
    return chosen


def fit_score(
    features: Sequence[Sequence[float]],
    gold: Sequence[float],
    fitted_on: Sequence[str] = (),
    scale: tuple[float, float] | None = None,
    terms: Sequence[str] | None = None,
) -> ScoreFit:
    """Least squares of `gold` on `features` (rows of `fit_features`) and a constant; `scale` is
    the gold scores' scale, recorded so the line is read on that scale only. `terms` names the
    `FIT_FEATURES` the line may use (None: `DEFAULT_FIT_TERMS`); the others get weight 0. Raises
    ValueError for an unknown or repeated term, with no more answers than the line has terms + 1, or
    features that do not vary enough to tell the terms apart."""
    terms = fit_terms(terms)
    x = np.asarray(features, dtype=float)
    y = np.asarray(gold, dtype=float)
    if x.ndim != 2 or x.shape[1] != len(FIT_FEATURES) or len(x) != len(y):
        raise ValueError(f"features must be rows of {len(FIT_FEATURES)} numbers, one per gold score")
    if len(x) <= len(terms) + 1:
        needed = len(terms) + 1
        raise ValueError(f"fitting a score needs more than {needed} answers, got {len(x)}")
    columns = [FIT_FEATURES.index(t) for t in terms]
    design = np.column_stack([x[:, columns], np.ones(len(x))])
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    if rank < design.shape[1]:
        raise ValueError("the answers' features do not vary enough to fit a score (e.g. every answer the same)")
    weights = [0.0] * len(FIT_FEATURES)
    for column, c in zip(columns, coef[:-1]):
        weights[column] = float(c)
    return ScoreFit(tuple(weights), float(coef[-1]), tuple(fitted_on), len(y), scale)  # type: ignore[arg-type]


def fitted_score(
    fit: ScoreFit, features: Sequence[float], written: float, polarity: Polarity | None, task: TaskInfo
) -> float:
    """`fit`'s line at `features`, kept on the written `polarity`'s side of the task's neutral band
    (its edge when the line falls outside it; a neutral answer is clipped into the band). The
    written score `written` comes back unchanged when the answer has no polarity or its written
    number lies on another side than its polarity (as `confidence_weighted_score` does)."""
    if polarity is None or task.score_polarity(written) != polarity:
        return written
    value = float(np.dot(fit.weights, features) + fit.intercept)
    if task.scale is not None:
        value = min(max(value, task.scale[0]), task.scale[1])
    return _kept_on_side(value, polarity, task, fallback=written)


def polarity_position(tokenizer: Any, fmt: ReasoningFormat) -> tuple[list[int], dict[Polarity, int]] | None:
    """Where the format writes its polarity word: the token ids the answer starts with before the
    word (the same for all three), and the token id that starts each word; None when the format
    writes no leading polarity (`supports_prefix_hint`) or the tokenizer does not tell the three
    words apart at one token after the same prefix."""
    if not fmt.supports_prefix_hint:
        return None
    encoded = {p: tokenizer(fmt.hint_prefix(p), add_special_tokens=False)["input_ids"] for p in POLARITIES}
    width = min(len(ids) for ids in encoded.values())
    at = next((i for i in range(width) if len({ids[i] for ids in encoded.values()}) > 1), None)
    if at is None or any(ids[:at] != encoded[POLARITIES[0]][:at] for ids in encoded.values()):
        return None
    starts = {p: ids[at] for p, ids in encoded.items()}
    if len(set(starts.values())) != len(POLARITIES):
        return None
    return list(encoded[POLARITIES[0]][:at]), starts


def polarity_word_index(ids: Sequence[int], position: tuple[list[int], dict[Polarity, int]]) -> int | None:
    """Where in a continuation's token `ids` the polarity word is chosen: the index of the first
    token that starts one of the three words right after the format's prefix (`polarity_position`),
    or None when the continuation never writes one there."""
    prefix, starts = position
    words, width = set(starts.values()), len(prefix)
    for i in range(width, len(ids)):
        if ids[i] in words and list(ids[i - width : i]) == prefix:
            return i
    return None


def polarity_choice(tokenizer: Any, fmt: ReasoningFormat) -> dict[Polarity, int] | None:
    """The token id that starts each polarity word where the format writes it (`polarity_position`),
    or None."""
    position = polarity_position(tokenizer, fmt)
    return position[1] if position else None


def polarity_probs(
    choice_probs: Mapping[int, float] | None, choice: Mapping[Polarity, int] | None
) -> dict[Polarity, float] | None:
    """`Completion.choice_probs` keyed by polarity word; None when either is missing."""
    if not choice_probs or not choice:
        return None
    return {p: float(choice_probs[token]) for p, token in choice.items() if token in choice_probs} or None


def confidence_weighted_score(
    score: float, polarity: Polarity | None, probs: Mapping[Polarity, float] | None, task: TaskInfo
) -> float:
    """`score` times the probability of the written `polarity` (its distance from the neutral band's
    centre, on a scale not centred on 0), kept on that polarity's side of the task's neutral band (at
    the band's edge when the product would fall inside it).

    The written score comes back unchanged when there is nothing to weigh it by: no
    probabilities, no polarity, or a score whose side of the band disagrees with the written
    polarity (an inconsistent answer is reported as written, not repaired)."""
    if probs is None or polarity not in probs or task.score_polarity(score) != polarity:
        return score
    centre = task.neutral.centre  # 0 on a scale centred there; 4 on a 1..7 one
    weighted = centre + (score - centre) * probs[polarity]
    if polarity == "neutral" and task.score_polarity(weighted) != "neutral":
        return score  # a band that does not hold 0 (never seen): leave the answer alone
    return _kept_on_side(weighted, polarity, task, fallback=score)


def _kept_on_side(value: float, polarity: Polarity, task: TaskInfo, fallback: float) -> float:
    """`value` if it lies on `polarity`'s side of the neutral band, else the nearest value that does
    (within a thousandth of the scale where an edge is open): the band's edge for a polar answer,
    its nearer end for a neutral one (`fallback` for a band too narrow to hold one)."""
    if task.score_polarity(value) == polarity:
        return value
    band = task.neutral
    step = task.scale_range / 1000 if task.scale is not None else 1e-3
    if polarity == "neutral":
        low = band.low if band.low_closed else band.low + step
        high = band.high if band.high_closed else band.high - step
        return min(max(value, low), high) if low <= high else fallback
    # the nearest value on the polarity's side: the edge itself when the band leaves it open
    if polarity == "positive":
        return band.high + (step if band.high_closed else 0.0)
    return band.low - (step if band.low_closed else 0.0)


__all__ = [
    "DEFAULT_FIT_TERMS",
    "FIT_FEATURES",
    "PROBIT_FLOOR",
    "SCORE_READOUTS",
    "ScoreFit",
    "confidence_weighted_score",
    "effective_readout",
    "fit_features",
    "probit_margin",
    "fit_score",
    "fit_terms",
    "fitted_score",
    "polarity_choice",
    "polarity_position",
    "polarity_probs",
    "reading_fit",
]
