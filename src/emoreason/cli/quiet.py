"""What the libraries under the commands may print: their warnings and progress bars, or not.

A command's output is its answers and what the user must act on. transformers, torch and
huggingface_hub also print deprecation notices meant for the developers who call them (those
about emoreason's own calls are dropped wherever it is used, `emoreason.models.notices`), info
logs, and a progress bar for every weight file they load; in a log these bury the results. The CLI hides them unless
`--verbose` asks for everything. Only the CLI does: the library leaves Python's warnings and
the libraries' own logging to whoever imports it.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

#: modules whose FutureWarnings are deprecation notices addressed to us, not to the user
DEPRECATING_MODULES = r"(transformers|torch|peft|accelerate|huggingface_hub)(\.|$)"


def quiet_libraries(verbose: bool) -> None:
    """Unless `verbose`: hide the model libraries' FutureWarnings, their info and warning logs
    (errors still print) and their progress bars (loading weights, writing shards).

    Environment variables reach a library imported later (commands import transformers lazily,
    so that `--help` stays fast); a library already imported is told directly."""
    if verbose:
        return
    warnings.filterwarnings("ignore", category=FutureWarning, module=DEPRECATING_MODULES)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    for name in ("transformers", "huggingface_hub", "peft", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)


__all__ = ["DEPRECATING_MODULES", "quiet_libraries"]
