"""The Python API: explain texts and evaluate models from code, as the command line does.

Named `api` because it is the library's front door for Python users, the counterpart of `emoreason.cli`
for the shell: the CLI commands `analyze` and `evaluate` call it, and so does the server's
`/v1/analyze` (the CLI and `serve` may import this package, never the reverse), so all give the
same answers. `explainer` holds `Explainer` and what a model is handed; `evaluation` holds
`evaluate` and `fit_score`; `average_adapters` (`emoreason average`) is `emoreason.models.soup`'s. All
are importable from the package root::

    from emoreason import Explainer

    ex = Explainer.load("default")  # the embedded model with its shipped adapter, loaded once
    r = ex("Not bad at all.")  # an Explanation: polarity, score or label, reasoning, citations...
    print(r.polarity, r.score)
    print(r.reasoning)
    records = ex(["Loved it.", "Never again."])  # a list, generated in batches of `batch_size`
    r = Explainer.load("default", attribute=True)("Not bad at all.")
    print(r.attribution[:3])  # the words the judgment rests on most (`emoreason.metrics.attribution`)

    import emoreason

    metrics = emoreason.evaluate("jsonl:data.jsonl?scale=-4,4", "default", out="runs/eval/mine")
    emoreason.average_adapters(["runs/rl/checkpoint-100/adapter", "runs/rl/checkpoint-200/adapter"], "runs/soup")

What a model is handed is decided here too (the part of `analyze` that is not about the shell):
samples from texts and media (`samples_from_texts`), cue text for media the model's family cannot
take (`inputs_for_family`) and the context-length check (`check_context_fits`). Importing this
package is cheap: torch and transformers load when a model does (`average_adapters`, whose module
imports them, loads on first use).
"""

from typing import TYPE_CHECKING, Any

from emoreason.api.evaluation import default_eval_out, evaluate, fit_score, run_identity_of
from emoreason.api.explainer import (
    Explainer,
    Explanation,
    ModelInputs,
    check_context_fits,
    has_media,
    inputs_for_family,
    load_engine,
    samples_from_texts,
)

if TYPE_CHECKING:
    from emoreason.models.soup import average_adapters


def __getattr__(name: str) -> Any:
    """`average_adapters`, imported on first use: `emoreason.models.soup` imports torch and peft."""
    if name == "average_adapters":
        from emoreason.models.soup import average_adapters

        return average_adapters
    raise AttributeError(f"module 'emoreason.api' has no attribute {name!r}")


__all__ = [
    "Explainer",
    "Explanation",
    "ModelInputs",
    "average_adapters",
    "check_context_fits",
    "default_eval_out",
    "evaluate",
    "fit_score",
    "has_media",
    "inputs_for_family",
    "load_engine",
    "run_identity_of",
    "samples_from_texts",
]
