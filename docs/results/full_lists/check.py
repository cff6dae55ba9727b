"""Do the "goes on" rules of grounded quoting (`generation.quotes`: a cue list may not end while the input
has a rated word of its sign it has not named, its items open with a quote, the other sign's list follows
when the input has words for it, the text part opens with the list the teacher writes first, and an item
after a comma in a list is an item) keep the product's answers whole, and what do they add? Read by run.sh.

    check.py compare SPLIT -> the current product's answers (the shipped default with the rated-first
                              rule: runs/rated_cues, whole splits) against every sentence of SPLIT answered
                              again with the rules (runs/full_lists/SPLIT-<domain>)
    check.py compare SPLIT OLD NEW -> the answers in OLD/SPLIT-<domain> ("current": the product's, as above)
                              against NEW/SPLIT-<domain> (chain_numbers/run.sh: current against
                              runs/chain_numbers)

Beside the lists' figures, the chain's arithmetic: the share of list items quoting a word the lexicon rates
whose number is the lexicon's as the teacher writes it (and, negated, its negated reading), and the share
of answers whose combined part opens with the balance sentence their own list items make.
"""

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import read_run
from emoreason.formats.readout import ScoreFit
from emoreason.generation.chain_text import chain_balance, cue_key, item_number, negated_number
from emoreason.metrics.evidence import cue_statements
from emoreason.metrics.valence import listed_cues, signed, vader_lexicon, valence_check

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "cue_repeats"))  # rated_cues/check.py imports cue_repeats/check.py
_spec = importlib.util.spec_from_file_location("rated_check", HERE.parent / "rated_cues" / "check.py")
rated = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rated)  # type: ignore[union-attr]

DOMAINS = ("tweets", "products", "movies")
OUT = Path("runs/full_lists")
_FIRST_HEADING = re.compile(r"Text:[ \t]*(Positive|Negative) cues:")
_COMMA_ITEM = re.compile(r'(?<![A-Za-z])(?:Positive|Negative) cues:[^.\n]*?\)\s*,\s*"')


def current(split: str, domain: str) -> dict[str, dict]:
    """The product's answers today: valid, the rated_cues merge; test, score_line's with the answers
    rated_cues/test_check.sh made again put in."""
    if split == "valid":
        merged = Path(f"runs/rated_cues/pgl-{domain}-merged/predictions.jsonl")  # no run.json: read as JSONL
        return {r["id"]: r for r in map(json.loads, merged.open())}
    old, _ = read_run(Path(f"runs/score_line/test-{domain}"))
    return {**old, **read_run(Path(f"runs/rated_cues/test/{domain}"))[0]}


def unnamed(completion: str, source: str) -> tuple[int, int]:
    """The rated words (occurrences) the teacher would list that the chain's lists leave out: in a list
    of their sign the chain opened, and in one it never opened."""
    listed, items = listed_cues(source, vader_lexicon()), rated.list_items(completion)
    opened, headed = {sign for sign, _ in items}, Counter(head for _, head in items)
    missing = Counter()
    for sign in ("positive", "negative"):
        for key, n in listed[sign].items():
            missing[sign in opened] += max(0, n - headed[cue_key(key)])
    return missing[True], missing[False]


def arithmetic(completion: str) -> tuple[int, int, bool | None]:
    """(list items quoting a rated word, those whose numbers are the lexicon's, whether the combined part
    opens with the balance sentence of the chain's own items; None without a combined part)."""
    text_part, _, combined = completion.partition("Combined:")
    rated = exact = 0
    for statement in cue_statements(text_part):
        number = item_number(statement.quote) if statement.listed is not None else None
        if number is None or statement.stated is None:
            continue
        rated += 1
        right = number == f" ({signed(statement.stated)})"
        if statement.reads is not None:
            right = right and negated_number(statement.quote) == f" {signed(statement.reads)}"
        exact += right
    balanced = combined.strip().startswith(chain_balance(text_part)) if combined else None
    return rated, exact, balanced


def touched(completion: str, source: str) -> bool:
    """What the rules act on, read off the text: a rated word left out, a text part opening with the
    list the teacher writes second, or an item after a comma inside a list."""
    first = _FIRST_HEADING.search(completion)
    listed = listed_cues(source, vader_lexicon())
    wrong_first = first is not None and first.group(1) == "Negative" and bool(listed["positive"])
    return any(unnamed(completion, source)) or wrong_first or bool(_COMMA_ITEM.search(completion))


