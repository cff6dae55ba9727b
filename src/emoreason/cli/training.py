"""The recipe commands: `emoreason distill` (SFT data from a teacher), `sft` and `grpo` (training).

Each reads a recipe (YAML, flags, KEY=VALUE) through `emoreason.cli.recipes`, which also holds the
trainers' progress line and Ctrl-C handling; only `distill` has typed flags, mapped onto recipe keys
by `DISTILL_KEYS`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import typer

from emoreason.cli import options as opt
from emoreason.cli.data import load_or_exit
from emoreason.cli.recipes import build_trainer, given_flags, load_or_show, option_names, train_with_progress
from emoreason.cli.ui import console, fail, interrupted, progress, warn
from emoreason.data import pool_samples


def grpo(ctx: typer.Context, config: opt.GrpoConfig = None, show_config: opt.ShowConfig = False) -> None:
    from emoreason.cli.ui import grpo_step_line, validation_line
    from emoreason.rl.config import dump_config, load_config

    cfg = load_or_show(load_config, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    say_builtin_recipe("grpo", config, cfg, ("data.dataset", "model.name", "run.output_dir"))
    from emoreason.rl.trainer import GRPOTrainer

    trainer = build_trainer(GRPOTrainer, cfg)
    say_auto_precision(trainer)
    if train_with_progress("grpo", trainer, grpo_step_line, validation_line):
        console.print(
            f"done: {trainer.step_index} steps; checkpoints, metrics.jsonl, curves.png and config.yaml in "
            f"{cfg.run.output_dir}"
        )
        best = Path(cfg.run.output_dir) / "best" / "best.json"
        if best.is_file():
            chosen = json.loads(best.read_text())
            console.print(
                f"best/: step {chosen['step']} by valid {chosen['metric']} = {chosen['value']:.3f} "
                f"(its adapter: {best.parent / 'adapter'})"
            )


# distill's options, by the recipe key each overrides (emoreason.distill.config)
DISTILL_KEYS = {
    "dataset": "data.dataset",
    "split": "data.split",
    "format_name": "data.format",
    "limit": "data.limit",
    "out": "run.output_dir",
    "cache": "run.cache",
    "teacher": "teacher.name",
    **{
        name: f"teacher.{name}"
        for name in (
            "rationalize",
            "model",
            "adapter",
            "base_url",
            "concurrency",
            "timeout",
            "max_attempts",
            "max_new_tokens",
            "temperature",
            "batch_size",
        )
    },
    **{name: f"filter.{name}" for name in ("score_tolerance", "min_words", "max_words", "match_mix")},
}


def distill(
    ctx: typer.Context,
    config: opt.DistillConfig = None,
    show_config: opt.ShowConfig = False,
    dataset: opt.DistillDatasets = None,
    out: opt.DistillOut = None,
    teacher: opt.Teacher = "lexicon",
    split: opt.DistillSplit = "train",
    format_name: opt.Format = "c2f",
    limit: opt.DistillLimit = None,
    rationalize: opt.Rationalize = False,
    score_tolerance: opt.ScoreTolerance = None,
    min_words: opt.MinWords = 8,
    max_words: opt.MaxWords = 400,
    match_mix: opt.MatchMix = False,
    model: opt.TeacherModel = None,
    adapter: opt.TeacherAdapter = None,
    base_url: opt.BaseUrl = None,
    api_key: opt.TeacherApiKey = None,
    concurrency: opt.Concurrency = 8,
    timeout: opt.Timeout = 120.0,
    max_attempts: opt.MaxAttempts = 5,
    max_new_tokens: opt.ChainTokens = 512,
    temperature: opt.TeacherTemperature = 0.0,
    batch_size: opt.TeacherBatchSize = 8,
    cache: opt.ReplyCache = None,
) -> None:
    from emoreason.distill.config import dump_config, load_config

    # the API key is not among them
    load = partial(load_config, flags=given_flags(ctx, DISTILL_KEYS), options=option_names(ctx, DISTILL_KEYS))
    cfg = load_or_show(load, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    from emoreason.cli.ui import show_distill_summary
    from emoreason.distill import distill as run_distill
    from emoreason.distill import make_teacher
    from emoreason.formats import get_format

    try:
        samples, task = pool_samples([load_or_exit(spec) for spec in cfg.data.specs], cfg.data.split, cfg.data.limit)
        the_teacher = make_teacher(cfg, task, api_key=api_key)
    except ValueError as err:  # DataError is one
        fail(str(err))
    label, out_dir = f"distill ({cfg.teacher.name})", cfg.run.output_dir
    with progress(label, len(samples)) as advance:

        def report(n: int, kept: int, dropped: int) -> None:
            # before --match-mix evens the polarity mix: the closing table counts what is kept after it
            advance(n, description=f"{label}: passed {kept} dropped {dropped}")

        try:
            result = run_distill(
                samples,
                task,
                get_format(cfg.data.format),
                the_teacher,
                out_dir,
                filter_config=cfg.filter.build(),
                rationalize=cfg.teacher.rationalize,
                cache_path=cfg.run.cache,
                progress=report,
                allow_test=cfg.data.allow_test,
            )
        except KeyboardInterrupt:
            interrupted(
                f"interrupted; replies so far are cached in {cfg.run.cache or Path(out_dir) / 'cache.jsonl'}:"
                " rerun the same command to go on"
            )
        except OSError as err:  # an output folder it cannot write (read-only, a file on the path, a full disk)
            fail(f"cannot write {err.filename or out_dir}: {err.strerror or err}; choose a folder you can write")
        except ValueError as err:  # samples the teacher cannot answer at all (`Teacher.check_samples`)
            fail(str(err))
    show_distill_summary(result, out_dir)


def sft(ctx: typer.Context, config: opt.SftConfig = None, show_config: opt.ShowConfig = False) -> None:
    from emoreason.cli.ui import sft_step_line, show_first_and_last_eval, show_sft_data
    from emoreason.sft.config import dump_config, load_config

    cfg = load_or_show(load_config, dump_config, config, ctx.args, show_config)
    if cfg is None:
        return
    say_builtin_recipe("sft", config, cfg, ("data.train_file", "model.name", "run.output_dir"))
    from emoreason.sft.trainer import SFTTrainer

    trainer = build_trainer(SFTTrainer, cfg)
    say_auto_precision(trainer)
    if trainer.accelerator.is_main_process:
        show_sft_data(trainer)
    if train_with_progress("sft", trainer, sft_step_line):
        show_first_and_last_eval(trainer.log_history)
        console.print(
            f"done: {trainer.step_index} steps; weights in {trainer.final_dir()}, metrics.jsonl and "
            f"checkpoints in {cfg.run.output_dir}"
        )


def say_auto_precision(trainer: Any) -> None:
    """What each setting left at `auto` became on this machine (`TrainingRun.resolved`, also in
    config.yaml): bf16 only where the device multiplies bf16 natively
    (`models.loading.native_bf16`), since an emulated bf16 step runs many times slower than fp32."""
    chosen = trainer.run.resolved
    if chosen and trainer.accelerator.is_main_process:
        # every `auto` resolves the same way on one device: bf16 (in either spelling) means native
        why = "has" if next(iter(chosen.values())) in ("bf16", "bfloat16") else "has no"
        listed = ", ".join(f"{name}={resolved}" for name, resolved in chosen.items())
        console.print(f"auto precision: {listed} (this {trainer.accelerator.device.type} {why} native bf16)")


def say_builtin_recipe(command: str, config: Path | None, cfg: Any, keys: Sequence[str]) -> None:
    """Without --config a training command runs its built-in recipe plus the KEY=VALUE overrides
    given. That is allowed (`sft data.train_file=mine.jsonl` is a whole recipe), but it must not
    be silent: the warning names the values that decide what is read and written, and how to
    see the rest."""
    if config is not None:
        return
    values = ", ".join(f"{key}={_setting(cfg, key)}" for key in keys)
    warn(
        f"no --config given: {command} runs its built-in recipe with the overrides given ({values}); "
        f"`emoreason {command} --show-config` prints all of it, and `emoreason {command} --help` shows the recipes"
    )


def _setting(cfg: Any, key: str) -> Any:
    value = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


__all__ = ["DISTILL_KEYS", "distill", "grpo", "say_builtin_recipe", "sft"]
