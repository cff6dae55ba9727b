"""The cue classifier's own figures: its first choice, read off the ranking line of each clip's cue text,
against the gold label. For an evaluate run of the speech adapter, also how often the adapter's label is that
choice; for a dataset spec with `classifier=` (`SPEC@SPLIT`), no model is run.

    .venv/bin/python docs/results/speech_span/first_choice.py runs/speech_span/old_valid runs/speech_span/new_valid
    .venv/bin/python docs/results/speech_span/first_choice.py 'ravdess:DIR?cues=only&classifier=CLS.json@valid'
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from emoreason.data import load_dataset

RANKING = re.compile(r"Cue classifier \(fitted on other speakers\): (\w+) ")


def figures(first: dict[str, str], gold: dict[str, str | None]) -> str:
    labels = sorted({str(gold[i]) for i in first})
    war = sum(first[i] == gold[i] for i in first) / len(first)
    recall = [sum(first[i] == g == gold[i] for i in first) / max(1, sum(gold[i] == g for i in first)) for g in labels]
    return f"classifier first choice WAR {war:.3f} UAR {sum(recall) / len(recall):.3f} ({len(first)} clips)"


def main(sources: list[str]) -> None:
    for source in sources:
        if "@" in source:  # a spec and its split: the classifier alone
            spec, split = source.rsplit("@", 1)
            samples = load_dataset(spec).split(split)
            first = {s.id: RANKING.search(s.cues or "").group(1) for s in samples}  # type: ignore[union-attr]
            print(f"{source}: {figures(first, {s.id: s.label for s in samples})}")
            continue
        rows = [json.loads(line) for line in (Path(source) / "predictions.jsonl").read_text().splitlines()]
        identity = json.loads((Path(source) / "run.json").read_text())["identity"]
        gold = {s.id: s.label for s in load_dataset(identity["dataset"]).split(identity["split"])}
        first = {r["id"]: RANKING.search(r["cues"]).group(1) for r in rows}  # type: ignore[union-attr]
        follows = sum(r["label"] == first[r["id"]] for r in rows) / len(rows)
        print(f"{source}: {figures(first, gold)}; the adapter's label is that choice on {follows:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
