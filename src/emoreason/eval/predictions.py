"""Score a file of predictions from any system against a dataset split.

Each line of the file is a JSON object with `id` and either `completion` (model text, parsed with
a reasoning format) or a ready `score` / `label`; a `.csv` or `.tsv` file holds the same as columns.
Predictions that give no usable answer still count: a regression prediction that is missing,
unparsable, not a finite number (`"abc"`, NaN, Infinity) or outside the task's scale is scored as
the metrics score an unparsed answer, i.e. as the midpoint of the scale
(`task_metrics(invalid_score=...)`, counted in `n_invalid`); a classification label outside the
label set is wrong (the metrics' `<invalid>` column). Failures therefore cost the system, no system
looks better by failing to answer, and one wild value (1e9) cannot swamp the error of every other
answer. The exception is an MMSA task (`MMSA_METRIC_SETS`): a score outside its scale is kept, as
MMSA's metricsTop.py keeps it (its accuracies clip it, its MAE and Corr read it as given). Every
rejected value is counted in the row and named in a warning (count, first ids, what was done), never
replaced silently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emoreason.baselines import baselines_for
from emoreason.data import DataError, Dataset, Sample, TaskInfo
from emoreason.data.adapters._rows import TABLE_DELIMITERS, parse_score, read_text_file
from emoreason.data.jsonl import read_jsonl_strict
from emoreason.data.schema import normalize_label
from emoreason.eval.comparison import fit_baselines
from emoreason.formats import format_for, get_format
from emoreason.formats.base import ParseResult

NOT_A_NUMBER = "not_a_number"
OUT_OF_SCALE = "out_of_scale"
UNKNOWN_LABEL = "unknown_label"
SHOWN_IDS = 5  # how many offending ids a warning names
#: tasks scored as MMSA's metricsTop.py scores them, which clips what lies outside the scale (MOSI's
#: Mult_acc_7 at [-3, 3], CH-SIMS's every figure at [-1, 1]) rather than refusing it
MMSA_METRIC_SETS = frozenset({"mosi", "mosei", "sims", "simsv2"})


def _table_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) of a CSV/TSV file of predictions: what a system that writes a table gives. An empty
    cell is a value not given (None), as `null` is in JSONL: a row with an empty score is an unanswered one."""
    table = csv.DictReader(io.StringIO(read_text_file(path), newline=""), delimiter=delimiter)
    columns = table.fieldnames or []
    if "id" not in columns or not {"completion", "score", "label"} & set(columns):
        raise DataError(
            f"a table of predictions needs a header row with `id` and one of `completion`, `score`, `label` "
            f"(columns: {', '.join(columns) or 'none'})",
            file=str(path),
            line=1,
        )
    for row in table:
        yield table.line_num, {key: value or None for key, value in row.items() if key is not None}


