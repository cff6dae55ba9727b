"""The `emoreason` command line: options in, one call to the package, results out.

This module holds the typer `app`, its global options (`--verbose`, `--version`) and the table of
commands; the commands themselves live in one module per concern (`analysis`, `evaluation`,
`training`, `cues`, `serving`, and the `data` group). They are plain functions registered here with
`app.command(...)(function)`, so no command module imports the app (no import cycle) and the order
below is the order `emoreason --help` lists them in.

Each command parses its options, calls the layer that does the work (`data`, `inference`, `eval`,
`distill`, `sft`, `rl`, `serve`) and prints through `emoreason.cli.ui`. The options' flags and help
texts are declared in `emoreason.cli.options` (`opt.*`), so a signature shows names and defaults.
Heavy imports sit inside the commands so that `emoreason --help` stays fast.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Annotated, Optional

import typer

from emoreason import __version__
from emoreason.cli import evaluation, training
from emoreason.cli import options as opt
from emoreason.cli.analysis import analyze
from emoreason.cli.averaging import average_cmd
from emoreason.cli.comparison import compare_cmd
from emoreason.cli.cues import cues_cmd
from emoreason.cli.data import data_app
from emoreason.cli.help import Command, Group, examples
from emoreason.cli.quiet import quiet_libraries
from emoreason.cli.recipes import RECIPE_COMMAND
from emoreason.cli.rollouts import rollouts_cmd
from emoreason.cli.serving import serve
from emoreason.cli.ui import console, on_sigterm

app = typer.Typer(
    name="emoreason",
    cls=Group,
    help=opt.APP,
    no_args_is_help=True,
    add_completion=False,
    # docstring paragraphs reflow instead of keeping the source line breaks (plain help on a narrow
    # terminal: `help.help_markup_mode`)
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"emoreason {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    verbose: opt.Verbose = False,
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    quiet_libraries(verbose)
    if int(os.environ.get("RANK", "0") or 0) > 0:  # torchrun's other processes: rank 0 says each warning once
        logging.getLogger().setLevel(logging.ERROR)
    # SIGTERM ends a command as Ctrl-C does: what is finished is kept and the command says so (it was
    # silent: the log stopped mid-bar); `serve` puts uvicorn's own graceful shutdown in its place
    if threading.current_thread() is threading.main_thread():  # (a handler can only be set there)
        signal.signal(signal.SIGTERM, on_sigterm)


# The commands, in the order `emoreason --help` lists them (typer keeps the order of registration): the
# README's order, from explaining and measuring to training and serving.
# A command without `help=` takes its docstring as help; each has examples under its options.
app.command(cls=Command, epilog=examples("analyze"))(analyze)
app.command(help=opt.EVALUATE_HELP, cls=Command, epilog=examples("evaluate"))(evaluation.evaluate)
app.command("evaluate-predictions", cls=Command, epilog=examples("evaluate-predictions"))(
    evaluation.evaluate_predictions_cmd
)
app.command("compare", cls=Command, epilog=examples("compare"))(compare_cmd)
app.command("fit-score", cls=Command, epilog=examples("fit-score"))(evaluation.fit_score_cmd)
app.command("rollouts", cls=Command, epilog=examples("rollouts"))(rollouts_cmd)
app.command("average", cls=Command, epilog=examples("average"))(average_cmd)
app.command("baseline", cls=Command, epilog=examples("baseline"))(evaluation.baseline_cmd)
app.command("cues", cls=Command, epilog=examples("cues"))(cues_cmd)
app.command(help=opt.DISTILL_HELP, cls=Command, epilog=examples("distill"), **RECIPE_COMMAND)(training.distill)
app.command(help=opt.SFT_HELP, cls=Command, epilog=examples("sft"), **RECIPE_COMMAND)(training.sft)
app.command(help=opt.GRPO_HELP, cls=Command, epilog=examples("grpo"), **RECIPE_COMMAND)(training.grpo)
app.command(cls=Command, epilog=examples("serve"))(serve)
app.add_typer(data_app, name="data")  # command groups are listed after the commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
