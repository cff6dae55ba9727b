"""The distillation recipe (cold start, METHOD.md §1 step 1): typed sections, YAML plus overrides.

    config = load_config("configs/distill_c2f_vader_lexicon.yaml", ["limit=40"])

Like the SFT and GRPO recipes, every section forbids unknown keys, so a typo fails before any
dataset is read, with the dotted key path in the message. The command line's flags (`--teacher`,
`--out`, ...) arrive as `flags`, a mapping from key path to value that overrides the YAML.

The teacher's API key is not part of the recipe: it comes from `--api-key` or `$OPENAI_API_KEY`
only, so a dumped or shared config never holds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from emoreason.config_loader import ConfigError, Section, dump_recipe, load_recipe, parse_recipe
from emoreason.distill.filter import FilterConfig


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class DistillRunConfig(Section):
    output_dir: str = Field(description="sft.jsonl, dropped.jsonl, stats.json, lengths.png and cache.jsonl go here.")
    cache: str | None = Field(
        None, description="Reply cache file to use instead of output_dir/cache.jsonl (share it between runs)."
    )


class DistillDataConfig(Section):
    dataset: str | list[str] = Field(
        description="A dataset spec, as in `emoreason data list`, or a list of specs "
        "of one task, pooled (e.g. [vader:tweets, vader:products])."
    )
    split: str = Field(
        "train", description="Split to distill: train, valid, test or all (test rows need allow_test, below)."
    )
    allow_test: bool = Field(
        False,
        description="Distill test rows too (refused by default: sft.jsonl is training data, and a model trained "
        "on test sentences has no test figures to report); only for chains you will not train on.",
    )
    format: Literal["c2f", "emor3", "r1"] = Field("c2f", description="Reasoning format the chains are written in.")
    limit: int | None = Field(None, ge=1, description="Only the first N samples of each dataset's split.")

    @property
    def specs(self) -> list[str]:
        return _as_list(self.dataset)


class TeacherConfig(Section):
    name: Literal["lexicon", "cues", "hf", "openai"] = Field(
        "lexicon",
        description="lexicon (VADER-lexicon chains, "
        "no model), cues (label chains from measured cues), "
        "hf (a local model), openai (an endpoint).",
    )
    rationalize: bool = Field(
        False,
        description="Tell the teacher the gold answer and ask it to explain it "
        "(STaR-style); chains still pass the filter.",
    )
    model: str | None = Field(
        None,
        description="hf: `default`, a model folder, a .gguf file or a hub id; "
        "openai: the served model name (required).",
    )
    adapter: str | list[str] | None = Field(None, description="hf: LoRA adapter folder(s).")
    base_url: str | None = Field(
        None, description="openai: endpoint base URL (default $OPENAI_BASE_URL or http://127.0.0.1:8000/v1)."
    )
    concurrency: int = Field(8, ge=1, description="openai: requests in flight.")
    timeout: float = Field(120.0, gt=0.0, description="openai: seconds per request attempt.")
    max_attempts: int = Field(5, ge=1, description="openai: attempts per request (timeouts, 429 and 5xx retried).")
    max_new_tokens: int = Field(512, ge=1, description="hf/openai: longest chain, in tokens.")
    temperature: float = Field(0.0, ge=0.0, description="hf/openai: sampling temperature (0 = greedy).")
    batch_size: int = Field(8, ge=1, description="hf: samples per generation batch.")

    @property
    def adapters(self) -> list[str] | None:
        return _as_list(self.adapter) or None


class DistillFilterConfig(Section):
    score_tolerance: float | None = Field(
        None,
        ge=0.0,
        description="Keep a chain only if |teacher score - gold| <= "
        "this (task units; default 12.5% of the scale range).",
    )
    min_words: int = Field(8, ge=0, description="Drop chains whose reasoning is shorter.")
    max_words: int = Field(400, ge=1, description="Drop chains whose reasoning is longer.")
    match_mix: bool = Field(
        False,
        description="Then drop kept chains (seeded) until each domain's kept chains have its samples' "
        "gold polarity mix, every polarity at the domain's lowest keep rate (the filter keeps the polarities "
        "the teacher reads best more often, and an SFT learns that prior).",
    )
    match_mix_seed: int = Field(0, description="Which chains match_mix drops.")

    def build(self) -> FilterConfig:
        return FilterConfig(
            score_tolerance=self.score_tolerance,
            min_words=self.min_words,
            max_words=self.max_words,
            match_mix=self.match_mix,
            match_mix_seed=self.match_mix_seed,
        )


class DistillConfig(Section):
    run: DistillRunConfig
    data: DistillDataConfig
    teacher: TeacherConfig = Field(default_factory=TeacherConfig)
    filter: DistillFilterConfig = Field(default_factory=DistillFilterConfig)

    @model_validator(mode="before")
    @classmethod
    def _absent_sections_are_empty(cls, data: Any) -> Any:
        """A missing required key is then reported by its path (`run.output_dir: Field required`)
        rather than as a missing section."""
        return {"run": {}, "data": {}, **data} if isinstance(data, dict) else data


def flag_overrides(flags: Mapping[str, Any]) -> list[str]:
    """`{"data.dataset": ["a:b"]}` -> `['data.dataset=["a:b"]']`: each value written as JSON (which
    YAML reads back exactly; paths as strings), so a spec with `:`, `,`, `?` or `=` stays one string."""
    return [f"{key}={json.dumps(value, default=str)}" for key, value in flags.items()]


def parse_config(data: dict[str, Any]) -> DistillConfig:
    return parse_recipe(DistillConfig, data)


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    flags: Mapping[str, Any] | None = None,
    options: Mapping[str, str] | None = None,
) -> DistillConfig:
    """YAML recipe (optional), then the command line's `flags`, then `key=value` overrides; `options`
    (key -> the option that sets it) names the options in errors."""
    return load_recipe(DistillConfig, path, flag_overrides(flags or {}) + list(overrides or []), options)


def dump_config(config: BaseModel) -> str:
    return dump_recipe(config)


__all__ = ["ConfigError", "DistillConfig", "dump_config", "flag_overrides", "load_config", "parse_config"]
