"""emoreason: language models that explain their emotion and sentiment judgments.

Importing the package also wires its layers: `emoreason.cues` registers what the `?cues=`
dataset-spec option does with `emoreason.data`, which may not import `cues` itself (see
`emoreason.data.spec_options`). A package's `__init__` runs before any of its modules, so every
`load_dataset`, whoever calls it, understands `?cues=`.
"""

__version__ = "0.1.0"

from emoreason import cues  # noqa: E402,F401  (registers the ?cues= spec option with emoreason.data)

#: the Python API (`emoreason.api`), imported on first use so that `import emoreason` stays light
_API_NAMES = ("Explainer", "Explanation", "average_adapters", "evaluate", "fit_score")


def __getattr__(name: str) -> object:
    """`emoreason.Explainer`, `emoreason.Explanation`, `emoreason.evaluate`, `emoreason.fit_score` and
    `emoreason.average_adapters`, loaded lazily:

    >>> from emoreason import Explainer  # doctest: +SKIP
    >>> Explainer.load("default")("Not bad at all.").polarity  # doctest: +SKIP
    """
    if name in _API_NAMES:
        from emoreason import api

        return getattr(api, name)
    raise AttributeError(f"module 'emoreason' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API_NAMES])


__all__ = ["Explainer", "Explanation", "__version__", "average_adapters", "evaluate", "fit_score"]
