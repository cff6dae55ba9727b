"""One training run's state, which both trainers use: the step counter, the metrics log,
checkpoints, resume (the only place that resumes) and the mean of statistics over processes.

    model, policy, optimizer, scheduler, loaded, run = prepare_training("sft", config, accelerator, loaded,
                                                                       policy, config.train, total_updates)
    records = run.run_steps(trainer.step, max_steps)  # resumes once; the trainer's step advances run.step
    run.end()

Data order is a function of (seed, position) alone (`epoch_position`), so a resumed run draws
exactly what an uninterrupted one would have.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from pydantic import BaseModel

from emoreason.config_loader import dump_recipe, flat_recipe
from emoreason.data.jsonl import AppendOnlyJsonl, rewrite_jsonl
from emoreason.locking import FolderBusy, FolderLock
from emoreason.models.loading import LoadedModel
from emoreason.train import checkpoint as ckpt
from emoreason.train.config import ModelConfig, OptimSection, RunSection, build_optimizer
from emoreason.train.heap import HeapKeeper

log = logging.getLogger(__name__)

#: settings a resumed run may change without `run.resume_with_changes` (dotted prefixes): how long it runs,
#: how it saves and reports, and the held-out evaluation, none of which changes what a step trains
RESUMABLE_CHANGES = (
    "run.max_steps",
    "run.epochs",
    "run.save_every",
    "run.keep_checkpoints",
    "run.save_latest",
    "run.report_to",
    "run.resume",
    "run.output_dir",
    "eval.",
    "validation.",
)

#: how long a run is: a change is resumable only under an lr schedule that does not depend on it
RUN_LENGTH = ("run.max_steps", "run.epochs")
SCHEDULES_OF_ANY_LENGTH = ("constant", "constant_with_warmup")

METRICS_FILE = "metrics.jsonl"


def epoch_position(index: int, size: int, seed: int, shuffle: bool = True) -> int:
    """Which of `size` items sits at global position `index` of an endless stream of epochs,
    each a fresh permutation drawn from (seed, epoch): a resumed run draws exactly what an
    uninterrupted one would have."""
    epoch, offset = divmod(index, size)
    if not shuffle:
        return offset
    return int(np.random.default_rng([seed, epoch]).permutation(size)[offset])


def weighted_cycle(weights: Sequence[int]) -> list[int]:
    """One cycle of stratum numbers in which stratum k appears `weights[k]` times, interleaved
    (round robin over the strata with turns left): weights 2, 1, 2 -> 0, 1, 2, 0, 2."""
    if any(w < 1 for w in weights):
        raise ValueError(f"stratum weights must be positive integers, got {list(weights)}")
    cycle, left = [], list(weights)
    while any(left):
        for k, remaining in enumerate(left):
            if remaining:
                cycle.append(k)
                left[k] -= 1
    return cycle


def stratified_position(
    index: int, strata: Sequence[Sequence[int]], seed: int, shuffle: bool = True, weights: Sequence[int] | None = None
) -> int:
    """Which item sits at global position `index` of a stream that takes the strata in turn
    (position i from stratum i mod K), each stratum an endless stream of its own epochs
    (`epoch_position` with a seed of its own): every K consecutive positions hold one item of
    each stratum, e.g. one sentence of each gold polarity, however unequal the strata's sizes.
    `weights` (one positive integer per stratum, default all 1) lets stratum k take `weights[k]`
    turns per cycle instead (`weighted_cycle`); all 1 is the plain rotation, item for item."""
    if weights is not None and len(weights) != len(strata):
        raise ValueError(f"{len(weights)} weights for {len(strata)} strata")
    kept = [k for k, s in enumerate(strata) if len(s)]
    if not kept:
        raise ValueError("stratified_position needs at least one non-empty stratum")
    cycle = weighted_cycle([weights[k] if weights is not None else 1 for k in kept])
    turn, slot = divmod(index, len(cycle))
    number = cycle[slot]
    within = turn * cycle.count(number) + cycle[:slot].count(number)
    stratum = strata[kept[number]]
    return int(stratum[epoch_position(within, len(stratum), seed * 1009 + number + 1, shuffle)])


def stream_positions(
    start: int,
    count: int,
    size: int,
    seed: int,
    shuffle: bool = True,
    strata: Sequence[Sequence[int]] | None = None,
    weights: Sequence[int] | None = None,
) -> list[int]:
    """The items at positions start..start+count of the data stream: `stratified_position` when
    `strata` are given (with their `weights`), else `epoch_position` over `size` items."""
    if strata:
        return [stratified_position(i, strata, seed, shuffle, weights) for i in range(start, start + count)]
    return [epoch_position(i, size, seed, shuffle) for i in range(start, start + count)]


def runs_on_cpu(device: str, cuda: bool | None = None) -> bool:
    """Whether a run on `device` is a CPU run for accelerate: `cpu`, or `auto` where there is no CUDA
    (`cuda`, default: whether torch sees it). `Accelerator(cpu=False)` on a machine without CUDA sees
    one process under torchrun, so each rank trained alone into the same folder."""
    import torch

    has_cuda = torch.cuda.is_available() if cuda is None else cuda
    return device == "cpu" or (device == "auto" and not has_cuda)


def build_accelerator(model: ModelConfig, run: RunSection) -> Any:
    """An accelerate `Accelerator` on the model's device, logging to TensorBoard when asked
    and installed."""
    from accelerate import Accelerator

    cpu = runs_on_cpu(model.device)
    _forget_another_devices_state(cpu)
    log_with = ["tensorboard"] if "tensorboard" in run.report_to and _has_tensorboard() else None
    return Accelerator(cpu=cpu, log_with=log_with, project_dir=run.output_dir)


def _forget_another_devices_state(cpu: bool) -> None:
    """accelerate keeps one state per process, set by the first `Accelerator`. A later run in the
    same process (the Python API, a notebook, the tests) on another device would otherwise refuse to
    start (asking for the CPU after a GPU run) or silently keep the first run's device (asking for
    the GPU after a CPU run, with the model already on the GPU). A single process's state is
    dropped when its device kind differs; a distributed launch's is never touched."""
    from accelerate.state import AcceleratorState, PartialState

    if not PartialState._shared_state:
        return
    state = PartialState()
    wanted = "cpu" if cpu or not torch.cuda.is_available() else "cuda"
    if state.num_processes == 1 and state.device.type != wanted:
        AcceleratorState._reset_state(reset_partial_state=True)


