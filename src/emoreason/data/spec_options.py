"""Spec options whose work belongs to a package above `data`, and the registry those packages fill.

`?cues=true|only` on a `ravdess:` or `raw:` spec attaches measured voice and face cues to the
samples. Measuring them is `emoreason.cues`' job, and `cues` imports `data` (for `Sample`), so
`data` must not import `cues` back, not even lazily inside an adapter: the bottom layer would
then depend on one above it, and the cycle would hide in a function body.

So, as with the adapter registry (`emoreason.data.base.register`), the work is looked up by
name. The adapter accepts and documents the option and calls `apply_spec_option`; the package
that implements it calls `register_spec_option` when it is imported (`emoreason.cues.prepare`
registers `cues`).

Why the handler is always there: `emoreason/__init__.py`, the package root, above every layer,
imports `emoreason.cues`, and Python runs a package's `__init__` before any of its submodules.
Whoever loads a dataset by spec (`load_dataset`, `load_pooled`, the CLI, a trainer, distill,
evaluate, a notebook), `?cues=` has been registered before. A spec carrying an option nobody
registered fails with a `DataError` naming it instead of being silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from emoreason.data.errors import DataError
from emoreason.data.schema import Sample
from emoreason.data.spec import DatasetSpec

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


__all__ = ["SPEC_OPTION_HANDLERS", "SpecOptionHandler", "apply_spec_option", "register_spec_option"]
