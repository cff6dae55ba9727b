"""emoreason: language models that explain their emotion and sentiment judgments.

Importing the package also wires its layers: `emoreason.cues` registers what the `?cues=`
dataset-spec option does with `emoreason.data`, which may not import `cues` itself (see
`emoreason.data.spec_options`). A package's `__init__` runs before any of its modules, so every
`load_dataset`, whoever calls it, understands `?cues=`.
"""

__version__ = "0.1.0"

from emoreason import cues  # noqa: E402,F401  (registers the ?cues= spec option with emoreason.data)
