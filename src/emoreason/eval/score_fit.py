"""Fitting a model's score readout to gold scores (`emoreason fit-score`).

The answers of `emoreason evaluate` runs on valid splits (read with the confidence readout, which
keeps the polarity's probabilities) give one row of `formats.readout.FIT_FEATURES` each; least
squares of their gold scores on those rows is the line the `fitted` readout reads scores off.
Fit on valid answers only: a line fitted on a test split would be scored on the answers it was
fitted to.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emoreason.data import DataError
from emoreason.data.schema import HELD_OUT_SPLITS
from emoreason.eval.compare import read_run
from emoreason.eval.run_identity import read_identity_file
from emoreason.formats.readout import ScoreFit, fit_score, fit_terms
from emoreason.inference import record_fit_features

log = logging.getLogger(__name__)

#: the splits a line may not be fitted on: test, and `all`, which holds the test sentences too


#: what a run's identity (run.json) says of the model that answered: a line is fitted on one model's answers
SAME_ANSWERER = ("model", "model_weights", "adapters", "trained_weights", "dtype", "format", "ground_quotes")

#: fewer usable answers than this per term of the line, and its weights may follow the noise of those few: warned
ANSWERS_PER_TERM = 10

#: what makes an answer usable, as messages say it
USABLE = "a usable answer has a gold score, parsed to a score and carries the polarity's probabilities"


def fit_score_runs(
    folders: Sequence[str | Path],
    allow_test: bool = False,
    terms: Sequence[str] | None = None,
    notify: Callable[[str], None] = log.warning,
) -> ScoreFit:
    """The line fitted to every usable answer of the `evaluate` runs in `folders` (answers with a
    gold score, read with the polarity's probabilities), on their task's scale, on the `FIT_FEATURES`
    named in `terms` (the rest weigh 0; None: `formats.readout.DEFAULT_FIT_TERMS`). Raises DataError
    naming the folder for a run on a test split (unless `allow_test`), a run on a task without a
    score scale or on another scale than the runs before it, or a run with no usable answer
    (evaluated with `--score-readout written`, say); a line that cannot be fitted (too few usable answers)
    is refused saying how many answers with gold scores were left out, and why. `notify` hears the
    warnings: answers of a sentence given twice, a line fitted on few answers for its terms (fewer than
    `ANSWERS_PER_TERM` a term)."""
    if not folders:
        raise DataError("give at least one folder written by `emoreason evaluate`")
    seen: set[Path] = set()
    for folder in folders:  # the same answers twice would weigh as two runs' worth of evidence
        if Path(folder).resolve() in seen:
            raise DataError("this run is given twice; give each run once", file=str(folder))
        seen.add(Path(folder).resolve())
    try:
        terms = fit_terms(terms)  # before any run is read
    except ValueError as err:
        raise DataError(str(err)) from None
    features: list[tuple[float, ...]] = []
    gold: list[float] = []
    fitted_on: list[str] = []
    scales: set[tuple[float, float]] = set()
    answered: set[tuple[str, str]] = set()  # (dataset, id) of every answer taken so far
    twice: list[str] = []
    answerer: tuple[str, dict[str, Any]] | None = None  # the first run's folder, and who answered in it
    left_out: Counter[str] = Counter()  # answers with a gold score that give no row, by why
    for folder in folders:
        records, task = read_run(folder)
        stored = read_identity_file(Path(folder)) or {}
        identity = stored.get("identity") or {}
        who = {key: identity.get(key) for key in SAME_ANSWERER}
        if answerer is None:
            answerer = (str(folder), who)
        elif who != answerer[1]:  # one line for two models reads neither's answers right
            differ = ", ".join(
                f"{k} {answerer[1][k]!r} -> {who[k]!r}" for k in SAME_ANSWERER if who[k] != answerer[1][k]
            )
            raise DataError(
                f"this run's answers are another model's than those of {answerer[0]} ({differ}); fit a line on "
                "the answers of the model that will read scores off it",
                file=str(folder),
            )
        split = str(identity.get("split", "?"))
        if split in HELD_OUT_SPLITS and not allow_test:
            holds = "the test split" if split == "test" else "every split, test included"
            raise DataError(
                f"this run answered {holds}; fit the readout on valid answers and keep test for "
                "reporting (--allow-test overrides)",
                file=str(folder),
            )
        if not task.is_regression:
            raise DataError(f"task {task.name!r} has no score scale: there is no score to fit", file=str(folder))
        assert task.scale is not None
        scales.add((float(task.scale[0]), float(task.scale[1])))
        if len(scales) > 1:
            raise DataError(
                f"these runs score on different scales ({sorted(scales)}); fit one line per scale", file=str(folder)
            )
        usable, repeated = 0, 0
        dataset = str(identity.get("dataset", folder))
        for key, record in records.items():
            if record.get("gold_score") is None:
                continue
            row = record_fit_features(record)
            if row is None:
                left_out[_unusable_because(record)] += 1
                continue
            if (dataset, key) in answered:  # one sentence in two runs would weigh twice
                twice.append(key)
                repeated += 1
                left_out["answer a sentence an earlier run answered"] += 1
                continue
            answered.add((dataset, key))
            features.append(row)
            gold.append(float(record["gold_score"]))
            usable += 1
        if not usable and repeated:
            raise DataError(
                f"every usable answer here answers a sentence an earlier run answered ({twice[:3]}, ...); "
                "give runs of different sentences",
                file=str(folder),
            )
        if not usable:
            # the run's own readout too: an unparsed answer's record says "written" whatever the run asked
            read_with = {str(identity.get("score_readout"))} | {str(r.get("score_readout")) for r in records.values()}
            if read_with & {"confidence", "fitted"}:  # read the right way, and still nothing to fit
                parsed = sum(bool(r.get("parse_ok")) for r in records.values())
                raise DataError(
                    f"no answer here has both a score and the polarity's probabilities ({parsed} of {len(records)} "
                    "parsed): a line needs answers that parse; train the model further, or allow more tokens",
                    file=str(folder),
                )
            raise DataError(
                "no answer here carries a score and the polarity's probabilities; evaluate with "
                "--score-readout confidence (or fitted)",
                file=str(folder),
            )
        fitted_on.append(f"{identity.get('dataset', Path(folder).name)}:{split} ({usable})")
    if twice:
        notify(
            f"{len(twice)} answers are of sentences an earlier run already gave (first ids {twice[:3]}): each "
            "sentence counts once"
        )
    try:
        fit = fit_score(features, gold, fitted_on, scales.pop(), terms)
    except ValueError as err:  # counted only the usable answers: say which were not, and why
        raise DataError(f"{err}; {USABLE}: {_usable_count(len(gold), left_out)}") from None
    if fit.n < ANSWERS_PER_TERM * len(terms):
        its = f"its {len(terms)} terms" if len(terms) > 1 else "its one term"
        notify(
            f"the line is fitted on {fit.n} answers for {its} ({fit.n / len(terms):.1f} a term, fewer than "
            f"{ANSWERS_PER_TERM}): its weights may follow the noise of so few; fit it on more valid answers (at least "
            f"{ANSWERS_PER_TERM * len(terms)}) or on fewer terms"
        )
    return fit


def _unusable_because(record: Mapping[str, Any]) -> str:
    """Why an answer with a gold score gives no row of `FIT_FEATURES` (`record_fit_features` is None), as
    `_usable_count` lists it."""
    read = record.get("confidence_score") if record.get("score_readout") == "fitted" else record.get("score")
    if read is None:
        return "did not parse to a score" if not record.get("parse_ok") else "have no score"
    return "read without the polarity's probabilities"


def _usable_count(usable: int, left_out: Counter[str]) -> str:
    """How many of the answers with gold scores were usable, and how many were left out for which reason."""
    with_gold = usable + sum(left_out.values())
    said = f"{usable} of the {with_gold} answers with gold scores are"
    if not left_out:
        return said + " usable"
    reasons = ", ".join(f"{count} {why}" for why, count in left_out.most_common())
    return f"{said} usable; left out: {reasons}"


def replaced_line(target: Path, fit: ScoreFit) -> str | None:
    """What saving `fit` at `target` replaces, said (fit-score replaced an adapter's line in silence); None where
    nothing is there."""
    if not target.exists():
        return None
    new = f"this one, fitted on {fit.n} answers ({'; '.join(fit.fitted_on)})"
    try:
        old = ScoreFit.load(target)
    except ValueError:
        return f"{target} held no score line this version reads; it is replaced by {new}"
    was = "; ".join(old.fitted_on) or "its data not named"
    return f"{target} held a line fitted on {old.n} answers ({was}); it is replaced by {new}"


__all__ = ["ANSWERS_PER_TERM", "fit_score_runs", "replaced_line"]
