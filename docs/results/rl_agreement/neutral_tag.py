"""Where the lr 3e-5 run's in-domain acc-3 went: answers' polarity tags against the band of their own
scores, on the whole tweets and products valid splits (SFT 600 and the lr 3e-5 run's step 30, both
rebuilt; the agreement run's steps 30 and 60; the shipped default). acc-3 and every score metric
read the score, so a "neutral" tag over a score of -1.2 counts as negative.

    cd docs/results/rl_agreement && ../../../.venv/bin/python neutral_tag.py > neutral_tag.txt
"""

import json
from collections import Counter
from pathlib import Path

from emoreason.data import load_dataset

ROOT = Path(__file__).resolve().parents[3] / "runs"
#: who -> the folder of its answers on a domain's whole valid split
RUNS = {
    "sft600": "rl_centred_lr3e5/valid/sft600-{domain}-all",
    "step30 (lr 3e-5)": "rl_centred_lr3e5/valid/step30-{domain}-all",
    "step30 (agreement)": "rl_agreement/valid/step30-{domain}-all",
    "step60 (agreement)": "rl_agreement/valid/step60-{domain}-all",
    "the shipped default (lr 1e-5, step 60)": "default_valid/{domain}-all",
}
SHORT = {"positive": "pos", "negative": "neg", "neutral": "neu", None: "none"}


def main() -> None:
    for domain in ("tweets", "products"):
        dataset = load_dataset(f"vader:{domain}")
        task = dataset.task
        gold = {s.id: task.score_polarity(s.score) for s in dataset.split("valid")}
        for who, folder in RUNS.items():
            path = ROOT / folder.format(domain=domain) / "predictions.jsonl"
            if not path.is_file():
                print(f"{domain} {who}: {path} missing")
                continue
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            by_tag, by_score, odd = Counter(), Counter(), []
            for row in rows:
                band = None if row["score"] is None else task.score_polarity(row["score"])
                by_tag[gold[row["id"]], row["polarity"]] += 1
                by_score[gold[row["id"]], band] += 1
                if row["polarity"] and band and band != row["polarity"]:
                    odd.append(f"{row['polarity']} {row['score']:+.1f}")
            print(f"{domain} valid, {who}: {len(rows)} answers; tag != own score's band: {len(odd)} {Counter(odd)}")
            for name, table in (("tag", by_tag), ("score band", by_score)):
                right = sum(n for (g, p), n in table.items() if g == p)
                cells = " ".join(f"{SHORT[g]}>{SHORT[p]} {n}" for (g, p), n in sorted(table.items(), key=str))
                print(f"  gold>{name}: acc-3 {right / len(rows):.3f}  {cells}")


if __name__ == "__main__":
    main()
