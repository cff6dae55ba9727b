"""Does grounded quoting's no-cue rule (`generation.quotes`: for an input with a word the lexicon rates,
the text part may not open with "No", so the chain cannot claim `No word in the sentence carries
sentiment in the lexicon`) keep answers whole? Read by run.sh; cue_repeats/check.py does the work.

    check.py select WHO   -> runs/no_cue_claim/WHO-<domain>.jsonl: every valid sentence whose saved answer
                             (runs/polarity_sft/valid/WHO-<domain>-all) makes the claim for an input with a
                             rated word, plus 20 seeded controls that do not
    check.py compare WHO  -> the figures: those sentences answered again with the rule, put into the whole
                             split (the rule bans tokens only where the claim would start, so under greedy
                             decoding every other answer is the saved one; the controls check that)
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cue_repeats"))
from check import compare, select  # noqa: E402

from emoreason.generation.quotes import has_rated_word  # noqa: E402

OUT = Path("runs/no_cue_claim")
NO_CUE = re.compile(r"Text:[ \t]*No\b")


def false_no_cue_claim(completion: str, source: str) -> bool:
    """The chain's text part opens with the no-cue sentence, and the input has a word the lexicon rates."""
    return bool(NO_CUE.search(completion)) and has_rated_word(source)


if __name__ == "__main__":
    command, who = sys.argv[1], sys.argv[2]
    if command == "select":
        select(who, OUT, false_no_cue_claim)
    else:
        compare(who, OUT, false_no_cue_claim, "answers claiming no rated word where the input has one")
