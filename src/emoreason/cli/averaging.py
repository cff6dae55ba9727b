"""`emoreason average`: LoRA adapters of one base model averaged into one adapter (a soup)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from emoreason.cli import options as opt
from emoreason.cli.ui import console, fail

Adapters = Annotated[
    list[Path],
    typer.Argument(
        help="Adapter folders to average, e.g. a GRPO run's checkpoint-N/adapter folders, or a shipped "
        "adapter's name (sentiment).",
        metavar="ADAPTERS",
    ),
]
Out = Annotated[Path, typer.Option("--out", "-o", help="Folder to write the averaged adapter to.")]
Weights = Annotated[
    Optional[str],
    typer.Option(
        "--weights",
        help="Comma-separated weight per adapter (normalised to sum to 1); default: equal. A negative "
        "weight extrapolates: --weights=-1,2 on START RUN gives RUN + (RUN - START).",
    ),
]
Rank = Annotated[
    Optional[int],
    typer.Option(
        "--rank",
        min=1,
        help="Keep the best rank-N approximation (smaller file, not exact). Default: the exact average, "
        "whose rank is the sum of the adapters' ranks.",
    ),
]


def average_cmd(
    adapters: Adapters, out: Out, weights: Weights = None, rank: Rank = None, model: opt.Model = "default"
) -> None:
    """Average LoRA adapters of one base model into one adapter folder (a "soup"): the weighted mean
    of their weight changes, exact by default. Averaging the checkpoints of one run often beats
    each of them; choose between the soup and its parts on a valid split (`evaluate`, `compare`).
    The folder loads like any adapter (`--adapter`) and records its parts in soup.json."""
    from emoreason.models.soup import SOUP_RECORD, average_adapters

    parsed = None
    if weights is not None:
        try:
            parsed = [float(w) for w in weights.split(",")]
        except ValueError:
            fail(f"--weights {weights!r}: give numbers separated by commas, e.g. --weights 1,1,2")
    try:
        folder = average_adapters(adapters, out, weights=parsed, rank=rank, model=model)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    console.print(f"wrote the average of {len(adapters)} adapters to {folder}")
    for note in json.loads((folder / SOUP_RECORD).read_text()).get("notes", []):
        console.print(f"note: {note}")


__all__ = ["average_cmd"]
