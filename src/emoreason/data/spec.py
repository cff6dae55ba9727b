"""Dataset spec strings: `KIND:TARGET?key=value&key=value`.

The same grammar addresses every adapter on the CLI and in configs, e.g.
`vader:tweets`, `mmsa:/data/mosi.pkl?dataset=mosi`, `jsonl:data.jsonl?scale=-4,4&text=sentence`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from emoreason.data.errors import DataError
from emoreason.data.schema import parse_low_high

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class DatasetSpec:
    kind: str
    target: str
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.kind}:{self.target}" + (f"?{query}" if query else "")

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.options.get(name)
        if value is None:
            return default
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        raise DataError(f"option {name}={value!r} in dataset spec {self!s} must be true or false")

    def float_option(self, name: str, default: float | None = None) -> float | None:
        value = self.options.get(name)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise DataError(f"option {name}={value!r} in dataset spec {self!s} must be a number") from None

    def range_option(self, name: str) -> tuple[float, float] | None:
        """`scale=-4,4` -> (-4.0, 4.0)."""
        value = self.options.get(name)
        if value is None:
            return None
        try:
            low, high = parse_low_high(value, name)
        except ValueError:
            raise DataError(
                f"option {name}={value!r} in dataset spec {self!s} must be two numbers 'LOW,HIGH', e.g. {name}=-4,4"
            ) from None
        if not (math.isfinite(low) and math.isfinite(high)):  # `-inf,4` was a scale; `nan,3` read as LOW >= HIGH
            raise DataError(f"option {name}={value!r} in dataset spec {self!s}: LOW and HIGH must be finite numbers")
        if not low < high:
            raise DataError(f"option {name}={value!r} in dataset spec {self!s}: LOW must be below HIGH")
        return low, high

    def neutral_width(self, scale: tuple[float, float], task: str, default: float = 0.0) -> float:
        """W of `?neutral=W` (`default` without it): the half-width of the neutral band around the midpoint of the
        task `task`'s `scale` (`schema.NeutralBand.around`), checked by the rule `analyze --neutral-band` follows
        (`schema.with_neutral_band`): a DataError for a W below 0 (-1 was read as the midpoint alone) or a band
        reaching outside the scale (W=5 on 1..7 made every score neutral)."""
        from emoreason.data.schema import NeutralBand, TaskInfo, with_neutral_band

        width = self.float_option("neutral", default)
        assert width is not None
        if not width >= 0:  # NaN too
            raise DataError(f"neutral={width:g} in {self}: the band's half-width W must be 0 or more")
        half = (scale[1] - scale[0]) / 2
        if width <= half * (1 + 1e-9):  # within the scale: W of exactly half of 0.1..0.7 is, floats or not
            return width
        band = NeutralBand.around(scale, width)
        try:
            with_neutral_band(TaskInfo(task, scale=scale), band.low, band.high, f"give W from 0 to {half:g}")
        except ValueError as err:
            raise DataError(f"neutral={width:g} in {self}: {err}") from None
        raise AssertionError("a band wider than its scale passed the band check")  # with_neutral_band refuses it

    def list_option(self, name: str) -> tuple[str, ...] | None:
        value = self.options.get(name)
        if value is None:
            return None
        return tuple(p.strip() for p in value.split(",") if p.strip())


def parse_spec(spec: str) -> DatasetSpec:
    """Split a spec string into kind, target and options; errors say what a spec looks like."""
    if ":" not in spec:
        raise DataError(
            f"dataset spec {spec!r} has no kind; write KIND:TARGET, e.g. vader:tweets, jsonl:data.jsonl "
            "(see `emoreason data list`)"
        )
    kind, rest = spec.split(":", 1)
    target, _, query = rest.partition("?")
    options: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        if key in options:
            raise DataError(f"option {key!r} is given twice in dataset spec {spec!r}")
        options[key] = value
    if not target:
        raise DataError(f"dataset spec {spec!r} names no target after '{kind}:'")
    return DatasetSpec(kind=kind.strip().lower(), target=target, options=options)
