"""The config loader: a pydantic schema read from a YAML recipe plus `key=value` overrides.

GRPO (`emoreason.rl.config`), SFT (`emoreason.sft.config`) and distillation
(`emoreason.distill.config`) each declare a schema of sections; this module reads, merges and
validates them the same way:

    config = load_recipe(GRPOConfig, "configs/c2f_vader_smollm2.yaml", ["max_steps=3"])

Every section forbids unknown keys, so a typo or a wrong type fails before any model is
loaded, with the dotted key path in the message (`algorithm.loss_typ: unknown key; valid keys
here: ... (did you mean loss_type?)`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class Section(BaseModel):
    # an override's value is read as YAML: `run.output_dir=2024` arrives as a number, meant as the name
    # NaN and infinities are no settings: `algorithm.beta=.inf` and a NaN reward weight were taken
    model_config = ConfigDict(extra="forbid", validate_assignment=True, coerce_numbers_to_str=True, allow_inf_nan=False)


Schema = TypeVar("Schema", bound=BaseModel)


class ConfigError(ValueError):
    """A recipe that does not validate; the message names each bad key path."""


def _describe(
    schema: type[BaseModel],
    err: ValidationError,
    overrides: dict[str, str] | None = None,
    options: Mapping[str, str] | None = None,
) -> str:
    """One line per problem, named by its dotted key path; with `overrides` (dotted key -> the
    `key=value` given), a problem at or under an overridden key says so, so that a bad override
    is not looked for in the file. `options` (dotted key -> the command-line option that sets it):
    a problem with a value an option gave names the option, and a missing key says which option gives it."""
    options = options or {}
    lines = []
    for problem in err.errors():
        path = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        if problem["type"] == "extra_forbidden":
            section = _section_at(schema, problem["loc"][:-1])
            fields = list(section.model_fields) if section else []
            line = f"{path}: unknown key" + (f"; valid keys here: {', '.join(fields)}" if fields else "")
            line += _meant(str(problem["loc"][-1]), fields, top_level=len(problem["loc"]) == 1)
        else:
            # a section's own check names what is wrong itself: its whole mapping quoted back says nothing
            given = problem.get("input")
            got = "" if isinstance(given, dict) else f" (got {given!r})"
            line = f"{path}: {problem['msg'].removeprefix('Value error, ')}{got}"
        override = _override_of(path, overrides or {})
        if path in options and override is not None and override.startswith(f"{path}="):
            line += f" [from {options[path]}]"
        elif override:
            line += f" [from the override {override}]"
        elif problem["type"] == "missing" and path in options:
            line += f": give {options[path]}, or set {path} in a recipe (--config)"
        lines.append(line)
    return "\n".join(lines)


#: a top-level section one recipe names otherwise: SFT's training settings are `train`, GRPO's `optim`
#: (`train.lr=1e-4` given to grpo was refused with only the list of GRPO's sections)
_TRAINING = "SFT recipes name it `train`, GRPO recipes `optim`"
SECTION_NAMES = {"train": ("optim", _TRAINING), "optim": ("train", _TRAINING)}


def _meant(key: str, fields: Sequence[str], top_level: bool) -> str:
    """A hint for an unknown `key` among a section's `fields`, " (did you mean X?)": at the top level the name
    another recipe gives the same section, else the closest spelling (`loss_typ` -> `loss_type`); "" when
    nothing is close."""
    other, why = SECTION_NAMES.get(key, ("", "")) if top_level else ("", "")
    if other in fields:
        return f" (did you mean {other}? {why})"
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _override_of(path: str, overrides: dict[str, str]) -> str | None:
    """The override that set `path`, a mapping above it, or a key inside it (a section's own check,
    `validation` for `validation.split=test`), if any."""
    for key, item in overrides.items():
        if path == key or path.startswith(key + ".") or key.startswith(path + "."):
            return item
    return None


def _section_at(schema: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = schema
    for key in path:
        field = model.model_fields.get(str(key))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def parse_recipe(schema: type[Schema], data: dict[str, Any]) -> Schema:
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(schema, err)) from None


def load_recipe(
    schema: type[Schema],
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    options: Mapping[str, str] | None = None,
) -> Schema:
    """YAML recipe (optional) merged with dotted `key=value` overrides, validated. A mapping value
    merges into the file's (`reward.add={grounding: 0.5}` keeps its other keys); `key={}` empties it.
    `options` (dotted key -> the command-line option that sets it) names them in errors (`_describe`)."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    base = OmegaConf.create({})
    if path is not None:
        path = Path(path)
        if path.is_dir():
            recipes = sorted(str(p) for p in path.glob("*.yaml"))[:4]
            among = f" (here: {', '.join(recipes)})" if recipes else ""
            raise ConfigError(f"{path} is a folder; give a YAML config file{among}")
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            base = OmegaConf.load(path)
        except (OmegaConfBaseException, ValueError, yaml.YAMLError) as err:  # yaml errors carry line and column
            raise ConfigError(f"{path}: not valid YAML: {err}") from None
        if not OmegaConf.is_dict(base):  # a list (or nothing) at the top merges with no override
            raise ConfigError(f"{path}: the top level must be a mapping of sections (run:, model:, ...)")
    dotlist = [expand_override(schema, item) for item in overrides or []]
    try:
        merged = OmegaConf.merge(base, OmegaConf.from_dotlist(dotlist))
        for key, value in (item.split("=", 1) for item in dotlist):
            if value.strip() == "{}":  # merging an empty mapping changes nothing; `key={}` means empty it
                OmegaConf.update(merged, key.strip(), {}, merge=False)
        data = OmegaConf.to_container(merged, resolve=True)
    except (OmegaConfBaseException, yaml.YAMLError) as err:  # a value OmegaConf parses as YAML, e.g. `x=[1`
        reason = " ".join(str(err).split())
        raise ConfigError(f"cannot apply overrides {overrides}: {reason}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    given = {item.split("=", 1)[0].strip(): item for item in dotlist}
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        described = _describe(schema, err, given, options)
        if all(_override_of(".".join(map(str, p["loc"])), given) for p in err.errors()):
            raise ConfigError(f"invalid override\n{described}") from None  # the file is not at fault
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}invalid config\n{described}") from None


