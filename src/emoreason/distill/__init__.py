"""Cold start (METHOD.md §1 steps 1-2): a teacher writes reasoning chains, a consistency
filter keeps those that agree with the gold, and the kept ones become SFT data.

The recipe (`emoreason distill --config ...`) is `emoreason.distill.config.DistillConfig`;
`make_teacher` turns its teacher section into a `Teacher`."""

from emoreason.distill.filter import REASONS, FilterConfig, FilterStats, drop_reason, mix_matching_drops
from emoreason.distill.openai_teacher import OpenAITeacher, RetryPolicy
from emoreason.distill.run import DistillResult, ReplyCache, cache_key, distill
from emoreason.distill.teachers import HFTeacher, LexiconTeacher, Teacher, TeacherReply, TeacherRequest, make_teacher

TEACHERS = ("lexicon", "cues", "hf", "openai")  # cues: emoreason.distill.cue_teacher (imports the cue extractors)

__all__ = [
    "REASONS",
    "TEACHERS",
    "DistillResult",
    "FilterConfig",
    "FilterStats",
    "HFTeacher",
    "LexiconTeacher",
    "OpenAITeacher",
    "ReplyCache",
    "RetryPolicy",
    "Teacher",
    "TeacherReply",
    "TeacherRequest",
    "cache_key",
    "distill",
    "drop_reason",
    "mix_matching_drops",
    "make_teacher",
]
