r"""EMO-R3 structured emotional thinking (METHOD.md §2)::

    <step1>what in the scene could trigger emotion (action, face, environment)</step1>
    <step2>how a person would feel about it</step2>
    <step3>positive or negative, high or low arousal</step3>
    \boxed{label}

The label is read from the last `\boxed{...}`, as the paper's code does. There is no polarity
part to pre-fill, so prefix hints are not supported: `hint_prefix` returns "" and hint-guided
sampling uses the prompt hint instead (`supports_prefix_hint` is False).
"""

from __future__ import annotations

import re

from emoreason.data.schema import MIKELS_AROUSAL, Polarity, Sample, TaskInfo, normalize_label
from emoreason.formats._tags import (
    check_gold_text,
    check_hint,
    clean_label,
    cues_block,
    hint_sentence,
    join_blocks,
    label_polarity,
    label_set,
    media_sentence,
    never_raises,
    order_error,
    polarity_mentioned,
    scan_tags,
    snippet,
    text_block,
)
from emoreason.formats.base import CUT_OFF, ParseError, ParseResult, ReasoningFormat

_BOXED_RE = re.compile(r"\\boxed\s*+\{")


def _last_boxed(text: str) -> tuple[int, str, bool] | None:
    r"""(position, content, closed) of the last `\boxed{...}`, braces balanced.

    A `\boxed{` left open at the end of the text (truncated output) gives the rest of the text
    with closed=False, the same leniency a truncated final tag gets.
    """
    last = None
    for match in _BOXED_RE.finditer(text):
        last = match
    if last is None:
        return None
    depth = 1
    for pos in range(last.end(), len(text)):
        char = text[pos]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return last.start(), text[last.end() : pos], True
    return last.start(), text[last.end() :], False


class EmoR3Format(ReasoningFormat):
    """Three steps then `\\boxed{label}`; steps, boxed label (in the label set) and order are
    required for `ok`. Polarity is derived, never required: from the task's label map, else
    from step3 if it names exactly one of positive/negative/neutral."""

    name = "emor3"
    stop_strings: tuple[str, ...] = ()
    reflection_parts = (("step1", "step2"), "step1")
    answer_markers = (r"<\s*step3\s*>", r"\\boxed\s*\{")
    supports_prefix_hint = False
    parts: tuple[str, ...] = ("step1", "step2", "step3")

    # -- prompts -------------------------------------------------------------------------

    def system_prompt(self, task: TaskInfo) -> str:
        if not task.labels:
            raise ValueError(f"the emor3 format needs a task with labels; {task.name!r} has none")
        labels = ", ".join(task.labels)
        return (
            "You recognise the emotion that the input evokes and explain it step by step, in "
            "this order:\n"
            "<step1>what in the scene could trigger emotion: actions, faces, the environment"
            "</step1>\n"
            "<step2>how a person would feel about it</step2>\n"
            "<step3>whether that feeling is positive or negative, and of high or low arousal"
            "</step3>\n"
            "Then give the final answer as \\boxed{label}, where label is exactly one of: "
            f"{labels}."
        )

    def user_prompt(self, sample: Sample, task: TaskInfo, hint: Polarity | None = None, cues: str | None = None) -> str:
        check_hint(hint)
        return join_blocks(
            [
                text_block(sample),
                media_sentence(sample),
                cues_block(cues),
                f"Which emotion does it evoke? Answer with one of: {', '.join(task.labels)}." if task.labels else None,
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
        """The gold completion from `reasoning={"step1", "step2", "step3"}` and `label`.

        `polarity` and `score` are ignored: step3 carries valence and arousal in words (see
        `default_step3` for a template when the teacher chain lacks one)."""
        if isinstance(reasoning, str) or any(k not in reasoning for k in self.parts):
            raise ValueError("the emor3 format needs reasoning parts step1, step2 and step3")
        if label is None:
            raise ValueError("the emor3 format needs a label")
        written = clean_label(label)
        labels = label_set(task)
        if labels and written not in labels:
            raise ValueError(f"label {label!r} is not one of the task's labels: {', '.join(task.labels)}")
        steps = [check_gold_text(reasoning[k], self.parts, k) for k in self.parts]
        if any("\\boxed" in step for step in steps):
            raise ValueError("reasoning steps must not contain \\boxed")
        body = "\n".join(f"<{k}>{s}</{k}>" for k, s in zip(self.parts, steps, strict=True))
        return f"{body}\n\\boxed{{{written}}}"

    @staticmethod
    def default_step3(label: str, task: TaskInfo) -> str | None:
        """A plain step3 sentence from the label's valence (task map) and Mikels arousal."""
        key = normalize_label(label)
        polarity = label_polarity(task, key)
        if polarity is None:
            return None
        arousal = MIKELS_AROUSAL.get(key)
        return f"The feeling is {polarity}" + (f", with {arousal} arousal." if arousal else ".")

    def hint_prefix(self, polarity: Polarity) -> str:
        """Always "": the format has no leading polarity part to pre-fill."""
        return ""

    # -- parsing -------------------------------------------------------------------------

    @never_raises("emor3")
    def parse(self, text: str, task: TaskInfo | None = None, cut: bool = False) -> ParseResult:
        r"""Read a completion; see `emoreason.formats._tags` for the tag rules.

        The label comes from the last `\boxed{}` (one LaTeX text wrapper and end punctuation
        dropped, then `normalize_label`); it must lie after `</step3>`. A label outside the
        task's label set is kept and recorded as "label not in label set".
        """
        scan = scan_tags(text, self.parts, cut)
        errors: list[ParseError] = list(scan.errors)
        found = scan.elements

        reasoning: dict[str, str] = {}
        for part in self.parts:
            element = found.get(part)
            if element is None:
                errors.append(ParseError(part, "missing"))
                continue
            reasoning[part] = element.content
            if not element.content:
                errors.append(ParseError(part, "empty"))

        label: str | None = None
        boxed = _last_boxed(text)
        if boxed is not None and cut and not boxed[2]:  # the token limit stopped inside the label
            errors.append(ParseError("boxed", CUT_OFF))
            boxed = None
        if boxed is None:
            errors.append(ParseError("boxed", "missing"))
        else:
            position, content, _closed = boxed
            label = clean_label(content) or None
            if label is None:
                errors.append(ParseError("boxed", "empty"))
            else:
                labels = label_set(task)
                if labels and label not in labels:
                    errors.append(ParseError("boxed", f"label not in label set: {snippet(label)}"))
            step3 = found.get("step3")
            if step3 is not None and position < step3.end:
                if step3.closed:
                    errors.append(ParseError("structure", "\\boxed{} must follow </step3>"))
                elif ParseError("step3", "missing </step3>") not in errors:
                    # an unclosed step3 ran on into the answer
                    errors.append(ParseError("step3", "missing </step3>"))

        polarity = label_polarity(task, label) if label is not None else None
        if polarity is None and "step3" in reasoning:
            polarity = polarity_mentioned(reasoning["step3"])

        order = order_error(found, self.parts)
        if order is not None:
            errors.append(order)
        return ParseResult(
            format=self.name, ok=not errors, polarity=polarity, label=label, reasoning=reasoning, errors=tuple(errors)
        )
