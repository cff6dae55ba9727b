"""`emoreason rollouts`: where a GRPO run's updates pushed its answers.

Reads the run's rollouts.jsonl (`rollout.log`, on by default) and sums the advantage the update
gave each rollout by gold and answer: a positive sum raises that answer on prompts of that gold.
With `--every N` it also prints the advantage each answer carried in windows of N steps, so a
drift (say, towards "negative") can be traced to the steps and golds it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from emoreason.cli.ui import console, fail

RunDir = Annotated[Path, typer.Argument(help="A GRPO run's output_dir (or its rollouts.jsonl itself).", metavar="RUN")]
Every = Annotated[
    int, typer.Option("--every", min=0, help="Also sum the advantage by answer in windows of this many steps.")
]
By = Annotated[
    str,
    typer.Option("--by", help="Group by polarity, or by label (label tasks such as EmoSet).", metavar="polarity|label"),
]
Domain = Annotated[
    Optional[str],
    typer.Option("--domain", help="Only the prompts of this source domain (e.g. products, in a pooled run)."),
]
JsonOut = Annotated[Optional[Path], typer.Option("--out", help="Also write the sums as JSON here.")]
REQUIRED = ("step", "gold", "answer", "advantage")


def _read(run: Path) -> list[dict]:
    from emoreason.data import DataError
    from emoreason.data.jsonl import read_jsonl_strict
    from emoreason.rl.rollouts import ROLLOUTS_FILE

    if not run.exists():  # a typo is not a run that kept no rollouts
        fail(f"no such folder or file: {run}; give a GRPO run's output_dir (or its {ROLLOUTS_FILE})")
    path = run / ROLLOUTS_FILE if run.is_dir() else run
    if not path.is_file():
        fail(
            f"no {path}: the run did not record its rollouts; rollout.log (on by default) writes "
            f"{ROLLOUTS_FILE} in run.output_dir from the next step on"
        )
    hint = "each line is one rollout as the GRPO trainer writes it (rollout.log)"
    try:
        return [record for _, record in read_jsonl_strict(path, REQUIRED, hint)]
    except DataError as err:
        fail(str(err))


def _domain(record: dict) -> str | None:
    """The record's domain; for lines without one (written before it was recorded), the prefix of a
    pooled sample id ("products/285_32")."""
    sample_id = str(record.get("id", ""))
    return record.get("domain") or (sample_id.split("/", 1)[0] if "/" in sample_id else None)


def _sums_table(title: str, pulls: list) -> Table:
    table = Table(title=title)
    for column in ("gold", "answer", "rollouts", "hinted", "sum of advantage", "of it hinted"):
        table.add_column(column, justify="left" if column in ("gold", "answer") else "right", no_wrap=True)
    for p in pulls:
        table.add_row(
            p.gold, p.answer, str(p.rollouts), str(p.hinted), f"{p.advantage:+.3f}", f"{p.hinted_advantage:+.3f}"
        )
    return table


def rollouts_cmd(
    run: RunDir, every: Every = 0, by: By = "polarity", domain: Domain = None, out: JsonOut = None
) -> None:
    """Sum a GRPO run's advantages by gold and answer (from its rollouts.jsonl): which answers the
    updates pushed up (positive sum) or down, on prompts of which gold, and how much of it came
    from hinted rollouts."""
    from emoreason.rl.rollouts import advantage_pull, pull_by_answer

    if by not in ("polarity", "label"):
        fail(f"--by must be polarity or label, got {by!r}")
    records = _read(run)
    if not records:
        fail(f"{run} holds no rollouts yet: the run has not finished a step")
    if domain is not None:
        domains = sorted({str(_domain(r)) for r in records})
        records = [r for r in records if _domain(r) == domain]
        if not records:
            fail(f"no rollouts of domain {domain!r} in {run}; its domains: {', '.join(domains)}")
    steps = sorted({int(r["step"]) for r in records})
    pulls = advantage_pull(records, by)
    hinted = sum(p.hinted for p in pulls)
    where = f"{domain}, " if domain else ""
    title = (
        f"Advantage by gold and answer, {where}steps {steps[0]}-{steps[-1]} ({len(records)} rollouts, {hinted} hinted)"
    )
    console.print(_sums_table(title, pulls))
    totals = pull_by_answer(pulls)
    console.print("by answer: " + ", ".join(f"{answer} {value:+.3f}" for answer, value in totals.items()))
    windows: dict[str, dict[str, float]] = {}
    if every:
        answers = list(totals)
        table = Table(title=f"Advantage by answer, in windows of {every} steps")
        table.add_column("steps", no_wrap=True)
        for answer in answers:
            table.add_column(answer, justify="right")
        by_window: dict[int, list[dict]] = {}  # window start -> its records, in one pass
        for record in records:
            start = steps[0] + (int(record["step"]) - steps[0]) // every * every
            by_window.setdefault(start, []).append(record)
        for start in sorted(by_window):
            name = f"{start}-{min(start + every - 1, steps[-1])}"
            windows[name] = pull_by_answer(advantage_pull(by_window[start], by))
            table.add_row(name, *(f"{windows[name].get(a, 0.0):+.3f}" for a in answers))
        console.print(table)
    if out is not None:
        from dataclasses import asdict

        from emoreason.eval.json_report import write_json_report

        report = {
            "steps": [steps[0], steps[-1]],
            "by": by,
            "domain": domain,
            "pulls": [asdict(p) for p in pulls],
            "by_answer": totals,
        }
        write_json_report(out, {**report, "windows": windows} if every else report)
        console.print(f"wrote {out}")


__all__ = ["rollouts_cmd"]
