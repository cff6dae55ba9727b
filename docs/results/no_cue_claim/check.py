"""Does grounded quoting's text-opening rule (`generation.quotes`: for an input with a word the lexicon
rates, the text part opens with a cue list, so the chain cannot claim `No word in the sentence carries
sentiment in the lexicon`, or anything else in its place) keep answers whole? Read by run.sh;
cue_repeats/check.py does the work.

    check.py select WHO   -> runs/no_cue_claim/WHO-<domain>.jsonl: every valid sentence whose saved answer
                             (runs/polarity_sft/valid/WHO-<domain>-all) opens its text part otherwise than
                             with a cue list for an input with a rated word, plus 20 seeded controls
    check.py compare WHO  -> the figures: those sentences answered again with the rule, put into the whole
                             split (the rule masks tokens only where the text part opens, so under greedy
                             decoding every other answer is the saved one; the controls check that)
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cue_repeats"))
from check import compare, select  # noqa: E402

from emoreason.generation.chain_text import has_rated_word  # noqa: E402

OUT = Path("runs/no_cue_claim")
CUE_LIST = re.compile(r"Text:[ \t]*(?:Positive|Negative) cues:")


def no_cue_list(completion: str, source: str) -> bool:
    """The input has a word the lexicon rates and the chain's text part does not open with a cue list
    (the no-cue sentence, or whatever the model writes in its place)."""
    return "Text:" in completion and not CUE_LIST.search(completion) and has_rated_word(source)


if __name__ == "__main__":
    command, who = sys.argv[1], sys.argv[2]
    if command == "select":
        select(who, OUT, no_cue_list)
    else:
        compare(who, OUT, no_cue_list, "answers with a rated word whose text part opens without a cue list")
