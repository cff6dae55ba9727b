"""`emoreason.evaluate`: the evaluation `emoreason evaluate` runs, from Python (see `emoreason.api`)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emoreason.data import Dataset
    from emoreason.formats.readout import ScoreFit
    from emoreason.generation import GenerationBackend, SamplingParams


# --- evaluating -------------------------------------------------------------------------------


def default_eval_out(spec: str, split: str) -> Path:
    """Where `evaluate` writes without `out`: runs/eval/<dataset>-<split>."""
    return Path("runs") / "eval" / f"{spec.replace(':', '-').replace('/', '_').split('?')[0]}-{split}"


def run_identity_of(
    ds: Dataset,
    split: str,
    model: str,
    adapter: list[str] | str | None,
    dtype: str,
    device: str,
    format_name: str,
    params: SamplingParams,
    score_readout: str = "written",
    score_fit: dict[str, Any] | None = None,
    batch_size: int | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The run.json identity of an `evaluate` run, and its adapter folders, worked out without
    loading the model: adapters as `load_model` resolves them (the shipped one for `default`), the
    dtype as it resolves `auto` on this machine. Raises ValueError for bad options."""
    from emoreason.eval.run_identity import model_identity, run_identity
    from emoreason.models import pick_device, pick_dtype
    from emoreason.models.loading import resolve_adapters

    adapters = resolve_adapters(model, adapter)
    try:
        run_dtype = str(pick_dtype(dtype, pick_device(device))).removeprefix("torch.")
    except RuntimeError as err:  # torch's words for a device it does not know
        raise ValueError(f"--device {device!r}: {err}") from None
    identity = run_identity(
        model=model_identity(model),
        adapters=adapters,
        dtype=run_dtype,
        format_name=format_name,
        task=ds.task,
        params=params,
        dataset=ds.spec,
        split=split,
        score_readout=score_readout,
        score_fit=score_fit,
        batch_size=batch_size,
    )
    return identity, adapters


