"""run.sh's rule, read off its answers (written before any of them existed).

h_s = r(hints, seed s) - r(no hints, seed s) on the 761 movies test sentences outside the seeded 300,
each with the paired interval `emoreason compare` prints; the mean of h_1..h_3 with one paired
bootstrap (the same 1,000 resamples of the sentences for every seed). "Hints > no hints" reproduces
iff that mean's interval lies above 0. Beside it, as description: each no-hints seed against SFT 600,
and their mean. With fewer than three no-hints seeds answered it prints the pairs it has and no verdict.

    .venv/bin/python docs/results/rl_nohints_seeds/analyze.py
"""

from pathlib import Path

import numpy as np

from emoreason.eval.compare import compare_runs, read_run, regression_metric_fns, usable_score
from emoreason.metrics.bootstrap import paired_difference
from emoreason.train.curves import read_metrics

HINTS = Path("runs/rl_seeds/test")  # sft600-, s1-, s2-, s3-movies-outside300 (docs/results/rl_seeds)
NO_HINTS = Path("runs/rl_nohints_seeds/test")  # n1-, n2-, n3-movies-outside300
NAME = "movies-outside300"
SEEDS = (1, 2, 3)


def scores(folder: Path) -> tuple[dict[str, float], dict[str, float], object]:
    """{id: score as the metrics count it}, {id: gold}, task."""
    records, task = read_run(folder)
    gold = {i: r["gold_score"] for i, r in records.items()}
    return {i: usable_score(r, task) for i, r in records.items()}, gold, task


def interval(d: dict) -> str:
    return f"{d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def mean_of_seeds(a_runs: list[Path], b_runs: list[Path]):
    """mean over seeds of r(b_s) - r(a_s), one paired bootstrap over the shared sentences."""
    read = [scores(f) for f in a_runs + b_runs]
    ids = sorted(set.intersection(*(set(s) for s, _, _ in read)))
    gold = np.array([read[0][1][i] for i in ids])
    columns = np.array([[s[i] for i in ids] for s, _, _ in read]).T  # sentences x runs
    k = len(a_runs)
    r = regression_metric_fns(read[0][2])["pearson_r"]

    def mean_r(pred: np.ndarray, true: np.ndarray) -> float:
        return float(np.mean([r(pred[:, j], true) for j in range(pred.shape[1])]))

    return paired_difference(mean_r, columns[:, :k], columns[:, k:], gold, n=1000, seed=0), len(ids)


def shown(found) -> str:
    d, n = found
    return f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}] (n={n})"


def answer_mix(folder: Path) -> str:
    """The answers' polarity tags on the sentences: positive / negative / neutral / none."""
    records, _ = read_run(folder)
    tags = [r.get("polarity") for r in records.values()]
    return " / ".join(str(sum(t == p for t in tags)) for p in ("positive", "negative", "neutral", None))


def training(metrics: Path) -> str:
    """Reward (steps 1-10 -> 51-60), rollouts' negative / neutral share (51-60), hinted groups, KL at the end."""
    rows = [r for r in read_metrics(metrics) if "loss" in r]

    def mean(key: str, first: int, last: int) -> float:
        return float(np.mean([r[key] for r in rows if first <= r["step"] <= last]))

    return (
        f"reward {mean('reward/mean', 1, 10):.3f} -> {mean('reward/mean', 51, 60):.3f}, "
        f"rollouts negative / neutral {mean('rollouts/negative_share', 51, 60):.3f} / "
        f"{mean('rollouts/neutral_share', 51, 60):.3f}, hinted groups {sum(r['hints/groups'] for r in rows):.0f}, "
        f"KL at step {rows[-1]['step']} {rows[-1]['kl']:.3f}"
    )


def describe(done: list[int]) -> None:
    print("description: answers positive / negative / neutral / unparsed on the sentences (gold 356 / 363 / 42)")
    print(f"  SFT 600: {answer_mix(HINTS / f'sft600-{NAME}')}")
    for s in done:
        print(
            f"  seed {s}: hints {answer_mix(HINTS / f's{s}-{NAME}')}; no hints {answer_mix(NO_HINTS / f'n{s}-{NAME}')}"
        )
    print("description: training")
    for s in done:
        print(f"  seed {s} hints:    {training(Path(f'docs/results/rl_seeds/metrics_s{s}.jsonl'))}")
        print(f"  seed {s} no hints: {training(Path(f'docs/results/rl_nohints_seeds/metrics_n{s}.jsonl'))}")


def main() -> None:
    done = [s for s in SEEDS if (NO_HINTS / f"n{s}-{NAME}" / "predictions.jsonl").is_file()]
    print(f"no-hints seeds answered: {done}")
    for s in done:
        hinted, plain = HINTS / f"s{s}-{NAME}", NO_HINTS / f"n{s}-{NAME}"
        h = compare_runs(plain, hinted)["metrics"]
        print(f"seed {s}: h = hints - no hints: r {interval(h['pearson_r'])}, MAE {interval(h['mae'])}")
        n = compare_runs(HINTS / f"sft600-{NAME}", plain)["metrics"]
        print(f"        no hints - SFT 600: r {interval(n['pearson_r'])}, MAE {interval(n['mae'])}")
    if not done:
        return
    hinted = [HINTS / f"s{s}-{NAME}" for s in done]
    plain = [NO_HINTS / f"n{s}-{NAME}" for s in done]
    h = mean_of_seeds(plain, hinted)
    print(f"mean of h over seeds {done}: {shown(h)}")
    start = [HINTS / f"sft600-{NAME}"] * len(done)
    print(f"mean of (no hints - SFT 600) over seeds {done}: {shown(mean_of_seeds(start, plain))}")
    describe(done)
    if len(done) < len(SEEDS):
        print("fewer than three seeds: no verdict (run.sh)")
        return
    print(f"rule: 'hints > no hints' {'reproduces' if h[0].low > 0 else 'does not reproduce'} at this scale")


if __name__ == "__main__":
    main()
