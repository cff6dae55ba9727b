"""`emoreason rollouts`: where a GRPO run's updates pushed its answers.

Reads the run's rollouts.jsonl (`rollout.log`, on by default) and sums the advantage the update
gave each rollout by gold and answer: a positive sum raises that answer on prompts of that gold.
It also prints what the policy answered by itself (the unhinted rollouts: each answer's share and
the share that was right). With `--every N` it prints both in windows of N steps, so a drift (say,
towards "negative") can be seen as it grows and traced to the steps and golds it came from; under
centring by answer the advantage sums are 0 by construction and the answer mix is the one to read.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from emoreason.cli.ui import console, fail

if TYPE_CHECKING:
    from emoreason.rl.rollouts import AnswerMix

RunDir = Annotated[Path, typer.Argument(help="A GRPO run's output_dir (or its rollouts.jsonl itself).", metavar="RUN")]
Every = Annotated[
    int,
    typer.Option(
        "--every", min=0, help="Also give the advantage by answer and the answer mix in windows of this many steps."
    ),
]
By = Annotated[
    str,
    typer.Option("--by", help="Group by polarity, or by label (label tasks such as EmoSet).", metavar="polarity|label"),
]
Domain = Annotated[
    Optional[str],
    typer.Option("--domain", help="Only the prompts of this source domain (e.g. products, in a pooled run)."),
]
JsonOut = Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the sums as JSON here.")]
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


def _mix_line(mix: AnswerMix) -> str:
    shares = ", ".join(f"{answer} {share:.3f}" for answer, share in mix.shares.items())
    return f"unhinted answers ({mix.rollouts}): {shares}; right {_share(mix.right)}"


def _share(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


def _mix_table(title: str, mixes: dict[str, AnswerMix]) -> Table:
    answers = sorted({answer for mix in mixes.values() for answer in mix.shares})
    table = Table(title=title)
    for column in ("steps", "rollouts", *answers, "right"):
        table.add_column(column, justify="left" if column == "steps" else "right", no_wrap=True)
    for name, mix in mixes.items():
        shares = (f"{mix.shares.get(answer, 0.0):.3f}" for answer in answers)
        table.add_row(name, str(mix.rollouts), *shares, _share(mix.right))
    return table


def rollouts_cmd(
    run: RunDir, every: Every = 0, by: By = "polarity", domain: Domain = None, out: JsonOut = None
) -> None:
    """Sum a GRPO run's advantages by gold and answer (from its rollouts.jsonl): which answers the
    updates pushed up (positive sum) or down, on prompts of which gold, and how much of it came
    from hinted rollouts; and the policy's own answer mix and the share it got right (unhinted
    rollouts), whole and, with --every, per window: a collapse onto one answer shows there."""
    from emoreason.rl.rollouts import advantage_pull, answer_mix, pull_by_answer

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
    mix = answer_mix(records, by)
    console.print(_mix_line(mix))
    windows: dict[str, dict[str, float]] = {}
    mixes: dict[str, AnswerMix] = {}
    if every:
        by_window: dict[int, list[dict]] = {}  # window start -> its records, in one pass
        for record in records:
            start = steps[0] + (int(record["step"]) - steps[0]) // every * every
            by_window.setdefault(start, []).append(record)
        for start in sorted(by_window):
            name = f"{start}-{min(start + every - 1, steps[-1])}"
            windows[name] = pull_by_answer(advantage_pull(by_window[start], by))
            mixes[name] = answer_mix(by_window[start], by)
        answers = list(totals)
        table = Table(title=f"Advantage by answer, in windows of {every} steps")
        table.add_column("steps", no_wrap=True)
        for answer in answers:
            table.add_column(answer, justify="right")
        for name, sums in windows.items():
            table.add_row(name, *(f"{sums.get(a, 0.0):+.3f}" for a in answers))
        console.print(table)
        console.print(_mix_table(f"The policy's own answers (unhinted), in windows of {every} steps", mixes))
    if out is not None:
        from dataclasses import asdict

        from emoreason.eval.json_report import write_json_report

        report = {
            "steps": [steps[0], steps[-1]],
            "by": by,
            "domain": domain,
            "pulls": [asdict(p) for p in pulls],
            "by_answer": totals,
            "answers": asdict(mix),
        }
        if every:
            report.update(windows=windows, answer_windows={name: asdict(m) for name, m in mixes.items()})
        write_json_report(out, report)
        console.print(f"wrote {out}")


__all__ = ["rollouts_cmd"]
