"""What does the rationalized teacher's sentence do to the combined part of the product's answers? Read by
run.sh, after full_lists/check.py has printed the list and number figures of the same answers.

    check.py OLD NEW SPLIT -> for each VADER domain, the answers in OLD/SPLIT-<domain> against those in
                              NEW/SPLIT-<domain> (the same sentences)

The figures, each old -> new:
- answers whose own numbers weigh against their polarity: the side the text part's stated numbers weigh to
  (`metrics.valence.balance_lean`, over the numbers `generation.chain_text.chain_balance` sums) is not the
  polarity the answer opened with; and of them, the share whose combined part says so (holds the
  sentence `chain_rationale` gives for that polarity);
- answers holding the sentence where their numbers do not weigh against their polarity, or holding it more
  than once (neither should happen);
- verdict agreement: among combined parts with an "Overall the sentiment is ... X" verdict, the share whose
  X is the answer's polarity; and the share of combined parts with such a verdict;
- among the answers that say so: the written number's sign against the polarity (a number of the other
  sign or 0 on a positive or negative answer), the mean written number's move, the mean tokens;
- the shipped line's absolute error on the answers that say so, old -> new, paired, with its interval.
"""

import re
import sys
from pathlib import Path

import numpy as np

from emoreason.eval.compare import read_run, usable_score
from emoreason.formats.readout import ScoreFit
from emoreason.generation.chain_text import chain_rationale
from emoreason.inference import with_fitted_score
from emoreason.metrics.bootstrap import paired_difference

DOMAINS = ("tweets", "products", "movies")
LINE = Path("src/emoreason/resources/default_adapter/score_fit.json")
_VERDICT = re.compile(r"Overall the sentiment is (?:\w+ )?(positive|negative|neutral)\b")
_RATIONALE_START = "The lexicon alone leans"


def rationale(completion: str, polarity: str | None) -> str | None:
    """The sentence grounded quoting writes in this chain's combined part (`chain_rationale`: its numbers,
    modifiers left out, weigh to another side than its polarity); None where it writes none or the chain
    has no combined part."""
    text_part, found, _ = completion.partition("Combined:")
    if not found or polarity is None:
        return None
    return chain_rationale(text_part, polarity)


def reading(row: dict) -> dict:
    """One answer's combined-part facts."""
    completion, polarity = row["raw_completion"], row["polarity"]
    combined = completion.partition("Combined:")[2]
    owed = rationale(completion, polarity)
    verdict = _VERDICT.search(combined)
    written = row.get("written_score")
    return {
        "against": owed is not None,
        "says": owed is not None and owed in combined,
        "stray": combined.count(_RATIONALE_START) > int(owed is not None),
        "verdict": None if verdict is None else verdict.group(1) == polarity,
        "has_verdict": None if "Combined:" not in completion else verdict is not None,
        "written": written,
        "sign_off": written is not None
        and polarity in ("positive", "negative")
        and (written <= 0 if polarity == "positive" else written >= 0),
        "tokens": row["completion_tokens"],
    }


def compare(old_runs: str, new_runs: str, split: str) -> None:
    line = ScoreFit.load(LINE)
    for domain in DOMAINS:
        old, task = read_run(Path(old_runs) / f"{split}-{domain}")
        new, _ = read_run(Path(new_runs) / f"{split}-{domain}")
        ids = sorted(old)
        assert sorted(new) == ids, f"{domain}: the two runs do not answer the same sentences"
        a, b = ({i: reading(rows[i]) for i in ids} for rows in (old, new))
        saying = [i for i in ids if b[i]["says"]]

        def share(facts: dict, key: str, among: list[str]) -> str:
            values = [facts[i][key] for i in among if facts[i][key] is not None]
            return f"{np.mean(values):.3f}" if values else "n/a"

        against = [[i for i in ids if facts[i]["against"]] for facts in (a, b)]
        print(
            f"{domain} {split} ({len(ids)} answers): weighing against their polarity {len(against[0])} -> "
            f"{len(against[1])}, saying so {share(a, 'says', against[0])} -> {share(b, 'says', against[1])}; "
            f"the sentence where it does not belong or twice {sum(a[i]['stray'] for i in ids)} -> "
            f"{sum(b[i]['stray'] for i in ids)}; verdict agreement {share(a, 'verdict', ids)} -> "
            f"{share(b, 'verdict', ids)}; combined parts with a verdict {share(a, 'has_verdict', ids)} -> "
            f"{share(b, 'has_verdict', ids)}"
        )
        if not saying:
            continue
        moves = [b[i]["written"] - a[i]["written"] for i in saying if None not in (a[i]["written"], b[i]["written"])]
        gold = np.array([float(old[i]["gold_score"]) for i in saying])
        shown = [
            np.array([usable_score(with_fitted_score(rows[i], line, task), task) for i in saying])
            for rows in (old, new)
        ]
        mae = paired_difference(lambda p, g: float(np.mean(np.abs(p - g))), *shown, gold)
        print(
            f"  the {len(saying)} saying so: written number of the other sign or 0 "
            f"{sum(a[i]['sign_off'] for i in saying)} -> {sum(b[i]['sign_off'] for i in saying)}; written number "
            f"moved {np.mean(moves):+.3f} on average (mean |move| {np.mean(np.abs(moves)):.3f}); mean tokens "
            f"{np.mean([a[i]['tokens'] for i in saying]):.1f} -> {np.mean([b[i]['tokens'] for i in saying]):.1f}; "
            f"shipped-line MAE {mae.a:.4f} -> {mae.b:.4f}, {mae.difference:+.4f} [{mae.low:+.4f}, {mae.high:+.4f}]"
        )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    compare(*sys.argv[1:])
