"""Does grounded quoting's rated-first rule (`generation.quotes`: while the input has a rated word the
teacher would list under a cue list's heading and the chain has not named it, an item of that list may
only name such a word) keep the shipped default's answers whole? Read by run.sh.

    check.py select   -> runs/rated_cues/pgl-<domain>.jsonl: every valid sentence whose saved answer
                         (runs/polarity_sft/valid/pgl-<domain>-all: the shipped default as shipped,
                         docs/results/score_line/answers.sh) heads a list item with another word while a
                         rated word of the list's sign is unnamed, plus 20 seeded controls that do not
    check.py compare  -> the figures: cue_repeats/check.py's (controls word for word, parse, finish,
                         violations, r of the confidence readout, cue recall, judgment agreement), and r
                         and MAE of the score the product shows (the shipped line, score_fit.json), the
                         share of list items heading a word the lexicon does not rate, and the share of
                         stated numbers within their word's raters' spread
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cue_repeats"))
from check import DOMAINS  # noqa: E402
from check import compare as compare_repeats  # noqa: E402
from check import select as select_repeats  # noqa: E402

from emoreason.eval.compare import read_run, usable_score  # noqa: E402
from emoreason.formats.readout import ScoreFit  # noqa: E402
from emoreason.generation.chain_text import cue_key  # noqa: E402
from emoreason.inference import with_fitted_score  # noqa: E402
from emoreason.metrics.bootstrap import paired_difference  # noqa: E402
from emoreason.metrics.valence import listed_cues, vader_lexicon  # noqa: E402

WHO = "pgl"
OUT = Path("runs/rated_cues")
LINE = Path("src/emoreason/resources/default_adapter/score_fit.json")
# an item's quote, with its list's heading when it is the list's first
_STEPS = re.compile(r'(?:(?<![A-Za-z])(Positive|Negative) cues:|;)[ \t]*"([^"\n]*)"')


def list_items(completion: str) -> list[tuple[str, str]]:
    """(the list's sign, the item's head as `cue_key`) for each item of the chain's cue lists."""
    items, sign = [], None
    for match in _STEPS.finditer(completion):
        sign = match.group(1).lower() if match.group(1) else sign
        if sign is not None:
            items.append((sign, cue_key(match.group(2))))
    return items


def skips_a_rated_word(completion: str, source: str) -> bool:
    """What the rule stops: an item heading a word other than those its list still owes (the rated words
    of the list's sign the chain has headed fewer times than the input has them), while it owes some."""
    listed, headed = listed_cues(source, vader_lexicon()), Counter()
    for sign, head in list_items(completion):
        owed = {cue_key(key) for key, n in listed[sign].items() if headed[cue_key(key)] < n}
        if owed and head not in owed:
            return True
        headed[head] += 1
    return False


def select() -> None:
    select_repeats(WHO, OUT, skips_a_rated_word)


def shipped_line_differences(old: dict, new: dict, task, line: ScoreFit) -> tuple:
    """r and MAE of the score the product shows (the shipped line) over the same answers, old -> new,
    each a paired difference with its 95% interval (1,000 resamples)."""
    ids = sorted(old)
    gold = np.array([float(old[i]["gold_score"]) for i in ids])
    shown = [np.array([usable_score(with_fitted_score(rows[i], line, task), task) for i in ids]) for rows in (old, new)]
    r = paired_difference(lambda p, g: float(np.corrcoef(p, g)[0, 1]), *shown, gold)
    mae = paired_difference(lambda p, g: float(np.mean(np.abs(p - g))), *shown, gold)
    return r, mae


def compare() -> None:
    compare_repeats(WHO, OUT, skips_a_rated_word, "answers skipping a rated word of a list's sign")
    line, lexicon = ScoreFit.load(LINE), vader_lexicon()
    for domain in DOMAINS:
        old, task = read_run(Path("runs/polarity_sft/valid") / f"{WHO}-{domain}-all")
        merged = {r["id"]: r for r in map(json.loads, (OUT / f"{WHO}-{domain}-merged" / "predictions.jsonl").open())}
        ids = sorted(old)
        r, mae = shipped_line_differences(old, merged, task, line)
        unrated, misrated = [], []
        for rows in (old, merged):
            heads = [h for i in ids for _, h in list_items(rows[i]["raw_completion"])]
            unrated.append(float(np.mean([lexicon.get(h) is None for h in heads])))
            misrated.append(sum(bool(rows[i].get("misrated_cues")) for i in ids))
        print(
            f"{WHO} {domain}, the shipped line: r {r.a:.4f} -> {r.b:.4f}, {r.difference:+.4f} [{r.low:+.4f}, "
            f"{r.high:+.4f}]; MAE {mae.a:.4f} -> {mae.b:.4f}, {mae.difference:+.4f} [{mae.low:+.4f}, {mae.high:+.4f}]; "
            f"list items heading a word the lexicon does not rate {unrated[0]:.3f} -> {unrated[1]:.3f}; "
            f"answers stating a number outside its word's raters' spread {misrated[0]} -> {misrated[1]}"
        )


if __name__ == "__main__":
    {"select": select, "compare": compare}[sys.argv[1]]()
