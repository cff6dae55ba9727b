"""C2F (coarse-to-fine) sentiment reasoning: polarity, then per-modality analysis, then a score.

Layout (METHOD.md §1, our choice of tags)::

    <polarity>negative</polarity>
    <think>...</think>
    <score>-1.4</score>

Polarity comes first because it is the verifiable anchor of Hint-GRPO: a hard prompt can be
re-sampled with the assistant turn pre-filled by `hint_prefix(gold)`, and the completion then
continues from there. Parse the prefix and the completion together.
"""

from __future__ import annotations

from emoreason.data.schema import POLARITIES, Polarity, Sample, TaskInfo
from emoreason.formats._tags import (
    check_gold_text,
    check_hint,
    cues_block,
    format_number,
    hint_sentence,
    join_blocks,
    media_sentence,
    never_raises,
    order_error,
    parse_number,
    parse_polarity,
    render_parts,
    scale_sentence,
    scan_tags,
    score_errors,
    snippet,
    text_block,
)
from emoreason.formats.base import ParseError, ParseResult, ReasoningFormat

# What the think block discusses for each modality, in the order Sample.modalities lists them.
_MODALITY_CUES = {
    "text": "what is said (the words)",
    "audio": "how it is said (tone, pitch, energy, pace)",
    "video": "what the face and body show",
    "image": "what the face, body and scene in the image show",
}


class C2FFormat(ReasoningFormat):
    """`<polarity>` + `<think>` + `<score>`; all three are required for `ok`.

    `score_decimals` sets how gold scores are written (compact decimals, default 2 places).
    """

    name = "c2f"
    stop_strings = ("</score>",)
    reflection_parts = (("think",), "think")
    answer_markers = (r"<\s*score\s*>",)
    supports_prefix_hint = True
    parts: tuple[str, ...] = ("polarity", "think", "score")

    def __init__(self, score_decimals: int = 2) -> None:
        if score_decimals < 0:
            raise ValueError("score_decimals must be >= 0")
        self.score_decimals = score_decimals

    # -- prompts -------------------------------------------------------------------------

    def system_prompt(self, task: TaskInfo) -> str:
        if task.scale is None:
            raise ValueError(f"the c2f format needs a task with a score scale; {task.name!r} has none")
        low, high = task.scale
        # a negative example four tenths of the way from the middle to the low end: -1.6 on -4..4, 2.8 on 1..7
        # (the low end times 0.4, 0.4 on 1..7, was outside the scale, and a model copying it did not parse)
        example = format_number((low + high) / 2 - 0.4 * (high - low) / 2, 1)
        return (
            "You judge the sentiment a person expresses and explain your judgment from coarse to "
            "fine, in three parts, in this order:\n"
            "1. <polarity>positive, neutral or negative</polarity>: the overall polarity, first.\n"
            "2. <think>...</think>: the cues of each modality you are given, one at a time: what "
            "is said (the words); how it is said (tone, pitch, energy, pace) when there is audio "
            "or a description of it; what the face and body show when there is video or a "
            "description of it. Then say how the cues combine: which agree, which conflict, and "
            "which one decides.\n"
            f"3. <score>number</score>: {scale_sentence(task)}. The score must agree with the "
            "polarity you gave.\n"
            "Write only these three parts, for example:\n"
            f"<polarity>negative</polarity>\n<think>...</think>\n<score>{example}</score>"
        )

    def user_prompt(self, sample: Sample, task: TaskInfo, hint: Polarity | None = None, cues: str | None = None) -> str:
        check_hint(hint)
        discussed = [_MODALITY_CUES[m] for m in sample.modalities]
        if cues is not None and cues.strip():
            discussed.append("the measured cues")
        plan = None
        if discussed:
            plan = "In <think>, discuss in turn: " + "; ".join(discussed) + "; then how they combine."
        return join_blocks(
            [
                text_block(sample),
                media_sentence(sample),
                cues_block(cues),
                plan,
                hint_sentence(hint) if hint is not None else None,
            ]
        )

    # -- gold targets --------------------------------------------------------------------

    def render_target(
        self,
        task: TaskInfo,
        *,
        reasoning: dict[str, str] | str,
        polarity: Polarity | None = None,
        score: float | None = None,
        label: str | None = None,
    ) -> str:
        """The gold completion. `polarity` defaults to the task's reading of the (rounded)
        score; `label` is ignored (C2F has none). Reasoning parts render as headed paragraphs
        inside one think block."""
        if score is None:
            raise ValueError("the c2f format needs a score")
        written = format_number(score, self.score_decimals)
        if polarity is None:
            polarity = task.score_polarity(float(written))
        if polarity not in POLARITIES:
            raise ValueError(f"polarity must be one of {', '.join(POLARITIES)}, got {polarity!r}")
        think = check_gold_text(render_parts(reasoning), self.parts, "reasoning")
        return f"{self.hint_prefix(polarity)}\n<think>\n{think}\n</think>\n<score>{written}</score>"

    def hint_prefix(self, polarity: Polarity) -> str:
        """Exactly how a completion starts, so prefix + completion parses."""
        return f"<polarity>{polarity}</polarity>"

    # -- parsing -------------------------------------------------------------------------

    @never_raises("c2f")
    def parse(self, text: str, task: TaskInfo | None = None, cut: bool = False) -> ParseResult:
        """Read a completion; see `emoreason.formats._tags` for the tag rules.

        `ok` needs a known polarity word, a non-empty think block, a plain-number score in the
        task's scale, and the three parts in order. A polarity that disagrees with the score
        is not an error (that is a reasoning-health metric).
        """
        scan = scan_tags(text, self.parts, cut)
        errors: list[ParseError] = list(scan.errors)
        found = scan.elements

        polarity: Polarity | None = None
        element = found.get("polarity")
        if element is None:
            errors.append(ParseError("polarity", "missing"))
        elif not element.content:
            errors.append(ParseError("polarity", "empty"))
        else:
            polarity = parse_polarity(element.content)
            if polarity is None:
                errors.append(ParseError("polarity", f"unknown polarity {snippet(element.content)}"))

        reasoning: dict[str, str] = {}
        element = found.get("think")
        if element is None:
            errors.append(ParseError("think", "missing"))
        else:
            reasoning["think"] = element.content
            if not element.content:
                errors.append(ParseError("think", "empty"))

        score: float | None = None
        out_of_range = False
        element = found.get("score")
        if element is None:
            errors.append(ParseError("score", "missing"))
        elif not element.content:
            errors.append(ParseError("score", "empty"))
        else:
            score = parse_number(element.content)
            if score is None:
                errors.append(ParseError("score", f"not a number: {snippet(element.content)}"))
            else:
                range_errors = score_errors(score, task, "score")
                out_of_range = bool(range_errors)
                errors.extend(range_errors)

        order = order_error(found, self.parts)
        if order is not None:
            errors.append(order)
        return ParseResult(
            format=self.name,
            ok=not errors,
            polarity=polarity,
            score=score,
            reasoning=reasoning,
            errors=tuple(errors),
            score_out_of_range=out_of_range,
        )
