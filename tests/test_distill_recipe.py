"""`emoreason distill` as a recipe: the typed config, flags over YAML, make_teacher, the command."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emoreason.cli import app
from emoreason.cli.training import DISTILL_KEYS
from emoreason.config_loader import ConfigError
from emoreason.data import vader_task
from emoreason.data.schema import TaskInfo
from emoreason.distill import HFTeacher, LexiconTeacher, OpenAITeacher, make_teacher
from emoreason.distill.config import DistillConfig, dump_config, flag_overrides, load_config

ROOT = Path(__file__).resolve().parents[1]
BASE = ["run.output_dir=out", "data.dataset=vader:tweets"]
runner = CliRunner()


def test_a_bad_key_or_value_is_named_by_its_path() -> None:
    with pytest.raises(ConfigError, match="teacher.nme: unknown key; valid keys here: name, rationalize"):
        load_config(None, [*BASE, "teacher.nme=hf"])
    with pytest.raises(ConfigError, match="teacher.name: Input should be 'lexicon', 'cues', 'hf' or 'openai'"):
        load_config(None, [*BASE, "name=bogus"])  # a bare key that one section has
    with pytest.raises(ConfigError, match="data.limit: Input should be greater than or equal to 1"):
        load_config(None, [*BASE, "limit=0"])
    with pytest.raises(ConfigError, match="run.output_dir: Field required"):  # a section left out: the key is named
        load_config(None, ["data.dataset=vader:tweets"])
    with pytest.raises(ConfigError, match="teacher.api_key: unknown key"):  # a key never lives in a recipe
        load_config(None, [*BASE, "teacher.api_key=sk-123"])


@pytest.mark.parametrize("recipe", sorted((ROOT / "configs").glob("distill_*.yaml")))
def test_shipped_recipes_validate(recipe: Path) -> None:
    cfg = load_config(recipe)
    assert cfg.run.output_dir.startswith("runs/distill/") and cfg.data.specs


def test_flags_override_the_yaml_and_overrides_override_the_flags(tmp_path: Path) -> None:
    recipe = ROOT / "configs" / "distill_c2f_vader_lexicon.yaml"
    flags = {"data.dataset": ["jsonl:a b.jsonl?scale=-4,4"], "run.output_dir": tmp_path / "x", "filter.min_words": 3}
    cfg = load_config(recipe, ["min_words=5", "limit=7"], flags=flags)
    assert cfg.data.specs == ["jsonl:a b.jsonl?scale=-4,4"]  # spec characters survive the trip through YAML
    assert cfg.run.output_dir == str(tmp_path / "x") and cfg.filter.min_words == 5 and cfg.data.limit == 7
    assert cfg.teacher.name == "lexicon" and cfg.data.format == "c2f"  # the YAML's, untouched
    assert flag_overrides({"teacher.adapter": None}) == ["teacher.adapter=null"]


def test_the_command_line_defaults_are_the_recipe_defaults() -> None:
    """An option left at its default does not override the recipe, so both must agree."""
    from emoreason.cli.training import distill

    cfg = DistillConfig.model_validate({"run": {"output_dir": "o"}, "data": {"dataset": "d"}}).model_dump()
    for name, parameter in inspect.signature(distill).parameters.items():
        if name in DISTILL_KEYS and name not in ("dataset", "out"):
            section, key = DISTILL_KEYS[name].split(".")
            assert parameter.default == cfg[section][key], name


def test_make_teacher_builds_the_one_the_recipe_names() -> None:
    task = vader_task("tweets")

    def teacher(*overrides: str, **kwargs):
        return make_teacher(load_config(None, [*BASE, *overrides]), task, **kwargs)

    assert isinstance(teacher(), LexiconTeacher)
    hf = teacher("teacher.name=hf", "teacher.adapter=runs/a", "max_new_tokens=64")
    assert isinstance(hf, HFTeacher) and hf.model == "default+runs/a" and hf.max_new_tokens == 64
    endpoint = teacher("teacher.name=openai", "teacher.model=m", "max_attempts=2", "concurrency=3", api_key="sk-x")
    assert isinstance(endpoint, OpenAITeacher) and endpoint.api_key == "sk-x" and endpoint.retry.max_attempts == 2
    assert endpoint.concurrency == 3
    with pytest.raises(ValueError, match="--model"):
        teacher("teacher.name=openai")
    labels = TaskInfo("emotions", labels=("calm", "angry"))
    cue = make_teacher(load_config(None, [*BASE, "teacher.name=cues", "data.format=emor3"]), labels)
    assert cue.name == "cues"
    with pytest.raises(ValueError, match="c2f chains only"):
        teacher("data.format=emor3")


def write_generic(path: Path) -> Path:
    rows = [
        ("a", "I love this, it is wonderful and great!", 3.0),
        ("b", "Terrible, awful and sad.", -3.0),
        ("c", "What a lovely, happy day with good friends.", 2.5),
        ("d", "Bad, boring and ugly mess.", -2.5),
    ]
    path.write_text("".join(json.dumps({"id": i, "text": t, "score": s, "split": "train"}) + "\n" for i, t, s in rows))
    return path


def test_cli_runs_the_lexicon_teacher_from_a_recipe_with_flags(tmp_path: Path) -> None:
    data = write_generic(tmp_path / "data.jsonl")
    recipe = tmp_path / "distill.yaml"
    recipe.write_text(
        f"run: {{output_dir: {tmp_path / 'from_yaml'}}}\ndata: {{dataset: 'jsonl:{data}?scale=-4,4'}}\n"
        "filter: {min_words: 400}\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["distill", "--config", str(recipe), "--out", str(out), "--min-words", "4", "limit=3"])
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "stats.json").read_text())
    assert stats["total"] == 3 and stats["teacher"] == "lexicon" and "kept" in result.output
    assert not (tmp_path / "from_yaml").exists()  # --out won over the recipe


def test_cli_show_config_prints_the_merged_recipe_without_the_api_key(tmp_path: Path) -> None:
    args = [
        "distill",
        "-d",
        "vader:tweets",
        "-d",
        "vader:products",
        "--out",
        str(tmp_path),
        "--teacher",
        "openai",
        "--model",
        "m",
        "--api-key",
        "sk-secret",
        "--show-config",
        "concurrency=2",
    ]
    result = runner.invoke(app, args, env={"OPENAI_API_KEY": "sk-env"})
    assert result.exit_code == 0, result.output
    assert "sk-" not in result.output and "api_key" not in result.output
    shown = load_config(None, [f"{k}={v}" for k, v in _flat(result.output).items()])
    assert shown.data.specs == ["vader:tweets", "vader:products"] and shown.teacher.concurrency == 2
    assert shown.teacher.name == "openai" and shown.teacher.model == "m"
    assert not list(tmp_path.iterdir())  # nothing ran


def test_cli_names_a_bad_recipe_key_and_a_missing_dataset(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["distill", "-d", "vader:tweets", "--out", str(tmp_path), "teacher.nme=hf"])
    assert bad.exit_code == 2 and "teacher.nme: unknown key" in bad.output
    missing = runner.invoke(app, ["distill", "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "data.dataset: Field required" in missing.output


def _flat(yaml_text: str) -> dict[str, str]:
    """The dumped YAML as dotted key=value pairs (lists in flow style), to read it back."""
    from omegaconf import OmegaConf

    def walk(node: dict, prefix: str = "") -> dict[str, str]:
        flat: dict[str, str] = {}
        for key, value in node.items():
            if isinstance(value, dict):
                flat.update(walk(value, f"{prefix}{key}."))
            else:
                flat[f"{prefix}{key}"] = json.dumps(value)
        return flat

    return walk(OmegaConf.to_container(OmegaConf.create(yaml_text)))


def test_dump_round_trips() -> None:
    cfg = load_config(ROOT / "configs" / "distill_emor3_ravdess_cues.yaml")
    assert load_config(None, [f"{k}={v}" for k, v in _flat(dump_config(cfg)).items()]) == cfg


def test_a_sampling_local_teacher_draws_each_batch_its_own_numbers() -> None:
    """Every batch of a sampling teacher was seeded with the teacher's seed, so each drew the same numbers."""
    from emoreason.data import Sample
    from emoreason.distill.teachers import TeacherRequest
    from emoreason.generation import Completion

    seeds: list[int | None] = []

    class Recording:
        def generate(self, conversations, params, progress=None):
            seeds.append(params.seed)
            return [[Completion("x", [1], [0.0], "stop")] for _ in conversations]

    teacher = HFTeacher("tiny", temperature=0.7, batch_size=2, seed=3)
    teacher._engine = Recording()  # what _load would build from the model
    requests = [TeacherRequest(Sample(id=f"s{i}", text="t"), [{"role": "user", "content": "t"}]) for i in range(5)]
    replies: list[int] = []
    teacher.run(requests, lambda index, reply: replies.append(index))
    assert replies == [0, 1, 2, 3, 4] and len(seeds) == 3 and len(set(seeds)) == 3
    again: list[int | None] = list(seeds)
    seeds.clear()
    teacher.run(requests, lambda index, reply: None)
    assert seeds == again  # a rerun draws what it drew
