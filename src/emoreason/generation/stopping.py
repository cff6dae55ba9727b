"""Stop strings: finding a format's closing tag at the end of generated text.

Moved out of `engine.py`; both of the engine's decoding paths (its own loop for text models and
`model.generate` for the multimodal families) use it to decide when a row stops and where its
text is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class StopChecker:
    """Finds stop strings at the end of generated text, decoding only when a token could end one."""

    def __init__(self, tokenizer: Any, stop_strings: Sequence[str]):
        self.tokenizer = tokenizer
        self.stop_strings = tuple(s for s in stop_strings if s)
        self.window = max((len(s) for s in self.stop_strings), default=0) + 8
        last_chars = {s[-1] for s in self.stop_strings}
        self._could_end: dict[int, bool] = {}
        self._last_chars = last_chars

    def could_end(self, token_id: int) -> bool:
        hit = self._could_end.get(token_id)
        if hit is None:
            piece = self.tokenizer.decode([token_id])
            hit = any(ch in piece for ch in self._last_chars)
            self._could_end[token_id] = hit
        return hit

    def stopped(self, token_ids: list[int]) -> bool:
        if not self.stop_strings or not self.could_end(token_ids[-1]):
            return False
        # decode a tail long enough to contain any stop string (tokens are >= 1 char)
        tail = self.tokenizer.decode(token_ids[-self.window :], skip_special_tokens=True)
        return any(s in tail for s in self.stop_strings)

    def cut(self, text: str) -> str:
        """Text up to and including the first stop string."""
        positions = [(text.find(s), s) for s in self.stop_strings if s in text]
        if not positions:
            return text
        index, stop = min(positions)
        return text[: index + len(stop)]


__all__ = ["StopChecker"]
