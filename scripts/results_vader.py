#!/usr/bin/env python
"""Turn a finished (or partly finished) VADER recipe run into docs/RESULTS.md tables.

Reads runs/vader_recipe (the output of scripts/reproduce_vader.py), and writes:

- docs/results/vader_recipe/: each evaluation's metrics.json and predictions.jsonl, the
  stage wall times, the distillation statistics, summary.json and training-curve plots;
- the VADER section of docs/RESULTS.md (between its begin/end markers; other sections stay).

Every metric has a 95% percentile-bootstrap interval (1000 resamples, seed 0) over the
evaluated sentences. An unparsed answer counts as the scale midpoint (0), as in `evaluate`.
Systems that have not been evaluated yet are listed as missing, never filled in.

    .venv/bin/python scripts/results_vader.py [--run runs/vader_recipe]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("tweets", "products", "movies")
SYSTEMS = {
    "base": "base model, prompted",
    "sft": "SFT (lexicon-teacher chains)",
    "grpo_nohints": "SFT + GRPO, no hints",
    "grpo_hints": "SFT + Hint-GRPO",
    "grpo_drop": "SFT + GRPO, hard groups dropped",
}
BEGIN, END = "<!-- vader-recipe:begin -->", "<!-- vader-recipe:end -->"


def _f1_3(pred: np.ndarray, gold: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    def polarity(x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0.5, 1, np.where(x <= -0.5, -1, 0))  # VADER task: |score| < 0.5 is neutral

    return float(f1_score(polarity(gold), polarity(pred), labels=[-1, 0, 1], average="weighted", zero_division=0))


def _pearson(pred: np.ndarray, gold: np.ndarray) -> float:
    if np.ptp(pred) == 0 or np.ptp(gold) == 0:
        return float("nan")
    return float(np.corrcoef(pred, gold)[0, 1])


def with_ci(fn: Any, pred: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """The value, its 95% percentile-bootstrap interval, and the share of resamples where the
    metric exists (a correlation carried by a few parsed answers is undefined in many)."""
    from emoreason.metrics.bootstrap import bootstrap_distribution

    stats = bootstrap_distribution(fn, pred, gold, n=1000, seed=0)
    defined = stats[~np.isnan(stats)]
    low, high = np.quantile(defined, [0.025, 0.975]) if defined.size else (float("nan"), float("nan"))
    return {
        "value": float(fn(pred, gold)),
        "low": float(low),
        "high": float(high),
        "defined_share": float(defined.size / stats.size),
    }


def score_system(records: dict[str, dict[str, Any]], samples: list[Any]) -> dict[str, Any]:
    """Metrics with intervals for one system on `samples` (records by id: audit records or
    plain {id, score} predictions)."""
    from emoreason.data.schema import vader_task

    task = vader_task("x")
    gold = np.array([s.score for s in samples], dtype=float)
    scores = [records.get(s.id, {}).get("score") for s in samples]
    pred = np.array([0.0 if v is None else float(v) for v in scores], dtype=float)
    out: dict[str, Any] = {
        "n": len(samples),
        "missing": sum(s.id not in records for s in samples),
        "pearson_r": with_ci(_pearson, pred, gold),
        "mae": with_ci(lambda p, g: float(np.mean(np.abs(p - g))), pred, gold),
        "f1_3_weighted": with_ci(_f1_3, pred, gold),
    }
    if any("parse_ok" in records.get(s.id, {}) for s in samples):
        parsed = np.array([bool(records.get(s.id, {}).get("parse_ok")) for s in samples], dtype=float)
        out["parse_rate"] = with_ci(lambda p, g: float(np.mean(p)), parsed, parsed)
        both = [
            (r["polarity"], r["score"])
            for r in (records.get(s.id, {}) for s in samples)
            if r.get("polarity") and r.get("score") is not None
        ]
        if both:
            agree = np.array([pol == task.score_polarity(float(sc)) for pol, sc in both], dtype=float)
            out["self_consistency"] = with_ci(lambda p, g: float(np.mean(p)), agree, agree)
            out["self_consistency"]["n"] = len(both)
    return out


def read_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[str(row["id"])] = row
    return rows


def cell(metric: dict[str, Any] | None, digits: int = 3) -> str:
    if not metric:
        return "–"
    value, low, high = metric["value"], metric["low"], metric["high"]
    if value is None or value != value:  # NaN, or null as strict JSON writes it
        return "undefined"
    if metric.get("defined_share", 1.0) < 0.95:  # the interval would describe only some resamples
        return f"{value:.{digits}f} (undefined in {1 - metric['defined_share']:.0%} of resamples)"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def plot_curves(run: Path, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    sft_log = run / "sft" / "metrics.jsonl"
    if sft_log.is_file():
        rows = [json.loads(x) for x in sft_log.read_text().splitlines() if x.strip()]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3))
        train = [r for r in rows if "loss" in r]
        axes[0].plot([r["step"] for r in train], [r["loss"] for r in train], label="train loss", lw=0.8)
        evals = [r for r in rows if "eval/loss" in r]
        axes[0].plot([r["step"] for r in evals], [r["eval/loss"] for r in evals], "o-", label="held-out loss")
        axes[0].set_xlabel("SFT step"), axes[0].legend()
        gens = [r for r in rows if "eval/parse_rate" in r]
        for key in ("eval/parse_rate", "eval/polarity_accuracy"):
            axes[1].plot([r["step"] for r in gens], [r.get(key, np.nan) for r in gens], "o-", label=key.split("/")[1])
        axes[1].set_xlabel("SFT step"), axes[1].set_ylim(0, 1.05), axes[1].legend()
        fig.tight_layout()
        fig.savefig(out / "curves_sft.png", dpi=100)
        plt.close(fig)
        made.append("curves_sft.png")
    logs = {v: run / f"grpo_{v}" / "metrics.jsonl" for v in ("hints", "nohints", "drop")}
    logs = {v: p for v, p in logs.items() if p.is_file()}
    if logs:
        keys = [
            ("reward/mean", "reward (total)"),
            ("reward/format/mean", "format reward"),
            ("reward/polarity/mean", "polarity reward"),
            ("reward/score/mean", "score reward"),
            ("groups/hard_rate", "hard-group rate"),
            ("hints/success_rate", "hinted-group success rate"),
        ]
        fig, axes = plt.subplots(2, 3, figsize=(12, 6))
        for ax, (key, title) in zip(axes.flat, keys):
            for variant, path in logs.items():
                rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
                points = [(r["step"], r[key]) for r in rows if key in r]
                if points:
                    steps, values = zip(*points)
                    window = max(1, len(values) // 10)
                    smooth = np.convolve(values, np.ones(window) / window, mode="valid")
                    ax.plot(steps[window - 1 :], smooth, label=variant)
            ax.set_title(title, fontsize=9), ax.set_xlabel("GRPO step")
        axes.flat[0].legend()
        fig.tight_layout()
        fig.savefig(out / "curves_grpo.png", dpi=100)
        plt.close(fig)
        made.append("curves_grpo.png")
    return made


def main() -> int:
    from emoreason.baselines import get_baseline
    from emoreason.data import load_dataset

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "vader_recipe")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    run, out = args.run, args.docs / "results" / "vader_recipe"
    out.mkdir(parents=True, exist_ok=True)

    summary: dict[str, Any] = {"domains": {}}
    for domain in DOMAINS:
        dataset = load_dataset(f"vader:{domain}")
        table: dict[str, Any] = {}
        ids: list[str] | None = None
        for system in SYSTEMS:
            folder = run / "eval" / system / f"{domain}-test"
            if not (folder / "metrics.json").is_file():
                continue
            records = read_jsonl(folder / "predictions.jsonl")
            # the sentences this evaluation ran on (`--limit`: the first N; `--sample`: a seeded random N)
            samples = [s for s in dataset.split("test") if s.id in records]
            ids = ids or [s.id for s in samples]
            table[system] = score_system(records, samples)
            target = out / "eval" / system / f"{domain}-test"
            target.mkdir(parents=True, exist_ok=True)
            for name in ("metrics.json", "predictions.jsonl"):
                shutil.copy(folder / name, target / name)
        if ids is None:
            continue
        samples = [s for s in dataset.split("test") if s.id in set(ids)]
        vader = get_baseline("vader").fit(dataset.split("train"), dataset.task)
        table["vader"] = score_system({s.id: {"score": v} for s, v in zip(samples, vader.predict(samples))}, samples)
        minilm = ROOT / "docs" / "results" / "minilm_ridge" / f"{domain}-test" / "predictions.jsonl"
        if minilm.is_file():
            table["minilm_ridge"] = score_system(read_jsonl(minilm), samples)
        test_ids = [s.id for s in dataset.split("test")]
        table["_subset"] = f"the first {len(ids)}" if ids == test_ids[: len(ids)] else f"a seeded random {len(ids)}"
        gold = [dataset.task.score_polarity(s.score) for s in samples]
        table["_polarity"] = {p: gold.count(p) for p in ("positive", "neutral", "negative")}
        summary["domains"][domain] = table
    for name in ("stages.json", "best.json"):
        if (run / name).is_file():
            shutil.copy(run / name, out / name)
            summary[name.split(".")[0]] = json.loads((run / name).read_text())
    if (run / "distill" / "stats.json").is_file():
        shutil.copy(run / "distill" / "stats.json", out / "distill_stats.json")
        summary["distill"] = json.loads((run / "distill" / "stats.json").read_text())
    summary["plots"] = plot_curves(run, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    names = {
        **SYSTEMS,
        "vader": "VADER lexicon (no explanation)",
        "minilm_ridge": "MiniLM embeddings + ridge (no explanation)",
    }
    lines = [
        BEGIN,
        "## VADER sentences: C2F recipe (issue 8)",
        "",
        "Generated by `scripts/results_vader.py` from the run of `scripts/reproduce_vader.sh`; raw outputs in "
        "`docs/results/vader_recipe/`. 95% bootstrap intervals in brackets. Models are trained on the tweets + "
        "products train splits; movies is out of domain.",
        "",
    ]
    for domain, table in summary["domains"].items():
        counts = ", ".join(f"{n} {p}" for p, n in table["_polarity"].items())
        lines += [
            f"### {domain} (test: {table['_subset']} sentences; gold {counts})",
            "",
            "| system | Pearson r | MAE | F1-3 (weighted) | parse rate | polarity/score self-consistency |",
            "|---|---|---|---|---|---|",
        ]
        for system, label in names.items():
            m = table.get(system)
            if m is None:
                lines.append(f"| {label} | not run yet | | | | |")
                continue
            lines.append(
                f"| {label} | {cell(m['pearson_r'])} | {cell(m['mae'])} | {cell(m['f1_3_weighted'])} | "
                f"{cell(m.get('parse_rate'))} | {cell(m.get('self_consistency'))} |"
            )
        lines.append("")
    if "stages" in summary:
        lines += ["### Wall time per stage", "", "| stage | seconds |", "|---|---|"]
        lines += [f"| {s['stage']} | {s['seconds']:.0f} |" for s in summary["stages"]["stages"]]
        lines.append("")
    for plot in summary["plots"]:
        lines += [f"![{plot}](results/vader_recipe/{plot})", ""]
    lines.append(END)

    results = args.docs / "RESULTS.md"
    text = (
        results.read_text()
        if results.is_file()
        else "# Results\n\nEvery figure here comes from a run whose outputs are committed under `docs/results/`.\n"
    )
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + "\n".join(lines) + tail
    else:
        text = text.rstrip() + "\n\n" + "\n".join(lines) + "\n"
    results.write_text(text)
    print(f"wrote {results} and {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
