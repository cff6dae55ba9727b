"""Deprecation notices the model libraries address to emoreason's own calls, hidden where they arise.

peft reads `is_gradient_checkpointing`, which transformers v5 deprecates. The notice speaks to the
developer who makes the call, not to whoever uses emoreason, who can do nothing about it: the Python API
printed it on its first answer. Only this message is dropped; every other warning and log line of the
libraries reaches the user as the libraries mean it (the CLI quiets more, `emoreason.cli.quiet`).

transformers 5.24's rename of `past_key_values` to `cache` needs no hiding: the generation engine and the
log-probabilities pass and read the cache under the name the installed release takes
(`generation.kv_cache.CACHE_NAME`), so no notice about it is raised.
"""

from __future__ import annotations

import warnings

#: FutureWarnings (message starts) caused by emoreason's own calls into transformers and peft
OUR_CALLS_WARNINGS = (r"`is_gradient_checkpointing` is deprecated",)


def hide_notices_about_our_calls() -> None:
    """Drop the notices above, for the rest of the process; calling it again adds nothing."""
    for message in OUR_CALLS_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=FutureWarning)


__all__ = ["OUR_CALLS_WARNINGS", "hide_notices_about_our_calls"]
