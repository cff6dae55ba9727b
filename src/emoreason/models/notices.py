"""Deprecation notices the model libraries address to emoreason's own calls, hidden where they arise.

transformers 5.24 renamed the forward argument and output field `past_key_values` to `cache`; the
generation engine and the log-probabilities still use the old name, since the new one would raise the
transformers floor (see pyproject.toml: the cap below 5.40 is where the old name goes). peft reads
`is_gradient_checkpointing`, which transformers v5 deprecates. Each notice speaks to the developer who
makes the call, not to whoever uses emoreason, who can do nothing about it: the Python API printed all
three on its first answer. Only these messages are dropped; every other warning and log line of the
libraries reaches the user as the libraries mean it (the CLI quiets more, `emoreason.cli.quiet`).
"""

from __future__ import annotations

import logging
import warnings

#: FutureWarnings (message starts) caused by emoreason's own calls into transformers and peft
OUR_CALLS_WARNINGS = (r"`past_key_values` is deprecated", r"`is_gradient_checkpointing` is deprecated")
#: transformers' one-time log line about the same rename, and the logger it comes from
CACHE_RENAME_LOG = "`past_key_values`/`cache_params` are deprecated"
CACHE_RENAME_LOGGER = "transformers.utils.generic"


class _DropCacheRename(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(CACHE_RENAME_LOG)


def hide_notices_about_our_calls() -> None:
    """Drop the notices above, for the rest of the process; calling it again adds nothing."""
    for message in OUR_CALLS_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=FutureWarning)
    logger = logging.getLogger(CACHE_RENAME_LOGGER)
    if not any(isinstance(f, _DropCacheRename) for f in logger.filters):
        logger.addFilter(_DropCacheRename())


__all__ = ["CACHE_RENAME_LOG", "OUR_CALLS_WARNINGS", "hide_notices_about_our_calls"]
