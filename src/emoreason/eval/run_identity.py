"""What an `emoreason evaluate` run is, kept in OUT/run.json, so that a rerun resumes only its own run.

predictions.jsonl is resumable: a rerun skips the ids already in it. Without a record of what wrote
those predictions, a rerun with another model, adapter or setting appended its answers to the old
ones and reported one model's name over both. run.json records every setting an answer depends on,
and a rerun resumes only when they all match; otherwise it stops before generating anything and
names each field that differs (old -> new).

Compared (the identity):
- the model (its name, or the resolved folder or file; a local folder's weights too, by a fingerprint
  of its files' ends, `model_fingerprint`) and each adapter's *contents*: a SHA-256 of
  its `adapter_*` files (config and weights), so a retrained adapter at the same path is a new run
  and the same adapter copied elsewhere is not; its README or training notes do not count;
- the dtype the weights run in (resolved, so `auto` on a GPU and on a CPU differ), the reasoning
  format, the task (scale, labels, neutral band), the generation settings, the dataset spec, split.

- the score line a `fitted` readout reads the scores off (its records keep those scores);
- with several sampled answers per sample (`--votes`), the batch size: the sampler's random stream
  runs over a batch, so the batch decides which answers a sample gets.

Recorded, not compared: which samples are selected (--limit, --sample, --seed, and their ids). An
answer depends on its sample and the settings above, not on which other samples share the run, and
the metrics always cover the current selection only; so growing a `--limit 20` trial into the whole
split reuses the 20 answers. Readers of the folder (`compare`, `fit-score`) take the records of the
current selection only (`selected_ids`). Device and, for greedy answers, batch size are not
recorded: they change speed, not answers.

A folder written before run.json existed (predictions.jsonl alone) is adopted only when every one
of its records names this run's model and format (the fields each record carries), with a warning
that its other settings cannot be checked; any other record makes the rerun stop (see
`check_legacy_predictions`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emoreason.data import TaskInfo
from emoreason.eval.json_report import json_safe, write_json_report
from emoreason.provenance import adapter_fingerprint, model_fingerprint

if TYPE_CHECKING:
    from emoreason.generation import SamplingParams

IDENTITY_FILE = "run.json"
PREDICTIONS_FILE = "predictions.jsonl"
ABSENT = "(absent)"


class RunMismatch(ValueError):
    """The output folder holds predictions of another run; resuming would mix the two."""


def model_identity(name_or_path: str) -> str:
    """The model as run.json records it: the default model's name, a local folder or file as an
    absolute path (so a rerun from another directory still matches), a hub id as given."""
    from emoreason.models.default import DEFAULT_ALIASES, DEFAULT_NAME

    if name_or_path in DEFAULT_ALIASES:
        return DEFAULT_NAME
    path = Path(name_or_path).expanduser()
    return str(path.resolve()) if path.exists() else name_or_path


def run_identity(
    *,
    model: str,
    format_name: str,
    task: TaskInfo,
    params: SamplingParams,
    dataset: str,
    split: str,
    adapters: Iterable[str] = (),
    dtype: str | None = None,
    score_readout: str = "written",
    score_fit: dict[str, Any] | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Every setting an answer depends on, as plain JSON values (see the module doc). `score_fit`
    is the line a `fitted` readout reads scores off (`ScoreFit.to_dict`): the records keep the
    scores it gave, so another line is another run. `batch_size` counts only with several sampled
    answers (`params.n` > 1): the sampler's random stream runs over a batch, so the batch decides
    which answers each sample gets."""
    identity = {
        "model": model,
        "adapters": [adapter_fingerprint(adapter) for adapter in adapters],
        "dtype": dtype,
        "format": format_name,
        "task": task.to_dict(),
        "max_new_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "stop_strings": list(params.stop_strings),
        "seed": params.seed,
        "n": params.n,
        "dataset": dataset,
        "split": split,
    }
    if Path(model).is_dir():  # a local model folder: its weights, so one retrained in place is another run
        identity["model_weights"] = model_fingerprint(model)
    if params.ground_quotes:  # recorded only when on, so folders written before the option still match
        identity["ground_quotes"] = True
        if params.name_negations:  # likewise, and it acts only inside grounded quoting
            identity["name_negations"] = True
    if score_readout != "written":  # likewise: folders written before the readout existed hold written scores
        identity["score_readout"] = score_readout
    if score_readout == "fitted" and score_fit is not None:  # likewise; a line refitted into the adapter
        identity["score_fit"] = score_fit
    if params.n > 1 and batch_size is not None:  # likewise
        identity["batch_size"] = batch_size
    return json.loads(json.dumps(json_safe(identity)))  # tuples become lists, as they read back from run.json


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"task.scale": [...], ...}: nested fields by dotted name, so a difference names the leaf."""
    if not isinstance(value, dict):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def identity_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """`field: old -> new` for every field that differs (a field only one side has shows `(absent)`)."""
    before, after = _flatten(old), _flatten(new)
    return [
        f"{name}: {json.dumps(before.get(name, ABSENT))} -> {json.dumps(after.get(name, ABSENT))}"
        for name in sorted(before.keys() | after.keys())
        if before.get(name, ABSENT) != after.get(name, ABSENT)
    ]


def start_fresh_hint(out: Path) -> str:
    return (
        f"To start a new run, give another --out, delete {out}, or rerun with --fresh "
        f"(deletes {out / PREDICTIONS_FILE}, {IDENTITY_FILE} and the reports made from them)"
    )


def read_identity_file(out: Path) -> dict[str, Any] | None:
    """The run.json of an output folder (None when there is none); an unreadable one raises
    RunMismatch, since what wrote the predictions beside it is then unknown."""
    path = out / IDENTITY_FILE
    if not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunMismatch(f"{path} cannot be read ({err}). {start_fresh_hint(out)}") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("identity"), dict):
        raise RunMismatch(f"{path} has no `identity` object. {start_fresh_hint(out)}")
    return stored


def check_same_run(out: Path, identity: dict[str, Any]) -> bool:
    """Whether `out` already holds a run.json; raises RunMismatch, naming each differing field, when
    it belongs to another run."""
    stored = read_identity_file(out)
    if stored is None:
        return False
    differences = identity_differences(stored["identity"], identity)
    if differences:
        raise RunMismatch(
            f"{out / IDENTITY_FILE}: {out} holds predictions of another run, and resuming it would mix "
            f"two runs in one {PREDICTIONS_FILE}. Differences (old -> new):\n  "
            + "\n  ".join(differences)
            + f"\nNothing was generated. {start_fresh_hint(out)}."
        )
    return True


def check_legacy_predictions(
    out: Path, records: Iterable[dict[str, Any]], model_name: str, format_name: str
) -> str | None:
    """A folder from before run.json: raise RunMismatch unless every record names `model_name` and
    `format_name`; otherwise the warning to give when adopting it (None when there are no records).

    Adopting rather than refusing keeps the hours such a folder may hold, and is safe for what the
    records can show (the model, adapters by path, and format); the warning says what cannot be."""
    seen_models: set[str] = set()
    seen_formats: set[str] = set()
    count = 0
    for record in records:
        count += 1
        seen_models.add(str(record.get("model", ABSENT)))
        seen_formats.add(str(record.get("format", ABSENT)))
    if count == 0:
        return None
    differences = [
        f"{name}: {sorted(seen)} -> {expected!r}"
        for name, seen, expected in (("model", seen_models, model_name), ("format", seen_formats, format_name))
        if seen != {expected}
    ]
    if differences:
        raise RunMismatch(
            f"{out / PREDICTIONS_FILE} was written before {IDENTITY_FILE} existed, by another run. "
            "Differences (in the file -> this run):\n  " + "\n  ".join(differences) + "\nNothing was generated. "
            f"{start_fresh_hint(out)}."
        )
    return (
        f"{out / PREDICTIONS_FILE} ({count} records) was written before {IDENTITY_FILE} existed; its records "
        f"name this run's model ({model_name}) and format ({format_name}), so they are reused, but their "
        "generation settings, dtype, dataset and adapter contents cannot be checked. If they may differ, "
        f"rerun with --fresh. {IDENTITY_FILE} now records this run's settings."
    )


def selected_ids(stored: dict[str, Any]) -> set[str] | None:
    """The ids of the samples the run's current selection holds (run.json's `selection.ids`), or
    None for a folder written before run.json kept them."""
    ids = (stored.get("selection") or {}).get("ids")
    return {str(i) for i in ids} if isinstance(ids, list) else None


def write_identity_file(out: Path, identity: dict[str, Any], details: dict[str, Any]) -> Path:
    """Write run.json: the `identity` compared on resume, and `details` (selection, adapter paths,
    model id) that are recorded for the reader only."""
    return write_json_report(out / IDENTITY_FILE, {"identity": identity, **details})


__all__ = [
    "IDENTITY_FILE",
    "PREDICTIONS_FILE",
    "RunMismatch",
    "adapter_fingerprint",
    "check_legacy_predictions",
    "check_same_run",
    "identity_differences",
    "model_identity",
    "read_identity_file",
    "run_identity",
    "selected_ids",
    "write_identity_file",
]
