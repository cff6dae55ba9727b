"""PD against PC on every valid (or test) sentence: what the chains explain. For each domain, from
two `evaluate` folders answering the same sentences (runs/polarity_sft/<split>/<who>-<domain>-all):
cue recall (of the distinct input words VADER's lexicon rates, the share the answer states a number
for; pooled over answers) and judgment agreement (the answers whose chain's cue numbers lean the way
their polarity does, of those the check can judge), each with the paired difference B - A and its
95% interval (1,000 resamples of the sentences). Then the verdict of run.sh's rule, with the r
lines of `ship_p2.py` (its output file is the second argument).

    .venv/bin/python docs/results/joint_sft/decide.py valid pce pd docs/results/joint_sft/valid_r.txt
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from emoreason.data.base import load_dataset
from emoreason.formats import get_format
from emoreason.metrics.bootstrap import paired_difference
from emoreason.metrics.valence import ValenceCheck, vader_lexicon, valence_check

DOMAINS = ("tweets", "products", "movies")


def checks(folder: Path, split: str, domain: str) -> dict[str, ValenceCheck]:
    """Each answer's valence check, as `evaluate` computes it (the sample's text as the source)."""
    task = load_dataset(f"vader:{domain}")
    text = {s.id: s.source for s in task.split(split)}
    fmt, lexicon = get_format("c2f"), vader_lexicon()
    out = {}
    for line in (folder / "predictions.jsonl").open():
        row = json.loads(line)
        completion = row.get("raw_completion")
        if isinstance(completion, str):
            polarity = fmt.parse(completion, task.task).polarity
            out[row["id"]] = valence_check(completion, polarity, lexicon, text[row["id"]])
    return out


def recall(named: np.ndarray, expected: np.ndarray) -> float:
    return float(named.sum() / expected.sum()) if expected.sum() else float("nan")


def share(agree: np.ndarray, _: np.ndarray) -> float:
    return float(agree.mean()) if len(agree) else float("nan")


def compare(split: str, a: str, b: str, domain: str) -> dict[str, tuple[float, float, float, float, float]]:
    root = Path("runs/polarity_sft") / split
    ca, cb = (checks(root / f"{who}-{domain}-all", split, domain) for who in (a, b))
    shared = sorted(set(ca) & set(cb))
    expected = np.array([ca[i].cue_words for i in shared])
    cue = paired_difference(
        recall,
        np.array([ca[i].cue_words_named for i in shared]),
        np.array([cb[i].cue_words_named for i in shared]),
        expected,
    )
    judged = [i for i in shared if ca[i].judgment_agrees is not None and cb[i].judgment_agrees is not None]
    agree = paired_difference(
        share,
        np.array([bool(ca[i].judgment_agrees) for i in judged]),
        np.array([bool(cb[i].judgment_agrees) for i in judged]),
        np.zeros(len(judged)),
    )
    print(f"{domain} ({len(shared)} answers; {len(judged)} judged by both), {a.upper()} -> {b.upper()}:")
    print(f"  cue recall {cue.a:.3f} -> {cue.b:.3f}, {cue.difference:+.3f} [{cue.low:+.3f}, {cue.high:+.3f}]")
    print(
        f"  judgment agreement {agree.a:.3f} -> {agree.b:.3f}, {agree.difference:+.3f} "
        f"[{agree.low:+.3f}, {agree.high:+.3f}]"
    )
    return {
        "cue": (cue.a, cue.b, cue.difference, cue.low, cue.high),
        "agree": (agree.a, agree.b, agree.difference, agree.low, agree.high),
    }


def r_lines(path: Path) -> tuple[dict[str, tuple[float, float]], tuple[float, float], bool]:
    """Each domain's r difference interval, the two mean valid r, and whether parse rates were kept,
    read off `ship_p2.py`'s output."""
    text = path.read_text()
    low_high = {
        d: tuple(
            float(x) for x in re.search(rf"^{d} .*?pearson_r [^;]*\[([-+.\d]+), ([-+.\d]+)\]", text, re.M).groups()
        )
        for d in DOMAINS
    }
    means = tuple(float(x) for x in re.search(r"mean valid r: \w+ ([\d.]+), \w+ ([\d.]+)", text).groups())
    kept = "parse rates kept: True" in text
    return low_high, means, kept  # type: ignore[return-value]


def main() -> None:
    split, a, b = sys.argv[1:4]
    found = {d: compare(split, a, b, d) for d in DOMAINS}
    if split != "valid" or len(sys.argv) < 5:
        return
    intervals, (mean_a, mean_b), parse_kept = r_lines(Path(sys.argv[4]))
    rule = {
        "cue recall up on every split (interval above 0)": all(f["cue"][3] > 0 for f in found.values()),
        "judgment agreement down on no split (interval below 0)": all(f["agree"][4] >= 0 for f in found.values()),
        "r down on no split (interval below 0)": all(high >= 0 for _, high in intervals.values()),
        f"mean valid r at most 0.005 below ({mean_a:.4f} -> {mean_b:.4f})": mean_b >= mean_a - 0.005,
        "no parse rate down by more than 0.01": parse_kept,
    }
    for what, held in rule.items():
        print(f"{'holds' if held else 'FAILS'}: {what}")
    name = b.upper()
    print(
        f"verdict: {name} replaces {a.upper()}; read test once" if all(rule.values()) else f"verdict: {a.upper()} stays"
    )


if __name__ == "__main__":
    main()
