"""The valid sentences of the three VADER domains whose input negates a lexicon word (the ones
`negation_coverage` has something to ask of), as one JSONL file with their own ids and domains, so
that two adapters can be compared on them alone (`valid_short.sh`).

    .venv/bin/python docs/results/negation_coverage/make_negated_valid.py runs/negcov/negated_valid.jsonl
"""

import json
import sys
from pathlib import Path

from emoreason.data import load_dataset
from emoreason.metrics.valence import negation_coverage, vader_lexicon


def main(out: Path) -> None:
    lexicon = vader_lexicon()
    rows = [
        {"id": s.id, "text": s.text, "score": s.score, "split": "valid", "domain": s.domain}
        for d in ("tweets", "products", "movies")
        for s in load_dataset(f"vader:{d}").split("valid")
        if negation_coverage([], s.text, lexicon).expected
    ]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} valid sentences with a negated lexicon word -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
