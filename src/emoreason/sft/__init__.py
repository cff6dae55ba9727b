"""Supervised fine-tuning on distilled reasoning chains (cold start, METHOD.md §1 step 2)."""

from emoreason.sft.config import SFTConfig, load_config, parse_config
from emoreason.sft.data import SFTExample, load_sft_file

__all__ = ["SFTConfig", "SFTExample", "load_config", "load_sft_file", "parse_config"]