def evaluate(
    dataset: str | Dataset,
    model: str | Path = "default",
    *,
    adapter: list[str] | str | None = None,
    split: str = "test",
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    outside_sample: bool = False,
    out: str | Path | None = None,
    format: str | None = None,
    max_new_tokens: int | None = None,
    ground_quotes: bool = True,
    name_negations: bool = True,
    votes: int = 1,
    temperature: float | None = None,
    score_readout: str = "fitted",
    batch_size: int = 16,
    baselines: str | Sequence[str] = "auto",
    family: str = "auto",
    dtype: str = "auto",
    device: str = "auto",
    fresh: bool = False,
    faithfulness: bool = False,
    attribute: bool = False,
    notify: Callable[[str], None] | None = None,
    progress_factory: Any = None,
    probe_progress_factory: Any = None,
    attribution_progress_factory: Any = None,
    loader: Callable[..., tuple[Any, GenerationBackend]] | None = None,
) -> dict[str, Any]:
    """Run `model` on a dataset split and score it, as `emoreason evaluate` does; returns the
    metrics that it writes to `out`/metrics.json (with predictions.jsonl, run.json and the reports;
    nothing is written elsewhere). `out` defaults to runs/eval/<dataset>-<split>.

    >>> metrics = emoreason.evaluate("jsonl:data.jsonl?scale=-4,4", "default", out="runs/eval/x")  # doctest: +SKIP
    >>> metrics["rows"]["model"]  # doctest: +SKIP

    A rerun in the same `out` resumes, and only with the same settings (`fresh=True` starts over);
    a mismatch raises ValueError before the model loads; a count that is not an int (votes=2.0) raises
    TypeError before anything is read or written. `limit` takes the first N samples, `sample`
    a random N (with `seed`), and with `outside_sample=True` the samples outside that random N (a
    fresh look at a split whose seeded sample was already used). `format` and `max_new_tokens`
    default to the adapter's own settings (`emoreason.models.shipped.AdapterSettings`), else the
    format the task's kind takes (`formats.format_for`: emor3 for labels) and 256; an adapter with a cue
    classifier adds its ranking to the samples' cue text. `ground_quotes` (on by default) lets
    quotes cite only the input (`emoreason.generation.quotes`); with it, `name_negations` (on by default) completes a
    cue the chain lists against its own number's sign, where the input negates it, with the negation
    (`emoreason.generation.negations`). `faithfulness=True` also probes
    every answer that cites evidence in its input: the model is asked again without it, with it
    alone, and with as many other words removed (`emoreason.metrics.faithfulness`; `seed` seeds
    that control); the figures go to metrics["faithfulness"] and the report, the probe answers
    to `out`/faithfulness.jsonl (kept on a rerun). `attribute=True` also finds which words each
    answer's judgment moves with (each taken out in turn, the polarity probabilities read again:
    `emoreason.metrics.attribution`) and how often the chain cites the one it moves with most; the
    figures go to metrics["attribution"], each answer's words to `out`/attribution.jsonl (kept on a
    rerun). `votes` > 1 samples that many answers per
    sample at `temperature` (default `formats.consensus.VOTE_TEMPERATURE`; seeded with `seed`) and
    keeps the one that speaks for them all, with the votes in its record (`inference.voted_record`).
    `score_readout` `confidence` weighs a scored C2F answer's number by the probability of its
    polarity (`formats.readout`; `written_score` keeps the chain's number); `fitted` (default) reads
    it off the line the adapter carries (`score_fit` in its emoreason.json), else as `confidence`;
    `written` takes it as written.
    `notify` hears each warning (all are kept in the metrics too) and what it says of the folder it resumes;
    `progress_factory`, `probe_progress_factory`, `attribution_progress_factory` and
    `loader` (how the model is loaded, `load_engine` by default) are hooks for the command line."""
    from emoreason.api.explainer import load_engine, require_batch_size, require_int
    from emoreason.baselines import baselines_for, get_baseline
    from emoreason.cues import CueClassifier, add_ranking
    from emoreason.data import load_dataset, random_subset
    from emoreason.eval.runner import check_resumable, evaluate_model, hold_output_folder
    from emoreason.formats import format_for
    from emoreason.formats.consensus import vote_temperature
    from emoreason.formats.readout import ScoreFit, effective_readout
    from emoreason.generation import SamplingParams
    from emoreason.models.loading import model_family, resolve_adapters
    from emoreason.models.shipped import AdapterSettings

    # first, before anything is read or written: votes=2.0 failed deep in torch, leaving a run.json in `out`
    require_int(votes, "votes")
    require_batch_size(batch_size)
    for name, count in (("max_new_tokens", max_new_tokens), ("limit", limit), ("sample", sample)):
        if count is not None:
            require_int(count, name)
    if isinstance(dataset, os.PathLike):  # a file by its path, as a spec string names it
        dataset = os.fspath(dataset)
    ds = load_dataset(dataset) if isinstance(dataset, str) else dataset
    tell = logging.getLogger(__name__).warning if notify is None else notify
    if isinstance(dataset, str):  # loaded here, so said here (a Dataset passed in was said where it loaded)
        for message in ds.report.notices():
            tell(message)
    own = AdapterSettings.of(resolve_adapters(str(model), adapter))
    samples, fmt = ds.split(split), format_for(ds.task, format, own.format)  # before the model loads
    other = own.other_question(ds.task)
    if other is not None:  # it answers as trained, whatever the data asks: said now, and kept with the figures
        tell(other)
    if max_new_tokens is None:  # 0 is no default: SamplingParams refuses it below
        max_new_tokens = own.max_new_tokens or 256
    if own.cue_classifier is not None:  # the adapter was trained with the classifier's ranking in its prompts
        samples = add_ranking(samples, CueClassifier.load(own.cue_classifier))
    baselines = baselines_for(baselines, ds.task, texts=any(s.text for s in samples))
    for name in baselines:  # a typo stops here, not after the model loaded and the answers were generated
        get_baseline(name)
    if limit is not None and sample is not None:
        raise ValueError("give limit (the first N) or sample (a random N), not both")
    for name, count in (("limit", limit), ("sample", sample)):
        if count is not None and count < 1:  # samples[:-3] would take all but three
            raise ValueError(f"{name} must be at least 1, got {count}")
    if outside_sample and sample is None:
        raise ValueError("outside_sample takes the samples outside a seeded random N: give sample too")
    if sample is not None and sample >= len(samples) and samples:  # a quick check would silently become a full run
        tell(f"sample {sample} is not fewer than the split's {len(samples)} samples: all of them are evaluated")
    samples = samples[:limit] if sample is None else random_subset(samples, sample, seed, outside=outside_sample)
    if not samples:
        raise ValueError(f"{ds.spec} has no samples in split {split!r} (rows per split: {ds.split_counts()})")
    target = Path(out) if out is not None else default_eval_out(ds.spec, split)
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} is a file; give a folder for the run (its predictions, metrics and reports)")
    try:  # a folder this run cannot write stops it here, not after the model loaded (a traceback)
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target):
            pass
    except OSError as err:
        raise ValueError(f"cannot write to {target}: {err.strerror or err}; give a folder you can write") from None
    if faithfulness and votes > 1:
        raise ValueError("faithfulness probes ask again for one answer per sample; use it with votes=1")
    if attribute and not fmt.supports_prefix_hint:
        raise ValueError(
            f"attribute reads the polarity word where the answer states it first; format {fmt.name!r} does "
            "not write one first (use c2f)"
        )
    params = SamplingParams(
        n=votes,
        temperature=vote_temperature(votes, temperature),
        seed=seed if votes > 1 else None,
        max_new_tokens=max_new_tokens,
        stop_strings=fmt.stop_strings,
        ground_quotes=ground_quotes,
        name_negations=name_negations,
    )
    # before the model loads: a rerun with other settings stops here, having cost nothing
    fit = ScoreFit.load(own.score_fit) if own.score_fit is not None else None
    readout = effective_readout(score_readout, fmt, ds.task, fit)
    identity, adapters = run_identity_of(
        ds,
        split,
        str(model),
        adapter,
        dtype,
        device,
        fmt.name,
        params,
        readout,
        fit.to_dict() if fit is not None else None,
        batch_size,
    )
    if not fresh:
        check_resumable(target, identity)
    selection = {"limit": limit, "sample": sample, "seed": seed if sample is not None else None, "n": len(samples)}
    if outside_sample:
        selection["outside_sample"] = True
    selection["ids"] = [s.id for s in samples]  # what compare and fit-score read of a folder grown over runs
    media: dict[str, str] = {}  # each kind of medium, named by the first sample that has it
    for s in samples:
        for kind in s.modalities:
            if kind != "text":
                media.setdefault(kind, getattr(s, kind))
    if media:  # what the model's family cannot read fails here, from its config, not after the weights load
        model_family(str(model), family).refuse_unsupported(media, [ds.spec])
    lock = hold_output_folder(target)  # a folder another evaluation is writing stops this one before the load
    try:
        loaded, engine = (loader or load_engine)(str(model), adapter, family, dtype, device, batch_size, votes)
    except BaseException:
        lock.release()
        raise
    extra = {} if notify is None else {"notify": notify}
    return evaluate_model(
        engine,
        ds,
        samples,
        target,
        loaded.model_id,
        fmt.name,
        params,
        batch_size,
        list(baselines),
        split,
        progress_factory=progress_factory,
        identity=identity,
        details={"selection": selection, "adapter_paths": adapters}
        | ({"score_fit": fit.to_dict()} if readout == "fitted" and fit is not None else {}),
        fresh=fresh,
        faithfulness=faithfulness,
        seed=seed,
        probe_progress_factory=probe_progress_factory,
        score_readout=readout,
        score_fit=fit,
        attribute_with=loaded if attribute else None,
        attribution_progress_factory=attribution_progress_factory,
        lock=lock,
        said=[other] if other is not None else [],
        **extra,
    )


