"""`emoreason evaluate`: run a model on a dataset split, resumably, then score and report.

Predictions are appended to `predictions.jsonl` one batch at a time and flushed, so an
interrupted run (Ctrl-C, a crash, a killed job) loses at most the batch in flight; a rerun
skips every id already in the file, after dropping a line the interrupted run left half-written.
A rerun resumes only its own run: `run.json` records what the predictions depend on, and a rerun
with other settings stops before generating (`emoreason.eval.run_identity`).

With `faithfulness`, every answer that cites evidence found in its input is then probed
(`emoreason.eval.faithfulness`), resumably too: the probe answers are kept in faithfulness.jsonl. With
`attribute_with`, each answer's words are ranked by how far each moves its judgment (`emoreason.eval.attribution`),
kept in attribution.jsonl.

Everything that can stop a run is checked before the first answer is generated: the run's
identity, and the baselines, which are fitted first and skipped with a warning when they cannot
run here (`emoreason.eval.comparison`), so that no failure throws away hours of generation.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emoreason.data import Dataset, Sample
from emoreason.data.jsonl import AppendOnlyJsonl, read_jsonl_keyed, repair_torn_tail, write_jsonl
from emoreason.eval.attribution import ATTRIBUTION_FILE, run_attribution
from emoreason.eval.comparison import fit_baselines
from emoreason.eval.faithfulness import FAITHFULNESS_FILE, run_faithfulness
from emoreason.eval.predictions import SHOWN_IDS, score_system
from emoreason.eval.progress import run_counted
from emoreason.eval.report import REPORT_FILES, write_report
from emoreason.eval.run_identity import (
    IDENTITY_FILE,
    PREDICTIONS_FILE,
    RunMismatch,
    check_legacy_predictions,
    check_same_run,
    run_identity,
    write_identity_file,
)
from emoreason.formats.readout import ScoreFit
from emoreason.generation import GenerationBackend, SamplingParams
from emoreason.inference import analyze
from emoreason.locking import FolderBusy, FolderLock
from emoreason.models import LoadedModel
from emoreason.provenance import file_sha256, software_versions

log = logging.getLogger(__name__)

Notify = Callable[[str], None]


def finished_predictions(path: Path, notify: Notify = log.warning) -> dict[str, dict[str, Any]]:
    """Prediction records already in the file, by id. A line torn by a killed run is skipped (and
    its sample redone): said (`notify`), never fatal, since failing would throw away the whole resume."""
    read = read_jsonl_keyed(path, "id")
    if read.skipped:
        notify(f"{path}: {read.skipped_summary()}; their samples are predicted again")
    return read.records


def remove_run_files(out: Path) -> list[str]:
    """Delete what an earlier run wrote in `out` (predictions, probes, run.json, reports and plots), and
    nothing else; returns the names deleted. This is `--fresh`: a new run in the same folder."""
    removed = []
    for name in (PREDICTIONS_FILE, IDENTITY_FILE, FAITHFULNESS_FILE, ATTRIBUTION_FILE, *REPORT_FILES):
        path = out / name
        if path.is_file():
            path.unlink()
            removed.append(name)
    return removed


def write_answers(out: Path, records: list[dict[str, Any]], identity: dict[str, Any], details: dict[str, Any]) -> Path:
    """An evaluate folder, run.json and predictions.jsonl (each written whole), for answers generated
    elsewhere: the in-training validation's, so that `compare` pairs two steps of a run, or a step
    with an evaluate run of the same sentences."""
    out.mkdir(parents=True, exist_ok=True)
    write_identity_file(out, identity, details)
    write_jsonl(out / PREDICTIONS_FILE, records)
    return out


def input_digest(sample: Sample) -> str:
    """What the sample's prompt is made of (its text, cue text, and each medium's path and bytes), hashed:
    kept in its record, so that a resume after the dataset file changed asks that sample again. Ids of rows
    without an id column are their line numbers: a row put in above moved every later id onto other text.
    A medium counts by its bytes (`file_sha256`), not its size: a clip re-recorded or cleaned at the same
    length and encoding has the same size, and its old answer was kept."""
    media = {}
    for kind in ("audio", "video", "image"):
        path = getattr(sample, kind)
        if path:
            try:
                content: str | None = file_sha256(path)
            except OSError:
                content = None
            media[kind] = [str(path), content]
    payload = json.dumps({"text": sample.text, "cues": sample.cues, "media": media}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def answers_sample(record: Mapping[str, Any], sample: Sample) -> bool:
    """Whether a kept record answered this sample as the dataset gives it now: by its input digest, or
    in a record written before digests were kept, by its gold score and label."""
    if "input_sha256" in record:
        return record["input_sha256"] == input_digest(sample)
    same_score = (record.get("gold_score") is None) == (sample.score is None) and (
        sample.score is None or abs(float(record["gold_score"]) - sample.score) < 1e-9
    )
    return same_score and record.get("gold_label") == sample.label


def check_resumable(out: Path, identity: dict[str, Any]) -> None:
    """Raise RunMismatch when `out` holds predictions whose run.json names other settings. A folder
    with no predictions has nothing to mix, whatever its run.json says; one with predictions but no
    run.json is judged by `prepare_output_folder`, which knows the model id its records name."""
    if read_jsonl_keyed(out / PREDICTIONS_FILE, "id").records:
        check_same_run(out, identity)


def prepare_output_folder(
    out: Path,
    identity: dict[str, Any],
    details: dict[str, Any],
    model_name: str,
    format_name: str,
    fresh: bool = False,
    notify: Notify = log.warning,
) -> None:
    """Make `out` hold this run only, before anything is generated: with `fresh`, delete the last
    run's files; refuse (RunMismatch) a folder whose predictions another run wrote; then record
    this run in run.json, so that even an interrupted first batch is resumable by this run only."""
    out.mkdir(parents=True, exist_ok=True)
    if fresh:
        removed = remove_run_files(out)
        if removed:
            notify(f"--fresh: deleted {', '.join(removed)} from {out}")
    existing = read_jsonl_keyed(out / PREDICTIONS_FILE, "id").records
    if existing and not check_same_run(out, identity):
        adopted = check_legacy_predictions(out, existing.values(), model_name, format_name)
        if adopted:
            notify(adopted)
    repaired = repair_torn_tail(out / PREDICTIONS_FILE)  # now, not at the first append: a rerun may append nothing
    if repaired:
        notify(f"{out / PREDICTIONS_FILE}: a line torn by a killed run was removed; its sample is asked again")
    write_identity_file(out, identity, details)


def hold_output_folder(out: Path) -> FolderLock:
    """This process's lock on an evaluation folder; RunMismatch names the run that holds it."""
    try:
        return FolderLock(out, "evaluate").acquire()
    except FolderBusy as err:
        raise RunMismatch(str(err)) from None


