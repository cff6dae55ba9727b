"""The `negation_coverage` reward of each answer in evaluate runs on sentences of a JSONL file (its
`text` field): how often the answers name the negation the input applies to a lexicon word (reward
1), leave it out (0), or name a false one. Per run: answers, mean reward, share at 1, share at 0,
answers naming a true / a false negation, acc-3.

    .venv/bin/python docs/results/negation_coverage/coverage.py runs/negcov/probe.jsonl RUN...
"""

import json
import sys
from pathlib import Path

from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.valence import negation_coverage, vader_lexicon
from emoreason.rewards import negation_coverage_reward


def band(score: float) -> str:
    return "positive" if score >= 0.5 else "negative" if score <= -0.5 else "neutral"


def main(source: Path, runs: list[Path]) -> None:
    texts = {r["id"]: r["text"] for r in map(json.loads, source.open())}
    lexicon = vader_lexicon()
    for run in runs:
        rewards, true_named, false_named, right = [], 0, 0, 0
        records = [json.loads(line) for line in (run / "predictions.jsonl").open()]
        for record in records:
            chain = "\n".join((record.get("reasoning") or {}).values())
            cov = negation_coverage(cue_statements(chain), texts[record["id"]], lexicon)
            rewards.append(negation_coverage_reward(cov.named_true, cov.expected, cov.named_false))
            true_named += cov.named_true > 0
            false_named += cov.named_false > 0
            right += record["score"] is not None and band(record["score"]) == band(record["gold_score"])
        n = len(records)
        print(
            f"{run}: {n} answers, mean reward {sum(rewards) / n:.3f}, at 1 {sum(r == 1 for r in rewards) / n:.3f}, "
            f"at 0 {sum(r == 0 for r in rewards) / n:.3f}; naming a true negation {true_named}, a false one "
            f"{false_named}; acc-3 {right / n:.3f}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
