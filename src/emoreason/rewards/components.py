"""Reward components: small pure functions, one per signal (METHOD.md §1 step 4 and §2).

Every function returns a float in [0, 1] and never raises on model output: a missing
prediction (None, empty or garbage text) earns 0, or 0.5 for the two reflection answers
where the paper says so. Gold values are the caller's responsibility; a bad scale or an
unknown score shape raises `ValueError` because that is a configuration bug, not a model
error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from emoreason.data.schema import normalize_label
from emoreason.formats.base import ParseResult


def format_reward(parsed: ParseResult) -> float:
    """1 for a completion whose every required part parsed (and whose score is in scale), else 0."""
    return 1.0 if parsed.ok else 0.0


def polarity_reward(pred_polarity: str | None, gold_polarity: str | None) -> float:
    """1 if the predicted polarity equals the gold one (case/whitespace-insensitive), else 0."""
    if not pred_polarity or not gold_polarity:
        return 0.0
    return 1.0 if normalize_label(pred_polarity) == normalize_label(gold_polarity) else 0.0


def _share_or_neutral(part: int, whole: int, neutral: float, rule: str) -> float:
    """part / whole, or `neutral` when there is nothing to take a share of; ValueError(rule) unless
    0 <= part <= whole."""
    if whole < 0 or not 0 <= part <= whole:
        raise ValueError(f"{rule}, got {part} of {whole}")
    return neutral if whole == 0 else part / whole


#: the grounding reward of a chain that cites nothing: halfway between a chain whose every
#: citation is invented (0) and one whose every citation is in the input (1). A sentence with no
#: sentiment words is honestly explained without quotes, so citing nothing must not score 0; and
#: it must score below a grounded chain, or dropping the evidence would be the easy way up.
GROUNDING_NEUTRAL = 0.5


def grounding_reward(cited: int, grounded: int, neutral: float = GROUNDING_NEUTRAL) -> float:
    """grounded / cited, the share of a chain's citations that occur in its input; `neutral`
    when it cites nothing."""
    return _share_or_neutral(grounded, cited, neutral, "grounding_reward needs 0 <= grounded <= cited")


#: the valence reward of a chain that states no checkable valence (a neutral answer that cites
#: nothing, say): halfway, for the reason of GROUNDING_NEUTRAL. Saying nothing must beat stating a
#: false valence (0), and must not beat a chain whose stated valences all hold (1).
VALENCE_NEUTRAL = 0.5


def valence_reward(agreeing: int, checked: int, neutral: float = VALENCE_NEUTRAL) -> float:
    """agreeing / checked, the share of a chain's valence checks that hold (`metrics.valence`: each
    lexicon word's stated sign, and the judgment's sign against the summed cues); `neutral` when
    nothing was checked."""
    return _share_or_neutral(agreeing, checked, neutral, "valence_reward needs 0 <= agreeing <= checked")


#: the negation reward of a chain that names no negation: halfway, so that naming a negation that
#: stands just before its cue (1) beats naming none, and naming one that does not (0) loses to it.
NEGATION_NEUTRAL = 0.5


def negation_reward(supported: int, named: int, neutral: float = NEGATION_NEUTRAL) -> float:
    """supported / named, the share of the negations a chain names (`negated by "not"`) that stand
    in its input just before the cue they negate (`metrics.valence.negation_supported`); `neutral`
    when it names none."""
    return _share_or_neutral(supported, named, neutral, "negation_reward needs 0 <= supported <= named")


def negation_coverage_reward(named_true: int, expected: int, named_false: int) -> float:
    """named_true / (expected + named_false): the share of the negations a chain has to account for
    (`metrics.valence.negation_coverage`) that it names, each false one it names added to what it
    got wrong. 1 when there is nothing to account for and nothing false is named. Unlike
    `negation_reward` there is no halfway value: where the input negates a sentiment word, naming
    nothing earns 0, so silence cannot be the way up (it was, RESULTS "Weighting the negation
    chains")."""
    if min(named_true, expected, named_false) < 0 or named_true > expected:
        raise ValueError(
            f"negation_coverage_reward needs 0 <= named_true <= expected and named_false >= 0, "
            f"got {named_true}, {expected}, {named_false}"
        )
    wrong_or_due = expected + named_false
    return 1.0 if wrong_or_due == 0 else named_true / wrong_or_due


def cue_coverage_reward(named: int, expected: int) -> float:
    """named / expected: the share of the input's lexicon-rated words (`metrics.valence.lexicon_words`)
    that a chain states a number for. 1 when the input has none: nothing was left out. A chain that
    quotes one word of three earns 1/3 however right that word is; the shipped default does that on
    most movie reviews (RESULTS, "How much of the input a chain accounts for")."""
    if min(named, expected) < 0 or named > expected:
        raise ValueError(f"cue_coverage_reward needs 0 <= named <= expected, got {named}, {expected}")
    return 1.0 if expected == 0 else named / expected


def accuracy_reward(pred_label: str | None, gold_label: str | None) -> float:
    """1 if the predicted label equals the gold label (case/whitespace-insensitive), else 0."""
    if not pred_label or not gold_label:
        return 0.0
    return 1.0 if normalize_label(pred_label) == normalize_label(gold_label) else 0.0


# --- score ---------------------------------------------------------------------------------

# Each shape maps (|pred - gold|, scale range, params) to a reward in [0, 1].
ScoreShape = Callable[[float, float, dict[str, float]], float]


def _linear(err: float, span: float, params: dict[str, float]) -> float:
    return min(1.0, max(0.0, 1.0 - err / span))


def _squared(err: float, span: float, params: dict[str, float]) -> float:
    return min(1.0, max(0.0, 1.0 - (err / span) ** 2))


def _gaussian(err: float, span: float, params: dict[str, float]) -> float:
    sigma = params.get("sigma", 0.25)
    if not sigma > 0:
        raise ValueError(f"gaussian score reward needs sigma > 0, got {sigma!r}")
    return math.exp(-((err / (sigma * span)) ** 2) / 2.0)


def _threshold(err: float, span: float, params: dict[str, float]) -> float:
    tol = params.get("tol", 0.1 * span)
    if not tol >= 0:
        raise ValueError(f"threshold score reward needs tol >= 0, got {tol!r}")
    return 1.0 if err <= tol else 0.0


SCORE_KINDS: dict[str, ScoreShape] = {
    "linear": _linear,
    "squared": _squared,
    "gaussian": _gaussian,
    "threshold": _threshold,
}
SCORE_PARAMS: dict[str, tuple[str, ...]] = {"linear": (), "squared": (), "gaussian": ("sigma",), "threshold": ("tol",)}


def check_score_kind(kind: str, params: dict[str, float] | None = None) -> None:
    """Raise `ValueError` for an unknown shape or a parameter the shape does not take."""
    if kind not in SCORE_KINDS:
        raise ValueError(f"unknown score reward kind {kind!r}; choose one of {', '.join(SCORE_KINDS)}")
    unknown = sorted(set(params or {}) - set(SCORE_PARAMS[kind]))
    if unknown:
        accepted = ", ".join(SCORE_PARAMS[kind]) or "none"
        raise ValueError(f"score reward kind {kind!r} takes no parameter {', '.join(unknown)} (accepted: {accepted})")


def score_reward(
    pred: float | None,
    gold: float,
    scale: tuple[float, float],
    kind: str = "linear",
    *,
    sigma: float | None = None,
    tol: float | None = None,
) -> float:
    """How close a predicted score is to the gold score, in [0, 1]. With r = max - min:

    - ``linear`` (METHOD default): ``clip(1 - |pred - gold| / r, 0, 1)``
    - ``squared``: ``clip(1 - ((pred - gold) / r) ** 2, 0, 1)``
    - ``gaussian``: ``exp(-((pred - gold) / (sigma * r)) ** 2 / 2)``; sigma defaults to 0.25
    - ``threshold``: ``1 if |pred - gold| <= tol else 0``; tol (absolute, in score units)
      defaults to 0.1 * r (our choice)

    A prediction outside the scale is scored as written, not clipped first. None, NaN or
    infinite predictions earn 0.
    """
    params = {k: v for k, v in (("sigma", sigma), ("tol", tol)) if v is not None}
    check_score_kind(kind, params)
    low, high = scale
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"score scale must be two finite numbers (min, max) with min < max, got {scale!r}")
    if gold is None or not math.isfinite(gold):
        raise ValueError(f"gold score must be a finite number, got {gold!r}")
    if pred is None or not math.isfinite(pred):
        return 0.0
    return SCORE_KINDS[kind](abs(pred - gold), high - low, params)