def expand_override(schema: type[BaseModel], item: str) -> str:
    """`key=value` with a full dotted path, or with a bare field name that exactly one section
    has (`max_steps=3` -> `run.max_steps=3`; `lr=1e-4` -> `optim.lr=1e-4`)."""
    if item.startswith("-"):  # a mistyped option reached the overrides: say so, not "must look like key=value"
        raise ConfigError(
            f"unknown option {item.split('=', 1)[0]} (see --help); recipe settings are given as key=value, "
            "e.g. max_steps=3"
        )
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like key=value (e.g. run.max_steps=3)")
    key, value = item.split("=", 1)
    key = key.strip()
    if "." in key or key in schema.model_fields:
        return f"{key}={value}"
    owners = [
        name
        for name, f in schema.model_fields.items()
        if isinstance(f.annotation, type) and key in f.annotation.model_fields
    ]
    if len(owners) == 1:
        return f"{owners[0]}.{key}={value}"
    if owners:
        raise ConfigError(f"override {key!r} is ambiguous: write one of {', '.join(o + '.' + key for o in owners)}")
    raise ConfigError(
        f"override {key!r}: unknown key; sections are {', '.join(schema.model_fields)} (write section.key=value)"
    )


def dump_recipe(config: BaseModel) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(config.model_dump(mode="json")))


def flat_recipe(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"run": {"seed": 0}}` -> `{"run.seed": 0}`, scalars only (TensorBoard's hparams)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_recipe(value, name + "."))
        else:
            flat[name] = value if isinstance(value, (int, float, str, bool)) else str(value)
    return flat


__all__ = ["ConfigError", "Section", "dump_recipe", "expand_override", "flat_recipe", "load_recipe", "parse_recipe"]
