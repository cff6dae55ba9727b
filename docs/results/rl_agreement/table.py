"""run.sh's, run60.sh's and test.sh's comparisons (A = SFT 600, B = step 30 or 60 of the agreement
run), one block per pair: each metric A -> B, B - A and its 95% paired-bootstrap interval; and rule
(v3), the mean r over the seeded 200 of each valid split (`evaluate --sample 200 --seed 0`'s
sentences), read from the whole-split answers. Its two functions also print other experiments'
tables (`negation_sft/table.py`).

    cd docs/results/rl_agreement && ../../../.venv/bin/python table.py > table.txt
"""

import json
from pathlib import Path

from emoreason.data import load_dataset, random_subset
from emoreason.eval.predictions import read_predictions, score_samples

ROOT = Path(__file__).resolve().parents[3] / "runs" / "rl_agreement"
PAIRS = [("valid", "tweets-all"), ("valid", "products-all"), ("valid", "movies-all")]
PAIRS += [("test", "movies-outside300"), ("test", "tweets-all"), ("test", "products-all")]
CANDIDATES = ("step30", "step60")
METRICS = ("pearson_r", "mae", "acc_3", "recall_negative", "recall_neutral", "recall_positive")
#: the shipped default's mean r on the seeded 200 of each valid split (RESULTS, "16 prompts a step")
SHIPPED_MEAN_R = 0.7946


def seeded_200_mean_r(root: Path, who: str) -> str:
    values = []
    for domain in ("tweets", "products", "movies"):
        path = root / "valid" / f"{who}-{domain}-all" / "predictions.jsonl"
        if not path.is_file():
            return "not run"
        dataset = load_dataset(f"vader:{domain}")
        samples = random_subset(dataset.split("valid"), 200, 0)
        predictions, _ = read_predictions(path)
        values.append(score_samples(samples, predictions, dataset.task, "c2f")["pearson_r"])
    shown = " / ".join(f"{v:.4f}" for v in values)
    return f"{sum(values) / len(values):.4f} ({shown}; tweets / products / movies)"


def print_pairs(root: Path, pairs: list[tuple[str, str]], candidates: tuple[str, ...], baseline: str) -> None:
    """Each `{root}/{split}/{candidate}-{name}-vs-{baseline}.json` of `emoreason compare`, in turn."""
    for (split, name), step in ((pair, step) for step in candidates for pair in pairs):
        path = root / split / f"{step}-{name}-vs-{baseline}.json"
        if not path.is_file():
            print(f"{step}, {split} {name}: not run")
            continue
        result = json.loads(path.read_text())
        print(f"{step}, {split} {name}: n={result['n_shared']}")
        for metric in METRICS:
            m = result["metrics"][metric]
            interval = f"[{m['low']:+.3f}, {m['high']:+.3f}]"
            print(f"  {metric:16s} {m['a']:.3f} -> {m['b']:.3f}  {m['difference']:+.3f} {interval}")


def main() -> None:
    print_pairs(ROOT, PAIRS, CANDIDATES, "sft600")
    for who in ("sft600", *CANDIDATES):
        print(f"(v3) {who}: mean r on the seeded 200 of each valid split {seeded_200_mean_r(ROOT, who)}")
    print(f"(v3) the shipped default: {SHIPPED_MEAN_R}")


if __name__ == "__main__":
    main()