# --- reflection answers (EMO-R3) -----------------------------------------------------------

_EDGE_JUNK = " \t\r\n.,;:!?\"'`*()[]{}<>"
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def extract_label(answer: str | None, labels: Sequence[str]) -> str | None:
    """The one label a free answer names, or None if it names none or several.

    Rules (our choice): normalise case and whitespace; take the inside of a ``\\boxed{..}``
    if there is one; if what is left, stripped of edge punctuation and quotes, equals a label,
    that is the answer ("Sadness." -> sadness). Otherwise look for labels as whole words
    (multi-word labels allowed, a longer label wins over one it contains): exactly one
    distinct label found -> that label; none or several different ones -> None
    ("anger or fear" is unparseable). Inflections ("sad", "angry") do not count.
    """
    if not answer or not labels:
        return None
    text = normalize_label(answer)
    boxed = _BOXED.findall(text)
    if boxed:
        text = " ".join(boxed)
    by_norm = {normalize_label(label): label for label in labels if label.strip()}
    bare = text.strip(_EDGE_JUNK)
    if bare in by_norm:
        return by_norm[bare]
    names = sorted(by_norm, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
    found = {m.group(1) for m in pattern.finditer(text)}
    if len(found) == 1:
        return by_norm[found.pop()]
    return None


def coherence_reward(answer: str | None, gold_label: str, labels: Sequence[str]) -> float:
    """EMO-R3 emotional coherence: the policy, shown only its own step1..step2 text, was asked
    "Which emotion best describes the text above? Answer with one category: <labels>".

    1 if the answer names the gold label, 0.5 if it is empty or names no single label from
    `labels` (see `extract_label`), else 0.
    """
    found = extract_label(answer, labels)
    if found is None:
        return 0.5
    return 1.0 if normalize_label(found) == normalize_label(gold_label) else 0.0


_CLAUSE_SPLIT = re.compile(r"[.,;:!?\n]")
_YES_NO = re.compile(r"(?<![\w'])(yes|no)(?![\w'])")


def yes_no(answer: str | None) -> bool | None:
    """Read a yes/no answer: True, False, or None when it is neither or both.

    Rule (our choice): the first clause (text between . , ; : ! ? or newlines) that contains
    the word yes or no decides; if that clause holds both ("yes and no", "yes/no") or no
    clause holds either ("maybe", "nope", ""), the answer is None. So "Yes.", "YES",
    "The answer is: yes" read yes; "no, because ..." reads no; "Yes, though there is no dog"
    reads yes.
    """
    if not answer:
        return None
    for clause in _CLAUSE_SPLIT.split(answer.lower()):
        words = set(_YES_NO.findall(clause))
        if words:
            return None if len(words) > 1 else words == {"yes"}
    return None


def consistency_reward(answer: str | None) -> float:
    """EMO-R3 visual-text consistency: the policy, shown the image and its own step1 text, was
    asked "Can the following text describe the image? Answer yes or no."

    yes -> 1, no -> 0, anything else (empty, both, neither) -> 0.5; see `yes_no`.
    """
    verdict = yes_no(answer)
    if verdict is None:
        return 0.5
    return 1.0 if verdict else 0.0
