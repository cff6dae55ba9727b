"""The curves of a training run, drawn from its metrics.jsonl into one PNG.

    plot_training_curves("runs/grpo/x/metrics.jsonl", "runs/grpo/x/curves.png")

Each panel shows the logged figures that match its patterns (a panel with none is left out):
the reward and its components, the rollouts' answer mix, the KL, and, when the run validated
(`validation.every`), the validation figures per dataset. Per-step training figures are noisy
at a few prompts per step, so they are drawn with a running mean over a tenth of the run; the
validation points, taken every N steps on a fixed sample, are drawn as they are.
"""

from __future__ import annotations

import fnmatch
import json
import math
from pathlib import Path

#: (title, patterns of metric keys, smoothed?)
PANELS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("reward (mean over rollouts)", ("reward/mean", "reward/*/mean"), True),
    ("rollouts' answer mix (polarity; label on label tasks)", ("rollouts/*_share",), True),
    ("update's pull: share of |advantage| per gold answer", ("advantages/share/*",), True),
    ("KL to the reference, entropy", ("kl", "entropy"), True),
    ("training loss", ("loss", "polarity/loss"), True),
    ("held-out loss (SFT)", ("eval/loss",), False),
    (
        "held-out greedy answers (SFT): parse rate, polarity accuracy",
        ("eval/parse_rate", "eval/polarity_accuracy"),
        False,
    ),
    ("valid: Pearson r", ("valid/*/pearson_r",), False),
    ("valid: WAR and UAR (label tasks)", ("valid/*/war", "valid/*/uar"), False),
    ("valid: MAE", ("valid/*/mae",), False),
    ("valid: majority share (polarity; label on label tasks)", ("valid/*/majority_share",), False),
    ("valid: predicted sd / gold sd", ("valid/*/sd_ratio",), False),
    ("valid: quotes grounded, lexicon words named", ("valid/*/citations_grounded_rate", "valid/*/cue_recall"), False),
    ("resident memory after the step, GB", ("memory/resident_gb",), False),
)


def read_metrics(path: str | Path) -> list[dict]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:  # a torn last line of a killed run
                continue
    return rows


def series(rows: list[dict], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of `key`, skipping steps without it and non-finite values."""
    points = [
        (int(r["step"]), float(r[key]))
        for r in rows
        if isinstance(r.get(key), (int, float)) and math.isfinite(float(r[key]))
    ]
    return [s for s, _ in points], [v for _, v in points]


def running_mean(values: list[float], window: int) -> list[float]:
    """Mean of each value and the (window - 1) before it (fewer at the start)."""
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def panels_of(rows: list[dict]) -> list[tuple[str, list[str], bool]]:
    """The `PANELS` that `rows` logged something for: (title, the keys it draws, smoothed?)."""
    keys = sorted({k for r in rows for k in r if k != "step"})
    panels = []
    for title, patterns, smooth in PANELS:
        matched = [k for k in keys if any(fnmatch.fnmatchcase(k, p) for p in patterns)]
        matched = [k for k in matched if "/mean/" not in k or len(matched) == 1]  # datasets, not their mean
        if matched:
            panels.append((title, matched, smooth))
    return panels


def plot_training_curves(metrics_file: str | Path, out: str | Path) -> Path | None:
    """Draw the panels that have data; returns the PNG's path, or None when nothing was logged."""
    rows = read_metrics(metrics_file)
    panels = panels_of(rows)
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 3
    lines = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.0 * lines), squeeze=False)
    window = max(1, len({r["step"] for r in rows}) // 10)
    for ax, (title, matched, smooth) in zip(axes.flat, panels):
        never = []  # keys logged only as NaN (r of answers that never parse): said, not left out silently
        for key in matched:
            steps, values = series(rows, key)
            if not steps:
                never.append(key.removeprefix("valid/").removesuffix("/mean"))
                continue
            shown = running_mean(values, window) if smooth else values
            label = key.removeprefix("valid/").removesuffix("/mean")
            ax.plot(steps, shown, "-" if smooth else "o-", lw=1.0, ms=3, label=label)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
        if never:
            where = (0.5, 0.5) if len(never) == len(matched) else (0.5, 0.05)
            note = "no finite value (NaN at every step):\n" + "\n".join(never[:4]) + ("\n..." if len(never) > 4 else "")
            ax.text(*where, note, transform=ax.transAxes, ha="center", va="center", fontsize=6, color="0.4")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


__all__ = ["PANELS", "panels_of", "plot_training_curves", "read_metrics", "running_mean", "series"]