def compare(split: str, old_runs: str | None = None, new_runs: str = str(OUT)) -> None:
    line, lexicon = ScoreFit.load(rated.LINE), vader_lexicon()
    for domain in DOMAINS:
        text = {s.id: s.source for s in load_dataset(f"vader:{domain}").split(split)}
        own = old_runs in (None, "current")
        old = current(split, domain) if own else read_run(Path(str(old_runs)) / f"{split}-{domain}")[0]
        new, task = read_run(Path(new_runs) / f"{split}-{domain}")
        ids = sorted(old)
        assert sorted(new) == ids, f"{domain}: the new run does not answer the same sentences"
        r, mae = rated.shipped_line_differences(old, new, task, line)
        changed = [i for i in ids if new[i]["raw_completion"] != old[i]["raw_completion"]]
        untouched_changed = [i for i in changed if not touched(old[i]["raw_completion"], text[i])]
        figures = []
        for rows in (old, new):
            checks = [valence_check(rows[i]["raw_completion"], rows[i]["polarity"], lexicon, text[i]) for i in ids]
            left = [unnamed(rows[i]["raw_completion"], text[i]) for i in ids]
            heads = [h for i in ids for _, h in rated.list_items(rows[i]["raw_completion"])]
            judged = [c.judgment_agrees for c in checks if c.judgment_agrees is not None]
            cited = [rows[i].get("citations") or {} for i in ids]
            sums = [arithmetic(rows[i]["raw_completion"]) for i in ids]
            balanced = [b for _, _, b in sums if b is not None]
            figures.append(
                {
                    "recall": sum(c.cue_words_named for c in checks) / max(1, sum(c.cue_words for c in checks)),
                    "leaving": sum(any(x) for x in left),
                    "in_opened": sum(a for a, _ in left),
                    "never_opened": sum(b for _, b in left),
                    "agree": float(np.mean(judged)),
                    "unrated": float(np.mean([lexicon.get(h) is None for h in heads])),
                    "misrated": sum(bool(rows[i].get("misrated_cues")) for i in ids),
                    "parse": float(np.mean([bool(rows[i]["parse_ok"]) for i in ids])),
                    "length": sum(rows[i]["finish_reason"] == "length" for i in ids),
                    "tokens": float(np.mean([rows[i]["completion_tokens"] for i in ids])),
                    "grounded": float(np.mean([c.get("grounded", 0) == c.get("cited", 0) for c in cited])),
                    "exact": sum(e for _, e, _ in sums) / max(1, sum(r for r, _, _ in sums)),
                    "balanced": float(np.mean(balanced)),
                }
            )
        a, b = figures
        kept = sum(new[i]["polarity"] == old[i]["polarity"] for i in ids)

        def pair(key: str, form: str = ".3f") -> str:
            return f"{a[key]:{form}} -> {b[key]:{form}}"

        print(
            f"{domain} {split} ({len(ids)} answers; {len(changed)} changed, {len(untouched_changed)} of them not "
            f"touched by the text check; polarity kept {kept}): shipped line r {r.a:.4f} -> {r.b:.4f}, "
            f"{r.difference:+.4f} [{r.low:+.4f}, {r.high:+.4f}]; MAE {mae.difference:+.4f} [{mae.low:+.4f}, "
            f"{mae.high:+.4f}]"
        )
        print(
            f"  cue recall {pair('recall')}; answers leaving a rated word out {pair('leaving', 'd')} (words: in a "
            f"list the chain opened {pair('in_opened', 'd')}, in one it never opened {pair('never_opened', 'd')}); "
            f"judgment agreement {pair('agree')}; list items heading a word the lexicon does not rate "
            f"{pair('unrated')}; answers with a number outside its raters' spread {pair('misrated', 'd')}"
        )
        print(
            f"  parse rate {pair('parse')}; finish 'length' {pair('length', 'd')}; "
            f"mean tokens {pair('tokens', '.1f')}; "
            f"answers whose every citation is grounded {pair('grounded')}"
        )
        print(
            f"  list items on a rated word whose numbers are the lexicon's {pair('exact')}; combined parts "
            f"opening with the balance sentence of the chain's own items {pair('balanced')}"
        )
        if untouched_changed:
            print(f"  changed though the text check finds nothing to act on: {', '.join(untouched_changed[:10])}")


if __name__ == "__main__":
    compare(*sys.argv[2:]) if sys.argv[1] == "compare" else sys.exit(__doc__)
