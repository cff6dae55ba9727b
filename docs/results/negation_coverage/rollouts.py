"""The run's rollouts, ten steps at a time: of the rollouts to prompts whose input negates a lexicon
word, how many name that negation; of all rollouts, how many name a false one; the mean
`negation_coverage` reward.

    .venv/bin/python docs/results/negation_coverage/rollouts.py > docs/results/negation_coverage/rollouts.txt
"""

import json
from collections import defaultdict
from pathlib import Path

from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.valence import negation_coverage, vader_lexicon

RUN = Path(__file__).resolve().parents[3] / "runs" / "negcov"


def main() -> None:
    lexicon = vader_lexicon()
    text = {r["id"]: r["text"] for r in map(json.loads, (RUN / "pool.jsonl").open())}
    blocks = defaultdict(
        lambda: [0, 0, 0, 0, 0.0]
    )  # rollouts, to negated prompts, naming it, naming a false one, reward
    for record in map(json.loads, (RUN / "grpo" / "rollouts.jsonl").open()):
        block = blocks[(record["step"] - 1) // 10]
        source = text[record["id"]]
        coverage = negation_coverage(cue_statements(record["text"]), source, lexicon)
        block[0] += 1
        if negation_coverage([], source, lexicon).expected:
            block[1] += 1
            block[2] += coverage.named_true > 0
        block[3] += coverage.named_false > 0
        block[4] += record["components"]["negation_coverage"]
    for k, (n, negated, named, false, reward) in sorted(blocks.items()):
        print(
            f"steps {10 * k + 1}-{10 * k + 10}: {n} rollouts, {negated} to negated prompts, {named} of them naming the "
            f"negation; {false} naming a false one; mean negation_coverage {reward / n:.3f}"
        )


if __name__ == "__main__":
    main()
