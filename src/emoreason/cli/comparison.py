"""`emoreason compare`: two evaluations of the same samples, and whether B beats A.

Prints each metric for A and B, the difference B - A with its paired-bootstrap interval, and
whether the interval excludes 0 (in B's favour or against it; for MAE lower is better).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from emoreason.cli.ui import console, fail

RunA = Annotated[Path, typer.Argument(help="The reference run: a folder written by `emoreason evaluate`.", metavar="A")]
RunB = Annotated[Path, typer.Argument(help="The run compared with it, on the same samples.", metavar="B")]
Resamples = Annotated[int, typer.Option("--resamples", min=100, help="Bootstrap resamples.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resampling.")]
JsonOut = Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the comparison as JSON here.")]


def verdict(result: dict) -> str:
    """'B better', 'B worse' or 'no difference' at the interval's confidence."""
    low, high = result["low"], result["high"]
    if low != low or high != high:  # NaN: undefined on every resample
        return "undefined"
    if low > 0 or high < 0:
        b_higher = low > 0
        return "B better" if b_higher != result["lower_is_better"] else "B worse"
    return "no difference"


def compare_cmd(a: RunA, b: RunB, resamples: Resamples = 1000, seed: Seed = 0, out: JsonOut = None) -> None:
    """Compare two `evaluate` runs on the samples they share: each metric, the difference B - A and
    its 95% paired-bootstrap interval (both systems scored on the same resampled sentences)."""
    from emoreason.data import DataError
    from emoreason.eval.compare import compare_runs

    try:
        comparison = compare_runs(a, b, n=resamples, seed=seed)
    except DataError as err:
        fail(str(err))
    table = Table(title=f"B - A on {comparison['n_shared']} shared samples (95% paired bootstrap)")
    for column in ("metric", "A", "B", "B - A", "interval", "reading"):
        table.add_column(column, justify="left" if column in ("metric", "reading") else "right", no_wrap=True)
    for name, m in comparison["metrics"].items():
        interval = f"[{m['low']:+.3f}, {m['high']:+.3f}]"
        shown = f"{name} ({m['n_gold']} gold)" if "n_gold" in m else name  # a recall rests on its class alone
        table.add_row(shown, f"{m['a']:.3f}", f"{m['b']:.3f}", f"{m['difference']:+.3f}", interval, verdict(m))
    console.print(f"A: {a}\nB: {b}")
    console.print(table)
    if comparison["only_in_a"] or comparison["only_in_b"]:
        console.print(
            f"left out: {comparison['only_in_a']} samples only in A, {comparison['only_in_b']} only in B "
            "(evaluate both with the same --sample and --seed to compare all of them)"
        )
    if out is not None:
        from emoreason.eval.json_report import write_json_report

        write_json_report(out, comparison)
        console.print(f"wrote {out}")


__all__ = ["compare_cmd", "verdict"]
