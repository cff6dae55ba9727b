"""The comparisons out_of_sample.sh and movies_train.sh wrote, one line per pair: each metric A -> B, B - A and its 95%
paired-bootstrap interval (A = SFT 600, B = step 30), and the answers' polarity mix.

    cd docs/results/rl_centred_lr3e5 && ../../../.venv/bin/python out_of_sample_table.py > out_of_sample.txt
"""

import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3] / "runs" / "rl_centred_lr3e5"
PAIRS = {
    "movies test, outside the seeded 300": ("test", "movies-outside300"),
    "tweets valid, all": ("valid", "tweets-all"),
    "products valid, all": ("valid", "products-all"),
    "movies train, seeded 600 (movies_train.sh)": ("train", "movies-train600"),
}
METRICS = ("pearson_r", "mae", "acc_3", "f1_3_weighted", "recall_negative", "recall_neutral", "recall_positive")


def mix(folder: Path) -> str:
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines() if line.strip()]
    answers, gold = Counter(r.get("polarity") for r in rows), Counter(r.get("gold_polarity") for r in rows)
    return " / ".join(f"{answers[p]} ({gold[p]})" for p in ("positive", "negative", "neutral"))


def main() -> None:
    for title, (split, name) in PAIRS.items():
        path = ROOT / split / f"step30-{name}-vs-sft600.json"
        if not path.is_file():
            print(f"{title}: not run")
            continue
        result = json.loads(path.read_text())
        print(f"{title}: n={result['n_shared']}")
        for metric in METRICS:
            m = result["metrics"][metric]
            interval = f"[{m['low']:+.3f}, {m['high']:+.3f}]"
            print(f"  {metric:16s} {m['a']:.3f} -> {m['b']:.3f}  {m['difference']:+.3f} {interval}")
        for who in ("sft600", "step30"):
            print(f"  answers pos / neg / neu (gold), {who}: {mix(ROOT / split / f'{who}-{name}')}")


if __name__ == "__main__":
    main()
