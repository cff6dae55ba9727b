"""Strict JSON for the reports evaluation writes (metrics.json, run.json, PREDICTIONS.metrics.json).

Python's `json.dumps` writes NaN and Infinity by default, which is not JSON: `jq`, JavaScript's
`JSON.parse` and most other readers reject the whole file. Metrics do produce such values (the
correlation of a constant baseline is undefined), so every report is first converted: a float that
is not finite becomes `null`, numpy scalars and arrays become plain numbers and lists, and the
result is written with `allow_nan=False`, so a value this conversion missed raises instead of
writing a file that only Python can read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emoreason.data.jsonl import write_text_atomically


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float replaced by None and numpy values made plain."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def strict_json(value: Any) -> str:
    """Indented strict JSON text of `value` (see the module doc)."""
    return json.dumps(json_safe(value), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def write_json_report(path: Path, value: Any) -> Path:
    """Write `value` to `path` as strict JSON, atomically (a run.json cut short by a kill made the
    rerun refuse the folder, and its way out, --fresh, deleted the answers); returns `path`."""
    write_text_atomically(path, strict_json(value))
    return path


__all__ = ["json_safe", "strict_json", "write_json_report"]
