"""A candidate against PC on every valid (or test) sentence: what the chains explain. For each
domain, from two `evaluate` folders answering the same sentences (runs/polarity_sft/<split>/<who>-
<domain>-all), each with the paired difference B - A and its 95% interval (1,000 resamples):
- cue recall: of the distinct input words VADER's lexicon rates, the share the answer states a
  number for (pooled over answers);
- judgment agreement: the answers whose chain's stated numbers lean the way their polarity does, of
  those the check can judge (`metrics.valence`);
- stated judgment: the same answers, counting also those whose numbers lean the other way and whose
  chain says so and names its polarity (the rationalized teacher's "The lexicon alone leans X, but
  read as a whole ... the sentence is Y", Y the answer's polarity);
- answers that quote a cue (a quote with a number, before "Combined:") more often than the input has
  the word (at least once): how often a chain repeats itself.
Then the verdict of a rule (`--rule pd`: run.sh's; `--rule pe`: run_pe.sh's), with the r lines of
`ship_p2.py` (its output file is the fourth argument).

    .venv/bin/python docs/results/joint_sft/decide.py valid pce pd docs/results/joint_sft/valid_r.txt
    .venv/bin/python docs/results/joint_sft/decide.py valid pce pe docs/results/joint_sft/valid_r_pe.txt --rule pe
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emoreason.data.base import load_dataset
from emoreason.formats import get_format
from emoreason.metrics.bootstrap import paired_difference
from emoreason.metrics.valence import vader_lexicon, valence_check

DOMAINS = ("tweets", "products", "movies")
STATED = re.compile(r"The lexicon alone leans (\w+), but .*? the sentence is (\w+)\.")
QUOTED_CUE = re.compile(r'"([^"]+)" \([+-]?[\d.]+\)')


@dataclass(frozen=True)
class Answer:
    cue_words: int
    cue_words_named: int
    agrees: bool | None  # None: nothing to judge
    stated: bool | None
    repeats: bool


def read(folder: Path, split: str, domain: str) -> dict[str, Answer]:
    """Each answer's checks, as `evaluate` computes them (the sample's text as the source)."""
    dataset = load_dataset(f"vader:{domain}")
    text = {s.id: s.source for s in dataset.split(split)}
    fmt, lexicon = get_format("c2f"), vader_lexicon()
    out = {}
    for line in (folder / "predictions.jsonl").open():
        row = json.loads(line)
        completion = row.get("raw_completion")
        if not isinstance(completion, str):
            continue
        polarity = fmt.parse(completion, dataset.task).polarity
        check = valence_check(completion, polarity, lexicon, text[row["id"]])
        said = STATED.search(completion)
        stated = check.judgment_agrees
        if stated is False and said is not None:
            stated = said.group(2) == polarity and said.group(1) != polarity
        cues = Counter(q.lower() for q in QUOTED_CUE.findall(completion.split("Combined:")[0]))
        words = Counter(re.findall(r"[\w']+|\S", text[row["id"]].lower()))
        repeats = any(n > max(1, words.get(q, 0)) for q, n in cues.items())
        out[row["id"]] = Answer(check.cue_words, check.cue_words_named, check.judgment_agrees, stated, repeats)
    return out


def recall(named: np.ndarray, expected: np.ndarray) -> float:
    return float(named.sum() / expected.sum()) if expected.sum() else float("nan")


def share(flags: np.ndarray, _: np.ndarray) -> float:
    return float(flags.mean()) if len(flags) else float("nan")


def compare(split: str, a: str, b: str, domain: str) -> dict[str, tuple[float, float, float, float, float]]:
    root = Path("runs/polarity_sft") / split
    ca, cb = (read(root / f"{who}-{domain}-all", split, domain) for who in (a, b))
    shared = sorted(set(ca) & set(cb))
    found = {}
    print(f"{domain} ({len(shared)} answers), {a.upper()} -> {b.upper()}:")
    cue = paired_difference(
        recall,
        np.array([ca[i].cue_words_named for i in shared]),
        np.array([cb[i].cue_words_named for i in shared]),
        np.array([ca[i].cue_words for i in shared]),
    )
    found["cue"] = cue
    for name, field in (("judgment agreement", "agrees"), ("stated judgment", "stated"), ("repeats", "repeats")):
        judged = [i for i in shared if getattr(ca[i], field) is not None and getattr(cb[i], field) is not None]
        found[field] = paired_difference(
            share,
            np.array([bool(getattr(ca[i], field)) for i in judged]),
            np.array([bool(getattr(cb[i], field)) for i in judged]),
            np.zeros(len(judged)),
        )
    labels = {
        "cue": "cue recall",
        "agrees": "judgment agreement",
        "stated": "stated judgment",
        "repeats": "answers repeating a cue",
    }
    for key, d in found.items():
        print(f"  {labels[key]} {d.a:.3f} -> {d.b:.3f}, {d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
    return {k: (d.a, d.b, d.difference, d.low, d.high) for k, d in found.items()}


def r_lines(path: Path) -> tuple[dict[str, tuple[float, float]], tuple[float, float], bool]:
    """Each domain's r difference interval, the two mean valid r, and whether parse rates were kept,
    read off `ship_p2.py`'s output."""
    text = path.read_text()
    low_high = {}
    for d in DOMAINS:
        found = re.search(rf"^{d} .*?pearson_r [^;]*\[([-+.\d]+), ([-+.\d]+)\]", text, re.M)
        assert found is not None, f"no {d} r line in {path}"
        low_high[d] = (float(found.group(1)), float(found.group(2)))
    means = re.search(r"mean valid r: \w+ ([\d.]+), \w+ ([\d.]+)", text)
    assert means is not None, f"no mean valid r in {path}"
    return low_high, (float(means.group(1)), float(means.group(2))), "parse rates kept: True" in text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("split")
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("r_file", nargs="?", type=Path, help="ship_p2.py's output for the same pair (valid)")
    parser.add_argument("--rule", choices=("pd", "pe"), default="pd")
    args = parser.parse_args()
    found = {d: compare(args.split, args.a, args.b, d) for d in DOMAINS}
    if args.split != "valid" or args.r_file is None:
        return
    intervals, (mean_a, mean_b), parse_kept = r_lines(args.r_file)
    rule = {"cue recall up on every split (interval above 0)": all(f["cue"][3] > 0 for f in found.values())}
    if args.rule == "pd":
        rule["judgment agreement down on no split (interval below 0)"] = all(
            f["agrees"][4] >= 0 for f in found.values()
        )
    else:
        rule["stated judgment down on no split (interval below 0)"] = all(f["stated"][4] >= 0 for f in found.values())
    rule["r down on no split (interval below 0)"] = all(high >= 0 for _, high in intervals.values())
    rule[f"mean valid r at most 0.005 below ({mean_a:.4f} -> {mean_b:.4f})"] = mean_b >= mean_a - 0.005
    rule["no parse rate down by more than 0.01"] = parse_kept
    if args.rule == "pe":
        rule["at most 2% of answers repeat a cue, on every split"] = all(
            f["repeats"][1] <= 0.02 for f in found.values()
        )
    for what, held in rule.items():
        print(f"{'holds' if held else 'FAILS'}: {what}")
    a, b = args.a.upper(), args.b.upper()
    print(f"verdict: {b} replaces {a}; read test once" if all(rule.values()) else f"verdict: {a} stays")


if __name__ == "__main__":
    main()
