"""Spec options whose work belongs to a package above `data`, and the registry those packages fill.

`?cues=true|only` on a `ravdess:` or `raw:` spec attaches measured voice and face cues to the
samples. Measuring them is `emoreason.cues`' job, and `cues` imports `data` (for `Sample`), so
`data` must not import `cues` back, not even lazily inside an adapter: the bottom layer would
then depend on one above it, and the cycle would hide in a function body.

So, as with the adapter registry (`emoreason.data.base.register`), the work is looked up by
name. The adapter accepts and documents the option and calls `apply_spec_option`; the package
that implements it calls `register_spec_option` when it is imported (`emoreason.cues.prepare`
registers `cues`).

The same handler measures a generic file's media under `?measure=` (there `cues=` names a column
of cue text), and `classifier=` follows either. Messages that tell a user how to get measured
cues ask `measuring_option` / `how_to_measure` which of the two a spec takes.

Why the handler is always there: `emoreason/__init__.py`, the package root, above every layer,
imports `emoreason.cues`, and Python runs a package's `__init__` before any of its submodules.
Whoever loads a dataset by spec (`load_dataset`, `load_pooled`, the CLI, a trainer, distill,
evaluate, a notebook), `?cues=` has been registered before. A spec carrying an option nobody
registered fails with a `DataError` naming it instead of being silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from emoreason.data.base import ADAPTERS
from emoreason.data.errors import DataError
from emoreason.data.schema import Sample
from emoreason.data.spec import FALSE_WORDS, DatasetSpec, parse_spec

#: Called as `handler(samples, spec, value, warnings, **settings)`: the samples with the option
#: applied; `value` is the option's text in the spec, problems worth reporting go to `warnings`
#: (the load report's), and `settings` are what the adapter passes along (e.g. `kinds=`).
SpecOptionHandler = Callable[..., list[Sample]]

SPEC_OPTION_HANDLERS: dict[str, SpecOptionHandler] = {}


def register_spec_option(name: str, handler: SpecOptionHandler) -> None:
    """Make `handler` do what `?name=` asks of the adapters that accept that option."""
    SPEC_OPTION_HANDLERS[name] = handler


def apply_spec_option(
    name: str, samples: list[Sample], spec: DatasetSpec, warnings: list[str], **settings: object
) -> list[Sample]:
    """The samples after `?name=` in `spec` (as they are when the spec does not carry it)."""
    value = spec.option(name)
    if value is None:
        return samples
    handler = SPEC_OPTION_HANDLERS.get(name)
    if handler is None:
        raise DataError(
            f"option {name}= in {spec} has no handler: the package implementing it registers one when "
            f"imported (`import emoreason` does it for the built-in options)"
        )
    return handler(samples, spec, value, warnings, **settings)


def measuring_option(spec: str | DatasetSpec) -> str | None:
    """The option that measures `spec`'s media into cue text: `measure` on a generic file (csv:, jsonl:), whose
    `cues=` names the column holding cue text, `cues` on a media folder (ravdess:, raw:); None for a kind that
    cannot. Messages name it: told `?cues=only`, a csv user's load named a column `only`."""
    return _measuring((parse_spec(spec) if isinstance(spec, str) else spec).kind)


def measured_spec(spec: str | DatasetSpec, **options: str | None) -> str | None:
    """`spec` with its media measured into cue text (`only`, unless it measures them already) and `options` set
    (one given None is taken out): the spec a message tells the user to give. None for a kind that cannot."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    name = _measuring(parsed.kind)
    if name is None:
        return None
    given = parsed.option(name)
    return _with(parsed, {name: given if given and given.lower() not in FALSE_WORDS else "only", **options})


def unmeasured_spec(spec: str | DatasetSpec) -> str:
    """`spec` without its measuring option (nor `classifier=`, which needs it): the spec whose media are there
    to read, e.g. for `emoreason data prepare`."""
    parsed = parse_spec(spec) if isinstance(spec, str) else spec
    return _with(parsed, {_measuring(parsed.kind) or "cues": None, "classifier": None})


def how_to_measure(spec: str | DatasetSpec | None = None) -> str:
    """The option to load `spec` with for measured cues, for messages that say "load the dataset with ...":
    `?measure=only (csv:clips.csv?measure=only)`; for no spec, or one of a kind without media to measure, the
    option of each kind that can (`?cues=only on ravdess: and raw: datasets, ?measure=only on ...`)."""
    from emoreason.data import adapters  # noqa: F401  (registers the built-in adapters)

    parsed = (parse_spec(spec) if isinstance(spec, str) else spec) if spec is not None else None
    name = _measuring(parsed.kind) if parsed is not None else None
    if parsed is not None and name is not None:
        return f"?{name}=only ({measured_spec(parsed)})"
    kinds: dict[str, list[str]] = {}
    for kind in sorted(ADAPTERS):
        option = _measuring(kind)
        if option is not None:
            kinds.setdefault(option, []).append(f"{kind}:")
    ways = ", ".join(f"?{option}=only on {' and '.join(names)} datasets" for option, names in sorted(kinds.items()))
    return f"{ways} ({parsed.kind}: datasets have no media to measure)" if parsed is not None else ways


def _measuring(kind: str) -> str | None:
    from emoreason.data import adapters  # noqa: F401  (registers the built-in adapters)

    info = ADAPTERS.get(kind)
    options = info.options if info is not None else {}
    # `measure` first: a generic file also takes `cues=`, the name of its cue text column
    return next((name for name in ("measure", "cues") if name in options), None)


def _with(spec: DatasetSpec, options: dict[str, str | None]) -> str:
    merged = {**spec.options, **options}
    return str(DatasetSpec(spec.kind, spec.target, {k: v for k, v in merged.items() if v is not None}))


__all__ = [
    "SPEC_OPTION_HANDLERS",
    "SpecOptionHandler",
    "apply_spec_option",
    "how_to_measure",
    "measured_spec",
    "measuring_option",
    "register_spec_option",
    "unmeasured_spec",
]