def read_predictions(path: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Rows keyed by id, from JSONL (one object a line) or, for a `.csv`/`.tsv` file, a table with a header
    row; malformed lines raise `DataError` naming the line."""
    if path.is_dir():
        raise DataError(
            "is a folder; give the predictions file (JSONL, one object with an `id` per line, or CSV/TSV)",
            file=str(path),
        )
    if not path.is_file():
        raise DataError("predictions file does not exist", file=str(path))
    rows: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    delimiter = TABLE_DELIMITERS.get(path.suffix.lower())
    lines = (
        _table_rows(path, delimiter)
        if delimiter is not None
        else read_jsonl_strict(path, required=("id",), hint="each line needs an object with an `id` field")
    )
    for number, row in lines:
        if not any(k in row for k in ("completion", "score", "label")):
            raise DataError("the row has none of `completion`, `score`, `label`", file=str(path), line=number)
        key = str(row["id"])
        if key in rows:
            warnings.append(f"{path}:{number}: id {key!r} repeated; the last row is used")
        rows[key] = row
    if not rows:
        raise DataError(
            "the predictions file is empty: write one JSON object per line, with `id` (or a CSV row per id)",
            file=str(path),
        )
    return rows, warnings


@dataclass(frozen=True, slots=True)
class Prediction:
    """What one row predicts: a usable value, or None plus why a given value was rejected."""

    value: float | str | None
    problem: str = ""  # NOT_A_NUMBER, OUT_OF_SCALE or UNKNOWN_LABEL when a given value was rejected
    given: Any = None  # the rejected value, quoted in the warning


def read_prediction(
    row: dict[str, Any], task: TaskInfo, parsed: ParseResult | None, labels: frozenset[str] = frozenset()
) -> Prediction:
    """The prediction a row gives: an explicit score/label wins over the parsed completion.

    A regression value that is not a finite number, or lies outside the task's scale, is rejected
    (value None), except on an MMSA task (`MMSA_METRIC_SETS`), where one outside the scale is flagged
    but kept: MMSA's metrics take raw predictions and clip them themselves. A label outside `labels`
    (normalised) is flagged but kept: the classification metrics already count it as wrong, in their
    `<invalid>` column."""
    if task.is_regression:
        given = row["score"] if row.get("score") is not None else (parsed.score if parsed is not None else None)
        if given is None:
            return Prediction(None)
        score = parse_score(given)
        if score is None:
            return Prediction(None, NOT_A_NUMBER, given)
        if not task.in_scale(score):
            return Prediction(score if task.metric_set in MMSA_METRIC_SETS else None, OUT_OF_SCALE, given)
        return Prediction(score)
    label = row["label"] if row.get("label") is not None else (parsed.label if parsed is not None else None)
    if label is None:
        return Prediction(None)
    if labels and normalize_label(str(label)) not in labels:
        return Prediction(str(label), UNKNOWN_LABEL, label)
    return Prediction(str(label))


def predicted_value(row: dict[str, Any], task: TaskInfo, parsed: ParseResult | None) -> float | str | None:
    """The usable prediction of a row (None when it gives none, see `read_prediction`)."""
    return read_prediction(row, task, parsed).value


def label_set(task: TaskInfo, samples: list[Sample]) -> frozenset[str]:
    """The labels a classification answer may take, normalised: the task's, else (as the
    classification metrics do) those its gold labels use."""
    labels = task.labels or tuple(s.label for s in samples if s.label)
    return frozenset(normalize_label(label) for label in labels)


def _rejection_warning(
    source: str, problem: str, rejected: list[tuple[str, Any]], task: TaskInfo, labels: frozenset[str]
) -> str:
    """One warning for every value rejected for one reason: count, first ids with their value,
    and what the scoring did with them."""
    shown = ", ".join(f"{key!r}: {value!r}" for key, value in rejected[:SHOWN_IDS])
    more = f" and {len(rejected) - SHOWN_IDS} more" if len(rejected) > SHOWN_IDS else ""
    if problem == UNKNOWN_LABEL:
        return (
            f"{source}: {len(rejected)} label(s) are not in the label set {sorted(labels)} ({shown}{more}); "
            "they count as wrong (the <invalid> confusion column)"
        )
    assert task.scale is not None
    low, high = task.scale
    what = "are not a finite number" if problem == NOT_A_NUMBER else f"lie outside the scale [{low:g}, {high:g}]"
    if problem == OUT_OF_SCALE and task.metric_set in MMSA_METRIC_SETS:
        return f"{source}: {len(rejected)} score(s) {what} ({shown}{more}); kept, and clipped where MMSA's metrics clip"
    return (
        f"{source}: {len(rejected)} score(s) {what} ({shown}{more}); they are scored as unparsed answers, "
        f"i.e. as the scale midpoint {(low + high) / 2:g} (counted in n_invalid and imputed_predictions)"
    )


@dataclass
class SystemScore:
    """One system's metrics row, and the warnings about the predictions it was computed from."""

    metrics: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def score_system(
    samples: list[Sample],
    predictions: dict[str, dict[str, Any]],
    task: TaskInfo,
    format_name: str,
    source: str = "predictions",
) -> SystemScore:
    """Metrics of one system's predictions on `samples` (see the module doc for what a missing or
    rejected prediction counts as); `source` names the predictions in warnings (e.g. the file)."""
    from emoreason.metrics import reasoning_health, task_metrics
    from emoreason.metrics.grounding import citation_grounding, grounding_summary
    from emoreason.metrics.valence import vader_lexicon, vader_rater_spread, valence_check, valence_summary

    fmt = get_format(format_name)
    labels = label_set(task, samples)
    preds: list[float | str | None] = []
    rejected: dict[str, list[tuple[str, Any]]] = {NOT_A_NUMBER: [], OUT_OF_SCALE: [], UNKNOWN_LABEL: []}
    parsed_all: list[ParseResult] = []
    lengths: list[int] = []
    citations = []
    valences = []
    lexicon, spread = vader_lexicon(), vader_rater_spread()
    missing = 0
    unanswered: list[str] = []  # a row without a usable answer: a completion that did not parse, a null score
    overriding: list[str] = []  # a row whose explicit score/label differs from its completion's answer
    for sample in samples:
        row = predictions.get(sample.id)
        if row is None:
            missing += 1
            preds.append(None)
            continue
        parsed = None
        if isinstance(row.get("completion"), str):
            parsed = fmt.parse(row["completion"], task, cut=row.get("finish_reason") == "length")
            parsed_all.append(parsed)
            lengths.append(int(row.get("completion_tokens") or len(row["completion"].split())))
            # the input the chain can cite: the sample's text and the cue text its prompt carried
            source_text = sample.source
            citations.append(citation_grounding(row["completion"], source_text))
            # the lexicon's checks read the input's own words, not its cue text's labels ("voice clarity"), and only
            # a score task's: they check the numbers a chain states for those words, which only the score formats'
            # chains state (c2f, the lexicon teacher's: both need a scale); an emotion run's report showed a cue
            # recall of 0 and a row of nan for figures that do not apply to it
            if task.is_regression:
                valences.append(valence_check(row["completion"], parsed.polarity, lexicon, sample.text or "", spread))
        prediction = read_prediction(row, task, parsed, labels)
        if parsed is not None and _overrides_completion(row, task, parsed):
            overriding.append(sample.id)
        if prediction.problem:
            rejected[prediction.problem].append((sample.id, prediction.given))
        elif prediction.value is None:
            unanswered.append(sample.id)
        preds.append(prediction.value)
    if task.is_regression:
        assert task.scale is not None
        midpoint = (task.scale[0] + task.scale[1]) / 2
        metrics: dict[str, Any] = dict(task_metrics(preds, [s.score for s in samples], task, invalid_score=midpoint))
    else:
        metrics = dict(task_metrics(preds, [s.label for s in samples], task))
    if parsed_all:
        metrics.update(reasoning_health(parsed_all, lengths, task))
        metrics.update(grounding_summary(citations))
    if valences:
        metrics.update(valence_summary(valences))
    metrics["n"] = len(samples)
    metrics["missing_predictions"] = missing
    metrics["imputed_predictions"] = sum(1 for p in preds if p is None)
    problems = (NOT_A_NUMBER, OUT_OF_SCALE) if task.is_regression else (UNKNOWN_LABEL,)
    for problem in problems:
        metrics[f"{problem}_predictions"] = len(rejected[problem])
    warnings = [_rejection_warning(source, p, rejected[p], task, labels) for p in problems if rejected[p]]
    if unanswered:
        what = "score" if task.is_regression else "label"
        warnings.append(
            f"{source}: {len(unanswered)} row(s) give no {what} (an answer that did not parse, or none given; "
            f"first ids {unanswered[:SHOWN_IDS]}); they count as unparsed answers (imputed_predictions)"
            + (
                f", scored as the scale midpoint {sum(task.scale) / 2:g}, neutral in the polarity figures"
                if task.is_regression and task.scale is not None
                else ", scored as wrong"
            )
        )
    if overriding:
        what = "score" if task.is_regression else "label"
        warnings.append(
            f"{source}: {len(overriding)} row(s) give a `{what}` that differs from their completion's answer "
            f"(first ids {overriding[:SHOWN_IDS]}); the given `{what}` is scored (leave it out to score the completion)"
        )
    return SystemScore(metrics, warnings)


