"""What the recipe commands (`distill`, `sft`, `grpo`) share on the command line.

A recipe command reads a YAML recipe (`--config`), then its typed flags, then `KEY=VALUE`
overrides, and validates the lot before anything is loaded (`--show-config` prints the merged
result instead of running). A training command then builds its trainer and runs it with a
progress line; Ctrl-C stops it so that the same command resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import typer

from emoreason.cli.ui import console, fail, interrupted, progress

# the command takes KEY=VALUE overrides after its options
RECIPE_COMMAND = {
    "context_settings": {"allow_extra_args": True, "ignore_unknown_options": True},
    "options_metavar": "[OPTIONS] [KEY=VALUE ...]",
}


def given_flags(ctx: typer.Context, keys: Mapping[str, str]) -> dict[str, Any]:
    """The options typed on the command line (not left at their defaults), by the recipe key each
    sets (`keys`: parameter name -> key path): a recipe's value stands unless the user overrides it."""
    sources = {name: ctx.get_parameter_source(name) for name in keys}  # typer's own copy of click's ParameterSource
    unset = {None, "DEFAULT", "DEFAULT_MAP"}
    return {key: ctx.params[name] for name, key in keys.items() if getattr(sources[name], "name", None) not in unset}


def option_names(ctx: typer.Context, keys: Mapping[str, str]) -> dict[str, str]:
    """The recipe key each option sets -> the option as typed (`run.output_dir` -> `--out`), for errors."""
    spelled = {
        param.name: next((o for o in param.opts if o.startswith("--")), param.opts[0]) for param in ctx.command.params
    }
    return {key: spelled[name] for name, key in keys.items() if name in spelled}


def load_or_show(
    load: Callable[..., Any], dump: Callable[[Any], str], path: Path | None, overrides: list[str], show: bool
) -> Any:
    """The validated recipe, or None after printing it (--show-config); exits on a bad one."""
    from emoreason.config_loader import ConfigError

    try:
        cfg = load(path, list(overrides))
    except ConfigError as err:
        fail(str(err))
    if show:
        console.print(dump(cfg), end="", soft_wrap=True)  # unwrapped: a long value broken at the width is not YAML
        return None
    return cfg


def build_trainer(factory: Callable[[Any], Any], cfg: Any) -> Any:
    """`factory(cfg)`; exits on data, a model or media that cannot be loaded."""
    from emoreason.models import MediaError

    try:
        return factory(cfg)
    except (FileNotFoundError, ValueError, MediaError) as err:  # DataError is a ValueError
        fail(str(err))


def train_with_progress(
    label: str, trainer: Any, describe: Callable[[dict], str], report: Callable[[dict], str | None] | None = None
) -> bool:
    """Start (the trainer resumes from its newest checkpoint when run.resume is set; it does so
    once, here), run with a progress line that `describe`s each step (and prints what `report`
    returns for it, to stay in the log), and turn Ctrl-C into a resumable stop. True on the main
    process (the one that reports)."""
    from emoreason.train.checkpoint import CheckpointError, OutputDirError

    main_process, output_dir = trainer.accelerator.is_main_process, trainer.config.run.output_dir
    try:
        resumed_at = trainer.start()
        if main_process and resumed_at is not None:
            console.print(f"resumed at step {resumed_at} from {output_dir}")
        with progress(label, trainer.max_steps, trainer.step_index, quiet=not main_process) as advance:

            def step_done(record: dict) -> None:
                if record["step"] > 0:  # step 0 is the start's validation: reported, no step done
                    advance(1, description=describe(record))
                line = report(record) if report is not None and main_process else None
                if line:
                    console.print(line)

            trainer.train(progress=step_done)
    except (CheckpointError, OutputDirError) as err:  # from start(): an output folder or a checkpoint it cannot use
        fail(str(err))
    except KeyboardInterrupt:
        interrupted(
            f"interrupted at step {trainer.step_index}; rerun the same command to resume from the last "
            f"checkpoint in {output_dir}"
        )
    return main_process


__all__ = ["RECIPE_COMMAND", "build_trainer", "given_flags", "load_or_show", "option_names", "train_with_progress"]