def fit_score(
    runs: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    allow_test: bool = False,
    terms: Sequence[str] | str | None = None,
    notify: Callable[[str], None] | None = None,
) -> ScoreFit:
    """Fit the `fitted` score readout on `evaluate` runs of valid splits, as `emoreason fit-score`
    does (`eval.score_fit.fit_score_runs`; a test-split run raises DataError unless `allow_test`),
    on the `formats.readout.FIT_FEATURES` named in `terms` (a list, or "confidence,margin" as `--terms`
    takes them; the others weigh 0; None: confidence, margin and probit margin, `DEFAULT_FIT_TERMS`).
    With `out` an adapter folder, the line is saved there as score_fit.json and named in its
    emoreason.json, so that evaluate, analyze, serve and `Explainer` read scores off it; with `out`
    a file path ending in .json, it is saved there; any other `out` raises DataError before fitting.
    `notify` (a logged warning by default) hears the warnings: the line `out` held and this one replaces, a
    line fitted on few answers for its terms, answers of one sentence given twice.

    >>> emoreason.fit_score(["runs/valid/tweets", "runs/valid/products"], out="runs/sft/adapter")  # doctest: +SKIP
    """
    from emoreason.data import DataError
    from emoreason.eval.score_fit import fit_score_runs, replaced_line
    from emoreason.models.shipped import AdapterSettings

    notify = notify or logging.getLogger(__name__).warning
    if out is not None:
        try:
            target = score_fit_path(out)  # before fitting: where the line goes, or why it cannot
        except ValueError as err:
            raise DataError(str(err)) from None
    if isinstance(runs, (str, os.PathLike)):  # one run, not the letters of its path
        runs = [runs]
    if isinstance(terms, str):  # "confidence,margin", as --terms takes them, not the letters of one string
        terms = [term.strip() for term in terms.split(",") if term.strip()]
    fit = fit_score_runs(runs, allow_test=allow_test, terms=terms, notify=notify)
    if out is not None:
        replaced = replaced_line(target, fit)
        if replaced is not None:  # the adapter's line was replaced in silence
            notify(replaced)
        AdapterSettings.write_file(out, "score_fit", fit.save)
    return fit


def score_fit_path(out: str | Path) -> Path:
    """Where `fit_score` saves a line given `out`: score_fit.json in an adapter folder, else `out` (a ValueError
    for neither, `AdapterSettings.file_for`)."""
    from emoreason.models.shipped import AdapterSettings

    return AdapterSettings.file_for(out, "score_fit")


__all__ = ["default_eval_out", "evaluate", "fit_score", "run_identity_of", "score_fit_path"]
