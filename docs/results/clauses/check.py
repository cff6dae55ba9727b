"""Do the product's answers name a modifier only where the lexicon teacher would, and give it no number?
Read by run.sh, after full_lists/check.py has printed the list and number figures of the same answers.

    check.py OLD NEW SPLIT -> for each VADER domain, the answers in OLD/SPLIT-<domain> against those in
                              NEW/SPLIT-<domain> (the same sentences)

A modifier clause is a list item's number followed by `, <word> by "<modifier>"` (the teacher writes
`strengthened by`; students also `boosted by`, `supported by`); `negated by` is the negation rules' and is
left out. Per clause, old -> new: how many there are (and how many say `strengthened by`), the share naming
the teacher's modifier (a VADER booster standing right before the item's word in the input:
`metrics.valence.cue_boosters`), and how many give the modifier a number.
"""

import re
import sys
from pathlib import Path

from emoreason.data import load_dataset
from emoreason.eval.compare import read_run
from emoreason.generation.chain_text import cue_key
from emoreason.metrics.valence import cue_boosters

DOMAINS = ("tweets", "products", "movies")
_CLAUSE = re.compile(
    r'"([^"\n]+)"[ \t]*\([+-]?[\d.]+\)[ \t]*,[ \t]*([A-Za-z]+) by[ \t]*"([^"\n]*)"([ \t]*\([+-]?[\d.]+\))?'
)


def clauses(completion: str, source: str) -> list[tuple[str, bool, bool]]:
    """(the verb, whether the modifier is the teacher's, whether it has a number) per modifier clause of the
    chain's text part."""
    boosters = cue_boosters(source)
    text_part = completion.partition("Combined:")[0]
    return [
        (m.group(2), m.group(3).lower() in boosters.get(cue_key(m.group(1)), ()), m.group(4) is not None)
        for m in _CLAUSE.finditer(text_part)
        if m.group(2) != "negated"
    ]


def compare(old_runs: str, new_runs: str, split: str) -> None:
    for domain in DOMAINS:
        text = {s.id: s.source for s in load_dataset(f"vader:{domain}").split(split)}
        figures = []
        for runs in (old_runs, new_runs):
            rows, _ = read_run(Path(runs) / f"{split}-{domain}")
            found = [c for i, row in rows.items() for c in clauses(row["raw_completion"], text[i])]
            figures.append(
                {
                    "clauses": len(found),
                    "strengthened": sum(verb == "strengthened" for verb, _, _ in found),
                    "teachers": sum(ok for _, ok, _ in found),
                    "numbered": sum(number for _, _, number in found),
                    "answers": sum(bool(clauses(row["raw_completion"], text[i])) for i, row in rows.items()),
                }
            )
        a, b = figures
        print(
            f"{domain} {split}: modifier clauses {a['clauses']} -> {b['clauses']} (in {a['answers']} -> "
            f"{b['answers']} answers; `strengthened by` {a['strengthened']} -> {b['strengthened']}), naming the "
            f"teacher's booster {a['teachers']} -> {b['teachers']} (share "
            f"{a['teachers'] / max(1, a['clauses']):.3f} -> {b['teachers'] / max(1, b['clauses']):.3f}), with a "
            f"number {a['numbered']} -> {b['numbered']}"
        )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    compare(*sys.argv[1:])