def _has_tensorboard() -> bool:
    if importlib.util.find_spec("tensorboard") is None and importlib.util.find_spec("tensorboardX") is None:
        log.warning("report_to has tensorboard but neither tensorboard nor tensorboardX is installed; skipping it")
        return False
    return True


class Prepared(NamedTuple):
    """A policy made ready to train under accelerate, and the run that trains it."""

    model: torch.nn.Module  # as accelerate wrapped it (DDP under several processes): forward and backward
    policy: torch.nn.Module  # the same module unwrapped: generation, adapters, saving
    optimizer: torch.optim.Optimizer
    scheduler: Any
    loaded: LoadedModel  # the loaded model (tokenizer, processor, family) holding `policy`
    run: TrainingRun


def prepare_training(
    name: str,
    config: Any,
    accelerator: Any,
    loaded: LoadedModel,
    policy: torch.nn.Module,
    optim: OptimSection,
    total_updates: int,
    counted_per_step: Mapping[str, int] | None = None,
    optim_key: str = "optim",
) -> Prepared:
    """The steps every trainer takes after choosing what trains (`policy`, from
    `train.policy.prepare_policy`): its optimizer and schedule for `total_updates` optimizer
    steps, accelerate's wrapping, and the run state over `config.run`. `counted_per_step`:
    what one step consumes over all processes (e.g. {"samples_seen": 16}), recorded times the
    step in each checkpoint. `optim_key`: the recipe's name for `optim` (in messages)."""
    optimizer, scheduler = build_optimizer(policy, optim, total_updates, optim_key)
    model, optimizer = accelerator.prepare(policy, optimizer)
    policy = accelerator.unwrap_model(model)
    loaded = dataclasses.replace(loaded, model=policy)
    run = TrainingRun(
        name, config, config.run, accelerator, policy, optimizer, scheduler, loaded.processor, counted_per_step
    )
    return Prepared(model, policy, optimizer, scheduler, loaded, run)


