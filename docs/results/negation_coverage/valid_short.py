"""valid_short.sh's rule, part by part (A = the shipped default, B = cov40), on the 142 valid
sentences whose input negates a lexicon word: (c1) each one's mean `negation_coverage` reward, the
answers naming the true negation, and the negations named with the share of them that are true;
(c2) acc-3 with B - A's paired interval, also per domain; (v3) cov40's mean r over the seeded 200
of each valid split.

    .venv/bin/python docs/results/negation_coverage/valid_short.py > docs/results/negation_coverage/valid_short.txt
"""

import json
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset, random_subset
from emoreason.eval.predictions import read_predictions, score_samples
from emoreason.metrics.bootstrap import paired_difference
from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.valence import check_valences, negation_coverage, vader_lexicon
from emoreason.rewards import negation_coverage_reward

ROOT = Path(__file__).resolve().parents[3] / "runs" / "negcov"
WHO = ("shipped", "cov40")
SHIPPED_MEAN_R = 0.7946  # RESULTS, "16 prompts a step": the shipped default, confidence readout


def band(score: float | None) -> str:
    return "" if score is None else "positive" if score >= 0.5 else "negative" if score <= -0.5 else "neutral"


def negated_part() -> None:
    lexicon = vader_lexicon()
    sentences = {r["id"]: r for r in map(json.loads, (ROOT / "negated_valid.jsonl").open())}
    answers = {
        who: {r["id"]: r for r in map(json.loads, (ROOT / "negated" / who / "predictions.jsonl").open())} for who in WHO
    }
    ids = [i for i in sentences if all(i in answers[who] for who in WHO)]
    print(f"(c1) the valid sentences whose input negates a lexicon word, answered by both: {len(ids)}")
    polarities = {}
    for who in WHO:
        rewards, naming, named, true = [], 0, 0, 0
        for i in ids:
            record, text = answers[who][i], sentences[i]["text"]
            statements = cue_statements("\n".join((record.get("reasoning") or {}).values()))
            coverage = negation_coverage(statements, text, lexicon)
            rewards.append(negation_coverage_reward(coverage.named_true, coverage.expected, coverage.named_false))
            naming += coverage.named_true > 0
            check = check_valences(statements, record["polarity"], None, text)
            named, true = named + check.negations, true + check.negations_supported
        polarities[who] = np.array([band(answers[who][i]["score"]) for i in ids])
        share = f"{true / named:.3f}" if named else "n/a"
        print(
            f"  {who:8s} mean negation_coverage {np.mean(rewards):.3f}; answers naming the true negation {naming}; "
            f"negations named {named}, true {true} ({share})"
        )
    gold = np.array([band(sentences[i]["score"]) for i in ids])
    domains = np.array([sentences[i]["domain"] for i in ids])
    print("(c2) acc-3, cov40 - shipped, 1,000 paired resamples")
    for domain in ("all", "tweets", "products", "movies"):
        keep = np.ones(len(ids), bool) if domain == "all" else domains == domain
        d = paired_difference(
            lambda p, t: float(np.mean(p == t)), polarities["shipped"][keep], polarities["cov40"][keep], gold[keep]
        )
        print(
            f"  {domain:8s} n={keep.sum():3d} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]"
        )


def seeded_200_part() -> None:
    values = []
    for domain, folder in (
        ("tweets", "cov40-tweets-all"),
        ("products", "cov40-products-200"),
        ("movies", "cov40-movies-200"),
    ):
        dataset = load_dataset(f"vader:{domain}")
        samples = random_subset(dataset.split("valid"), 200, 0)
        predictions, _ = read_predictions(ROOT / "valid" / folder / "predictions.jsonl")
        values.append(score_samples(samples, predictions, dataset.task, "c2f")["pearson_r"])
    shown = " / ".join(f"{v:.4f}" for v in values)
    print(
        f"(v3) cov40: mean r on the seeded 200 of each valid split {np.mean(values):.4f} ({shown}; tweets / products "
        f"/ movies); the shipped default, as recorded: {SHIPPED_MEAN_R}"
    )


if __name__ == "__main__":
    negated_part()
    seeded_200_part()
