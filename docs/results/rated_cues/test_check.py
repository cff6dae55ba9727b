"""The rated-first rule on the test splits, described after the valid check decided (compare.txt): every
test sentence whose saved answer (runs/score_line/test-<d>: the shipped default as shipped, before the
rule) skips a rated word of a list's sign, answered again with the rule (test_check.sh), put into the whole
split, and read off the shipped line. Test decides nothing.

    .venv/bin/python docs/results/rated_cues/test_check.py select
    .venv/bin/python docs/results/rated_cues/test_check.py compare > docs/results/rated_cues/test.txt
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from emoreason.data import load_dataset
from emoreason.eval.compare import read_run
from emoreason.formats.readout import ScoreFit
from emoreason.metrics.valence import vader_lexicon, valence_check

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("rated_check", HERE / "check.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)  # type: ignore[union-attr]

SAVED, OUT = Path("runs/score_line"), Path("runs/rated_cues/test")
DOMAINS = ("tweets", "products", "movies")


def select() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for domain in DOMAINS:
        samples = {s.id: s for s in load_dataset(f"vader:{domain}").split("test")}
        old, _ = read_run(SAVED / f"test-{domain}")
        chosen = [i for i in sorted(old) if check.skips_a_rated_word(old[i]["raw_completion"], samples[i].source)]
        with (OUT / f"{domain}.jsonl").open("w") as f:
            for i in chosen:
                f.write(json.dumps({"id": i, "text": samples[i].source, "score": samples[i].score}) + "\n")
        print(f"{domain}: {len(chosen)} of {len(old)} test answers skip a rated word")


def compare() -> None:
    line, lexicon = ScoreFit.load(check.LINE), vader_lexicon()
    for domain in DOMAINS:
        text = {s.id: s.source for s in load_dataset(f"vader:{domain}").split("test")}
        old, task = read_run(SAVED / f"test-{domain}")
        new, _ = read_run(OUT / domain)
        merged = {i: new.get(i, row) for i, row in old.items()}
        ids = sorted(old)
        r, mae = check.shipped_line_differences(old, merged, task, line)
        recall, skips, parse = [], [], []
        for rows in (old, merged):
            checks = [valence_check(rows[i]["raw_completion"], rows[i]["polarity"], lexicon, text[i]) for i in ids]
            recall.append(sum(c.cue_words_named for c in checks) / sum(c.cue_words for c in checks))
            skips.append(sum(check.skips_a_rated_word(rows[i]["raw_completion"], text[i]) for i in ids))
            parse.append(float(np.mean([bool(rows[i]["parse_ok"]) for i in ids])))
        kept = sum(new[i]["polarity"] == old[i]["polarity"] for i in new)
        print(
            f"{domain} test ({len(ids)}; {len(new)} re-answered, polarity kept {kept}): shipped line r {r.a:.4f} -> "
            f"{r.b:.4f}, {r.difference:+.4f} [{r.low:+.4f}, {r.high:+.4f}]; MAE {mae.difference:+.4f} [{mae.low:+.4f}, "
            f"{mae.high:+.4f}]; skipping {skips[0]} -> {skips[1]}; cue recall {recall[0]:.3f} -> {recall[1]:.3f}; "
            f"parse rate {parse[0]:.3f} -> {parse[1]:.3f}"
        )


if __name__ == "__main__":
    {"select": select, "compare": compare}[sys.argv[1]]()