class TrainingRun:
    """What a run is, apart from the model math: where it writes, which step it is at, what it
    logged, and how it checkpoints and resumes.

    `counted_per_step` ({"samples_seen": 16}) adds those counts, times the step, to each
    checkpoint's trainer_state.json. `resolved` ({"optim.precision": "bf16"}) names the settings
    left at `auto` and what they became on this machine; config.yaml keeps `auto` (a resume on
    another machine resolves again) and lists them in a comment at its end."""

    def __init__(
        self,
        name: str,
        config: BaseModel,
        section: RunSection,
        accelerator: Any,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        processor: Any = None,
        counted_per_step: Mapping[str, int] | None = None,
    ):
        self.name, self.config, self.section, self.accelerator = name, config, section, accelerator
        self.model, self.optimizer, self.scheduler, self.processor = model, optimizer, scheduler, processor
        self.counted_per_step = dict(counted_per_step or {})
        self.output_dir = Path(section.output_dir)
        self.rank, self.world = accelerator.process_index, accelerator.num_processes
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.resumed_at: int | None = None
        self.stopped_early = False
        self.resolved: dict[str, str] = {}
        self.step_logs: list[Path] = [self.metrics_file]  # per-step JSONL files a resume truncates
        #: what the trained adapter answers (`weights.trained_for`), written beside it as its emoreason.json
        self.adapter_settings: dict[str, Any] = {}
        self._started = False
        #: this process's hold on run.output_dir (`locking.FolderLock`), from start() to end()
        self._lock: FolderLock | None = None

    @property
    def is_main(self) -> bool:
        return bool(self.accelerator.is_main_process)

    # -- start and resume -------------------------------------------------------------------

    def start(self) -> int | None:
        """Once per run: check that run.output_dir can be written (before any work that a
        failing checkpoint would lose), resume from the newest usable checkpoint when
        `run.resume` is set, write config.yaml, open the trackers. Returns the step resumed at,
        None for a fresh start. A damaged checkpoint gives way to an older one; one that does
        not fit, or none usable, raises `ckpt.CheckpointError` (`ckpt.read_newest_checkpoint`
        says why) with nothing loaded, so start() may be called again."""
        if self._started:
            return self.resumed_at
        ckpt.prepare_output_dir(self.output_dir)
        if self.world == 1 and self._lock is None:  # two runs in one folder would interleave their records
            try:
                self._lock = FolderLock(self.output_dir, f"{self.name} run").acquire()
            except FolderBusy as err:
                raise ckpt.OutputDirError(f"{err} (run.output_dir)") from None
        try:
            if self.is_main:  # a checkpoint-latest being replaced when the run was killed: put a whole copy back
                ckpt.recover_folder(self.output_dir / ckpt.LATEST, ckpt.STATE_FILE)
            if self.world > 1:
                self.accelerator.wait_for_everyone()
            if self.section.resume and self.step == 0:
                agree = self._first_error_of_any_process if self.world > 1 else None
                checkpoint = ckpt.read_newest_checkpoint(
                    self.output_dir, model=self.model, optimizer=self.optimizer, rank=self.rank, agree=agree
                )
                if checkpoint is not None:
                    changes = self._check_same_recipe(checkpoint)
                    self.resumed_at = self._load(checkpoint)
                    if changes and self.is_main and (self.output_dir / "config.yaml").is_file():
                        (self.output_dir / "config.yaml").replace(
                            self._free_name(f"config.until-step-{self.resumed_at}")
                        )
            if self.resumed_at is None and self.is_main:  # a fresh start: what an earlier run left is not this run's
                moved = ckpt.set_aside_earlier_run(self.output_dir, tracker=self.name)
                if moved is not None:
                    log.warning("run.output_dir held an earlier run; this fresh start moved it to %s", moved)
            if self.resumed_at is None:
                self._truncate_log(-1)  # every step logged is >= 0 (validation logs the start as step 0)
            self._started = True
            if self.is_main:
                (self.output_dir / "config.yaml").write_text(dump_recipe(self.config) + self._resolved_comment())
            if not self.accelerator.trackers and self.accelerator.log_with:
                # a resume redoes the steps after its checkpoint: TensorBoard hides what the interrupted run
                # logged from there on (SummaryWriter's purge_step), as the step log is cut back (`_truncate_log`)
                redone = {"tensorboard": {"purge_step": self.resumed_at + 1}} if self.resumed_at is not None else {}
                self.accelerator.init_trackers(
                    self.name, config=flat_recipe(self.config.model_dump(mode="json")), init_kwargs=redone
                )
        except BaseException:  # a checkpoint refused or unreadable: the folder is free for the rerun
            self.release()
            raise
        return self.resumed_at

    @property
    def inputs_read(self) -> dict[str, str]:
        """The contents of the files the recipe names that a resume reads again, by setting: the start
        adapter (`model.adapter`, the KL reference too; `provenance.adapter_fingerprint`) and SFT's
        `data.train_file` (its SHA-256), so a resume notices one rewritten at the same path."""
        if not hasattr(self, "_inputs_read"):
            from emoreason.provenance import adapter_fingerprint, file_sha256

            found: dict[str, str] = {}
            adapter = getattr(getattr(self.config, "model", None), "adapter", None)
            if adapter:
                found["model.adapter"] = adapter_fingerprint(adapter)
            train_file = getattr(getattr(self.config, "data", None), "train_file", None)
            if train_file and Path(train_file).is_file():
                found["data.train_file"] = "sha256:" + file_sha256(train_file)
            self._inputs_read = found
        return self._inputs_read

    def _free_name(self, stem: str) -> Path:
        """`stem.yaml` in the run's folder, or `stem.2.yaml`, ... when taken: resuming the same checkpoint twice
        with changes kept the second recipe over the first, the one the checkpoint was trained with."""
        path, number = self.output_dir / f"{stem}.yaml", 1
        while path.exists():
            number += 1
            path = self.output_dir / f"{stem}.{number}.yaml"
        return path

    def note_resolved(self, name: str, configured: str, resolved: str) -> None:
        """Record what setting `name` became on this machine when it was configured as `auto`."""
        if configured == "auto":
            self.resolved[name] = resolved

    def _resolved_comment(self) -> str:
        """Comments closing config.yaml: the software it ran with and what `auto` became here."""
        from emoreason.provenance import software_versions

        made = ", ".join(f"{name} {number}" for name, number in software_versions().items() if number)
        comment = f"# made with {made}\n"
        if not self.resolved:
            return comment
        listed = ", ".join(f"{name}={value}" for name, value in self.resolved.items())
        return comment + f"# auto resolved on this machine: {listed}\n"

    def resume(self, folder: str | Path) -> int:
        """Load a checkpoint folder (`ckpt.CheckpointError`, with nothing loaded, when it does
        not read or fit); steps logged after it were lost with the crash and are dropped from
        metrics.jsonl, to be redone. Returns its step."""
        return self._load(ckpt.read_checkpoint(folder, model=self.model, optimizer=self.optimizer, rank=self.rank))

    def _first_error_of_any_process(self, error: ckpt.CheckpointError | None) -> ckpt.CheckpointError | None:
        """Each process reads its own RNG file, so processes may judge a checkpoint apart: all
        take the first error any of them met, and so resume from the same checkpoint."""
        from accelerate.utils import gather_object

        mine = None if error is None else (str(error), str(error.folder), error.damaged, error.problem)
        first = next((report for report in gather_object([mine]) if report is not None), None)
        return None if first is None else ckpt.CheckpointError(first[0], first[1], damaged=first[2], problem=first[3])

    def _check_same_recipe(self, checkpoint: ckpt.Checkpoint) -> list[str]:
        """`setting: old -> new` for each setting that trains differently from the one `checkpoint` was
        written with (`RESUMABLE_CHANGES` aside). Raises `ckpt.CheckpointError`, nothing loaded, when there
        are any and `run.resume_with_changes` is off: going on silently would train one run with two
        recipes and record only the second. A checkpoint that stored no config is not checked."""
        saved = checkpoint.state.get("config")
        if not isinstance(saved, dict):
            return []
        try:  # through the schema, so a setting added since the checkpoint was written counts at its default
            saved = type(self.config).model_validate(saved).model_dump(mode="json")
        except ValueError as err:  # a setting since renamed or removed: nothing to compare it with
            log.warning(
                "the settings checkpoint %s was written with no longer read (%s); not compared", checkpoint.folder, err
            )
            return []
        before, after = flat_recipe(saved), flat_recipe(self.config.model_dump(mode="json"))
        resumable = RESUMABLE_CHANGES
        schedule = next((value for name, value in after.items() if name.endswith(".scheduler")), "constant")
        if schedule not in SCHEDULES_OF_ANY_LENGTH:  # its lr at every step to come depends on the run's length
            resumable = tuple(prefix for prefix in RESUMABLE_CHANGES if prefix not in RUN_LENGTH)
        changes = [
            f"{name}: {before.get(name, '(absent)')} -> {after.get(name, '(absent)')}"
            + (f" (the {schedule} lr schedule is sized by it)" if name in RUN_LENGTH else "")
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name) and not name.startswith(resumable)
        ]
        read_then = checkpoint.state.get("inputs_read") or {}  # absent in checkpoints written before it was kept
        for name, contents in read_then.items():
            now = self.inputs_read.get(name, "(absent)")
            if before.get(name) == after.get(name) and contents != now:  # at another path, listed above
                changes.append(f"{name}'s contents: {contents} -> {now} (rewritten in place?)")
        if changes and not self.section.resume_with_changes:
            listed = "\n  ".join(changes)
            raise ckpt.CheckpointError(
                f"checkpoint {checkpoint.folder} was written with other settings (old -> new):\n  {listed}\n"
                "Resume it with the settings it was written with; to go on with the new ones, rerun with "
                f"run.resume_with_changes=true; to start fresh, {ckpt.START_FRESH}.",
                checkpoint.folder,
                damaged=False,
            )
        if changes:
            log.warning("resuming with changed settings (old -> new): %s", "; ".join(changes))
        return changes

    def _load(self, checkpoint: ckpt.Checkpoint) -> int:
        state = ckpt.apply_checkpoint(checkpoint, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler)
        if state.get("world_size", 1) != self.world:
            log.warning(
                "checkpoint was written by %s processes, resuming with %s: each process takes its place in the "
                "data stream by step and process count, so some examples already trained come again and some "
                "are skipped; resume with the process count it was written with to go on exactly",
                state.get("world_size"),
                self.world,
            )
        self.step = int(state["step"])
        self.stopped_early = bool(state.get("stopped_early", False))
        self._truncate_log(self.step)
        return self.step

    # -- logging ----------------------------------------------------------------------------

    @property
    def metrics_file(self) -> Path:
        return self.output_dir / METRICS_FILE

    def step_log(self, name: str) -> Path:
        """Register a JSONL file of per-step records beside metrics.jsonl (written with
        `log_records`); like metrics.jsonl, a resume drops its records of the steps after the
        checkpoint, and a fresh start empties it. Returns its path."""
        path = self.output_dir / name
        if path not in self.step_logs:
            self.step_logs.append(path)
        return path

    def _truncate_log(self, step: int) -> None:
        if self.is_main:
            for path in self.step_logs:
                rewrite_jsonl(path, lambda record: record.get("step", 0) <= step)

    def log_records(self, path: Path, records: Sequence[Mapping[str, Any]]) -> None:
        """Append `records` to the step log `path` (`step_log`), each under the current step, on the
        main process (gather other processes' records first)."""
        if self.is_main:
            AppendOnlyJsonl(path).extend({"step": self.step, **record} for record in records)

    def log(self, stats: dict[str, float]) -> dict[str, Any]:
        """Record `stats` under the current step: in the history, metrics.jsonl and the trackers."""
        record = {"step": self.step, **{k: round(v, 6) for k, v in stats.items()}}
        self.history.append(record)
        if self.is_main:
            if "jsonl" in self.section.report_to:  # with the wall-clock time, to read a run's pace from its file
                now = datetime.now(timezone.utc).isoformat(timespec="seconds")
                AppendOnlyJsonl(self.metrics_file).append(record | {"time": now})
            if self.accelerator.trackers:
                self.accelerator.log(stats, step=self.step)
        return record

    def reduce(self, stats: dict[str, float], counts: tuple[str, ...] = ()) -> dict[str, float]:
        """Mean over processes of each statistic, over the processes that reported it (e.g.
        hint statistics exist only where a group was hinted); the sum for those named (or prefixed)
        in `counts`, each process counting its own share of the step (hinted groups, dropped groups)."""
        if self.world == 1:
            return stats
        from accelerate.utils import gather_object

        every = gather_object([stats])
        keys = sorted({k for s in every for k in s})
        combine = {k: np.sum if k.startswith(counts) and counts else np.mean for k in keys}
        return {k: float(combine[k]([s[k] for s in every if k in s])) for k in keys}

    # -- checkpoints and the end ------------------------------------------------------------

    def save(self, rolling: bool = False) -> Path:
        """checkpoint-<step> (or, rolling, checkpoint-latest) with the trainable weights,
        optimizer, scheduler and RNG states."""
        return ckpt.save_checkpoint(
            self.output_dir,
            self.step,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            state={
                **{k: n * self.step for k, n in self.counted_per_step.items()},
                "config": self.config.model_dump(mode="json"),
                "stopped_early": self.stopped_early,  # a rerun resuming it must not train past the stop
                "inputs_read": self.inputs_read,
            },
            processor=self.processor,
            rank=self.rank,
            world_size=self.world,
            barrier=self.accelerator.wait_for_everyone if self.world > 1 else None,
            keep=self.section.keep_checkpoints,
            rolling=rolling,
            settings=self.adapter_settings,
        )

    def finish_step(self, stats: dict[str, float], max_steps: int) -> dict[str, Any]:
        """Log a finished step, then checkpoint: numbered every `save_every` steps and at the
        last step, else (with `save_latest`) the rolling one. Returns the log record."""
        record = self.log(stats)
        if self.step == max_steps or (self.section.save_every and self.step % self.section.save_every == 0):
            self.save()
        elif self.section.save_latest:
            self.save(rolling=True)
        return record

    def run_steps(
        self,
        step: Callable[[], dict[str, float]],
        max_steps: int,
        progress: Callable[[dict[str, Any]], None] | None = None,
        after_step: Callable[[dict[str, float]], bool | None] | None = None,
    ) -> list[dict[str, Any]]:
        """Start (resuming once), then call `step` (which advances `self.step`) until
        `max_steps`; `after_step` may add to a step's statistics (e.g. an evaluation) before
        they are logged and checkpointed, and ends the run early by returning True (that step
        is checkpointed, numbered, and remembered: a rerun that resumes it trains no further while
        `after_step.still_stops()` says so, e.g. the validation's stop_on_collapse is still on). Returns
        the log records of the steps run here."""
        self.start()
        records: list[dict[str, Any]] = []
        heap = HeapKeeper()
        if self.stopped_early:
            still_stops = getattr(after_step, "still_stops", None)
            if still_stops is None or still_stops():
                log.warning(
                    "this run ended early at step %d, as asked after that step (see its log); it is not trained "
                    "further while that stop is asked for (e.g. validation.stop_on_collapse=false goes on)",
                    self.step,
                )
                return records
            self.stopped_early = False
        try:
            while self.step < max_steps:
                stats = step()
                stop = bool(after_step(stats)) if after_step is not None else False
                self.stopped_early = stop  # before the checkpoint that records it
                resident = heap.after_step()  # what the step freed goes back to the system first (`train.heap`)
                if resident is not None:
                    stats["memory/resident_gb"] = resident
                records.append(self.finish_step(stats, self.step if stop else max_steps))
                if progress is not None:
                    progress(records[-1])
                if stop:
                    log.warning("the run ends early at step %d, as asked after that step", self.step)
                    break
        except BaseException:  # Ctrl-C or a failure: the folder is free for the rerun that resumes it
            self.release()
            raise
        return records

    def end(self) -> None:
        """Draw curves.png from metrics.jsonl (`train.curves`), close the trackers and, with
        several processes, tear down the process group: a gloo thread left running when the
        interpreter exits aborts that process ("terminate called without an active exception",
        exit -6) after all the work is done and saved."""
        if self.is_main and self.metrics_file.is_file():
            from emoreason.train.curves import plot_training_curves

            try:
                plot_training_curves(self.metrics_file, self.output_dir / "curves.png")
            except Exception as err:  # the run's work is saved; a plot must not turn it into a failure
                log.warning("could not draw %s: %s", self.output_dir / "curves.png", err)
        if self.world > 1:
            # every process reaches the teardown together, not while rank 0 (which holds the
            # rendezvous store) still draws the curves: once, in tests/test_rl_distributed.py,
            # rank 1 waited forever at exit after rank 0 had exited and all work was saved
            self.accelerator.wait_for_everyone()
        if self.accelerator.trackers or self.world > 1:
            self.accelerator.end_training()
        self.release()

    def release(self) -> None:
        """Let another run use run.output_dir (end() does; a run that fails midway, in a process
        that goes on, should too)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None


__all__ = [
    "METRICS_FILE",
    "Prepared",
    "TrainingRun",
    "build_accelerator",
    "runs_on_cpu",
    "epoch_position",
    "prepare_training",
    "stratified_position",
    "stream_positions",
    "weighted_cycle",
]