def evaluate_model(
    engine: GenerationBackend,
    dataset: Dataset,
    samples: list[Sample],
    out: Path,
    model_name: str,
    format_name: str,
    params: SamplingParams,
    batch_size: int,
    baselines: list[str],
    split: str = "test",
    progress_factory: Any = None,
    *,
    identity: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    fresh: bool = False,
    notify: Notify = log.warning,
    faithfulness: bool = False,
    seed: int = 0,
    probe_progress_factory: Any = None,
    score_readout: str = "written",
    score_fit: ScoreFit | None = None,
    attribute_with: LoadedModel | None = None,
    attribution_progress_factory: Any = None,
    lock: FolderLock | None = None,
    said: Sequence[str] = (),
) -> dict[str, Any]:
    """Generate the missing predictions of `samples` into `out`, then score them and write the reports.
    `score_readout` (and `score_fit`, the model's fitted line) as `inference.analyze` takes them.

    With `faithfulness`, also probe the answers that cite evidence (`eval.faithfulness`; `seed`
    seeds the random-removal control, `probe_progress_factory` shows its progress) and add the
    figures to metrics.json under "faithfulness". With `attribute_with` (the model behind `engine`),
    also find which words each answer's judgment moves with (`eval.attribution`; progress shown by
    `attribution_progress_factory`), the figures under "attribution".

    `identity` is what a resume must match (`run_identity`; by default built from the arguments,
    without adapter contents or dtype, which only the caller knows); `details` are recorded in
    run.json and metrics.json but not compared (e.g. the sample selection); `said` are warnings on the figures the
    caller gave already, kept with the others. `notify` receives each
    warning as it arises (the command line prints them); they are also kept in metrics.json.
    `lock` is the caller's hold on `out` (`locking.FolderLock`, taken before the model loaded, as
    `api.evaluate` does); without one the folder is locked here, and a busy one raises RunMismatch."""
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        notify(message)

    if identity is None:
        identity = run_identity(
            model=model_name,
            format_name=format_name,
            task=dataset.task,
            params=params,
            dataset=dataset.spec,
            split=split,
            score_readout=score_readout,
            score_fit=score_fit.to_dict() if score_fit is not None else None,
        )
    details = (
        {"model_id": model_name, "selection": {"n": len(samples)}} | (details or {}) | {"versions": software_versions()}
    )
    if lock is None:  # two evaluations in one folder would interleave their answers: one at a time
        lock = hold_output_folder(out)
    # what the load said (scores outside the scale, skipped rows...) goes with the figures it bears on; the
    # command line printed it as the data loaded (and `api.evaluate` as it loads a spec), so it is recorded here,
    # not said again
    warnings.extend(dataset.report.notices())
    warnings.extend(said)  # what the caller said already of these figures (an adapter asked another task)
    with lock:
        selected = {s.id for s in samples}
        without = [i for i in dataset.report.missing_media if i in selected]
        if without:  # kept without their media (missing_media=keep): answered from what they still have
            warn(
                f"{len(without)} of {len(samples)} samples lack a media file and are answered without it "
                f"(missing_media=keep), first ids {without[:SHOWN_IDS]}; ?missing_media=skip leaves them out"
            )
        comparison = fit_baselines(dataset, samples, baselines)
        for message in comparison.warnings():
            warn(message)
        prepare_output_folder(out, identity, details, model_name, format_name, fresh, warn)

        predictions_path = out / PREDICTIONS_FILE
        # what a resume finds is said as the run's other notices are, not as raw log lines, and not kept
        # with the figures (it is about the folder, not the answers)
        finished = finished_predictions(predictions_path, notify)
        changed = [s.id for s in samples if s.id in finished and not answers_sample(finished[s.id], s)]
        if changed:
            warn(
                f"{len(changed)} answer(s) in {predictions_path} were to other inputs than the dataset gives now "
                f"(its file changed since?), first ids {changed[:SHOWN_IDS]}: asked again"
            )
            for sample_id in changed:
                del finished[sample_id]
        todo = [s for s in samples if s.id not in finished]
        if len(todo) < len(samples):
            notify(f"resuming: {len(samples) - len(todo)} of {len(samples)} samples already in {predictions_path}")
        others = len(finished) - (len(samples) - len(todo))
        if others:  # a folder reused with another selection: those answers stay, and nothing here reads them
            notify(
                f"{predictions_path} also holds {others} answers to samples outside this selection; kept, not "
                "counted (run.json names the samples this run's figures are of)"
            )
        gold = {s.id: s for s in samples}

        predictions_log = AppendOnlyJsonl(predictions_path)  # repairs a torn last line before the first batch

        def persist(batch: list[dict[str, Any]]) -> None:
            for record in batch:
                sample = gold[record["id"]]
                record["gold_score"], record["gold_label"] = sample.score, sample.label
                record["gold_polarity"] = dataset.task.gold_polarity(sample)
                record["input_sha256"] = input_digest(sample)
            predictions_log.extend(batch)

        asked = (engine, todo, dataset.task, format_name, model_name, params, batch_size)
        unreadable: list[tuple[str, str]] = []  # (id, why): samples whose media could not be read, left out

        def skip(sample: Sample, err: Exception) -> None:
            unreadable.append((sample.id, str(err)))

        if todo:

            def answer(advance: Any) -> None:
                analyze(*asked, advance, persist, score_readout=score_readout, fit=score_fit, on_unreadable=skip)

            run_counted(progress_factory, len(samples), len(samples) - len(todo), answer)
        if unreadable:  # the others were answered; these count as unanswered (imputed), and a rerun asks again
            first_id, first_why = unreadable[0]
            warn(
                f"{len(unreadable)} sample(s) have media that could not be read and were left out (imputed as "
                f"unanswered; a rerun asks them again): first {first_id!r}: {first_why}; ids "
                f"{[i for i, _ in unreadable[:SHOWN_IDS]]}"
            )

        records = read_jsonl_keyed(predictions_path, "id").records
        ordered = [records[s.id] for s in samples if s.id in records]
        by_id = {
            # the record's score: the readout's, which the completion alone does not give (`formats.readout`)
            r["id"]: {
                "completion": r["raw_completion"],
                "completion_tokens": r.get("completion_tokens"),
                "score": r.get("score"),
                "score_readout": r.get("score_readout"),  # a readout's score differs from the written one
                # a cut answer's parse is held to its closing tag (`cut=`), as it was when generated
                "finish_reason": r.get("finish_reason"),
            }
            for r in ordered
        }
        system = score_system(samples, by_id, dataset.task, format_name, source=str(predictions_path))
        for message in system.warnings:
            warn(message)
        baseline_rows, failed = comparison.rows(samples, dataset.task)
        for message in failed:
            warn(message)
        rows = {"model": system.metrics} | baseline_rows
        probed = None
        if faithfulness:
            probed = run_faithfulness(
                engine,
                samples,
                records,
                dataset.task,
                format_name,
                params,
                batch_size,
                out,
                seed,
                probe_progress_factory,
            )
        attribution = None
        if attribute_with is not None:
            attribution = run_attribution(
                attribute_with, samples, records, dataset.task, format_name, out, attribution_progress_factory
            )
        metrics = {
            "dataset": dataset.spec,
            "split": split,
            "n": len(samples),
            "model": model_name,
            "format": format_name,
            "generation": {
                "votes": params.n,  # answers sampled per sample (`formats.consensus`); 1 = one answer each
                "score_readout": score_readout,  # `formats.readout`: how each answer's score was read
                "max_new_tokens": params.max_new_tokens,
                "temperature": params.temperature,
                "top_p": params.top_p,
                "top_k": params.top_k,
                "stop_strings": list(params.stop_strings),
            },
            "run": identity,  # what run.json holds: the settings a resume had to match
            "selection": {k: v for k, v in details["selection"].items() if k != "ids"},  # run.json keeps the ids
            "versions": details["versions"],
            "adapter_paths": details.get("adapter_paths", []),
            "rows": rows,
            "warnings": warnings,
        }
        if probed is not None:
            metrics["faithfulness"] = probed.summary
        if attribution is not None:
            metrics["attribution"] = attribution
        title = f"emoreason evaluation: {dataset.spec}"
        write_report(out, title, metrics, ordered, samples, dataset.task, probed.answers if probed else None)
        return metrics
