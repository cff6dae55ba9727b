"""`emoreason evaluate`, `evaluate-predictions`, `baseline` and `fit-score`: score systems against a
dataset split.

`evaluate` runs a model and scores it, `evaluate-predictions` scores a file any system wrote,
`baseline` writes a non-explaining baseline's predictions for that command to score, and
`fit-score` fits the line the `fitted` score readout reads scores off, from evaluate runs on valid.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from emoreason.cli import options as opt
from emoreason.cli.analysis import load_engine
from emoreason.cli.data import load_or_exit
from emoreason.cli.ui import console, fail, interrupted, print_metric_rows, progress, warn
from emoreason.data import pool_samples

Fresh = Annotated[
    bool,
    typer.Option(
        "--fresh",
        help="Start over in --out: delete the predictions.jsonl, faithfulness.jsonl, attribution.jsonl, run.json, "
        "metrics.json, reports and plots of an earlier run there (other files are kept). Without it a rerun "
        "resumes, and only when its model, adapter contents, dtype, format, task, generation settings, score "
        "readout (and its line), dataset and split match the folder's run.json, and with --votes above 1 its "
        "--batch-size too (the batch decides which answers a sample draws).",
    ),
]

Faithfulness = Annotated[
    bool,
    typer.Option(
        "--faithfulness",
        help="Also probe every answer that cites evidence found in its input: ask the model again without the "
        "cited words, with the cited words alone, and with as many uncited words removed at random (seeded by "
        "--seed). Adds comprehensiveness, sufficiency and the random-removal control to metrics.json and the "
        "report; the probe answers are kept in faithfulness.jsonl, so a rerun does not ask them again. About "
        "three more generations per citing answer.",
    ),
]


Attribute = Annotated[
    bool,
    typer.Option(
        "--attribute",
        help="Also find which words each answer's judgment moves with: each word of the text taken out in turn "
        "and the polarity probabilities read again where the answer states its polarity (nothing generated; "
        "emoreason.metrics.attribution). Adds to metrics.json how often the chain cites the word the judgment "
        "moves with most, against chance, and how far cited and uncited words move it; each answer's words "
        "are kept in attribution.jsonl, so a rerun does not read them again. About 0.14 s a word on a 2-core "
        "CPU. Needs a format that states its polarity first (c2f).",
    ),
]


def evaluate_predictions_cmd(
    predictions: opt.Predictions,
    dataset: opt.DatasetOption,
    split: opt.Split = "test",
    format_name: opt.PredictionsFormat = None,
    out: opt.MetricsOut = None,
    baselines: opt.ExtraBaselines = "none",
) -> None:
    """Score a file of predictions from any system against a dataset split; prints a table, writes JSON."""
    from emoreason.eval.json_report import write_json_report
    from emoreason.eval.predictions import evaluate_prediction_file

    ds = load_or_exit(dataset)
    target = out or predictions.with_suffix(".metrics.json")
    if target.resolve() == predictions.resolve():  # the metrics would replace the predictions they score
        fail(f"--out {target} is the predictions file being scored; give another path for the metrics")
    try:
        result = evaluate_prediction_file(predictions, ds, split=split, format_name=format_name, baselines=baselines)
    except ValueError as err:  # DataError is one
        fail(str(err))
    write_json_report(target, result)
    print_metric_rows(result["rows"], title=f"{ds.spec} {split}: {result['n_scored']} of {result['n_gold']} samples")
    for message in result.get("warnings", []):
        warn(message)
    console.print(f"metrics written to {target}")


def evaluate(
    dataset: opt.DatasetOption,
    model: opt.Model = "default",
    adapter: opt.Adapter = None,
    split: opt.Split = "test",
    limit: opt.Limit = None,
    sample: opt.Sample = None,
    seed: opt.Seed = 0,
    outside_sample: opt.OutsideSample = False,
    out: opt.EvalOut = None,
    format_name: opt.AnalyzeFormat = None,
    max_new_tokens: opt.AnalyzeMaxNewTokens = None,
    ground_quotes: opt.GroundQuotes = True,
    name_negations: opt.NameNegations = True,
    votes: opt.Votes = 1,
    temperature: opt.Temperature = None,
    score_readout: opt.ScoreReadout = "fitted",
    batch_size: opt.EvalBatchSize = 16,
    baselines: opt.Baselines = "auto",
    family: opt.Family = "auto",
    dtype: opt.Dtype = "auto",
    device: opt.EvalDevice = "auto",
    fresh: Fresh = False,
    faithfulness: Faithfulness = False,
    attribute: Attribute = False,
) -> None:
    # the run itself is the Python API's `emoreason.evaluate`; help text: opt.EVALUATE_HELP
    from emoreason.api import default_eval_out
    from emoreason.api import evaluate as run_evaluation
    from emoreason.models import MediaError

    ds = load_or_exit(dataset)
    if limit is not None and sample is not None:
        fail("give --limit (the first N) or --sample (a random N), not both")
    if outside_sample and sample is None:
        fail("--outside-sample evaluates the samples outside a seeded --sample N: give --sample N too")
    target = out or default_eval_out(ds.spec, split)
    try:  # the API checks the run's identity before the model loads (`load_engine`, which exits on failure)
        metrics = run_evaluation(
            ds,
            model,
            adapter=adapter,
            split=split,
            limit=limit,
            sample=sample,
            seed=seed,
            outside_sample=outside_sample,
            out=target,
            format=format_name,
            max_new_tokens=max_new_tokens,
            ground_quotes=ground_quotes,
            name_negations=name_negations,
            votes=votes,
            temperature=temperature,
            score_readout=score_readout,
            batch_size=batch_size,
            baselines=baselines,  # read by baselines.baselines_for
            family=family,
            dtype=dtype,
            device=device,
            fresh=fresh,
            faithfulness=faithfulness,
            attribute=attribute,
            notify=warn,
            progress_factory=partial(progress, "evaluating"),
            probe_progress_factory=partial(progress, "faithfulness probes"),
            attribution_progress_factory=partial(progress, "attribution"),
            loader=load_engine,
        )
    except KeyboardInterrupt:
        also = [
            f"{name}.jsonl" for name, asked in (("faithfulness", faithfulness), ("attribution", attribute)) if asked
        ]
        kept = f" (and those of {' and '.join(also)})" if also else ""
        predictions = target / "predictions.jsonl"
        if not predictions.is_file() or predictions.stat().st_size == 0:
            interrupted(f"interrupted before the first batch finished: no answer was kept in {target}; rerun to start")
        interrupted(f"interrupted; finished batches are kept in {predictions}{kept}; rerun to resume")
    except (MediaError, ValueError) as err:  # DataError and RunMismatch are ValueErrors
        fail(str(err))
    print_metric_rows(metrics["rows"], title=f"{ds.spec} {split}: {metrics['n']} samples")
    if "faithfulness" in metrics:
        print_metric_rows({"model": metrics["faithfulness"]}, title="faithfulness probes")
    if "attribution" in metrics:
        print_metric_rows({"model": metrics["attribution"]}, title="which words the judgment moves with")
    extra = "".join(f", {name}.jsonl" for name in ("faithfulness", "attribution") if name in metrics)
    console.print(f"wrote {target}/predictions.jsonl{extra}, metrics.json, report.md, report.html")


def baseline_cmd(
    name: opt.BaselineName,
    out: opt.BaselineOut,
    dataset: opt.DatasetOption,
    split: opt.Split = "test",
    train_on: opt.TrainOn = None,
) -> None:
    """Write a non-explaining baseline's predictions for a dataset split."""
    from emoreason.baselines import get_baseline
    from emoreason.data.jsonl import write_jsonl
    from emoreason.embeddings import EmbeddingModelMissing

    ds = load_or_exit(dataset)
    try:
        samples = ds.split(split)
        train = ds.split("train")
        if train_on:  # other datasets' train splits, their scores mapped onto this dataset's scale
            train, _ = pool_samples([load_or_exit(spec) for spec in train_on], "train", task=ds.task)
        baseline = get_baseline(name)
        predictions = baseline.fit(train, ds.task).predict(samples)
    except (ValueError, EmbeddingModelMissing) as err:  # DataError is a ValueError
        fail(str(err))
    field = "score" if ds.task.is_regression else "label"
    try:
        write_jsonl(out, ({"id": sample.id, field: prediction} for sample, prediction in zip(samples, predictions)))
    except OSError as err:  # a read-only folder, a file on the path: one line, not a traceback
        where = f" ({err.filename}: {err.strerror})" if err.filename and str(err.filename) != str(out) else ""
        fail(f"cannot write {out}{where or ': ' + str(err.strerror or err)}; give a path you can write")
    fitted = f" (training data: {len(train)} samples, train split of {', '.join(train_on or [ds.spec])})"
    if not baseline.learns:  # VADER's scores are its lexicon's: the train split only names a label task's labels
        fitted = "" if ds.task.is_regression else f" (labels named from the train split of {ds.spec})"
    console.print(f"wrote {len(samples)} {name} predictions to {out}{fitted}")


