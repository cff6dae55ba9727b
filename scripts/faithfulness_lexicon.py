#!/usr/bin/env python
"""Faithfulness of the lexicon teacher's own chains: the reference point for a model's figures.

The lexicon teacher (`emoreason.distill.lexicon`) scores a sentence from the VADER lexicon words
it contains and cites exactly those words, so removing what it cites should move its score, and
the cited words alone should nearly keep it. This runs the same probes `evaluate --faithfulness`
gives a model (`emoreason.metrics.faithfulness`: without the cited words, with them alone, and a
seeded random removal of as many uncited words) on a seeded random sample of a split, with the
teacher answering each probe, and prints the summary.

    .venv/bin/python scripts/faithfulness_lexicon.py --dataset vader:movies --split test --sample 300
"""

from __future__ import annotations

import argparse
import json

from emoreason.data import load_dataset, random_subset
from emoreason.distill.lexicon import analyse_text, render_chain
from emoreason.formats import get_format
from emoreason.metrics.evidence import mark_evidence
from emoreason.metrics.faithfulness import Judgment, build_probes, faithfulness_summary, probe_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="vader:movies")
    parser.add_argument("--split", default="test")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    task, fmt = dataset.task, get_format("c2f")
    samples = random_subset(dataset.split(args.split), args.sample, args.seed)

    def judge(text: str) -> Judgment:
        score = analyse_text(text).score(task) if text.strip() else 0.0
        return Judgment(score=score, polarity=task.score_polarity(score))

    scores = []
    for sample in samples:
        original = judge(sample.text)
        chain = render_chain(analyse_text(sample.text), task, original.polarity, original.score)  # type: ignore[arg-type]
        completion = fmt.render_target(task, reasoning=chain, polarity=original.polarity, score=original.score)
        probes = build_probes(mark_evidence(completion, sample.text), sample.text, seed=f"{args.seed}:{sample.id}")
        if probes is None:
            continue
        without, only, control = (judge(probes.inputs()[name].text) for name in ("without", "only", "random"))
        scores.append(probe_scores(original, without, only, control, regression=True, cited_tokens=probes.cited_tokens))
    summary = faithfulness_summary(scores)
    print(f"{args.dataset} {args.split}, seeded {len(samples)} (seed {args.seed}); {len(scores)} chains cite a word")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
