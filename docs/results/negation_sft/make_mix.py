"""The continuation's training file: every kept lexicon-teacher chain once, and the chains that
apply VADER's negation rule (`negated by` in the answer) COPIES times in all.

The student writes "negated by" on 1 of 791 tweets and products valid answers although 190 of the
3,053 kept chains (6.2%) do; this raises their share of the stream to about a quarter.

    .venv/bin/python docs/results/negation_sft/make_mix.py runs/distill/vader_lexicon/sft.jsonl \
        runs/negation_sft/mix.jsonl
"""

import json
import sys
from pathlib import Path

COPIES = 5


def is_negation_chain(record: dict) -> bool:
    return any(m["role"] == "assistant" and "negated by" in m["content"] for m in record["messages"])


def main(source: Path, target: Path) -> None:
    records = [json.loads(line) for line in source.open()]
    negation = [r for r in records if is_negation_chain(r)]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w") as out:
        for record in records + negation * (COPIES - 1):
            out.write(json.dumps(record) + "\n")
    total = len(records) + len(negation) * (COPIES - 1)
    print(
        f"{len(records)} chains, {len(negation)} with a negation; {total} lines, "
        f"{len(negation) * COPIES / total:.3f} of them negation chains -> {target}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