FitRuns = Annotated[
    list[Path],
    typer.Argument(
        help="Folders written by `emoreason evaluate` on valid splits (read with the confidence or fitted readout).",
        metavar="RUN...",
    ),
]
FitOut = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Where the line goes: an adapter folder (it gets score_fit.json, named in its emoreason.json, so that "
        "evaluate, analyze and serve read scores off it) or a .json file. A line already there is replaced: a "
        "warning names the answers each was fitted on.",
    ),
]
AllowTest = Annotated[
    bool,
    typer.Option(
        "--allow-test",
        help="Fit on runs of the test split (or of all, which holds it) too; then do not report those runs' scores.",
    ),
]
FitTerms = Annotated[
    str,
    typer.Option(
        "--terms",
        help="Comma-separated terms the line may use, among confidence, margin, cues, probit_margin; the others "
        "weigh 0. The default, the shipped adapter's terms, leaves out cues (the valences the chain states), "
        "which added nothing there.",
    ),
]


def fit_score_cmd(
    runs: FitRuns, out: FitOut, allow_test: AllowTest = False, terms: FitTerms = "confidence,margin,probit_margin"
) -> None:
    """Fit the `fitted` score readout: least squares of the gold scores on each answer's confidence score,
    P(positive) - P(negative), the valences its chain states for its cues and the probit margin
    Phi^-1(P(positive)) - Phi^-1(P(negative)) (emoreason.formats.readout; --terms picks among them).
    The answer's polarity never changes; the score stays on its side of the neutral band."""
    from emoreason.api.evaluation import fit_score, score_fit_path
    from emoreason.data import DataError

    try:
        fit = fit_score(runs, out, allow_test=allow_test, terms=terms, notify=warn)
    except DataError as err:
        fail(str(err))
    target = score_fit_path(out)
    from emoreason.formats.readout import FIT_FEATURES

    weights = ", ".join(f"{name} {w:+.3f}" for name, w in zip(FIT_FEATURES, fit.weights))
    on = "; ".join(fit.fitted_on)
    console.print(f"fitted on {fit.n} answers ({on}): weights {weights}, intercept {fit.intercept:+.3f}")
    console.print(f"wrote {target}" + (f" and named it in {out}/emoreason.json" if out.is_dir() else ""))


__all__ = ["baseline_cmd", "evaluate", "evaluate_predictions_cmd", "fit_score_cmd"]
