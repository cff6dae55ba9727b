"""R1-Omni style reasoning: `<think>...</think><answer>...</answer>` (METHOD.md §3).

The answer is a label on classification tasks and a number on regression tasks. Kept as a
peer baseline; it has no polarity part, so prefix hints fall back to the prompt hint.
"""

from __future__ import annotations

from emoreason.data.schema import Polarity, Sample, TaskInfo
from emoreason.formats._tags import (
    check_gold_text,
    check_hint,
    clean_label,
    cues_block,
    format_number,
    hint_sentence,
    join_blocks,
    label_polarity,
    label_set,
    media_sentence,
    never_raises,
    order_error,
    parse_number,
    render_parts,
    scale_sentence,
    scan_tags,
    score_errors,
    snippet,
    text_block,
)
from emoreason.formats.base import ParseError, ParseResult, ReasoningFormat


def _answer_kind(task: TaskInfo | None) -> str:
    """What the answer holds: "score" (regression task), "label" (labelled task), or "either"."""
    if task is not None and task.is_regression:
        return "score"
    if task is not None and task.labels:
        return "label"
    return "either"


class R1Format(ReasoningFormat):
    """`<think>` + `<answer>`; both required, in order, for `ok`.

    Regression task: the answer must be a plain number in scale (polarity from the task's
    neutral band). Labelled task: the answer must be in the label set (polarity from the
    task's label map). No task: a number is read as a score, anything else as a label.
    """

    name = "r1"
    stop_strings = ("</answer>",)
    reflection_parts = (("think",), "think")
    answer_markers = (r"<\s*answer\s*>",)
    supports_prefix_hint = False
    parts: tuple[str, ...] = ("think", "answer")

    def __init__(self, score_decimals: int = 2) -> None:
        self.score_decimals = score_decimals

    # -- prompts -------------------------------------------------------------------------

    def system_prompt(self, task: TaskInfo) -> str:
        kind = _answer_kind(task)
        if kind == "score":
            answer = f"The answer is {scale_sentence(task)}."
        elif kind == "label":
            answer = f"The answer is exactly one of: {', '.join(task.labels)}."
        else:
            raise ValueError(f"the r1 format needs a task with a scale or labels; {task.name!r} has neither")
        return (
            "Judge the emotion or sentiment the input expresses. First think it through inside "
            "<think> </think> tags, then give the final answer inside <answer> </answer> tags. " + answer
        )

    def user_prompt(self, sample: Sample, task: TaskInfo, hint: Polarity | None = None, cues: str | None = None) -> str:
        check_hint(hint)
        return join_blocks(
            [
                text_block(sample),
                media_sentence(sample),
                cues_block(cues),
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
        """The gold completion: reasoning in think (named parts as headed paragraphs), then the
        score (regression task) or label (labelled task). `polarity` is ignored."""
        kind = _answer_kind(task)
        if kind == "score" or (kind == "either" and score is not None):
            if score is None:
                raise ValueError("the r1 format needs a score on a regression task")
            answer = format_number(score, self.score_decimals)
        else:
            if label is None:
                raise ValueError("the r1 format needs a label on a classification task")
            answer = clean_label(label)
            labels = label_set(task)
            if labels and answer not in labels:
                raise ValueError(f"label {label!r} is not one of the task's labels: {', '.join(task.labels)}")
        think = check_gold_text(render_parts(reasoning), self.parts, "reasoning")
        return f"<think>\n{think}\n</think>\n<answer>{answer}</answer>"

    def hint_prefix(self, polarity: Polarity) -> str:
        """Always "": the format has no leading polarity part to pre-fill."""
        return ""

    # -- parsing -------------------------------------------------------------------------

    @never_raises("r1")
    def parse(self, text: str, task: TaskInfo | None = None, cut: bool = False) -> ParseResult:
        """Read a completion; see `emoreason.formats._tags` for the tag rules."""
        scan = scan_tags(text, self.parts, cut)
        errors: list[ParseError] = list(scan.errors)
        found = scan.elements

        reasoning: dict[str, str] = {}
        element = found.get("think")
        if element is None:
            errors.append(ParseError("think", "missing"))
        else:
            reasoning["think"] = element.content
            if not element.content:
                errors.append(ParseError("think", "empty"))

        polarity: Polarity | None = None
        score: float | None = None
        label: str | None = None
        out_of_range = False
        element = found.get("answer")
        kind = _answer_kind(task)
        if element is None:
            errors.append(ParseError("answer", "missing"))
        elif not element.content:
            errors.append(ParseError("answer", "empty"))
        else:
            number = parse_number(element.content) if kind != "label" else None
            if kind == "score" and number is None:
                errors.append(ParseError("answer", f"not a number: {snippet(element.content)}"))
            elif number is not None:
                score = number
                range_errors = score_errors(number, task, "answer")
                out_of_range = bool(range_errors)
                errors.extend(range_errors)
                if task is not None and task.is_regression:
                    polarity = task.score_polarity(number)
            else:
                label = clean_label(element.content) or None
                labels = label_set(task)
                if label is None:
                    errors.append(ParseError("answer", "empty"))
                elif labels and label not in labels:
                    errors.append(ParseError("answer", f"label not in label set: {snippet(label)}"))
                elif task is not None:
                    polarity = label_polarity(task, label)

        order = order_error(found, self.parts)
        if order is not None:
            errors.append(order)
        return ParseResult(
            format=self.name,
            ok=not errors,
            polarity=polarity,
            score=score,
            label=label,
            reasoning=reasoning,
            errors=tuple(errors),
            score_out_of_range=out_of_range,
        )
