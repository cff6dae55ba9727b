"""The cue classifier's own figures on an evaluate run of the speech adapter: its first choice, read off the
ranking line of each clip's cue text, against the gold label; and how often the adapter's label is that choice.

    .venv/bin/python docs/results/speech_span/first_choice.py runs/speech_span/old_valid runs/speech_span/new_valid
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from emoreason.data import load_dataset

RANKING = re.compile(r"Cue classifier \(fitted on other speakers\): (\w+) ")


def main(runs: list[str]) -> None:
    for run in runs:
        rows = [json.loads(line) for line in (Path(run) / "predictions.jsonl").read_text().splitlines()]
        identity = json.loads((Path(run) / "run.json").read_text())["identity"]
        dataset = load_dataset(identity["dataset"])
        gold = {s.id: s.label for s in dataset.split(identity["split"])}
        first = {r["id"]: RANKING.search(r["cues"]).group(1) for r in rows}
        labels = sorted(set(gold[i] for i in first))
        war = sum(first[i] == gold[i] for i in first) / len(first)
        recall = [
            sum(first[i] == g == gold[i] for i in first) / max(1, sum(gold[i] == g for i in first)) for g in labels
        ]
        follows = sum(r["label"] == first[r["id"]] for r in rows) / len(rows)
        print(
            f"{run}: classifier first choice WAR {war:.3f} UAR {sum(recall) / len(recall):.3f}; "
            f"the adapter's label is that choice on {follows:.3f} ({len(rows)} clips)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