def _overrides_completion(row: dict[str, Any], task: TaskInfo, parsed: ParseResult) -> bool:
    """Whether a row's explicit score/label, which `read_prediction` scores, differs from the answer its
    completion gives (a completion that gives none is not overridden: there is nothing to lose). A score
    read off the polarity's probabilities (`score_readout` confidence or fitted, as `evaluate` writes it)
    differs from the written one by design: no override."""
    if row.get("score_readout") in ("confidence", "fitted"):
        return False
    if task.is_regression:
        given, answer = parse_score(row.get("score")), parsed.score
        return given is not None and answer is not None and abs(given - answer) > 1e-9
    given_label, answer_label = row.get("label"), parsed.label
    if given_label is None or answer_label is None:
        return False
    return normalize_label(str(given_label)) != normalize_label(answer_label)


def score_samples(
    samples: list[Sample], predictions: dict[str, dict[str, Any]], task: TaskInfo, format_name: str
) -> dict[str, Any]:
    """The metrics row of `score_system`, for callers that do not report its warnings."""
    return score_system(samples, predictions, task, format_name).metrics


def evaluate_prediction_file(
    path: Path,
    dataset: Dataset,
    split: str = "test",
    format_name: str | None = None,
    baselines: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Score the predictions in `path` on `dataset`'s `split`; `format_name` reads their completions
    (None: the one the task takes, `formats.format_for`; one that cannot answer the task is refused).
    `baselines` as `baselines.baselines_for` reads them ("vader,mean" as --baselines gives them, or a list)."""
    format_name = format_for(dataset.task, format_name, cli=True).name
    predictions, warnings = read_predictions(path)
    samples = dataset.split(split)
    if not samples:
        raise DataError(f"{dataset.spec} has no samples in split {split!r} (rows per split: {dataset.split_counts()})")
    gold_ids = {s.id for s in samples}
    unknown = [k for k in predictions if k not in gold_ids]
    if unknown:
        warnings.append(f"{len(unknown)} prediction ids are not in {dataset.spec} split {split}, first: {unknown[:3]}")
    scored = sum(1 for s in samples if s.id in predictions)
    if scored == 0:
        raise DataError(
            f"none of the {len(samples)} {split} ids of {dataset.spec} is in {path}; "
            f"ids look like {samples[0].id!r}, the file has {next(iter(predictions), None)!r}"
        )
    if scored < len(samples):
        absent = [s.id for s in samples if s.id not in predictions][:SHOWN_IDS]
        warnings.append(
            f"{len(samples) - scored} of {len(samples)} samples have no prediction (first ids {absent}); "
            "they are imputed"
        )
    comparison = fit_baselines(
        dataset, samples, baselines_for(baselines or [], dataset.task, texts=any(s.text for s in samples))
    )
    system = score_system(samples, predictions, dataset.task, format_name, source=str(path))
    warnings += system.warnings
    baseline_rows, _ = comparison.rows(samples, dataset.task)
    rows = {path.stem: system.metrics} | baseline_rows
    warnings += comparison.warnings()  # those skipped before scoring and those that failed to score
    result = {
        "dataset": dataset.spec,
        "split": split,
        "task": dataset.task.name,
        "format": format_name,
        "n_gold": len(samples),
        "n_scored": scored,
        "rows": rows,
        "warnings": warnings,
    }
    if not dataset.task.reads_back:  # a file's own scale or labels: what was scored, as the audit record says it
        result["task_info"] = dataset.task.to_dict()
    return result
