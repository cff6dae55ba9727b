"""run.sh's rule, part by part (A = the shipped default, B = cov40), from the whole-valid-split
answers: (c1) the mean `negation_coverage` reward on the sentences whose input negates a lexicon
word, and over every answer how many negations are named and the share of them that are true; (c2)
acc-3 on those sentences with B - A's paired interval; (v1)-(v2) r and acc-3 per split (`emoreason
compare`'s files); (v3) the mean r over the seeded 200 of each valid split.

    .venv/bin/python docs/results/negation_coverage/valid.py > docs/results/negation_coverage/valid.txt
"""

import json
import sys
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.metrics.bootstrap import paired_difference
from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.valence import check_valences, negation_coverage, vader_lexicon
from emoreason.rewards import negation_coverage_reward

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rl_agreement"))
from table import SHIPPED_MEAN_R, print_pairs, seeded_200_mean_r  # noqa: E402

ROOT = Path(__file__).resolve().parents[3] / "runs" / "negcov"
DOMAINS = ("tweets", "products", "movies")
WHO = ("shipped", "cov40")


def answers(who: str, domain: str) -> dict[str, dict]:
    path = ROOT / "valid" / f"{who}-{domain}-all" / "predictions.jsonl"
    return {r["id"]: r for r in map(json.loads, path.open())}


def main() -> None:
    lexicon = vader_lexicon()
    negated_rows = []  # (gold polarity, A's, B's, A's reward, B's reward, A names a true one, B does)
    named = {who: [0, 0] for who in WHO}  # negations named, of them true
    for domain in DOMAINS:
        dataset = load_dataset(f"vader:{domain}")
        by_who = {who: answers(who, domain) for who in WHO}
        for sample in dataset.split("valid"):
            row = []
            for who in WHO:
                record = by_who[who][sample.id]
                statements = cue_statements("\n".join((record.get("reasoning") or {}).values()))
                check = check_valences(statements, record["polarity"], None, sample.text)
                named[who][0] += check.negations
                named[who][1] += check.negations_supported
                cov = negation_coverage(statements, sample.text, lexicon)
                reward = negation_coverage_reward(cov.named_true, cov.expected, cov.named_false)
                polarity = "" if record["score"] is None else dataset.task.score_polarity(record["score"])
                row.append((polarity, reward, cov.named_true > 0))
            if negation_coverage([], sample.text, lexicon).expected:
                negated_rows.append((dataset.task.score_polarity(sample.score), row))
    n = len(negated_rows)
    print(f"(c1) valid sentences whose input negates a lexicon word (three splits): {n}")
    for k, who in enumerate(WHO):
        rewards = [row[k][1] for _, row in negated_rows]
        true = sum(row[k][2] for _, row in negated_rows)
        share = named[who][1] / named[who][0] if named[who][0] else float("nan")
        print(
            f"  {who:8s} mean negation_coverage {np.mean(rewards):.3f}, answers naming the true negation {true}; "
            f"every answer: {named[who][0]} negations named, {named[who][1]} true ({share:.3f})"
        )
    gold = np.array([g for g, _ in negated_rows])
    pred = [np.array([row[k][0] for _, row in negated_rows]) for k in range(2)]
    d = paired_difference(lambda p, t: float(np.mean(p == t)), pred[0], pred[1], gold)
    print(f"(c2) acc-3 on them: {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    print("(v1), (v2): cov40 - shipped, every valid sentence")
    print_pairs(ROOT, [("valid", f"{d}-all") for d in DOMAINS], ("cov40",), "shipped")
    for who in WHO:
        print(f"(v3) {who}: mean r on the seeded 200 of each valid split {seeded_200_mean_r(ROOT, who)}")
    print(f"(v3) the shipped default, as recorded: {SHIPPED_MEAN_R}")


if __name__ == "__main__":
    main()
