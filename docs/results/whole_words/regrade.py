"""Grounding before and after quotes had to be whole words of the input (`metrics.grounding.find_cited`).

Each folder is an `emoreason evaluate` run whose records carry the `citations` the code of their day
counted (a quote grounded when it occurred anywhere in the input, "no" inside "anonymous"); this counts
them again with the current rule and prints both rates and the answers whose count changed.

    .venv/bin/python docs/results/whole_words/regrade.py runs/whole_words/free-movies \\
        runs/polarity_sft/valid/sv-movies-all > docs/results/whole_words/regrade.txt

`runs/whole_words/free-movies` is `emoreason evaluate --max-new-tokens 192 --score-readout confidence
--free-quotes -d vader:movies --split valid --sample 200` with the shipped default, made before the change.
"""

import json
import sys
from pathlib import Path

from emoreason.data import load_dataset, quotable_source
from emoreason.metrics.grounding import Citations, citation_grounding, grounding_summary


def main() -> None:
    for folder in map(Path, sys.argv[1:]):
        stored = json.loads((folder / "run.json").read_text())
        identity = stored.get("identity", stored)
        inputs = {sample.id: sample for sample in load_dataset(identity["dataset"], identity["split"])}
        before, after, changed = [], [], []
        for line in (folder / "predictions.jsonl").open():
            record = json.loads(line)
            counted = record.get("citations")
            if not counted:
                continue
            sample = inputs[record["id"]]
            before.append(Citations(counted["cited"], counted["grounded"]))
            now = citation_grounding(record["raw_completion"], quotable_source(sample.text, None))
            after.append(now)
            if now.grounded != counted["grounded"]:
                lost = sorted(set(now.ungrounded) - set(counted["ungrounded"]))
                changed.append(f"  {record['id']}: {', '.join(lost)} in {sample.text[:70]!r}")
        old, new = grounding_summary(before), grounding_summary(after)
        print(
            f"{folder} (quotes {'grounded' if identity.get('ground_quotes') else 'free'} at decode time, "
            f"{len(after)} answers): citations grounded {old['citations_grounded_rate']:.3f} -> "
            f"{new['citations_grounded_rate']:.3f}, answers fully grounded {old['answers_fully_grounded']:.3f} -> "
            f"{new['answers_fully_grounded']:.3f}; {len(changed)} answers counted otherwise"
        )
        print("\n".join(changed))


if __name__ == "__main__":
    main()
