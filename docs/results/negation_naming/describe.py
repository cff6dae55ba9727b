"""What `--name-negations` changed in P2's chains on the three valid splits (run.sh's rule, part 3).

    .venv/bin/python docs/results/negation_naming/describe.py > docs/results/negation_naming/describe.txt

Per split: answers whose completion changed, polarity changes (must be 0), and every cue a chain states
a number for that the input negates by VADER's rule, counted as named (and whether the input supports
the named negation: `metrics.valence.negation_supported`), unnamed against its list (the case the
option completes), or unnamed in the list of its own sign (left alone by design); then the share of
answers whose polarity agrees with their chain's stated cues (metrics.json, `valence_judgment_agreement`).
"""

import json
from collections import Counter
from pathlib import Path

from emoreason.data.base import load_dataset
from emoreason.eval.compare import read_run
from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.valence import negated_words, negation_supported, vader_words

VALID = Path("runs/polarity_sft/valid")
KINDS = ("named, supported", "named, not supported", "unnamed, against its list", "unnamed, in its own list")


def kinds(completion: str, source: str) -> Counter:
    words, negated = vader_words(source.lower()), negated_words(source)
    found: Counter = Counter()
    for s in cue_statements(completion):
        if s.negated_by is not None:
            found[KINDS[0] if negation_supported(s.quote, s.negated_by, words) else KINDS[1]] += 1
        elif s.stated is not None and s.quote.lower() in negated and s.listed is not None and s.stated != 0:
            found[KINDS[2] if (s.stated > 0) != (s.listed > 0) else KINDS[3]] += 1
    return found


def agreement(who: str, domain: str) -> float:
    metrics = json.loads((VALID / f"{who}-{domain}-all" / "metrics.json").read_text())
    return metrics["rows"]["model"]["valence_judgment_agreement"]


def main() -> None:
    for domain in ("tweets", "products", "movies"):
        sources = {s.id: s.source for s in load_dataset(f"vader:{domain}").split("valid")}
        runs = {who: read_run(VALID / f"{who}-{domain}-all")[0] for who in ("p2", "p2nn")}
        ids = sorted(runs["p2"])
        changed = [i for i in ids if runs["p2"][i]["raw_completion"] != runs["p2nn"][i]["raw_completion"]]
        flips = sum(runs["p2"][i]["polarity"] != runs["p2nn"][i]["polarity"] for i in ids)
        print(f"{domain} ({len(ids)}): {len(changed)} completions changed, {flips} polarities changed")
        for who in ("p2", "p2nn"):
            total = sum((kinds(runs[who][i]["raw_completion"], sources[i]) for i in ids), Counter())
            print(f"  {who:5} negated cues: " + "; ".join(f"{k} {total[k]}" for k in KINDS))
        print(
            f"  polarity agrees with the chain's cues: {agreement('p2', domain):.3f} -> {agreement('p2nn', domain):.3f}"
        )
        for i in changed[:2]:
            after = runs["p2nn"][i]["raw_completion"].split("<think>")[-1].split("</think>")[0].strip()
            print(f"  e.g. {i} {sources[i]!r}\n    -> {after!r}")


if __name__ == "__main__":
    main()
